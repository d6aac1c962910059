//! The target side of verification: a planned table read back with `COPY … TO STDOUT (FORMAT
//! binary)`, whole or by key range, its tuples hashed with the same code as the source side.
//!
//! Streaming: one fixed buffer per table, whatever its size. Nothing is written.

use crate::checksum::{Checksum, KeyRange, TupleHasher};
use crate::model::plan::TablePlan;
use crate::postgres::copy_out;
use crate::postgres::error::describe_pg_error;
use crate::postgres::ident::{qualified, quote_ident};
use postgres::Client;

fn copy_sql(schema: &str, tp: &TablePlan, range: Option<&KeyRange>) -> String {
    let cols: Vec<String> = tp.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let qname = qualified(schema, &tp.name);
    // COPY refuses generated columns by name; a query may read them.
    let generated = tp.columns.iter().any(|c| c.generated.is_some());
    match range {
        None if generated => format!(
            "COPY (SELECT {} FROM {qname}) TO STDOUT (FORMAT binary)",
            cols.join(", ")
        ),
        None => format!(
            "COPY {qname} ({}) TO STDOUT (FORMAT binary)",
            cols.join(", ")
        ),
        Some(r) => format!(
            "COPY (SELECT {} FROM {qname} WHERE {} BETWEEN {} AND {}) TO STDOUT (FORMAT binary)",
            cols.join(", "),
            quote_ident(&tp.columns[r.column].name),
            r.lo,
            r.hi
        ),
    }
}

/// Calls `each` with every tuple of the table (within `range` when given), in the plan's
/// column order.
pub fn for_each_tuple(
    client: &mut Client,
    schema: &str,
    tp: &TablePlan,
    range: Option<&KeyRange>,
    each: impl FnMut(&[u8]),
) -> Result<(), String> {
    copy_out::for_each_tuple(client, &copy_sql(schema, tp, range), each)
}

/// The checksum of the table as PostgreSQL holds it (within `range` when given).
pub fn table_checksum(
    client: &mut Client,
    schema: &str,
    tp: &TablePlan,
    range: Option<&KeyRange>,
) -> Result<Checksum, String> {
    let mut hasher = TupleHasher::for_table(tp);
    let mut sum = Checksum::default();
    let mut bad = None;
    for_each_tuple(client, schema, tp, range, |t| match hasher.hash(t) {
        Ok(h) => sum.add(h),
        Err(e) => bad = Some(e.to_string()),
    })?;
    match bad {
        Some(e) => Err(e),
        None => Ok(sum),
    }
}

/// The smallest and largest key, when the table has any row.
pub fn key_bounds(
    client: &mut Client,
    schema: &str,
    tp: &TablePlan,
    column: usize,
) -> Result<Option<(i64, i64)>, String> {
    let key = quote_ident(&tp.columns[column].name);
    let sql = format!(
        "SELECT min({key})::bigint, max({key})::bigint FROM {}",
        qualified(schema, &tp.name)
    );
    let row = client
        .query_one(&sql, &[])
        .map_err(|e| describe_pg_error(&e))?;
    Ok(
        match (row.get::<_, Option<i64>>(0), row.get::<_, Option<i64>>(1)) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        },
    )
}
