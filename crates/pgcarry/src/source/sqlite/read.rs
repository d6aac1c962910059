//! Reading a table's rows from the pinned snapshot, in storage order, without copying values.

use super::{Snapshot, SqliteError, quote_sqlite_ident};
use crate::plan::model::Table;

/// Calls `each` for every row of `table`, with the table's non-generated columns in order.
/// Stops at the first error `each` returns.
pub fn for_each_row<E>(
    snapshot: &Snapshot,
    table: &Table,
    mut each: impl FnMut(&rusqlite::Row<'_>) -> Result<(), E>,
) -> Result<Result<u64, E>, SqliteError> {
    let conn = snapshot.reader()?;
    let path = snapshot.path();
    let cols: Vec<String> = table
        .columns
        .iter()
        .map(|c| quote_sqlite_ident(&c.name))
        .collect();
    let what = || format!("read table {}", table.name);
    let sql = format!(
        "SELECT {} FROM {}",
        cols.join(", "),
        quote_sqlite_ident(&table.name)
    );
    let mut stmt = conn
        .prepare(&sql)
        .map_err(|e| SqliteError::query(path, what(), e))?;
    let mut rows = stmt
        .query([])
        .map_err(|e| SqliteError::query(path, what(), e))?;
    let mut n = 0u64;
    while let Some(row) = rows
        .next()
        .map_err(|e| SqliteError::query(path, what(), e))?
    {
        if let Err(e) = each(row) {
            return Ok(Err(e));
        }
        n += 1;
    }
    Ok(Ok(n))
}
