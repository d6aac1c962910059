//! Everything around the load that talks DDL: the preflight (schema, tables already there),
//! the post-load steps (keys, indexes, checks, defaults, foreign keys), sequences, row counts.
//! Every statement that changes something is the plan's; what is read here is the catalog
//! (which tables exist, their columns and foreign keys) and the row counts. What an existing
//! table must be, and what an upsert changes in it, [`existing`] decides.

use super::ownership;
use super::resume::{self, LoadedTable};
use crate::carry::plan::existing;
use crate::model::plan::{Plan, Step, StepKind, TablePlan};
use crate::postgres::error::describe_pg_error;
use crate::postgres::ident::{qualified, quote_ident};
use postgres::Client;
use std::collections::HashMap;

pub use crate::model::plan::IfExists;

#[derive(Debug, thiserror::Error)]
pub enum DdlError {
    #[error(
        "{} already exist{} in schema {schema:?}: {}. pgcarry writes nothing into existing tables unless told \
         how: --if-exists drop recreates them, --if-exists truncate empties and reloads them, or choose \
         another --schema",
        if .tables.len() == 1 { "a table" } else { "tables" },
        if .tables.len() == 1 { "s" } else { "" },
        .tables.join(", ")
    )]
    TablesExist { schema: String, tables: Vec<String> },
    #[error("{}", not_ours(schema, tables, names, *views))]
    NotOurs {
        schema: String,
        /// Each table with its row count (each view by name).
        tables: Vec<String>,
        names: Vec<String>,
        /// Views of the plan's names, which pgcarry would replace.
        views: bool,
    },
    #[error(
        "--if-exists drop would also drop what pgcarry did not create, as these depend on {}: {}. \
         Nothing was written. Drop or move them yourself, migrate into another --schema, or add \
         --cascade to drop them with the tables (each is then named in the summary and the report)",
        .tables.join(", "),
        .objects.join("; ")
    )]
    Dependents {
        tables: Vec<String>,
        objects: Vec<String>,
    },
    #[error(
        "table {table} exists with different columns than the plan ({detail}); {}",
        mismatch_hint(*.mode)
    )]
    Mismatch {
        table: String,
        detail: String,
        mode: IfExists,
    },
    #[error(
        "the source or the plan changed since an earlier run loaded {} into schema {schema:?} (the \
         plan's fingerprint differs), so pgcarry will not mix the two: use --if-exists drop to \
         start over, or --schema to migrate elsewhere",
        .tables.join(", ")
    )]
    PlanChanged { schema: String, tables: Vec<String> },
    #[error("{what}: {message}")]
    Server { what: String, message: String },
    #[error(transparent)]
    Refused(super::proof::Refused),
}

impl From<super::proof::ProofError> for DdlError {
    fn from(e: super::proof::ProofError) -> DdlError {
        match e {
            super::proof::ProofError::Refused(r) => DdlError::Refused(r),
            super::proof::ProofError::Server(message) => DdlError::Server {
                what: "prove the plan's DDL before the load".into(),
                message,
            },
        }
    }
}

/// The refusal of tables (or views) pgcarry did not create, with what to do.
fn not_ours(schema: &str, found: &[String], names: &[String], views: bool) -> String {
    let one = found.len() == 1;
    let (what, meant, action) = if views {
        (
            if one { "a view" } else { "views" },
            "replaced by the source's view",
            "",
        )
    } else {
        (
            if one { "a table" } else { "tables" },
            "to receive the data",
            " and choose --if-exists truncate, upsert or drop",
        )
    };
    format!(
        "{what} exist{} in schema {schema:?} that pgcarry did not create: {}. pgcarry never \
         writes into, replaces, empties or drops what it did not create, whatever --if-exists \
         says; nothing was written. Migrate into another --schema, or, if {} meant {meant}, \
         name {} with --adopt (e.g. --adopt {}){action}",
        if one { "s" } else { "" },
        found.join(", "),
        if one { "it is" } else { "they are" },
        if one { "it" } else { "each" },
        names.join(" --adopt "),
    )
}

/// What to do about a table whose columns do not fit, in the mode that refused it.
fn mismatch_hint(mode: IfExists) -> &'static str {
    match mode {
        IfExists::Upsert => {
            "--if-exists upsert adds the plan's missing columns and widens types, but cannot \
             change a column's type to another kind or drop one: use --if-exists drop to \
             recreate the table"
        }
        _ => {
            "--if-exists truncate keeps the existing definition, so it must match: use \
             --if-exists drop to recreate the table"
        }
    }
}

fn server(what: impl Into<String>) -> impl FnOnce(postgres::Error) -> DdlError {
    let what = what.into();
    move |e| DdlError::Server {
        what,
        message: describe_pg_error(&e),
    }
}

