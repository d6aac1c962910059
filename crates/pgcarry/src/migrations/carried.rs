//! Records carried by `pgcarry migrate`: a SQLite file's `pgcarry_schema_migrations` (when it
//! has exactly the columns `schema` creates) becomes records in `pgcarry.schema_migrations`,
//! marked `baseline` (recorded, never run on PostgreSQL: `pgcarry migrate` created what they
//! created). Records the target already has with the same checksum are left alone; one with
//! another checksum refuses the run before anything is written.

use super::SchemaError;
pub use super::engine::Record;
use super::engine::{Engine, State, now};
use super::pg::{Pg, TABLE};
use crate::postgres::conn::ConnSettings;
use crate::work::progress::Progress;
use std::time::Duration;

/// The finished records of a SQLite source; `None` when it has no record table of ours.
/// Refuses (`Refused`) an unfinished (no-transaction, `started`) record.
pub fn source_records(conn: &rusqlite::Connection) -> Result<Option<Vec<Record>>, SchemaError> {
    let Some(records) = super::lite::own_records(conn).map_err(SchemaError::Failed)? else {
        return Ok(None);
    };
    if let Some(r) = records.iter().find(|r| r.state == State::Started) {
        return Err(SchemaError::Refused(format!(
            "the source's {} records migration {} ({}) as unfinished (it runs without a \
             transaction and did not finish); nothing was written. Settle it in the SQLite file \
             first with `pgcarry schema repair --unfinished applied|rerun --db sqlite:FILE`",
            super::lite::TABLE,
            r.version,
            r.name
        )));
    }
    Ok(Some(records))
}

/// The target's records table, locked as `schema up` locks it, checked against `records`:
/// held until [`Carry::write`].
pub struct Carry {
    pg: Pg,
    records: Vec<Record>,
}

/// Takes the lock on `pgcarry.schema_migrations` in `target` (waiting up to `wait`) and
/// refuses when a record there has a version of `records` with another checksum.
pub fn check(
    target: &ConnSettings,
    records: Vec<Record>,
    wait: Duration,
    progress: &dyn Progress,
) -> Result<Carry, SchemaError> {
    let mut pg = Pg::write(target, wait, progress)?;
    let existing = pg
        .records()
        .map_err(SchemaError::Failed)?
        .unwrap_or_default();
    let disagree: Vec<String> = records
        .iter()
        .filter_map(|r| {
            let there = existing.iter().find(|e| e.version == r.version)?;
            (there.checksum != r.checksum || there.state == State::Started).then(|| {
                format!(
                    "  {} {}: the source's checksum {}, {TABLE}'s {} ({})",
                    r.version,
                    r.name,
                    r.checksum,
                    there.checksum,
                    there.state.as_str()
                )
            })
        })
        .collect();
    if !disagree.is_empty() {
        return Err(SchemaError::Refused(format!(
            "the target's {TABLE} records migrations that disagree with the source's; nothing \
             was written:\n{}\nSettle them first (`pgcarry schema status --db TARGET`, \
             `pgcarry schema repair`), or migrate into another database",
            disagree.join("\n")
        )));
    }
    Ok(Carry { pg, records })
}

impl Carry {
    /// Writes the records the target lacks in one transaction; returns how many.
    pub fn write(mut self) -> Result<usize, SchemaError> {
        let fail = |e: String| SchemaError::Failed(format!("could not write {TABLE}: {e}"));
        self.pg.ensure_records().map_err(fail)?;
        let existing = self.pg.records().map_err(fail)?.unwrap_or_default();
        let new: Vec<&Record> = self
            .records
            .iter()
            .filter(|r| !existing.iter().any(|e| e.version == r.version))
            .collect();
        self.pg.begin().map_err(fail)?;
        for r in &new {
            let carried = Record {
                applied_at: now(),
                duration_ms: 0,
                baseline: true,
                ..(*r).clone()
            };
            if let Err(e) = self.pg.write_record(&carried) {
                self.pg.rollback();
                return Err(fail(e));
            }
        }
        self.pg.commit().map_err(fail)?;
        Ok(new.len())
    }
}
