//! Rows owned by a root row, for `--if-exists upsert`: before a table whose primary key starts
//! with its root's key is upserted, the rows of every root row the source has are deleted, so
//! that rows the source no longer has (an array that shrank or emptied) do not linger; root
//! rows the source lacks keep theirs.
//!
//! The planner found the root and wrote the statements ([`OwnedSql`]); this runs them, streaming
//! the root's keys from the source into the temporary table they read.

use crate::carry::encode::value;
use crate::model::plan::{ColumnPlan, OwnedSql, Plan};
use crate::model::schema::{SourceSchema, Table};
use crate::postgres::copy_in::CopyBuffer;
use crate::sqlite::{Snapshot, read};

/// The root table of an owned table, its key columns, and the plan's statements.
#[derive(Debug, Clone)]
pub struct Owner<'a> {
    root: &'a Table,
    /// Each key column: its index in the root's source columns, and its plan.
    keys: Vec<(usize, &'a ColumnPlan)>,
    sql: &'a OwnedSql,
}

impl<'a> Owner<'a> {
    /// Finds the root the plan names in the schema model and in the plan.
    pub fn find(model: &'a SourceSchema, plan: &'a Plan, sql: &'a OwnedSql) -> Option<Owner<'a>> {
        let root = model.tables.iter().find(|t| t.name == sql.root)?;
        let root_plan = plan.tables.iter().find(|t| t.source_name == sql.root)?;
        let keys = sql
            .root_key
            .iter()
            .map(|k| {
                let i = root.columns.iter().position(|c| &c.name == k)?;
                let c = root_plan.columns.iter().find(|c| &c.source_name == k)?;
                Some((i, c))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Owner { root, keys, sql })
    }
}

/// Deletes the rows owned by a root row the source has; returns how many.
pub fn delete_owned(
    tx: &mut postgres::Transaction<'_>,
    snapshot: &Snapshot,
    owner: &Owner<'_>,
) -> Result<u64, String> {
    let fields = i16::try_from(owner.keys.len()).map_err(|e| e.to_string())?;
    let pg = |e: postgres::Error| crate::postgres::error::describe_pg_error(&e);
    tx.batch_execute(&owner.sql.temp_table).map_err(pg)?;
    let mut w = tx.copy_in(&owner.sql.copy).map_err(pg)?;
    let mut buf = CopyBuffer::new();
    let read = read::for_each_row(snapshot, owner.root, &[], None, |row| {
        buf.begin_row(fields);
        for (i, c) in &owner.keys {
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
    tx.execute(owner.sql.delete.as_str(), &[]).map_err(pg)
}
