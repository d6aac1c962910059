//! `schema` on PostgreSQL: records in `pgcarry.schema_migrations`, a session advisory lock for
//! the whole command (the run lock of `postgres::lock`, keyed on that table's name, so a
//! second `schema up` waits and names who holds it), statements one at a time over the simple
//! query protocol, and the INVALID indexes / NOT VALID constraints a step may leave.

use super::Dialect;
use super::engine::{Engine, Leftover, Record, SqlError, State};
use crate::postgres::conn::ConnSettings;
use crate::postgres::error::describe_pg_error;
use crate::postgres::lock::{LockError, RunLock};
use crate::work::progress::Progress;
use postgres::Client;
use postgres::error::ErrorPosition;
use std::time::Duration;

/// The name the lock is taken on (and the record table).
pub const TABLE: &str = "pgcarry.schema_migrations";

const CREATE: &str = "CREATE SCHEMA IF NOT EXISTS pgcarry;
CREATE TABLE IF NOT EXISTS pgcarry.schema_migrations (
    version bigint PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    duration_ms bigint NOT NULL DEFAULT 0,
    state text NOT NULL DEFAULT 'finished' CHECK (state IN ('started', 'finished')),
    baseline boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE pgcarry.schema_migrations IS
    'Schema migrations applied by pgcarry schema (state started: a no-transaction migration did not finish)'";

const RECORDS: &str = "SELECT version, name, checksum, \
     to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), duration_ms, \
     state, baseline FROM pgcarry.schema_migrations ORDER BY version";

const WRITE: &str = "INSERT INTO pgcarry.schema_migrations \
     (version, name, checksum, applied_at, duration_ms, state, baseline) \
     VALUES ($1, $2, $3, CAST($4::text AS timestamptz), $5, $6, $7) \
     ON CONFLICT (version) DO UPDATE SET name = excluded.name, checksum = excluded.checksum, \
     applied_at = excluded.applied_at, duration_ms = excluded.duration_ms, \
     state = excluded.state, baseline = excluded.baseline";

const USER_TABLES: &str = "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcarry') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' ORDER BY 1";

const LEFTOVERS: &str = "SELECT true, format('index %s (INVALID)', i.indexrelid::regclass) \
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'pg_toast') \
     UNION ALL \
     SELECT false, format('constraint %I on %s (NOT VALID)', conname, conrelid::regclass) \
     FROM pg_constraint WHERE NOT convalidated AND contype IN ('c', 'f') AND conrelid <> 0";

pub struct Pg {
    client: Client,
    /// Held until dropped, by writing commands.
    _lock: Option<RunLock>,
}

fn describe(e: &postgres::Error) -> String {
    describe_pg_error(e)
}

impl Pg {
    /// A session to read (`status`, dry runs): no lock.
    pub fn read(settings: &ConnSettings) -> Result<Pg, String> {
        let client = settings.connect().map_err(|e| e.to_string())?;
        Ok(Pg {
            client,
            _lock: None,
        })
    }

    /// A session to write, after taking the lock (waiting up to `wait`, saying who holds it).
    pub fn write(
        settings: &ConnSettings,
        wait: Duration,
        progress: &dyn Progress,
    ) -> Result<Pg, LockError> {
        let lock = RunLock::acquire(settings, TABLE, wait, progress)?;
        let client = lock.connect().map_err(LockError::Connect)?;
        Ok(Pg {
            client,
            _lock: Some(lock),
        })
    }
}

impl Engine for Pg {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn records(&mut self) -> Result<Option<Vec<Record>>, String> {
        let exists: bool = self
            .client
            .query_one(
                "SELECT to_regclass('pgcarry.schema_migrations') IS NOT NULL",
                &[],
            )
            .map_err(|e| describe(&e))?
            .get(0);
        if !exists {
            return Ok(None);
        }
        let rows = self.client.query(RECORDS, &[]).map_err(|e| describe(&e))?;
        Ok(Some(
            rows.iter()
                .map(|r| Record {
                    version: r.get(0),
                    name: r.get(1),
                    checksum: r.get(2),
                    applied_at: r.get(3),
                    duration_ms: r.get(4),
                    state: State::parse(r.get(5)),
                    baseline: r.get(6),
                })
                .collect(),
        ))
    }

    fn ensure_records(&mut self) -> Result<(), String> {
        if self.records()?.is_some() {
            return Ok(());
        }
        self.client
            .batch_execute(CREATE)
            .map_err(|e| format!("could not create {TABLE}: {}", describe(&e)))
    }

    fn user_tables(&mut self) -> Result<Vec<String>, String> {
        let rows = self
            .client
            .query(USER_TABLES, &[])
            .map_err(|e| describe(&e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn begin(&mut self) -> Result<(), String> {
        self.client.batch_execute("BEGIN").map_err(|e| describe(&e))
    }

    fn commit(&mut self) -> Result<(), String> {
        self.client
            .batch_execute("COMMIT")
            .map_err(|e| describe(&e))
    }

    fn rollback(&mut self) {
        let _ = self.client.batch_execute("ROLLBACK");
    }

    fn execute(&mut self, sql: &str) -> Result<(), SqlError> {
        self.client.batch_execute(sql).map_err(|e| {
            let line_in_statement = e.as_db_error().and_then(|db| match db.position() {
                Some(ErrorPosition::Original(p)) => {
                    let before = usize::try_from(*p).ok()?.saturating_sub(1);
                    Some(sql.chars().take(before).filter(|&c| c == '\n').count())
                }
                _ => None,
            });
            SqlError {
                message: describe(&e),
                line_in_statement,
            }
        })
    }

    fn write_record(&mut self, r: &Record) -> Result<(), String> {
        self.client
            .execute(
                WRITE,
                &[
                    &r.version,
                    &r.name,
                    &r.checksum,
                    &r.applied_at,
                    &r.duration_ms,
                    &r.state.as_str(),
                    &r.baseline,
                ],
            )
            .map(|_| ())
            .map_err(|e| format!("could not record migration {}: {}", r.version, describe(&e)))
    }

    fn delete_record(&mut self, version: i64) -> Result<(), String> {
        self.client
            .execute(
                "DELETE FROM pgcarry.schema_migrations WHERE version = $1",
                &[&version],
            )
            .map(|_| ())
            .map_err(|e| describe(&e))
    }

    fn leftovers(&mut self) -> Result<Vec<Leftover>, String> {
        let rows = self
            .client
            .query(LEFTOVERS, &[])
            .map_err(|e| describe(&e))?;
        let mut all: Vec<Leftover> = rows
            .iter()
            .map(|r| Leftover {
                invalid_index: r.get(0),
                what: r.get(1),
            })
            .collect();
        all.sort();
        Ok(all)
    }
}
