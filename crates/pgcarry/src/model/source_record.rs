//! What a migration keeps of its source in the target (`pgcarry.sources`), so that `export`
//! can give the source back as it was: the table's own `CREATE TABLE` and `CREATE INDEX`
//! statements, and per column its source name, how its values were stored (storage class,
//! numbers read as dates) and the forms its texts were written in.

use super::types::ReadAs;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    pub source_name: String,
    /// `CREATE TABLE` (or `CREATE VIRTUAL TABLE`) as `sqlite_schema` holds it.
    pub sql: String,
    /// The `CREATE INDEX` statements of the table (not its constraints' automatic indexes).
    pub indexes: Vec<String>,
    pub autoincrement: bool,
    /// In the PostgreSQL table's column order.
    pub columns: Vec<SourceColumn>,
    /// The source's objects that go with this table, as `sqlite_schema` holds them: its
    /// triggers, the FTS tables over its text (rebuilt after the load), and the views whose SQL
    /// names it (a view naming several tables is on each of their records; `export` creates
    /// each once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<String>,
    /// The JSON store the tables were staged from (`json::recipe`), on the record of the
    /// store's first migrated table only: what `export --to-json` writes the files by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceColumn {
    /// The name in PostgreSQL.
    pub name: String,
    pub source_name: String,
    /// Computed by PostgreSQL (and by SQLite): never written by `export`.
    pub generated: bool,
    #[serde(default, skip_serializing_if = "ReadAs::is_value")]
    pub read_as: ReadAs,
    /// The storage class of every non-NULL value, when there was one.
    pub storage: Option<Storage>,
    /// The written forms of its texts (`formats::shape`), when few; empty when mixed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forms: Vec<String>,
    /// How its JSON documents were written (a jsonb column): spacing, key order, escapes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<crate::formats::json_style::JsonForm>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Storage {
    Integer,
    Real,
    Text,
    Blob,
}
