//! One table's columns, decided: the type the scan chooses ([`decide`]) or the one `--config`
//! names (a PostgreSQL enum of the column's CHECK labels included), the target name, NOT NULL,
//! identity, and the warnings a person should read (names shortened past 63 bytes, collations
//! not carried over, NULLs in a primary key). Generated columns get their expression here too.

use super::decide::{Decision, decide};
use super::names::NameSet;
use super::translate::ExprContext;
use crate::model::config::{self, Config, TableConfig};
use crate::model::plan::{ColumnPlan, Repair};
use crate::model::schema::{Column, Table};
use crate::model::types::{PgType, ReadAs};
use crate::postgres::ident::{pg_name, qualified};
use crate::sqlite::collation::is_application_defined;
use crate::sqlite::scan::{ColumnStats, TableStats};

/// What deciding a table's columns needs beside the columns.
pub(super) struct TableContext<'a> {
    pub t: &'a Table,
    pub s: &'a TableStats,
    pub schema: &'a str,
    pub config: &'a Config,
    pub cfg: Option<&'a TableConfig>,
    /// The table's target name.
    pub name: &'a str,
}

/// A warning about one column (or the table, for `None`).
pub(super) type Warn<'w> = dyn FnMut(Option<&str>, String) + 'w;

/// Every column of the table, decided, in order.
pub(super) fn column_plans(
    cx: &TableContext<'_>,
    names: &mut NameSet,
    warn: &mut Warn<'_>,
) -> Vec<ColumnPlan> {
    cx.t.columns
        .iter()
        .zip(&cx.s.columns)
        .map(|(c, cs)| column_plan(cx, c, cs, names, warn))
        .collect()
}

fn column_plan(
    cx: &TableContext<'_>,
    c: &Column,
    cs: &ColumnStats,
    names: &mut NameSet,
    warn: &mut Warn<'_>,
) -> ColumnPlan {
    let col_cfg = cx.cfg.and_then(|t| t.column(&c.name));
    let configured = col_cfg.is_some_and(|c| c.pg_type.is_some());
    let configured_name = col_cfg.and_then(|c| c.name.as_deref());
    let col_name = match configured_name {
        Some(n) => pg_name(n),
        None if is_system_column(&c.name) => {
            let renamed = free_name(cx.t, &c.name);
            warn(
                Some(&c.name),
                format!(
                    "PostgreSQL reserves the name {} for a system column: created as {renamed:?}, \
                     and its keys, indexes, foreign keys, views and triggers use that name \
                     (choose another with name = \"…\" under [tables.{}.columns.{}] in --config)",
                    c.name, cx.t.name, c.name
                ),
            );
            renamed
        }
        None => pg_name(&c.name),
    };
    let mut decision = decide(&c.declared_type, cs);
    if let Some(ty) = col_cfg.and_then(|c| c.pg_type.as_deref()) {
        configure(cx, c, &col_name, ty, &mut decision, names, warn);
    }
    if col_name != c.name && configured_name.is_none() && !is_system_column(&c.name) {
        warn(
            Some(&c.name),
            format!("column name longer than 63 bytes: created as {col_name:?}"),
        );
    }
    let in_pk = cx.t.primary_key.iter().any(|k| k == &c.name);
    warn_collation(c, warn);
    if in_pk && !c.not_null && cs.nulls > 0 {
        warn(
            Some(&c.name),
            format!(
                "{} row(s) hold NULL in this primary-key column (SQLite allowed it); they go to the rejects file",
                cs.nulls
            ),
        );
    }
    let identity =
        cx.t.rowid_alias.as_deref() == Some(c.name.as_str()) && decision.pg_type.is_integer();
    let scan_checked = !configured
        && cs.text_unholdable == 0
        && matches!(
            decision.pg_type,
            PgType::Text | PgType::Jsonb | PgType::Json
        );
    ColumnPlan {
        source_name: c.name.clone(),
        name: col_name,
        declared_type: c.declared_type.clone(),
        pg_type: decision.pg_type,
        not_null: c.not_null || in_pk,
        identity,
        reason: decision.reason,
        rejects: decision.rejects,
        read_as: decision.read_as,
        repair: Repair::default(),
        generated: None,
        scan_checked,
    }
}

/// Names PostgreSQL gives every table's system columns: a user column cannot have them.
const SYSTEM_COLUMNS: [&str; 6] = ["tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"];

