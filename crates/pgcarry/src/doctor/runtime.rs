//! Runtime: connections against `max_connections` (and who holds them), sessions idle in a
//! transaction or running long, sessions waiting on locks, replication and slot lag, the
//! slowest statements when `pg_stat_statements` is installed (never required).

use super::check::Ctx;
use super::finding::{Category, Finding, Level};
use crate::postgres::ident::quote_ident;
use postgres::error::SqlState;
use std::collections::BTreeMap;

/// Shares of the usable connections at which connections are a warning, an error.
const CONN_WARNING: f64 = 0.8;
const CONN_ERROR: f64 = 0.95;
/// WAL a replica or slot may lag behind before it is a warning (bytes).
const WAL_LAG_WARNING: f64 = 1024.0 * 1024.0 * 1024.0;
/// Statements slower than this on average are listed (milliseconds).
const SLOW_MEAN_MS: f64 = 100.0;

/// Client connections against what `max_connections` leaves to non-superusers.
pub fn connections(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let row = ctx.client.query_one(
        "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'), \
                current_setting('max_connections')::int8 \
                  - current_setting('superuser_reserved_connections')::int8, \
                (SELECT string_agg(app || ' ' || n, ', ' ORDER BY n DESC, app) FROM \
                   (SELECT coalesce(nullif(application_name, ''), '(no name)') AS app, count(*) AS n \
                    FROM pg_stat_activity WHERE backend_type = 'client backend' \
                    GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5) top)",
        &[],
    )?;
    let (used, usable, top): (i64, i64, Option<String>) = (row.get(0), row.get(1), row.get(2));
    let share = used as f64 / usable.max(1) as f64;
    let level = if share >= CONN_ERROR {
        Level::Error
    } else if share >= CONN_WARNING {
        Level::Warning
    } else {
        return Ok(Vec::new());
    };
    Ok(vec![
        Finding::new(
            "connections",
            level,
            Category::Runtime,
            "max_connections",
            format!(
                "{used} of {usable} connections are in use ({:.0} %; by application: {}): new \
                 connections will be refused",
                share * 100.0,
                top.unwrap_or_default()
            ),
        )
        .setting(
            "put a connection pooler (PgBouncer) in front, lower the applications' pool sizes, \
             or raise max_connections (restart)",
        ),
    ])
}

/// One session as `pg_stat_activity` shows it.
struct Session {
    pid: i32,
    who: String,
    state: String,
    xact_seconds: f64,
    state_seconds: f64,
    query: String,
}

fn other_sessions(ctx: &mut Ctx<'_>) -> Result<Vec<Session>, postgres::Error> {
    let rows = ctx.client.query(
        "SELECT pid, coalesce(usename::text, '?') || '/' || \
                  coalesce(nullif(application_name, ''), '(no name)'), \
                state, coalesce(extract(epoch FROM now() - xact_start)::float8, 0), \
                coalesce(extract(epoch FROM now() - state_change)::float8, 0), \
                left(coalesce(query, ''), 200) \
         FROM pg_stat_activity \
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state IS NOT NULL \
           AND datname = current_database() \
         ORDER BY pid",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| Session {
            pid: r.get(0),
            who: r.get(1),
            state: r.get(2),
            xact_seconds: r.get(3),
            state_seconds: r.get(4),
            query: r.get(5),
        })
        .collect())
}

