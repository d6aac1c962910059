//! Dates and times written as numbers: Unix seconds, Unix milliseconds, Julian days.
//!
//! A number is only a date when the plan says so (a DATE/DATETIME column whose every value
//! falls in one of the ranges below); this module holds the ranges and the exact conversions.
//!
//! The ranges are deliberately disjoint, so a column can never be read two ways:
//! - Unix seconds: 1980-01-01 ..= 2100-01-01 (315,532,800 ..= 4,102,444,800);
//! - Unix milliseconds: the same instants in milliseconds (3.2e11 ..= 4.1e12);
//! - Julian days: 2,400,000 ..= 2,500,000 (1858-11-16 .. 2132-08-31).
//!
//! Seconds and milliseconds convert to microseconds by exact integer multiplication.
//! A Julian day is a double: a double near 2.46e6 has a step of 2^-31 days (about 40 µs), so
//! it is almost never a whole number of microseconds. SQLite itself reads a Julian day as the
//! nearest whole millisecond (`datetime()` computes `iJD = r*86400000 + 0.5`), and
//! `julianday()` writes a millisecond instant as `iJD / 86400000.0`. A Julian day is accepted
//! only when it is exactly the double SQLite writes for that millisecond (the round trip
//! gives back the same bits), so the instant is the one SQLite means and nothing is rounded
//! that SQLite would not read back identically; any other double is refused.

use std::ops::RangeInclusive;

/// Unix seconds accepted as dates: 1980-01-01 to 2100-01-01.
pub const UNIX_SECONDS: RangeInclusive<i64> = 315_532_800..=4_102_444_800;
/// Unix milliseconds accepted as dates: the same instants.
pub const UNIX_MILLIS: RangeInclusive<i64> = 315_532_800_000..=4_102_444_800_000;
/// Julian day numbers accepted as dates.
pub const JULIAN_DAYS: RangeInclusive<f64> = 2_400_000.0..=2_500_000.0;

/// Unix seconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
const PG_EPOCH_UNIX_SECONDS: i64 = 946_684_800;
/// Milliseconds from the Julian day epoch (noon, 4714-11-24 BC) to 1970-01-01.
const JULIAN_UNIX_EPOCH_MS: i64 = 210_866_760_000_000;
const MS_PER_DAY: f64 = 86_400_000.0;

/// Unix seconds (in [`UNIX_SECONDS`]) as microseconds since 2000-01-01 UTC.
pub fn unix_seconds(s: i64) -> Option<i64> {
    if !UNIX_SECONDS.contains(&s) {
        return None;
    }
    (s - PG_EPOCH_UNIX_SECONDS).checked_mul(1_000_000)
}

/// Unix milliseconds (in [`UNIX_MILLIS`]) as microseconds since 2000-01-01 UTC.
pub fn unix_millis(ms: i64) -> Option<i64> {
    if !UNIX_MILLIS.contains(&ms) {
        return None;
    }
    (ms - PG_EPOCH_UNIX_SECONDS * 1000).checked_mul(1000)
}

/// A Julian day (in [`JULIAN_DAYS`]) as microseconds since 2000-01-01, when it is exactly the
/// double SQLite writes for a whole millisecond; `None` otherwise.
pub fn julian_day(jd: f64) -> Option<i64> {
    if !JULIAN_DAYS.contains(&jd) {
        return None;
    }
    let scaled = (jd * MS_PER_DAY).round();
    // In range, |scaled| < 2.2e14 < 2^53: the conversion is exact.
    #[allow(clippy::cast_possible_truncation)]
    let ms = scaled as i64;
    #[allow(clippy::cast_precision_loss)] // ms < 2^53: exact
    let back = ms as f64 / MS_PER_DAY;
    if back.to_bits() != jd.to_bits() {
        return None;
    }
    let unix_ms = ms - JULIAN_UNIX_EPOCH_MS;
    (unix_ms - PG_EPOCH_UNIX_SECONDS * 1000).checked_mul(1000)
}

/// Microseconds since 2000-01-01 as Unix seconds, when a whole second.
pub fn to_unix_seconds(micros: i64) -> Option<i64> {
    (micros % 1_000_000 == 0).then(|| micros / 1_000_000 + PG_EPOCH_UNIX_SECONDS)
}

/// Microseconds since 2000-01-01 as Unix milliseconds, when a whole millisecond.
pub fn to_unix_millis(micros: i64) -> Option<i64> {
    (micros % 1_000 == 0).then(|| micros / 1_000 + PG_EPOCH_UNIX_SECONDS * 1000)
}

/// Microseconds since 2000-01-01 as the Julian day SQLite's `julianday()` writes, when a
/// whole millisecond (the reverse of [`julian_day`]).
pub fn to_julian_day(micros: i64) -> Option<f64> {
    if micros % 1_000 != 0 {
        return None;
    }
    let ms = micros / 1_000 + PG_EPOCH_UNIX_SECONDS * 1000 + JULIAN_UNIX_EPOCH_MS;
    #[allow(clippy::cast_precision_loss)] // ms < 2^53 in the accepted range: exact
    Some(ms as f64 / MS_PER_DAY)
}

/// A Julian day stored as an integer (SQLite's NUMERIC affinity stores `2460311.0` as
/// `2460311`): noon of that day, exactly.
pub fn julian_day_int(jd: i64) -> Option<i64> {
    if !(2_400_000..=2_500_000).contains(&jd) {
        return None;
    }
    let unix_ms = jd * 86_400_000 - JULIAN_UNIX_EPOCH_MS;
    (unix_ms - PG_EPOCH_UNIX_SECONDS * 1000).checked_mul(1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::datetime::format_micros;

    #[test]
    fn unix_seconds_and_millis_are_exact() {
        assert_eq!(unix_seconds(946_684_800), Some(0));
        assert_eq!(
            unix_seconds(1_700_000_000).map(format_micros).as_deref(),
            Some("2023-11-14 22:13:20")
        );
        assert_eq!(
            unix_millis(1_700_000_000_123).map(format_micros).as_deref(),
            Some("2023-11-14 22:13:20.123000")
        );
        assert_eq!(unix_seconds(100), None, "1970: out of the accepted range");
        assert_eq!(unix_millis(1_700_000_000), None, "seconds are not millis");
    }

    #[test]
    fn julian_days_map_to_sqlite_milliseconds_or_are_refused() {
        // julianday('2000-01-01 12:00:00') = 2451545.0
        assert_eq!(julian_day(2_451_545.0), Some(43_200_000_000));
        assert_eq!(julian_day_int(2_451_545), Some(43_200_000_000));
        // julianday('2024-01-02 03:04:05.678'), as SQLite computes it.
        let ms: i64 = 2_460_311 * 86_400_000 + (15 * 3600 + 4 * 60 + 5) * 1000 + 678;
        #[allow(clippy::cast_precision_loss)]
        let jd = ms as f64 / 86_400_000.0;
        assert_eq!(
            julian_day(jd).map(format_micros).as_deref(),
            Some("2024-01-02 03:04:05.678000")
        );
        // A double between two milliseconds' doubles: not what SQLite writes.
        let between = f64::from_bits(jd.to_bits() + 3);
        assert_eq!(julian_day(between), None);
        assert_eq!(julian_day(1.5), None);
        assert_eq!(julian_day(f64::NAN), None);
    }
}
