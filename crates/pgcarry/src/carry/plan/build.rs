//! Building the [`Plan`] from the schema model and the scan: names, types, and every DDL
//! statement, each constraint translated or reported.

use super::constraints::{fk_step, index_step, nocase_fold};
use super::decide::decide;
use super::names::NameSet;
use super::translate::{ExprContext, translate_default, translate_expr};
use crate::model::plan::{ColumnPlan, Identity, Plan, Step, StepKind, TablePlan, Warning};
use crate::model::schema::{SourceSchema, Table};
use crate::model::types::PgType;
use crate::postgres::ident::{pg_name, qualified, quote_ident};
use crate::sqlite::scan::TableStats;

pub struct PlanOptions {
    pub source: String,
    pub schema: String,
    pub orphans: crate::model::plan::OrphanPolicy,
    /// The user's overrides (`--config`); empty when none.
    pub config: crate::model::config::Config,
    /// Repairs the user opted into; applied to the text columns that need them.
    pub repair: crate::model::plan::Repair,
    /// Tables with more rows load in key ranges of about this many rows (0: never).
    pub chunk_rows: u64,
}

/// Decides everything. `stats[i]` belongs to `schema.tables[i]`.
pub fn build(schema: &SourceSchema, stats: &[TableStats], opts: &PlanOptions) -> Plan {
    let mut warnings = Vec::new();
    let mut orphans = Vec::new();
    let mut names = NameSet::default();
    let mut tables: Vec<TablePlan> = schema
        .tables
        .iter()
        .zip(stats)
        .map(|(t, s)| table_plan(t, s, &opts.schema, &opts.config, &mut names, &mut warnings))
        .collect();
    for ((tp, t), s) in tables.iter_mut().zip(&schema.tables).zip(stats) {
        let key = t
            .rowid_alias
            .as_ref()
            .and_then(|k| t.columns.iter().position(|c| &c.name == k));
        tp.chunks = key.and_then(|i| {
            let c = &s.columns[i];
            (c.ints == s.rows)
                .then(|| {
                    crate::model::plan::Chunks::split(
                        i,
                        s.rows,
                        c.int_min,
                        c.int_max,
                        opts.chunk_rows,
                    )
                })
                .flatten()
        });
    }
    super::repair::apply(&mut tables, stats, opts.repair);
    // Foreign keys need every table's target names.
    let targets: Vec<(String, String, Vec<ColumnPlan>)> = tables
        .iter()
        .map(|t| (t.source_name.clone(), t.name.clone(), t.columns.clone()))
        .collect();
    for (tp, t) in tables.iter_mut().zip(&schema.tables) {
        for fk in &t.foreign_keys {
            if let Some(o) = fk.orphans.as_ref().filter(|_| {
                !matches!(
                    opts.orphans,
                    crate::model::plan::OrphanPolicy::Reject
                        | crate::model::plan::OrphanPolicy::Null
                )
            }) {
                let report = crate::model::plan::OrphanReport {
                    table: t.name.clone(),
                    foreign_key: fk.describe(&t.name),
                    rows: o.rows,
                    example_rowids: o.example_rowids.clone(),
                };
                warnings.push(Warning {
                    table: Some(t.name.clone()),
                    column: None,
                    message: format!(
                        "{}: SQLite never checked them; every row is loaded and this foreign key is \
                         not created (--orphans reject, null or fail handle them otherwise)",
                        report.describe()
                    ),
                });
                orphans.push(report);
                continue;
            }
            if let Some(o) = &fk.orphans {
                let (rule, message) = super::orphans::rule(t, fk, o, opts.orphans);
                warnings.push(Warning {
                    table: Some(t.name.clone()),
                    column: None,
                    message,
                });
                tp.orphan_rules.extend(rule);
            }
            match fk_step(tp, fk, &targets, &opts.schema, &mut names) {
                Ok(step) => tp.foreign_keys.push(step),
                Err(msg) => warnings.push(Warning {
                    table: Some(t.name.clone()),
                    column: None,
                    message: msg,
                }),
            }
        }
    }
    let mut skipped = schema.skipped.clone();
    skipped.extend(super::fts::plan_fts(schema, &mut tables, &opts.schema));
    let (views, not_translated) = super::views::plan_views(schema, &tables, &opts.schema);
    skipped.extend(not_translated);
    let (triggers, replacements) = super::triggers::plan_triggers(schema, &tables, &opts.schema);
    skipped.extend(triggers);
    warnings.extend(replacements);
    Plan {
        source: opts.source.clone(),
        schema: opts.schema.clone(),
        tables,
        views,
        skipped,
        warnings,
        orphans,
        json: None,
    }
}

