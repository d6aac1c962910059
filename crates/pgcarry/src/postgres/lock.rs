//! The run lock: one run at a time per target database and schema. A run takes a
//! session-level advisory lock on a connection of its own, the lock session, which sits idle
//! until the run ends (closing it releases the lock, also when the process is killed). A second
//! run finds the lock taken and names who holds it (pid, user, application, client address,
//! since when), at once or after waiting as long as it was told to.
//!
//! The key is computed by the server, so any session can compute the same one:
//! `hashtextextended(current_database() || '/' || schema, seed)` (advisory locks are per
//! database already; the name is in the key for whoever reads it). Two seeds make two keys:
//!
//! - the run key ([`RUN_SEED`]), held exclusively by the lock session;
//! - the sessions key ([`SESSIONS_SEED`]), held in shared mode by every other connection of a
//!   run. A killed run leaves its sessions running until their current statement ends (an
//!   index build may still commit): a new run, once it holds the run key, takes the sessions key
//!   exclusively (waiting, at most [`SESSIONS_WAIT`], for such sessions to end) and releases
//!   it before it writes anything.
//!
//! The lock session is checked whenever the run opens a connection: after a server restart it
//! is gone, and the run key is taken again on a new session (or the run stops, if another run
//! took it meanwhile). Only statements about locks run here; the text of those that take or
//! release one is public, so that `plan --sql` lists them. Nothing here knows about a plan.

use crate::postgres::conn::ConnSettings;
use crate::postgres::error::describe_pg_error;
use crate::work::progress::Progress;
use postgres::Client;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The seed of the run key: "pgcarry\0" in ASCII.
pub const RUN_SEED: i64 = 0x7067_6361_7272_7900;
/// The seed of the sessions key.
pub const SESSIONS_SEED: i64 = RUN_SEED + 1;

/// The key of schema `$1` of the current database with the seed given (a literal, so that the
/// statements read whole in `plan --sql`).
macro_rules! key {
    ($seed:literal) => {
        concat!(
            "hashtextextended(current_database() || '/' || $1, ",
            $seed,
            ")"
        )
    };
}

/// Keeps the lock session open however long the run is idle on it: a server's or role's
/// `idle_session_timeout` would end it, and the lock with it (PostgreSQL 14 on; on 13 the
/// setting does not exist and nothing is set).
pub const KEEP_IDLE: &str = "SELECT set_config(name, '0', false) FROM pg_settings \
     WHERE name = 'idle_session_timeout'";
/// Takes the run key of schema `$1`, if free.
pub const TAKE_RUN: &str = concat!(
    "SELECT pg_try_advisory_lock(",
    key!("8099551725032208640"),
    ")"
);
/// Takes the sessions key of schema `$1` exclusively, if no connection of a run holds it.
pub const TAKE_SESSIONS: &str = concat!(
    "SELECT pg_try_advisory_lock(",
    key!("8099551725032208641"),
    ")"
);
/// Releases the sessions key taken by [`TAKE_SESSIONS`].
pub const RELEASE_SESSIONS: &str = concat!(
    "SELECT pg_advisory_unlock(",
    key!("8099551725032208641"),
    ")"
);
/// Takes the sessions key of schema `$1` in shared mode, on every other connection of a run.
pub const JOIN_SESSIONS: &str = concat!(
    "SELECT pg_try_advisory_lock_shared(",
    key!("8099551725032208641"),
    ")"
);

/// The sessions holding the key of schema `$1` with seed `$2` (this one excepted), oldest
/// first: a read, so not in the plan.
const HOLDERS: &str = "SELECT a.pid, a.usename::text, a.application_name, \
     host(a.client_addr), \
     to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC', \
     extract(epoch FROM now() - a.backend_start)::float8, a.state, a.query, \
     extract(epoch FROM now() - a.query_start)::float8 \
     FROM (SELECT hashtextextended(current_database() || '/' || $1, $2) AS key) k, \
     pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
     AND l.classid = ((k.key >> 32) & 4294967295)::oid \
     AND l.objid = (k.key & 4294967295)::oid AND l.pid <> pg_backend_pid() \
     ORDER BY a.backend_start, a.pid";

/// How long a new run waits for the sessions of an earlier, killed run to end.
pub const SESSIONS_WAIT: Duration = Duration::from_secs(600);
/// How often a waiting run tries again, and how often it says that it waits.
const POLL: Duration = Duration::from_millis(250);
const TELL_EVERY: Duration = Duration::from_secs(5);

