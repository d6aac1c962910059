//! SQLite as a source: introspection through the pragmas and `sqlite_schema`, a scan of the
//! actual values, and readers that all see one consistent snapshot.

pub mod collation;
pub mod introspect;
pub mod read;
pub mod scan;
pub mod snapshot;
pub mod sql;
mod virtual_table;

use std::path::{Path, PathBuf};

pub use snapshot::Snapshot;

/// SQLite's file header.
const HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Why a file given as the source is not taken as a SQLite database: found before SQLite
/// opens it, so the message can say what the file is instead of SQLite's generic error.
#[derive(Debug, thiserror::Error)]
pub enum FileProblem {
    #[error(
        "cannot read {}: permission denied; give the user running pgcarry read access to it \
         (and to its directory), or run pgcarry as the user that owns it",
        path.display()
    )]
    PermissionDenied { path: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is empty, not a SQLite database", path.display())]
    Empty { path: PathBuf },
    #[error(
        "{} is not a readable SQLite database: it does not start with SQLite's header and its \
         bytes look random, as those of an encrypted database do (SQLCipher, SQLite \
         Encryption Extension). pgcarry cannot read an encrypted database: decrypt it first \
         (SQLCipher: ATTACH DATABASE 'plain.db' AS plain KEY ''; SELECT \
         sqlcipher_export('plain');) and migrate the decrypted copy",
        path.display()
    )]
    MaybeEncrypted { path: PathBuf },
    #[error(
        "{} is not a SQLite database (it does not start with SQLite's header)",
        path.display()
    )]
    NotSqlite { path: PathBuf },
}

/// Checks that `path` can be read and starts with SQLite's header, whatever its extension.
pub fn check_file(path: &Path) -> Result<(), FileProblem> {
    use std::io::Read;
    let buf = path.to_path_buf();
    let mut head = Vec::with_capacity(512);
    let read = std::fs::File::open(path).and_then(|f| f.take(512).read_to_end(&mut head));
    match read {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(FileProblem::PermissionDenied { path: buf });
        }
        Err(e) => {
            return Err(FileProblem::Io {
                path: buf,
                source: e,
            });
        }
        Ok(_) => {}
    }
    if head.starts_with(HEADER) {
        return Ok(());
    }
    if head.is_empty() {
        return Err(FileProblem::Empty { path: buf });
    }
    let len = std::fs::metadata(path).map_or(0, |m| m.len());
    if looks_encrypted(&head, len) {
        return Err(FileProblem::MaybeEncrypted { path: buf });
    }
    Err(FileProblem::NotSqlite { path: buf })
}

/// True for what an encrypted database looks like: whole pages (a multiple of 512 bytes) of
/// bytes with no visible structure (most of the 256 byte values within the first 512 bytes;
/// text, and most binary formats' headers, use far fewer).
fn looks_encrypted(head: &[u8], len: u64) -> bool {
    let mut seen = [false; 256];
    for &b in head {
        seen[usize::from(b)] = true;
    }
    let distinct = seen.iter().filter(|&&s| s).count();
    head.len() == 512 && len.is_multiple_of(512) && distinct > 160
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
        "{path} is in WAL mode, and SQLite can only read it by creating or writing its WAL \
         index {path}-shm (and its WAL {path}-wal when missing) next to it, but this user cannot \
         write to {dir} (SQLite code {code}). Copy the database together with its -wal file \
         (if any) into a directory you can write and migrate the copy; or have its owner take it \
         out of WAL mode, which first copies the WAL's committed rows into the file (`sqlite3 \
         {path} 'PRAGMA journal_mode=DELETE'`, with the application stopped); or run pgcarry as \
         a user who can write to {dir}"
    )]
    WalDirectoryReadOnly {
        path: PathBuf,
        dir: PathBuf,
        code: i32,
    },
    #[error(
        "{path} changed while pgcarry was opening it (the application committed a write): run \
         the same command again, or stop the application first"
    )]
    ChangedWhileOpening { path: PathBuf },
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
    #[error(
        "{path} is locked by another process (SQLite: {detail}, after waiting {} s to {what}): \
         stop the application that writes to it, or retry when it is idle",
        snapshot::BUSY_TIMEOUT.as_secs()
    )]
    Locked {
        path: PathBuf,
        what: String,
        detail: String,
    },
    #[error(
        "{path} starts with SQLite's header, but SQLite cannot read it (SQLite: {detail}): it \
         may be encrypted (SQLCipher, SQLite Encryption Extension; decrypt it first and migrate \
         the decrypted copy), or its first page is damaged (check it with `sqlite3 {path} \
         'PRAGMA integrity_check'`)"
    )]
    Unreadable { path: PathBuf, detail: String },
}

