//! The executor: runs a [`Plan`] against PostgreSQL. It decides nothing and composes no SQL:
//! it runs the plan's statements in the plan's order (create and load the tables, the
//! post-load steps, foreign keys, views, sequences), records what happened, and hands the
//! result to verification.
//!
//! Tables load in parallel (`jobs` connections), each in its own transaction that creates it
//! (or in key ranges, each committed with its resume state), so a table is never half-loaded
//! looking done. A table's keys and indexes are built on its connection as soon as it is
//! loaded, while others still load; foreign keys come last, once every table is there.

use crate::carry::rejects::RejectSink;
use crate::checksum::Checksum;
use crate::model::outcome::{SequenceReport, StepFailure, TableReport};
use crate::model::plan::{Plan, StepKind};
use crate::model::schema::SourceSchema;
use crate::postgres::conn::Connect;
use crate::report::Report;
use crate::sqlite::Snapshot;
use crate::work::pool;
use crate::work::progress::Progress;
use crate::work::retry::{Kind, Policy, retry};

pub mod ddl;
pub mod load;
pub mod owned;
pub mod resume;
pub mod views;

use ddl::{DdlError, IfExists};
use postgres::Client;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Loads retried after a lost connection, per table.
const MAX_RETRIES: u32 = 5;
/// How long a lost connection is tried again before giving up: a restarting server is usually
/// back within seconds.
const RECONNECT_FOR: Duration = Duration::from_secs(60);

