//! The DDL of keys, indexes and foreign keys: index and unique-constraint steps (partial,
//! expression, DESC, `COLLATE NOCASE` kept case-insensitive), and foreign-key steps with
//! their actions and deferral. Called by `build` once the columns' names and types are known.

use super::names::NameSet;
use super::translate::{ExprContext, translate_expr};
use crate::model::plan::{ColumnPlan, Step, StepKind, TablePlan};
use crate::model::schema::{ForeignKey, Table};
use crate::model::types::PgType;
use crate::postgres::ident::{qualified, quote_ident};
use crate::sqlite::scan::TableStats;

/// The case fold of a primary-key column declared `COLLATE NOCASE` holding text, if it is one.
pub(super) fn nocase_fold(
    src: &str,
    quoted: &str,
    t: &Table,
    s: &TableStats,
    lookup: &dyn Fn(&str) -> Option<(String, PgType)>,
) -> Option<String> {
    let i = t
        .columns
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(src))?;
    let nocase = t.columns[i]
        .collation
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("NOCASE"));
    let (_, ty) = lookup(src)?;
    (nocase && is_text(&ty)).then(|| fold_case(quoted, s.columns[i].text_non_ascii > 0))
}

pub(super) fn is_text(ty: &PgType) -> bool {
    matches!(ty, PgType::Text | PgType::Varchar { .. })
}

/// SQLite's NOCASE folds ASCII letters only. `lower()` folds the same when every value is
/// ASCII (and folds more, never less, for values written later: it can only refuse more); a
/// column already holding other letters gets SQLite's exact ASCII fold, so that 'É' and 'é',
/// which SQLite kept apart, do not collide.
pub(super) fn fold_case(quoted: &str, non_ascii: bool) -> String {
    if non_ascii {
        format!("translate({quoted}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')")
    } else {
        format!("lower({quoted})")
    }
}

pub(super) fn index_step(
    idx: &crate::model::schema::Index,
    table: &str,
    qname: &str,
    ctx: &ExprContext<'_>,
    non_ascii: &dyn Fn(&str) -> bool,
    names: &mut NameSet,
) -> Result<Step, String> {
    let mut terms = Vec::new();
    let mut plain = Vec::new();
    let mut key_names = Vec::new();
    for c in &idx.columns {
        let nocase = c
            .collation
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case("NOCASE"));
        let mut term = match (&c.column, &c.expr) {
            (Some(col), _) if nocase => {
                let (n, ty) = (ctx.columns)(col).ok_or_else(|| format!("unknown column {col}"))?;
                key_names.push(n.clone());
                if is_text(&ty) {
                    fold_case(&quote_ident(&n), non_ascii(col))
                } else {
                    // Collations only order text: numbers and blobs compare the same way.
                    plain.push(n.clone());
                    quote_ident(&n)
                }
            }
            (Some(col), _) => {
                let (n, _) = (ctx.columns)(col).ok_or_else(|| format!("unknown column {col}"))?;
                plain.push(n.clone());
                key_names.push(n.clone());
                quote_ident(&n)
            }
            (None, Some(expr)) => {
                format!(
                    "({})",
                    translate_expr(expr, ctx).map_err(|e| e.to_string())?
                )
            }
            (None, None) => return Err("an indexed term could not be read".into()),
        };
        if let Some(coll) = &c.collation
            && !coll.eq_ignore_ascii_case("BINARY")
            && !(nocase && c.column.is_some())
        {
            return Err(format!(
                "COLLATE {coll} has no PostgreSQL equivalent yet (a case-sensitive index would accept \
                 values SQLite refused)"
            ));
        }
        if c.descending {
            term.push_str(" DESC");
        }
        terms.push(term);
    }
    let where_sql = match &idx.partial_where {
        Some(w) => format!(
            " WHERE {}",
            translate_expr(w, ctx).map_err(|e| e.to_string())?
        ),
        None => String::new(),
    };
    if idx.from_constraint && idx.unique && plain.len() == terms.len() {
        let cname = names.claim(&format!("{table}_{}_key", plain.join("_")));
        return Ok(Step {
            kind: StepKind::Unique,
            name: cname.clone(),
            sql: format!(
                "ALTER TABLE {qname} ADD CONSTRAINT {} UNIQUE ({})",
                quote_ident(&cname),
                terms.join(", ")
            ),
        });
    }
    let iname = if idx.from_constraint {
        names.claim(&format!("{table}_{}_key", key_names.join("_")))
    } else {
        names.claim(&idx.name)
    };
    Ok(Step {
        kind: if idx.unique {
            StepKind::Unique
        } else {
            StepKind::Index
        },
        name: iname.clone(),
        sql: format!(
            "CREATE {}INDEX {} ON {qname} ({}){where_sql}",
            if idx.unique { "UNIQUE " } else { "" },
            quote_ident(&iname),
            terms.join(", ")
        ),
    })
}

pub(super) fn fk_step(
    tp: &TablePlan,
    fk: &ForeignKey,
    targets: &[(String, String, Vec<ColumnPlan>)],
    schema: &str,
    names: &mut NameSet,
) -> Result<Step, String> {
    let Some((_, parent, parent_cols)) = targets.iter().find(|(s, _, _)| s == &fk.ref_table) else {
        return Err(format!(
            "foreign key ({}) references table {}, which is not in the database: not created",
            fk.columns.join(", "),
            fk.ref_table
        ));
    };
    let map = |cols: &[ColumnPlan], names: &[String]| -> Option<Vec<String>> {
        names
            .iter()
            .map(|n| {
                cols.iter()
                    .find(|c| c.source_name.eq_ignore_ascii_case(n))
                    .map(|c| c.name.clone())
            })
            .collect()
    };
    let child = map(&tp.columns, &fk.columns).ok_or("foreign key names an unknown column")?;
    let parent_keys = map(parent_cols, &fk.ref_columns).ok_or_else(|| {
        format!(
            "foreign key references columns of {} that do not exist",
            fk.ref_table
        )
    })?;
    if child.len() != parent_keys.len() {
        return Err(format!(
            "foreign key ({}) references {} without matching columns",
            fk.columns.join(", "),
            fk.ref_table
        ));
    }
    let cname = names.claim(&format!("{}_{}_fkey", tp.name, child.join("_")));
    let q = |v: &[String]| {
        v.iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let action = |a: &str| match a.to_ascii_uppercase().as_str() {
        "CASCADE" => "CASCADE",
        "SET NULL" => "SET NULL",
        "SET DEFAULT" => "SET DEFAULT",
        "RESTRICT" => "RESTRICT",
        _ => "NO ACTION",
    };
    Ok(Step {
        kind: StepKind::ForeignKey,
        name: cname.clone(),
        sql: format!(
            "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON UPDATE {} ON DELETE {}{}",
            qualified(schema, &tp.name),
            quote_ident(&cname),
            q(&child),
            qualified(schema, parent),
            q(&parent_keys),
            action(&fk.on_update),
            action(&fk.on_delete),
            match (fk.deferrable, fk.initially_deferred) {
                (true, true) => " DEFERRABLE INITIALLY DEFERRED",
                (true, false) => " DEFERRABLE",
                _ => "",
            }
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nocase_folds_ascii_like_sqlite() {
        assert_eq!(fold_case("\"e\"", false), "lower(\"e\")");
        assert!(fold_case("\"e\"", true).starts_with("translate(\"e\", 'ABC"));
    }
}
