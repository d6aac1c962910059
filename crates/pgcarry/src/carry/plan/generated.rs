//! Generated columns: `GENERATED ALWAYS AS (expr)` in SQLite becomes a PostgreSQL generated
//! column when the expression means the same there and cannot fail while rows load; otherwise
//! the column keeps SQLite's values as a plain column, and the plan says why.
//!
//! A generated column is computed by PostgreSQL during COPY, so an expression that raises an
//! error there would fail the whole table: only expressions that cannot are accepted (no CAST,
//! whose text-to-number rules differ; division is translated to yield NULL on zero, as SQLite
//! does). PostgreSQL computes only STORED columns and refuses a generated column that reads
//! another one. Whatever is accepted is still proven on the data: verification hashes the
//! values PostgreSQL computed against the values SQLite holds.

use super::translate::{ExprContext, translate_expr};
use crate::model::plan::ColumnPlan;
use crate::model::schema::Generated;
use crate::model::types::{PgType, ReadAs};
use crate::sqlite::sql::tokenize::{Kind, tokenize};

/// The PostgreSQL generation expression for `col`, or why it stays a plain column.
/// `others` are the table's other generated columns (source names); `keep_values` is the
/// config's `generated = false`.
pub fn expression(
    g: &Generated,
    col: &ColumnPlan,
    others: &[&str],
    ctx: &ExprContext,
    keep_values: bool,
) -> Result<String, String> {
    if keep_values {
        return Err("generated = false in the config".into());
    }
    if col.read_as != ReadAs::Value {
        return Err("its values are numbers standing for times".into());
    }
    if !computable(&col.pg_type) {
        return Err(format!(
            "its values became {}, which pgcarry does not compute from an expression",
            col.pg_type
        ));
    }
    let tokens = tokenize(&g.expr).map_err(|e| format!("its expression cannot be read: {e}"))?;
    for t in &tokens {
        if t.is_kw("CAST") {
            return Err(
                "it uses CAST, which converts text to numbers differently in SQLite \
                        and PostgreSQL"
                    .into(),
            );
        }
        let name = matches!(t.kind, Kind::Word | Kind::Quoted).then_some(t.text.as_str());
        if let Some(other) = name.and_then(|n| others.iter().find(|o| o.eq_ignore_ascii_case(n))) {
            return Err(format!(
                "it reads the generated column {other}, which PostgreSQL does not allow"
            ));
        }
    }
    let expr = translate_expr(&g.expr, ctx).map_err(|e| e.to_string())?;
    Ok(format!("CAST(({expr}) AS {})", col.pg_type.sql()))
}

/// Types whose values an expression yields exactly as SQLite stores them.
fn computable(ty: &PgType) -> bool {
    matches!(
        ty,
        PgType::Boolean
            | PgType::SmallInt
            | PgType::Integer
            | PgType::BigInt
            | PgType::Numeric { .. }
            | PgType::DoublePrecision
            | PgType::Text
            | PgType::Varchar { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(ty: PgType) -> ColumnPlan {
        ColumnPlan {
            source_name: "g".into(),
            name: "g".into(),
            declared_type: String::new(),
            pg_type: ty,
            not_null: false,
            identity: false,
            reason: String::new(),
            rejects: None,
            read_as: ReadAs::Value,
            repair: Default::default(),
            generated: None,
            scan_checked: false,
        }
    }

    fn gen_expr(expr: &str, ty: PgType, others: &[&str]) -> Result<String, String> {
        let lookup = |n: &str| match n {
            "a" | "b" => Some((n.to_string(), PgType::BigInt)),
            "s" => Some(("s".to_string(), PgType::Text)),
            _ => None,
        };
        let ctx = ExprContext { columns: &lookup };
        let g = Generated {
            expr: expr.into(),
            stored: true,
        };
        expression(&g, &col(ty), others, &ctx, false)
    }

    #[test]
    fn arithmetic_and_text_are_computed_with_a_cast_to_the_column_type() {
        assert_eq!(
            gen_expr("a * 2", PgType::BigInt, &[]).unwrap(),
            "CAST((\"a\" * 2) AS bigint)"
        );
        assert!(gen_expr("upper(s)", PgType::Text, &[]).is_ok());
    }

    #[test]
    fn what_could_fail_or_differ_stays_plain() {
        let why = gen_expr("CAST(s AS INTEGER)", PgType::BigInt, &[]).unwrap_err();
        assert!(why.contains("CAST"), "{why}");
        let why = gen_expr("a + h", PgType::BigInt, &["h"]).unwrap_err();
        assert!(why.contains("generated column h"), "{why}");
        assert!(gen_expr("a", PgType::Timestamptz, &[]).is_err());
        assert!(gen_expr("s + 1", PgType::BigInt, &[]).is_err());
    }
}
