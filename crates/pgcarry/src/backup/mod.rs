//! Backups a team can trust: `pg_dump -Fc` from an exported snapshot with a manifest computed
//! from the same snapshot (row counts, content checksums, sequences, versions, SHA-256), written
//! atomically under a per-directory lock; retention that never deletes the newest complete
//! backups; `verify` and `restore`, which restore the dump and compare every table with the
//! manifest. The dump is PostgreSQL's own format, made by the installed `pg_dump`; nothing
//! here writes a dump format of its own, and nothing here touches a file without a manifest.

mod archive;
mod content;
mod dump;
mod encrypt;
mod files;
mod list;
pub mod manifest;
mod restore;
mod retention;
mod verify;

pub use dump::{BackupOutcome, BackupRequest, backup};
pub use encrypt::{IDENTITY_ENV, keygen};
pub use list::{Listed, list};
pub use restore::{RestoreReport, RestoreRequest, restore};
pub use retention::{Retention, retention_plan};
pub use verify::{VerifyReport, VerifyRequest, verify};

/// A backup command that could not run: a usage error (exit 2) or a failure (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
}

impl From<crate::postgres::tools::ToolError> for BackupError {
    fn from(e: crate::postgres::tools::ToolError) -> Self {
        BackupError::Failed(e.to_string())
    }
}

impl From<crate::postgres::conn::ConnError> for BackupError {
    fn from(e: crate::postgres::conn::ConnError) -> Self {
        BackupError::Failed(e.to_string())
    }
}
