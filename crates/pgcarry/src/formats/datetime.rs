//! Dates and times written as ISO-8601 text, parsed exactly into PostgreSQL's binary forms.
//!
//! Accepted: `YYYY-MM-DD`, then optionally `T` or a space, `HH:MM[:SS[.fraction]]`, then
//! optionally an offset `Z`, `±HH:MM`, `±HHMM` or `±HH` (also after a space, as Sequelize
//! writes). A fraction finer than a microsecond is accepted only when its extra digits are
//! zeros: PostgreSQL keeps microseconds and anything finer would be rounded. Leap seconds,
//! year 0 and out-of-range fields are refused, never adjusted.

/// Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
const PG_EPOCH_DAYS_FROM_UNIX: i64 = 10_957;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// What a piece of text turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// A calendar date: days since 2000-01-01.
    Date(i32),
    /// A date and time without offset: microseconds since 2000-01-01 00:00.
    Naive(i64),
    /// A date and time with an offset: microseconds since 2000-01-01 00:00 UTC.
    Offset(i64),
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<i64> {
        let end = self.i.checked_add(n)?;
        let part = self.s.get(self.i..end)?;
        let mut v = 0i64;
        for &b in part {
            if !b.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(b - b'0');
        }
        self.i = end;
        Some(v)
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i == self.s.len()
    }
}

/// Parses ISO text; `None` when it is not exactly one of the accepted forms.
pub fn parse(text: &[u8]) -> Option<Parsed> {
    let mut c = Cursor { s: text, i: 0 };
    let year = c.digits(4)?;
    if !c.eat(b'-') {
        return None;
    }
    let month = c.digits(2)?;
    if !c.eat(b'-') {
        return None;
    }
    let day = c.digits(2)?;
    if year == 0 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day) - PG_EPOCH_DAYS_FROM_UNIX;
    if c.done() {
        return Some(Parsed::Date(i32::try_from(days).ok()?));
    }
    if !(c.eat(b'T') || c.eat(b' ')) {
        return None;
    }
    let time = parse_time_of_day(&mut c)?;
    let local = days * MICROS_PER_DAY + time;
    if c.done() {
        return Some(Parsed::Naive(local));
    }
    c.eat(b' ');
    let offset = parse_offset(&mut c)?;
    if !c.done() {
        return None;
    }
    Some(Parsed::Offset(local - offset))
}

/// `HH:MM[:SS[.fraction]]` as microseconds since midnight.
fn parse_time_of_day(c: &mut Cursor<'_>) -> Option<i64> {
    let hour = c.digits(2)?;
    if !c.eat(b':') {
        return None;
    }
    let minute = c.digits(2)?;
    let mut second = 0;
    let mut micros = 0;
    if c.eat(b':') {
        second = c.digits(2)?;
        if c.eat(b'.') {
            let mut n = 0;
            while let Some(b) = c.peek().filter(u8::is_ascii_digit) {
                let d = i64::from(b - b'0');
                if n < 6 {
                    micros = micros * 10 + d;
                } else if d != 0 {
                    return None; // finer than a microsecond: would be rounded
                }
                n += 1;
                c.i += 1;
            }
            if n == 0 || n > 9 {
                return None;
            }
            for _ in n..6 {
                micros *= 10;
            }
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(((hour * 60 + minute) * 60 + second) * 1_000_000 + micros)
}

/// `Z`, `±HH:MM`, `±HHMM` or `±HH` as microseconds east of UTC.
fn parse_offset(c: &mut Cursor<'_>) -> Option<i64> {
    if c.eat(b'Z') {
        return Some(0);
    }
    let sign = match c.peek()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    c.i += 1;
    let hours = c.digits(2)?;
    let minutes = if c.eat(b':') {
        c.digits(2)?
    } else if c.done() {
        0
    } else {
        c.digits(2)?
    };
    if hours > 15 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 60 + minutes) * 60 * 1_000_000)
}

/// `HH:MM[:SS[.fraction]]` alone, for `time` columns.
pub fn parse_time(text: &[u8]) -> Option<i64> {
    let mut c = Cursor { s: text, i: 0 };
    let t = parse_time_of_day(&mut c)?;
    c.done().then_some(t)
}

/// Formats microseconds since 2000-01-01 as `YYYY-MM-DD HH:MM:SS[.ffffff]` (with ` BC`
/// before year 1, as PostgreSQL prints it).
pub fn format_micros(micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let rem = micros.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days + PG_EPOCH_DAYS_FROM_UNIX);
    let secs = rem / 1_000_000;
    let frac = rem % 1_000_000;
    let year = if y <= 0 { 1 - y } else { y };
    let base = format!(
        "{year:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    let base = if frac == 0 {
        base
    } else {
        format!("{base}.{frac:06}")
    };
    if y <= 0 { format!("{base} BC") } else { base }
}

