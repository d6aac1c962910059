//! Exact decimals: parsing decimal text and writing PostgreSQL's binary `numeric`.
//!
//! `numeric` binary is ndigits, weight, sign, dscale, then base-10000 digits. A value is kept
//! as its decimal digits and scale, so nothing passes through a float. Doubles enter as their
//! shortest round-trip text (`0.1` for the double nearest 0.1), which reads back to the same
//! double.

/// A decimal number: `digits` (no leading zeros, may be empty for zero) × 10^-`scale`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    pub negative: bool,
    /// Decimal digits of the unscaled value, ASCII, without leading zeros.
    pub digits: Vec<u8>,
    /// Digits after the decimal point (display scale), as PostgreSQL's dscale.
    pub scale: u32,
}

/// The special values `numeric` also holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Numeric {
    Finite(Decimal),
    NaN,
    PosInf,
    NegInf,
}

const MAX_SCALE: u32 = 16_383;
const MAX_INT_DIGITS: usize = 131_072;

/// Parses `[+-]digits[.digits][e[+-]digits]`; `None` if the text is anything else.
pub fn parse_decimal(text: &[u8]) -> Option<Decimal> {
    let (negative, rest) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exp) = match rest.iter().position(|&b| b == b'e' || b == b'E') {
        Some(p) => {
            let e = std::str::from_utf8(&rest[p + 1..]).ok()?;
            if e.is_empty() || e.len() > 7 {
                return None;
            }
            (&rest[..p], e.parse::<i64>().ok()?)
        }
        None => (rest, 0),
    };
    let (int_part, frac_part) = match mantissa.iter().position(|&b| b == b'.') {
        Some(p) => (&mantissa[..p], &mantissa[p + 1..]),
        None => (mantissa, &mantissa[..0]),
    };
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.iter().all(u8::is_ascii_digit)
        || !frac_part.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let mut digits: Vec<u8> = int_part.iter().chain(frac_part).copied().collect();
    let frac_len = i64::try_from(frac_part.len()).ok()?;
    let mut scale = frac_len - exp;
    if scale < 0 {
        digits.extend(std::iter::repeat_n(b'0', usize::try_from(-scale).ok()?));
        scale = 0;
    }
    let first_nonzero = digits
        .iter()
        .position(|&d| d != b'0')
        .unwrap_or(digits.len());
    digits.drain(..first_nonzero);
    let scale = u32::try_from(scale).ok().filter(|s| *s <= MAX_SCALE)?;
    let int_digits = digits.len().saturating_sub(scale as usize);
    if int_digits > MAX_INT_DIGITS {
        return None;
    }
    Some(Decimal {
        negative: negative && !digits.is_empty(),
        digits,
        scale,
    })
}

impl Decimal {
    pub fn from_i64(v: i64) -> Decimal {
        let digits = if v == 0 {
            Vec::new()
        } else {
            v.unsigned_abs().to_string().into_bytes()
        };
        Decimal {
            negative: v < 0,
            digits,
            scale: 0,
        }
    }

    /// Significant digits before the point, and digits after it once trailing zeros go.
    pub fn precision_needs(&self) -> (u32, u32) {
        if self.digits.is_empty() {
            return (0, 0); // zero, however many fraction digits it is written with
        }
        let scale = self.scale as usize;
        let int_digits = self.digits.len().saturating_sub(scale);
        let frac = if self.digits.len() >= scale {
            &self.digits[int_digits..]
        } else {
            &self.digits[..]
        };
        let trailing = frac.iter().rev().take_while(|&&d| d == b'0').count();
        let needed_scale = scale.saturating_sub(trailing);
        (
            u32::try_from(int_digits).unwrap_or(u32::MAX),
            u32::try_from(needed_scale).unwrap_or(u32::MAX),
        )
    }

    /// True when `numeric(precision, scale)` holds this value without rounding.
    pub fn fits(&self, precision: u32, scale: u32) -> bool {
        let (int_digits, needed_scale) = self.precision_needs();
        needed_scale <= scale && int_digits <= precision.saturating_sub(scale)
    }

