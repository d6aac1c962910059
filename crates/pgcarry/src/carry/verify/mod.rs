//! Verification: proof that PostgreSQL holds every row the source should have given it, and
//! everything else the plan promised.
//!
//! Per table, the content checksum of the source rows (computed by the load as it sends them,
//! or here from the snapshot) is compared with the checksum of the rows read back from
//! PostgreSQL. A table that differs is then located ([`locate`]): a single-column integer key
//! is bisected by key range with range checksums on both sides (as reladiff does), any other
//! primary key by buckets of its hash, down to a few rows compared row by row, listing up to
//! [`MAX_DIFFERENCES`] missing, extra and changed keys with the columns that differ. Tables
//! without a primary key compare as multisets (checksum and counts only). Keys, indexes,
//! NOT NULL, foreign keys and sequences are checked in the catalog
//! (`target::postgres::structure`).
//!
//! Tables are verified in parallel, one connection per worker; memory is constant per table.

use crate::carry::encode::row as source;
use crate::checksum::{Checksum, TupleHasher};
use crate::model::outcome::{RowDifference, StructureProblem, TableReport};
use crate::model::plan::{Plan, TablePlan};
use crate::model::schema::{SourceSchema, Table};
use crate::postgres::conn::Connect;
use crate::postgres::ident::{qualified, quote_literal};
use crate::report::Report;
use crate::sqlite::Snapshot;
use crate::work::pool;
use crate::work::progress::Progress;
use crate::work::retry::{Kind, Policy, retry};
pub mod structure;
pub mod target;
use postgres::Client;
use std::fmt::Write;

pub mod locate;

pub use locate::MAX_DIFFERENCES;

/// What verification needs from the run.
pub struct Inputs<'a> {
    pub plan: &'a Plan,
    pub model: &'a SourceSchema,
    pub snapshot: &'a Snapshot,
    pub connect: Connect<'a>,
    pub jobs: usize,
}

/// One unit of parallel work.
/// Rounds of reading again what a lost connection interrupted.
const VERIFY_RETRIES: u32 = 3;

#[derive(Debug, Clone, Copy)]
enum Task {
    Target(usize),
    Source(usize),
    Structure(usize),
}

enum Done {
    Sum(Result<(Checksum, u64), Unchecked>),
    Problems(Result<Vec<StructureProblem>, Unchecked>),
}

/// Why one side of a table has no checksum.
#[derive(Debug, Clone)]
enum Unchecked {
    /// PostgreSQL does not hold what the plan promised (the table is missing, a value does not
    /// decode): a difference (exit 3).
    Differs(String),
    /// The check itself could not run (no connection, the connection lost, the source not
    /// readable): a failure (exit 1), never reported as a difference.
    Failed(String),
}

/// True when the connection is gone. A read's error can reach us before the client has
/// noticed the closed socket, so ask the server when in doubt.
fn connection_lost(client: &mut Client) -> bool {
    client.is_closed() || client.is_valid(std::time::Duration::from_secs(10)).is_err()
}

/// A failed read of the target, saying plainly when the connection is gone.
fn read_failed(client: &mut Client, table: &str, error: &str) -> Unchecked {
    Unchecked::Failed(if connection_lost(client) {
        format!(
            "the connection to PostgreSQL was lost while verifying table {table} ({error}); \
             nothing was changed: run `pgcarry verify` again once the server is reachable"
        )
    } else {
        format!("could not read table {table} back from PostgreSQL: {error}")
    })
}

fn no_connection(error: &str) -> Unchecked {
    Unchecked::Failed(format!(
        "could not verify: cannot connect to the target: {error}"
    ))
}

/// The verdict on one table's content.
#[derive(Debug, Clone, Default)]
struct TableCheck {
    source: Option<Checksum>,
    /// Rows skipped as unrepresentable, when the source was read here (not by the load).
    skipped: Option<u64>,
    target: Option<Checksum>,
    difference: Option<String>,
    rows: Vec<RowDifference>,
    error: Option<Unchecked>,
}

