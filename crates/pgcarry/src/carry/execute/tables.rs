//! The load phase of a run: every table not loaded by an earlier run of the plan, in the
//! plan's order, on `jobs` connections of the worker pool, each retried on a new connection
//! when the old one was lost; each table's keys and indexes follow on its connection as soon
//! as it is loaded. What each table's load did goes into its report.

use super::{LOCAL, MigrateError, Run, load, owned, parallel, reconnect};
use crate::checksum::Checksum;
use crate::model::outcome::TableReport;
use crate::model::plan::IfExists;
use crate::work::retry::{Kind, Policy, retry};
use postgres::Client;
use std::sync::atomic::Ordering;

/// Loads retried after a lost connection, per table.
const MAX_RETRIES: u32 = 5;

/// What the load phase leaves: per table its report, whether it is loaded, and the checksum
/// of its rows as sent (when the whole table was sent by this run).
pub(super) type Loads = (Vec<TableReport>, Vec<bool>, Vec<Option<Checksum>>);

impl Run<'_> {
    /// Loads every table not loaded by an earlier run, in the plan's order, on `jobs`
    /// connections; each table's keys and indexes follow on its connection.
    pub(super) fn load_all(&self) -> Result<Loads, MigrateError> {
        let plan = self.plan;
        let done_before = &self.pre.already_loaded;
        let order: Vec<usize> = plan
            .load_order
            .iter()
            .copied()
            .filter(|&i| !done_before.contains_key(&plan.tables[i].name))
            .collect();
        let loads = parallel(order.len(), self.opts.jobs, self.connect, &|k, client| {
            let i = order[k];
            let r = self.load_one(i, client);
            if r.is_ok() {
                self.run_steps(i, client, &LOCAL);
                self.indexed[i].store(true, Ordering::SeqCst);
            }
            r
        })?;
        let mut out: Loads = (
            plan.tables
                .iter()
                .map(|t| TableReport {
                    name: t.name.clone(),
                    source_rows: t.rows,
                    ..Default::default()
                })
                .collect(),
            vec![false; plan.tables.len()],
            vec![None; plan.tables.len()],
        );
        self.kept_from_before(&mut out);
        for (k, r) in loads.into_iter().enumerate() {
            record_load(&mut out, order[k], r);
        }
        Ok(out)
    }

    /// The tables an earlier run of this plan loaded: reported as it recorded them.
    fn kept_from_before(&self, (tables, loaded_ok, _): &mut Loads) {
        let done_before = &self.pre.already_loaded;
        for (i, tp) in self.plan.tables.iter().enumerate() {
            if let Some(s) = done_before.get(&tp.name) {
                let t = &mut tables[i];
                t.source_rows = s.rows_read;
                t.rows_written = s.rows_written;
                t.rows_rejected = s.rows_rejected;
                t.bytes = s.bytes;
                t.repaired = s.repaired.clone();
                loaded_ok[i] = true;
            }
        }
        if !done_before.is_empty() {
            let mut names: Vec<&str> = done_before.keys().map(String::as_str).collect();
            names.sort_unstable();
            self.progress.message(&format!(
                "resuming: {} table(s) were loaded by an earlier run of this plan and are kept: {}",
                names.len(),
                names.join(", ")
            ));
        }
    }

    /// How table `i` loads: created, into the existing table, or upserted into it.
    fn load_into(&self, i: usize) -> load::LoadInto<'_> {
        let tp = &self.plan.tables[i];
        let (truncated, partial) = (&self.pre.truncated, &self.pre.partial);
        if partial.contains(&tp.name) {
            // A table an earlier run loaded in part exists: its next key ranges go into it.
            return load::LoadInto::Existing;
        }
        if !truncated.contains(&tp.name) {
            return load::LoadInto::Create {
                source: &self.plan.source,
            };
        }
        match self.opts.if_exists {
            IfExists::Upsert => load::LoadInto::Upsert(
                tp.load
                    .upsert
                    .as_ref()
                    .and_then(|u| u.owned.as_ref())
                    .and_then(|o| owned::Owner::find(self.model, self.plan, o)),
            ),
            _ => load::LoadInto::Existing,
        }
    }

    /// Loads table `i`. A lost connection rolled the table's transaction back: reconnect
    /// (backing off) and load it again. Anything else is final, and so is a server that stays
    /// away.
    fn load_one(&self, i: usize, client: &mut Client) -> Result<load::Loaded, load::LoadError> {
        let tp = &self.plan.tables[i];
        let source = self
            .model
            .tables
            .iter()
            .find(|t| t.name == tp.source_name)
            .expect("plan tables come from the schema");
        let into = self.load_into(i);
        let progress = self.progress;
        let gone = std::cell::Cell::new(false);
        retry(
            Policy::tries(MAX_RETRIES + 1).starting_at(1),
            |n| {
                if n > 1 {
                    *client = reconnect(self.connect, &format!("table {}", tp.name), progress)
                        .map_err(|message| {
                            gone.set(true);
                            load::LoadError::Connection {
                                table: tp.name.clone(),
                                message,
                            }
                        })?;
                }
                load::load_table(
                    client,
                    self.snapshot,
                    source,
                    tp,
                    &self.plan.schema,
                    into.clone(),
                    &self.fingerprint,
                    &self.rejects,
                    progress,
                    self.opts.verify,
                )
            },
            |e| match e {
                load::LoadError::Connection { .. } if !gone.get() => Kind::Transient,
                _ => Kind::Permanent,
            },
            |n, e, delay| {
                if let load::LoadError::Connection { message, .. } = e {
                    progress.message(&format!(
                        "table {}: connection lost ({message}); retry {n} of {MAX_RETRIES} in {:.1} s",
                        tp.name,
                        delay.as_secs_f64()
                    ));
                }
            },
        )
    }
}

/// Puts one table's load outcome into the report.
fn record_load(
    (tables, loaded_ok, source_sums): &mut Loads,
    i: usize,
    r: Option<Result<load::Loaded, load::LoadError>>,
) {
    match r {
        Some(Ok(l)) => {
            let t = &mut tables[i];
            t.source_rows = l.rows_read;
            t.rows_written = l.rows_written;
            t.rows_rejected = l.rows_rejected;
            t.bytes = l.bytes;
            t.seconds = l.seconds;
            t.repaired = l.repaired;
            // A table resumed in the middle: only the source can give its whole checksum.
            source_sums[i] = (!l.checksum_partial).then_some(l.checksum);
            loaded_ok[i] = true;
        }
        Some(Err(e)) => tables[i].error = Some(format!("{e:#}")),
        None => {
            tables[i].error = Some(
                "not loaded: a loading thread stopped unexpectedly (a bug in pgcarry; \
                 please report it)"
                    .into(),
            )
        }
    }
}