/// A session holding a key, as `pg_stat_activity` shows it (what a role may not see of another
/// role's session is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub pid: i32,
    pub user: Option<String>,
    pub application: Option<String>,
    /// The client's address; `None` for a Unix socket (or when hidden).
    pub client: Option<String>,
    /// When the session connected, in UTC.
    pub since: Option<String>,
    pub seconds: Option<f64>,
    pub state: Option<String>,
    pub query: Option<String>,
    /// How long its current (or last) statement has run.
    pub query_seconds: Option<f64>,
}

impl fmt::Display for Session {
    /// `pid 4242, user postgres, application_name "pgcarry", from 127.0.0.1, since
    /// 2026-12-05 16:03:22 UTC (12 s ago)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {}", self.pid)?;
        if let Some(user) = &self.user {
            write!(f, ", user {user}")?;
        }
        if let Some(app) = self.application.as_deref().filter(|a| !a.is_empty()) {
            write!(f, ", application_name {app:?}")?;
        }
        match (&self.client, &self.since) {
            (Some(client), _) => write!(f, ", from {client}")?,
            (None, Some(_)) => write!(f, ", over a local socket")?,
            (None, None) => {}
        }
        if let Some(since) = &self.since {
            write!(f, ", since {since}")?;
            if let Some(s) = self.seconds {
                write!(f, " ({:.0} s ago)", s.max(0.0))?;
            }
        }
        Ok(())
    }
}

impl Session {
    /// `pid 123 (active for 4 s: CREATE INDEX …)`, for the sessions of an earlier run.
    fn doing(&self) -> String {
        let state = self.state.as_deref().unwrap_or("state hidden");
        let time = self
            .query_seconds
            .map_or(String::new(), |s| format!(" for {:.0} s", s.max(0.0)));
        match self.query.as_deref().filter(|q| !q.is_empty()) {
            Some(q) => format!("pid {} ({state}{time}: {})", self.pid, one_line(q)),
            None => format!("pid {} ({state}{time})", self.pid),
        }
    }
}

/// A statement on one line, its first 100 characters.
fn one_line(sql: &str) -> String {
    const SHOWN: usize = 100;
    let line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

fn holders_text(holders: &[Session]) -> String {
    match holders {
        [] => "a session this role cannot identify".into(),
        _ => holders
            .iter()
            .map(Session::to_string)
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.0} s", d.as_secs_f64())
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another pgcarry run holds the lock on schema {schema:?} of database {database:?}{}: {}. \
         Nothing was written. {}",
        if .waited.is_zero() { String::new() } else { format!(" after waiting {}", seconds(*.waited)) },
        holders_text(.holders),
        if .waited.is_zero() {
            "Run this again when it has finished, or let it wait for the other run: --lock-wait \
             DURATION (e.g. --lock-wait 10m)"
        } else {
            "Run this again when it has finished, or give a longer --lock-wait"
        }
    )]
    Held {
        database: String,
        schema: String,
        holders: Vec<Session>,
        waited: Duration,
    },
    #[error(
        "sessions of an earlier pgcarry run on schema {schema:?} are still running after {}: {}. \
         A killed run's statements go on until they end, and this run must not race them; \
         nothing was written. Wait for them and run this again, or end them first (SELECT \
         pg_cancel_backend(pid))",
        seconds(*.waited),
        .sessions.iter().map(Session::doing).collect::<Vec<_>>().join("; ")
    )]
    EarlierSessions {
        schema: String,
        sessions: Vec<Session>,
        waited: Duration,
    },
    #[error(
        "this run lost its lock on schema {schema:?} (its session ended: the server restarted, \
         or the session was terminated) and another run holds it now: {}. This run stops \
         writing; run it again once the other has finished, it resumes",
        holders_text(.holders)
    )]
    Lost {
        schema: String,
        holders: Vec<Session>,
    },
    #[error("cannot connect to the target to take the run lock: {0}")]
    Connect(String),
    #[error("could not {what}: {message}")]
    Server { what: &'static str, message: String },
}

/// One key of one schema: the statement that takes it, and its seed.
struct Key<'a> {
    schema: &'a str,
    take: &'static str,
    seed: i64,
}

