//! Triggers in the plan: never executed, always listed as not migrated with their SQL. A
//! trigger that only stamps an `updated_at`-like column gets a ready PostgreSQL replacement (a
//! function and a BEFORE UPDATE trigger) in a warning, for the user to run if they want it.

use super::translate::translate_now;
use crate::model::plan::{TablePlan, Warning};
use crate::model::schema::{Skipped, SourceSchema, Trigger};
use crate::postgres::ident::{pg_name, qualified, quote_ident};
use crate::sqlite::sql::trigger::parse_touch_trigger;

/// The skipped entries for every trigger, and the warnings carrying replacements.
pub fn plan_triggers(
    schema_model: &SourceSchema,
    tables: &[TablePlan],
    schema: &str,
) -> (Vec<Skipped>, Vec<Warning>) {
    let mut skipped = Vec::new();
    let mut warnings = Vec::new();
    for t in &schema_model.triggers {
        let replacement = replacement(t, tables, schema);
        let offer = if replacement.is_some() {
            " (it only maintains a timestamp: see the warning for a PostgreSQL replacement)"
        } else {
            ""
        };
        skipped.push(Skipped {
            name: t.name.clone(),
            reason: format!(
                "trigger on {} not migrated{offer}; its SQL: {}",
                t.table,
                crate::model::plan::one_line(&t.sql)
            ),
        });
        if let Some((column, sql)) = replacement {
            warnings.push(Warning {
                table: Some(t.table.clone()),
                column: Some(column),
                message: format!(
                    "trigger {} keeps this column current on every UPDATE; not created. The same \
                     in PostgreSQL, to run yourself:\n{sql}",
                    t.name
                ),
            });
        }
    }
    (skipped, warnings)
}

/// The replacement for a timestamp-stamping trigger: (column, SQL).
fn replacement(t: &Trigger, tables: &[TablePlan], schema: &str) -> Option<(String, String)> {
    let touch = parse_touch_trigger(&t.sql)?;
    let table = tables
        .iter()
        .find(|tp| tp.source_name.eq_ignore_ascii_case(&touch.table))?;
    let col = table
        .columns
        .iter()
        .find(|c| c.source_name.eq_ignore_ascii_case(&touch.column))?;
    let value = translate_now(&touch.value, &col.pg_type)?.ok()?;
    let of = touch
        .of_columns
        .iter()
        .map(|o| {
            table
                .columns
                .iter()
                .find(|c| c.source_name.eq_ignore_ascii_case(o))
                .map(|c| quote_ident(&c.name))
        })
        .collect::<Option<Vec<_>>>()?;
    let of = if of.is_empty() {
        String::new()
    } else {
        format!(" OF {}", of.join(", "))
    };
    let trigger = pg_name(&touch.name);
    let function = qualified(schema, &pg_name(&format!("{}_fn", touch.name)));
    let sql = format!(
        "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n\
         BEGIN\n    NEW.{col} := {value};\n    RETURN NEW;\nEND\n$$;\n\
         CREATE TRIGGER {} BEFORE UPDATE{of} ON {} FOR EACH ROW EXECUTE FUNCTION {function}();",
        quote_ident(&trigger),
        qualified(schema, &table.name),
        col = quote_ident(&col.name),
    );
    Some((col.source_name.clone(), sql))
}
