//! After the load: the plan's post-load steps (keys, indexes, checks, defaults, full-text
//! search, then foreign keys) on `jobs` connections, its sequence steps, and, under
//! `--no-verify`, the row counts that stand in for verification. A step the server refuses is
//! recorded with its error; the run goes on.

use super::{MigrateError, Run, ddl, parallel, reconnect};
use crate::model::outcome::{SequenceReport, StepFailure, TableReport};
use crate::model::plan::{Plan, StepKind};
use crate::report::Report;
use postgres::Client;
use std::sync::atomic::Ordering;

/// Post-load steps that belong to one table, run on its connection as soon as it is loaded.
pub(super) const LOCAL: [StepKind; 6] = [
    StepKind::PrimaryKey,
    StepKind::Unique,
    StepKind::Index,
    StepKind::Check,
    StepKind::Default,
    StepKind::Search,
];

impl Run<'_> {
    /// Runs the post-load steps of table `i` of the given kinds, on `client`; failures are
    /// kept for the report.
    pub(super) fn run_steps(&self, i: usize, client: &mut Client, kinds: &[StepKind]) {
        let tp = &self.plan.tables[i];
        let pre = &self.pre;
        // Keys, indexes, checks and defaults run as soon as the table is loaded, on the same
        // connection; foreign keys wait for every table.
        let may_exist =
            pre.truncated.contains(&tp.name) || pre.already_loaded.contains_key(&tp.name);
        let steps = tp
            .post_load
            .iter()
            .chain(&tp.foreign_keys)
            .filter(|s| kinds.contains(&s.kind));
        for step in steps {
            let mut result = ddl::run_step(client, &self.plan.schema, &tp.name, step, may_exist);
            // A lost connection: reconnect and try once more (a step is one statement, so it
            // either happened or did not; an existing object is then skipped).
            if result.is_err()
                && client.is_closed()
                && let Ok(c) = reconnect(self.connect, &format!("table {}", tp.name), self.progress)
            {
                *client = c;
                result = ddl::run_step(client, &self.plan.schema, &tp.name, step, true);
            }
            if let Err(error) = result
                && let Ok(mut f) = self.failures.lock()
            {
                f.push(StepFailure {
                    table: tp.name.clone(),
                    kind: step.kind,
                    name: step.name.clone(),
                    sql: step.sql.clone(),
                    error,
                });
            }
        }
    }

    /// Keys, indexes, checks and defaults of the tables not done during the load, then
    /// foreign keys: for every loaded table, resumed ones included (a run killed during this
    /// phase left them loaded but without all their keys, and a step that exists is skipped).
    pub(super) fn constraints(&self, loaded_ok: &[bool]) -> Result<(), MigrateError> {
        let all: Vec<usize> = self
            .plan
            .load_order
            .iter()
            .copied()
            .filter(|&i| loaded_ok[i])
            .collect();
        let rest: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| !self.indexed[i].load(Ordering::SeqCst))
            .collect();
        let (jobs, connect) = (self.opts.jobs, self.connect);
        parallel(rest.len(), jobs, connect, &|k, client| {
            self.run_steps(rest[k], client, &LOCAL)
        })?;
        parallel(all.len(), jobs, connect, &|k, client| {
            self.run_steps(all[k], client, &[StepKind::ForeignKey])
        })?;
        Ok(())
    }
}

/// Runs the plan's sequence step of every loaded table with an identity.
pub(super) fn set_sequences(
    admin: &mut Client,
    plan: &Plan,
    loaded_ok: &[bool],
    report: &mut Report,
) {
    for (i, tp) in plan.tables.iter().enumerate() {
        let (Some(id), Some(step)) = (&tp.identity, &tp.sequence) else {
            continue;
        };
        if !loaded_ok[i] {
            continue;
        }
        match ddl::set_identity(admin, &tp.name, &id.column, step) {
            Ok(next) => report.sequences.push(SequenceReport {
                table: tp.name.clone(),
                column: id.column.clone(),
                next_value: next,
            }),
            Err(error) => report.failed_steps.push(StepFailure {
                table: tp.name.clone(),
                kind: step.kind,
                name: step.name.clone(),
                sql: step.sql.clone(),
                error,
            }),
        }
    }
}

/// Runs the plan's `ANALYZE` of every loaded table on `jobs` connections, so the
/// application's first queries get plans from real statistics; returns how long it took.
/// A refused `ANALYZE` is a failed step.
impl Run<'_> {
    pub(super) fn analyze(&self, loaded_ok: &[bool]) -> Result<f64, MigrateError> {
        let started = std::time::Instant::now();
        let todo: Vec<usize> = self
            .plan
            .load_order
            .iter()
            .copied()
            .filter(|&i| loaded_ok[i] && self.plan.tables[i].analyze.is_some())
            .collect();
        parallel(todo.len(), self.opts.jobs, self.connect, &|k, client| {
            let tp = &self.plan.tables[todo[k]];
            let Some(step) = &tp.analyze else { return };
            if let Err(e) = client.batch_execute(&step.sql)
                && let Ok(mut f) = self.failures.lock()
            {
                f.push(StepFailure {
                    table: tp.name.clone(),
                    kind: step.kind,
                    name: step.name.clone(),
                    sql: step.sql.clone(),
                    error: crate::postgres::error::describe_pg_error(&e),
                });
            }
        })?;
        Ok(started.elapsed().as_secs_f64())
    }
}

/// Without verification, row counts are the only check (with it, the checksums count the
/// rows of both sides already, and counting again would read every table twice).
pub(super) fn count_rows(
    admin: &mut Client,
    plan: &Plan,
    loaded_ok: &[bool],
    tables: &mut [TableReport],
) {
    for (i, tp) in plan.tables.iter().enumerate() {
        if !loaded_ok[i] {
            continue;
        }
        match ddl::count_rows(admin, &plan.schema, &tp.name) {
            Ok(n) => tables[i].judge_count(n),
            Err(e) => tables[i].error = Some(format!("could not count rows: {e}")),
        }
    }
}
