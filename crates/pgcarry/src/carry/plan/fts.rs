//! FTS3/4/5 tables in the plan. Full-text search in PostgreSQL is a `tsvector` column on the
//! table that holds the text, with a GIN index, as an application would query it (`WHERE col @@
//! websearch_to_tsquery('simple', …)`), added after the load as a stored generated column so
//! PostgreSQL keeps it current. An FTS table over an external content table is not copied (nor
//! its shadow tables): the content table gets the column. One that keeps its own text was read
//! as a table (see `sqlite::virtual_table`) and gets the column itself. Contentless ones are
//! reported.

use crate::model::plan::{Step, StepKind, TablePlan, Warning};
use crate::model::schema::{Fts, Skipped, SourceSchema};
use crate::model::types::PgType;
use crate::postgres::ident::{pg_name, qualified, quote_ident};

/// Adds the search steps to the tables holding the text; returns what is reported about each
/// FTS table: not migrated (an FTS table over another table's text, which is copied instead),
/// or a note on the FTS table migrated as a table of its own.
pub fn plan_fts(
    schema_model: &SourceSchema,
    tables: &mut [TablePlan],
    schema: &str,
) -> (Vec<Skipped>, Vec<Warning>) {
    let (mut skipped, mut notes) = (Vec::new(), Vec::new());
    for f in &schema_model.fts {
        let module = f.module.to_ascii_uppercase();
        if f.content.is_none() {
            // Left out by the config when it is not among the tables: already reported.
            if tables.iter().any(|t| t.source_name == f.name) {
                let message = match add_search(f, &f.name, tables, schema) {
                    Ok(search) => format!(
                        "{module} table keeping its own text: migrated as a table, its rowid as \
                         the key column rowid, its columns as SQLite returns them; {search}"
                    ),
                    Err(e) => format!(
                        "{module} table keeping its own text: migrated as a table, its rowid as \
                         the key column rowid, without a search column ({e})"
                    ),
                };
                notes.push(Warning {
                    table: Some(f.name.clone()),
                    column: None,
                    message,
                });
            }
            continue;
        }
        let reason = match f.content.as_deref() {
            Some("") => Err(format!(
                "contentless {module} table (content=''): SQLite keeps no text to index; not \
                 migrated"
            )),
            Some(content) => add_search(f, content, tables, schema).map(|search| {
                format!("{module} table: not copied (nor its shadow tables); {search}")
            }),
            None => unreachable!("own-text FTS tables are handled above"),
        };
        let reason = match reason {
            Ok(msg) | Err(msg) => msg,
        };
        skipped.push(Skipped::new(
            f.name.clone(),
            format!("{reason}; its SQL: {}", f.sql),
        ));
    }
    (skipped, notes)
}

/// Adds a tsvector column over `f`'s indexed columns, and its GIN index, to the table whose
/// source name is `content`; says what was added, or why nothing was.
fn add_search(
    f: &Fts,
    content: &str,
    tables: &mut [TablePlan],
    schema: &str,
) -> Result<String, String> {
    let module = f.module.to_ascii_uppercase();
    let Some(tp) = tables
        .iter_mut()
        .find(|t| t.source_name.eq_ignore_ascii_case(content))
    else {
        return Err(format!(
            "external-content {module} table whose content table {content} is not in the \
             database: not migrated"
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
                "{module} table indexes {col}, which {content} does not have: not migrated"
            ));
        };
        let q = quote_ident(&c.name);
        let text = match c.pg_type {
            PgType::Text | PgType::Varchar { .. } => q,
            // FTS indexes the text form of numbers.
            PgType::SmallInt
            | PgType::Integer
            | PgType::BigInt
            | PgType::DoublePrecision
            | PgType::Numeric { .. } => format!("CAST({q} AS text)"),
            ref other => {
                return Err(format!(
                    "{module} table indexes {col}, a {other} column in PostgreSQL: not migrated"
                ));
            }
        };
        parts.push(format!("coalesce({text}, '')"));
    }
    if parts.is_empty() {
        return Err(format!(
            "{module} table without indexed columns: not migrated"
        ));
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
        "{} gets the column {column} (tsvector, 'simple' configuration: words lower-cased, no \
         stemming) with a GIN index: query it with WHERE {} @@ websearch_to_tsquery('simple', …)",
        tp.name,
        quote_ident(&column)
    ))
}
