//! Outcomes of a run, as values: per table what was read, written, rejected and verified;
//! steps that failed; what verification found; sequences set; how the run ended.

use super::plan::StepKind;
use super::types::PgType;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableReport {
    pub name: String,
    pub source_rows: u64,
    pub rows_written: u64,
    pub rows_rejected: u64,
    /// Rows counted in PostgreSQL after the load.
    pub target_rows: Option<u64>,
    pub seconds: f64,
    /// Binary COPY bytes sent.
    pub bytes: u64,
    /// Verified: target rows equal source rows minus rejected rows, and (unless verification
    /// was skipped) the content checksums of both sides are equal. `None`: not verified.
    pub verified: Option<bool>,
    pub error: Option<String>,
    /// Content checksum of the rows PostgreSQL should hold (wrapping sum of xxh3-128 row
    /// hashes, hex); `None` when not verified.
    #[serde(default)]
    pub source_checksum: Option<String>,
    /// The same checksum over the rows PostgreSQL holds.
    #[serde(default)]
    pub target_checksum: Option<String>,
    /// How the table differs, in a sentence, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference: Option<String>,
    /// Up to 20 rows that differ, located by key (tables with a single integer key).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differing_rows: Vec<RowDifference>,
    /// Values changed by the opt-in repairs, per column (only columns with changes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repaired: Vec<ColumnRepairs>,
}

impl TableReport {
    /// The verdict without verification (`--no-verify`), where the row count is the only
    /// check: PostgreSQL holds every source row not rejected, and every row written.
    pub fn judge_count(&mut self, counted: u64) {
        self.target_rows = Some(counted);
        self.verified =
            Some(counted == self.source_rows - self.rows_rejected && counted == self.rows_written);
    }
}

/// How many values of one column the opt-in repairs changed, in rows that were loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnRepairs {
    pub column: String,
    /// Values whose NUL bytes `--strip-nul` removed.
    pub strip_nul: u64,
    /// Values whose invalid UTF-8 `--replace-invalid-utf8` replaced with U+FFFD.
    pub replace_invalid_utf8: u64,
    /// Foreign-key values `--orphans null` set to NULL because no parent row matched.
    #[serde(default)]
    pub orphan_nulled: u64,
}

/// One row found different by verification.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RowDifference {
    pub key: serde_json::Map<String, serde_json::Value>,
    /// `missing` (in PostgreSQL), `extra` (only in PostgreSQL) or `changed`.
    pub kind: String,
    /// The columns whose values differ (`changed` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
}

/// Something the plan promised that verification did not find in PostgreSQL.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StructureProblem {
    pub table: String,
    /// "primary key", "index", "foreign key", "NOT NULL", "sequence", …
    pub what: String,
    pub name: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepFailure {
    pub table: String,
    pub kind: StepKind,
    pub name: String,
    pub sql: String,
    pub error: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionReport {
    pub table: String,
    pub column: String,
    pub declared_type: String,
    pub pg_type: PgType,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SequenceReport {
    pub table: String,
    pub column: String,
    /// The value the next INSERT without a key will get.
    pub next_value: i64,
}

/// How the run ended, as the exit code says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Migrated and verified.
    Success,
    /// Finished, but rows were rejected, a step failed, or verification found a difference.
    Differences,
    /// A table could not be loaded.
    Failed,
}

/// How a command ended, as the exit codes of the product brief: the library returns it, the
/// command line only hands it to the operating system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitStatus {
    /// 0: done (migrated and verified, or nothing to do).
    Success,
    /// 1: failed; nothing half-done is left looking done.
    Failure,
    /// 2: a usage or configuration error: change the command and run it again.
    Usage,
    /// 3: finished, but rows were rejected or verification found a difference.
    Differences,
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Differences => 3,
        }
    }
}

impl From<Outcome> for ExitStatus {
    fn from(outcome: Outcome) -> ExitStatus {
        match outcome {
            Outcome::Success => ExitStatus::Success,
            Outcome::Differences => ExitStatus::Differences,
            Outcome::Failed => ExitStatus::Failure,
        }
    }
}
