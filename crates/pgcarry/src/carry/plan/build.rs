//! Building the [`Plan`] from the schema model and the scan: every table's plan
//! ([`super::table`]), the key ranges of large tables, the repairs asked for, the foreign keys
//! (or the orphans that keep one from being created), full-text search, views, triggers, the
//! load statements, the order tables load in, and what a JSON store's staging found.
//!
//! Refusals the plan can know are made here, before anything is written: a table wider than
//! PostgreSQL allows, and orphan rows under `--orphans fail`.

use super::constraints::{Parent, fk_step, unique_sets};
use super::names::NameSet;
use crate::model::config::Config;
use crate::model::json::JsonSummary;
use crate::model::plan::{Chunks, OrphanPolicy, OrphanReport, Plan, Repair, TablePlan, Warning};
use crate::model::schema::{ForeignKey, SourceSchema, Table};
use crate::postgres::ident::quote_ident;
use crate::sqlite::scan::TableStats;

/// PostgreSQL's limit on the columns of one table.
pub const MAX_COLUMNS: usize = 1600;

pub struct PlanOptions {
    pub source: String,
    pub schema: String,
    pub orphans: OrphanPolicy,
    /// The user's overrides (`--config`); empty when none.
    pub config: Config,
    /// Repairs the user opted into; applied to the text columns that need them.
    pub repair: Repair,
    /// Tables with more rows load in key ranges of about this many rows (0: never).
    pub chunk_rows: u64,
    /// A JSON store: what staging it found (files not loaded become warnings).
    pub json: Option<JsonSummary>,
}

/// What the plan refuses, before anything is written.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "rows reference missing parents (SQLite never checked them), and --orphans fail \
         refuses to migrate them; nothing was written:\n{}\nFix them in the source, or use \
         --orphans skip-constraint to load every row without those foreign keys, --orphans reject to \
         send those rows to the rejects file, or --orphans null to detach them",
        .0.iter().map(|o| format!("  - {}", o.describe())).collect::<Vec<_>>().join("\n")
    )]
    Orphans(Vec<OrphanReport>),
    #[error(
        "table {table} has {columns} columns; a PostgreSQL table holds at most {MAX_COLUMNS}: \
         skip columns in the config (skip = true) to migrate it; nothing was written"
    )]
    TooManyColumns { table: String, columns: usize },
}

/// Decides everything. `stats[i]` belongs to `schema.tables[i]`.
pub fn build(
    schema: &SourceSchema,
    stats: &[TableStats],
    opts: PlanOptions,
) -> Result<Plan, PlanError> {
    refuse_wide_tables(schema)?;
    let mut warnings = Vec::new();
    let mut names = NameSet::default();
    let mut tables: Vec<TablePlan> = schema
        .tables
        .iter()
        .zip(stats)
        .map(|(t, s)| {
            super::table::table_plan(t, s, &opts.schema, &opts.config, &mut names, &mut warnings)
        })
        .collect();
    for ((tp, t), s) in tables.iter_mut().zip(&schema.tables).zip(stats) {
        tp.chunks = chunks(t, s, opts.chunk_rows);
    }
    record_objects(schema, &mut tables);
    super::repair::apply(&mut tables, stats, opts.repair);
    let orphans = plan_foreign_keys(schema, &mut tables, &opts, &mut names, &mut warnings);
    if opts.orphans == OrphanPolicy::Fail && !orphans.is_empty() {
        return Err(PlanError::Orphans(orphans));
    }
    let mut skipped = schema.skipped.clone();
    let (fts_skipped, fts_notes) = super::fts::plan_fts(schema, &mut tables, &opts.schema);
    skipped.extend(fts_skipped);
    warnings.extend(fts_notes);
    let (views, not_translated) = super::views::plan_views(schema, &tables, &opts.schema);
    skipped.extend(not_translated);
    let (triggers, not_translated) = super::triggers::plan_triggers(schema, &tables, &opts.schema);
    skipped.extend(not_translated);
    for (table, step) in triggers {
        if let Some(tp) = tables.iter_mut().find(|t| t.name == table) {
            tp.triggers.push(step);
        }
    }
    super::load::apply(&mut tables, schema, &opts.schema);
    if let Some(json) = &opts.json {
        if let Some(record) = tables.iter_mut().find_map(|t| t.source_record.as_mut()) {
            record.store.clone_from(&json.recipe);
        }
        warnings.extend(json.not_loaded.iter().map(|f| Warning {
            table: None,
            column: None,
            message: format!("{}: {}", f.path, f.reason),
        }));
    }
    Ok(Plan {
        source: opts.source,
        create_schema: format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&opts.schema)),
        schema: opts.schema,
        load_order: load_order(&tables),
        tables,
        views,
        skipped,
        warnings,
        orphans,
        json: opts.json,
        schema_migrations: None,
    })
}