/// Which planned tables (or, `views`, views) exist already, with their oid.
fn existing_relations(
    client: &mut Client,
    plan: &Plan,
    views: bool,
) -> Result<Vec<(String, u32)>, DdlError> {
    let (names, kinds): (Vec<String>, &str) = if views {
        (plan.views.iter().map(|v| v.name.clone()).collect(), "vm")
    } else {
        (plan.tables.iter().map(|t| t.name.clone()).collect(), "rp")
    };
    let rows = client
        .query(
            "SELECT c.relname, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = ANY($2) AND strpos($3, c.relkind::text) > 0",
            &[&plan.schema, &names, &kinds],
        )
        .map_err(server("look for existing tables and views"))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// What the preflight found and did.
#[derive(Debug, Default)]
pub struct Preflight {
    /// Existing tables emptied under `--if-exists truncate` (or kept for `upsert`): loaded
    /// without CREATE.
    pub truncated: Vec<String>,
    /// Tables an earlier run of the same plan loaded (it was interrupted, or it finished):
    /// not loaded again.
    pub already_loaded: HashMap<String, LoadedTable>,
    /// Tables an earlier run of the same plan loaded some key ranges of: kept, and loaded
    /// from the next range on.
    pub partial: Vec<String>,
    /// What pgcarry did not create and `--cascade` dropped with the tables.
    pub dropped: Vec<String>,
}

/// What the user said about tables that exist already.
#[derive(Debug, Clone, Copy)]
pub struct Existing<'a> {
    pub if_exists: IfExists,
    /// Tables pgcarry did not create that it may act on (`--adopt`).
    pub adopt: &'a [String],
    /// `--cascade`: drop what depends on a dropped table, even what pgcarry did not create.
    pub cascade: bool,
}

/// Creates the schema and the state tables, and deals with existing tables: a table pgcarry
/// did not create is refused unless adopted; those an earlier run of this same plan loaded
/// are kept (resume); others are refused, emptied or dropped as `if_exists` says (a drop that
/// would take objects pgcarry did not create with it is refused unless `cascade`). Nothing is
/// written when it refuses. The caller holds the schema's run lock
/// ([`crate::postgres::lock`]): no other run, and no session left by a killed one, writes
/// into the schema meanwhile.
pub fn preflight(
    client: &mut Client,
    plan: &Plan,
    told: Existing<'_>,
    fingerprint: &str,
) -> Result<Preflight, DdlError> {
    let if_exists = told.if_exists;
    resume::ensure(client).map_err(|message| DdlError::Server {
        what: "create the pgcarry state schema".into(),
        message,
    })?;
    let existing = existing_relations(client, plan, false)?;
    let created = ownership::created(client, &plan.schema).map_err(|message| DdlError::Server {
        what: "read which tables pgcarry created".into(),
        message,
    })?;
    // A view of the plan's is created with CREATE OR REPLACE: one that is not pgcarry's is
    // refused like a table.
    let not_ours = |found: &[(String, u32)]| -> Vec<String> {
        found
            .iter()
            .filter(|(t, oid)| !ownership::is_ours(&created, t, *oid) && !told.adopt.contains(t))
            .map(|(t, _)| t.clone())
            .collect()
    };
    let views = not_ours(&existing_relations(client, plan, true)?);
    if !views.is_empty() {
        return Err(DdlError::NotOurs {
            schema: plan.schema.clone(),
            tables: views.clone(),
            names: views,
            views: true,
        });
    }
    let (ours, theirs): (Vec<_>, Vec<_>) = existing
        .iter()
        .cloned()
        .partition(|(t, oid)| ownership::is_ours(&created, t, *oid));
    let refused = not_ours(&existing);
    if !refused.is_empty() {
        return Err(DdlError::NotOurs {
            schema: plan.schema.clone(),
            tables: describe_existing(client, plan, &refused),
            names: refused,
            views: false,
        });
    }
    let state = resume::loaded(client, &plan.schema).map_err(|message| DdlError::Server {
        what: "read the resume state".into(),
        message,
    })?;
    let ours_names: Vec<String> = ours.iter().map(|(t, _)| t.clone()).collect();
    let (mut out, mut foreign) = sort_existing(plan, &ours_names, &state, if_exists, fingerprint)?;
    let adopted: Vec<String> = theirs.iter().map(|(t, _)| t.clone()).collect();
    foreign.extend(adopted.iter().cloned());
    if !foreign.is_empty() && if_exists == IfExists::Fail {
        return Err(DdlError::TablesExist {
            schema: plan.schema.clone(),
            tables: describe_existing(client, plan, &foreign),
        });
    }
    if if_exists == IfExists::Drop {
        out.dropped = check_dependents(client, plan, &created, &existing, &foreign, told)?;
    }
    let added = reconcile_existing(client, plan, &foreign, if_exists)?;
    let mut tx = client.transaction().map_err(server("begin"))?;
    tx.batch_execute(&plan.create_schema)
        .map_err(server(format!("create schema {}", plan.schema)))?;
    // Whatever is not kept is loaded again: forget it.
    let reloaded: Vec<String> = plan
        .tables
        .iter()
        .map(|t| t.name.clone())
        .filter(|t| !out.already_loaded.contains_key(t) && !out.partial.contains(t))
        .collect();
    resume::forget(&mut tx, &plan.schema, &reloaded).map_err(|message| DdlError::Server {
        what: "reset the resume state".into(),
        message,
    })?;
    if if_exists != IfExists::Drop {
        for t in &adopted {
            ownership::record(&mut tx, &plan.schema, t, "table", &plan.source, true)
                .map_err(server(format!("record that {t} is adopted")))?;
        }
    }
    for sql in &added {
        tx.batch_execute(sql)
            .map_err(server(format!("add a column: {sql}")))?;
    }
    let out = clear_existing(&mut tx, plan, foreign, if_exists, out)?;
    let kept = |t: &TablePlan| {
        out.already_loaded.contains_key(&t.name)
            || out.partial.contains(&t.name)
            || out.truncated.contains(&t.name)
    };
    super::proof::prove(&mut tx, plan, &|t| !kept(t))?;
    tx.commit().map_err(server("commit the preflight"))?;
    Ok(out)
}

