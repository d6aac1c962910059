//! Reading a table's rows from the pinned snapshot, in storage order, without copying values.

use super::{Snapshot, SqliteError, quote_sqlite_ident};
use crate::model::plan::OrphanRule;
use crate::model::schema::Table;

/// Calls `each` for every row of `table` (with the key column's value in `range` when given):
/// its columns in order (generated ones included),
/// then one 0/1 flag per orphan rule (see [`orphan_of`]). Stops at the first error `each`
/// returns.
pub fn for_each_row<E>(
    snapshot: &Snapshot,
    table: &Table,
    rules: &[OrphanRule],
    range: Option<(usize, (i64, i64))>,
    mut each: impl FnMut(&rusqlite::Row<'_>) -> Result<(), E>,
) -> Result<Result<u64, E>, SqliteError> {
    let conn = snapshot.reader()?;
    let path = snapshot.path();
    let what = || format!("read table {}", table.name);
    let mut sql = select_sql(table, rules);
    if let Some((column, (lo, hi))) = range {
        let key = quote_sqlite_ident(&table.columns[column].name);
        sql.push_str(&format!(" WHERE {key} BETWEEN {lo} AND {hi}"));
    }
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

/// `SELECT` of every column of `table`, then a flag per orphan rule: 1 when the row's
/// referencing columns are all non-NULL and no parent row matches (SQLite's own rule for a
/// foreign key; the comparison takes the parent column's affinity and collation, as
/// `foreign_key_check` does).
pub fn select_sql(table: &Table, rules: &[OrphanRule]) -> String {
    let name = quote_sqlite_ident(&table.name);
    let mut cols: Vec<String> = table
        .columns
        .iter()
        .map(|c| quote_sqlite_ident(&c.name))
        .collect();
    for rule in rules {
        let pairs: Vec<(String, String)> = rule
            .columns
            .iter()
            .zip(&rule.parent_columns)
            .map(|(&i, p)| {
                (
                    format!("{name}.{}", quote_sqlite_ident(&table.columns[i].name)),
                    format!("pgcarry_parent.{}", quote_sqlite_ident(p)),
                )
            })
            .collect();
        let present: Vec<String> = pairs
            .iter()
            .map(|(c, _)| format!("{c} IS NOT NULL"))
            .collect();
        let matched: Vec<String> = pairs.iter().map(|(c, p)| format!("{p} = {c}")).collect();
        cols.push(format!(
            "(CASE WHEN {} AND NOT EXISTS (SELECT 1 FROM {} AS pgcarry_parent WHERE {}) \
             THEN 1 ELSE 0 END)",
            present.join(" AND "),
            quote_sqlite_ident(&rule.parent_table),
            matched.join(" AND ")
        ));
    }
    format!("SELECT {} FROM {name}", cols.join(", "))
}

/// The first orphan rule `row` breaks, reading the flags that follow its `columns` values.
pub fn orphan_of<'r>(
    row: &rusqlite::Row<'_>,
    rules: &'r [OrphanRule],
    columns: usize,
) -> rusqlite::Result<Option<&'r OrphanRule>> {
    for (k, rule) in rules.iter().enumerate() {
        if row.get::<_, i64>(columns + k)? != 0 {
            return Ok(Some(rule));
        }
    }
    Ok(None)
}

/// Why an orphan row is rejected.
pub fn orphan_reason(rule: &OrphanRule) -> String {
    format!(
        "foreign key {} has no parent row (SQLite never checked it; --orphans {})",
        rule.foreign_key,
        if rule.null { "null" } else { "reject" }
    )
}