/// Verifies the tables of `report` marked in `which` (by plan index) and the structure the
/// plan promised, filling in checksums, differences and `verified`. `source_sums[i]` is the
/// checksum the load computed for table `i`, when it did; otherwise the snapshot is read.
pub fn verify_into(
    report: &mut Report,
    inputs: &Inputs<'_>,
    which: &[bool],
    source_sums: &[Option<Checksum>],
    progress: &dyn Progress,
) {
    let plan = inputs.plan;
    // Largest tables first, so the last task to finish is a small one.
    let mut tables: Vec<usize> = (0..plan.tables.len()).filter(|&i| which[i]).collect();
    tables.sort_by_key(|&i| std::cmp::Reverse(plan.tables[i].rows));
    // Source and target checksums as separate tasks, so two cores work on one table at once;
    // the catalog checks last, while the largest table is still being read.
    let mut tasks: Vec<Task> = tables
        .iter()
        .flat_map(|&i| {
            let src = source_sums.get(i).and_then(|s| s.as_ref()).is_none();
            [Task::Target(i)]
                .into_iter()
                .chain(src.then_some(Task::Source(i)))
        })
        .collect();
    tasks.extend(tables.iter().map(|&i| Task::Structure(i)));
    for &i in &tables {
        progress.table_start(&plan.tables[i].name, plan.tables[i].rows);
    }
    let run = |list: &[Task]| {
        parallel(
            list.len(),
            inputs.jobs,
            inputs.connect,
            &|k, client| match list[k] {
                Task::Source(i) => {
                    let tp = &plan.tables[i];
                    Done::Sum(
                        source::table_checksum(
                            inputs.snapshot,
                            source_table(inputs.model, tp),
                            tp,
                            None,
                        )
                        .map_err(|e| {
                            Unchecked::Failed(format!("could not read the source: {e:#}"))
                        }),
                    )
                }
                Task::Target(i) => {
                    let tp = &plan.tables[i];
                    let r = match client {
                        Ok(c) => target_checksum(c, &plan.schema, tp, progress).map(|c| (c, 0)),
                        Err(e) => Err(no_connection(&e)),
                    };
                    progress.table_done(&tp.name);
                    Done::Sum(r)
                }
                Task::Structure(i) => {
                    let tp = &plan.tables[i];
                    Done::Problems(match client {
                        Ok(c) => match structure::check_table(c, &plan.schema, tp) {
                            Ok(problems) => Ok(problems),
                            Err(e) if connection_lost(c) => Err(read_failed(c, &tp.name, &e)),
                            Err(e) => Ok(vec![StructureProblem {
                                table: tp.name.clone(),
                                what: "table".into(),
                                name: tp.name.clone(),
                                detail: format!("could not check: {e}"),
                            }]),
                        },
                        Err(e) => Err(no_connection(&e)),
                    })
                }
            },
        )
    };
    let mut results = run(&tasks);
    // A connection lost (or refused) while reading: those tasks run again on new connections,
    // backing off, a few times; a server that stays away fails the verification (exit 1).
    let lost = |results: &[Done]| -> Vec<usize> {
        (0..results.len())
            .filter(|&k| {
                matches!(
                    &results[k],
                    Done::Sum(Err(Unchecked::Failed(_)))
                        | Done::Problems(Err(Unchecked::Failed(_)))
                )
            })
            .collect()
    };
    let _still_lost = retry(
        Policy::tries(VERIFY_RETRIES + 1).starting_at(3),
        |n| {
            let failed = lost(&results);
            if n > 1 && !failed.is_empty() {
                let again: Vec<Task> = failed.iter().map(|&k| tasks[k]).collect();
                for (k, r) in failed.into_iter().zip(run(&again)) {
                    results[k] = r;
                }
            }
            match lost(&results).first() {
                None => Ok(()),
                Some(&k) => Err((lost(&results).len(), failure_text(&results[k]))),
            }
        },
        |_| Kind::Transient,
        |n, (count, why), delay| {
            progress.message(&format!(
                "verification could not finish ({why}); reading {count} part(s) again in {:.1} s \
                 (retry {n} of {VERIFY_RETRIES})",
                delay.as_secs_f64()
            ));
        },
    );
    let mut checks: Vec<TableCheck> = vec![TableCheck::default(); plan.tables.len()];
    for (i, sum) in source_sums.iter().enumerate() {
        checks[i].source = *sum;
    }
    for (k, r) in results.into_iter().enumerate() {
        match (tasks[k], r) {
            (Task::Source(i), Done::Sum(Ok((c, skipped)))) => {
                checks[i].source = Some(c);
                checks[i].skipped = Some(skipped);
            }
            (Task::Target(i), Done::Sum(Ok((c, _)))) => checks[i].target = Some(c),
            (Task::Source(i) | Task::Target(i), Done::Sum(Err(e)))
            | (Task::Source(i) | Task::Target(i) | Task::Structure(i), Done::Problems(Err(e))) => {
                checks[i].error.get_or_insert(e);
            }
            (_, Done::Problems(Ok(p))) => report.structure_problems.extend(p),
            (Task::Structure(_), Done::Sum(_)) => {}
        }
    }

    // Locate what differs, table by table in parallel.
    let differing: Vec<usize> = tables
        .iter()
        .copied()
        .filter(|&i| {
            let c = &checks[i];
            c.error.is_none() && c.source != c.target
        })
        .collect();
    let located = parallel(
        differing.len(),
        inputs.jobs,
        inputs.connect,
        &|k, client| {
            let i = differing[k];
            let tp = &plan.tables[i];
            let c = &checks[i];
            let (s, t) = (c.source.unwrap_or_default(), c.target.unwrap_or_default());
            let mut sentence = format!(
                "{} rows expected in PostgreSQL, {} found; content checksums differ",
                s.rows, t.rows
            );
            let source = source_table(inputs.model, tp);
            let rows = match (locate::key_columns(source, tp), client) {
                (Some(key), Ok(client)) => {
                    let sides = locate::Sides {
                        snapshot: inputs.snapshot,
                        source,
                        tp,
                        schema: &plan.schema,
                    };
                    match locate::locate(&sides, client, &key) {
                        Ok(rows) => rows,
                        Err(e) => {
                            let _ = write!(sentence, " (could not locate the rows: {e})");
                            Vec::new()
                        }
                    }
                }
                (None, _) => {
                    sentence.push_str(" (no primary key: compared as a multiset)");
                    Vec::new()
                }
                (Some(_), Err(e)) => {
                    let _ = write!(sentence, " (could not locate the rows: {e})");
                    Vec::new()
                }
            };
            if !rows.is_empty() {
                let count = |kind: &str| rows.iter().filter(|r| r.kind == kind).count();
                let _ = write!(
                    sentence,
                    "; located {} missing, {} extra, {} changed{}",
                    count("missing"),
                    count("extra"),
                    count("changed"),
                    if rows.len() >= MAX_DIFFERENCES {
                        " (listing stops there)"
                    } else {
                        ""
                    }
                );
            }
            (sentence, rows)
        },
    );
    for (k, (sentence, rows)) in located.into_iter().enumerate() {
        let c = &mut checks[differing[k]];
        c.difference = Some(sentence);
        c.rows = rows;
    }

    for &i in &tables {
        let tp = &plan.tables[i];
        let Some(t) = report.tables.iter_mut().find(|t| t.name == tp.name) else {
            continue;
        };
        apply(t, std::mem::take(&mut checks[i]));
    }
    report.verified = report.tables.iter().all(|t| t.verified == Some(true));
}

