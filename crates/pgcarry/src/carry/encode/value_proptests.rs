//! Property tests of [`value::encode`]: random SQLite values go through the binary encoder
//! and are decoded back from the COPY field (a length, then PostgreSQL's binary form); what is
//! accepted comes back identical, and what is refused is exactly what the rules refuse.

use super::value::{Repaired, encode, encode_repaired};
use crate::formats::proptests::{
    decimal_spelling, decimal_text, decode_numeric, holds_nul, json_value,
};
use crate::model::plan::Repair;
use crate::model::types::{PgType, ReadAs};
use proptest::prelude::*;
use rusqlite::types::ValueRef;

/// The body of one encoded field, `None` for NULL, `Err` for a refusal; the length checked.
fn field(ty: &PgType, v: ValueRef<'_>) -> Result<Option<Vec<u8>>, String> {
    let mut out = vec![0xAA]; // something before: the field is appended, never overwritten
    encode(ty, v, &mut out).map_err(|r| r.0)?;
    assert_eq!(out[0], 0xAA);
    Ok(split_field(&out[1..]))
}

fn split_field(out: &[u8]) -> Option<Vec<u8>> {
    let len = i32::from_be_bytes(out[..4].try_into().expect("a length"));
    if len == -1 {
        assert_eq!(out.len(), 4);
        return None;
    }
    assert_eq!(
        usize::try_from(len).ok(),
        Some(out.len() - 4),
        "field length"
    );
    Some(out[4..].to_vec())
}

/// `Ok(body)` of a non-NULL field.
fn body(ty: &PgType, v: ValueRef<'_>) -> Result<Vec<u8>, String> {
    field(ty, v).map(|b| b.expect("not NULL"))
}

fn numeric(precision_scale: Option<(u32, u32)>) -> PgType {
    PgType::Numeric { precision_scale }
}

/// Whether `canonical` decimal text fits numeric(p, s) without rounding, by counting digits.
fn fits(canonical: &str, p: u32, s: u32) -> bool {
    let unsigned = canonical.trim_start_matches('-');
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let int_digits = int.trim_start_matches('0').len();
    let frac_digits = frac.trim_end_matches('0').len();
    frac_digits <= s as usize && int_digits <= (p - s) as usize
}

