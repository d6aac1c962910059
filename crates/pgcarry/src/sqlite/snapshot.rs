//! One consistent read snapshot of a SQLite database, shared by several reader connections.
//!
//! A "pin" connection opens a read transaction and keeps it for the whole run. In rollback-
//! journal mode its shared lock stops any writer from committing, so every reader opened while
//! it is held sees the same data. In WAL mode writers go on committing, so the pin records its
//! snapshot (`sqlite3_snapshot_get`) and every reader opens exactly that snapshot
//! (`sqlite3_snapshot_open`; SQLite is built with `SQLITE_ENABLE_SNAPSHOT`). The database is
//! opened read-only but never `immutable`, so committed WAL content is always seen.
//!
//! SQLite cannot record a snapshot while the WAL holds no transaction (a database whose
//! application is stopped, or whose writer has not committed since the WAL was created): the
//! pin then reads the database file alone, and its read lock keeps every later commit in the
//! WAL (no checkpoint can copy past it). A reader that still finds the WAL empty therefore
//! sees the pinned state; one that finds a commit asks the user to run the command again.
//!
//! A WAL database is read only through its WAL index (`-shm`), which SQLite creates next to it
//! when missing: in a directory the user cannot write, the snapshot fails, and the error says
//! what to do ([`SqliteError::WalDirectoryReadOnly`]).

use rusqlite::{Connection, OpenFlags, ffi};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::SqliteError;

/// The pinned snapshot. Readers come from [`Snapshot::reader`].
pub struct Snapshot {
    path: PathBuf,
    /// Held only to keep the read transaction open; behind a mutex so readers can be opened
    /// from any thread.
    pin: std::sync::Mutex<Connection>,
    wal: Wal,
}

/// What the pin found in WAL mode.
enum Wal {
    /// Rollback-journal mode: the pin's shared lock holds every writer off.
    Off,
    /// The WAL held no transaction: the pinned state is the database file alone.
    Empty,
    Snapshot(WalSnapshot),
}

struct WalSnapshot(*mut ffi::sqlite3_snapshot);

// SAFETY: a sqlite3_snapshot is an immutable value once taken; SQLite only reads it in
// sqlite3_snapshot_open, which may be called from any connection on any thread.
unsafe impl Send for WalSnapshot {}
unsafe impl Sync for WalSnapshot {}

impl Drop for WalSnapshot {
    fn drop(&mut self) {
        // SAFETY: the pointer came from sqlite3_snapshot_get and is freed once.
        unsafe { ffi::sqlite3_snapshot_free(self.0) }
    }
}

/// How long a read waits for a writer's lock before giving up with
/// [`SqliteError::Locked`]: longer than any write transaction of a healthy application.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A read-only connection to the source; collations the application registered on its own
/// connections get a stand-in ([`super::collation`]), so every table can be read.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection, SqliteError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| SqliteError::Open {
        path: path.to_path_buf(),
        source: e,
    })?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| SqliteError::query(path, "set busy timeout", e))?;
    super::collation::register_stand_ins(&conn)
        .map_err(|e| SqliteError::query(path, "register collation stand-ins", e))?;
    Ok(conn)
}

/// True when the file header says WAL mode (bytes 18 and 19 are 2). Read from the header
/// rather than with `PRAGMA journal_mode`, which would disturb the snapshot taken next.
fn is_wal_file(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 20];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head[18] == 2
        && head[19] == 2
}

impl Snapshot {
    /// Opens the database and pins its current committed state.
    pub fn pin(path: &Path) -> Result<Snapshot, SqliteError> {
        let wal_mode = is_wal_file(path);
        let pin = open_read_only(path)?;
        pin.execute_batch("BEGIN")
            .map_err(|e| SqliteError::query(path, "begin a read transaction", e))?;
        let wal = if wal_mode {
            match take_snapshot(&pin) {
                Ok(Some(snap)) => Wal::Snapshot(snap),
                Ok(None) => Wal::Empty,
                Err(code) => return Err(SqliteError::snapshot(path, code)),
            }
        } else {
            Wal::Off
        };
        // The first read takes the shared lock (rollback mode); in WAL mode the snapshot
        // above already opened the read transaction.
        let _: i64 = pin
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(|e| SqliteError::first_read(path, "read sqlite_schema", e))?;
        Ok(Snapshot {
            path: path.to_path_buf(),
            pin: std::sync::Mutex::new(pin),
            wal,
        })
    }