impl Key<'_> {
    fn server(what: &'static str) -> impl Fn(postgres::Error) -> LockError {
        move |e| LockError::Server {
            what,
            message: describe_pg_error(&e),
        }
    }

    /// Takes the key if it is free.
    fn try_take(&self, session: &mut Client) -> Result<bool, LockError> {
        session
            .query_one(self.take, &[&self.schema])
            .map(|r| r.get(0))
            .map_err(Self::server("take the run lock"))
    }

    /// The other sessions holding the key.
    fn holders(&self, session: &mut Client) -> Result<Vec<Session>, LockError> {
        let rows = session
            .query(HOLDERS, &[&self.schema, &self.seed])
            .map_err(Self::server("read who holds the run lock"))?;
        Ok(rows
            .iter()
            .map(|r| Session {
                pid: r.get(0),
                user: r.get(1),
                application: r.get(2),
                client: r.get(3),
                since: r.get(4),
                seconds: r.get(5),
                state: r.get(6),
                query: r.get(7),
                query_seconds: r.get(8),
            })
            .collect())
    }

    /// Takes the key, trying again for up to `wait`; says every few seconds (after
    /// `quiet_for`) who holds it, as `tell` words it. The holders when it is still taken.
    fn take_within(
        &self,
        session: &mut Client,
        wait: Duration,
        quiet_for: Duration,
        progress: &dyn Progress,
        tell: &dyn Fn(&[Session], Duration) -> String,
    ) -> Result<Option<Vec<Session>>, LockError> {
        let started = Instant::now();
        let mut told: Option<Instant> = None;
        let mut unseen = 0;
        loop {
            if self.try_take(session)? {
                return Ok(None);
            }
            let holders = self.holders(session)?;
            // Released between the two statements: try again at once.
            if holders.is_empty() && unseen < 3 {
                unseen += 1;
                continue;
            }
            let waited = started.elapsed();
            if waited >= wait {
                return Ok(Some(holders));
            }
            let due = match told {
                None => waited >= quiet_for,
                Some(at) => at.elapsed() >= TELL_EVERY,
            };
            if due {
                progress.message(&tell(&holders, waited));
                told = Some(Instant::now());
            }
            std::thread::sleep(POLL.min(wait - waited));
        }
    }
}

/// The run lock, held until dropped (its session closes).
pub struct RunLock {
    target: ConnSettings,
    schema: String,
    session: Mutex<Client>,
}

impl RunLock {
    /// Takes the run lock of `schema` in `target`'s database on a session of its own: at once,
    /// or waiting for another run up to `wait`, saying every few seconds who holds it. Then
    /// waits (at most [`SESSIONS_WAIT`]) for the sessions of an earlier run that was killed to
    /// end. Writes nothing.
    pub fn acquire(
        target: &ConnSettings,
        schema: &str,
        wait: Duration,
        progress: &dyn Progress,
    ) -> Result<RunLock, LockError> {
        let mut session = target
            .connect()
            .map_err(|e| LockError::Connect(e.to_string()))?;
        keep_idle(&mut session)?;
        let run = Key {
            schema,
            take: TAKE_RUN,
            seed: RUN_SEED,
        };
        let tell = |holders: &[Session], waited: Duration| {
            format!(
                "waiting for the lock on schema {schema:?}: another pgcarry run holds it ({}); \
                 waited {} of {} (--lock-wait)",
                holders_text(holders),
                seconds(waited),
                seconds(wait)
            )
        };
        if let Some(holders) =
            run.take_within(&mut session, wait, Duration::ZERO, progress, &tell)?
        {
            return Err(LockError::Held {
                database: target.dbname().to_string(),
                schema: schema.to_string(),
                holders,
                waited: wait,
            });
        }
        wait_for_earlier_sessions(&mut session, schema, progress)?;
        Ok(RunLock {
            target: target.clone(),
            schema: schema.to_string(),
            session: Mutex::new(session),
        })
    }

    /// Opens a connection of the run: checks that the lock is still held (taking it again on a
    /// new session after a server restart) and takes the sessions key in shared mode, so that
    /// a later run waits for this connection's statement should this run be killed.
    pub fn connect(&self) -> Result<Client, String> {
        let mut client = self.target.connect().map_err(|e| e.to_string())?;
        self.still_held().map_err(|e| e.to_string())?;
        let joined: bool = client
            .query_one(JOIN_SESSIONS, &[&self.schema])
            .map(|r| r.get(0))
            .map_err(|e| describe_pg_error(&e))?;
        if !joined {
            return Err(format!(
                "another pgcarry run is starting on schema {:?} (it holds the sessions key): this \
                 run lost its lock",
                self.schema
            ));
        }
        Ok(client)
    }

