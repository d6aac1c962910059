//! Writing a value back the way the source stored it, for a table pgcarry migrated: the
//! storage class the column's values had, a boolean's spelling, a UUID as a 16-byte blob or in
//! upper case, a timestamp in its written form or as the Unix or Julian number it was. Known
//! from the record the migration kept (`pgcarry.sources`). A value the recorded form cannot
//! hold exactly is written in the export's own form instead; the proof re-reads both.

use crate::formats::decode::Wire;
use crate::formats::json_style::JsonForm;
use crate::formats::{epoch, shape, text};
use crate::model::source_record::{SourceColumn, Storage};
use crate::model::types::ReadAs;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Restyle {
    /// The export's own form.
    #[default]
    None,
    /// Numbers stored as INTEGER, REAL or TEXT.
    Integer,
    Real,
    Text,
    /// A boolean spelled as text.
    Bool {
        yes: String,
        no: String,
    },
    UuidBlob,
    UuidUpper,
    /// Timestamps in one of these written forms (fewest digits first).
    DateTime {
        forms: Vec<String>,
    },
    UnixSeconds,
    UnixMillis,
    JulianDay,
    /// JSON documents in the spacing, key order and escapes the source used.
    Json(JsonForm),
}

/// How to write back a column of `wire` whose source the record describes.
pub fn of(wire: Wire, c: &SourceColumn) -> Restyle {
    match c.read_as {
        ReadAs::UnixSeconds => return Restyle::UnixSeconds,
        ReadAs::UnixMillis => return Restyle::UnixMillis,
        ReadAs::JulianDay => return Restyle::JulianDay,
        ReadAs::Value => {}
    }
    match (wire, c.storage) {
        (Wire::Bool, Some(Storage::Text)) => bool_spelling(&c.forms),
        (Wire::Uuid, Some(Storage::Blob)) => Restyle::UuidBlob,
        (Wire::Jsonb, Some(Storage::Text)) => c.json.clone().map_or(Restyle::None, Restyle::Json),
        (Wire::Uuid, Some(Storage::Text)) if c.forms == ["A"] => Restyle::UuidUpper,
        (Wire::Date | Wire::Time | Wire::Timestamp | Wire::Timestamptz, Some(Storage::Text))
            if !c.forms.is_empty() =>
        {
            let mut forms = c.forms.clone();
            forms.sort_by_key(String::len);
            Restyle::DateTime { forms }
        }
        (
            Wire::Int2
            | Wire::Int4
            | Wire::Int8
            | Wire::Float8
            | Wire::NumericInteger
            | Wire::NumericText,
            Some(st),
        ) => match st {
            Storage::Integer => Restyle::Integer,
            Storage::Real => Restyle::Real,
            Storage::Text => Restyle::Text,
            Storage::Blob => Restyle::None,
        },
        _ => Restyle::None,
    }
}

/// The spellings of true and false, from the forms the column used (one may be missing).
fn bool_spelling(forms: &[String]) -> Restyle {
    let of = |want: bool| {
        forms
            .iter()
            .find(|f| text::parse_bool_text(f.as_bytes()) == Some(want))
    };
    let opposite = |f: &str| -> Option<String> {
        let pairs = [
            ("true", "false"),
            ("t", "f"),
            ("yes", "no"),
            ("y", "n"),
            ("on", "off"),
            ("1", "0"),
        ];
        let lower = f.to_ascii_lowercase();
        let other = pairs.iter().find_map(|(a, b)| {
            if lower == *a {
                Some(*b)
            } else if lower == *b {
                Some(*a)
            } else {
                None
            }
        })?;
        Some(if f.chars().all(|c| !c.is_ascii_lowercase()) {
            other.to_ascii_uppercase()
        } else {
            other.to_string()
        })
    };
    match (of(true), of(false)) {
        (Some(y), Some(n)) => Restyle::Bool {
            yes: y.clone(),
            no: n.clone(),
        },
        (Some(y), None) => opposite(y).map_or(Restyle::None, |n| Restyle::Bool {
            yes: y.clone(),
            no: n,
        }),
        (None, Some(n)) => opposite(n).map_or(Restyle::None, |y| Restyle::Bool {
            yes: y,
            no: n.clone(),
        }),
        (None, None) => Restyle::None,
    }
}

