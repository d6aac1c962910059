//! Resume state, kept in the target itself (schema `pgcarry`): which tables of which plan are
//! loaded, written in the same transaction as the table's data, so the two can never disagree.
//! A run that was killed continues with the tables it had not committed; a run on a finished
//! migration loads nothing. A plan that changed since (another source, other rows, other
//! types) is detected by its fingerprint and refused.

use crate::model::plan::Plan;
use crate::postgres::error::describe_pg_error;
use crate::postgres::state_sql;
use postgres::{Client, GenericClient};
use std::collections::HashMap;

/// What an earlier run recorded for one table.
#[derive(Debug, Clone)]
pub struct LoadedTable {
    pub fingerprint: String,
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_rejected: u64,
    pub bytes: u64,
    /// Values the opt-in repairs changed, per column, so a resumed run still reports them.
    pub repaired: Vec<crate::model::outcome::ColumnRepairs>,
    /// For a table loaded in key ranges: the upper key of the last range committed, while
    /// ranges remain; `None` once the table is complete.
    pub loaded_through: Option<i64>,
}

/// A stable fingerprint of everything the plan decided (names, types, SQL, scanned row counts).
pub fn fingerprint(plan: &Plan) -> String {
    let json = serde_json::to_string(&plan.tables).unwrap_or_default();
    let h = |seed: u64| {
        json.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    format!(
        "{:016x}{:016x}",
        h(0xcbf2_9ce4_8422_2325),
        h(0x8422_2325_cbf2_9ce4)
    )
}

/// Creates the state tables when missing.
pub fn ensure(client: &mut Client) -> Result<(), String> {
    // Runs into two schemas of one database may start at once (the run lock is per schema):
    // the first one's CREATE wins, the other's IF NOT EXISTS can still race on the catalog; a
    // retry settles it.
    match client.batch_execute(state_sql::SETUP) {
        Ok(()) => Ok(()),
        Err(_) => client
            .batch_execute(state_sql::SETUP)
            .map_err(|e| describe_pg_error(&e)),
    }
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The tables an earlier run loaded into `schema`.
pub fn loaded(client: &mut Client, schema: &str) -> Result<HashMap<String, LoadedTable>, String> {
    let rows = client
        .query(&state_sql::loaded(), &[&schema])
        .map_err(|e| describe_pg_error(&e))?;
    Ok(rows.iter().map(|r| (r.get(0), from_row(r))).collect())
}

fn from_row(r: &postgres::Row) -> LoadedTable {
    LoadedTable {
        fingerprint: r.get(1),
        rows_read: to_u64(r.get(2)),
        rows_written: to_u64(r.get(3)),
        rows_rejected: to_u64(r.get(4)),
        bytes: to_u64(r.get(5)),
        repaired: serde_json::from_str(r.get(6)).unwrap_or_default(),
        loaded_through: r.get(7),
    }
}

/// What this plan's earlier ranges of `table` recorded, if any (the table is loaded in part).
pub fn partial(
    client: &mut Client,
    schema: &str,
    table: &str,
    fingerprint: &str,
) -> Result<Option<LoadedTable>, postgres::Error> {
    let row = client.query_opt(&state_sql::partial(), &[&schema, &table, &fingerprint])?;
    Ok(row.as_ref().map(from_row))
}

/// Records a loaded table; called inside the transaction that loaded it.
pub fn record(
    tx: &mut impl GenericClient,
    schema: &str,
    table: &str,
    fingerprint: &str,
    t: &LoadedTable,
) -> Result<(), postgres::Error> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    tx.execute(
        state_sql::RECORD,
        &[
            &schema,
            &table,
            &fingerprint,
            &n(t.rows_read),
            &n(t.rows_written),
            &n(t.rows_rejected),
            &n(t.bytes),
            &serde_json::to_string(&t.repaired).unwrap_or_else(|_| "[]".into()),
            &t.loaded_through,
        ],
    )?;
    Ok(())
}

/// Forgets what was recorded for `tables` of `schema` (they are being dropped or emptied).
pub fn forget(
    client: &mut impl GenericClient,
    schema: &str,
    tables: &[String],
) -> Result<(), String> {
    if tables.is_empty() {
        return Ok(());
    }
    client
        .execute(state_sql::FORGET, &[&schema, &tables])
        .map(drop)
        .map_err(|e| describe_pg_error(&e))
}