/// Formats days since 2000-01-01 as `YYYY-MM-DD`, or as PostgreSQL prints a date before year
/// 1, `YYYY-MM-DD BC`.
pub fn format_days(days: i32) -> String {
    let (y, m, d) = civil_from_days(i64::from(days) + PG_EPOCH_DAYS_FROM_UNIX);
    if y <= 0 {
        format!("{:04}-{m:02}-{d:02} BC", 1 - y)
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// Reads `YYYY-MM-DD[ HH:MM:SS[.ffffff]] BC` (as [`format_days`] and [`format_micros`] write
/// it): days or microseconds since 2000-01-01, `Err` holding the days for a date alone.
pub fn parse_bc(text: &[u8]) -> Option<Result<i64, i32>> {
    let body = text.strip_suffix(b" BC")?;
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        std::str::from_utf8(body.get(r)?).ok()?.parse().ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    // Parse in a leap year (2000), then move to the astronomical year 1 - year.
    let mut in_2000 = b"2000".to_vec();
    in_2000.extend_from_slice(body.get(4..)?);
    let shift = days_from_civil(1 - year, month, day) - days_from_civil(2000, month, day);
    match parse(&in_2000)? {
        Parsed::Date(d) => Some(Err(i32::try_from(i64::from(d) + shift).ok()?)),
        Parsed::Naive(us) => Some(Ok(us + shift * MICROS_PER_DAY)),
        Parsed::Offset(_) => None,
    }
}

/// The date of a day number since 1970-01-01: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_before_year_one_read_back_as_written() {
        for days in [-730_485, -2_451_545 + 1, -1_000_000] {
            let text = format_days(days);
            assert!(text.ends_with(" BC"), "{text}");
            assert_eq!(parse_bc(text.as_bytes()), Some(Err(days)), "{text}");
        }
        let micros = -63_140_000_000_000_000i64 + 36_000_500_000;
        let text = format_micros(micros);
        assert_eq!(parse_bc(text.as_bytes()), Some(Ok(micros)), "{text}");
        assert_eq!(parse_bc(b"2020-01-01"), None);
    }

    use super::*;

    fn p(s: &str) -> Option<Parsed> {
        parse(s.as_bytes())
    }

    #[test]
    fn dates() {
        assert_eq!(p("2000-01-01"), Some(Parsed::Date(0)));
        assert_eq!(p("1999-12-31"), Some(Parsed::Date(-1)));
        assert_eq!(p("2024-02-29"), Some(Parsed::Date(8825)));
        assert_eq!(p("2023-02-29"), None);
        assert_eq!(p("2024-13-01"), None);
        assert_eq!(p("0000-01-01"), None);
        assert_eq!(p("2024-1-01"), None);
        assert_eq!(p(""), None);
    }

    #[test]
    fn naive_times_with_space_or_t_and_fractions() {
        let base = p("2000-01-01 00:00:01").unwrap();
        assert_eq!(base, Parsed::Naive(1_000_000));
        assert_eq!(p("2000-01-01T00:00:01"), Some(base));
        assert_eq!(p("2000-01-01 00:00"), Some(Parsed::Naive(0)));
        assert_eq!(p("2000-01-01 00:00:00.5"), Some(Parsed::Naive(500_000)));
        assert_eq!(
            p("2000-01-01 00:00:00.123456"),
            Some(Parsed::Naive(123_456))
        );
        assert_eq!(
            p("2000-01-01 00:00:00.123456000"),
            Some(Parsed::Naive(123_456))
        );
        assert_eq!(p("2000-01-01 00:00:00.1234567"), None, "would round");
        assert_eq!(p("2000-01-01 23:59:60"), None, "leap second");
        assert_eq!(p("2000-01-01 24:00:00"), None);
        assert_eq!(p("2000-01-01 00:00:00."), None);
    }

    #[test]
    fn offsets_are_never_dropped() {
        assert_eq!(p("2000-01-01T02:00:00+02:00"), Some(Parsed::Offset(0)));
        assert_eq!(p("2000-01-01 02:00:00 +02:00"), Some(Parsed::Offset(0)));
        assert_eq!(p("2000-01-01T00:00:00Z"), Some(Parsed::Offset(0)));
        assert_eq!(
            p("2000-01-01T00:00:00-0130"),
            Some(Parsed::Offset(5_400_000_000))
        );
        assert_eq!(
            p("2000-01-01T00:00:00+05"),
            Some(Parsed::Offset(-18_000_000_000))
        );
        assert_eq!(p("2000-01-01T00:00:00+2:00"), None);
    }

    #[test]
    fn formatting_round_trips() {
        for s in [
            "2024-03-01 12:34:56.123456",
            "1970-01-01 00:00:00",
            "1899-12-31 23:59:59",
        ] {
            let Some(Parsed::Naive(m)) = p(s) else {
                panic!("{s}")
            };
            assert_eq!(format_micros(m), s);
        }
        assert_eq!(format_days(8825), "2024-02-29");
        assert_eq!(parse_time(b"12:30:00.25"), Some(45_000_250_000));
    }
}