/// Sessions of this database idle in a transaction past `--idle-after`, transactions open past `--long-after`;
/// one finding per role and application, with the oldest session's pid.
pub fn sessions(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let idle_after = ctx.options.idle_after.as_secs_f64();
    let long_after = ctx.options.long_after.as_secs_f64();
    let mut idle: BTreeMap<String, Vec<Session>> = BTreeMap::new();
    let mut long: BTreeMap<String, Vec<Session>> = BTreeMap::new();
    for s in other_sessions(ctx)? {
        if s.state.starts_with("idle in transaction") && s.state_seconds >= idle_after {
            idle.entry(s.who.clone()).or_default().push(s);
        } else if s.state == "active" && s.xact_seconds >= long_after {
            long.entry(s.who.clone()).or_default().push(s);
        }
    }
    let mut out = Vec::new();
    for (who, all) in idle {
        let oldest = oldest(&all, |s| s.state_seconds);
        out.push(
            Finding::new(
                "idle_in_transaction",
                Level::Warning,
                Category::Runtime,
                who.clone(),
                format!(
                    "{} session(s) of {who} idle in a transaction, the oldest (pid {}) for {:.0} s \
                     after: {}; it holds its locks and keeps VACUUM from removing dead rows",
                    all.len(),
                    oldest.pid,
                    oldest.state_seconds,
                    oldest.query
                ),
            )
            .setting(format!(
                "make the application commit or roll back; set idle_in_transaction_session_timeout \
                 (ALTER ROLE ... SET idle_in_transaction_session_timeout = '5min'); end this one \
                 with SELECT pg_terminate_backend({})",
                oldest.pid
            )),
        );
    }
    for (who, all) in long {
        let oldest = oldest(&all, |s| s.xact_seconds);
        out.push(
            Finding::new(
                "long_transaction",
                Level::Warning,
                Category::Runtime,
                who.clone(),
                format!(
                    "{} transaction(s) of {who} running long, the oldest (pid {}) for {:.0} s, \
                     now: {}",
                    all.len(),
                    oldest.pid,
                    oldest.xact_seconds,
                    oldest.query
                ),
            )
            .setting(format!(
                "set statement_timeout for the role; cancel this one with SELECT \
                 pg_cancel_backend({})",
                oldest.pid
            )),
        );
    }
    if !ctx.sees_all_sessions {
        out.push(partial_view(ctx));
    }
    Ok(out)
}

fn oldest(all: &[Session], age: impl Fn(&Session) -> f64) -> &Session {
    all.iter()
        .max_by(|a, b| age(a).total_cmp(&age(b)))
        .unwrap_or(&all[0])
}

/// What a role without `pg_read_all_stats` cannot see.
fn partial_view(ctx: &Ctx<'_>) -> Finding {
    Finding::new(
        "no_privilege",
        Level::Info,
        Category::Runtime,
        "sessions:pg_stat_activity",
        format!(
            "role {} sees the state of its own sessions only: other roles' idle or long \
             transactions are not checked",
            ctx.role
        ),
    )
    .sql(
        format!("GRANT pg_read_all_stats TO {};", quote_ident(&ctx.role)),
        false,
    )
}

/// Sessions of this database waiting for a lock, and who blocks them.
pub fn lock_waits(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let rows = ctx.client.query(
        "SELECT pid, coalesce(usename::text, '?') || '/' || \
                  coalesce(nullif(application_name, ''), '(no name)'), \
                coalesce(extract(epoch FROM now() - query_start)::float8, 0), \
                array_to_string(pg_blocking_pids(pid), ', '), left(coalesce(query, ''), 200) \
         FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() \
           AND datname = current_database() \
         ORDER BY pid",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let (pid, who, seconds, blockers, query): (i32, String, f64, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
            Finding::new(
                "lock_wait",
                Level::Warning,
                Category::Runtime,
                who.clone(),
                format!(
                    "session {pid} of {who} waits for a lock held by pid(s) {blockers} (query \
                     started {seconds:.0} s ago): {query}"
                ),
            )
            .advice(
                "find what the blocking sessions are doing (pg_stat_activity); set lock_timeout \
                 for migrations so they give up instead of queueing everyone behind them",
            )
        })
        .collect())
}

