//! The plan as a person reads it: tables, columns with their types and reasons, keys, indexes,
//! constraints, warnings and what is not migrated; with `sql`, every statement that will run,
//! in order, grouped by phase ([`super::statements`]).

use super::statements::Runs;
use crate::model::plan::widest;
use crate::model::plan::{IfExists, Plan, StepKind, TablePlan};
use std::fmt::Write;

pub fn render(plan: &Plan, sql: bool) -> String {
    let mut o = String::new();
    let rows: u64 = plan.tables.iter().map(|t| t.rows).sum();
    let _ = writeln!(
        o,
        "Plan: {} → schema {:?}: {} table(s), {} row(s)",
        plan.source,
        plan.schema,
        plan.tables.len(),
        rows
    );
    if let Some(j) = &plan.json {
        render_json(&mut o, j);
    }
    for t in &plan.tables {
        render_table(&mut o, t, &plan.schema);
    }
    if !plan.views.is_empty() {
        let _ = writeln!(o, "\nViews ({}):", plan.views.len());
        for v in &plan.views {
            let _ = writeln!(o, "  {}", v.name);
        }
    }
    if let Some(n) = plan.schema_migrations {
        let _ = writeln!(
            o,
            "\nschema migration records: {n} applied migrations carried to \
             pgcarry.schema_migrations"
        );
    }
    render_notes(&mut o, plan);
    if sql {
        render_statements(&mut o, plan);
    }
    o
}

/// One table: its columns with type and reason, its steps, its identity.
fn render_table(o: &mut String, t: &TablePlan, schema: &str) {
    let chunks = t.chunks.as_ref().map_or(String::new(), |c| {
        format!(
            ", loaded in {} key ranges of {}, each committed on its own",
            c.ranges.len(),
            t.columns[c.column].name
        )
    });
    let _ = writeln!(o, "\n{} ({} rows{chunks})", t.name, t.rows);
    let w = widest(t.columns.iter().map(|c| c.name.as_str()));
    let tw = t
        .columns
        .iter()
        .map(|c| type_label(c).len())
        .max()
        .unwrap_or(0);
    for c in &t.columns {
        let _ = writeln!(
            o,
            "  {:w$}  {:tw$}  {}",
            c.name,
            type_label(c),
            c.reason,
            w = w,
            tw = tw
        );
        if !c.repair.is_none() {
            let _ = writeln!(
                o,
                "  {:w$}  {:tw$}  ~ text PostgreSQL cannot hold is repaired ({}); the report counts the values changed",
                "",
                "",
                c.repair.flags(),
                w = w,
                tw = tw
            );
        }
        if let Some(r) = &c.rejects {
            let _ = writeln!(o, "  {:w$}  {:tw$}  ! {r}", "", "", w = w, tw = tw);
        }
    }
    for s in t.post_load.iter().chain(&t.foreign_keys).chain(&t.triggers) {
        let kind = match s.kind {
            StepKind::PrimaryKey => "primary key",
            StepKind::Unique => "unique",
            StepKind::Index => "index",
            StepKind::Check => "check",
            StepKind::Default => "default",
            StepKind::ForeignKey => "foreign key",
            StepKind::View => "view",
            StepKind::Trigger => "trigger",
            StepKind::Search => "search",
            StepKind::Sequence => "sequence",
            StepKind::Analyze => "analyze",
        };
        let _ = writeln!(o, "  {kind:<12} {}{}", s.name, key_detail(s, schema));
    }
    if let Some(id) = &t.identity {
        let _ = match id.last_value {
            Some(v) => writeln!(o, "  {:<12} {} continues after {v}", "identity", id.column),
            None => writeln!(o, "  {:<12} {} starts at 1", "identity", id.column),
        };
    }
}

/// Warnings, what is not migrated, and the rows the scan knows will be rejected.
fn render_notes(o: &mut String, plan: &Plan) {
    if !plan.warnings.is_empty() {
        let _ = writeln!(o, "\nWarnings:");
        for w in &plan.warnings {
            let place = match (&w.table, &w.column) {
                (Some(t), Some(c)) => format!("{t}.{c}: "),
                (Some(t), None) => format!("{t}: "),
                _ => String::new(),
            };
            let _ = writeln!(o, "  - {place}{}", w.message);
        }
    }
    if !plan.skipped.is_empty() {
        let _ = writeln!(o, "\nNot migrated:");
        for s in &plan.skipped {
            // Long SQL is cut here; `--json` has it whole.
            let reason: String = s.reason.chars().take(200).collect();
            let cut = if reason.len() < s.reason.len() {
                "…"
            } else {
                ""
            };
            let _ = writeln!(o, "  - {}: {reason}{cut}", s.name);
        }
    }
    let rejects: Vec<_> = plan
        .tables
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.rejects.is_some())
                .map(move |c| (t, c))
        })
        .collect();
    if !rejects.is_empty() {
        let _ = writeln!(o, "\nRows that will be rejected:");
        for (t, c) in rejects {
            let _ = writeln!(
                o,
                "  - {}.{}: {}",
                t.name,
                c.name,
                c.rejects.as_deref().unwrap_or("")
            );
        }
    }
}

