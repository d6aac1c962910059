//! The one trait both engines implement for `schema` (the shape of sqlx's `Migrate`): the
//! record table, transactions that hold the write lock, statements, and the checks after a
//! step that ran without a transaction. The rules (what is pending, modified, refused) live
//! above it and are the same for both.

use super::Dialect;
use serde::Serialize;

/// A migration as the database records it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    /// When it was applied (or baselined), UTC, RFC 3339.
    pub applied_at: String,
    pub duration_ms: i64,
    /// `started` only while (or because) a no-transaction migration runs (ran) part way.
    pub state: State,
    /// Recorded by `schema baseline`, never run here.
    pub baseline: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Started,
    Finished,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Started => "started",
            State::Finished => "finished",
        }
    }

    pub fn parse(text: &str) -> State {
        if text == "started" {
            State::Started
        } else {
            State::Finished
        }
    }
}

/// A statement the database refused: its message and, when the engine says where, how many
/// lines into the statement.
#[derive(Debug, Clone)]
pub struct SqlError {
    pub message: String,
    pub line_in_statement: Option<usize>,
}

/// What a step left that is not whole (PostgreSQL: an INVALID index, a NOT VALID constraint).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Leftover {
    /// An INVALID index must be dropped before the step can run again; a NOT VALID
    /// constraint may be meant (`ADD CONSTRAINT … NOT VALID`, validated later).
    pub invalid_index: bool,
    pub what: String,
}

/// The engine operations of `schema`; errors are messages that name the database.
pub trait Engine {
    fn dialect(&self) -> Dialect;
    /// The recorded migrations, by version; `None` when there is no record table yet.
    fn records(&mut self) -> Result<Option<Vec<Record>>, String>;
    /// Creates the record table (and PostgreSQL's `pgcarry` schema) if missing.
    fn ensure_records(&mut self) -> Result<(), String>;
    /// The application's tables (not the engine's own, not pgcarry's).
    fn user_tables(&mut self) -> Result<Vec<String>, String>;
    /// Starts a transaction holding the write lock (SQLite: `BEGIN IMMEDIATE`, waiting as
    /// long as the busy timeout allows).
    fn begin(&mut self) -> Result<(), String>;
    fn commit(&mut self) -> Result<(), String>;
    fn rollback(&mut self);
    fn execute(&mut self, sql: &str) -> Result<(), SqlError>;
    /// Inserts or replaces the record of `record.version`.
    fn write_record(&mut self, record: &Record) -> Result<(), String>;
    fn delete_record(&mut self, version: i64) -> Result<(), String>;
    /// INVALID indexes and NOT VALID constraints in the database (none on SQLite).
    fn leftovers(&mut self) -> Result<Vec<Leftover>, String>;
}

/// Now, UTC, as records keep it.
pub fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Millisecond)
        .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string())
}
