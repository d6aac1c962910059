//! The plan's views, checked: each exists in PostgreSQL as a view, and returns as many rows as
//! the same view in SQLite (read from the snapshot). A view pgcarry could not translate is in
//! the plan's "not migrated" list, not here.

use super::Inputs;
use crate::model::outcome::StructureProblem;
use crate::postgres::error::describe_pg_error;
use crate::postgres::ident::{pg_name, qualified, quote_ident};

fn problem(view: &str, detail: String) -> StructureProblem {
    StructureProblem {
        table: view.to_string(),
        what: "view".into(),
        name: view.to_string(),
        detail,
    }
}

/// What is wrong with the plan's views in the target (nothing when every one is there with
/// SQLite's row count).
pub fn check_views(inputs: &Inputs<'_>) -> Vec<StructureProblem> {
    let plan = inputs.plan;
    if plan.views.is_empty() {
        return Vec::new();
    }
    let mut client = match (inputs.connect)() {
        Ok(c) => c,
        Err(e) => return vec![problem("views", format!("could not check: {e}"))],
    };
    let mut problems = Vec::new();
    for v in &inputs.model.views {
        let target = pg_name(&v.name);
        if !plan.views.iter().any(|s| s.name == target) {
            continue;
        }
        let exists: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n \
                 ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 \
                 AND c.relkind IN ('v', 'm'))",
                &[&plan.schema, &target],
            )
            .map(|r| r.get(0))
            .unwrap_or(false);
        if !exists {
            problems.push(problem(&target, "missing in PostgreSQL".into()));
            continue;
        }
        let pg: Result<i64, String> = client
            .query_one(
                &format!("SELECT count(*) FROM {}", qualified(&plan.schema, &target)),
                &[],
            )
            .map(|r| r.get(0))
            .map_err(|e| describe_pg_error(&e));
        let lite: Result<i64, String> = inputs
            .snapshot
            .connection()
            .query_row(
                &format!("SELECT count(*) FROM {}", quote_ident(&v.name)),
                [],
                |r| r.get(0),
            )
            .map_err(|e| e.to_string());
        match (lite, pg) {
            (Ok(a), Ok(b)) if a == b => {}
            (Ok(a), Ok(b)) => problems.push(problem(
                &target,
                format!("returns {b} rows in PostgreSQL, {a} in SQLite"),
            )),
            (Err(e), _) => problems.push(problem(&target, format!("SQLite cannot read it: {e}"))),
            (_, Err(e)) => problems.push(problem(&target, format!("cannot be read: {e}"))),
        }
    }
    problems
}
