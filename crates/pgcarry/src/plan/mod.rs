//! The plan: the schema model read from a source, every type decision with its reason, and the
//! `Plan` value that `plan` prints, the report serialises and `migrate` executes unchanged.
//!
//! The plan holds the exact SQL the executor will run, so what `pgcarry plan` shows is what
//! `pgcarry migrate` does; the executor makes no decision of its own.

pub mod build;
pub mod config;
pub mod decide;
pub mod fts;
pub mod model;
pub mod print;
pub mod repair;
pub mod translate;
pub mod triggers;
pub mod types;
pub mod views;

use serde::{Deserialize, Serialize};
use types::{PgType, ReadAs};

/// Everything `migrate` will do, decided.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// The source, as given.
    pub source: String,
    /// The PostgreSQL schema tables go into.
    pub schema: String,
    pub tables: Vec<TablePlan>,
    /// `CREATE VIEW` steps, after every table's foreign keys, each after the views it reads.
    #[serde(default)]
    pub views: Vec<Step>,
    /// Source objects not migrated, with the reason (views, triggers, virtual tables…).
    pub skipped: Vec<model::Skipped>,
    pub warnings: Vec<Warning>,
    /// Foreign keys not created because rows reference missing parents (`--orphans`).
    #[serde(default)]
    pub orphans: Vec<OrphanReport>,
    /// JSON stores: where each table came from, files ignored and files not loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<crate::source::json::JsonSummary>,
}

/// What to do with rows whose foreign key has no parent row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrphanPolicy {
    /// Load every row, leave that foreign key out, report it (exit 3).
    #[default]
    SkipConstraint,
    /// Refuse before writing anything.
    Fail,
}

/// A foreign key that orphan rows keep from being created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrphanReport {
    pub table: String,
    /// `book (author_id) → author (id)`.
    pub foreign_key: String,
    pub rows: u64,
    pub example_rowids: Vec<i64>,
}

impl OrphanReport {
    pub fn describe(&self) -> String {
        let examples = if self.example_rowids.is_empty() {
            String::new()
        } else {
            let ids: Vec<String> = self.example_rowids.iter().map(i64::to_string).collect();
            format!(" (rowid {})", ids.join(", "))
        };
        format!(
            "{} row(s) of {} reference a missing parent{examples}",
            self.rows, self.foreign_key
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TablePlan {
    pub source_name: String,
    /// The name in PostgreSQL (the source name, shortened only past 63 bytes).
    pub name: String,
    /// Rows in the source snapshot, as scanned.
    pub rows: u64,
    pub columns: Vec<ColumnPlan>,
    /// `CREATE TABLE` with columns, types, NOT NULL and identity only.
    pub create_sql: String,
    /// After the load, in order: primary key, unique constraints, indexes, checks, defaults.
    pub post_load: Vec<Step>,
    /// After every table's keys exist.
    pub foreign_keys: Vec<Step>,
    pub identity: Option<Identity>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnPlan {
    pub source_name: String,
    pub name: String,
    pub declared_type: String,
    pub pg_type: PgType,
    pub not_null: bool,
    pub identity: bool,
    /// Why this type: the decision's reason.
    pub reason: String,
    /// Rows the scan already knows will be rejected for this column, and why.
    pub rejects: Option<String>,
    /// How source values are read before encoding (numbers as dates); encode with
    /// `convert::encode_as(&pg_type, read_as, …)`.
    #[serde(default, skip_serializing_if = "ReadAs::is_value")]
    pub read_as: ReadAs,
    /// Opt-in repairs of text PostgreSQL cannot hold, set only on text columns whose scan found
    /// such values; encode with `convert::encode_repaired`.
    #[serde(default, skip_serializing_if = "Repair::is_none")]
    pub repair: Repair,
}

/// Opt-in repairs of text PostgreSQL cannot hold (`--strip-nul`, `--replace-invalid-utf8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Repair {
    /// Remove NUL bytes, keeping every other byte.
    #[serde(default)]
    pub strip_nul: bool,
    /// Replace each invalid UTF-8 sequence with U+FFFD.
    #[serde(default)]
    pub replace_invalid_utf8: bool,
}

impl Repair {
    pub fn is_none(&self) -> bool {
        !self.strip_nul && !self.replace_invalid_utf8
    }

    /// The flags, as the user wrote them: `--strip-nul, --replace-invalid-utf8`.
    pub fn flags(&self) -> String {
        let mut v = Vec::new();
        if self.strip_nul {
            v.push("--strip-nul");
        }
        if self.replace_invalid_utf8 {
            v.push("--replace-invalid-utf8");
        }
        v.join(", ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    PrimaryKey,
    Unique,
    Index,
    Check,
    Default,
    ForeignKey,
    View,
    /// A full-text search column (tsvector) or its GIN index, for an FTS5 table.
    Search,
}

/// One DDL statement run after the load.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    pub kind: StepKind,
    /// The constraint or index name, or the column for defaults.
    pub name: String,
    pub sql: String,
}

/// A rowid-alias key that becomes an identity column, and where its sequence must start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identity {
    pub column: String,
    /// The sequence is set past this: max(key) and `sqlite_sequence`, as scanned.
    pub last_value: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Warning {
    pub table: Option<String>,
    pub column: Option<String>,
    pub message: String,
}

/// SQL on one line, for warnings and reasons.
pub(crate) fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Plan {
    pub fn table(&self, name: &str) -> Option<&TablePlan> {
        self.tables.iter().find(|t| t.name == name)
    }
}
