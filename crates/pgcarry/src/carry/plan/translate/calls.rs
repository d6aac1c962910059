//! CAST and function calls: SQLite's type-name affinity rules for CAST, and the few functions
//! whose PostgreSQL counterpart gives the same result (renamed where the name differs).

use super::{Render, Untranslatable, is_text, known_type, refuse};
use crate::model::types::PgType;
use crate::sqlite::sql::expr::Expr;

/// The letters SQLite's `lower()` and `upper()` fold: ASCII only.
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";

impl Render<'_, '_> {
    /// CAST with SQLite's affinity rules for the type name.
    pub(super) fn cast(&self, expr: &Expr, type_name: &str) -> Result<String, Untranslatable> {
        let upper = type_name.to_ascii_uppercase();
        let from = known_type(expr, self);
        let inner = self.expr(expr)?;
        let integral = matches!(
            from,
            Some(PgType::SmallInt | PgType::Integer | PgType::BigInt)
        );
        if upper.contains("INT") {
            // SQLite truncates toward zero; PostgreSQL's cast rounds.
            return Ok(if integral {
                format!("CAST({inner} AS bigint)")
            } else {
                format!("CAST(trunc(CAST({inner} AS numeric)) AS bigint)")
            });
        }
        if ["CHAR", "CLOB", "TEXT"].iter().any(|t| upper.contains(t)) {
            if integral || is_text(from.as_ref()) {
                return Ok(format!("CAST({inner} AS text)"));
            }
            return refuse(format!(
                "CAST({type_name}) of a value that is not known to be an integer or text: \
                 SQLite and PostgreSQL write numbers as different text"
            ));
        }
        if upper.contains("BLOB") || upper.is_empty() {
            // SQLite's CAST(text AS BLOB) is the text's UTF-8 bytes; PostgreSQL's text::bytea
            // would read backslash escapes.
            return match from {
                Some(PgType::Bytea) => Ok(inner),
                Some(PgType::Text | PgType::Varchar { .. }) => {
                    Ok(format!("convert_to({inner}, 'UTF8')"))
                }
                _ => refuse(format!(
                    "CAST({type_name}) of a value that is not known to be text"
                )),
            };
        }
        let target = if ["REAL", "FLOA", "DOUB"].iter().any(|t| upper.contains(t)) {
            "double precision"
        } else {
            "numeric"
        };
        Ok(format!("CAST({inner} AS {target})"))
    }

    pub(super) fn function(&self, name: &str, args: &[Expr]) -> Result<String, Untranslatable> {
        let lower = name.to_ascii_lowercase();
        let rendered = args
            .iter()
            .map(|a| self.expr(a))
            .collect::<Result<Vec<_>, _>>()?;
        let call = |pg: &str| format!("{pg}({})", rendered.join(", "));
        let n = args.len();
        let non_negative_literal =
            |e: &Expr| matches!(e, Expr::Number(d) if d.bytes().all(|b| b.is_ascii_digit()));
        Ok(match (lower.as_str(), n) {
            // SQLite folds ASCII letters only; PostgreSQL's lower()/upper() fold every letter.
            ("lower", 1) => format!("translate({}, '{UPPER}', '{LOWER}')", rendered[0]),
            ("upper", 1) => format!("translate({}, '{LOWER}', '{UPPER}')", rendered[0]),
            ("length" | "abs", 1) => call(&lower),
            ("coalesce", 2..) | ("nullif", 2) | ("replace", 3) => call(&lower),
            ("ifnull", 2) => call("coalesce"),
            ("instr", 2) => call("strpos"),
            ("trim", 1 | 2) => call("btrim"),
            ("ltrim" | "rtrim", 1 | 2) => call(&lower),
            ("substr" | "substring", 2 | 3) => {
                if !args[1..].iter().all(non_negative_literal) {
                    return refuse(format!(
                        "{name}() with a position or length that is not a non-negative number: \
                         SQLite counts negative positions from the end"
                    ));
                }
                call("substr")
            }
            ("round", 1) => format!("round(CAST({} AS numeric))", rendered[0]),
            ("round", 2) => format!("round(CAST({} AS numeric), {})", rendered[0], rendered[1]),
            ("date" | "time" | "datetime" | "strftime" | "julianday" | "unixepoch", _) => {
                return refuse(format!(
                    "{name}() on anything but 'now' depends on SQLite's date text formats"
                ));
            }
            _ => {
                return refuse(format!(
                    "function {name}() with {n} argument{} has no PostgreSQL equivalent pgcarry \
                     can vouch for",
                    if n == 1 { "" } else { "s" }
                ));
            }
        })
    }
}