    /// The same value displayed with exactly `scale` fraction digits, as `numeric(p, scale)`
    /// stores it: adds zeros, or drops trailing zeros. It never drops a nonzero digit (the
    /// scale then stays wider): check [`Decimal::fits`] first.
    pub fn with_scale(&self, scale: u32) -> Decimal {
        let mut d = self.clone();
        if scale > d.scale {
            if !d.digits.is_empty() {
                d.digits
                    .extend(std::iter::repeat_n(b'0', (scale - d.scale) as usize));
            }
            d.scale = scale;
        }
        while d.scale > scale && d.digits.last() == Some(&b'0') {
            d.digits.pop();
            d.scale -= 1;
        }
        if d.digits.is_empty() {
            d.scale = scale;
        }
        d
    }

    pub fn to_text(&self) -> String {
        let scale = self.scale as usize;
        let mut digits = String::from_utf8_lossy(&self.digits).into_owned();
        if digits.len() <= scale {
            digits = "0".repeat(scale + 1 - digits.len()) + &digits;
        }
        let (i, f) = digits.split_at(digits.len() - scale);
        let sign = if self.negative { "-" } else { "" };
        if scale == 0 {
            format!("{sign}{i}")
        } else {
            format!("{sign}{i}.{f}")
        }
    }
}

/// PostgreSQL's binary `numeric` as the text it prints (`NaN`, `Infinity`, `-1.50`): every
/// digit up to the display scale, nothing through a float.
pub fn decode_text(b: &[u8]) -> Result<String, &'static str> {
    let word = |i: usize| {
        b.get(2 * i..2 * i + 2)
            .map(|w| [w[0], w[1]])
            .ok_or("truncated numeric")
    };
    let ndigits = usize::try_from(i16::from_be_bytes(word(0)?)).map_err(|_| "negative ndigits")?;
    let weight = i64::from(i16::from_be_bytes(word(1)?));
    let sign = u16::from_be_bytes(word(2)?);
    let dscale = usize::from(u16::from_be_bytes(word(3)?));
    if b.len() != 8 + 2 * ndigits {
        return Err("numeric length does not match its digits");
    }
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        0x0000 | 0x4000 => {}
        _ => return Err("numeric sign"),
    }
    let digits: Vec<i64> = (0..ndigits)
        .map(|i| word(4 + i).map(|w| i64::from(i16::from_be_bytes(w))))
        .collect::<Result<_, _>>()?;
    if digits.iter().any(|d| !(0..10_000).contains(d)) {
        return Err("numeric digit out of range");
    }
    // Digit k stands for 10000^(weight - k).
    let digit_at = |k: i64| usize::try_from(k).ok().and_then(|k| digits.get(k)).copied();
    let mut int = String::new();
    for k in 0..=weight {
        let d = digit_at(k).unwrap_or(0);
        int += &if int.is_empty() {
            d.to_string()
        } else {
            format!("{d:04}")
        };
    }
    if int.is_empty() {
        int.push('0');
    }
    let mut frac = String::new();
    for k in 0..i64::try_from(dscale.div_ceil(4)).unwrap_or(0) {
        frac += &format!("{:04}", digit_at(weight + 1 + k).unwrap_or(0));
    }
    frac.truncate(dscale);
    let sign = if sign == 0x4000 { "-" } else { "" };
    Ok(if dscale == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    })
}

impl Numeric {
    /// A double's exact numeric: its shortest round-trip decimal, or NaN/±Infinity.
    pub fn from_f64(v: f64) -> Numeric {
        if v.is_nan() {
            Numeric::NaN
        } else if v.is_infinite() {
            if v > 0.0 {
                Numeric::PosInf
            } else {
                Numeric::NegInf
            }
        } else {
            let text = format!("{v:?}");
            match parse_decimal(text.as_bytes()) {
                Some(d) => Numeric::Finite(d),
                None => Numeric::NaN, // unreachable: Debug of a finite f64 is decimal text
            }
        }
    }

