//! Every statement a `migrate` of the plan sends, in the order it sends them, grouped by
//! phase: the run lock, the preflight, what happens to tables that exist already, each
//! table's create and load, keys and indexes, foreign keys, views, sequences. `plan --sql`
//! prints this list, and the executor runs exactly these statements (the run lock's and the
//! bookkeeping of the resume state included, whose text lives in [`crate::postgres::lock`]
//! and [`crate::postgres::state_sql`]).
//!
//! Not listed: the reads — catalog look-ups (which tables exist, their columns, foreign keys,
//! who holds the run lock), the resume state read back, a check that the lock session still
//! answers, and the verification's row counts and checksums — which change nothing. A
//! statement with a placeholder in braces (`{constraint}`, `{column}`) is completed at run
//! time with a name read from the catalog; `$1`… are bind parameters.

use crate::model::plan::{IfExists, Plan, Step, TablePlan};

/// The proof of the DDL, in the preflight's transaction: every table the run creates, with its
/// keys, indexes, checks, defaults and foreign keys, is created after this savepoint, then
/// rolled back ([`PROOF_ROLLBACK`]) before any row is written.
pub const PROOF_SAVEPOINT: &str = "SAVEPOINT pgcarry_proof";
/// Rolls the proof back: nothing it created remains.
pub const PROOF_ROLLBACK: &str = "ROLLBACK TO SAVEPOINT pgcarry_proof";
use crate::postgres::{lock, state_sql};

/// One statement, and when it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    pub runs: Runs,
}

/// When a statement runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    /// On every run into an empty schema.
    Always,
    /// On every run, on the run's lock session (a connection of its own, idle until the run
    /// ends); a statement that takes a lock is sent again while another holds it.
    LockSession,
    /// On every other connection of the run, as it opens.
    EveryConnection,
    /// Bookkeeping in the `pgcarry` schema (what pgcarry created, the resume state), on
    /// every run.
    ResumeState,
    /// For an existing table the user named with `--adopt`, under `truncate` or `upsert`.
    Adopted,
    /// For a table loaded in key ranges: once per range after the first.
    NextRanges,
    /// Only for a table that exists already, under one of these `--if-exists`.
    Existing(&'static [IfExists]),
}

/// A group of statements, in order.
#[derive(Debug, Clone)]
pub struct Phase {
    pub title: String,
    pub statements: Vec<Statement>,
}

/// Every statement of `plan`, phase by phase.
pub fn phases(plan: &Plan) -> Vec<Phase> {
    let ordered: Vec<&TablePlan> = plan.load_order.iter().map(|&i| &plan.tables[i]).collect();
    let mut out = vec![
        run_lock(),
        preflight(plan),
        existing(&plan.schema, &ordered),
    ];
    out.extend(ordered.iter().map(|t| load(t)));
    let steps = |title: &str, pick: &dyn Fn(&TablePlan) -> &[Step]| Phase {
        title: title.to_string(),
        statements: ordered
            .iter()
            .flat_map(|t| pick(t))
            .map(|s| always(&s.sql))
            .collect(),
    };
    out.push(steps(
        "keys, indexes, checks and defaults (each table's as soon as it is loaded)",
        &|t| &t.post_load,
    ));
    out.push(steps("foreign keys", &|t| &t.foreign_keys));
    out.push(Phase {
        title: "views".into(),
        statements: plan
            .views
            .iter()
            .flat_map(|s| {
                [
                    always(&s.sql),
                    when(Runs::ResumeState, state_sql::RECORD_CREATED),
                ]
            })
            .collect(),
    });
    out.push(steps("triggers", &|t| &t.triggers));
    out.push(Phase {
        title: "sequences".into(),
        statements: plan
            .tables
            .iter()
            .filter_map(|t| t.sequence.as_ref())
            .map(|s| always(&s.sql))
            .collect(),
    });
    out.push(Phase {
        title: "statistics, so the application's first queries get real plans".into(),
        statements: ordered
            .iter()
            .filter_map(|t| t.analyze.as_ref())
            .map(|s| always(&s.sql))
            .collect(),
    });
    out.retain(|p| !p.statements.is_empty());
    out
}