    /// The lock session answers; if it is gone, the run key is taken again on a new one.
    fn still_held(&self) -> Result<(), LockError> {
        let mut session = self.session.lock().map_err(|_| LockError::Server {
            what: "check the run lock",
            message: "a thread panicked while holding it".into(),
        })?;
        if session.batch_execute("SELECT 1").is_ok() {
            return Ok(());
        }
        let mut fresh = self
            .target
            .connect()
            .map_err(|e| LockError::Connect(e.to_string()))?;
        keep_idle(&mut fresh)?;
        let run = Key {
            schema: &self.schema,
            take: TAKE_RUN,
            seed: RUN_SEED,
        };
        if !run.try_take(&mut fresh)? {
            return Err(LockError::Lost {
                schema: self.schema.clone(),
                holders: run.holders(&mut fresh)?,
            });
        }
        *session = fresh;
        Ok(())
    }
}

fn keep_idle(session: &mut Client) -> Result<(), LockError> {
    session
        .batch_execute(KEEP_IDLE)
        .map_err(Key::server("keep the lock session open"))
}

/// With the run key held: takes the sessions key exclusively, which every connection of a run
/// holds in shared mode, and releases it. A killed run's sessions hold it until their
/// statement ends; wait for them, saying which they are.
fn wait_for_earlier_sessions(
    session: &mut Client,
    schema: &str,
    progress: &dyn Progress,
) -> Result<(), LockError> {
    let sessions = Key {
        schema,
        take: TAKE_SESSIONS,
        seed: SESSIONS_SEED,
    };
    let tell = |holders: &[Session], waited: Duration| {
        format!(
            "waiting for {} session(s) of an earlier pgcarry run on schema {schema:?} to end (a \
             killed run's statements go on until they finish): {}; waited {} of at most {}",
            holders.len(),
            holders
                .iter()
                .map(Session::doing)
                .collect::<Vec<_>>()
                .join("; "),
            seconds(waited),
            seconds(SESSIONS_WAIT)
        )
    };
    let quiet_for = Duration::from_secs(1);
    if let Some(holders) =
        sessions.take_within(session, SESSIONS_WAIT, quiet_for, progress, &tell)?
    {
        return Err(LockError::EarlierSessions {
            schema: schema.to_string(),
            sessions: holders,
            waited: SESSIONS_WAIT,
        });
    }
    session
        .query_one(RELEASE_SESSIONS, &[&schema])
        .map_err(Key::server("release the sessions key"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statements_use_the_seeds() {
        assert!(TAKE_RUN.contains(&format!(", {RUN_SEED})")), "{TAKE_RUN}");
        for sql in [TAKE_SESSIONS, RELEASE_SESSIONS, JOIN_SESSIONS] {
            assert!(sql.contains(&format!(", {SESSIONS_SEED})")), "{sql}");
        }
    }

    #[test]
    fn a_holder_reads_whole_and_hides_what_is_not_known() {
        let mut s = Session {
            pid: 4242,
            user: Some("postgres".into()),
            application: Some("pgcarry".into()),
            client: Some("127.0.0.1".into()),
            since: Some("2026-12-05 16:03:22 UTC".into()),
            seconds: Some(12.4),
            state: Some("idle".into()),
            query: Some("SELECT\n  1".into()),
            query_seconds: Some(3.0),
        };
        assert_eq!(
            s.to_string(),
            "pid 4242, user postgres, application_name \"pgcarry\", from 127.0.0.1, \
             since 2026-12-05 16:03:22 UTC (12 s ago)"
        );
        assert_eq!(s.doing(), "pid 4242 (idle for 3 s: SELECT 1)");
        s.query = Some(format!("SELECT {}", "x, ".repeat(50)));
        let doing = s.doing();
        assert!(doing.ends_with("x, …)"), "{doing}");
        assert_eq!(doing.matches("x,").count(), 31, "{doing}");
        s.client = None;
        assert!(s.to_string().contains(", over a local socket, since"));
        s.since = None;
        s.application = None;
        assert_eq!(s.to_string(), "pid 4242, user postgres");
    }
}
