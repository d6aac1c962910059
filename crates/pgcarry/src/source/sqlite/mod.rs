//! SQLite as a source: introspection through the pragmas and `sqlite_schema`, a scan of the
//! actual values, and readers that all see one consistent snapshot.

pub mod checksum;
pub mod introspect;
pub mod read;
pub mod scan;
pub mod snapshot;
pub mod sql;

use std::path::{Path, PathBuf};

pub use snapshot::Snapshot;

/// SQLite's file header.
const HEADER: &[u8; 16] = b"SQLite format 3\0";

/// True when the file starts with SQLite's header, whatever its extension.
pub fn is_sqlite_file(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == HEADER
}

#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    #[error("cannot open SQLite database {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: could not {what}")]
    Query {
        path: PathBuf,
        what: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: could not pin a consistent WAL snapshot (SQLite code {code})")]
    Snapshot { path: PathBuf, code: i32 },
    #[error(
        "{path} is corrupt or truncated (SQLite: {detail}, while trying to {what}); nothing was \
         migrated. Check it with `sqlite3 {path} 'PRAGMA integrity_check'`, or recover it with \
         `sqlite3 {path} .recover`"
    )]
    Corrupt {
        path: PathBuf,
        what: String,
        detail: String,
    },
}

impl SqliteError {
    pub(crate) fn query(path: &Path, what: impl Into<String>, source: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, msg) = &source
            && matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
            )
        {
            return SqliteError::Corrupt {
                path: path.to_path_buf(),
                what: what.into(),
                detail: msg.clone().unwrap_or_else(|| f.to_string()),
            };
        }
        SqliteError::Query {
            path: path.to_path_buf(),
            what: what.into(),
            source,
        }
    }
}

/// `'text'` quoted as a SQLite string literal.
pub fn quote_sqlite_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `"name"` quoted for SQLite.
pub fn quote_sqlite_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
