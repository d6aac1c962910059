//! The identity of a table whose integer key was SQLite's rowid, and the statement that sets
//! its sequence past the largest key: past `max(key)` of the rows PostgreSQL holds (an upsert
//! may have kept larger ones) and past what the scan saw (`max(key)`, `sqlite_sequence`).
//!
//! One statement does it all on the server, so the executor only runs it and reads the value
//! the next INSERT without a key gets (NULL when the column has no sequence).

use crate::model::plan::{ColumnPlan, Identity, Step, StepKind};
use crate::postgres::ident::{qualified, quote_ident, quote_literal};

/// The identity column, if any, and where its sequence must start.
pub fn identity(
    columns: &[ColumnPlan],
    max_key: Option<i64>,
    sqlite_sequence: Option<i64>,
) -> Option<Identity> {
    columns.iter().find(|c| c.identity).map(|c| Identity {
        column: c.name.clone(),
        last_value: match (max_key, sqlite_sequence) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        },
    })
}

/// `SELECT setval(…)` for the identity of `table`: returns the next value, 1 when the table
/// and the scan hold no key of 1 or more (the sequence is left alone then).
pub fn reset_step(schema: &str, table: &str, id: &Identity) -> Step {
    let qt = qualified(schema, table);
    let max = format!(
        "(SELECT max({})::bigint FROM {qt})",
        quote_ident(&id.column)
    );
    let last = match id.last_value {
        Some(v) => format!("GREATEST({max}, {v})"),
        None => max,
    };
    Step {
        kind: StepKind::Sequence,
        name: format!("{} identity", id.column),
        sql: format!(
            "SELECT CASE WHEN seq IS NULL THEN NULL WHEN last >= 1 \
             THEN setval(seq::regclass, last, true) + 1 ELSE 1 END \
             FROM (SELECT pg_get_serial_sequence({}, {}) AS seq, {last} AS last) AS identity",
            quote_literal(&qt),
            quote_literal(&id.column)
        ),
    }
}
