//! The proof of the plan's DDL: before the first row is written, every table the run will
//! create is created, with its keys, indexes, checks, defaults and the foreign keys between
//! those tables, inside a savepoint that is then rolled back. A statement PostgreSQL refuses
//! stops the run there, naming the table and the statement, with nothing created — never a
//! half-loaded target.
//!
//! It proves only what an empty table can tell: a unique key or a CHECK the rows break is
//! found after the load, as before. Tables an earlier run loaded, or that are kept
//! (`--if-exists truncate|upsert`), exist already and are not created again.

use crate::carry::plan::statements::{PROOF_ROLLBACK, PROOF_SAVEPOINT};
use crate::model::plan::{Plan, TablePlan, one_line};
use crate::postgres::error::describe_pg_error;
use crate::postgres::ident::qualified;
use postgres::Transaction;

/// A statement of the plan PostgreSQL refuses even on empty tables.
#[derive(Debug, thiserror::Error)]
#[error(
    "PostgreSQL refuses the plan's DDL for table {table}: {message}\n  statement: {sql}\n\
     Nothing was created or loaded. Change or skip the column (or the table) in --config \
     (type = \"text\" holds any text), or report the statement as a pgcarry bug"
)]
pub struct Refused {
    pub table: String,
    pub sql: String,
    pub message: String,
}

/// Why the proof stopped.
#[derive(Debug)]
pub enum ProofError {
    Refused(Refused),
    /// Not a refusal: the connection was lost, or the savepoint failed.
    Server(String),
}

/// Runs the DDL of the tables `created` says will be created, in a savepoint rolled back
/// afterwards; the first statement refused is the error.
pub fn prove(
    tx: &mut Transaction<'_>,
    plan: &Plan,
    created: &dyn Fn(&TablePlan) -> bool,
) -> Result<(), ProofError> {
    let fresh: Vec<&TablePlan> = plan.tables.iter().filter(|t| created(t)).collect();
    if fresh.is_empty() {
        return Ok(());
    }
    tx.batch_execute(PROOF_SAVEPOINT).map_err(server)?;
    for tp in &fresh {
        run(tx, tp, &tp.create_sql)?;
    }
    for tp in &fresh {
        for step in &tp.post_load {
            run(tx, tp, &step.sql)?;
        }
    }
    // Foreign keys between created tables only: a kept parent may not have its keys yet.
    let parents: Vec<String> = fresh
        .iter()
        .map(|t| format!("REFERENCES {} (", qualified(&plan.schema, &t.name)))
        .collect();
    for tp in &fresh {
        for step in &tp.foreign_keys {
            if parents.iter().any(|p| step.sql.contains(p.as_str())) {
                run(tx, tp, &step.sql)?;
            }
        }
    }
    tx.batch_execute(PROOF_ROLLBACK).map_err(server)
}

/// One statement of the proof: the server's refusal names the table and the statement; a
/// lost connection is not a refusal.
fn run(tx: &mut Transaction<'_>, tp: &TablePlan, sql: &str) -> Result<(), ProofError> {
    tx.batch_execute(sql).map_err(|e| {
        if e.as_db_error().is_none() {
            return server(e);
        }
        ProofError::Refused(Refused {
            table: tp.name.clone(),
            sql: one_line(sql),
            message: describe_pg_error(&e),
        })
    })
}

fn server(e: postgres::Error) -> ProofError {
    ProofError::Server(describe_pg_error(&e))
}
