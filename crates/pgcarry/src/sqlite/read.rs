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
/// `foreign_key_check` does); 2 when parent rows match but each is rejected itself (the
/// cascade, see [`OrphanRule::parent_rejects`]); 0 otherwise.
pub fn select_sql(table: &Table, rules: &[OrphanRule]) -> String {
    let name = quote_sqlite_ident(&table.name);
    let mut cols: Vec<String> = table
        .columns
        .iter()
        .map(|c| quote_sqlite_ident(&c.name))
        .collect();
    for rule in rules {
        let refs: Vec<String> = rule
            .columns
            .iter()
            .map(|&i| format!("{name}.{}", quote_sqlite_ident(&table.columns[i].name)))
            .collect();
        let present = present(&refs);
        let direct = parent_exists(rule, &refs, 0, false);
        if rule.parent_rejects.is_empty() {
            cols.push(format!(
                "(CASE WHEN {present} AND NOT {direct} THEN 1 ELSE 0 END)"
            ));
        } else {
            // A kept parent is a parent: one lookup for the row that has one, the common case.
            let kept = parent_exists(rule, &refs, 0, true);
            cols.push(format!(
                "(CASE WHEN {present} AND NOT {kept} THEN (CASE WHEN {direct} THEN 2 ELSE 1 END) \
                 ELSE 0 END)"
            ));
        }
    }
    format!("SELECT {} FROM {name}", cols.join(", "))
}

/// Every referencing column is non-NULL.
fn present(refs: &[String]) -> String {
    let all: Vec<String> = refs.iter().map(|c| format!("{c} IS NOT NULL")).collect();
    format!("({})", all.join(" AND "))
}

/// `EXISTS` a parent row of `rule` matching `refs` (the child row's referencing columns,
/// qualified); with `kept`, one that the parent's own rejecting rules keep too.
fn parent_exists(rule: &OrphanRule, refs: &[String], depth: usize, kept: bool) -> String {
    let alias = format!("pgcarry_parent{depth}");
    let mut cond: Vec<String> = rule
        .parent_columns
        .iter()
        .zip(refs)
        .map(|(p, c)| format!("{alias}.{} = {c}", quote_sqlite_ident(p)))
        .collect();
    if kept {
        for inner in &rule.parent_rejects {
            let inner_refs: Vec<String> = inner
                .column_names
                .iter()
                .map(|c| format!("{alias}.{}", quote_sqlite_ident(c)))
                .collect();
            let exists = parent_exists(inner, &inner_refs, depth + 1, true);
            cond.push(format!("NOT ({} AND NOT {exists})", present(&inner_refs)));
        }
    }
    format!(
        "EXISTS (SELECT 1 FROM {} AS {alias} WHERE {})",
        quote_sqlite_ident(&rule.parent_table),
        cond.join(" AND ")
    )
}

/// The first orphan rule `row` breaks, reading the flags that follow its `columns` values.
/// With the rule, whether its parent rows exist but are all rejected (the cascade).
pub fn orphan_of<'r>(
    row: &rusqlite::Row<'_>,
    rules: &'r [OrphanRule],
    columns: usize,
) -> rusqlite::Result<Option<(&'r OrphanRule, bool)>> {
    for (k, rule) in rules.iter().enumerate() {
        match row.get::<_, i64>(columns + k)? {
            0 => {}
            flag => return Ok(Some((rule, flag == 2))),
        }
    }
    Ok(None)
}

/// Why an orphan row is rejected; `cascaded`: its parent row exists but is rejected itself.
pub fn orphan_reason(rule: &OrphanRule, cascaded: bool) -> String {
    let policy = if rule.null { "null" } else { "reject" };
    if cascaded {
        format!(
            "foreign key {}: its parent row is rejected itself, so it has no parent in \
             PostgreSQL (--orphans {policy})",
            rule.foreign_key
        )
    } else {
        format!(
            "foreign key {} has no parent row (SQLite never checked it; --orphans {policy})",
            rule.foreign_key
        )
    }
}