/// Replicas lagging, replication slots inactive or holding back much WAL.
pub fn replication(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let standby: bool = ctx
        .client
        .query_one("SELECT pg_is_in_recovery()", &[])?
        .get(0);
    if standby {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let replicas = ctx.client.query(
        "SELECT coalesce(nullif(application_name, ''), client_addr::text, pid::text), \
                coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8, 0), \
                coalesce(extract(epoch FROM replay_lag)::float8, 0) \
         FROM pg_stat_replication ORDER BY 1",
        &[],
    )?;
    for r in replicas {
        let (name, bytes, seconds): (String, f64, f64) = (r.get(0), r.get(1), r.get(2));
        if bytes >= WAL_LAG_WARNING || seconds >= 60.0 {
            out.push(
                Finding::new(
                    "replica_lag",
                    Level::Warning,
                    Category::Runtime,
                    name.clone(),
                    format!(
                        "replica {name} replays {:.1} MB ({seconds:.0} s) behind the primary",
                        bytes / 1e6
                    ),
                )
                .advice("check the replica's disk, network and long queries on it"),
            );
        }
    }
    let slots = ctx.client.query(
        "SELECT slot_name::text, active, \
                coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::float8, 0), \
                coalesce(wal_status, '') \
         FROM pg_replication_slots ORDER BY 1",
        &[],
    )?;
    for r in slots {
        let (name, active, bytes, status): (String, bool, f64, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        out.extend(slot_finding(&name, active, bytes, &status));
    }
    Ok(out)
}

fn slot_finding(name: &str, active: bool, bytes: f64, status: &str) -> Option<Finding> {
    let (level, what) = if status == "lost" {
        (
            Level::Error,
            "has lost WAL it needed: its consumer cannot continue",
        )
    } else if !active {
        (
            Level::Warning,
            "is inactive and keeps WAL from being removed",
        )
    } else if bytes >= WAL_LAG_WARNING {
        (Level::Warning, "lags far behind")
    } else {
        return None;
    };
    Some(
        Finding::new(
            "replication_slot",
            level,
            Category::Runtime,
            name,
            format!(
                "replication slot {name} {what} ({:.1} MB of WAL retained)",
                bytes / 1e6
            ),
        )
        .sql(
            format!(
                "SELECT pg_drop_replication_slot({}); -- only if its consumer is gone for good",
                crate::postgres::ident::quote_literal(name)
            ),
            false,
        ),
    )
}

/// The slowest statements on average, when `pg_stat_statements` is installed in this
/// database (nothing otherwise).
pub fn slow_statements(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let schema: Option<String> = ctx
        .client
        .query_opt(
            "SELECT n.nspname::text FROM pg_extension e \
             JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'",
            &[],
        )?
        .map(|r| r.get(0));
    let Some(schema) = schema else {
        return Ok(Vec::new());
    };
    let rows = ctx.client.query(
        &format!(
            "SELECT coalesce(queryid, 0)::text, calls, mean_exec_time, total_exec_time, \
                    left(coalesce(query, ''), 200) \
             FROM {}.pg_stat_statements WHERE calls > 0 AND mean_exec_time >= $1 \
             ORDER BY mean_exec_time DESC LIMIT 5",
            quote_ident(&schema)
        ),
        &[&SLOW_MEAN_MS],
    );
    let rows = match rows {
        Err(e) if e.code() == Some(&SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE) => {
            return Ok(vec![
                Finding::new(
                    "slow_statement",
                    Level::Info,
                    Category::Runtime,
                    "pg_stat_statements",
                    "pg_stat_statements is installed but not loaded: no statement statistics",
                )
                .setting("shared_preload_libraries = 'pg_stat_statements' (restart)"),
            ]);
        }
        other => other?,
    };
    Ok(rows
        .iter()
        .map(|r| {
            let (id, calls, mean, total, query): (String, i64, f64, f64, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
            Finding::new(
                "slow_statement",
                Level::Info,
                Category::Runtime,
                format!("queryid {id}"),
                format!(
                    "{mean:.0} ms on average over {calls} calls ({:.0} s in all): {query}",
                    total / 1000.0
                ),
            )
            .advice("EXPLAIN (ANALYZE, BUFFERS) it; an index or a narrower query may help")
        })
        .collect())
}