/// Under `--if-exists drop`: what would be dropped with `tables` that pgcarry did not create.
/// Refused unless `--cascade`; then returned, to be named in the report.
fn check_dependents(
    client: &mut Client,
    plan: &Plan,
    created: &HashMap<String, ownership::Created>,
    existing: &[(String, u32)],
    tables: &[String],
    told: Existing<'_>,
) -> Result<Vec<String>, DdlError> {
    let dropped: Vec<(String, u32)> = existing
        .iter()
        .filter(|(t, _)| tables.contains(t))
        .cloned()
        .collect();
    let objects =
        ownership::foreign_dependents(client, plan, created, &dropped).map_err(|message| {
            DdlError::Server {
                what: "list what depends on the tables to drop".into(),
                message,
            }
        })?;
    if objects.is_empty() || told.cascade {
        return Ok(objects);
    }
    Err(DdlError::Dependents {
        tables: tables.to_vec(),
        objects,
    })
}

/// Sorts the planned tables that exist: kept for this same plan (loaded, or loaded in part),
/// or not ours to keep (returned beside). Refuses a table an earlier run of another plan
/// loaded, unless told what to do with it.
fn sort_existing(
    plan: &Plan,
    existing: &[String],
    state: &HashMap<String, LoadedTable>,
    if_exists: IfExists,
    fingerprint: &str,
) -> Result<(Preflight, Vec<String>), DdlError> {
    let mut out = Preflight::default();
    let mut foreign = Vec::new();
    let mut changed = Vec::new();
    for t in existing {
        match state.get(t) {
            Some(s) if if_exists != IfExists::Drop && s.fingerprint == fingerprint => {
                if s.loaded_through.is_some() {
                    out.partial.push(t.clone());
                } else {
                    out.already_loaded.insert(t.clone(), s.clone());
                }
            }
            Some(_) if if_exists == IfExists::Fail => changed.push(t.clone()),
            _ => foreign.push(t.clone()),
        }
    }
    if !changed.is_empty() {
        return Err(DdlError::PlanChanged {
            schema: plan.schema.clone(),
            tables: changed,
        });
    }
    Ok((out, foreign))
}

/// The existing tables with their row counts, for the refusal.
fn describe_existing(client: &mut Client, plan: &Plan, tables: &[String]) -> Vec<String> {
    tables
        .iter()
        .map(|t| match count_rows(client, &plan.schema, t) {
            Ok(n) => format!("{t} ({n} rows)"),
            Err(_) => t.clone(),
        })
        .collect()
}

/// Checks the existing tables against the plan, as [`existing`] decides: under `truncate`
/// they must match; under `upsert`, the statements that add or widen their columns.
fn reconcile_existing(
    client: &mut Client,
    plan: &Plan,
    tables: &[String],
    if_exists: IfExists,
) -> Result<Vec<String>, DdlError> {
    let mut added = Vec::new();
    for t in tables {
        let Some(tp) = plan.table(t) else { continue };
        let mismatch = |detail: String| DdlError::Mismatch {
            table: tp.name.clone(),
            detail,
            mode: if_exists,
        };
        match if_exists {
            IfExists::Truncate => {
                let have = columns_of(client, &plan.schema, tp)?;
                existing::check_same(tp, &have).map_err(mismatch)?;
            }
            IfExists::Upsert => {
                let have = columns_of(client, &plan.schema, tp)?;
                added.extend(existing::reconcile(&plan.schema, tp, &have).map_err(mismatch)?);
            }
            _ => {}
        }
    }
    Ok(added)
}

