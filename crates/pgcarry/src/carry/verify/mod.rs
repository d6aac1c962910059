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
//! NOT NULL, column types, foreign keys, triggers and sequences are checked in the catalog
//! ([`structure`]); every view exists and returns SQLite's row count ([`views`]).
//!
//! Tables are verified in parallel, one connection per worker; memory is constant per table.

use crate::checksum::Checksum;
use crate::model::outcome::{RowDifference, TableReport};
use crate::model::plan::{Plan, TablePlan};
use crate::model::schema::{SourceSchema, Table};
use crate::postgres::conn::Connect;
use crate::report::Report;
use crate::sqlite::Snapshot;
use crate::work::progress::Progress;
pub mod structure;
pub mod target;
mod views;
use postgres::Client;
use std::fmt::Write;

pub mod locate;
mod tasks;

use tasks::{Done, Task, Unchecked};

pub use locate::MAX_DIFFERENCES;

/// What verification needs from the run.
pub struct Inputs<'a> {
    pub plan: &'a Plan,
    pub model: &'a SourceSchema,
    pub snapshot: &'a Snapshot,
    pub connect: Connect<'a>,
    pub jobs: usize,
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
    let tasks = tasks::for_tables(&tables, source_sums);
    for &i in &tables {
        progress.table_start(&plan.tables[i].name, plan.tables[i].rows);
    }
    let results = tasks::run_with_retries(inputs, &tasks, progress);
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
    report.structure_problems.extend(views::check_views(inputs));
    locate_differences(inputs, &tables, &mut checks);
    for &i in &tables {
        let tp = &plan.tables[i];
        let Some(t) = report.tables.iter_mut().find(|t| t.name == tp.name) else {
            continue;
        };
        apply(t, std::mem::take(&mut checks[i]));
    }
    report.verified = report.tables.iter().all(|t| t.verified == Some(true));
}

/// Locates what differs in each table whose checksums differ, table by table in parallel.
fn locate_differences(inputs: &Inputs<'_>, tables: &[usize], checks: &mut [TableCheck]) {
    let differing: Vec<usize> = tables
        .iter()
        .copied()
        .filter(|&i| {
            let c = &checks[i];
            c.error.is_none() && c.source != c.target
        })
        .collect();
    let located = tasks::parallel(
        differing.len(),
        inputs.jobs,
        inputs.connect,
        &|k, client| locate_one(inputs, differing[k], &checks[differing[k]], client),
    );
    for (k, (sentence, rows)) in located.into_iter().enumerate() {
        let c = &mut checks[differing[k]];
        c.difference = Some(sentence);
        c.rows = rows;
    }
}

/// The sentence saying how table `i` differs, and the rows located.
fn locate_one(
    inputs: &Inputs<'_>,
    i: usize,
    c: &TableCheck,
    client: Result<&mut Client, String>,
) -> (String, Vec<RowDifference>) {
    let plan = inputs.plan;
    let tp = &plan.tables[i];
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

fn source_table<'a>(model: &'a SourceSchema, tp: &TablePlan) -> &'a Table {
    model
        .tables
        .iter()
        .find(|t| t.name == tp.source_name)
        .expect("plan tables come from the schema")
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