pub struct MigrateOptions {
    pub jobs: usize,
    pub if_exists: IfExists,
    pub rejects: PathBuf,
    /// The target, password redacted, for the report.
    pub target: String,
    /// Verify content, keys and sequences after the load (`--no-verify` turns it off).
    pub verify: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("cannot connect to the target: {0}")]
    Connect(String),
    #[error(transparent)]
    Ddl(#[from] DdlError),
    #[error("could not write the rejects file {path}")]
    Rejects {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Runs `work(i, client)` for every index below `n` on `jobs` threads of the worker pool,
/// each with its own connection; items are taken in the order given. A thread whose connection
/// fails leaves its items to the others; the run fails only when no thread could connect.
fn parallel<T: Send>(
    n: usize,
    jobs: usize,
    connect: Connect<'_>,
    work: &(dyn Fn(usize, &mut Client) -> T + Sync),
) -> Result<Vec<Option<T>>, MigrateError> {
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let start = || match connect() {
        Ok(c) => Some(c),
        Err(e) => {
            errors.lock().map(|mut v| v.push(e)).ok();
            None
        }
    };
    let results = pool::run(n, jobs, &start, work);
    let errors = errors.into_inner().unwrap_or_default();
    if results.iter().any(Option::is_none)
        && let Some(e) = errors.into_iter().next()
    {
        return Err(MigrateError::Connect(e));
    }
    Ok(results)
}

/// Opens a new connection after one was lost, backing off with jitter while the server refuses
/// connections (restarting, starting up) for at most [`RECONNECT_FOR`].
fn reconnect(connect: Connect<'_>, what: &str, progress: &dyn Progress) -> Result<Client, String> {
    retry(
        Policy::within(RECONNECT_FOR),
        |_| connect(),
        |_| Kind::Transient,
        |_, e, delay| {
            progress.message(&format!(
                "{what}: cannot reconnect yet ({e}); next attempt in {:.1} s",
                delay.as_secs_f64()
            ));
        },
    )
    .map_err(|e| {
        format!(
            "could not reconnect within {} s: {e}",
            RECONNECT_FOR.as_secs()
        )
    })
}

/// Post-load steps that belong to one table, run on its connection as soon as it is loaded.
const LOCAL: [StepKind; 6] = [
    StepKind::PrimaryKey,
    StepKind::Unique,
    StepKind::Index,
    StepKind::Check,
    StepKind::Default,
    StepKind::Search,
];

/// One run of the plan: what every phase reads, and what the phases leave for the next.
struct Run<'a> {
    plan: &'a Plan,
    model: &'a SourceSchema,
    snapshot: &'a Snapshot,
    connect: Connect<'a>,
    opts: &'a MigrateOptions,
    progress: &'a dyn Progress,
    fingerprint: String,
    pre: ddl::Preflight,
    rejects: RejectSink,
    /// Post-load steps the server refused.
    failures: Mutex<Vec<StepFailure>>,
    /// Per table: its keys and indexes were built during the load.
    indexed: Vec<AtomicBool>,
}

/// Executes the plan. Errors are for what stops the run before any table is written; table
/// failures, rejected rows and failed steps are in the report.
pub fn migrate(
    plan: &Plan,
    schema_model: &SourceSchema,
    snapshot: &Snapshot,
    connect: Connect<'_>,
    opts: &MigrateOptions,
    progress: &dyn Progress,
) -> Result<Report, MigrateError> {
    let started = Instant::now();
    let mut report = Report::new(plan, opts.target.clone());
    let mut admin = connect().map_err(MigrateError::Connect)?;
    let fingerprint = resume::fingerprint(plan);
    let pre = ddl::preflight(&mut admin, plan, opts.if_exists, &fingerprint)?;
    let resumed = !pre.already_loaded.is_empty() || !pre.partial.is_empty();
    let run = Run {
        plan,
        model: schema_model,
        snapshot,
        connect,
        opts,
        progress,
        fingerprint,
        pre,
        rejects: RejectSink::new(&opts.rejects, resumed),
        failures: Mutex::new(Vec::new()),
        indexed: plan.tables.iter().map(|_| AtomicBool::new(false)).collect(),
    };
    progress.phase("load");
    let (mut tables, loaded_ok, source_sums) = run.load_all()?;
    let wrote_rejects = run.rejects.finish().map_err(|e| MigrateError::Rejects {
        path: opts.rejects.clone(),
        source: e,
    })?;
    if wrote_rejects {
        report.rejects_file = Some(opts.rejects.display().to_string());
    }
    // The connection opened before the load sat idle through it: if the server restarted
    // meanwhile it is gone, so the steps below get a new one.
    admin = reconnect(connect, "target", progress).map_err(MigrateError::Connect)?;
    progress.phase("constraints");
    run.constraints(&loaded_ok)?;
    report.failed_steps = run.failures.into_inner().unwrap_or_default();
    report
        .failed_steps
        .extend(views::create_views(&mut admin, plan));
    set_sequences(&mut admin, plan, &loaded_ok, &mut report);
    progress.phase("verify");
    if !opts.verify {
        count_rows(&mut admin, plan, &loaded_ok, &mut tables);
    }
    report.tables = tables;
    crate::carry::verify::after_load(
        &mut report,
        &crate::carry::verify::Inputs {
            plan,
            model: schema_model,
            snapshot,
            connect,
            jobs: opts.jobs,
        },
        opts.verify.then_some((&loaded_ok[..], &source_sums[..])),
        progress,
    );
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// What the load phase leaves: per table its report, whether it is loaded, and the checksum
/// of its rows as sent (when the whole table was sent by this run).
type Loads = (Vec<TableReport>, Vec<bool>, Vec<Option<Checksum>>);

impl Run<'_> {
    /// Loads every table not loaded by an earlier run, in the plan's order, on `jobs`
    /// connections; each table's keys and indexes follow on its connection.
    fn load_all(&self) -> Result<Loads, MigrateError> {
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
            return load::LoadInto::Create;
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

    /// Runs the post-load steps of table `i` of the given kinds, on `client`; failures are
    /// kept for the report.
    fn run_steps(&self, i: usize, client: &mut Client, kinds: &[StepKind]) {
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
    fn constraints(&self, loaded_ok: &[bool]) -> Result<(), MigrateError> {
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

/// Runs the plan's sequence step of every loaded table with an identity.
fn set_sequences(admin: &mut Client, plan: &Plan, loaded_ok: &[bool], report: &mut Report) {
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

/// Without verification, row counts are the only check (with it, the checksums count the
/// rows of both sides already, and counting again would read every table twice).
fn count_rows(admin: &mut Client, plan: &Plan, loaded_ok: &[bool], tables: &mut [TableReport]) {
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
