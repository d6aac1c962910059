//! The schema model: what a source holds, as introspected, before any type decision.
//!
//! It describes the source faithfully (names as the source spells them, declared types as
//! written, expressions as SQLite text); nothing here is PostgreSQL yet.

use serde::{Deserialize, Serialize};

/// Everything introspection found in a source.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SourceSchema {
    pub tables: Vec<Table>,
    pub views: Vec<View>,
    pub triggers: Vec<Trigger>,
    /// Objects deliberately not migrated (internal tables, FTS shadow tables), with the reason.
    pub skipped: Vec<Skipped>,
    /// FTS3/4/5 tables: the table holding their text (the external content table, or the FTS
    /// table itself, read as a table) gets a tsvector column and a GIN index.
    #[serde(default)]
    pub fts: Vec<Fts>,
}

/// An FTS3, FTS4 or FTS5 virtual table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fts {
    pub name: String,
    /// `fts3`, `fts4` or `fts5`.
    #[serde(default)]
    pub module: String,
    /// The indexed columns.
    pub columns: Vec<String>,
    /// The external content table; `Some("")` when contentless, `None` when the FTS table
    /// keeps its own copy of the text.
    pub content: Option<String>,
    pub sql: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// Primary-key column names in key order; empty when the table has none.
    pub primary_key: Vec<String>,
    /// The `INTEGER PRIMARY KEY` column that aliases the rowid, if any.
    pub rowid_alias: Option<String>,
    pub autoincrement: bool,
    pub without_rowid: bool,
    /// Unique constraints and `CREATE INDEX` indexes (not the primary key).
    pub indexes: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
    /// CHECK constraints, as SQLite expression text.
    pub checks: Vec<Check>,
    /// The value in `sqlite_sequence` for this table, when it has one.
    pub sequence: Option<i64>,
    /// The `CREATE TABLE` statement as stored in `sqlite_schema`.
    pub sql: String,
    /// Why that statement could not be parsed, when it could not: then its CHECKs, COLLATEs
    /// and generated-column expressions are unknown, and the plan must say so.
    #[serde(default)]
    pub sql_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// The declared type as written (may be empty).
    pub declared_type: String,
    pub not_null: bool,
    /// The DEFAULT expression as SQLite text.
    pub default: Option<String>,
    /// `GENERATED ALWAYS AS (expr)`: such columns are not read from the source rows.
    pub generated: Option<Generated>,
    pub collation: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Generated {
    pub expr: String,
    pub stored: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    /// True when it comes from a `UNIQUE` constraint in `CREATE TABLE` rather than `CREATE INDEX`.
    pub from_constraint: bool,
    pub columns: Vec<IndexColumn>,
    /// The WHERE clause of a partial index, as SQLite text.
    pub partial_where: Option<String>,
    /// The `CREATE INDEX` statement, when there is one.
    pub sql: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexColumn {
    /// A plain column, or an expression (SQLite text) when `column` is `None`.
    pub column: Option<String>,
    pub expr: Option<String>,
    pub descending: bool,
    pub collation: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForeignKey {
    /// SQLite's id for it (`foreign_key_list`, `foreign_key_check`).
    pub id: i64,
    pub columns: Vec<String>,
    pub ref_table: String,
    /// Resolved: `REFERENCES t` without columns means t's primary key.
    pub ref_columns: Vec<String>,
    pub on_update: String,
    pub on_delete: String,
    /// `DEFERRABLE`, as the `CREATE TABLE` statement says (the pragma does not).
    pub deferrable: bool,
    /// `DEFERRABLE INITIALLY DEFERRED`: checked at commit.
    #[serde(default)]
    pub initially_deferred: bool,
    /// Rows whose key has no parent row (SQLite never checked them), as `foreign_key_check`
    /// finds them.
    #[serde(default)]
    pub orphans: Option<Orphans>,
}

impl ForeignKey {
    /// `book (author_id) → author (id)`, for the foreign key of `table`.
    pub fn describe(&self, table: &str) -> String {
        format!(
            "{} ({}) → {} ({})",
            table,
            self.columns.join(", "),
            self.ref_table,
            self.ref_columns.join(", ")
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Orphans {
    pub rows: u64,
    /// A few rowids of orphan rows (none for WITHOUT ROWID tables).
    pub example_rowids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Check {
    pub name: Option<String>,
    pub expr: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct View {
    pub name: String,
    pub sql: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trigger {
    pub name: String,
    pub table: String,
    pub sql: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
    /// What kind of object it is, when it is the application's behaviour (a view or a
    /// trigger not migrated): the summary's last line counts those.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SkippedKind>,
}

/// The objects whose absence changes what the application does, or loses data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkippedKind {
    View,
    Trigger,
    /// A virtual table whose rows pgcarry cannot read (its module is not available, or not one
    /// pgcarry knows): the run exits 3 unless the config skips it.
    VirtualTable,
}

impl Skipped {
    /// Something left out with why (a table, a column, an index…).
    pub fn new(name: impl Into<String>, reason: impl Into<String>) -> Skipped {
        Skipped {
            name: name.into(),
            reason: reason.into(),
            kind: None,
        }
    }
}