/// True for a name PostgreSQL refuses for a column (`xmin`; `XMIN` is another name once quoted).
pub(super) fn is_system_column(name: &str) -> bool {
    SYSTEM_COLUMNS.contains(&name)
}

/// `xmin_` for `xmin`, or `xmin_2`, `xmin_3`… when the table has a column of that name.
fn free_name(t: &Table, name: &str) -> String {
    let taken = |n: &str| t.columns.iter().any(|c| c.name.eq_ignore_ascii_case(n));
    let mut candidate = format!("{name}_");
    let mut n = 1;
    while taken(&candidate) {
        n += 1;
        candidate = format!("{name}_{n}");
    }
    candidate
}

/// The type `--config` names for the column replaces the scan's, which the reason keeps.
fn configure(
    cx: &TableContext<'_>,
    c: &Column,
    col_name: &str,
    ty: &str,
    decision: &mut Decision,
    names: &mut NameSet,
    warn: &mut Warn<'_>,
) {
    let source = cx.config.source_name();
    if let Ok(parsed) = config::parse_type(ty) {
        decision.reason = format!(
            "configured in {source} (the scan alone would choose {}: {}); values it cannot hold \
             exactly go to the rejects file",
            decision.pg_type, decision.reason
        );
        decision.pg_type = parsed;
    }
    if !config::is_enum(ty) {
        return;
    }
    match super::enums::check_labels(cx.t, &c.name) {
        Some(labels) => {
            let type_name = names.claim(&format!("{}_{col_name}", cx.name));
            decision.reason = format!(
                "configured in {source}: a PostgreSQL enum of its CHECK's labels (the scan \
                 alone would choose {}: {}); other values go to the rejects file",
                decision.pg_type, decision.reason
            );
            decision.pg_type = PgType::Enum {
                sql_name: qualified(cx.schema, &type_name),
                labels,
            };
            decision.read_as = ReadAs::Value;
        }
        None => warn(
            Some(&c.name),
            format!(
                "type = \"enum\" in {source} needs a CHECK ({} IN ('a', 'b', …)) on the column; \
                 kept {}",
                c.name, decision.pg_type
            ),
        ),
    }
}

fn warn_collation(c: &Column, warn: &mut Warn<'_>) {
    let Some(coll) = &c.collation else { return };
    if coll.eq_ignore_ascii_case("BINARY") {
        return;
    }
    if is_application_defined(coll) {
        warn(Some(&c.name), application_collation_note(coll));
        return;
    }
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

/// What a collation the application registered becomes, said plainly: pgcarry never had it.
fn application_collation_note(coll: &str) -> String {
    format!(
        "COLLATE {coll} is the application's own collation (SQLite knows only its name): \
         pgcarry read the file with a stand-in that ignores case (it compares the Unicode \
         lowercase of the text), not the application's exact order, which it cannot know. \
         Comparisons (=, ORDER BY, GROUP BY) in PostgreSQL are case-sensitive; its primary \
         key, unique constraints and indexes stay case-insensitive through indexes on lower() \
         of the column, unless its rows hold values equal when case is ignored"
    )
}

/// Generated columns PostgreSQL can compute get their expression; the others stay plain
/// columns holding their current values, with a warning.
pub(super) fn apply_generated(
    cx: &TableContext<'_>,
    columns: &mut [ColumnPlan],
    ctx: &ExprContext<'_>,
    warn: &mut Warn<'_>,
) {
    let generated: Vec<&str> =
        cx.t.columns
            .iter()
            .filter(|c| c.generated.is_some())
            .map(|c| c.name.as_str())
            .collect();
    for (c, col) in cx.t.columns.iter().zip(columns.iter_mut()) {
        let Some(g) = &c.generated else { continue };
        let others: Vec<&str> = generated
            .iter()
            .copied()
            .filter(|o| !o.eq_ignore_ascii_case(&c.name))
            .collect();
        let keep = cx
            .cfg
            .and_then(|t| t.column(&c.name))
            .and_then(|c| c.generated)
            == Some(false);
        match super::generated::expression(g, col, &others, ctx, keep) {
            Ok(expr) => {
                let virtual_note = if g.stored {
                    ""
                } else {
                    ", as PostgreSQL has no VIRTUAL columns"
                };
                col.reason = format!(
                    "{}; generated: PostgreSQL computes it (STORED{virtual_note}), and \
                     verification compares what it computes with SQLite's values",
                    col.reason
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
}
