//! The source side of verification: the rows of the snapshot, encoded exactly as the load
//! encodes them, as binary COPY tuples ready to hash — without loading anything.
//!
//! A row whose value cannot be represented is skipped, as the load sends it to the rejects
//! file instead: the checksum covers the rows PostgreSQL should hold. [`encode_row`] is the
//! load's rule too (the load calls it), so `verify` long after a migration sees the same rows.

use crate::carry::encode::value;
use crate::checksum::{Checksum, KeyRange, TupleHasher};
use crate::model::plan::{OrphanRule, TablePlan};
use crate::model::schema::Table;
use crate::sqlite::{Snapshot, SqliteError, quote_sqlite_ident, read};
use rusqlite::types::ValueRef;

/// Appends the binary COPY tuple of `row` to `out`, or returns the column and the reason it
/// cannot be represented (then `out` is left as it was). On success, says which orphan rule
/// detached the row's foreign key (`--orphans null`), if one did, and leaves in `repaired`
/// the columns whose value an opt-in repair changed.
pub fn encode_row<'p>(
    row: &rusqlite::Row<'_>,
    tp: &'p TablePlan,
    out: &mut Vec<u8>,
    repaired: &mut Vec<(usize, value::Repaired)>,
) -> rusqlite::Result<Result<Option<&'p OrphanRule>, (usize, String)>> {
    repaired.clear();
    let start = out.len();
    let fields = i16::try_from(tp.columns.len()).unwrap_or(i16::MAX);
    out.extend_from_slice(&fields.to_be_bytes());
    let orphan = read::orphan_of(row, &tp.orphan_rules, tp.columns.len())?;
    if let Some((rule, cascaded)) = orphan.filter(|(r, _)| !r.null) {
        out.truncate(start);
        return Ok(Err((rule.columns[0], read::orphan_reason(rule, cascaded))));
    }
    let orphan = orphan.map(|(rule, _)| rule);
    for (i, c) in tp.columns.iter().enumerate() {
        let detached = orphan.is_some_and(|r| r.columns.contains(&i));
        let v = if detached {
            ValueRef::Null
        } else {
            row.get_ref(i)?
        };
        let refusal = if c.not_null && matches!(v, ValueRef::Null) {
            Some("NULL in a NOT NULL column".to_string())
        } else if let ValueRef::Text(t) = v
            && c.scan_checked
            && value::encode_scan_checked(&c.pg_type, t, out)
        {
            None
        } else {
            match value::encode_repaired(&c.pg_type, c.read_as, c.repair, v, out) {
                Ok(r) => {
                    if r != value::Repaired::default() {
                        repaired.push((i, r));
                    }
                    None
                }
                Err(r) => Some(r.0),
            }
        };
        if let Some(reason) = refusal {
            out.truncate(start);
            return Ok(Err((i, reason)));
        }
    }
    Ok(Ok(orphan))
}

/// Calls `each` with the tuple of every representable row of `source` (within `range` when
/// given); returns how many rows were skipped as unrepresentable.
pub fn for_each_tuple(
    snapshot: &Snapshot,
    source: &Table,
    tp: &TablePlan,
    range: Option<&KeyRange>,
    mut each: impl FnMut(&[u8]),
) -> Result<u64, SqliteError> {
    let conn = snapshot.reader()?;
    let path = snapshot.path();
    let what = || format!("read table {} to verify it", source.name);
    let mut sql = read::select_sql(source, &tp.orphan_rules);
    if let Some(r) = range {
        let key = quote_sqlite_ident(&source.columns[r.column].name);
        sql.push_str(&format!(" WHERE {key} BETWEEN {} AND {}", r.lo, r.hi));
    }
    let mut stmt = conn
        .prepare(&sql)
        .map_err(|e| SqliteError::query(path, what(), e))?;
    let mut rows = stmt
        .query([])
        .map_err(|e| SqliteError::query(path, what(), e))?;
    let mut tuple = Vec::with_capacity(4096);
    let mut skipped = 0u64;
    let mut repaired = Vec::new();
    while let Some(row) = rows
        .next()
        .map_err(|e| SqliteError::query(path, what(), e))?
    {
        tuple.clear();
        match encode_row(row, tp, &mut tuple, &mut repaired)
            .map_err(|e| SqliteError::query(path, what(), e))?
        {
            Ok(_) => each(&tuple),
            Err(_) => skipped += 1,
        }
    }
    Ok(skipped)
}

/// The checksum of the rows PostgreSQL should hold (within `range` when given), and the
/// number of rows skipped as unrepresentable (the load rejects them).
pub fn table_checksum(
    snapshot: &Snapshot,
    source: &Table,
    tp: &TablePlan,
    range: Option<&KeyRange>,
) -> Result<(Checksum, u64), SqliteError> {
    let mut hasher = TupleHasher::for_table(tp);
    let mut sum = Checksum::default();
    let skipped = for_each_tuple(snapshot, source, tp, range, |t| {
        // Tuples built by encode_row are well formed.
        if let Ok(h) = hasher.hash(t) {
            sum.add(h);
        }
    })?;
    Ok((sum, skipped))
}

/// The smallest and largest integer key, when the table has any row.
pub fn key_bounds(
    snapshot: &Snapshot,
    source: &Table,
    column: usize,
) -> Result<Option<(i64, i64)>, SqliteError> {
    let conn = snapshot.reader()?;
    let key = quote_sqlite_ident(&source.columns[column].name);
    let sql = format!(
        "SELECT min({key}), max({key}) FROM {} WHERE typeof({key}) = 'integer'",
        quote_sqlite_ident(&source.name)
    );
    conn.query_row(&sql, [], |r| {
        Ok(
            match (r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?) {
                (Some(a), Some(b)) => Some((a, b)),
                _ => None,
            },
        )
    })
    .map_err(|e| SqliteError::query(snapshot.path(), format!("read keys of {}", source.name), e))
}