    /// Appends PostgreSQL's binary `numeric` representation.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let header = |out: &mut Vec<u8>, nd: i16, weight: i16, sign: u16, dscale: u16| {
            out.extend_from_slice(&nd.to_be_bytes());
            out.extend_from_slice(&weight.to_be_bytes());
            out.extend_from_slice(&sign.to_be_bytes());
            out.extend_from_slice(&dscale.to_be_bytes());
        };
        let d = match self {
            Numeric::NaN => return header(out, 0, 0, 0xC000, 0),
            // PostgreSQL sends infinities with dscale 32: its short-header bits read as a scale.
            // Written the same way, so the bytes match what it sends back (verification).
            Numeric::PosInf => return header(out, 0, 0, 0xD000, 0x20),
            Numeric::NegInf => return header(out, 0, 0, 0xF000, 0x20),
            Numeric::Finite(d) => d,
        };
        let scale = d.scale as usize;
        // Split into integer and fraction digits, then group by 4 around the point.
        let (int_part, frac_part): (Vec<u8>, Vec<u8>) = if d.digits.len() > scale {
            let (i, f) = d.digits.split_at(d.digits.len() - scale);
            (i.to_vec(), f.to_vec())
        } else {
            let mut f = vec![b'0'; scale - d.digits.len()];
            f.extend_from_slice(&d.digits);
            (Vec::new(), f)
        };
        let mut groups: Vec<i16> = Vec::new();
        let int_pad = (4 - int_part.len() % 4) % 4;
        let padded_int: Vec<u8> = std::iter::repeat_n(b'0', int_pad)
            .chain(int_part.iter().copied())
            .collect();
        for chunk in padded_int.chunks(4) {
            groups.push(group_value(chunk));
        }
        let int_groups = groups.len();
        let frac_pad = (4 - frac_part.len() % 4) % 4;
        let padded_frac: Vec<u8> = frac_part
            .iter()
            .copied()
            .chain(std::iter::repeat_n(b'0', frac_pad))
            .collect();
        for chunk in padded_frac.chunks(4) {
            groups.push(group_value(chunk));
        }
        // weight = index of the first group relative to the point, minus one.
        let mut weight = i64::try_from(int_groups).unwrap_or(0) - 1;
        let lead = groups.iter().take_while(|&&g| g == 0).count();
        groups.drain(..lead);
        weight -= i64::try_from(lead).unwrap_or(0);
        while groups.last() == Some(&0) {
            groups.pop();
        }
        if groups.is_empty() {
            weight = 0;
        }
        let sign = if d.negative && !groups.is_empty() {
            0x4000
        } else {
            0
        };
        header(
            out,
            i16::try_from(groups.len()).unwrap_or(i16::MAX),
            i16::try_from(weight).unwrap_or(i16::MAX),
            sign,
            u16::try_from(d.scale).unwrap_or(u16::MAX),
        );
        for g in groups {
            out.extend_from_slice(&g.to_be_bytes());
        }
    }
}

