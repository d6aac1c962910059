//! One table's plan: its target name, its columns ([`super::columns`]), the `CREATE TABLE`
//! (with the enum types it needs), the steps after its load (primary key, NOCASE unique
//! index, indexes, checks, defaults) and its identity with the statement that resets the
//! sequence. Foreign keys, load statements and key ranges are added by `build`, which
//! sees every table.

use super::columns::{TableContext, Warn, apply_generated, column_plans};
use super::constraints::{Shape, folded_duplicates_reason, index_step, key_fold};
use super::names::NameSet;
use super::translate::{ExprContext, is_null_default, translate_default, translate_expr};
use crate::model::config::Config;
use crate::model::plan::{ColumnPlan, Step, StepKind, TablePlan, Warning, one_line};
use crate::model::schema::Table;
use crate::model::source_record::{SourceColumn, SourceRecord, Storage};
use crate::model::types::PgType;
use crate::postgres::ident::{pg_name, qualified, quote_ident};
use crate::sqlite::collation::is_application_defined;
use crate::sqlite::scan::TableStats;

/// What the target keeps of table `t` for `export`: its own SQL, and per planned column how
/// the source stored its values.
fn source_record(t: &Table, s: &TableStats, columns: &[ColumnPlan]) -> SourceRecord {
    let planned = columns.iter().filter_map(|c| {
        let i = t.columns.iter().position(|x| x.name == c.source_name)?;
        let cs = &s.columns[i];
        let classes = [
            (cs.ints, Storage::Integer),
            (cs.reals, Storage::Real),
            (cs.texts, Storage::Text),
            (cs.blobs, Storage::Blob),
        ];
        let present: Vec<Storage> = classes
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(_, st)| *st)
            .collect();
        Some(SourceColumn {
            name: c.name.clone(),
            source_name: c.source_name.clone(),
            generated: c.generated.is_some(),
            read_as: c.read_as,
            storage: match present.as_slice() {
                [one] => Some(*one),
                _ => None,
            },
            forms: if cs.forms_mixed {
                Vec::new()
            } else {
                cs.forms.clone()
            },
            json: (c.pg_type == PgType::Jsonb && cs.texts > 0)
                .then(|| cs.json_style.form(cs.text_non_ascii == 0)),
        })
    });
    SourceRecord {
        source_name: t.name.clone(),
        sql: t.sql.clone(),
        indexes: t
            .indexes
            .iter()
            .filter(|i| !i.from_constraint)
            .filter_map(|i| i.sql.clone())
            .collect(),
        autoincrement: t.autoincrement && t.sql.to_ascii_uppercase().contains("AUTOINCREMENT"),
        columns: planned.collect(),
        triggers: Vec::new(),
        fts: Vec::new(),
        views: Vec::new(),
        store: None,
    }
}

/// The plan of table `t`, whose scan is `s`.
pub(super) fn table_plan(
    t: &Table,
    s: &TableStats,
    schema: &str,
    config: &Config,
    names: &mut NameSet,
    warnings: &mut Vec<Warning>,
) -> TablePlan {
    let cfg = config.table(&t.name);
    let name = pg_name(cfg.and_then(|c| c.name.as_deref()).unwrap_or(&t.name));
    let mut warn = |column: Option<&str>, message: String| {
        warnings.push(Warning {
            table: Some(t.name.clone()),
            column: column.map(str::to_string),
            message,
        })
    };
    warn_table(
        t,
        &name,
        cfg.and_then(|c| c.name.as_ref()).is_some(),
        &mut warn,
    );
    let cx = TableContext {
        t,
        s,
        schema,
        config,
        cfg,
        name: &name,
    };
    let mut columns = column_plans(&cx, names, &mut warn);
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
    apply_generated(&cx, &mut columns, &ctx, &mut warn);
    let qname = qualified(schema, &name);
    let mut post = key_steps(&cx, &qname, &lookup, names, &mut warn);
    post.extend(index_steps(&cx, &qname, &ctx, names, &mut warn));
    post.extend(check_steps(&cx, &qname, &ctx, names, &mut warn));
    post.extend(default_steps(t, &columns, &qname, &mut warn));
    let identity = super::sequence::identity(&columns, s.max_key, t.sequence);
    let sequence = identity
        .as_ref()
        .map(|id| super::sequence::reset_step(schema, &name, id));
    let analyze = Step {
        kind: StepKind::Analyze,
        name: name.clone(),
        sql: format!("ANALYZE {qname}"),
    };
    TablePlan {
        source_record: Some(source_record(t, s, &columns)),
        source_name: t.name.clone(),
        rows: s.rows,
        source_digest: s.content_digest.clone(),
        create_sql: create_sql(&qname, &columns),
        name,
        columns,
        load: Default::default(),
        post_load: post,
        foreign_keys: Vec::new(),
        triggers: Vec::new(),
        identity,
        sequence,
        analyze: Some(analyze),
        orphan_rules: Vec::new(),
        chunks: None,
    }
}

fn warn_table(t: &Table, name: &str, renamed: bool, warn: &mut Warn<'_>) {
    if let Some(e) = &t.sql_error {
        warn(
            None,
            format!(
                "its CREATE TABLE statement could not be read ({e}): any CHECK constraint, \
                 COLLATE and generated-column expression it holds is not migrated; its SQL: {}",
                one_line(&t.sql)
            ),
        );
    }
    if name != t.name && !renamed {
        warn(
            None,
            format!("table name longer than 63 bytes: created as {name:?}"),
        );
    }
}

