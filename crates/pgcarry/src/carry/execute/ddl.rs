//! Everything around the load that talks DDL: the preflight (schema, tables already there),
//! the post-load steps (keys, indexes, checks, defaults, foreign keys), sequences, row counts.

use super::resume::{self, LoadedTable};
use crate::model::plan::{Identity, Plan, Step, StepKind, TablePlan};
use crate::postgres::error::describe_pg_error;
use crate::postgres::ident::{qualified, quote_ident, quote_literal};
use postgres::Client;
use std::collections::HashMap;

/// What to do with tables that already exist in the target schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IfExists {
    /// Refuse, and write nothing.
    #[default]
    Fail,
    /// Keep their definition (it must match the plan), empty them, reload.
    Truncate,
    /// Drop and recreate them.
    Drop,
    /// Keep their definition (it must match the plan) and their rows; insert the source's
    /// rows, replacing those with the same primary key (a JSON store that grew or changed).
    Upsert,
}

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
    #[error(
        "table {table} exists with different columns than the plan ({detail}); --if-exists truncate keeps \
         the existing definition, so it must match: use --if-exists drop"
    )]
    Mismatch { table: String, detail: String },
    #[error(
        "the source or the plan changed since an earlier run loaded {} into schema {schema:?} (the \
         plan's fingerprint differs), so pgcarry will not mix the two: use --if-exists drop to \
         start over, or --schema to migrate elsewhere",
        .tables.join(", ")
    )]
    PlanChanged { schema: String, tables: Vec<String> },
    #[error("{what}: {message}")]
    Server { what: String, message: String },
}

fn server(what: impl Into<String>) -> impl FnOnce(postgres::Error) -> DdlError {
    let what = what.into();
    move |e| DdlError::Server {
        what,
        message: describe_pg_error(&e),
    }
}

/// Which planned tables exist already, with their row estimate.
fn existing_tables(client: &mut Client, plan: &Plan) -> Result<Vec<String>, DdlError> {
    let names: Vec<String> = plan.tables.iter().map(|t| t.name.clone()).collect();
    let rows = client
        .query(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = ANY($2) AND c.relkind IN ('r', 'p')",
            &[&plan.schema, &names],
        )
        .map_err(server("look for existing tables"))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// A run that was killed leaves its sessions running until their current statement ends (a
/// COPY aborts at once, an index build or a foreign-key check goes on and may still commit).
/// Resuming alongside them would race for the same objects: wait until no other pgcarry
/// session is active in this database (at most ten minutes).
fn wait_for_earlier_sessions(client: &mut Client) {
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(600) {
        let busy: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND application_name = 'pgcarry' AND pid <> pg_backend_pid() AND state <> 'idle'",
                &[],
            )
            .map(|r| r.get(0))
            .unwrap_or(0);
        if busy == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
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
}

/// Creates the schema and the resume state, and deals with existing tables: those an earlier
/// run of this same plan loaded are kept (resume); others are refused, emptied or dropped as
/// `if_exists` says. Nothing is written when it refuses.
pub fn preflight(
    client: &mut Client,
    plan: &Plan,
    if_exists: IfExists,
    fingerprint: &str,
) -> Result<Preflight, DdlError> {
    wait_for_earlier_sessions(client);
    resume::ensure(client).map_err(|message| DdlError::Server {
        what: "create the pgcarry state schema".into(),
        message,
    })?;
    let existing = existing_tables(client, plan)?;
    let state = resume::loaded(client, &plan.schema).map_err(|message| DdlError::Server {
        what: "read the resume state".into(),
        message,
    })?;
    let mut out = Preflight::default();
    let mut foreign = Vec::new();
    let mut changed = Vec::new();
    for t in &existing {
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
    if !foreign.is_empty() && if_exists == IfExists::Fail {
        let mut described = Vec::new();
        for t in &foreign {
            let n: i64 = client
                .query_one(
                    &format!("SELECT count(*) FROM {}", qualified(&plan.schema, t)),
                    &[],
                )
                .map(|r| r.get(0))
                .unwrap_or(-1);
            described.push(if n >= 0 {
                format!("{t} ({n} rows)")
            } else {
                t.clone()
            });
        }
        return Err(DdlError::TablesExist {
            schema: plan.schema.clone(),
            tables: described,
        });
    }
    let mut added = Vec::new();
    for t in &foreign {
        match (plan.table(t), if_exists) {
            (Some(tp), IfExists::Truncate) => check_columns(client, &plan.schema, tp)?,
            (Some(tp), IfExists::Upsert) => added.extend(new_columns(client, &plan.schema, tp)?),
            _ => {}
        }
    }
    let mut tx = client.transaction().map_err(server("begin"))?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {}",
        quote_ident(&plan.schema)
    ))
    .map_err(server(format!("create schema {}", plan.schema)))?;
    // Whatever is not kept is loaded again: forget it.
    let all: Vec<String> = plan
        .tables
        .iter()
        .map(|t| t.name.clone())
        .filter(|t| !out.already_loaded.contains_key(t) && !out.partial.contains(t))
        .collect();
    resume::forget(&mut tx, &plan.schema, &all).map_err(|message| DdlError::Server {
        what: "reset the resume state".into(),
        message,
    })?;
    for sql in &added {
        tx.batch_execute(sql)
            .map_err(server(format!("add a column: {sql}")))?;
    }
    if !foreign.is_empty() {
        let list: Vec<String> = foreign.iter().map(|t| qualified(&plan.schema, t)).collect();
        let sql = match if_exists {
            IfExists::Drop => format!("DROP TABLE {} CASCADE", list.join(", ")),
            // Upsert keeps the rows.
            IfExists::Upsert => String::new(),
            _ => format!("TRUNCATE {}", list.join(", ")),
        };
        if !sql.is_empty() {
            tx.batch_execute(&sql)
                .map_err(server("empty the existing tables"))?;
        }
        if matches!(if_exists, IfExists::Truncate | IfExists::Upsert) {
            // Foreign keys among them would check rows during the parallel load: they are
            // recreated by the plan's steps afterwards.
            drop_foreign_keys(&mut tx, plan, &foreign)?;
            out.truncated = foreign;
        }
    }
    tx.commit().map_err(server("commit the preflight"))?;
    Ok(out)
}

