//! A column's DEFAULT in PostgreSQL: SQLite's literal re-read as a value of the column's chosen
//! type (refused when SQLite would have stored something the type cannot hold), SQLite's "now"
//! rendered for that type, any other expression through `translate_expr` with no columns.

use super::now::{as_now, render_now};
use super::{ExprContext, Render, Untranslatable, number, parse, refuse};
use crate::model::types::PgType;
use crate::postgres::ident::quote_literal;
use crate::sqlite::sql::expr::{Expr, UnaryOp};

/// `sqlite_default` (the DEFAULT as written: `0`, `'x'`, `CURRENT_TIMESTAMP`, `(expr)`) as a
/// PostgreSQL DEFAULT expression for a column of type `column_type`.
pub fn translate_default(
    sqlite_default: &str,
    column_type: &PgType,
) -> Result<String, Untranslatable> {
    let text = sqlite_default.trim();
    let expr = parse(text)?;
    let ty = column_type;
    match &expr {
        // Outside parentheses SQLite reads a bare name as a string: `DEFAULT active`.
        Expr::Column(name) | Expr::DoubleQuoted(name) if !text.starts_with('(') => string(name, ty),
        Expr::DoubleQuoted(name) => string(name, ty),
        Expr::Null => Ok("NULL".into()),
        Expr::Str(s) => string(s, ty),
        Expr::Number(n) => numeric(&number(n)?, ty),
        Expr::Unary(op @ (UnaryOp::Neg | UnaryOp::Plus), inner) => match inner.as_ref() {
            Expr::Number(n) => {
                let n = number(n)?;
                let signed = if *op == UnaryOp::Neg { negate(&n) } else { n };
                numeric(&signed, ty)
            }
            _ => generic(&expr),
        },
        Expr::Bool(b) => boolean(*b, ty),
        Expr::Blob(hex) => match ty {
            PgType::Bytea => Ok(format!("'\\x{}'::bytea", hex.to_ascii_lowercase())),
            _ => refuse(format!("a blob default for a {ty} column")),
        },
        _ => match as_now(&expr) {
            Some(now) => render_now(&now, Some(ty)),
            None => generic(&expr),
        },
    }
}

/// True for `DEFAULT NULL` (`(NULL)`, any case): no default at all. PostgreSQL stores nothing
/// for it, so the plan sets none and verification expects none.
pub fn is_null_default(sqlite_default: &str) -> bool {
    parse(sqlite_default.trim()).is_ok_and(|e| matches!(e, Expr::Null))
}

fn generic(expr: &Expr) -> Result<String, Untranslatable> {
    let no_columns = |_: &str| None;
    let ctx = ExprContext {
        columns: &no_columns,
    };
    // PostgreSQL's DEFAULT takes a restricted expression (no AND, IS NULL, IN …) unparenthesised.
    Render {
        ctx: &ctx,
        scope: None,
    }
    .operand(expr)
}

fn negate(n: &str) -> String {
    match n.strip_prefix('-') {
        Some(positive) => positive.to_string(),
        None => format!("-{n}"),
    }
}

/// A decimal number (as SQLite writes them, sign included) for a column of type `ty`.
fn numeric(n: &str, ty: &PgType) -> Result<String, Untranslatable> {
    let refuse_type = || refuse(format!("default {n} does not fit a {ty} column"));
    match ty {
        PgType::SmallInt | PgType::Integer | PgType::BigInt => {
            integer(n, ty).map_or_else(refuse_type, Ok)
        }
        PgType::DoublePrecision => Ok(n.to_string()),
        PgType::Numeric { precision_scale } => {
            if fits_numeric(n, *precision_scale) {
                Ok(n.to_string())
            } else {
                refuse(format!("default {n} would be rounded in a {ty} column"))
            }
        }
        PgType::Boolean => match n {
            "0" => Ok("false".into()),
            "1" => Ok("true".into()),
            _ => refuse(format!("default {n} is not a boolean (0 or 1)")),
        },
        // SQLite stores an integer default of a TEXT column as its decimal text.
        PgType::Text | PgType::Varchar { .. } if integer(n, &PgType::BigInt).is_some() => {
            text_literal(n, ty)
        }
        _ => refuse_type(),
    }
}