fn table_plan(
    t: &Table,
    s: &TableStats,
    schema: &str,
    config: &crate::model::config::Config,
    names: &mut NameSet,
    warnings: &mut Vec<Warning>,
) -> TablePlan {
    let cfg = config.table(&t.name);
    let name = pg_name(cfg.and_then(|c| c.name.as_deref()).unwrap_or(&t.name));
    let qname = qualified(schema, &name);
    let mut warn = |column: Option<&str>, message: String| {
        warnings.push(Warning {
            table: Some(t.name.clone()),
            column: column.map(str::to_string),
            message,
        })
    };
    if let Some(e) = &t.sql_error {
        warn(
            None,
            format!(
                "its CREATE TABLE statement could not be read ({e}): any CHECK constraint, \
                 COLLATE and generated-column expression it holds is not migrated; its SQL: {}",
                crate::model::plan::one_line(&t.sql)
            ),
        );
    }
    if name != t.name && cfg.and_then(|c| c.name.as_ref()).is_none() {
        warn(
            None,
            format!("table name longer than 63 bytes: created as {name:?}"),
        );
    }
    let mut columns = Vec::new();
    for (c, cs) in t.columns.iter().zip(&s.columns) {
        let mut decision = decide(&c.declared_type, cs);
        let col_cfg = cfg.and_then(|t| t.column(&c.name));
        let configured = col_cfg.is_some_and(|c| c.pg_type.is_some());
        if let Some(ty) = col_cfg.and_then(|c| c.pg_type.as_deref())
            && let Ok(ty) = crate::model::config::parse_type(ty)
        {
            decision.reason = format!(
                "configured in {} (the scan alone would choose {}: {}); values it cannot hold \
                 exactly go to the rejects file",
                config.source_name(),
                decision.pg_type,
                decision.reason
            );
            decision.pg_type = ty;
        }
        let col_name = pg_name(col_cfg.and_then(|c| c.name.as_deref()).unwrap_or(&c.name));
        if col_cfg
            .and_then(|c| c.pg_type.as_deref())
            .is_some_and(crate::model::config::is_enum)
        {
            match super::enums::check_labels(t, &c.name) {
                Some(labels) => {
                    let type_name = names.claim(&format!("{name}_{col_name}"));
                    decision.reason = format!(
                        "configured in {}: a PostgreSQL enum of its CHECK's labels (the scan \
                         alone would choose {}: {}); other values go to the rejects file",
                        config.source_name(),
                        decision.pg_type,
                        decision.reason
                    );
                    decision.pg_type = PgType::Enum {
                        sql_name: qualified(schema, &type_name),
                        labels,
                    };
                    decision.read_as = crate::model::types::ReadAs::Value;
                }
                None => warn(
                    Some(&c.name),
                    format!(
                        "type = \"enum\" in {} needs a CHECK ({} IN ('a', 'b', …)) on the column; \
                         kept {}",
                        config.source_name(),
                        c.name,
                        decision.pg_type
                    ),
                ),
            }
        }
        if col_name != c.name && col_cfg.and_then(|c| c.name.as_ref()).is_none() {
            warn(
                Some(&c.name),
                format!("column name longer than 63 bytes: created as {col_name:?}"),
            );
        }
        let in_pk = t.primary_key.iter().any(|k| k == &c.name);
        let identity =
            t.rowid_alias.as_deref() == Some(c.name.as_str()) && decision.pg_type.is_integer();
        if let Some(coll) = &c.collation
            && !coll.eq_ignore_ascii_case("BINARY")
        {
            let kept = if coll.eq_ignore_ascii_case("NOCASE") {
                "; its primary key, unique constraints and indexes stay case-insensitive through \
                 indexes on lower() of the column"
            } else {
                ""
            };
            warn(
                Some(&c.name),
                format!(
                    "COLLATE {coll} not carried over: comparisons (=, ORDER BY, GROUP BY) in PostgreSQL \
                     are case-sensitive{kept}"
                ),
            );
        }
        if in_pk && !c.not_null && cs.nulls > 0 {
            warn(
                Some(&c.name),
                format!(
                    "{} row(s) hold NULL in this primary-key column (SQLite allowed it); they go to the rejects file",
                    cs.nulls
                ),
            );
        }
        let scan_checked = !configured
            && cs.text_unholdable == 0
            && matches!(
                decision.pg_type,
                PgType::Text | PgType::Jsonb | PgType::Json
            );
        columns.push(ColumnPlan {
            source_name: c.name.clone(),
            name: col_name,
            declared_type: c.declared_type.clone(),
            pg_type: decision.pg_type,
            not_null: c.not_null || in_pk,
            identity,
            reason: decision.reason,
            rejects: decision.rejects,
            read_as: decision.read_as,
            repair: crate::model::plan::Repair::default(),
            generated: None,
            scan_checked,
        });
    }
    let types: Vec<(String, String, PgType)> = columns
        .iter()
        .map(|c| (c.source_name.clone(), c.name.clone(), c.pg_type.clone()))
        .collect();
    let lookup = |src: &str| {
        types
            .iter()
            .find(|(s, _, _)| s.eq_ignore_ascii_case(src))
            .map(|(_, n, t)| (n.clone(), t.clone()))
    };
    let ctx = ExprContext { columns: &lookup };
    let generated: Vec<&str> = t
        .columns
        .iter()
        .filter(|c| c.generated.is_some())
        .map(|c| c.name.as_str())
        .collect();
    for (c, col) in t.columns.iter().zip(columns.iter_mut()) {
        let Some(g) = &c.generated else { continue };
        let others: Vec<&str> = generated
            .iter()
            .copied()
            .filter(|o| !o.eq_ignore_ascii_case(&c.name))
            .collect();
        let keep = cfg
            .and_then(|t| t.column(&c.name))
            .and_then(|c| c.generated)
            == Some(false);
        match super::generated::expression(g, col, &others, &ctx, keep) {
            Ok(expr) => {
                col.reason = format!(
                    "{}; generated: PostgreSQL computes it (STORED{}), and verification compares \
                     what it computes with SQLite's values",
                    col.reason,
                    if g.stored {
                        ""
                    } else {
                        ", as PostgreSQL has no VIRTUAL columns"
                    }
                );
                col.generated = Some(expr);
            }
            Err(why) => warn(
                Some(&c.name),
                format!(
                    "generated column kept as a plain column holding its current values ({why}; \
                     expression: {})",
                    g.expr
                ),
            ),
        }
    }
    let defs: Vec<String> = columns.iter().map(column_def).collect();
    let types_sql: String = columns
        .iter()
        .filter_map(|c| match &c.pg_type {
            PgType::Enum { sql_name, labels } => {
                Some(super::enums::create_type_sql(sql_name, labels))
            }
            _ => None,
        })
        .collect();
    let create_sql = format!(
        "{types_sql}CREATE TABLE {qname} (\n    {}\n)",
        defs.join(",\n    ")
    );
    let target_cols = |cols: &[String]| -> Option<Vec<String>> {
        cols.iter()
            .map(|c| lookup(c).map(|(n, _)| quote_ident(&n)))
            .collect()
    };

    let mut post = Vec::new();
    if !t.primary_key.is_empty()
        && let Some(cols) = target_cols(&t.primary_key)
    {
        let cname = names.claim(&format!("{name}_pkey"));
        post.push(Step {
            kind: StepKind::PrimaryKey,
            name: cname.clone(),
            sql: format!(
                "ALTER TABLE {qname} ADD CONSTRAINT {} PRIMARY KEY ({})",
                quote_ident(&cname),
                cols.join(", ")
            ),
        });
        // A NOCASE key refused 'ALICE' next to 'alice' in SQLite: so must PostgreSQL.
        let folded: Vec<String> = t
            .primary_key
            .iter()
            .zip(&cols)
            .map(|(src, q)| nocase_fold(src, q, t, s, &lookup).unwrap_or_else(|| q.clone()))
            .collect();
        if folded != cols {
            let iname = names.claim(&format!("{name}_pkey_nocase"));
            post.push(Step {
                kind: StepKind::Unique,
                name: iname.clone(),
                sql: format!(
                    "CREATE UNIQUE INDEX {} ON {qname} ({})",
                    quote_ident(&iname),
                    folded.join(", ")
                ),
            });
        }
    }
    let non_ascii = |src: &str| {
        t.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(src))
            .is_some_and(|i| s.columns[i].text_non_ascii > 0)
    };
    for idx in &t.indexes {
        match index_step(idx, &name, &qname, &ctx, &non_ascii, names) {
            Ok(step) => post.push(step),
            Err(msg) => warn(None, format!("index {} not created: {msg}", idx.name)),
        }
    }
    for (i, check) in t.checks.iter().enumerate() {
        match translate_expr(&check.expr, &ctx) {
            Ok(expr) => {
                let wanted = check
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{name}_check{}", i + 1));
                let cname = names.claim(&wanted);
                post.push(Step {
                    kind: StepKind::Check,
                    name: cname.clone(),
                    sql: format!(
                        "ALTER TABLE {qname} ADD CONSTRAINT {} CHECK ({expr})",
                        quote_ident(&cname)
                    ),
                });
            }
            Err(e) => warn(None, format!("CHECK ({}) not created: {e}", check.expr)),
        }
    }
    for (c, col) in t.columns.iter().zip(&columns) {
        let Some(default) = &c.default else { continue };
        if col.identity {
            continue;
        }
        match translate_default(default, &col.pg_type) {
            Ok(expr) => post.push(Step {
                kind: StepKind::Default,
                name: col.name.clone(),
                sql: format!(
                    "ALTER TABLE {qname} ALTER COLUMN {} SET DEFAULT {expr}",
                    quote_ident(&col.name)
                ),
            }),
            Err(e) => warn(Some(&c.name), format!("DEFAULT {default} not set: {e}")),
        }
    }
    let identity = columns.iter().find(|c| c.identity).map(|c| Identity {
        column: c.name.clone(),
        last_value: match (s.max_key, t.sequence) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        },
    });
    TablePlan {
        source_name: t.name.clone(),
        name,
        rows: s.rows,
        source_digest: s.content_digest.clone(),
        columns,
        create_sql,
        post_load: post,
        foreign_keys: Vec::new(),
        identity,
        orphan_rules: Vec::new(),
        chunks: None,
    }
}

/// A column as `CREATE TABLE` declares it.
fn column_def(c: &ColumnPlan) -> String {
    let mut d = format!("{} {}", quote_ident(&c.name), c.pg_type.sql());
    if c.identity {
        d.push_str(" GENERATED BY DEFAULT AS IDENTITY");
    }
    if let Some(expr) = &c.generated {
        d.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED"));
    }
    if c.not_null {
        d.push_str(" NOT NULL");
    }
    d
}
