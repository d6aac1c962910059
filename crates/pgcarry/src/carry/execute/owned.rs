//! Rows owned by a root row, for `--if-exists upsert`: a table whose primary key starts with
//! its parent's key, parent by parent up to a root table (a JSON document's child tables; an
//! order's lines keyed by order and line number). Upserting such a table first deletes the
//! rows of every root row the source has, so that rows the source no longer has (an array
//! that shrank or emptied) do not linger; root rows the source lacks keep theirs.

use crate::carry::encode::value;
use crate::model::plan::{Plan, TablePlan};
use crate::model::schema::{SourceSchema, Table};
use crate::postgres::copy_in::CopyBuffer;
use crate::postgres::ident::{qualified, quote_ident};
use crate::sqlite::{Snapshot, read};

/// The root table a table's rows belong to, and the columns holding the root's key.
#[derive(Debug, Clone)]
pub struct Owner<'a> {
    pub root: &'a Table,
    pub root_plan: &'a TablePlan,
    /// The table's first primary-key columns (PostgreSQL names): the root row's key.
    pub prefix: Vec<String>,
}

/// The owner of `t`, when its key starts with its parent's, up to a root.
pub fn owner<'a>(
    model: &'a SourceSchema,
    plan: &'a Plan,
    t: &Table,
    tp: &TablePlan,
) -> Option<Owner<'a>> {
    let mut cur = model.tables.iter().find(|x| x.name == t.name)?;
    let mut depth = 0;
    while let Some(fk) = cur.foreign_keys.iter().find(|fk| {
        !fk.columns.is_empty()
            && fk.columns.len() < cur.primary_key.len()
            && cur.primary_key.starts_with(&fk.columns)
    }) {
        let parent = model.tables.iter().find(|p| p.name == fk.ref_table)?;
        if fk.ref_columns != parent.primary_key || depth > 32 {
            return None;
        }
        cur = parent;
        depth += 1;
    }
    if depth == 0 {
        return None;
    }
    let prefix = t.primary_key[..cur.primary_key.len()]
        .iter()
        .map(|k| {
            tp.columns
                .iter()
                .find(|c| &c.source_name == k)
                .map(|c| quote_ident(&c.name))
        })
        .collect::<Option<Vec<_>>>()?;
    let root_plan = plan.tables.iter().find(|x| x.source_name == cur.name)?;
    Some(Owner {
        root: cur,
        root_plan,
        prefix,
    })
}

/// Deletes the rows of `qname` owned by a root row the source has; returns how many.
pub fn delete_owned(
    tx: &mut postgres::Transaction<'_>,
    snapshot: &Snapshot,
    schema: &str,
    qname: &str,
    owner: &Owner<'_>,
) -> Result<u64, String> {
    let keys: Vec<(usize, &crate::model::plan::ColumnPlan)> = owner
        .root
        .primary_key
        .iter()
        .filter_map(|k| {
            let i = owner.root.columns.iter().position(|c| &c.name == k)?;
            let c = owner
                .root_plan
                .columns
                .iter()
                .find(|c| &c.source_name == k)?;
            Some((i, c))
        })
        .collect();
    let fields = i16::try_from(keys.len()).map_err(|e| e.to_string())?;
    let cols: Vec<String> = keys.iter().map(|(_, c)| quote_ident(&c.name)).collect();
    let cols = cols.join(", ");
    let pg = |e: postgres::Error| crate::postgres::error::describe_pg_error(&e);
    tx.batch_execute(&format!(
        "CREATE TEMP TABLE pgcarry_owners ON COMMIT DROP AS SELECT {cols} FROM {} WITH NO DATA",
        qualified(schema, &owner.root_plan.name)
    ))
    .map_err(pg)?;
    let mut w = tx
        .copy_in(&format!(
            "COPY pgcarry_owners ({cols}) FROM STDIN (FORMAT binary)"
        ))
        .map_err(pg)?;
    let mut buf = CopyBuffer::new();
    let read = read::for_each_row(snapshot, owner.root, &[], None, |row| {
        buf.begin_row(fields);
        for (i, c) in &keys {
            let v = row.get_ref(*i).map_err(|e| e.to_string())?;
            // A key that cannot be encoded was rejected with its row: it owns nothing here.
            if value::encode_as(&c.pg_type, c.read_as, v, buf.out()).is_err() {
                buf.rollback_row();
                return Ok(());
            }
        }
        buf.maybe_flush(&mut w).map_err(|e| e.to_string())
    })
    .map_err(|e| e.to_string())?;
    read?;
    buf.finish(&mut w).map_err(|e| e.to_string())?;
    w.finish().map_err(pg)?;
    tx.execute(
        &format!(
            "DELETE FROM {qname} WHERE ({}) IN (SELECT {cols} FROM pgcarry_owners)",
            owner.prefix.join(", ")
        ),
        &[],
    )
    .map_err(pg)
}