fn apply(t: &mut TableReport, c: TableCheck) {
    match c.error {
        Some(Unchecked::Differs(e)) => {
            t.verified = Some(false);
            t.difference = Some(e);
            return;
        }
        Some(Unchecked::Failed(e)) => {
            t.verified = Some(false);
            t.error = Some(e);
            return;
        }
        None => {}
    }
    t.source_checksum = c.source.map(|s| s.hex());
    t.target_checksum = c.target.map(|s| s.hex());
    if let (Some(s), Some(skipped)) = (c.source, c.skipped) {
        // Verification without a load: the source rows are the ones read, rejects included.
        t.source_rows = s.rows + skipped;
        t.rows_rejected = skipped;
    }
    if let Some(tc) = c.target {
        t.target_rows = Some(tc.rows);
    }
    let same = c.source.is_some() && c.source == c.target;
    t.verified = Some(same && t.verified != Some(false));
    if !same {
        t.difference = c.difference;
        t.differing_rows = c.rows;
    }
}

/// The target checksum, or a clear sentence when the table is not there at all.
fn target_checksum(
    client: &mut Client,
    schema: &str,
    tp: &TablePlan,
    progress: &dyn Progress,
) -> Result<Checksum, Unchecked> {
    let exists: bool = client
        .query_one(
            &format!(
                "SELECT to_regclass({}) IS NOT NULL",
                quote_literal(&qualified(schema, &tp.name))
            ),
            &[],
        )
        .map(|r| r.get(0))
        .map_err(|e| {
            let error = crate::postgres::error::describe_pg_error(&e);
            read_failed(client, &tp.name, &error)
        })?;
    if !exists {
        return Err(Unchecked::Differs(format!(
            "table {schema}.{} is missing in PostgreSQL",
            tp.name
        )));
    }
    let mut hasher = TupleHasher::for_table(tp);
    let mut sum = Checksum::default();
    let mut bad = None;
    let mut pending = 0u64;
    target::for_each_tuple(client, schema, tp, None, |t| {
        match hasher.hash(t) {
            Ok(h) => sum.add(h),
            Err(e) => bad = Some(e.to_string()),
        }
        pending += 1;
        if pending == 8192 {
            progress.table_advance(&tp.name, pending, 0);
            pending = 0;
        }
    })
    .map_err(|e| read_failed(client, &tp.name, &e))?;
    progress.table_advance(&tp.name, pending, 0);
    match bad {
        Some(e) => Err(Unchecked::Differs(format!("table {}: {e}", tp.name))),
        None => Ok(sum),
    }
}