    /// The pinned connection itself (for introspection and single-threaded work).
    pub fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.pin
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new connection that reads exactly the pinned snapshot, inside its own transaction.
    pub fn reader(&self) -> Result<Connection, SqliteError> {
        let conn = open_read_only(&self.path)?;
        conn.execute_batch("BEGIN")
            .map_err(|e| SqliteError::query(&self.path, "begin a read transaction", e))?;
        if let Wal::Empty = &self.wal {
            let _: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
                .map_err(|e| SqliteError::query(&self.path, "read sqlite_schema", e))?;
            match take_snapshot(&conn) {
                Ok(None) => {}
                Ok(Some(_)) => {
                    return Err(SqliteError::ChangedWhileOpening {
                        path: self.path.clone(),
                    });
                }
                Err(code) => return Err(SqliteError::snapshot(&self.path, code)),
            }
        }
        if let Wal::Snapshot(snap) = &self.wal {
            // SQLite opens the WAL lazily with the first read: read once (at the newest
            // state), then sqlite3_snapshot_open checks the snapshot is still available, ends
            // that read and reopens the transaction exactly on the pinned snapshot.
            let _: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
                .map_err(|e| SqliteError::query(&self.path, "read sqlite_schema", e))?;
            // SAFETY: valid handle, in a transaction with no active statement; the snapshot is
            // kept alive by `self` (the pin still holds its read transaction, so no checkpoint
            // can reset the WAL underneath it).
            let rc = unsafe { ffi::sqlite3_snapshot_open(conn.handle(), c"main".as_ptr(), snap.0) };
            if rc != ffi::SQLITE_OK {
                return Err(SqliteError::snapshot(&self.path, rc));
            }
        }
        Ok(conn)
    }
}

/// The snapshot of `conn`'s open read transaction; `None` when the WAL holds no transaction
/// yet (SQLite then cannot record one), the SQLite code on any other failure.
fn take_snapshot(conn: &Connection) -> Result<Option<WalSnapshot>, i32> {
    let mut snap: *mut ffi::sqlite3_snapshot = std::ptr::null_mut();
    // SAFETY: the handle is valid for the connection's life and in a read transaction.
    let rc = unsafe { ffi::sqlite3_snapshot_get(conn.handle(), c"main".as_ptr(), &mut snap) };
    match rc {
        ffi::SQLITE_OK => Ok(Some(WalSnapshot(snap))),
        // Its only cause here (in a read transaction, WAL mode, no write transaction).
        ffi::SQLITE_ERROR => Ok(None),
        _ => Err(rc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_see_the_pinned_wal_snapshot_not_later_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let app = Connection::open(&path).unwrap();
        app.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE t (x); INSERT INTO t VALUES (1), (2);",
        )
        .unwrap();
        let snap = Snapshot::pin(&path).unwrap();
        app.execute("INSERT INTO t VALUES (3)", []).unwrap();
        let reader = snap.reader().unwrap();
        let n: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            n, 2,
            "a reader opened after a commit still sees the pinned snapshot"
        );
    }

    #[test]
    fn a_wal_database_without_wal_content_is_pinned_on_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let app = Connection::open(&path).unwrap();
        app.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);",
        )
        .unwrap();
        drop(app); // the last connection checkpoints and removes the WAL
        let snap = Snapshot::pin(&path).unwrap();
        let count = |c: &Connection| -> i64 {
            c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(count(&snap.reader().unwrap()), 1);
        // A commit after the pin is refused, never read half-way.
        let app = Connection::open(&path).unwrap();
        app.execute("INSERT INTO t VALUES (2)", []).unwrap();
        assert!(matches!(
            snap.reader(),
            Err(SqliteError::ChangedWhileOpening { .. })
        ));
    }
}