/// `CREATE TABLE` with columns, types, NOT NULL and identity, after the enum types it uses.
fn create_sql(qname: &str, columns: &[ColumnPlan]) -> String {
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
    format!(
        "{types_sql}CREATE TABLE {qname} (\n    {}\n)",
        defs.join(",\n    ")
    )
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

/// The primary key, and a unique index on lower() of its NOCASE columns (and those of an
/// application-defined collation): a NOCASE key refused 'ALICE' next to 'alice' in SQLite,
/// so must PostgreSQL.
fn key_steps(
    cx: &TableContext<'_>,
    qname: &str,
    lookup: &dyn Fn(&str) -> Option<(String, PgType)>,
    names: &mut NameSet,
    warn: &mut Warn<'_>,
) -> Vec<Step> {
    let t = cx.t;
    let cols: Option<Vec<String>> = t
        .primary_key
        .iter()
        .map(|c| lookup(c).map(|(n, _)| quote_ident(&n)))
        .collect();
    let Some(cols) = cols.filter(|c| !c.is_empty()) else {
        return Vec::new();
    };
    let cname = names.claim(&format!("{}_pkey", cx.name));
    let mut steps = vec![Step {
        kind: StepKind::PrimaryKey,
        name: cname.clone(),
        sql: format!(
            "ALTER TABLE {qname} ADD CONSTRAINT {} PRIMARY KEY ({})",
            quote_ident(&cname),
            cols.join(", ")
        ),
    }];
    let folded: Vec<String> = t
        .primary_key
        .iter()
        .zip(&cols)
        .map(|(src, q)| key_fold(src, q, t, cx.s, lookup).unwrap_or_else(|| q.clone()))
        .collect();
    warn_key_kept_case_sensitive(cx, warn);
    if folded != cols {
        let iname = names.claim(&format!("{}_pkey_nocase", cx.name));
        steps.push(Step {
            kind: StepKind::Unique,
            name: iname.clone(),
            sql: format!(
                "CREATE UNIQUE INDEX {} ON {qname} ({})",
                quote_ident(&iname),
                folded.join(", ")
            ),
        });
    }
    steps
}

/// Says why a primary key over an application-defined collation gets no case-insensitive
/// unique index.
fn warn_key_kept_case_sensitive(cx: &TableContext<'_>, warn: &mut Warn<'_>) {
    if !cx.s.folded_duplicates.contains(&None) {
        return;
    }
    let collation = cx.t.primary_key.iter().find_map(|k| {
        cx.t.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(k))
            .and_then(|c| c.collation.clone())
            .filter(|c| is_application_defined(c))
    });
    if let Some(coll) = collation {
        warn(
            None,
            format!(
                "primary key ({}) kept case-sensitive: {}",
                cx.t.primary_key.join(", "),
                folded_duplicates_reason(&coll)
            ),
        );
    }
}

fn index_steps(
    cx: &TableContext<'_>,
    qname: &str,
    ctx: &ExprContext<'_>,
    names: &mut NameSet,
    warn: &mut Warn<'_>,
) -> Vec<Step> {
    let (t, s) = (cx.t, cx.s);
    let non_ascii = |src: &str| {
        t.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(src))
            .is_some_and(|i| s.columns[i].text_non_ascii > 0)
    };
    // The primary key's own index, then each index created: an index that duplicates one of
    // them exactly would only slow writes down (a sample database has a unique index on each
    // primary-key column).
    let mut kept: Vec<(Shape, String)> = primary_key_shape(cx, ctx).into_iter().collect();
    let mut steps = Vec::new();
    for idx in &t.indexes {
        let folds_duplicates = s.folded_duplicates.contains(&Some(idx.name.clone()));
        match index_step(
            idx,
            cx.name,
            qname,
            ctx,
            &non_ascii,
            folds_duplicates,
            names,
        ) {
            Ok((step, shape)) => {
                if let Some((_, same)) = kept.iter().find(|(k, _)| shape.duplicates(k)) {
                    warn(
                        None,
                        format!(
                            "index {} not created: it duplicates {same} (the same columns{}), \
                             which PostgreSQL keeps already",
                            idx.name,
                            if shape.unique { ", unique" } else { "" }
                        ),
                    );
                    continue;
                }
                kept.push((shape, step.name.clone()));
                steps.push(step);
            }
            Err(msg) => warn(None, format!("index {} not created: {msg}", idx.name)),
        }
    }
    steps
}

/// The primary key's index, as an index of the table would be written.
fn primary_key_shape(cx: &TableContext<'_>, ctx: &ExprContext<'_>) -> Option<(Shape, String)> {
    let cols: Option<Vec<String>> =
        cx.t.primary_key
            .iter()
            .map(|c| (ctx.columns)(c).map(|(n, _)| quote_ident(&n)))
            .collect();
    let cols = cols.filter(|c| !c.is_empty())?;
    let shape = Shape {
        unique: true,
        terms: cols.join(", "),
        where_sql: String::new(),
    };
    Some((shape, "the primary key".to_string()))
}

fn check_steps(
    cx: &TableContext<'_>,
    qname: &str,
    ctx: &ExprContext<'_>,
    names: &mut NameSet,
    warn: &mut Warn<'_>,
) -> Vec<Step> {
    let mut steps = Vec::new();
    for (i, check) in cx.t.checks.iter().enumerate() {
        match translate_expr(&check.expr, ctx) {
            Ok(expr) => {
                let wanted = check
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{}_check{}", cx.name, i + 1));
                let cname = names.claim(&wanted);
                steps.push(Step {
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
    steps
}

fn default_steps(t: &Table, columns: &[ColumnPlan], qname: &str, warn: &mut Warn<'_>) -> Vec<Step> {
    let mut steps = Vec::new();
    for (c, col) in t.columns.iter().zip(columns) {
        let Some(default) = &c.default else { continue };
        if col.identity || is_null_default(default) {
            continue;
        }
        match translate_default(default, &col.pg_type) {
            Ok(expr) => steps.push(Step {
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
    steps
}