/// `v` (decoded from `bytes`, a field of `wire`) written as `r` says, when it can be exactly.
pub fn apply(r: &Restyle, wire: Wire, bytes: &[u8], v: Value) -> Value {
    let micros = || <[u8; 8]>::try_from(bytes).ok().map(i64::from_be_bytes);
    let styled = match (r, &v) {
        (Restyle::None, _) => None,
        (Restyle::Integer, Value::Text(t)) => t.parse::<i64>().ok().map(Value::Integer),
        (Restyle::Integer, Value::Real(f)) => exact_int(*f).map(Value::Integer),
        (Restyle::Real, Value::Text(t)) => t
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && same_decimal(t, *f))
            .map(Value::Real),
        #[allow(clippy::cast_precision_loss)]
        (Restyle::Real, Value::Integer(i)) if i.unsigned_abs() <= 1 << 53 => {
            Some(Value::Real(*i as f64))
        }
        (Restyle::Text, Value::Integer(i)) => Some(Value::Text(i.to_string())),
        (Restyle::Text, Value::Real(f)) => Some(Value::Text(format!("{f:?}"))),
        (Restyle::Bool { yes, no }, Value::Integer(i)) => {
            Some(Value::Text(if *i == 1 { yes.clone() } else { no.clone() }))
        }
        (Restyle::UuidBlob, Value::Text(_)) => Some(Value::Blob(bytes.to_vec())),
        (Restyle::UuidUpper, Value::Text(t)) => Some(Value::Text(t.to_ascii_uppercase())),
        (Restyle::DateTime { forms }, Value::Text(t)) => datetime(forms, wire, t),
        (Restyle::UnixSeconds, _) => micros()
            .and_then(epoch::to_unix_seconds)
            .map(Value::Integer),
        (Restyle::UnixMillis, _) => micros().and_then(epoch::to_unix_millis).map(Value::Integer),
        (Restyle::JulianDay, _) => micros().and_then(epoch::to_julian_day).map(Value::Real),
        (Restyle::Json(form), Value::Text(t)) => form.write(t).map(Value::Text),
        _ => None,
    };
    styled.unwrap_or(v)
}

fn exact_int(f: f64) -> Option<i64> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let i = f as i64;
    #[allow(clippy::cast_precision_loss)]
    (i as f64 == f && f.abs() < 9.0e15).then_some(i)
}

/// True when the double's shortest text is the decimal `t` (so REAL keeps its value).
fn same_decimal(t: &str, f: f64) -> bool {
    let shortest = format!("{f:?}");
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    trim(&shortest) == trim(t)
}

/// A timestamp text in the first recorded form that holds it exactly. Instants
/// (timestamptz) go into forms in UTC (`Z`, `+00:00`, or none for a naive column) — or, when
/// every recorded form has one and the same other offset (`+02:00`), into that offset.
fn datetime(forms: &[String], wire: Wire, t: &str) -> Option<Value> {
    let (value, instant) = match t.strip_suffix("+00:00") {
        Some(v) if wire == Wire::Timestamptz => (v, true),
        _ => (t, false),
    };
    if instant && let Some(seconds) = one_offset(forms) {
        let local = shifted(value, seconds)?;
        return forms
            .iter()
            .find_map(|f| shape::write_datetime(&local, f))
            .map(Value::Text);
    }
    forms
        .iter()
        .filter(|f| {
            let zone = zone_of(f);
            if instant {
                matches!(zone.trim(), "Z" | "z" | "+00:00" | "+0000" | "+00")
            } else {
                zone.is_empty()
            }
        })
        .find_map(|f| shape::write_datetime(value, f))
        .map(Value::Text)
}

/// The offset (in seconds east of UTC) that every form names, when they all name the same
/// one and it is not UTC.
fn one_offset(forms: &[String]) -> Option<i32> {
    let mut offsets = forms.iter().map(|f| offset_seconds(zone_of(f).trim()));
    let first = offsets.next()??;
    (first != 0 && offsets.all(|o| o == Some(first))).then_some(first)
}

