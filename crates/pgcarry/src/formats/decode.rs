//! PostgreSQL's binary COPY fields as SQLite values: the reverse of the encoder, for `export`.
//!
//! Each wire type becomes the value a person would store in SQLite: integers and booleans as
//! INTEGER, doubles as REAL, bytea as BLOB, and the rest as text in the form SQLite's date
//! functions and applications read (`2026-12-06 10:00:00.5`, `…+00:00` for instants,
//! lower-case UUIDs, numeric as PostgreSQL prints it). Nothing passes through a float but a
//! float. Types the export reads as text (`col::text` in its query) arrive as [`Wire::Text`].

use super::{datetime, numeric};
use rusqlite::types::Value;

/// How a column's binary fields are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wire {
    Bool,
    Int2,
    Int4,
    Int8,
    Float8,
    /// `numeric` as an INTEGER (every value of the column is one in 64 bits, scale 0).
    NumericInteger,
    /// `numeric` as its text.
    NumericText,
    Text,
    Bytea,
    Uuid,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    /// `jsonb`: a version byte, then the document's text.
    Jsonb,
}

/// A field that does not have its wire type's layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {wire:?} field: {why}")]
pub struct DecodeError {
    pub wire: Wire,
    pub why: &'static str,
}

fn fixed<const N: usize>(wire: Wire, b: &[u8]) -> Result<[u8; N], DecodeError> {
    b.try_into().map_err(|_| DecodeError {
        wire,
        why: "wrong length",
    })
}

fn text(wire: Wire, b: &[u8]) -> Result<Value, DecodeError> {
    String::from_utf8(b.to_vec())
        .map(Value::Text)
        .map_err(|_| DecodeError {
            wire,
            why: "text that is not UTF-8",
        })
}

/// The SQLite value of one non-NULL field.
pub fn decode(wire: Wire, b: &[u8]) -> Result<Value, DecodeError> {
    let err = |why| DecodeError { wire, why };
    Ok(match wire {
        Wire::Bool => Value::Integer(i64::from(fixed::<1>(wire, b)?[0] != 0)),
        Wire::Int2 => Value::Integer(i16::from_be_bytes(fixed(wire, b)?).into()),
        Wire::Int4 => Value::Integer(i32::from_be_bytes(fixed(wire, b)?).into()),
        Wire::Int8 => Value::Integer(i64::from_be_bytes(fixed(wire, b)?)),
        // SQLite stores a NaN REAL as NULL: NaN is written as its text.
        Wire::Float8 => match f64::from_be_bytes(fixed(wire, b)?) {
            f if f.is_nan() => Value::Text("NaN".into()),
            f => Value::Real(f),
        },
        Wire::NumericInteger => {
            let t = numeric::decode_text(b).map_err(err)?;
            Value::Integer(t.parse().map_err(|_| err("not an integer in 64 bits"))?)
        }
        Wire::NumericText => Value::Text(numeric::decode_text(b).map_err(err)?),
        Wire::Text => text(wire, b)?,
        Wire::Bytea => Value::Blob(b.to_vec()),
        Wire::Uuid => Value::Text(uuid_text(&fixed::<16>(wire, b)?)),
        Wire::Date => Value::Text(date_text(i32::from_be_bytes(fixed(wire, b)?))),
        Wire::Time => Value::Text(time_text(i64::from_be_bytes(fixed(wire, b)?))),
        Wire::Timestamp => Value::Text(timestamp_text(i64::from_be_bytes(fixed(wire, b)?))),
        Wire::Timestamptz => {
            let micros = i64::from_be_bytes(fixed(wire, b)?);
            let t = timestamp_text(micros);
            Value::Text(match t.strip_suffix(" BC") {
                _ if is_infinite(micros) => t,
                Some(ad) => format!("{ad}+00:00 BC"),
                None => format!("{t}+00:00"),
            })
        }
        Wire::Jsonb => match b.split_first() {
            Some((1, doc)) => text(wire, doc)?,
            _ => return Err(err("unknown jsonb version")),
        },
    })
}

fn uuid_text(b: &[u8; 16]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn is_infinite(micros: i64) -> bool {
    micros == i64::MAX || micros == i64::MIN
}

fn date_text(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        d => datetime::format_days(d),
    }
}

fn timestamp_text(micros: i64) -> String {
    match micros {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        m => datetime::format_micros(m),
    }
}

/// `HH:MM:SS[.ffffff]` of microseconds since midnight.
fn time_text(micros: i64) -> String {
    let (secs, frac) = (micros / 1_000_000, micros % 1_000_000);
    let base = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if frac == 0 {
        base
    } else {
        format!("{base}.{frac:06}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(wire: Wire, b: &[u8]) -> Value {
        decode(wire, b).unwrap()
    }

    #[test]
    fn fixed_width_types() {
        assert_eq!(d(Wire::Bool, &[1]), Value::Integer(1));
        assert_eq!(d(Wire::Int2, &(-5i16).to_be_bytes()), Value::Integer(-5));
        assert_eq!(
            d(Wire::Int8, &i64::MIN.to_be_bytes()),
            Value::Integer(i64::MIN)
        );
        assert_eq!(d(Wire::Float8, &0.1f64.to_be_bytes()), Value::Real(0.1));
        assert!(decode(Wire::Int4, &[0, 1]).is_err());
    }

    #[test]
    fn times_and_ids_are_iso_text() {
        assert_eq!(
            d(Wire::Date, &0i32.to_be_bytes()),
            Value::Text("2000-01-01".into())
        );
        assert_eq!(
            d(Wire::Timestamptz, &1_500_000i64.to_be_bytes()),
            Value::Text("2000-01-01 00:00:01.500000+00:00".into())
        );
        assert_eq!(
            d(Wire::Time, &(3_723_000_001i64).to_be_bytes()),
            Value::Text("01:02:03.000001".into())
        );
        assert_eq!(
            d(Wire::Timestamp, &i64::MAX.to_be_bytes()),
            Value::Text("infinity".into())
        );
        let mut id = [0u8; 16];
        id[0] = 0xAB;
        id[15] = 0x01;
        assert_eq!(
            d(Wire::Uuid, &id),
            Value::Text("ab000000-0000-0000-0000-000000000001".into())
        );
    }

    #[test]
    fn numeric_jsonb_and_text() {
        let mut n = Vec::new();
        numeric::Numeric::Finite(numeric::parse_decimal(b"-19.990").unwrap()).encode(&mut n);
        assert_eq!(d(Wire::NumericText, &n), Value::Text("-19.990".into()));
        assert!(decode(Wire::NumericInteger, &n).is_err());
        let mut big = Vec::new();
        numeric::Numeric::Finite(numeric::parse_decimal(b"9223372036854775807").unwrap())
            .encode(&mut big);
        assert_eq!(d(Wire::NumericInteger, &big), Value::Integer(i64::MAX));
        assert_eq!(
            d(Wire::Jsonb, b"\x01{\"a\": 1}"),
            Value::Text("{\"a\": 1}".into())
        );
        assert!(decode(Wire::Text, &[0xff]).is_err());
    }
}