/// Every statement `migrate` sends, phase by phase, each with when it runs unless always.
fn render_statements(o: &mut String, plan: &Plan) {
    let _ = writeln!(o, "\nStatements, in the order migrate sends them:");
    for phase in super::statements::phases(plan) {
        let _ = writeln!(o, "\n-- {}", phase.title);
        for s in &phase.statements {
            if let Some(note) = runs_note(s.runs) {
                let _ = writeln!(o, "-- {note}:");
            }
            let _ = writeln!(o, "{};", s.sql);
        }
    }
}

fn runs_note(runs: Runs) -> Option<String> {
    Some(match runs {
        Runs::Always => return None,
        Runs::LockSession => {
            "on the run's lock session (its own connection, held until the run ends)".into()
        }
        Runs::EveryConnection => "on every other connection of the run, as it opens".into(),
        Runs::ResumeState => "pgcarry's own state (schema pgcarry)".into(),
        Runs::Adopted => "each table named with --adopt (truncate, upsert)".into(),
        Runs::NextRanges => "each key range after the first".into(),
        Runs::Existing(modes) => {
            let modes: Vec<&str> = modes
                .iter()
                .map(|m| match m {
                    IfExists::Fail => "fail",
                    IfExists::Truncate => "truncate",
                    IfExists::Drop => "drop",
                    IfExists::Upsert => "upsert",
                })
                .collect();
            format!(
                "only if the table exists, with --if-exists {}",
                modes.join("|")
            )
        }
    })
}

fn type_label(c: &crate::model::plan::ColumnPlan) -> String {
    let mut s = c.pg_type.sql();
    if c.identity {
        s.push_str(" identity");
    }
    if c.not_null {
        s.push_str(" not null");
    }
    s
}

/// Where the tables of a JSON store come from, what was ignored and what could not be loaded.
fn render_json(o: &mut String, j: &crate::model::json::JsonSummary) {
    let _ = writeln!(o, "\nCollections:");
    for c in &j.collections {
        let _ = writeln!(
            o,
            "  {} ← {} ({} document(s)); key {}",
            c.table, c.origin, c.documents, c.key
        );
    }
    for w in &j.widened {
        let _ = writeln!(o, "  widened: {w}");
    }
    for w in &j.null_and_absent {
        let _ = writeln!(o, "  null and absent alike: {w}");
    }
    if !j.ignored.is_empty() {
        let shown: Vec<&str> = j.ignored.iter().take(5).map(String::as_str).collect();
        let more = if j.ignored.len() > 5 { ", …" } else { "" };
        let _ = writeln!(
            o,
            "  ignored: {} file(s) ({}{more})",
            j.ignored.len(),
            shown.join(", ")
        );
    }
    if !j.not_loaded.is_empty() {
        let _ = writeln!(
            o,
            "  not loaded (see the warnings): {} file(s)",
            j.not_loaded.len()
        );
    }
}

/// ` (id)` for a key, ` (fact_id) → facts (id)` for a foreign key; empty for other steps.
fn key_detail(s: &crate::model::plan::Step, schema: &str) -> String {
    let after = |word: &str| s.sql.split_once(word).map(|(_, rest)| rest.trim());
    let qualified = format!("{}.", crate::postgres::ident::quote_ident(schema));
    match s.kind {
        StepKind::PrimaryKey => after(" PRIMARY KEY ").map(|c| format!(" {c}")),
        StepKind::Unique => after(" UNIQUE ").map(|c| format!(" {c}")),
        StepKind::ForeignKey => after(" FOREIGN KEY ").and_then(|rest| {
            let (cols, target) = rest.split_once(" REFERENCES ")?;
            let target = target.split(" ON ").next()?.replace(&qualified, "");
            Some(format!(" {cols} → {target}"))
        }),
        _ => None,
    }
    .unwrap_or_default()
}