fn group_value(chunk: &[u8]) -> i16 {
    chunk
        .iter()
        .fold(0i16, |acc, &b| acc * 10 + i16::from(b - b'0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        Numeric::Finite(parse_decimal(text.as_bytes()).unwrap()).encode(&mut out);
        out
    }

    fn words(v: &[i16]) -> Vec<u8> {
        v.iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    #[test]
    fn binary_matches_postgres() {
        // Values checked against `SELECT numeric_send('…')` on PostgreSQL 15.
        assert_eq!(enc("0"), words(&[0, 0, 0, 0]));
        assert_eq!(enc("0.00"), words(&[0, 0, 0, 2]));
        assert_eq!(enc("1"), words(&[1, 0, 0, 0, 1]));
        assert_eq!(enc("12345.678"), words(&[3, 1, 0, 3, 1, 2345, 6780]));
        assert_eq!(enc("-0.0001"), words(&[1, -1, 0x4000, 4, 1]));
        assert_eq!(enc("10000"), words(&[1, 1, 0, 0, 1]));
        assert_eq!(enc("0.99"), words(&[1, -1, 0, 2, 9900]));
        assert_eq!(enc("1.5e3"), words(&[1, 0, 0, 0, 1500]));
        let special = |n: Numeric| {
            let mut out = Vec::new();
            n.encode(&mut out);
            out
        };
        assert_eq!(special(Numeric::NegInf), [0, 0, 0, 0, 0xf0, 0, 0, 0x20]);
        assert_eq!(special(Numeric::PosInf), [0, 0, 0, 0, 0xd0, 0, 0, 0x20]);
        assert_eq!(special(Numeric::NaN), [0, 0, 0, 0, 0xc0, 0, 0, 0]);
    }

    #[test]
    fn parsing() {
        assert!(!parse_decimal(b"-0").unwrap().negative);
        assert_eq!(parse_decimal(b"007.50").unwrap().to_text(), "7.50");
        assert_eq!(parse_decimal(b".5").unwrap().to_text(), "0.5");
        assert_eq!(parse_decimal(b"1e-3").unwrap().to_text(), "0.001");
        for bad in [
            "",
            "-",
            ".",
            "1.2.3",
            "1e",
            "abc",
            "1 ",
            " 1",
            "0x10",
            "1e99999999",
        ] {
            assert!(parse_decimal(bad.as_bytes()).is_none(), "{bad}");
        }
        let big = "123456789012345678901234567890.123456789";
        assert_eq!(parse_decimal(big.as_bytes()).unwrap().to_text(), big);
    }

    #[test]
    fn precision_checks() {
        let d = parse_decimal(b"123.450").unwrap();
        assert_eq!(d.precision_needs(), (3, 2));
        assert!(d.fits(5, 2));
        assert!(!d.fits(4, 2));
        assert!(!parse_decimal(b"0.999").unwrap().fits(10, 2));
        assert_eq!(d.with_scale(4).to_text(), "123.4500");
    }

    #[test]
    fn zero_with_fraction_digits_fits_any_scale() {
        // `0.000` in a NUMERIC(10,1) column was refused as "does not fit numeric(10,1)
        // without rounding" (found by the encoder's property tests).
        let zero = parse_decimal(b"0.000").unwrap();
        assert_eq!(zero.precision_needs(), (0, 0));
        assert!(zero.fits(10, 1));
        assert!(zero.fits(1, 0));
    }

    #[test]
    fn trailing_zeros_beyond_the_column_scale_are_dropped() {
        // `1.500` in a numeric(10,1) column was sent with display scale 3; PostgreSQL stores
        // it with scale 1, so verification reported the row as changed.
        assert_eq!(
            parse_decimal(b"1.500").unwrap().with_scale(1).to_text(),
            "1.5"
        );
        assert_eq!(
            parse_decimal(b"-0.00").unwrap().with_scale(1).to_text(),
            "0.0"
        );
        assert_eq!(
            parse_decimal(b"100.00").unwrap().with_scale(0).to_text(),
            "100"
        );
        // A nonzero digit is never dropped.
        assert_eq!(
            parse_decimal(b"1.25").unwrap().with_scale(1).to_text(),
            "1.25"
        );
    }

    #[test]
    fn doubles_enter_as_shortest_round_trip() {
        match Numeric::from_f64(0.1) {
            Numeric::Finite(d) => assert_eq!(d.to_text(), "0.1"),
            other => panic!("{other:?}"),
        }
        assert_eq!(Numeric::from_f64(f64::NAN), Numeric::NaN);
        assert_eq!(Numeric::from_f64(f64::NEG_INFINITY), Numeric::NegInf);
        match Numeric::from_f64(1e300) {
            Numeric::Finite(d) => assert_eq!(d.digits.len(), 301),
            other => panic!("{other:?}"),
        }
    }
}
