//! The DDL of keys, indexes and foreign keys: index and unique-constraint steps (partial,
//! expression, DESC, `COLLATE NOCASE` and the application's own collations kept
//! case-insensitive), and foreign-key steps with their actions and deferral. Called by
//! `build` once the columns' names and types are known.

use super::names::NameSet;
use super::translate::{ExprContext, translate_expr};
use crate::model::plan::{ColumnPlan, Step, StepKind, TablePlan};
use crate::model::schema::{ForeignKey, Table};
use crate::model::types::PgType;
use crate::postgres::ident::{qualified, quote_ident};
use crate::sqlite::collation::is_application_defined;
use crate::sqlite::scan::TableStats;

/// The case fold of a primary-key column holding text declared `COLLATE NOCASE` or with the
/// application's own collation, if it is one; none for the latter when its rows hold values
/// equal under the stand-in (`TableStats::folded_duplicates`).
pub(super) fn key_fold(
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
    let collation = t.columns[i].collation.as_deref()?;
    let (_, ty) = lookup(src)?;
    if !is_text(&ty) || (is_application_defined(collation) && s.folded_duplicates.contains(&None)) {
        return None;
    }
    term_fold(quoted, collation, s.columns[i].text_non_ascii > 0)
}

/// A text term compared under `collation` as PostgreSQL can keep it: NOCASE folded as SQLite
/// folds it ([`fold_case`]); an application-defined collation with `lower()`, as its stand-in
/// (`sqlite::collation::stand_in_order`) ignores case in every alphabet; none for BINARY or
/// RTRIM.
fn term_fold(quoted: &str, collation: &str, non_ascii: bool) -> Option<String> {
    if collation.eq_ignore_ascii_case("NOCASE") {
        Some(fold_case(quoted, non_ascii))
    } else if is_application_defined(collation) {
        Some(format!("lower({quoted})"))
    } else {
        None
    }
}

/// Why a unique key over an application-defined collation is not kept case-insensitive.
pub(super) fn folded_duplicates_reason(collation: &str) -> String {
    format!(
        "COLLATE {collation} is the application's own collation, which pgcarry cannot \
         reproduce, and its rows hold values equal when case is ignored (so it is not \
         case-insensitive the way pgcarry's stand-in is): a unique index on lower() would \
         refuse them"
    )
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

/// What an index covers, to tell one that duplicates another (or the primary key) exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Shape {
    pub unique: bool,
    /// The indexed terms as the DDL writes them (`"a", lower("b") DESC`).
    pub terms: String,
    /// ` WHERE …`, or empty.
    pub where_sql: String,
}

impl Shape {
    /// True when an index of this shape adds nothing to `other`: the same terms and
    /// condition, and not unique where `other` is not.
    pub fn duplicates(&self, other: &Shape) -> bool {
        self.terms == other.terms
            && self.where_sql == other.where_sql
            && (other.unique || !self.unique)
    }
}

