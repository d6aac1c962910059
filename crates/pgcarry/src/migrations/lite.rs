//! `schema` on SQLite: records in `pgcarry_schema_migrations`, each migration in a
//! `BEGIN IMMEDIATE` transaction (the write lock, taken first, so two processes never both
//! apply one: the second waits up to the busy timeout, then finds it recorded).

use super::Dialect;
use super::engine::{Engine, Leftover, Record, SqlError, State};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

pub const TABLE: &str = "pgcarry_schema_migrations";

const CREATE: &str = "CREATE TABLE IF NOT EXISTS pgcarry_schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'finished' CHECK (state IN ('started', 'finished')),
    baseline INTEGER NOT NULL DEFAULT 0
)";

/// The record table's columns, in order: a table of that name with other columns is not ours.
pub const COLUMNS: [&str; 7] = [
    "version",
    "name",
    "checksum",
    "applied_at",
    "duration_ms",
    "state",
    "baseline",
];

/// The columns of `conn`'s table named [`TABLE`] (none when there is no such table).
fn columns(conn: &Connection) -> Result<Vec<String>, String> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
        .map_err(|e| describe(&e))?;
    let names = stmt
        .query_map([TABLE], |r| r.get::<_, String>(0))
        .map_err(|e| describe(&e))?
        .collect::<Result<Vec<String>, _>>()
        .map_err(|e| describe(&e))?;
    Ok(names)
}

/// The records of `conn`'s record table, by version, when `conn` has one with exactly the
/// columns `schema` creates; `None` otherwise (a table of that name with other columns is
/// the application's).
pub fn own_records(conn: &Connection) -> Result<Option<Vec<Record>>, String> {
    if !columns(conn)?.iter().map(String::as_str).eq(COLUMNS) {
        return Ok(None);
    }
    read_records(conn).map(Some)
}

fn read_records(conn: &Connection) -> Result<Vec<Record>, String> {
    let mut stmt = conn
        .prepare(
            "SELECT version, name, checksum, applied_at, duration_ms, state, baseline \
             FROM pgcarry_schema_migrations ORDER BY version",
        )
        .map_err(|e| describe(&e))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Record {
                version: r.get(0)?,
                name: r.get(1)?,
                checksum: r.get(2)?,
                applied_at: r.get(3)?,
                duration_ms: r.get(4)?,
                state: State::parse(&r.get::<_, String>(5)?),
                baseline: r.get(6)?,
            })
        })
        .map_err(|e| describe(&e))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("could not read {TABLE}: {}", describe(&e)))
}

pub struct Lite {
    conn: Connection,
}

fn describe(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        other => other.to_string(),
    }
}

impl Lite {
    /// Opens `path` (created if `create`), waiting up to `busy` for another writer.
    pub fn open(path: &Path, create: bool, busy: Duration) -> Result<Lite, String> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| format!("could not open {}: {}", path.display(), describe(&e)))?;
        conn.busy_timeout(busy)
            .map_err(|e| format!("could not set the busy timeout: {}", describe(&e)))?;
        Ok(Lite { conn })
    }

    /// An empty database in memory: what a SQLite file that does not exist yet looks like.
    pub fn empty() -> Result<Lite, String> {
        let conn = Connection::open_in_memory().map_err(|e| describe(&e))?;
        Ok(Lite { conn })
    }
}

impl Engine for Lite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn records(&mut self) -> Result<Option<Vec<Record>>, String> {
        if columns(&self.conn)?.is_empty() {
            return Ok(None);
        }
        read_records(&self.conn).map(Some)
    }

    fn ensure_records(&mut self) -> Result<(), String> {
        self.conn
            .execute_batch(CREATE)
            .map_err(|e| format!("could not create {TABLE}: {}", describe(&e)))
    }

    fn user_tables(&mut self) -> Result<Vec<String>, String> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ?1 ORDER BY name",
            )
            .map_err(|e| describe(&e))?;
        let names = stmt
            .query_map([TABLE], |r| r.get(0))
            .map_err(|e| describe(&e))?
            .collect::<Result<Vec<String>, _>>()
            .map_err(|e| describe(&e))?;
        Ok(names)
    }

    fn begin(&mut self) -> Result<(), String> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| {
            format!(
                "could not take the database's write lock (BEGIN IMMEDIATE): {}; another \
                 process writes to it: give a longer --lock-wait",
                describe(&e)
            )
        })
    }

    fn commit(&mut self) -> Result<(), String> {
        self.conn.execute_batch("COMMIT").map_err(|e| describe(&e))
    }

    fn rollback(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    fn execute(&mut self, sql: &str) -> Result<(), SqlError> {
        self.conn.execute_batch(sql).map_err(|e| {
            let line_in_statement = match &e {
                rusqlite::Error::SqlInputError { offset, sql: s, .. } => usize::try_from(*offset)
                    .ok()
                    .and_then(|o| s.get(..o))
                    .map(|before| before.matches('\n').count()),
                _ => None,
            };
            SqlError {
                message: describe(&e),
                line_in_statement,
            }
        })
    }

    fn write_record(&mut self, r: &Record) -> Result<(), String> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO pgcarry_schema_migrations \
                 (version, name, checksum, applied_at, duration_ms, state, baseline) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                rusqlite::params![
                    r.version,
                    r.name,
                    r.checksum,
                    r.applied_at,
                    r.duration_ms,
                    r.state.as_str(),
                    r.baseline
                ],
            )
            .map(|_| ())
            .map_err(|e| format!("could not record migration {}: {}", r.version, describe(&e)))
    }

    fn delete_record(&mut self, version: i64) -> Result<(), String> {
        self.conn
            .execute(
                "DELETE FROM pgcarry_schema_migrations WHERE version = ?1",
                [version],
            )
            .map(|_| ())
            .map_err(|e| describe(&e))
    }

    fn leftovers(&mut self) -> Result<Vec<Leftover>, String> {
        Ok(Vec::new())
    }
}
