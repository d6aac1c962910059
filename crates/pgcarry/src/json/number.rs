//! JSON numbers, exactly: which SQLite storage keeps a literal without rounding (an i64, an
//! f64 whose shortest text is the literal, or the literal itself as text for numeric), and a
//! canonical form to compare numbers written differently (`1.50`, `15e-1`). serde_json is
//! built with `arbitrary_precision`, so a number's text is the literal as written.

use serde_json::Number;

/// How a number can be stored without losing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberClass {
    /// An integer within i64.
    Int,
    /// A double whose shortest text is the literal.
    Real,
    /// Anything else (beyond i64, more digits than a double holds, exponents): kept as text.
    Decimal,
}

pub fn classify(n: &Number) -> NumberClass {
    if n.as_i64().is_some() {
        return NumberClass::Int;
    }
    let text = n.to_string();
    if !text.contains(['.', 'e', 'E']) {
        return NumberClass::Decimal;
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() && (format!("{f:?}") == text || format!("{f}") == text) => {
            NumberClass::Real
        }
        _ => NumberClass::Decimal,
    }
}

/// The number in a canonical form: `-` sign, significant digits without leading or trailing
/// zeros, and the exponent of the first digit (`1.50` and `15e-1` both give `15e0`); `0` for
/// zero. `None` when `text` is not a number.
pub fn canonical(text: &str) -> Option<String> {
    let (neg, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits: String = int.chars().chain(frac.chars()).collect();
    let lead = digits.len() - digits.trim_start_matches('0').len();
    let sig = digits.trim_start_matches('0').trim_end_matches('0');
    if sig.is_empty() {
        return Some("0".into());
    }
    // The first significant digit's power of ten.
    let int_len = i64::try_from(int.len()).ok()?;
    let lead = i64::try_from(lead).ok()?;
    let power = exp.checked_add(int_len - 1 - lead)?;
    Some(format!("{}{sig}e{power}", if neg { "-" } else { "" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> Number {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn json_numbers_are_classified_without_rounding() {
        assert_eq!(classify(&num("42")), NumberClass::Int);
        assert_eq!(classify(&num("-9223372036854775808")), NumberClass::Int);
        assert_eq!(classify(&num("9223372036854775808")), NumberClass::Decimal);
        assert_eq!(classify(&num("1.5")), NumberClass::Real);
        assert_eq!(classify(&num("0.1")), NumberClass::Real);
        // serde_json writes this literal back as `1e+300`: not the shortest text, kept exact.
        assert_eq!(classify(&num("1e300")), NumberClass::Decimal);
        assert_eq!(classify(&num("1.5e-7")), NumberClass::Real);
        assert_eq!(classify(&num("1.50")), NumberClass::Decimal);
        assert_eq!(
            classify(&num("0.10000000000000000001")),
            NumberClass::Decimal
        );
        assert_eq!(classify(&num("1e400")), NumberClass::Decimal);
    }

    #[test]
    fn json_canonical_numbers() {
        assert_eq!(canonical("1.50"), canonical("15e-1"));
        assert_eq!(canonical("100"), Some("1e2".into()));
        assert_eq!(canonical("0.00120"), Some("12e-3".into()));
        assert_eq!(canonical("-0.0"), Some("0".into()));
        assert_eq!(canonical("-7"), Some("-7e0".into()));
        assert_eq!(canonical("1.0"), canonical("1"));
        assert_eq!(canonical("abc"), None);
        assert_eq!(
            canonical("123456789012345678901234567890"),
            Some("12345678901234567890123456789e29".into())
        );
    }
}
