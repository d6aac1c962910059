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
use crate::model::outcome::StepFailure;
use crate::model::plan::Plan;
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
pub mod ownership;
mod proof;
pub mod resume;
mod steps;
mod tables;
pub mod views;

use ddl::{DdlError, IfExists};
use postgres::Client;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
use steps::{LOCAL, count_rows, set_sequences};

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
    /// Existing tables pgcarry did not create that it may act on (`--adopt`).
    pub adopt: Vec<String>,
    /// `--cascade`: `--if-exists drop` also drops what depends on the tables.
    pub cascade: bool,
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
    let told = ddl::Existing {
        if_exists: opts.if_exists,
        adopt: &opts.adopt,
        cascade: opts.cascade,
    };
    let pre = ddl::preflight(&mut admin, plan, told, &fingerprint)?;
    report.dropped_with_cascade = pre.dropped.clone();
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
    let mut failed = Vec::new();
    failed.extend(views::create_views(&mut admin, plan));
    failed.extend(views::create_triggers(&mut admin, plan, &loaded_ok));
    set_sequences(&mut admin, plan, &loaded_ok, &mut report);
    progress.phase("analyze");
    report.analyze_seconds = run.analyze(&loaded_ok)?;
    let sequences = std::mem::take(&mut report.failed_steps);
    report.failed_steps = run.failures.into_inner().unwrap_or_default();
    report.failed_steps.extend(failed);
    report.failed_steps.extend(sequences);
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
