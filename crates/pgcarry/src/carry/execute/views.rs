//! Creating the plan's views and triggers, after every table and foreign key. Views: in the plan's order, then the
//! ones the server refused retried until no more succeed (a view may read one created later).
//! Each refusal is returned with its SQL and the server's reason. Each view is recorded as
//! pgcarry's in the transaction that creates it.

use crate::model::outcome::StepFailure;
use crate::model::plan::{Plan, StepKind};
use crate::postgres::error::describe_pg_error;
use postgres::Client;

/// Runs the view steps; the ones that still fail, with why.
pub fn create_views(client: &mut Client, plan: &Plan) -> Vec<StepFailure> {
    let mut pending: Vec<_> = plan.views.iter().collect();
    let mut errors: Vec<String> = Vec::new();
    loop {
        let before = pending.len();
        let mut still = Vec::new();
        errors.clear();
        for step in pending {
            match create_view(client, plan, step) {
                Ok(()) => {}
                Err(e) => {
                    errors.push(describe_pg_error(&e));
                    still.push(step);
                }
            }
        }
        pending = still;
        if pending.is_empty() || pending.len() == before {
            break;
        }
    }
    pending
        .into_iter()
        .zip(errors)
        .map(|(step, error)| StepFailure {
            table: step.name.clone(),
            kind: StepKind::View,
            name: step.name.clone(),
            sql: step.sql.clone(),
            error,
        })
        .collect()
}

/// Creates one view and records it as pgcarry's, in one transaction.
fn create_view(
    client: &mut Client,
    plan: &Plan,
    step: &crate::model::plan::Step,
) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    tx.batch_execute(&step.sql)?;
    super::ownership::record(
        &mut tx,
        &plan.schema,
        &step.name,
        "view",
        &plan.source,
        false,
    )?;
    tx.commit()
}

/// Creates the triggers of the tables that loaded, each in one implicit transaction (its
/// function, the trigger and the probes of its statements): a trigger whose statements the
/// server refuses is not left behind half-made. The ones refused, with why.
pub fn create_triggers(client: &mut Client, plan: &Plan, loaded_ok: &[bool]) -> Vec<StepFailure> {
    let mut failed = Vec::new();
    for (tp, _) in plan.tables.iter().zip(loaded_ok).filter(|(_, ok)| **ok) {
        for step in &tp.triggers {
            if let Err(e) = client.batch_execute(&step.sql) {
                failed.push(StepFailure {
                    table: tp.name.clone(),
                    kind: StepKind::Trigger,
                    name: step.name.clone(),
                    sql: step.sql.clone(),
                    error: describe_pg_error(&e),
                });
            }
        }
    }
    failed
}