/// The step of one index; `folds_duplicates` when its rows hold values equal under the
/// stand-in of an application-defined collation (`TableStats::folded_duplicates`).
pub(super) fn index_step(
    idx: &crate::model::schema::Index,
    table: &str,
    qname: &str,
    ctx: &ExprContext<'_>,
    non_ascii: &dyn Fn(&str) -> bool,
    folds_duplicates: bool,
    names: &mut NameSet,
) -> Result<(Step, Shape), String> {
    let mut terms = Vec::new();
    let mut plain = Vec::new();
    let mut key_names = Vec::new();
    for c in &idx.columns {
        let mut term = match (&c.column, &c.expr) {
            (Some(col), _) => {
                let (n, ty) = (ctx.columns)(col).ok_or_else(|| format!("unknown column {col}"))?;
                key_names.push(n.clone());
                // Collations only order text: numbers and blobs compare the same way.
                let folded = c
                    .collation
                    .as_deref()
                    .filter(|_| is_text(&ty))
                    .and_then(|coll| term_fold(&quote_ident(&n), coll, non_ascii(col)));
                folded.unwrap_or_else(|| {
                    plain.push(n.clone());
                    quote_ident(&n)
                })
            }
            (None, Some(expr)) => {
                format!(
                    "({})",
                    translate_expr(expr, ctx).map_err(|e| e.to_string())?
                )
            }
            (None, None) => return Err("an indexed term could not be read".into()),
        };
        let foldable =
            |coll: &str| coll.eq_ignore_ascii_case("NOCASE") || is_application_defined(coll);
        if let Some(coll) = &c.collation
            && idx.unique
            && folds_duplicates
            && is_application_defined(coll)
        {
            return Err(folded_duplicates_reason(coll));
        }
        if let Some(coll) = &c.collation
            && !coll.eq_ignore_ascii_case("BINARY")
            && !(foldable(coll) && c.column.is_some())
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
    let shape = Shape {
        unique: idx.unique,
        terms: terms.join(", "),
        where_sql: where_sql.clone(),
    };
    if idx.from_constraint && idx.unique && plain.len() == terms.len() {
        let cname = names.claim(&format!("{table}_{}_key", plain.join("_")));
        let step = Step {
            kind: StepKind::Unique,
            name: cname.clone(),
            sql: format!(
                "ALTER TABLE {qname} ADD CONSTRAINT {} UNIQUE ({})",
                quote_ident(&cname),
                terms.join(", ")
            ),
        };
        return Ok((step, shape));
    }
    let iname = if idx.from_constraint {
        names.claim(&format!("{table}_{}_key", key_names.join("_")))
    } else {
        names.claim(&idx.name)
    };
    let step = Step {
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
    };
    Ok((step, shape))
}

/// A table as a foreign key referencing it sees it: source and target names, its planned
/// columns, and the column sets (source names) PostgreSQL will hold unique.
pub(super) struct Parent {
    pub source_name: String,
    pub name: String,
    pub columns: Vec<ColumnPlan>,
    pub unique: Vec<Vec<String>>,
}

/// The column sets of `t` PostgreSQL will hold unique, which a foreign key may reference: its
/// primary key, and each unique index over plain columns without a condition or a collation.
pub(super) fn unique_sets(t: &Table) -> Vec<Vec<String>> {
    let mut sets = vec![t.primary_key.clone()];
    sets.extend(
        t.indexes
            .iter()
            .filter(|i| i.unique && i.partial_where.is_none())
            .filter_map(|i| {
                i.columns
                    .iter()
                    .map(|c| {
                        let binary = c
                            .collation
                            .as_deref()
                            .is_none_or(|n| n.eq_ignore_ascii_case("BINARY"));
                        c.column.clone().filter(|_| binary)
                    })
                    .collect::<Option<Vec<String>>>()
            }),
    );
    sets.retain(|s| !s.is_empty());
    sets
}

/// Types whose values PostgreSQL compares in a foreign key: integers with integers, text
/// with varchar, and otherwise the same type.
fn comparable(a: &PgType, b: &PgType) -> bool {
    let family = |t: &PgType| match t {
        PgType::SmallInt | PgType::Integer | PgType::BigInt => "integer".to_string(),
        PgType::Text | PgType::Varchar { .. } => "text".to_string(),
        PgType::Numeric { .. } => "numeric".to_string(),
        other => other.sql(),
    };
    family(a) == family(b)
}

pub(super) fn fk_step(
    tp: &TablePlan,
    fk: &ForeignKey,
    targets: &[Parent],
    schema: &str,
    names: &mut NameSet,
) -> Result<Step, String> {
    let Some(Parent {
        name: parent,
        columns: parent_cols,
        unique,
        ..
    }) = targets.iter().find(|p| p.source_name == fk.ref_table)
    else {
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
    let same_set = |set: &Vec<String>| {
        set.len() == fk.ref_columns.len()
            && fk
                .ref_columns
                .iter()
                .all(|c| set.iter().any(|s| s.eq_ignore_ascii_case(c)))
    };
    let describe = || fk.describe(&tp.source_name);
    if !unique.iter().any(same_set) {
        return Err(format!(
            "foreign key {} not created: PostgreSQL needs a primary key or unique constraint on \
             exactly the referenced columns, and {} has none (SQLite allowed it); the rows are \
             loaded without it",
            describe(),
            fk.ref_table
        ));
    }
    let ty = |cols: &[ColumnPlan], name: &str| {
        cols.iter()
            .find(|c| c.name == name)
            .map(|c| c.pg_type.clone())
    };
    for (c, p) in child.iter().zip(&parent_keys) {
        if let (Some(a), Some(b)) = (ty(&tp.columns, c), ty(parent_cols, p))
            && !comparable(&a, &b)
        {
            return Err(format!(
                "foreign key {} not created: {c} is {a} and {}.{p} is {b} in PostgreSQL (the \
                 values decided the types), which it cannot compare; the rows are loaded \
                 without it (a type in --config can make them match)",
                describe(),
                fk.ref_table
            ));
        }
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