impl SqliteError {
    pub(crate) fn query(path: &Path, what: impl Into<String>, source: rusqlite::Error) -> Self {
        let detail = |f: &rusqlite::ffi::Error, msg: &Option<String>| {
            msg.clone().unwrap_or_else(|| f.to_string())
        };
        if let rusqlite::Error::SqliteFailure(f, msg) = &source {
            let (path, what) = (path.to_path_buf(), what.into());
            match f.code {
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase => {
                    return SqliteError::Corrupt {
                        path,
                        what,
                        detail: detail(f, msg),
                    };
                }
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                    return SqliteError::Locked {
                        path,
                        what,
                        detail: detail(f, msg),
                    };
                }
                _ => return SqliteError::Query { path, what, source },
            }
        }
        SqliteError::Query {
            path: path.to_path_buf(),
            what: what.into(),
            source,
        }
    }

    /// The first read of a file: a file SQLite cannot read at all is most likely encrypted
    /// (SQLCipher keeps a plain header in some modes), which the user must fix (exit 2).
    pub(crate) fn first_read(path: &Path, what: &str, source: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, msg) = &source {
            let unsupported = msg
                .as_deref()
                .is_some_and(|m| m.contains("unsupported file format"));
            if f.code == rusqlite::ErrorCode::NotADatabase || unsupported {
                return SqliteError::Unreadable {
                    path: path.to_path_buf(),
                    detail: msg.clone().unwrap_or_else(|| f.to_string()),
                };
            }
        }
        SqliteError::query(path, what, source)
    }

    /// A WAL snapshot SQLite could not open or take (`code`). SQLite failing to create the WAL
    /// index (`-shm`) or the WAL next to a database in a directory this user cannot write is
    /// the user's to fix (exit 2); any other failure is not.
    pub(crate) fn snapshot(path: &Path, code: i32) -> Self {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if cannot_create_wal_files(code) && !is_writable(dir) {
            return SqliteError::WalDirectoryReadOnly {
                path: path.to_path_buf(),
                // Named in full: "cannot write to ." says little.
                dir: std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()),
                code,
            };
        }
        SqliteError::Snapshot {
            path: path.to_path_buf(),
            code,
        }
    }

    /// True when the user must change the input (exit 2), not retry (exit 1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            SqliteError::Unreadable { .. } | SqliteError::WalDirectoryReadOnly { .. }
        )
    }
}

/// SQLite's codes for a `-shm` or `-wal` file it could not open (`SQLITE_CANTOPEN` and its
/// extended codes) or could not create in a read-only directory.
fn cannot_create_wal_files(code: i32) -> bool {
    code & 0xff == rusqlite::ffi::SQLITE_CANTOPEN
        || code == rusqlite::ffi::SQLITE_READONLY_DIRECTORY
}

/// True when the user running pgcarry (its effective ids) may create files in `dir`.
fn is_writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(dir) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path; faccessat only reads it.
    unsafe {
        libc::faccessat(
            libc::AT_FDCWD,
            dir.as_ptr(),
            libc::W_OK | libc::X_OK,
            libc::AT_EACCESS,
        ) == 0
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes with no structure (xorshift), as an encrypted file's look.
    fn noise(n: usize) -> Vec<u8> {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[5]
            })
            .collect()
    }

    #[test]
    fn random_whole_pages_look_encrypted_text_and_odd_sizes_do_not() {
        let random = noise(4096);
        assert!(looks_encrypted(&random[..512], 4096));
        // Not whole pages: a random download, a compressed file.
        assert!(!looks_encrypted(&random[..512], 4000));
        let text = "just some notes, not a database\n".repeat(16);
        assert!(!looks_encrypted(&text.as_bytes()[..512], 4096));
        assert!(!looks_encrypted(&[0u8; 512], 4096));
    }

    #[test]
    fn only_a_wal_file_sqlite_cannot_create_in_a_read_only_directory_is_a_usage_error() {
        use rusqlite::ffi;
        // SQLITE_CANTOPEN (a -shm it cannot create) and SQLITE_READONLY_DIRECTORY (a -wal).
        assert!(cannot_create_wal_files(ffi::SQLITE_CANTOPEN));
        assert!(cannot_create_wal_files(ffi::SQLITE_READONLY_DIRECTORY));
        for other in [
            ffi::SQLITE_ERROR,
            ffi::SQLITE_BUSY_SNAPSHOT,
            ffi::SQLITE_IOERR_SHORT_READ,
            ffi::SQLITE_READONLY,
        ] {
            assert!(!cannot_create_wal_files(other), "{other}");
        }
        // In a directory this user can write, the cause is elsewhere: not a usage error.
        let dir = tempfile::tempdir().unwrap();
        let err = SqliteError::snapshot(&dir.path().join("w.db"), ffi::SQLITE_CANTOPEN);
        assert!(matches!(err, SqliteError::Snapshot { .. }), "{err}");
        assert!(!err.is_usage());
    }

    #[test]
    fn check_file_says_what_the_file_is() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let mut sqlite = HEADER.to_vec();
        sqlite.resize(4096, 0);
        assert!(check_file(&write("ok.db", &sqlite)).is_ok());
        let problem = |name: &str, bytes: &[u8]| check_file(&write(name, bytes)).unwrap_err();
        assert!(matches!(problem("e.db", b""), FileProblem::Empty { .. }));
        assert!(matches!(
            problem("x.db", &noise(8192)),
            FileProblem::MaybeEncrypted { .. }
        ));
        assert!(matches!(
            problem("t.db", b"hello"),
            FileProblem::NotSqlite { .. }
        ));
        assert!(matches!(
            check_file(&dir.path().join("missing.db")),
            Err(FileProblem::Io { .. })
        ));
    }
}