/// `--if-exists upsert`: the columns the table shares with the plan must have the plan's
/// types, or one the plan's widens (new documents hold larger numbers, longer text); the
/// plan's new columns (a field documents gained) are added, nullable.
fn new_columns(client: &mut Client, schema: &str, tp: &TablePlan) -> Result<Vec<String>, DdlError> {
    let have: HashMap<String, String> = columns_of(client, schema, tp)?.into_iter().collect();
    let mut out = Vec::new();
    let qname = qualified(schema, &tp.name);
    for c in &tp.columns {
        let want = normalise_type(&c.pg_type.sql());
        match have.get(&c.name) {
            Some(t) if normalise_type(t) == want => {}
            Some(t) if widens(&normalise_type(t), &want) => out.push(format!(
                "ALTER TABLE {qname} ALTER COLUMN {} TYPE {}",
                quote_ident(&c.name),
                c.pg_type.sql()
            )),
            Some(t) => {
                return Err(DdlError::Mismatch {
                    table: tp.name.clone(),
                    detail: format!("column {} is {t}; plan wants {want}", c.name),
                });
            }
            None if c.not_null => {
                return Err(DdlError::Mismatch {
                    table: tp.name.clone(),
                    detail: format!("it lacks column {}, which must be NOT NULL", c.name),
                });
            }
            None => out.push(format!(
                "ALTER TABLE {qname} ADD COLUMN {} {}",
                quote_ident(&c.name),
                c.pg_type.sql()
            )),
        }
    }
    Ok(out)
}

/// True when every value of type `from` converts exactly to type `to` (normalised names).
fn widens(from: &str, to: &str) -> bool {
    let rank = |t: &str| match t {
        "smallint" => Some(0),
        "integer" => Some(1),
        "bigint" => Some(2),
        "numeric" => Some(3),
        _ => None,
    };
    match (rank(from), rank(to)) {
        (Some(a), Some(b)) => a < b,
        _ => from.starts_with("varchar") && to == "text",
    }
}

fn columns_of(
    client: &mut Client,
    schema: &str,
    tp: &TablePlan,
) -> Result<Vec<(String, String)>, DdlError> {
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

fn check_columns(client: &mut Client, schema: &str, tp: &TablePlan) -> Result<(), DdlError> {
    let have = columns_of(client, schema, tp)?;
    let want: Vec<(String, String)> = tp
        .columns
        .iter()
        .map(|c| (c.name.clone(), normalise_type(&c.pg_type.sql())))
        .collect();
    let have_norm: Vec<(String, String)> = have
        .iter()
        .map(|(n, t)| (n.clone(), normalise_type(t)))
        .collect();
    if have_norm != want {
        let detail = format!(
            "has {}; plan wants {}",
            have.iter()
                .map(|(n, t)| format!("{n} {t}"))
                .collect::<Vec<_>>()
                .join(", "),
            want.iter()
                .map(|(n, t)| format!("{n} {t}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Err(DdlError::Mismatch {
            table: tp.name.clone(),
            detail,
        });
    }
    Ok(())
}

fn normalise_type(t: &str) -> String {
    t.replace("character varying", "varchar")
        .replace("timestamp without time zone", "timestamp")
        .replace("timestamp with time zone", "timestamptz")
        .replace("time without time zone", "time")
        .replace(", ", ",")
}

fn drop_foreign_keys(
    tx: &mut postgres::Transaction<'_>,
    plan: &Plan,
    tables: &[String],
) -> Result<(), DdlError> {
    for t in tables {
        let rows = tx
            .query(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' \
                 AND conrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass",
                &[&plan.schema, t],
            )
            .map_err(server(format!("list foreign keys of {t}")))?;
        for r in rows {
            let name: String = r.get(0);
            tx.batch_execute(&format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                qualified(&plan.schema, t),
                quote_ident(&name)
            ))
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

/// Sets an identity's sequence past the largest key (and past `sqlite_sequence`); returns the
/// value the next INSERT without a key will get.
pub fn set_identity(
    client: &mut Client,
    schema: &str,
    table: &str,
    id: &Identity,
) -> Result<i64, String> {
    let qt = qualified(schema, table);
    let seq_sql = format!(
        "SELECT pg_get_serial_sequence({}, {})",
        quote_literal(&qt),
        quote_literal(&id.column)
    );
    let seq: Option<String> = client
        .query_one(&seq_sql, &[])
        .map(|r| r.get(0))
        .map_err(|e| describe_pg_error(&e))?;
    let seq = seq.ok_or_else(|| format!("no sequence found for {table}.{}", id.column))?;
    let max_sql = format!("SELECT max({})::bigint FROM {qt}", quote_ident(&id.column));
    let max: Option<i64> = client
        .query_one(&max_sql, &[])
        .map(|r| r.get(0))
        .map_err(|e| describe_pg_error(&e))?;
    let last = match (max, id.last_value) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    match last {
        Some(v) if v >= 1 => {
            client
                .query_one("SELECT setval($1::text::regclass, $2, true)", &[&seq, &v])
                .map_err(|e| describe_pg_error(&e))?;
            Ok(v + 1)
        }
        _ => Ok(1),
    }
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
