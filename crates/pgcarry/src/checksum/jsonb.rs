//! The canonical form of a `jsonb` value, so that the document pgcarry sent and the one
//! PostgreSQL gives back hash alike exactly when `jsonb` holds the same value.
//!
//! PostgreSQL's `jsonb` keeps object keys ordered by (length, bytes), keeps the last of
//! duplicate keys, drops insignificant whitespace, unescapes strings and stores numbers as
//! `numeric` (so `1.50e1` becomes `15.0`: exponent applied, display scale kept, `-0` is `0`).
//! The form written here is a tagged, length-prefixed encoding with exactly those rules; it is
//! hashed, never shown. What `jsonb` distinguishes (`1.0` and `1.00`, `"1"` and `1`) stays
//! distinct.

use crate::convert::numeric::parse_decimal;
use serde_json::Value;

/// Appends the canonical form of one `jsonb` binary field (version byte `0x01` + text).
/// A document that cannot be parsed here (deeper than serde_json's limit of 128) is written
/// as its raw bytes, tagged, so it still compares; such a document may then differ from
/// PostgreSQL's spelling of it and be reported as a difference, never hidden.
pub fn canonical(field: &[u8], out: &mut Vec<u8>) {
    let text = match field.split_first() {
        Some((1, rest)) => rest,
        _ => field,
    };
    match serde_json::from_slice::<Value>(text) {
        Ok(v) => write_value(&v, out),
        Err(_) => {
            out.push(b'r');
            write_bytes(text, out);
        }
    }
}

fn write_bytes(b: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(b.len() as u64).to_be_bytes());
    out.extend_from_slice(b);
}

fn write_value(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(b'n'),
        Value::Bool(true) => out.push(b't'),
        Value::Bool(false) => out.push(b'f'),
        Value::Number(n) => {
            let text = n.to_string();
            match parse_decimal(text.as_bytes()) {
                Some(d) => {
                    out.push(b'd');
                    out.push(u8::from(d.negative));
                    out.extend_from_slice(&d.scale.to_be_bytes());
                    write_bytes(&d.digits, out);
                }
                None => {
                    out.push(b'N');
                    write_bytes(text.as_bytes(), out);
                }
            }
        }
        Value::String(s) => {
            out.push(b's');
            write_bytes(s.as_bytes(), out);
        }
        Value::Array(items) => {
            out.push(b'[');
            out.extend_from_slice(&(items.len() as u64).to_be_bytes());
            for item in items {
                write_value(item, out);
            }
        }
        Value::Object(map) => {
            // serde_json keeps the last of duplicate keys, as jsonb does.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| (a.0.len(), a.0.as_bytes()).cmp(&(b.0.len(), b.0.as_bytes())));
            out.push(b'{');
            out.extend_from_slice(&(entries.len() as u64).to_be_bytes());
            for (k, v) in entries {
                write_bytes(k.as_bytes(), out);
                write_value(v, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> Vec<u8> {
        let mut field = vec![1u8];
        field.extend_from_slice(text.as_bytes());
        let mut out = Vec::new();
        canonical(&field, &mut out);
        out
    }

    #[test]
    fn what_jsonb_normalises_compares_equal() {
        // PostgreSQL: '{"bb":1, "a":2, "ccc":{"z":[1,2],"y":null}}'::jsonb::text
        assert_eq!(
            canon(r#"{"bb":1, "a":2, "ccc":{"z":[1,2],"y":null}}"#),
            canon(r#"{"a": 2, "bb": 1, "ccc": {"y": null, "z": [1, 2]}}"#)
        );
        assert_eq!(canon(r#"{"a":1,"a":2}"#), canon(r#"{"a": 2}"#));
        assert_eq!(canon("1.50e1"), canon("15.0"));
        assert_eq!(canon("1E+2"), canon("100"));
        assert_eq!(canon("1.5e-3"), canon("0.0015"));
        assert_eq!(canon("-0"), canon("0"));
        assert_eq!(canon("-0.0"), canon("0.0"));
        assert_eq!(canon(r#""\u00e9\/""#), canon(r#""é/""#));
    }

    #[test]
    fn what_jsonb_distinguishes_stays_distinct() {
        assert_ne!(canon("1.0"), canon("1.00"));
        assert_ne!(canon("1"), canon(r#""1""#));
        assert_ne!(canon("[1,2]"), canon("[2,1]"));
        assert_ne!(canon(r#"{"a":"x "}"#), canon(r#"{"a":"x"}"#));
        assert_ne!(canon(r#"{"ab":[]}"#), canon(r#"{"a":"b","":[]}"#));
        assert_ne!(canon("null"), canon(r#""""#));
    }
}
