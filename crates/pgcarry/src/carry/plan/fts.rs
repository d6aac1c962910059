//! FTS5 tables in the plan. They are never copied (nor their shadow tables): full-text search in
//! PostgreSQL is a `tsvector` column on the table that holds the text, with a GIN index, as an
//! application would query it (`WHERE col @@ websearch_to_tsquery('simple', …)`). Added after
//! the load as a stored generated column, so PostgreSQL keeps it current. FTS tables without a
//! content table are reported.

use crate::model::plan::{Step, StepKind, TablePlan};
use crate::model::schema::{Fts, Skipped, SourceSchema};
use crate::model::types::PgType;
use crate::postgres::ident::{pg_name, qualified, quote_ident};

/// Adds the search steps to the content tables; returns what is reported about each FTS table.
pub fn plan_fts(
    schema_model: &SourceSchema,
    tables: &mut [TablePlan],
    schema: &str,
) -> Vec<Skipped> {
    schema_model
        .fts
        .iter()
        .map(|f| {
            let reason = match add_search(f, tables, schema) {
                Ok(msg) | Err(msg) => msg,
            };
            Skipped::new(f.name.clone(), format!("{reason}; its SQL: {}", f.sql))
        })
        .collect()
}

fn add_search(f: &Fts, tables: &mut [TablePlan], schema: &str) -> Result<String, String> {
    let content = match f.content.as_deref() {
        None => {
            return Err(
                "FTS5 table keeping its own copy of the text (no content= table): not migrated; \
                 its text exists only in its shadow tables"
                    .into(),
            );
        }
        Some("") => {
            return Err(
                "contentless FTS5 table (content=''): SQLite keeps no text to index; not migrated"
                    .into(),
            );
        }
        Some(t) => t,
    };
    let Some(tp) = tables
        .iter_mut()
        .find(|t| t.source_name.eq_ignore_ascii_case(content))
    else {
        return Err(format!(
            "external-content FTS5 table whose content table {content} is not in the database: \
             not migrated"
        ));
    };
    let mut parts = Vec::new();
    for col in &f.columns {
        let Some(c) = tp
            .columns
            .iter()
            .find(|c| c.source_name.eq_ignore_ascii_case(col))
        else {
            return Err(format!(
                "FTS5 table indexes {col}, which {content} does not have: not migrated"
            ));
        };
        let q = quote_ident(&c.name);
        let text = match c.pg_type {
            PgType::Text | PgType::Varchar { .. } => q,
            PgType::SmallInt | PgType::Integer | PgType::BigInt => format!("CAST({q} AS text)"),
            ref other => {
                return Err(format!(
                    "FTS5 table indexes {col}, a {other} column in PostgreSQL: not migrated"
                ));
            }
        };
        parts.push(format!("coalesce({text}, '')"));
    }
    if parts.is_empty() {
        return Err("FTS5 table without indexed columns: not migrated".into());
    }
    let mut column = pg_name(&format!("{}_tsv", f.name));
    while tp.columns.iter().any(|c| c.name == column) {
        column = pg_name(&format!("{column}_"));
    }
    let qname = qualified(schema, &tp.name);
    let index = pg_name(&format!("{}_{column}_idx", tp.name));
    tp.post_load.push(Step {
        kind: StepKind::Search,
        name: column.clone(),
        sql: format!(
            "ALTER TABLE {qname} ADD COLUMN IF NOT EXISTS {} tsvector GENERATED ALWAYS AS \
             (to_tsvector('simple', {})) STORED",
            quote_ident(&column),
            parts.join(" || ' ' || ")
        ),
    });
    tp.post_load.push(Step {
        kind: StepKind::Search,
        name: index.clone(),
        sql: format!(
            "CREATE INDEX IF NOT EXISTS {} ON {qname} USING gin ({})",
            quote_ident(&index),
            quote_ident(&column)
        ),
    });
    Ok(format!(
        "FTS5 table: not copied (nor its shadow tables); {} gets the column {column} (tsvector, \
         'simple' configuration: words lower-cased, no stemming) with a GIN index: query it with \
         WHERE {} @@ websearch_to_tsquery('simple', …)",
        tp.name,
        quote_ident(&column)
    ))
}
