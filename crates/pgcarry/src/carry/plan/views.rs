//! Views in the plan: each SQLite view translated (`translate::view`) in dependency order, as a
//! `CREATE OR REPLACE VIEW` step run after every table and foreign key; a view that cannot be
//! translated is listed as not migrated, with the reason and its SQL — never dropped silently.

use super::translate::view::{RelColumn, Relation, translate_view};
use crate::model::plan::{Step, StepKind, TablePlan};
use crate::model::schema::{Skipped, SkippedKind, SourceSchema};
use crate::model::types::PgType;
use crate::postgres::ident::{pg_name, qualified};
use crate::sqlite::sql::{parse_create_view, view_has_column_list};

/// The view steps, in an order where each view comes after the views it reads, and the views
/// left out with why.
pub fn plan_views(
    schema_model: &SourceSchema,
    tables: &[TablePlan],
    schema: &str,
) -> (Vec<Step>, Vec<Skipped>) {
    let mut done: Vec<(String, Relation)> = Vec::new();
    let mut steps = Vec::new();
    let mut pending: Vec<(&str, &str, String)> = schema_model
        .views
        .iter()
        .map(|v| (v.name.as_str(), v.sql.as_str(), String::new()))
        .collect();
    loop {
        let mut progress = false;
        let mut still = Vec::new();
        for (name, sql, _) in pending {
            let relations = |n: &str| relation(n, tables, &done);
            match translate(sql, schema, &relations) {
                Ok((select, columns)) => {
                    let target = pg_name(name);
                    steps.push(Step {
                        kind: StepKind::View,
                        name: target.clone(),
                        sql: format!(
                            "CREATE OR REPLACE VIEW {} AS\n{select}",
                            qualified(schema, &target)
                        ),
                    });
                    done.push((name.to_string(), Relation { target, columns }));
                    progress = true;
                }
                Err(why) => still.push((name, sql, why)),
            }
        }
        pending = still;
        if !progress || pending.is_empty() {
            break;
        }
    }
    let skipped = pending
        .into_iter()
        .map(|(name, sql, why)| {
            let why = match schema_model
                .views
                .iter()
                .find(|v| why.contains(&format!("`{}`", v.name)))
            {
                Some(v) => format!("it reads view `{}`, which is not migrated", v.name),
                None => why,
            };
            Skipped {
                name: name.to_string(),
                reason: format!(
                    "view not translated: {why}; its SQL: {}",
                    crate::model::plan::one_line(sql)
                ),
                kind: Some(SkippedKind::View),
            }
        })
        .collect();
    (steps, skipped)
}

fn translate(
    sql: &str,
    schema: &str,
    relations: &dyn Fn(&str) -> Option<Relation>,
) -> Result<(String, Vec<RelColumn>), String> {
    let (_, select) = parse_create_view(sql).map_err(|e| format!("cannot read it: {e}"))?;
    if view_has_column_list(sql).unwrap_or(true) {
        return Err("a column list after the view name is not supported".into());
    }
    translate_view(&select, schema, relations)
        .map(|v| (v.select, v.columns))
        .map_err(|e| e.reason)
}

/// A table of the plan, or a view translated before, as a FROM clause sees it.
pub(super) fn relation(
    name: &str,
    tables: &[TablePlan],
    views: &[(String, Relation)],
) -> Option<Relation> {
    if let Some(t) = tables
        .iter()
        .find(|t| t.source_name.eq_ignore_ascii_case(name))
    {
        return Some(Relation {
            target: t.name.clone(),
            columns: t
                .columns
                .iter()
                .map(|c| RelColumn {
                    source: c.source_name.clone(),
                    target: c.name.clone(),
                    ty: view_type(&c.pg_type, &c.declared_type),
                })
                .collect(),
        });
    }
    views
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, r)| r.clone())
}

/// The type a view sees. A text column whose SQLite affinity is not TEXT (an INTEGER or
/// untyped column that held text) compares and sorts differently in SQLite (numbers before
/// text, no conversion of literals): its type is left unknown, so nothing relies on it.
fn view_type(ty: &PgType, declared: &str) -> Option<PgType> {
    let upper = declared.to_ascii_uppercase();
    let text_affinity =
        !upper.contains("INT") && ["CHAR", "CLOB", "TEXT"].iter().any(|t| upper.contains(t));
    match ty {
        PgType::Text | PgType::Varchar { .. } if !text_affinity => None,
        _ => Some(ty.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_text_affinity_columns_are_text_to_views() {
        assert_eq!(view_type(&PgType::Text, "VARCHAR(10)"), Some(PgType::Text));
        assert_eq!(view_type(&PgType::Text, "INTEGER"), None);
        assert_eq!(view_type(&PgType::Text, ""), None);
        assert_eq!(view_type(&PgType::BigInt, ""), Some(PgType::BigInt));
    }
}
