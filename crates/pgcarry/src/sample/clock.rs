//! Civil time for the sample: microseconds since the Unix epoch (UTC, naive as SQLAlchemy
//! stores it) and the exact text SQLAlchemy's SQLite dialect writes for them.
//!
//! Own arithmetic (Howard Hinnant's `days_from_civil`) rather than a date library, so that
//! formatting is fast and can never change with a dependency.

use crate::formats::datetime::civil_from_days;
use std::fmt::Write as _;

pub(crate) const MICROS_PER_SECOND: i64 = 1_000_000;
pub(crate) const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Midnight of a date, in microseconds since the epoch.
pub(crate) fn micros_at(year: i64, month: i64, day: i64) -> i64 {
    days_from_civil(year, month, day) * MICROS_PER_DAY
}

/// The day number of an instant.
pub(crate) fn day_of(micros: i64) -> i64 {
    micros.div_euclid(MICROS_PER_DAY)
}

/// `YYYY-MM-DD HH:MM:SS.ffffff`, always six fraction digits, as SQLAlchemy writes `DateTime`.
pub(crate) fn write_datetime(out: &mut String, micros: i64) {
    out.clear();
    let (y, m, d) = civil_from_days(day_of(micros));
    let rem = micros.rem_euclid(MICROS_PER_DAY);
    let secs = rem / MICROS_PER_SECOND;
    let frac = rem % MICROS_PER_SECOND;
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{frac:06}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

/// `YYYY-MM-DD`, as SQLAlchemy writes `Date`.
pub(crate) fn write_date(out: &mut String, day: i64) {
    out.clear();
    let (y, m, d) = civil_from_days(day);
    let _ = write!(out, "{y:04}-{m:02}-{d:02}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_clock_round_trips_and_formats() {
        for days in -1000..30_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        let mut s = String::new();
        write_datetime(&mut s, micros_at(2024, 2, 29) + 3_723_000_042);
        assert_eq!(s, "2024-02-29 01:02:03.000042");
        write_date(&mut s, days_from_civil(2025, 12, 31));
        assert_eq!(s, "2025-12-31");
    }
}