/// `+02:00`, `+0200`, `+02`, `-05:30` in seconds; `None` for anything else.
fn offset_seconds(zone: &str) -> Option<i32> {
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = zone[1..].chars().filter(|&c| c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits.get(2..).map_or(Some(0), |m| m.parse().ok())?;
    Some(sign * (hours * 3600 + minutes * 60))
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC) as the same instant's local time at `seconds` east.
fn shifted(value: &str, seconds: i32) -> Option<String> {
    let (whole, fraction) = match value.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (value, None),
    };
    let utc: jiff::civil::DateTime = whole.replacen(' ', "T", 1).parse().ok()?;
    let local = utc
        .checked_add(jiff::SignedDuration::from_secs(i64::from(seconds)))
        .ok()?;
    let mut out = local.strftime("%Y-%m-%d %H:%M:%S").to_string();
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    Some(out)
}

/// The zone part of a written form (`Z`, ` +00:00`), empty when naive.
fn zone_of(form: &str) -> &str {
    let at = form.find(['Z', 'z', '+']).or_else(|| {
        form.char_indices()
            .skip(10)
            .find(|(_, c)| *c == '-')
            .map(|(i, _)| i)
    });
    match at {
        Some(i) => {
            let start = form[..i].trim_end_matches(' ').len();
            &form[start..]
        }
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_go_back_into_their_one_offset() {
        let forms = vec!["9999-99-99T99:99:99.999999+02:00".to_string()];
        assert_eq!(
            datetime(
                &forms,
                Wire::Timestamptz,
                "2024-05-01 08:00:00.123456+00:00"
            ),
            Some(Value::Text("2024-05-01T10:00:00.123456+02:00".into()))
        );
        let forms = vec!["9999-99-99 99:99:99-0530".to_string()];
        assert_eq!(
            datetime(&forms, Wire::Timestamptz, "2024-01-01 02:00:00+00:00"),
            Some(Value::Text("2023-12-31 20:30:00-0530".into()))
        );
        // Two offsets: which one a value had is not known, so neither is used.
        let forms = vec![
            "9999-99-99T99:99:99+01:00".to_string(),
            "9999-99-99T99:99:99+02:00".to_string(),
        ];
        assert_eq!(
            datetime(&forms, Wire::Timestamptz, "2024-01-01 02:00:00+00:00"),
            None
        );
    }

    #[test]
    fn booleans_keep_their_spelling() {
        assert_eq!(
            bool_spelling(&["true".into()]),
            Restyle::Bool {
                yes: "true".into(),
                no: "false".into()
            }
        );
        assert_eq!(
            bool_spelling(&["N".into(), "Y".into()]),
            Restyle::Bool {
                yes: "Y".into(),
                no: "N".into()
            }
        );
    }

    #[test]
    fn timestamps_take_the_form_with_the_fewest_digits_that_holds_them() {
        let forms = vec![
            "9999-99-99 99:99:99".to_string(),
            "9999-99-99 99:99:99.999999".to_string(),
        ];
        let r = Restyle::DateTime { forms };
        let at = |t: &str| apply(&r, Wire::Timestamp, &[], Value::Text(t.into()));
        assert_eq!(
            at("2024-01-02 03:04:05"),
            Value::Text("2024-01-02 03:04:05".into())
        );
        assert_eq!(
            at("2024-01-02 03:04:05.25"),
            Value::Text("2024-01-02 03:04:05.250000".into())
        );
        let z = Restyle::DateTime {
            forms: vec!["9999-99-99T99:99:99.999Z".into()],
        };
        assert_eq!(
            apply(
                &z,
                Wire::Timestamptz,
                &[],
                Value::Text("2024-01-02 03:04:05.500000+00:00".into())
            ),
            Value::Text("2024-01-02T03:04:05.500Z".into())
        );
    }

    #[test]
    fn numbers_keep_their_storage_class_only_when_exact() {
        assert_eq!(
            apply(
                &Restyle::Real,
                Wire::NumericText,
                &[],
                Value::Text("19.99".into())
            ),
            Value::Real(19.99)
        );
        assert_eq!(
            apply(
                &Restyle::Real,
                Wire::NumericText,
                &[],
                Value::Text("0.1000000000000000000001".into())
            ),
            Value::Text("0.1000000000000000000001".into())
        );
        assert_eq!(
            apply(
                &Restyle::Integer,
                Wire::NumericText,
                &[],
                Value::Text("5".into())
            ),
            Value::Integer(5)
        );
    }
}
