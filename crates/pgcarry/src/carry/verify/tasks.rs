//! The units of verification work — a table's source checksum, its target checksum, its
//! catalog checks — run on the worker pool, with rounds of reading again what a lost
//! connection cut off. Says nothing about what a result means: `verify` decides that.

use super::{Inputs, source_table, structure, target};
use crate::carry::encode::row as source;
use crate::checksum::{Checksum, TupleHasher};
use crate::model::outcome::StructureProblem;
use crate::model::plan::TablePlan;
use crate::postgres::conn::Connect;
use crate::postgres::ident::{qualified, quote_literal};
use crate::work::pool;
use crate::work::progress::Progress;
use crate::work::retry::{Kind, Policy, retry};
use postgres::Client;

/// Rounds of reading again what a lost connection interrupted.
const VERIFY_RETRIES: u32 = 3;

/// One unit of parallel work.
#[derive(Debug, Clone, Copy)]
pub(super) enum Task {
    Target(usize),
    Source(usize),
    Structure(usize),
}

pub(super) enum Done {
    Sum(Result<(Checksum, u64), Unchecked>),
    Problems(Result<Vec<StructureProblem>, Unchecked>),
}

/// Why one side of a table has no checksum.
#[derive(Debug, Clone)]
pub(super) enum Unchecked {
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
pub(super) fn read_failed(client: &mut Client, table: &str, error: &str) -> Unchecked {
    Unchecked::Failed(if connection_lost(client) {
        format!(
            "the connection to PostgreSQL was lost while verifying table {table} ({error}); \
             nothing was changed: run `pgcarry verify` again once the server is reachable"
        )
    } else {
        format!("could not read table {table} back from PostgreSQL: {error}")
    })
}

pub(super) fn no_connection(error: &str) -> Unchecked {
    Unchecked::Failed(format!(
        "could not verify: cannot connect to the target: {error}"
    ))
}

/// The tasks for `tables`: source and target checksums as separate tasks, so two cores work on
/// one table at once (a source checksum only where the load did not compute one), and the
/// catalog checks last, while the largest table is still being read.
pub(super) fn for_tables(tables: &[usize], source_sums: &[Option<Checksum>]) -> Vec<Task> {
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
    tasks
}

/// Runs one task on a worker's connection.
fn run_task(
    inputs: &Inputs<'_>,
    task: Task,
    client: Result<&mut Client, String>,
    progress: &dyn Progress,
) -> Done {
    let plan = inputs.plan;
    match task {
        Task::Source(i) => {
            let tp = &plan.tables[i];
            Done::Sum(
                source::table_checksum(inputs.snapshot, source_table(inputs.model, tp), tp, None)
                    .map_err(|e| Unchecked::Failed(format!("could not read the source: {e:#}"))),
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
    }
}

/// Runs every task; a connection lost (or refused) while reading: those tasks run again on new
/// connections, backing off, a few times; a server that stays away fails the verification
/// (exit 1), never reported as a difference.
pub(super) fn run_with_retries(
    inputs: &Inputs<'_>,
    tasks: &[Task],
    progress: &dyn Progress,
) -> Vec<Done> {
    let run = |list: &[Task]| {
        parallel(list.len(), inputs.jobs, inputs.connect, &|k, client| {
            run_task(inputs, list[k], client, progress)
        })
    };
    let mut results = run(tasks);
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
    results
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

/// Runs `work(i, client)` for every index below `n` on `jobs` threads of the worker pool, each
/// with a connection of its own opened on first use; a failed connection is handed to `work`.
pub(super) fn parallel<T: Send>(
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
