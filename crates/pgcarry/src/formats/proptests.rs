//! Property tests of the exact formats: values spelled the many ways applications write them
//! are parsed and encoded here, then decoded (by the export's decoder of PostgreSQL's binary
//! `numeric`, by `jiff` for the calendar) and must come back identical: a round trip through
//! both directions. The strategies and the decoder are shared with the encoder's and the
//! checksum's tests.

use super::{datetime, epoch, json, numeric};
use jiff::civil::{Date, DateTime};
use jiff::tz::Offset;
use proptest::prelude::*;

/// Microseconds from 1970-01-01 to PostgreSQL's epoch 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// Decodes PostgreSQL's binary `numeric` into decimal text with exactly `dscale` fraction
/// digits (`NaN`, `Infinity`, `-Infinity` for the specials), asserting first what PostgreSQL's
/// `numeric_recv` relies on beyond what the decoder checks: no leading or trailing zero digit.
pub(crate) fn decode_numeric(b: &[u8]) -> String {
    let ndigits = usize::try_from(i16::from_be_bytes([b[0], b[1]])).expect("ndigits >= 0");
    let digit = |i: usize| i16::from_be_bytes([b[8 + 2 * i], b[9 + 2 * i]]);
    if ndigits > 0 {
        assert!(
            digit(0) != 0 && digit(ndigits - 1) != 0,
            "zero digit at an end of {b:?}"
        );
    }
    numeric::decode_text(b).expect("well-formed numeric")
}

