//! A generated `tsvector` column (PostgreSQL's full-text search) becomes what a SQLite
//! application searches with: an FTS5 table over the same text columns, with the table as its
//! external content, filled by a rebuild and kept in step by the three triggers SQLite's
//! documentation gives. The language in `to_tsvector('english', …)` picks the Porter stemmer.

use crate::postgres::introspect::PgTable;
use crate::sqlite::{quote_sqlite_ident as q, quote_sqlite_literal};

/// The statements that give table `t` (key `key`, exported columns `columns`) an FTS5 table for
/// the search column `name` generated as `expr`, and what the plan says of it; `None` when the
/// expression names no exported text column.
pub fn fts5_for(
    t: &PgTable,
    name: &str,
    expr: &str,
    key: Option<&str>,
    text_columns: &[String],
) -> Option<(Vec<String>, String)> {
    let key = key?;
    let lower = expr.to_ascii_lowercase();
    let cols: Vec<&String> = text_columns.iter().filter(|c| mentions(expr, c)).collect();
    if cols.is_empty() {
        return None;
    }
    let stem = !lower.contains("'simple'");
    let fts = format!("{}_{name}_fts", t.name);
    let list = |prefix: &str| {
        cols.iter()
            .map(|c| format!("{prefix}{}", q(c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (qf, qt, qk) = (q(&fts), q(&t.name), q(key));
    let mut statements = vec![
        format!(
            "CREATE VIRTUAL TABLE {qf} USING fts5({}, content={}, content_rowid={}{})",
            list(""),
            quote_sqlite_literal(&t.name),
            quote_sqlite_literal(key),
            if stem {
                ", tokenize='porter unicode61'"
            } else {
                ""
            }
        ),
        format!("INSERT INTO {qf} ({qf}) VALUES ('rebuild')"),
    ];
    let insert = |row: &str| {
        format!(
            "INSERT INTO {qf} (rowid, {}) VALUES ({row}.{qk}, {});",
            list(""),
            list(&format!("{row}."))
        )
    };
    let delete = format!(
        "INSERT INTO {qf} ({qf}, rowid, {}) VALUES ('delete', old.{qk}, {});",
        list(""),
        list("old.")
    );
    let trigger = |suffix: &str, event: &str, body: String| {
        format!(
            "CREATE TRIGGER {} AFTER {event} ON {qt} BEGIN {body} END",
            q(&format!("{fts}_{suffix}"))
        )
    };
    statements.push(trigger("ai", "INSERT", insert("new")));
    statements.push(trigger("ad", "DELETE", delete.clone()));
    statements.push(trigger(
        "au",
        "UPDATE",
        format!("{delete} {}", insert("new")),
    ));
    let said = format!(
        "search column (tsvector generated as {expr}): the FTS5 table {fts} over {} ({}), \
         kept in step by triggers; query it with `{fts} MATCH …`",
        cols.iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        if stem {
            "Porter stemming"
        } else {
            "no stemming"
        }
    );
    Some((statements, said))
}

/// True when `expr` names column `c` (as a whole identifier, quoted or not).
fn mentions(expr: &str, c: &str) -> bool {
    let quoted = format!("\"{}\"", c.replace('"', "\"\""));
    if expr.contains(&quoted) {
        return true;
    }
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    expr.match_indices(c).any(|(at, _)| {
        let before = expr[..at].chars().next_back();
        let after = expr[at + c.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident) && before != Some('\'')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_columns_a_generation_expression_names() {
        let expr = "to_tsvector('english'::regconfig, ((COALESCE(title, ''::text) || ' '::text) \
                    || COALESCE(body, ''::text)))";
        assert!(mentions(expr, "title"));
        assert!(mentions(expr, "body"));
        assert!(!mentions(expr, "tit"));
        assert!(!mentions(expr, "english"), "inside a string literal");
    }
}
