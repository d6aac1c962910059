//! What in the target is pgcarry's: the tables and views it created (or was told to adopt
//! with `--adopt`), recorded in `pgcarry.created` with their oid in the transaction that
//! created them. pgcarry writes into, empties or drops only those; and before it drops one
//! (`--if-exists drop`), it lists what else would go with it — views, foreign keys of other
//! tables, triggers, policies, indexes, grants — that it did not create.

use crate::model::plan::{Plan, TablePlan};
use crate::postgres::catalog::{self, Dependent, DependentKind};
use crate::postgres::error::describe_pg_error;
use crate::postgres::state_sql;
use postgres::{Client, GenericClient};
use std::collections::HashMap;

/// One object pgcarry recorded as its own.
#[derive(Debug, Clone)]
pub struct Created {
    pub relid: u32,
    pub adopted: bool,
    /// The grants it had when created (`grantee-oid:PRIVILEGE`): default privileges.
    pub grants: Vec<String>,
}

/// What pgcarry created in `schema`, by name.
pub fn created(client: &mut Client, schema: &str) -> Result<HashMap<String, Created>, String> {
    let rows = client
        .query(state_sql::CREATED, &[&schema])
        .map_err(|e| describe_pg_error(&e))?;
    Ok(rows
        .iter()
        .map(|r| {
            let c = Created {
                relid: r.get(2),
                adopted: r.get(3),
                grants: r.get(4),
            };
            (r.get(0), c)
        })
        .collect())
}

/// Records table or view `name` of `schema` as pgcarry's: created from `source`, or adopted.
pub fn record(
    client: &mut impl GenericClient,
    schema: &str,
    name: &str,
    kind: &str,
    source: &str,
    adopted: bool,
) -> Result<(), postgres::Error> {
    client
        .execute(
            state_sql::RECORD_CREATED,
            &[&schema, &name, &kind, &source, &adopted],
        )
        .map(drop)
}

/// True when the existing relation `name` with oid `relid` is the one pgcarry recorded.
pub fn is_ours(created: &HashMap<String, Created>, name: &str, relid: u32) -> bool {
    created.get(name).is_some_and(|c| c.relid == relid)
}

/// The objects that would be dropped with `tables` (existing, with their oid) and that
/// pgcarry did not create, as PostgreSQL describes them.
pub fn foreign_dependents(
    client: &mut Client,
    plan: &Plan,
    created: &HashMap<String, Created>,
    tables: &[(String, u32)],
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (name, relid) in tables {
        let found = catalog::dependents(client, name, *relid).map_err(|e| describe_pg_error(&e))?;
        let own_indexes: Vec<&str> = found
            .iter()
            .filter(|d| d.kind == DependentKind::Constraint && d.relid == *relid)
            .map(|d| d.name.as_str())
            .collect();
        for d in &found {
            // A constraint's own index goes with the constraint: named once.
            let backs_constraint =
                d.kind == DependentKind::Index && own_indexes.contains(&d.name.as_str());
            if !backs_constraint && !is_ours_dependent(plan, created, d) {
                out.push(d.description.clone());
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// True for a dependent pgcarry made: a default, a constraint or index the plan names on
/// one of pgcarry's tables, a view it recorded, a grant the table had when created.
fn is_ours_dependent(plan: &Plan, created: &HashMap<String, Created>, d: &Dependent) -> bool {
    let ours_rel = created.values().any(|c| c.relid == d.relid);
    let planned = |table: &str| plan.table(table).is_some_and(|tp| names_step(tp, &d.name));
    match d.kind {
        DependentKind::Default => true,
        DependentKind::View => ours_rel,
        DependentKind::Constraint | DependentKind::Index => ours_rel && planned(&d.rel_name),
        DependentKind::Grant => created
            .get(&d.table)
            .is_some_and(|c| !c.adopted && c.grants.contains(&d.name)),
        DependentKind::Trigger => ours_rel && planned(&d.rel_name),
        DependentKind::Rule | DependentKind::Policy => false,
        DependentKind::Other => false,
    }
}

/// True when one of the table's planned steps creates an object named `name`.
fn names_step(tp: &TablePlan, name: &str) -> bool {
    tp.post_load
        .iter()
        .chain(&tp.foreign_keys)
        .chain(&tp.triggers)
        .any(|s| s.name == name)
}