/// `n` as an integer literal within the range of `ty`; `1.0` counts (SQLite stores it as 1).
fn integer(n: &str, ty: &PgType) -> Option<String> {
    let whole = match n.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => whole,
        Some(_) => return None,
        None => n,
    };
    let value: i64 = whole.parse().ok()?;
    let fits = match ty {
        PgType::SmallInt => i16::try_from(value).is_ok(),
        PgType::Integer => i32::try_from(value).is_ok(),
        _ => true,
    };
    fits.then(|| value.to_string())
}

/// True when `n` is a plain decimal that `numeric(p, s)` holds without rounding.
fn fits_numeric(n: &str, precision_scale: Option<(u32, u32)>) -> bool {
    let digits = n.trim_start_matches(['-', '+']);
    let plain = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|&b| b == b'.').count() <= 1
        && digits != ".";
    let Some((precision, scale)) = precision_scale else {
        return plain || n.parse::<f64>().is_ok_and(f64::is_finite);
    };
    if !plain {
        return false;
    }
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    let (whole_len, fraction_len) = (whole.len(), fraction.len());
    u32::try_from(fraction_len).is_ok_and(|f| f <= scale)
        && u32::try_from(whole_len).is_ok_and(|w| w <= precision.saturating_sub(scale))
}

fn boolean(b: bool, ty: &PgType) -> Result<String, Untranslatable> {
    match ty {
        PgType::Boolean => Ok(b.to_string()),
        // SQLite's TRUE and FALSE are the integers 1 and 0.
        _ => numeric(if b { "1" } else { "0" }, ty),
    }
}

fn text_literal(s: &str, ty: &PgType) -> Result<String, Untranslatable> {
    if let PgType::Varchar { max_chars } = ty
        && u32::try_from(s.chars().count()).map_or(true, |n| n > *max_chars)
    {
        return refuse(format!("default {} is longer than {ty}", quote_literal(s)));
    }
    Ok(quote_literal(s))
}

/// A string default for a column of type `ty`: kept for text types, re-read for the others.
fn string(s: &str, ty: &PgType) -> Result<String, Untranslatable> {
    let literal = quote_literal(s);
    let not_a = |what: &str| refuse(format!("default {literal} is not {what}"));
    let typed = |ok: bool, what: &str| {
        if ok {
            Ok(format!("{literal}::{ty}"))
        } else {
            not_a(what)
        }
    };
    match ty {
        PgType::Text | PgType::Varchar { .. } => text_literal(s, ty),
        PgType::SmallInt | PgType::Integer | PgType::BigInt => {
            integer(s, ty).map_or_else(|| not_a(&format!("of type {ty}")), Ok)
        }
        PgType::Numeric { precision_scale } => {
            if fits_numeric(s, *precision_scale) && s.parse::<f64>().is_ok() {
                Ok(s.to_string())
            } else {
                not_a(&format!("of type {ty}"))
            }
        }
        PgType::DoublePrecision => match s.parse::<f64>() {
            Ok(v) if v.is_finite() && !s.starts_with(['i', 'I', 'n', 'N']) => Ok(s.to_string()),
            _ => not_a("a number"),
        },
        PgType::Boolean => match s.to_ascii_lowercase().as_str() {
            "0" | "false" | "f" => Ok("false".into()),
            "1" | "true" | "t" => Ok("true".into()),
            _ => not_a("a boolean"),
        },
        PgType::Date => typed(
            s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok(),
            "a date (YYYY-MM-DD)",
        ),
        PgType::Time => typed(s.parse::<jiff::civil::Time>().is_ok(), "a time of day"),
        PgType::Timestamp => {
            let offset = s
                .get(10..)
                .is_some_and(|rest| rest.contains(['Z', 'z', '+', '-', '[']));
            typed(
                !offset && s.parse::<jiff::civil::DateTime>().is_ok(),
                "a date and time without time zone",
            )
        }
        PgType::Timestamptz => typed(
            s.parse::<jiff::Timestamp>().is_ok(),
            "a date and time with a UTC offset",
        ),
        PgType::Uuid => typed(is_uuid(s), "a UUID"),
        PgType::Jsonb | PgType::Json => typed(
            serde_json::from_str::<serde_json::Value>(s).is_ok(),
            "a JSON document",
        ),
        PgType::Bytea => refuse(format!("a text default {literal} for a bytea column")),
        PgType::Enum { labels, .. } => typed(labels.iter().any(|l| l == s), "one of the labels"),
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[cfg(test)]
#[path = "default_tests.rs"]
mod tests;
