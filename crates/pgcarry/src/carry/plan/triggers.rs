//! Triggers in the plan: each SQLite trigger translated (`translate::trigger`) into a PL/pgSQL
//! function and trigger, created after the views. A trigger that only keeps an FTS table in
//! step is replaced by the generated `tsvector` column (said so); one that cannot be translated
//! is listed as not migrated with the true reason and its SQL — never dropped silently.

use super::translate::trigger::translate_trigger;
use crate::model::plan::{Step, StepKind, TablePlan, one_line};
use crate::model::schema::{Skipped, SkippedKind, SourceSchema, Trigger};
use crate::sqlite::sql::trigger_def::{Statement, TriggerDef, parse_trigger};

/// The trigger steps with the (PostgreSQL) table each is on, and the triggers left out (or
/// replaced) with why.
pub fn plan_triggers(
    schema_model: &SourceSchema,
    tables: &[TablePlan],
    schema: &str,
) -> (Vec<(String, Step)>, Vec<Skipped>) {
    let mut steps = Vec::new();
    let mut skipped = Vec::new();
    for t in &schema_model.triggers {
        match plan_one(t, schema_model, tables, schema) {
            Ok(step) => steps.push(step),
            Err(left_out) => skipped.push(left_out),
        }
    }
    (steps, skipped)
}

fn plan_one(
    t: &Trigger,
    schema_model: &SourceSchema,
    tables: &[TablePlan],
    schema: &str,
) -> Result<(String, Step), Skipped> {
    let not_migrated = |why: &str| Skipped {
        name: t.name.clone(),
        reason: format!(
            "trigger on {} not migrated: {why}; its SQL: {}",
            t.table,
            one_line(&t.sql)
        ),
        kind: Some(SkippedKind::Trigger),
    };
    let def = parse_trigger(&t.sql).map_err(|e| not_migrated(&format!("cannot read it ({e})")))?;
    if let Some(fts) = keeps_fts_in_step(&def, schema_model) {
        return Err(Skipped::new(
            &t.name,
            format!(
                "trigger on {} replaced: it keeps the FTS table {fts} in step, which \
                 PostgreSQL's generated tsvector column does by itself",
                t.table
            ),
        ));
    }
    let relations = |n: &str| super::views::relation(n, tables, &[]);
    let translated =
        translate_trigger(&def, tables, schema, &relations).map_err(|e| not_migrated(&e.reason))?;
    let step = Step {
        kind: StepKind::Trigger,
        name: translated.name,
        sql: translated.sql,
    };
    Ok((translated.table, step))
}

/// The FTS table a trigger only writes to, when every statement of it writes to an FTS table
/// over another table's text (one keeping its own text is migrated as a table: writes to it are
/// translated).
fn keeps_fts_in_step<'m>(def: &TriggerDef, schema_model: &'m SourceSchema) -> Option<&'m str> {
    let mut found = None;
    for s in &def.body {
        let target = match s {
            Statement::Insert { table, .. }
            | Statement::Update { table, .. }
            | Statement::Delete { table, .. } => table,
            Statement::Select(_) => return None,
        };
        let fts = schema_model
            .fts
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(target) && f.content.is_some())?;
        found = Some(fts.name.as_str());
    }
    found
}
