//! Maintenance: tables never analysed (the planner guesses after a bulk load), dead tuples
//! autovacuum has not caught up with, transaction-ID wraparound age, autovacuum switched off.

use super::check::{Ctx, USER_SCHEMA, object, per_object};
use super::finding::{Category, Finding, Level};
use crate::postgres::ident::{qualified, quote_ident};

/// Dead tuples worth a finding: more than this share of the table, and at least
/// `DEAD_MIN` of them.
const DEAD_SHARE: f64 = 0.2;
const DEAD_MIN: i64 = 1000;

/// Shares of the 2^31 transaction IDs before wraparound at which age is a warning, an error.
const XID_WARNING: f64 = 0.5;
const XID_ERROR: f64 = 0.75;

/// Tables holding rows that were never analysed, by hand or by autovacuum.
pub fn never_analyzed(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let sql = format!(
        "SELECT s.schemaname::text, s.relname::text FROM pg_stat_user_tables s \
         JOIN pg_namespace n ON n.nspname = s.schemaname \
         WHERE s.last_analyze IS NULL AND s.last_autoanalyze IS NULL \
           AND pg_relation_size(s.relid) > 0 AND {USER_SCHEMA} ORDER BY 1, 2"
    );
    per_object(ctx, &sql, |schema, table| {
        Finding::new(
            "never_analyzed",
            Level::Warning,
            Category::Maintenance,
            object(schema, table),
            format!(
                "table {} holds rows but was never analysed: the planner guesses its size \
                 and value distribution (typical right after a bulk load)",
                object(schema, table)
            ),
        )
        .sql(format!("ANALYZE {};", qualified(schema, table)), true)
    })
}

/// Tables whose dead tuples are more than a fifth of their rows.
pub fn dead_tuples(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let sql = format!(
        "SELECT s.schemaname::text, s.relname::text, s.n_dead_tup, s.n_live_tup, \
                coalesce(greatest(s.last_vacuum, s.last_autovacuum)::text, 'never') \
         FROM pg_stat_user_tables s JOIN pg_namespace n ON n.nspname = s.schemaname \
         WHERE s.n_dead_tup >= $1::int8 \
           AND s.n_dead_tup::float8 > $2::float8 * (s.n_live_tup + s.n_dead_tup) AND {USER_SCHEMA} \
         ORDER BY s.n_dead_tup DESC"
    );
    Ok(ctx
        .client
        .query(&sql, &[&DEAD_MIN, &DEAD_SHARE])?
        .iter()
        .map(|r| {
            let (schema, table, dead, live, last): (String, String, i64, i64, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
            let share = dead as f64 / (dead + live).max(1) as f64 * 100.0;
            Finding::new(
                "dead_tuples",
                Level::Warning,
                Category::Maintenance,
                object(&schema, &table),
                format!(
                    "table {} holds {dead} dead row versions ({share:.0} % of its rows; last \
                     vacuum: {last}): scans read them and the table grows",
                    object(&schema, &table)
                ),
            )
            .sql(
                format!("VACUUM (ANALYZE) {};", qualified(&schema, &table)),
                false,
            )
        })
        .collect())
}

/// Databases whose oldest unfrozen transaction or multixact ID is far towards wraparound
/// (at 2^31 the server stops accepting writes).
pub fn wraparound(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let rows = ctx.client.query(
        "SELECT datname::text, age(datfrozenxid)::int8, mxid_age(datminmxid)::int8 \
         FROM pg_database WHERE datallowconn ORDER BY 1",
        &[],
    )?;
    let mut out = Vec::new();
    for r in rows {
        let (db, xid, mxid): (String, i64, i64) = (r.get(0), r.get(1), r.get(2));
        let (what, age) = if xid >= mxid {
            ("transaction ID", xid)
        } else {
            ("multixact ID", mxid)
        };
        let share = age as f64 / 2_147_483_648.0;
        let level = if share >= XID_ERROR {
            Level::Error
        } else if share >= XID_WARNING {
            Level::Warning
        } else {
            continue;
        };
        out.push(
            Finding::new(
                "xid_wraparound",
                level,
                Category::Maintenance,
                db.clone(),
                format!(
                    "database {db}: the oldest unfrozen {what} is {age} old, {:.0} % of the way \
                     to wraparound, where PostgreSQL stops accepting writes",
                    share * 100.0
                ),
            )
            .advice(format!(
                "connect to {} and run VACUUM (FREEZE, VERBOSE) on its oldest tables; look for \
                 long transactions, prepared transactions and replication slots holding it back",
                quote_ident(&db)
            )),
        );
    }
    Ok(out)
}

/// Autovacuum off for the server (or statistics it needs off), or for single tables.
pub fn autovacuum(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let mut out = Vec::new();
    let row = ctx.client.query_one(
        "SELECT current_setting('autovacuum'), current_setting('track_counts')",
        &[],
    )?;
    for (setting, value) in [
        ("autovacuum", row.get::<_, String>(0)),
        ("track_counts", row.get(1)),
    ] {
        if value == "off" {
            out.push(
                Finding::new(
                    "autovacuum_off",
                    Level::Warning,
                    Category::Maintenance,
                    setting,
                    format!(
                        "{setting} is off: dead rows pile up, statistics go stale, and only \
                         the emergency anti-wraparound vacuum still runs"
                    ),
                )
                .setting(format!("{setting} = on (postgresql.conf, then reload)")),
            );
        }
    }
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'm') AND 'autovacuum_enabled=false' = ANY (c.reloptions) \
           AND {USER_SCHEMA} ORDER BY 1, 2"
    );
    out.extend(per_object(ctx, &sql, |schema, table| {
        Finding::new(
            "autovacuum_off",
            Level::Warning,
            Category::Maintenance,
            object(schema, table),
            format!("autovacuum is disabled for table {}", object(schema, table)),
        )
        .sql(
            format!(
                "ALTER TABLE {} RESET (autovacuum_enabled);",
                qualified(schema, table)
            ),
            false,
        )
    })?);
    Ok(out)
}
