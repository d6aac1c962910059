//! Converting source values into PostgreSQL binary values, exactly or not at all.
//!
//! [`encode`] is the single place where a SQLite value becomes the bytes of one binary COPY
//! field for the column type the plan chose. It either represents the value exactly or
//! returns a [`Refusal`] saying why not; the caller then sends the whole row to the rejects
//! file. Nothing here rounds, truncates, strips or guesses.

use crate::formats::numeric::{self, Decimal, Numeric};
use crate::formats::text::{
    Refusal, check_text, number_text, parse_bool_text, parse_uuid_text, refuse,
};
use crate::formats::{datetime, epoch, json};
use crate::model::plan::Repair;
use crate::model::types::{PgType, ReadAs};
use rusqlite::types::ValueRef;
use std::borrow::Cow;

/// The largest integer magnitude a double holds exactly (2^53).
const F64_EXACT_INT: i64 = 1 << 53;

/// Appends one field (length + bytes) to `out`, or returns why the value cannot be held.
/// NULL is written as length -1; the caller checks NOT NULL before.
pub fn encode(ty: &PgType, v: ValueRef<'_>, out: &mut Vec<u8>) -> Result<(), Refusal> {
    if let ValueRef::Null = v {
        out.extend_from_slice(&(-1i32).to_be_bytes());
        return Ok(());
    }
    let len_at = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    match (ty, v) {
        // A blob in a text or JSON column (a type set in --config): its bytes are the text,
        // when they are valid UTF-8 (and a valid document).
        (
            PgType::Text | PgType::Varchar { .. } | PgType::Json | PgType::Jsonb,
            ValueRef::Blob(b),
        ) => encode_body(ty, ValueRef::Text(b), out)
            .map_err(|r| Refusal(format!("blob converted to {ty}: {}", r.0)))?,
        _ => encode_body(ty, v, out)?,
    }
    let len = i32::try_from(out.len() - len_at - 4)
        .or_else(|_| refuse("value larger than PostgreSQL's 1 GB field limit"))?;
    out[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Writes a text value of a column whose every value the scan already checked
/// (`ColumnPlan::scan_checked`): text as is, json/jsonb as the document. False (nothing
/// written) for any other type, which takes the checking path.
pub fn encode_scan_checked(ty: &PgType, text: &[u8], out: &mut Vec<u8>) -> bool {
    let version: &[u8] = match ty {
        PgType::Text | PgType::Json => &[],
        PgType::Jsonb => &[1],
        _ => return false,
    };
    let Ok(len) = i32::try_from(text.len() + version.len()) else {
        return false;
    };
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(version);
    out.extend_from_slice(text);
    true
}

/// Like [`encode`], for a column the plan reads in a particular way (numbers as dates).
pub fn encode_as(
    ty: &PgType,
    read_as: ReadAs,
    v: ValueRef<'_>,
    out: &mut Vec<u8>,
) -> Result<(), Refusal> {
    if read_as.is_value() || matches!(v, ValueRef::Null) {
        return encode(ty, v, out);
    }
    let micros = match (read_as, v) {
        (ReadAs::UnixSeconds, ValueRef::Integer(i)) => epoch::unix_seconds(i).ok_or_else(|| {
            Refusal(format!(
                "{i} is not Unix seconds between 1980 and 2100, as the rest of the column"
            ))
        })?,
        (ReadAs::UnixMillis, ValueRef::Integer(i)) => epoch::unix_millis(i).ok_or_else(|| {
            Refusal(format!(
                "{i} is not Unix milliseconds between 1980 and 2100, as the rest of the column"
            ))
        })?,
        (ReadAs::JulianDay, ValueRef::Integer(i)) => epoch::julian_day_int(i).ok_or_else(|| {
            Refusal(format!("{i} is not a Julian day between 2400000 and 2500000"))
        })?,
        (ReadAs::JulianDay, ValueRef::Real(f)) => epoch::julian_day(f).ok_or_else(|| {
            Refusal(format!(
                "{f:?} is not a Julian day SQLite writes for a whole millisecond (2400000..2500000); \
                 converting it would round"
            ))
        })?,
        (how, other) => {
            return refuse(format!(
                "{} in a column read as {how:?} dates",
                describe(other)
            ));
        }
    };
    if !matches!(ty, PgType::Timestamp | PgType::Timestamptz) {
        return refuse(format!(
            "{how:?} dates need a timestamp column, not {ty}",
            how = read_as
        ));
    }
    out.extend_from_slice(&8i32.to_be_bytes());
    out.extend_from_slice(&micros.to_be_bytes());
    Ok(())
}

/// What the opt-in repairs changed in one value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Repaired {
    pub nul_stripped: bool,
    pub utf8_replaced: bool,
}

/// Applies the repairs the plan allows to one text value: invalid UTF-8 sequences become
/// U+FFFD (as `String::from_utf8_lossy`), then NUL bytes are removed, every other byte kept.
/// NULs are stripped only from text that is (then) valid UTF-8, so stripping never joins the
/// bytes around a NUL into a character that was not there; such text stays refused.
pub fn repair_text(bytes: &[u8], repair: Repair) -> (Cow<'_, [u8]>, Repaired) {
    let mut done = Repaired::default();
    let mut text = Cow::Borrowed(bytes);
    if repair.replace_invalid_utf8 && std::str::from_utf8(bytes).is_err() {
        text = Cow::Owned(String::from_utf8_lossy(bytes).into_owned().into_bytes());
        done.utf8_replaced = true;
    }
    if repair.strip_nul && text.contains(&0) && std::str::from_utf8(&text).is_ok() {
        text = Cow::Owned(text.iter().copied().filter(|&b| b != 0).collect());
        done.nul_stripped = true;
    }
    (text, done)
}

/// Like [`encode_as`], applying the column's opt-in repairs to text first; returns what they
/// changed. The load and the verification's source side both encode with this.
pub fn encode_repaired(
    ty: &PgType,
    read_as: ReadAs,
    repair: Repair,
    v: ValueRef<'_>,
    out: &mut Vec<u8>,
) -> Result<Repaired, Refusal> {
    if let ValueRef::Text(t) = v
        && !repair.is_none()
        && read_as.is_value()
        && matches!(ty, PgType::Text | PgType::Varchar { .. })
    {
        let (text, done) = repair_text(t, repair);
        encode(ty, ValueRef::Text(&text), out)?;
        return Ok(done);
    }
    encode_as(ty, read_as, v, out).map(|()| Repaired::default())
}

fn describe(v: ValueRef<'_>) -> &'static str {
    match v {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "an integer",
        ValueRef::Real(_) => "a real",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "a blob",
    }
}

fn encode_body(ty: &PgType, v: ValueRef<'_>, out: &mut Vec<u8>) -> Result<(), Refusal> {
    match (ty, v) {
        (PgType::Boolean, ValueRef::Integer(i @ (0 | 1))) => out.push(u8::from(i == 1)),
        (PgType::Boolean, ValueRef::Text(t)) => match parse_bool_text(t) {
            Some(b) => out.push(u8::from(b)),
            None => return refuse("text is not a boolean (true/false, t/f, yes/no, 1/0)"),
        },
        (PgType::SmallInt, ValueRef::Integer(i)) => match i16::try_from(i) {
            Ok(x) => out.extend_from_slice(&x.to_be_bytes()),
            Err(_) => return refuse(format!("{i} does not fit in smallint")),
        },
        (PgType::Integer, ValueRef::Integer(i)) => match i32::try_from(i) {
            Ok(x) => out.extend_from_slice(&x.to_be_bytes()),
            Err(_) => return refuse(format!("{i} does not fit in integer")),
        },
        (PgType::BigInt, ValueRef::Integer(i)) => out.extend_from_slice(&i.to_be_bytes()),
        (PgType::DoublePrecision, ValueRef::Real(f)) => {
            out.extend_from_slice(&f.to_bits().to_be_bytes())
        }
        (PgType::DoublePrecision, ValueRef::Integer(i)) => {
            if !(-F64_EXACT_INT..=F64_EXACT_INT).contains(&i) {
                return refuse(format!(
                    "integer {i} is not exactly representable as a double"
                ));
            }
            #[allow(clippy::cast_precision_loss)] // checked exact above
            let f = i as f64;
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
        (PgType::Numeric { precision_scale }, v) => {
            let n = match v {
                ValueRef::Integer(i) => Numeric::Finite(Decimal::from_i64(i)),
                ValueRef::Real(f) => Numeric::from_f64(f),
                ValueRef::Text(t) => match numeric::parse_decimal(t) {
                    Some(d) => Numeric::Finite(d),
                    None => return refuse("text is not a decimal number"),
                },
                other => return refuse(format!("{} is not a number", describe(other))),
            };
            let n = match (n, precision_scale) {
                (Numeric::Finite(d), Some((p, s))) => {
                    if !d.fits(*p, *s) {
                        return refuse(format!(
                            "{} does not fit numeric({p},{s}) without rounding",
                            d.to_text()
                        ));
                    }
                    Numeric::Finite(d.with_scale(*s))
                }
                (Numeric::Finite(d), None) => Numeric::Finite(d),
                (special, Some(_)) => {
                    return refuse(format!("{special:?} does not fit a numeric with precision"));
                }
                (special, None) => special,
            };
            n.encode(out);
        }
        (PgType::Text | PgType::Varchar { .. }, ValueRef::Text(t)) => {
            let text = check_text(t)?;
            if let PgType::Varchar { max_chars } = ty {
                let n = text.chars().count();
                if n > *max_chars as usize {
                    return refuse(format!("{n} characters do not fit varchar({max_chars})"));
                }
            }
            out.extend_from_slice(t);
        }
        (PgType::Text, v @ (ValueRef::Integer(_) | ValueRef::Real(_))) => {
            out.extend_from_slice(number_text(v).unwrap_or_default().as_bytes());
        }
        (PgType::Bytea, ValueRef::Blob(b) | ValueRef::Text(b)) => out.extend_from_slice(b),
        (PgType::Date, ValueRef::Text(t)) => match datetime::parse(t) {
            Some(datetime::Parsed::Date(d)) => out.extend_from_slice(&d.to_be_bytes()),
            _ => return refuse("text is not a date (YYYY-MM-DD)"),
        },
        (PgType::Timestamp, ValueRef::Text(t)) => match datetime::parse(t) {
            Some(datetime::Parsed::Naive(m)) => out.extend_from_slice(&m.to_be_bytes()),
            Some(datetime::Parsed::Date(d)) => {
                let m = i64::from(d) * 86_400_000_000;
                out.extend_from_slice(&m.to_be_bytes());
            }
            Some(datetime::Parsed::Offset(_)) => {
                return refuse("timestamp carries an offset; the column has none");
            }
            None => return refuse("text is not an ISO date and time"),
        },
        (PgType::Timestamptz, ValueRef::Text(t)) => match datetime::parse(t) {
            Some(datetime::Parsed::Offset(m)) => out.extend_from_slice(&m.to_be_bytes()),
            Some(_) => return refuse("timestamp has no offset; the column needs one"),
            None => return refuse("text is not an ISO date and time"),
        },
        (PgType::Time, ValueRef::Text(t)) => match datetime::parse_time(t) {
            Some(m) => out.extend_from_slice(&m.to_be_bytes()),
            None => return refuse("text is not a time of day (HH:MM:SS)"),
        },
        (PgType::Jsonb | PgType::Json, ValueRef::Text(t)) => {
            check_text(t)?;
            match json::check(t) {
                Ok(found) => {
                    if *ty == PgType::Jsonb && found.duplicate_keys {
                        return refuse("JSON repeats a key; jsonb would keep only the last");
                    }
                    if *ty == PgType::Jsonb && found.nul_escape {
                        return refuse("JSON holds \\u0000, which jsonb cannot store");
                    }
                }
                Err(e) => return refuse(e.to_string()),
            }
            if *ty == PgType::Jsonb {
                out.push(1);
            }
            out.extend_from_slice(t);
        }
        (PgType::Jsonb | PgType::Json, ValueRef::Integer(_))
        | (PgType::Jsonb | PgType::Json, ValueRef::Real(_)) => {
            // SQLite's NUMERIC affinity stores the documents `5` and `1.5` as numbers.
            if let ValueRef::Real(f) = v
                && !f.is_finite()
            {
                return refuse("NaN and Infinity are not JSON");
            }
            if *ty == PgType::Jsonb {
                out.push(1);
            }
            out.extend_from_slice(number_text(v).unwrap_or_default().as_bytes());
        }
        (PgType::Uuid, ValueRef::Text(t)) => match parse_uuid_text(t) {
            Some(u) => out.extend_from_slice(&u),
            None => return refuse("text is not a UUID"),
        },
        (PgType::Uuid, ValueRef::Blob(b)) if b.len() == 16 => out.extend_from_slice(b),
        // An enum's binary form is its label.
        (PgType::Enum { labels, .. }, ValueRef::Text(t)) => {
            if !labels.iter().any(|l| l.as_bytes() == t) {
                return refuse(format!(
                    "text is not one of the enum's labels ({})",
                    labels.join(", ")
                ));
            }
            out.extend_from_slice(t);
        }
        (ty, v) => return refuse(format!("{} cannot be stored in a {ty} column", describe(v))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(ty: PgType, v: ValueRef<'_>) -> Result<Vec<u8>, Refusal> {
        let mut out = Vec::new();
        encode(&ty, v, &mut out)?;
        Ok(out)
    }

    #[test]
    fn exact_or_refused() {
        assert_eq!(
            field(PgType::Integer, ValueRef::Integer(7)).unwrap(),
            [0, 0, 0, 4, 0, 0, 0, 7]
        );
        assert!(field(PgType::Integer, ValueRef::Integer(1 << 40)).is_err());
        assert!(field(PgType::Boolean, ValueRef::Integer(2)).is_err());
        assert_eq!(
            field(PgType::Boolean, ValueRef::Text(b"TRUE")).unwrap(),
            [0, 0, 0, 1, 1]
        );
        assert!(field(PgType::Text, ValueRef::Text(b"a\0b")).is_err());
        assert!(field(PgType::Text, ValueRef::Text(b"\xff")).is_err());
        assert!(
            field(
                PgType::Varchar { max_chars: 2 },
                ValueRef::Text("héé".as_bytes())
            )
            .is_err()
        );
        assert!(
            field(
                PgType::Varchar { max_chars: 3 },
                ValueRef::Text("héé".as_bytes())
            )
            .is_ok()
        );
        assert!(field(PgType::DoublePrecision, ValueRef::Integer((1 << 53) + 1)).is_err());
        assert!(field(PgType::Jsonb, ValueRef::Text(br#"{"a":1,"a":2}"#)).is_err());
        assert!(field(PgType::Json, ValueRef::Text(br#"{"a":1,"a":2}"#)).is_ok());
        assert!(
            field(
                PgType::Timestamp,
                ValueRef::Text(b"2024-01-01T00:00:00+02:00")
            )
            .is_err()
        );
        // A blob's bytes convert to text or JSON when they are valid (issue 13, item 6).
        assert_eq!(
            field(PgType::Text, ValueRef::Blob(b"x")).unwrap()[4..],
            *b"x"
        );
        assert_eq!(
            field(PgType::Jsonb, ValueRef::Blob(br#"{"a":1}"#)).unwrap()[4..],
            *b"\x01{\"a\":1}"
        );
        assert!(field(PgType::Text, ValueRef::Blob(b"\xff")).is_err());
        assert!(field(PgType::Jsonb, ValueRef::Blob(b"{")).is_err());
        assert_eq!(
            field(PgType::Text, ValueRef::Real(-0.0)).unwrap()[4..],
            *b"-0.0"
        );
        assert_eq!(
            field(PgType::Integer, ValueRef::Null).unwrap(),
            (-1i32).to_be_bytes()
        );
    }

    #[test]
    fn numeric_typmod_is_checked_not_rounded() {
        let ty = PgType::Numeric {
            precision_scale: Some((10, 2)),
        };
        assert!(field(ty.clone(), ValueRef::Real(0.99)).is_ok());
        assert!(field(ty.clone(), ValueRef::Real(0.999)).is_err());
        assert!(field(ty, ValueRef::Real(f64::NAN)).is_err());
    }

    #[test]
    fn numbers_read_as_dates_convert_exactly() {
        let mut out = Vec::new();
        encode_as(
            &PgType::Timestamptz,
            ReadAs::UnixMillis,
            ValueRef::Integer(946_684_800_001),
            &mut out,
        )
        .unwrap();
        assert_eq!(out[..4], 8i32.to_be_bytes());
        assert_eq!(out[4..], 1000i64.to_be_bytes());
        let mut out = Vec::new();
        assert!(
            encode_as(
                &PgType::Timestamptz,
                ReadAs::UnixSeconds,
                ValueRef::Integer(5),
                &mut out
            )
            .is_err()
        );
        assert!(
            encode_as(
                &PgType::Timestamp,
                ReadAs::JulianDay,
                ValueRef::Real(2_451_545.000_000_001),
                &mut out
            )
            .is_err()
        );
        encode_as(
            &PgType::Timestamp,
            ReadAs::JulianDay,
            ValueRef::Null,
            &mut out,
        )
        .unwrap();
    }

    const BOTH: Repair = Repair {
        strip_nul: true,
        replace_invalid_utf8: true,
    };
    const NUL_ONLY: Repair = Repair {
        strip_nul: true,
        replace_invalid_utf8: false,
    };
    const UTF8_ONLY: Repair = Repair {
        strip_nul: false,
        replace_invalid_utf8: true,
    };

    #[test]
    fn repairs_change_only_what_they_name() {
        let (t, r) = repair_text(b"a\0b\0", NUL_ONLY);
        assert_eq!(&*t, b"ab");
        assert!(r.nul_stripped && !r.utf8_replaced);
        let (t, r) = repair_text(b"\xc3\x28", UTF8_ONLY);
        assert_eq!(&*t, "\u{FFFD}(".as_bytes());
        assert!(r.utf8_replaced && !r.nul_stripped);
        // Each invalid sequence, as from_utf8_lossy does.
        let (t, _) = repair_text(b"x\xff\xfey\xe2\x82", UTF8_ONLY);
        assert_eq!(
            &*t,
            String::from_utf8_lossy(b"x\xff\xfey\xe2\x82").as_bytes()
        );
        // Valid text is borrowed, untouched.
        let (t, r) = repair_text("héllo".as_bytes(), BOTH);
        assert!(matches!(t, Cow::Borrowed(_)));
        assert_eq!(r, Repaired::default());
        // Not enabled: nothing changes.
        let (t, r) = repair_text(b"a\0b", UTF8_ONLY);
        assert_eq!(&*t, b"a\0b");
        assert_eq!(r, Repaired::default());
        // Both: replace first, then strip; the NUL never joins the bytes around it.
        let (t, r) = repair_text(b"\xc3\0\xa9", BOTH);
        assert_eq!(&*t, "\u{FFFD}\u{FFFD}".as_bytes());
        assert!(r.nul_stripped && r.utf8_replaced);
        let (t, r) = repair_text(b"\xc3\0\xa9", NUL_ONLY);
        assert_eq!(&*t, b"\xc3\0\xa9");
        assert_eq!(r, Repaired::default());
    }

    #[test]
    fn encode_repaired_encodes_the_repaired_text() {
        let mut out = Vec::new();
        let r = encode_repaired(
            &PgType::Text,
            ReadAs::Value,
            NUL_ONLY,
            ValueRef::Text(b"a\0b"),
            &mut out,
        )
        .unwrap();
        assert!(r.nul_stripped);
        assert_eq!(out, [0, 0, 0, 2, b'a', b'b']);
        // Invalid UTF-8 without its repair is still refused.
        assert!(
            encode_repaired(
                &PgType::Text,
                ReadAs::Value,
                NUL_ONLY,
                ValueRef::Text(b"a\0\xff"),
                &mut out
            )
            .is_err()
        );
        // No repair: exactly encode_as.
        assert!(
            encode_repaired(
                &PgType::Text,
                ReadAs::Value,
                Repair::default(),
                ValueRef::Text(b"a\0b"),
                &mut out
            )
            .is_err()
        );
        // Bytea keeps every byte, repair or not.
        let mut out = Vec::new();
        let r = encode_repaired(
            &PgType::Bytea,
            ReadAs::Value,
            BOTH,
            ValueRef::Text(b"a\0b"),
            &mut out,
        )
        .unwrap();
        assert_eq!(r, Repaired::default());
        assert_eq!(out, [0, 0, 0, 3, b'a', 0, b'b']);
    }

    #[test]
    fn uuids() {
        let u = parse_uuid_text(b"123e4567-E89B-12d3-a456-426614174000").unwrap();
        assert_eq!(u[0], 0x12);
        assert_eq!(u[15], 0x00);
        assert!(parse_uuid_text(b"123e4567-e89b-12d3-a456-42661417400g").is_none());
        assert!(parse_uuid_text(b"123e4567e89b12d3a456426614174000").is_some());
    }
}