/// Drops or empties the existing tables as `if_exists` says (an upsert keeps their rows);
/// under `truncate` and `upsert` their foreign keys are dropped first, as they would check
/// rows during the parallel load (the plan's steps recreate them afterwards).
fn clear_existing(
    tx: &mut postgres::Transaction<'_>,
    plan: &Plan,
    foreign: Vec<String>,
    if_exists: IfExists,
    mut out: Preflight,
) -> Result<Preflight, DdlError> {
    let kept = matches!(if_exists, IfExists::Truncate | IfExists::Upsert);
    if kept {
        drop_foreign_keys(tx, plan, &foreign)?;
    }
    for tp in foreign.iter().filter_map(|t| plan.table(t)) {
        let sql = match if_exists {
            IfExists::Drop => &tp.load.drop,
            IfExists::Truncate => &tp.load.truncate,
            _ => continue,
        };
        tx.batch_execute(sql)
            .map_err(server("empty the existing tables"))?;
    }
    if kept {
        out.truncated = foreign;
    }
    Ok(out)
}

fn columns_of(
    client: &mut Client,
    schema: &str,
    tp: &TablePlan,
) -> Result<Vec<existing::Column>, DdlError> {
    let rows = client
        .query(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
             WHERE a.attrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass \
             AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' \
             ORDER BY a.attnum",
            &[&schema, &tp.name],
        )
        .map_err(server(format!("read the columns of {}", tp.name)))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Drops the foreign keys of `tables` with the plan's statement, named as the catalog says.
fn drop_foreign_keys(
    tx: &mut postgres::Transaction<'_>,
    plan: &Plan,
    tables: &[String],
) -> Result<(), DdlError> {
    for tp in tables.iter().filter_map(|t| plan.table(t)) {
        let t = &tp.name;
        let rows = tx
            .query(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' \
                 AND conrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass",
                &[&plan.schema, t],
            )
            .map_err(server(format!("list foreign keys of {t}")))?;
        for r in rows {
            let name: String = r.get(0);
            let sql = tp
                .load
                .drop_foreign_key
                .replace(crate::carry::plan::load::CONSTRAINT, &quote_ident(&name));
            tx.batch_execute(&sql)
                .map_err(server(format!("drop foreign key {name} of {t}")))?;
        }
    }
    Ok(())
}

/// True when an object with the step's name already exists (after `--if-exists truncate`).
fn step_exists(client: &mut Client, schema: &str, table: &str, step: &Step) -> bool {
    let sql = match step.kind {
        StepKind::Default => return false,
        StepKind::Index => {
            "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $3 AND $2 <> '')"
        }
        StepKind::PrimaryKey => {
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'p' AND $3 <> '' AND \
             conrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass)"
        }
        _ => {
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = $3 AND \
             conrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass) \
             OR EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $3)"
        }
    };
    client
        .query_one(sql, &[&schema, &table, &step.name])
        .map(|r| r.get(0))
        .unwrap_or(false)
}

/// Runs one post-load step; the error text when the server refuses it.
pub fn run_step(
    client: &mut Client,
    schema: &str,
    table: &str,
    step: &Step,
    may_exist: bool,
) -> Result<(), String> {
    if may_exist && step_exists(client, schema, table, step) {
        return Ok(());
    }
    match client.batch_execute(&step.sql) {
        Ok(()) => Ok(()),
        // Resuming: an earlier run's session may have finished this very step meanwhile.
        Err(e)
            if may_exist
                && e.as_db_error()
                    .is_some_and(|db| matches!(db.code().code(), "42710" | "42P07" | "42P16")) =>
        {
            Ok(())
        }
        Err(e) => Err(describe_pg_error(&e)),
    }
}

/// Runs the plan's statement that sets an identity's sequence past the largest key; returns
/// the value the next INSERT without a key will get.
pub fn set_identity(
    client: &mut Client,
    table: &str,
    column: &str,
    step: &Step,
) -> Result<i64, String> {
    let next: Option<i64> = client
        .query_one(step.sql.as_str(), &[])
        .map(|r| r.get(0))
        .map_err(|e| describe_pg_error(&e))?;
    next.ok_or_else(|| format!("no sequence found for {table}.{column}"))
}

/// Rows in a table, counted.
pub fn count_rows(client: &mut Client, schema: &str, table: &str) -> Result<u64, String> {
    let n: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM {}", qualified(schema, table)),
            &[],
        )
        .map(|r| r.get(0))
        .map_err(|e| describe_pg_error(&e))?;
    u64::try_from(n).map_err(|_| "negative count".to_string())
}