proptest! {
    #[test]
    fn null_is_length_minus_one_for_every_type(ty in prop_oneof![
        Just(PgType::Boolean), Just(PgType::SmallInt), Just(PgType::BigInt), Just(numeric(None)),
        Just(PgType::Text), Just(PgType::Bytea), Just(PgType::Timestamptz), Just(PgType::Jsonb),
    ]) {
        prop_assert_eq!(field(&ty, ValueRef::Null), Ok(None));
    }

    #[test]
    fn integers_keep_their_value_in_every_width_or_are_refused(i in prop_oneof![
        any::<i64>(),
        any::<i16>().prop_map(i64::from),
        any::<i32>().prop_map(i64::from),
        -(1i64 << 53) - 2..=-(1i64 << 53) + 2,
        (1i64 << 53) - 2..=(1i64 << 53) + 2,
    ]) {
        let v = ValueRef::Integer(i);
        let small = body(&PgType::SmallInt, v);
        match i16::try_from(i) {
            Ok(x) => prop_assert_eq!(small, Ok(x.to_be_bytes().to_vec())),
            Err(_) => prop_assert!(small.is_err()),
        }
        let int = body(&PgType::Integer, v);
        match i32::try_from(i) {
            Ok(x) => prop_assert_eq!(int, Ok(x.to_be_bytes().to_vec())),
            Err(_) => prop_assert!(int.is_err()),
        }
        prop_assert_eq!(body(&PgType::BigInt, v), Ok(i.to_be_bytes().to_vec()));
        let double = body(&PgType::DoublePrecision, v);
        if i.unsigned_abs() <= 1 << 53 {
            let bytes = double.map_err(TestCaseError::fail)?;
            let f = f64::from_bits(u64::from_be_bytes(bytes[..].try_into().expect("8 bytes")));
            // The decimal expansion of the double is the integer itself: nothing rounded.
            prop_assert_eq!(format!("{f:.0}"), i.to_string());
        } else {
            prop_assert!(double.is_err());
        }
        prop_assert_eq!(decode_numeric(&body(&numeric(None), v).map_err(TestCaseError::fail)?), i.to_string());
        prop_assert_eq!(body(&PgType::Text, v), Ok(i.to_string().into_bytes()));
        let boolean = body(&PgType::Boolean, v);
        match i {
            0 | 1 => prop_assert_eq!(boolean, Ok(vec![u8::from(i == 1)])),
            _ => prop_assert!(boolean.is_err()),
        }
    }

    #[test]
    fn doubles_keep_every_bit(f in any::<f64>()) {
        prop_assert_eq!(body(&PgType::DoublePrecision, ValueRef::Real(f)), Ok(f.to_bits().to_be_bytes().to_vec()));
        // As text, the shortest spelling that reads back to the same bits.
        let text = body(&PgType::Text, ValueRef::Real(f)).map_err(TestCaseError::fail)?;
        let back: f64 = String::from_utf8_lossy(&text).parse().map_err(|_| TestCaseError::fail("not a number"))?;
        prop_assert_eq!(back.to_bits(), f.to_bits());
    }

    #[test]
    fn decimal_text_becomes_the_same_numeric((text, canonical) in decimal_spelling()) {
        let b = body(&numeric(None), ValueRef::Text(text.as_bytes())).map_err(TestCaseError::fail)?;
        prop_assert_eq!(decode_numeric(&b), canonical);
    }

    #[test]
    fn a_typmod_is_checked_never_rounded(
        (text, canonical) in decimal_spelling(),
        (p, s) in (1u32..=40).prop_flat_map(|p| (Just(p), 0..=p.min(20))),
    ) {
        let got = body(&numeric(Some((p, s))), ValueRef::Text(text.as_bytes()));
        if fits(&canonical, p, s) {
            // Shown with exactly the column's scale, as PostgreSQL would store it.
            let b = got.map_err(TestCaseError::fail)?;
            let (negative, unsigned) = match canonical.strip_prefix('-') {
                Some(u) => (true, u),
                None => (false, canonical.as_str()),
            };
            let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
            let frac = format!("{:0<width$}", frac.trim_end_matches('0'), width = s as usize);
            prop_assert_eq!(decode_numeric(&b), decimal_text(negative, &format!("{int}{frac}"), s as usize));
        } else {
            prop_assert!(got.is_err(), "{} accepted in numeric({}, {})", text, p, s);
        }
    }

    #[test]
    fn text_is_kept_byte_for_byte_or_refused(bytes in prop_oneof![
        any::<String>().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..24),
        prop::collection::vec(prop_oneof![Just(0u8), Just(b'a'), Just(0xC3), Just(0xA9), Just(0xFF)], 0..12),
    ], max_chars in 0u32..30) {
        let valid = std::str::from_utf8(&bytes).is_ok() && !bytes.contains(&0);
        let text = body(&PgType::Text, ValueRef::Text(&bytes));
        if valid {
            prop_assert_eq!(&text, &Ok(bytes.clone()));
        } else {
            prop_assert!(text.is_err());
        }
        let varchar = body(&PgType::Varchar { max_chars }, ValueRef::Text(&bytes));
        let chars = String::from_utf8_lossy(&bytes).chars().count();
        if valid && chars <= max_chars as usize {
            prop_assert_eq!(varchar, Ok(bytes.clone()));
        } else {
            prop_assert!(varchar.is_err());
        }
        // bytea keeps every byte of text and of blobs.
        prop_assert_eq!(body(&PgType::Bytea, ValueRef::Text(&bytes)), Ok(bytes.clone()));
        prop_assert_eq!(body(&PgType::Bytea, ValueRef::Blob(&bytes)), Ok(bytes.clone()));
        // A blob converts to text (a type set in --config) exactly when its bytes are valid text.
        let blob = body(&PgType::Text, ValueRef::Blob(&bytes));
        if valid {
            prop_assert_eq!(blob, Ok(bytes.clone()));
        } else {
            prop_assert!(blob.is_err());
        }
    }

    #[test]
    fn repairs_make_text_postgresql_can_hold_and_change_nothing_else(
        bytes in prop::collection::vec(prop_oneof![Just(0u8), Just(b'a'), Just(0xC3), Just(0xA9), Just(0xFF), any::<u8>()], 0..16),
        strip_nul in any::<bool>(),
        replace_invalid_utf8 in any::<bool>(),
    ) {
        let repair = Repair { strip_nul, replace_invalid_utf8 };
        let mut out = Vec::new();
        let got = encode_repaired(&PgType::Text, ReadAs::Value, repair, ValueRef::Text(&bytes), &mut out);
        let valid = std::str::from_utf8(&bytes).is_ok();
        // What the rules promise, computed without the code under test.
        let expected: Option<(Vec<u8>, Repaired)> = match (valid, bytes.contains(&0)) {
            (true, false) => Some((bytes.clone(), Repaired::default())),
            (true, true) if strip_nul => Some((
                bytes.iter().copied().filter(|&b| b != 0).collect(),
                Repaired { nul_stripped: true, utf8_replaced: false },
            )),
            (false, _) if replace_invalid_utf8 => {
                let lossy = String::from_utf8_lossy(&bytes).into_owned().into_bytes();
                match (lossy.contains(&0), strip_nul) {
                    (false, _) => Some((lossy, Repaired { nul_stripped: false, utf8_replaced: true })),
                    (true, true) => Some((
                        lossy.into_iter().filter(|&b| b != 0).collect(),
                        Repaired { nul_stripped: true, utf8_replaced: true },
                    )),
                    (true, false) => None,
                }
            }
            _ => None,
        };
        match expected {
            Some((text, done)) => {
                prop_assert_eq!(got.map_err(|r| TestCaseError::fail(r.0))?, done);
                prop_assert_eq!(split_field(&out), Some(text));
            }
            None => prop_assert!(got.is_err()),
        }
    }

    #[test]
    fn uuids_in_either_case_and_form_are_their_16_bytes(u in any::<[u8; 16]>(), upper in any::<bool>(), hyphens in any::<bool>()) {
        let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
        let mut text = if hyphens {
            format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
        } else {
            hex
        };
        if upper {
            text = text.to_uppercase();
        }
        prop_assert_eq!(body(&PgType::Uuid, ValueRef::Text(text.as_bytes())), Ok(u.to_vec()));
        prop_assert_eq!(body(&PgType::Uuid, ValueRef::Blob(&u)), Ok(u.to_vec()));
    }

    #[test]
    fn json_documents_are_sent_as_written(v in json_value(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&v).unwrap_or_default() } else { v.to_string() };
        prop_assert_eq!(body(&PgType::Json, ValueRef::Text(text.as_bytes())), Ok(text.clone().into_bytes()));
        let jsonb = body(&PgType::Jsonb, ValueRef::Text(text.as_bytes()));
        if holds_nul(&v) {
            prop_assert!(jsonb.is_err(), "jsonb cannot hold \\u0000");
        } else {
            let mut expected = vec![1u8];
            expected.extend_from_slice(text.as_bytes());
            prop_assert_eq!(jsonb, Ok(expected));
        }
    }

    #[test]
    fn a_timestamp_column_refuses_an_offset_and_timestamptz_needs_one(
        secs in 0i64..86_400 * 365 * 50,
        offset in prop_oneof![Just(""), Just("Z"), Just("+02:00"), Just("-0530")],
    ) {
        let ts = jiff::Timestamp::from_second(946_684_800 + secs).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let text = format!("{}{offset}", ts.strftime("%Y-%m-%dT%H:%M:%S"));
        let naive = body(&PgType::Timestamp, ValueRef::Text(text.as_bytes()));
        let aware = body(&PgType::Timestamptz, ValueRef::Text(text.as_bytes()));
        if offset.is_empty() {
            prop_assert_eq!(naive, Ok((secs * 1_000_000).to_be_bytes().to_vec()));
            prop_assert!(aware.is_err());
        } else {
            prop_assert!(naive.is_err());
            prop_assert!(aware.is_ok());
        }
    }
}