fn source_table<'a>(model: &'a SourceSchema, tp: &TablePlan) -> &'a Table {
    model
        .tables
        .iter()
        .find(|t| t.name == tp.source_name)
        .expect("plan tables come from the schema")
}

/// Runs `work(i, client)` for every index below `n` on `jobs` threads of the worker pool, each
/// with a connection of its own opened on first use; a failed connection is handed to `work`.
fn parallel<T: Send>(
    n: usize,
    jobs: usize,
    connect: Connect<'_>,
    work: &(dyn Fn(usize, Result<&mut Client, String>) -> T + Sync),
) -> Vec<T> {
    let start = || Some(None::<Result<Client, String>>);
    pool::run(n, jobs, &start, &|i, client| {
        let c = client.get_or_insert_with(connect);
        work(i, c.as_mut().map_err(|e| e.clone()))
    })
    .into_iter()
    .map(|r| r.expect("threads of this pool always start"))
    .collect()
}

/// What made a task fail to read, for the retry message.
fn failure_text(done: &Done) -> String {
    match done {
        Done::Sum(Err(Unchecked::Failed(m))) | Done::Problems(Err(Unchecked::Failed(m))) => {
            m.clone()
        }
        _ => String::new(),
    }
}

/// The executor's last step: full verification of the loaded tables (`verify` is
/// `Some((loaded, source checksums))`), or, with `--no-verify`, marking the tables whose row
/// counts matched as not verified.
pub fn after_load(
    report: &mut Report,
    inputs: &Inputs<'_>,
    verify: Option<(&[bool], &[Option<Checksum>])>,
    progress: &dyn Progress,
) {
    match verify {
        Some((loaded, sums)) => {
            verify_into(report, inputs, loaded, sums, progress);
            // A step that failed is already reported with its error: say it once.
            let failed = std::mem::take(&mut report.failed_steps);
            report.structure_problems.retain(|p| {
                !failed
                    .iter()
                    .any(|f| f.table == p.table && f.name == p.name)
            });
            report.failed_steps = failed;
        }
        None => {
            for t in &mut report.tables {
                if t.verified == Some(true) {
                    t.verified = None;
                }
            }
            report.verified = false;
        }
    }
}

/// `pgcarry verify`: the verification alone, against tables migrated earlier. The source is
/// read again from its snapshot; nothing is written anywhere.
pub fn verify_existing(inputs: &Inputs<'_>, target: String, progress: &dyn Progress) -> Report {
    let plan = inputs.plan;
    let mut report = Report::new(plan, target);
    let started = std::time::Instant::now();
    report.tables = plan
        .tables
        .iter()
        .map(|t| TableReport {
            name: t.name.clone(),
            source_rows: t.rows,
            ..Default::default()
        })
        .collect();
    progress.phase("verify");
    let all = vec![true; plan.tables.len()];
    verify_into(&mut report, inputs, &all, &[], progress);
    report.seconds = started.elapsed().as_secs_f64();
    report
}