fn always(sql: &str) -> Statement {
    Statement {
        sql: sql.to_string(),
        runs: Runs::Always,
    }
}

fn when(runs: Runs, sql: &str) -> Statement {
    Statement {
        sql: sql.to_string(),
        runs,
    }
}

/// The run lock of the plan's schema (`$1`): taken on a session of its own, held until the run
/// ends; then the sessions key, taken and released once the sessions of an earlier, killed
/// run have ended; then that key in shared mode on each of the run's connections.
fn run_lock() -> Phase {
    let session = |sql| when(Runs::LockSession, sql);
    Phase {
        title: "run lock (one run at a time per database and schema; see --lock-wait)".into(),
        statements: vec![
            session(lock::KEEP_IDLE),
            session(lock::TAKE_RUN),
            session(lock::TAKE_SESSIONS),
            session(lock::RELEASE_SESSIONS),
            when(Runs::EveryConnection, lock::JOIN_SESSIONS),
        ],
    }
}

fn preflight(plan: &Plan) -> Phase {
    Phase {
        title: "preflight".into(),
        statements: vec![
            when(Runs::ResumeState, state_sql::SETUP),
            always(&plan.create_schema),
            when(Runs::ResumeState, state_sql::FORGET),
            // Then the tables' DDL below, proven on empty tables and rolled back.
            always(PROOF_SAVEPOINT),
            always(PROOF_ROLLBACK),
        ],
    }
}

/// In the preflight's transaction, for the tables that exist already: the columns an upsert
/// adds or widens, the foreign keys that would check rows during the load, then the tables
/// emptied or dropped.
fn existing(schema: &str, tables: &[&TablePlan]) -> Phase {
    const UPSERT: &[IfExists] = &[IfExists::Upsert];
    const KEPT: &[IfExists] = &[IfExists::Truncate, IfExists::Upsert];
    let mut statements = vec![when(Runs::Adopted, state_sql::RECORD_CREATED)];
    for t in tables {
        for sql in super::existing::templates(schema, t) {
            statements.push(when(Runs::Existing(UPSERT), &sql));
        }
    }
    for t in tables {
        statements.push(when(Runs::Existing(KEPT), &t.load.drop_foreign_key));
    }
    for t in tables {
        statements.push(when(
            Runs::Existing(&[IfExists::Truncate]),
            &t.load.truncate,
        ));
        statements.push(when(Runs::Existing(&[IfExists::Drop]), &t.load.drop));
    }
    Phase {
        title: "tables that exist already (--if-exists)".into(),
        statements,
    }
}

/// One table's transaction(s): create and load, or upsert into the existing table.
fn load(t: &TablePlan) -> Phase {
    let mut statements = vec![
        always(&t.create_sql),
        when(Runs::ResumeState, state_sql::RECORD_CREATED),
        when(Runs::ResumeState, state_sql::RECORD_SOURCE),
        always(&t.load.copy_new),
    ];
    statements.push(when(Runs::ResumeState, state_sql::RECORD));
    if t.chunks.is_some() {
        statements.push(when(Runs::NextRanges, &t.load.copy_existing));
        statements.push(when(Runs::NextRanges, state_sql::RECORD));
    }
    statements.push(when(
        Runs::Existing(&[IfExists::Truncate]),
        &t.load.copy_existing,
    ));
    if let Some(u) = &t.load.upsert {
        let upsert = Runs::Existing(&[IfExists::Upsert]);
        if let Some(o) = &u.owned {
            for sql in [&o.temp_table, &o.copy, &o.delete] {
                statements.push(when(upsert, sql));
            }
        }
        for sql in [&u.temp_table, &u.copy, &u.insert] {
            statements.push(when(upsert, sql));
        }
    }
    Phase {
        title: format!("table {}: create and load", t.name),
        statements,
    }
}
