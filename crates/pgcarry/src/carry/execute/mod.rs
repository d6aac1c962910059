//! The executor: runs a [`Plan`] against PostgreSQL. It decides nothing: it creates and loads
//! the tables, runs the plan's post-load steps, sets sequences and checks the result.
//!
//! Tables load in parallel (`jobs` connections), each in its own transaction that creates it
//! (or in key ranges, each committed with its resume state), so a table is never half-loaded
//! looking done. A table's keys and indexes are built on its connection as soon as it is
//! loaded, while others still load; foreign keys come last, once every table is there.

use crate::carry::rejects::RejectSink;
use crate::model::outcome::{SequenceReport, StepFailure, TableReport};
use crate::model::plan::{Plan, StepKind};
use crate::model::schema::SourceSchema;
use crate::postgres::conn::Connect;
use crate::postgres::error::describe_pg_error;
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
    let truncated = pre.truncated;
    let done_before = pre.already_loaded;
    let partial = pre.partial;
    let rejects = RejectSink::new(
        &opts.rejects,
        !done_before.is_empty() || !partial.is_empty(),
    );

    // Keys, indexes, checks and defaults of a table run as soon as it is loaded, on the same
    // connection, while other tables still load; foreign keys wait for every table.
    let failures: Mutex<Vec<StepFailure>> = Mutex::new(Vec::new());
    let may_exist = !truncated.is_empty() || !done_before.is_empty();
    let run_steps = |i: usize, client: &mut Client, kinds: &[StepKind]| {
        let tp = &plan.tables[i];
        let steps = tp
            .post_load
            .iter()
            .chain(&tp.foreign_keys)
            .filter(|s| kinds.contains(&s.kind));
        for step in steps {
            let exists_ok =
                may_exist && (truncated.contains(&tp.name) || done_before.contains_key(&tp.name));
            let mut result = ddl::run_step(client, &plan.schema, &tp.name, step, exists_ok);
            // A lost connection: reconnect and try once more (a step is one statement, so it
            // either happened or did not; an existing object is then skipped).
            if result.is_err()
                && client.is_closed()
                && let Ok(c) = reconnect(connect, &format!("table {}", tp.name), progress)
            {
                *client = c;
                result = ddl::run_step(client, &plan.schema, &tp.name, step, true);
            }
            if let Err(error) = result
                && let Ok(mut f) = failures.lock()
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
    };
    let local = [
        StepKind::PrimaryKey,
        StepKind::Unique,
        StepKind::Index,
        StepKind::Check,
        StepKind::Default,
        StepKind::Search,
    ];
    let indexed: Vec<AtomicBool> = (0..plan.tables.len())
        .map(|_| AtomicBool::new(false))
        .collect();

    // Largest tables first, so the last one to finish is a small one.
    let mut order: Vec<usize> = (0..plan.tables.len())
        .filter(|&i| !done_before.contains_key(&plan.tables[i].name))
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(plan.tables[i].rows));
    progress.phase("load");
    let loads = parallel(order.len(), opts.jobs, connect, &|k, client| {
        let i = order[k];
        let tp = &plan.tables[i];
        let source = schema_model
            .tables
            .iter()
            .find(|t| t.name == tp.source_name)
            .expect("plan tables come from the schema");
        // A table an earlier run loaded in part exists: its next key ranges go into it.
        let into = match (
            truncated.contains(&tp.name) || partial.contains(&tp.name),
            opts.if_exists,
        ) {
            (false, _) => load::LoadInto::Create,
            (true, _) if partial.contains(&tp.name) => load::LoadInto::Existing,
            (true, IfExists::Upsert) => load::LoadInto::Upsert(
                crate::carry::execute::owned::owner(schema_model, plan, source, tp),
            ),
            (true, _) => load::LoadInto::Existing,
        };
        // A lost connection rolled the table's transaction back: reconnect (backing off) and
        // load it again. Anything else is final, and so is a server that stays away.
        let gone = std::cell::Cell::new(false);
        let r = retry(
            Policy::tries(MAX_RETRIES + 1).starting_at(1),
            |n| {
                if n > 1 {
                    *client = reconnect(connect, &format!("table {}", tp.name), progress).map_err(
                        |message| {
                            gone.set(true);
                            load::LoadError::Connection {
                                table: tp.name.clone(),
                                message,
                            }
                        },
                    )?;
                }
                load::load_table(
                    client,
                    snapshot,
                    source,
                    tp,
                    &plan.schema,
                    into.clone(),
                    &fingerprint,
                    &rejects,
                    progress,
                    opts.verify,
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
        );
        if r.is_ok() {
            run_steps(i, client, &local);
            indexed[i].store(true, Ordering::SeqCst);
        }
        r
    })?;
    let mut loaded_ok = vec![false; plan.tables.len()];
    let mut source_sums = vec![None; plan.tables.len()];
    let mut tables: Vec<TableReport> = plan
        .tables
        .iter()
        .map(|t| TableReport {
            name: t.name.clone(),
            source_rows: t.rows,
            ..Default::default()
        })
        .collect();
    for (i, tp) in plan.tables.iter().enumerate() {
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
        progress.message(&format!(
            "resuming: {} table(s) were loaded by an earlier run of this plan and are kept: {}",
            names.len(),
            names.join(", ")
        ));
    }
    for (k, r) in loads.into_iter().enumerate() {
        let i = order[k];
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
    let wrote_rejects = rejects.finish().map_err(|e| MigrateError::Rejects {
        path: opts.rejects.clone(),
        source: e,
    })?;
    if wrote_rejects {
        report.rejects_file = Some(opts.rejects.display().to_string());
    }

    // The connection opened before the load sat idle through it: if the server restarted
    // meanwhile it is gone, so the steps below get a new one.
    admin = reconnect(connect, "target", progress).map_err(MigrateError::Connect)?;

    // Keys, indexes, checks and defaults of the tables not done during the load, then
    // foreign keys.
    progress.phase("constraints");
    // Every table, resumed ones included: a run killed during this phase left them loaded but
    // without all their keys, and a step that exists is skipped.
    let mut all: Vec<usize> = (0..plan.tables.len()).collect();
    all.sort_by_key(|&i| std::cmp::Reverse(plan.tables[i].rows));
    all.retain(|&i| loaded_ok[i]);
    let rest: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| !indexed[i].load(Ordering::SeqCst))
        .collect();
    parallel(rest.len(), opts.jobs, connect, &|k, client| {
        run_steps(rest[k], client, &local)
    })?;
    parallel(all.len(), opts.jobs, connect, &|k, client| {
        run_steps(all[k], client, &[StepKind::ForeignKey])
    })?;
    report.failed_steps = failures.into_inner().unwrap_or_default();
    report
        .failed_steps
        .extend(crate::carry::execute::views::create_views(&mut admin, plan));

    // Sequences, then the row counts.
    for (i, tp) in plan.tables.iter().enumerate() {
        if !loaded_ok[i] {
            continue;
        }
        if let Some(id) = &tp.identity {
            match ddl::set_identity(&mut admin, &plan.schema, &tp.name, id) {
                Ok(next) => report.sequences.push(SequenceReport {
                    table: tp.name.clone(),
                    column: id.column.clone(),
                    next_value: next,
                }),
                Err(error) => report.failed_steps.push(StepFailure {
                    table: tp.name.clone(),
                    kind: StepKind::Default,
                    name: format!("{} identity", id.column),
                    sql: String::new(),
                    error,
                }),
            }
        }
    }
    progress.phase("verify");
    // Without verification, row counts are the only check; with it, the checksums count the
    // rows of both sides already, and counting again would read every table twice.
    for (i, tp) in plan.tables.iter().enumerate() {
        if !loaded_ok[i] || opts.verify {
            continue;
        }
        let t = &mut tables[i];
        match ddl::count_rows(&mut admin, &plan.schema, &tp.name) {
            Ok(n) => {
                t.target_rows = Some(n);
                t.verified = Some(n == t.source_rows - t.rows_rejected && n == t.rows_written);
            }
            Err(e) => t.error = Some(format!("could not count rows: {e}")),
        }
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
    let _ = describe_pg_error; // re-exported for callers
    Ok(report)
}