/// The text PostgreSQL prints for `digits` × 10^-`scale` (digits may have leading zeros).
pub(crate) fn decimal_text(negative: bool, digits: &str, scale: usize) -> String {
    let digits = digits.trim_start_matches('0');
    let sign = if negative && !digits.is_empty() {
        "-"
    } else {
        ""
    };
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    if scale == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// A decimal as an application may spell it (leading zeros, `+`, a bare `.5` or `5.`, an
/// exponent moving the point), with the text PostgreSQL would print for it.
pub(crate) fn decimal_spelling() -> impl Strategy<Value = (String, String)> {
    (
        any::<bool>(),
        "[0-9]{1,40}",
        0usize..30,
        -8i64..=8,
        any::<(bool, bool, bool, bool)>(),
    )
        .prop_map(
            |(negative, raw, scale, exp, (plus, upper_e, bare_point, zero_lead))| {
                let canonical = decimal_text(negative, &raw, scale);
                // The mantissa holds `scale + exp` fraction digits; the exponent moves them back.
                let exp = exp.max(-i64::try_from(scale).expect("small"));
                let frac_len = usize::try_from(i64::try_from(scale).expect("small") + exp)
                    .expect("not negative");
                let mantissa = format!("{raw:0>frac_len$}");
                let (int, frac) = mantissa.split_at(mantissa.len() - frac_len);
                let int = if int.is_empty() && zero_lead {
                    "0"
                } else {
                    int
                };
                let mut text = String::new();
                text += if negative {
                    "-"
                } else if plus {
                    "+"
                } else {
                    ""
                };
                text += int;
                if !frac.is_empty() || (bare_point && !int.is_empty()) {
                    text.push('.');
                    text += frac;
                }
                if exp != 0 || upper_e {
                    text += &format!("{}{exp}", if upper_e { 'E' } else { 'e' });
                }
                (text, canonical)
            },
        )
}

fn encode_numeric(n: &numeric::Numeric) -> Vec<u8> {
    let mut out = Vec::new();
    n.encode(&mut out);
    out
}

/// A valid calendar date: year 1..=9998, any month, a day that exists in it.
fn civil_date() -> impl Strategy<Value = Date> {
    (1i16..=9998, 1i8..=12, 0i8..31).prop_map(|(y, m, d)| {
        let first = Date::new(y, m, 1).expect("first of a month");
        Date::new(y, m, 1 + d % first.days_in_month()).expect("a day of the month")
    })
}

/// A time of day and how it is written: `HH:MM`, `HH:MM:SS` or with 1 to 9 fraction digits
/// (the ones past the sixth zeros, as PostgreSQL's microseconds allow).
fn time_spelling() -> impl Strategy<Value = (jiff::civil::Time, String)> {
    (0i8..24, 0i8..60, 0i8..60, 0u8..3, "[0-9]{1,6}", 0usize..4).prop_map(
        |(h, mi, s, form, frac, zeros)| {
            let text = format!("{h:02}:{mi:02}");
            match form {
                0 => (jiff::civil::time(h, mi, 0, 0), text),
                1 => (jiff::civil::time(h, mi, s, 0), format!("{text}:{s:02}")),
                _ => {
                    let micros: i32 = format!("{frac:0<6}").parse().expect("six digits");
                    (
                        jiff::civil::time(h, mi, s, micros * 1000),
                        format!("{text}:{s:02}.{frac}{}", "0".repeat(zeros)),
                    )
                }
            }
        },
    )
}

/// An offset as written (`Z`, `±HH:MM`, `±HHMM`, `±HH`, maybe after a space), in seconds.
fn offset_spelling() -> impl Strategy<Value = (i32, String)> {
    (any::<bool>(), 0i32..=15, 0i32..60, 0u8..4, any::<bool>()).prop_map(
        |(negative, h, m, form, space)| {
            let sign = if negative { '-' } else { '+' };
            let (secs, text) = match form {
                0 => (0, "Z".to_owned()),
                1 => (h * 3600 + m * 60, format!("{sign}{h:02}:{m:02}")),
                2 => (h * 3600 + m * 60, format!("{sign}{h:02}{m:02}")),
                _ => (h * 3600, format!("{sign}{h:02}")),
            };
            let secs = if negative { -secs } else { secs };
            (secs, format!("{}{text}", if space { " " } else { "" }))
        },
    )
}

/// Microseconds since 2000-01-01 of a civil date and time read as UTC, computed by `jiff`.
fn micros_of(dt: DateTime, offset: Offset) -> Option<i64> {
    let ts = offset.to_timestamp(dt).ok()?;
    Some(ts.as_microsecond() - PG_EPOCH_MICROS)
}

/// Any JSON document: scalars (every `char`, `\0` included, in strings), arrays and objects.
pub(crate) fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// True when any string of `v`, key or value, holds U+0000.
pub(crate) fn holds_nul(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(holds_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

/// `s` as a JSON string with every character escaped as `\uXXXX` (surrogate pairs above the BMP).
fn all_escaped(s: &str) -> String {
    let mut out = String::from('"');
    for unit in s.encode_utf16() {
        out += &format!("\\u{unit:04x}");
    }
    out.push('"');
    out
}

proptest! {
    #[test]
    fn decimal_text_round_trips_through_numeric_binary((text, canonical) in decimal_spelling()) {
        let d = numeric::parse_decimal(text.as_bytes());
        prop_assert!(d.is_some(), "{text} refused");
        let d = d.unwrap_or_else(|| unreachable!());
        prop_assert_eq!(d.to_text(), canonical.clone());
        prop_assert_eq!(decode_numeric(&encode_numeric(&numeric::Numeric::Finite(d))), canonical);
    }

    #[test]
    fn a_wider_scale_only_adds_zeros((text, canonical) in decimal_spelling(), extra in 0u32..10) {
        let d = numeric::parse_decimal(text.as_bytes()).unwrap_or_else(|| unreachable!());
        let wider = d.with_scale(d.scale + extra);
        let mut expected = canonical;
        if extra > 0 && d.scale == 0 {
            expected.push('.');
        }
        expected += &"0".repeat(extra as usize);
        prop_assert_eq!(decode_numeric(&encode_numeric(&numeric::Numeric::Finite(wider))), expected);
    }

    #[test]
    fn integers_round_trip_through_numeric_binary(i in any::<i64>()) {
        let n = numeric::Numeric::Finite(numeric::Decimal::from_i64(i));
        prop_assert_eq!(decode_numeric(&encode_numeric(&n)), i.to_string());
    }

    #[test]
    fn doubles_round_trip_through_numeric_binary(f in any::<f64>()) {
        let text = decode_numeric(&encode_numeric(&numeric::Numeric::from_f64(f)));
        if f.is_nan() {
            prop_assert_eq!(text, "NaN");
        } else {
            // -0.0 comes back as 0: numeric has no negative zero (and -0.0 == 0.0).
            let back: f64 = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(back, f, "{}", text);
        }
    }

    #[test]
    fn a_date_parses_exactly_when_the_calendar_has_it(y in 1i16..=9999, m in 0i8..=13, d in 0i8..=32) {
        let text = format!("{y:04}-{m:02}-{d:02}");
        let parsed = datetime::parse(text.as_bytes());
        match Date::new(y, m, d) {
            Ok(date) => {
                let days = date.since(Date::constant(2000, 1, 1)).map_err(|e| TestCaseError::fail(e.to_string()))?.get_days();
                prop_assert_eq!(parsed, Some(datetime::Parsed::Date(days)));
                prop_assert_eq!(datetime::format_days(days), text);
            }
            Err(_) => prop_assert_eq!(parsed, None, "{} accepted", text),
        }
    }

    #[test]
    fn naive_timestamps_parse_to_the_instant_jiff_computes(
        date in civil_date(),
        (time, time_text) in time_spelling(),
        sep in prop_oneof![Just('T'), Just(' ')],
    ) {
        let text = format!("{date} {time_text}").replacen(' ', &sep.to_string(), 1);
        let micros = micros_of(date.to_datetime(time), Offset::UTC).unwrap_or_else(|| unreachable!());
        prop_assert_eq!(datetime::parse(text.as_bytes()), Some(datetime::Parsed::Naive(micros)));
        let mut printed = date.to_datetime(time).strftime("%Y-%m-%d %H:%M:%S").to_string();
        if time.subsec_nanosecond() != 0 {
            printed += &format!(".{:06}", time.subsec_nanosecond() / 1000);
        }
        prop_assert_eq!(datetime::format_micros(micros), printed);
        let of_day = micros_of(Date::constant(2000, 1, 1).to_datetime(time), Offset::UTC);
        prop_assert_eq!(datetime::parse_time(time_text.as_bytes()), of_day);
    }

    #[test]
    fn offsets_are_applied_never_dropped(
        date in civil_date(),
        (time, time_text) in time_spelling(),
        (secs, offset_text) in offset_spelling(),
    ) {
        let text = format!("{date}T{time_text}{offset_text}");
        let offset = Offset::from_seconds(secs).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let micros = micros_of(date.to_datetime(time), offset);
        prop_assume!(micros.is_some()); // past jiff's range (year 9999 at -15:00)
        prop_assert_eq!(datetime::parse(text.as_bytes()), micros.map(datetime::Parsed::Offset));
    }

    #[test]
    fn out_of_range_fields_are_refused(date in civil_date(), h in 0u8..30, mi in 0u8..70, s in 0u8..70) {
        let text = format!("{date} {h:02}:{mi:02}:{s:02}");
        let valid = h < 24 && mi < 60 && s < 60;
        prop_assert_eq!(datetime::parse(text.as_bytes()).is_some(), valid, "{}", text);
    }

    #[test]
    fn unix_seconds_and_millis_are_the_instants_jiff_computes(s in any::<i64>(), ms in any::<i64>()) {
        let seconds = epoch::unix_seconds(s);
        if epoch::UNIX_SECONDS.contains(&s) {
            let ts = jiff::Timestamp::from_second(s).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(seconds, Some(ts.as_microsecond() - PG_EPOCH_MICROS));
        } else {
            prop_assert_eq!(seconds, None);
        }
        // Millisecond values in range are rare among all i64: fold half of them into it.
        let span = epoch::UNIX_MILLIS.end() - epoch::UNIX_MILLIS.start() + 1;
        let ms = if ms.rem_euclid(2) == 0 { epoch::UNIX_MILLIS.start() + ms.rem_euclid(span) } else { ms };
        let millis = epoch::unix_millis(ms);
        if epoch::UNIX_MILLIS.contains(&ms) {
            let ts = jiff::Timestamp::from_millisecond(ms).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(millis, Some(ts.as_microsecond() - PG_EPOCH_MICROS));
        } else {
            prop_assert_eq!(millis, None);
        }
    }

    #[test]
    fn the_julian_day_sqlite_writes_for_a_millisecond_reads_back_as_it(
        ms in 207_360_000_000_000i64..=216_000_000_000_000,
    ) {
        // julianday() writes iJD / 86400000.0; ms < 2^53, so the i64 → f64 conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        let jd = ms as f64 / 86_400_000.0;
        let unix_ms = ms - 210_866_760_000_000;
        prop_assert_eq!(epoch::julian_day(jd), Some((unix_ms - PG_EPOCH_MICROS / 1000) * 1000), "{:?}", jd);
    }

    #[test]
    fn an_accepted_julian_day_is_a_whole_millisecond(jd in 2_400_000.0f64..=2_500_000.0) {
        if let Some(micros) = epoch::julian_day(jd) {
            prop_assert_eq!(micros % 1000, 0);
            let ms = micros / 1000 + PG_EPOCH_MICROS / 1000 + 210_866_760_000_000;
            #[allow(clippy::cast_precision_loss)]
            let back = ms as f64 / 86_400_000.0;
            prop_assert_eq!(back.to_bits(), jd.to_bits());
        }
    }

    #[test]
    fn a_whole_julian_day_reads_as_its_double(jd in 2_399_990i64..=2_500_010) {
        #[allow(clippy::cast_precision_loss)]
        let f = jd as f64;
        prop_assert_eq!(epoch::julian_day_int(jd), epoch::julian_day(f));
    }

    #[test]
    fn any_serialised_json_is_accepted_with_its_nul_escapes_found(v in json_value()) {
        let nul = holds_nul(&v);
        for text in [v.to_string(), serde_json::to_string_pretty(&v).unwrap_or_default()] {
            let found = json::check(text.as_bytes());
            prop_assert_eq!(found, Ok(json::JsonCheck { duplicate_keys: false, nul_escape: nul }), "{}", text);
        }
    }

    #[test]
    fn a_key_repeated_in_another_spelling_is_a_duplicate(v in json_value(), key in any::<String>()) {
        let plain = serde_json::Value::String(key.clone()).to_string();
        let text = format!("[{v}, {{{plain}: 1, \"other\": {v}, {}: 2}}]", all_escaped(&key));
        let found = json::check(text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert!(found.duplicate_keys, "{}", text);
    }
}