fn refuse_wide_tables(schema: &SourceSchema) -> Result<(), PlanError> {
    match schema.tables.iter().find(|t| t.columns.len() > MAX_COLUMNS) {
        Some(t) => Err(PlanError::TooManyColumns {
            table: t.name.clone(),
            columns: t.columns.len(),
        }),
        None => Ok(()),
    }
}

/// Largest tables first, so the last one to finish loading is a small one.
fn load_order(tables: &[TablePlan]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..tables.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(tables[i].rows));
    order
}

/// Adds to each table's source record the source's objects that go with it (see
/// `SourceRecord`), so that `export` can give them back.
fn record_objects(schema: &SourceSchema, tables: &mut [TablePlan]) {
    let views: Vec<String> = schema.views.iter().map(|v| v.sql.clone()).collect();
    for tp in tables {
        let Some(record) = tp.source_record.as_mut() else {
            continue;
        };
        let mine = |name: &str| name.eq_ignore_ascii_case(&record.source_name);
        record.triggers = schema
            .triggers
            .iter()
            .filter(|t| mine(&t.table))
            .map(|t| t.sql.clone())
            .collect();
        record.fts = schema
            .fts
            .iter()
            .filter(|f| {
                f.content
                    .as_deref()
                    .is_some_and(|c| !c.is_empty() && mine(c))
            })
            .map(|f| f.sql.clone())
            .collect();
        // The views that name this table (each is created once by `export`).
        let name = record.source_name.to_ascii_lowercase();
        record.views = views
            .iter()
            .filter(|v| v.to_ascii_lowercase().contains(&name))
            .cloned()
            .collect();
    }
}

/// Key ranges for a table whose rowid alias holds only integers, when it is large.
fn chunks(t: &Table, s: &TableStats, chunk_rows: u64) -> Option<Chunks> {
    let i = t
        .rowid_alias
        .as_ref()
        .and_then(|k| t.columns.iter().position(|c| &c.name == k))?;
    let c = &s.columns[i];
    (c.ints == s.rows)
        .then(|| Chunks::split(i, s.rows, c.int_min, c.int_max, chunk_rows))
        .flatten()
}

/// Every table's foreign keys, once every table's target names are known; returns the foreign
/// keys orphan rows keep from being created (`--orphans skip-constraint` and `fail`).
fn plan_foreign_keys(
    schema: &SourceSchema,
    tables: &mut [TablePlan],
    opts: &PlanOptions,
    names: &mut NameSet,
    warnings: &mut Vec<Warning>,
) -> Vec<OrphanReport> {
    let targets: Vec<Parent> = tables
        .iter()
        .zip(&schema.tables)
        .map(|(tp, t)| Parent {
            source_name: tp.source_name.clone(),
            name: tp.name.clone(),
            columns: tp.columns.clone(),
            unique: unique_sets(t),
        })
        .collect();
    let mut orphans = Vec::new();
    for (tp, t) in tables.iter_mut().zip(&schema.tables) {
        let mut warn = |message: String| {
            warnings.push(Warning {
                table: Some(t.name.clone()),
                column: None,
                message,
            })
        };
        for fk in &t.foreign_keys {
            if let Some(report) = kept_out(t, fk, opts.orphans) {
                warn(format!(
                    "{}: SQLite never checked them; every row is loaded and this foreign key is \
                     not created (--orphans reject, null or fail handle them otherwise)",
                    report.describe()
                ));
                orphans.push(report);
                continue;
            }
            if let Some(o) = &fk.orphans {
                let (rule, message) = super::orphans::rule(t, fk, o, opts.orphans);
                warn(message);
                tp.orphan_rules.extend(rule);
            }
            match fk_step(tp, fk, &targets, &opts.schema, names) {
                Ok(step) => tp.foreign_keys.push(step),
                Err(msg) => warn(msg),
            }
        }
    }
    let mut rules: Vec<_> = tables
        .iter_mut()
        .map(|tp| std::mem::take(&mut tp.orphan_rules))
        .collect();
    let said = super::orphans::cascade(&schema.tables, &mut rules, opts.orphans);
    for (tp, r) in tables.iter_mut().zip(rules) {
        tp.orphan_rules = r;
    }
    warnings.extend(said.into_iter().map(|(table, message)| Warning {
        table: Some(table),
        column: None,
        message,
    }));
    orphans
}

/// A foreign key with orphan rows that is not created: unless `--orphans reject|null` deal
/// with the rows.
fn kept_out(t: &Table, fk: &ForeignKey, policy: OrphanPolicy) -> Option<OrphanReport> {
    let o = fk.orphans.as_ref()?;
    if matches!(policy, OrphanPolicy::Reject | OrphanPolicy::Null) {
        return None;
    }
    Some(OrphanReport {
        table: t.name.clone(),
        foreign_key: fk.describe(&t.name),
        rows: o.rows,
        example_rowids: o.example_rowids.clone(),
    })
}
