//! SQLite's "now": `CURRENT_TIMESTAMP`, `CURRENT_DATE`, `CURRENT_TIME`, `datetime('now')`,
//! `date('now')`, `time('now')` and `strftime(format, 'now')`, all of which mean the current
//! **UTC** time as text. Rendered for the PostgreSQL type that receives the value; refused when
//! that type cannot hold what SQLite would have stored.

use super::Untranslatable;
use crate::model::types::PgType;
use crate::postgres::ident::quote_literal;
use crate::sqlite::sql::expr::{Expr, NowKind};

/// Which "now" an expression asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Now {
    Kind(NowKind),
    /// `strftime('%s', 'now')`: Unix seconds.
    Epoch,
    /// `strftime(format, 'now')` with any other format.
    Format(String),
}

const UTC_NOW: &str = "CURRENT_TIMESTAMP AT TIME ZONE 'UTC'";
const EPOCH: &str = "(floor(extract(epoch from CURRENT_TIMESTAMP))::bigint)";

/// The "now" that `expr` is, if it is one. A date function on anything but exactly `'now'`
/// (a column, a modifier such as `'localtime'`) is not a "now" and is refused by the caller.
pub(super) fn as_now(expr: &Expr) -> Option<Now> {
    let is_now = |e: &Expr| matches!(e, Expr::Str(s) if s.eq_ignore_ascii_case("now"));
    match expr {
        Expr::CurrentTime(kind) => Some(Now::Kind(*kind)),
        Expr::Function { name, args, .. } => {
            let name = name.to_ascii_lowercase();
            match (name.as_str(), args.as_slice()) {
                ("datetime", [a]) if is_now(a) => Some(Now::Kind(NowKind::Timestamp)),
                ("date", [a]) if is_now(a) => Some(Now::Kind(NowKind::Date)),
                ("time", [a]) if is_now(a) => Some(Now::Kind(NowKind::Time)),
                ("strftime", [Expr::Str(f), a]) if is_now(a) && f == "%s" => Some(Now::Epoch),
                ("strftime", [Expr::Str(f), a]) if is_now(a) => Some(Now::Format(f.clone())),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `now` as a value for a column of type `target` (`None`: no column, the text SQLite produces).
pub(super) fn render_now(now: &Now, target: Option<&PgType>) -> Result<String, Untranslatable> {
    let refuse = |what: &str| {
        let target = target.map_or("text".to_string(), PgType::sql);
        Err(Untranslatable {
            reason: format!("{what} has no exact equivalent for a {target} column"),
        })
    };
    // The text SQLite would store, for text targets.
    let text = |pattern: &str, len: u32| match target {
        None | Some(PgType::Text) => Ok(format!("to_char({UTC_NOW}, {})", quote_literal(pattern))),
        Some(PgType::Varchar { max_chars }) if *max_chars >= len => {
            Ok(format!("to_char({UTC_NOW}, {})", quote_literal(pattern)))
        }
        _ => refuse("the current time as text"),
    };
    match now {
        Now::Kind(NowKind::Timestamp) => match target {
            Some(PgType::Timestamp) => Ok(format!("({UTC_NOW})")),
            Some(PgType::Timestamptz) => Ok("CURRENT_TIMESTAMP".into()),
            Some(PgType::Date) => Ok(format!("(({UTC_NOW})::date)")),
            _ => text("YYYY-MM-DD HH24:MI:SS", 19).or_else(|_| refuse("CURRENT_TIMESTAMP")),
        },
        Now::Kind(NowKind::Date) => match target {
            Some(PgType::Date) => Ok(format!("(({UTC_NOW})::date)")),
            Some(PgType::Timestamp) => Ok(format!("(date_trunc('day', {UTC_NOW}))")),
            _ => text("YYYY-MM-DD", 10).or_else(|_| refuse("CURRENT_DATE")),
        },
        Now::Kind(NowKind::Time) => match target {
            Some(PgType::Time) => Ok(format!("(({UTC_NOW})::time(0))")),
            _ => text("HH24:MI:SS", 8).or_else(|_| refuse("CURRENT_TIME")),
        },
        Now::Epoch => match target {
            Some(
                PgType::Integer | PgType::BigInt | PgType::Numeric { .. } | PgType::DoublePrecision,
            ) => Ok(EPOCH.into()),
            None | Some(PgType::Text) => Ok(format!("({EPOCH}::text)")),
            _ => refuse("strftime('%s', 'now')"),
        },
        Now::Format(format) => render_format(format, target).or_else(|e| match e {
            Some(e) => Err(e),
            None => refuse(&format!("strftime({}, 'now')", quote_literal(format))),
        }),
    }
}

/// `strftime(format, 'now')`: as text through `to_char`, or as a timestamp/date when the format
/// is exactly the ISO form of one. `Err(None)`: the target type cannot take it.
fn render_format(format: &str, target: Option<&PgType>) -> Result<String, Option<Untranslatable>> {
    let iso = format.replace('T', " ");
    match (target, iso.as_str()) {
        (Some(PgType::Timestamp), "%Y-%m-%d %H:%M:%S") => return Ok(format!("({UTC_NOW})")),
        (Some(PgType::Timestamp), "%Y-%m-%d %H:%M:%f") => {
            return Ok(format!("(date_trunc('milliseconds', {UTC_NOW}))"));
        }
        (Some(PgType::Timestamptz), "%Y-%m-%d %H:%M:%S" | "%Y-%m-%d %H:%M:%f") => {
            return Ok("CURRENT_TIMESTAMP".into());
        }
        (Some(PgType::Date), "%Y-%m-%d") => return Ok(format!("(({UTC_NOW})::date)")),
        (None | Some(PgType::Text), _) => {}
        _ => return Err(None),
    }
    let pattern = to_char_pattern(format).ok_or_else(|| {
        Some(Untranslatable {
            reason: format!(
                "strftime format {} uses a conversion pgcarry does not translate",
                quote_literal(format)
            ),
        })
    })?;
    Ok(format!("to_char({UTC_NOW}, {})", quote_literal(&pattern)))
}

/// SQLite's strftime conversions as a PostgreSQL `to_char` pattern; literal letters and digits
/// are double-quoted so `to_char` cannot read them as patterns.
fn to_char_pattern(format: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            if c == '"' || c == '\\' {
                return None;
            }
            if c.is_alphanumeric() {
                out.push('"');
                out.push(c);
                out.push('"');
            } else {
                out.push(c);
            }
            continue;
        }
        out.push_str(match chars.next()? {
            'Y' => "YYYY",
            'm' => "MM",
            'd' => "DD",
            'H' => "HH24",
            'M' => "MI",
            'S' => "SS",
            'f' => "SS.MS",
            'j' => "DDD",
            '%' => "%",
            _ => return None,
        });
    }
    Some(out)
}
