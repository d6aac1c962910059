//! Retention: which backups may go. `keep` is a floor (the newest `keep` complete backups are
//! never deleted, whatever their age), `keep_days` removes older backups beyond it; retention
//! runs only after a new backup succeeded, and touches only backups with a pgcarry manifest.
//! `keep_daily`/`keep_weekly`/`keep_monthly` also keep the newest backup of each recent day,
//! ISO week or month (grandfather-father-son).

use super::BackupError;
use super::list::{Listed, list};
use crate::work::progress::Progress;
use std::path::{Path, PathBuf};

/// The retention flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct Retention {
    /// Keep at least the newest N complete backups.
    pub keep: Option<usize>,
    /// Delete backups older than D days (beyond the floor).
    pub keep_days: Option<u64>,
    /// Also keep the newest complete backup of each of the last N days (UTC) with one.
    pub keep_daily: Option<usize>,
    /// ... of each of the last N ISO weeks with one.
    pub keep_weekly: Option<usize>,
    /// ... of each of the last N months with one.
    pub keep_monthly: Option<usize>,
    /// Say what would go; delete nothing.
    pub dry_run: bool,
}

impl Retention {
    fn active(&self) -> bool {
        self.keep.is_some()
            || self.keep_days.is_some()
            || self.keep_daily.is_some()
            || self.keep_weekly.is_some()
            || self.keep_monthly.is_some()
    }
}

/// The newest complete backup of each of the `n` most recent periods that have one.
fn newest_per_period(
    all: &[Listed],
    n: Option<usize>,
    period: impl Fn(jiff::civil::Date) -> (i16, i16),
) -> Vec<&Listed> {
    let mut seen: Vec<(i16, i16)> = Vec::new();
    let mut out = Vec::new();
    for b in all.iter().rev().filter(|b| b.complete) {
        let Some(at) = b.created else { continue };
        let key = period(at.to_zoned(jiff::tz::TimeZone::UTC).date());
        if seen.len() < n.unwrap_or(0) && !seen.contains(&key) {
            seen.push(key);
            out.push(b);
        }
    }
    out
}

/// The backups of `dir` that retention deletes now, oldest first.
pub fn retention_plan(
    dir: &Path,
    rules: &Retention,
    now: jiff::Timestamp,
) -> Result<Vec<Listed>, BackupError> {
    if !rules.active() {
        return Ok(Vec::new());
    }
    let all = list(dir)?;
    // The floor counts complete backups only: a broken one never pushes a good one out.
    let floor = rules.keep.unwrap_or(1).max(1);
    let mut protected: Vec<&Listed> = all
        .iter()
        .rev()
        .filter(|b| b.complete)
        .take(floor)
        .collect();
    protected.extend(newest_per_period(&all, rules.keep_daily, |d| {
        (d.year(), d.day_of_year())
    }));
    protected.extend(newest_per_period(&all, rules.keep_weekly, |d| {
        let w = d.iso_week_date();
        (w.year(), i16::from(w.week()))
    }));
    protected.extend(newest_per_period(&all, rules.keep_monthly, |d| {
        (d.year(), i16::from(d.month()))
    }));
    let cutoff = rules
        .keep_days
        .and_then(|d| i64::try_from(d.saturating_mul(86_400)).ok())
        .map(|secs| now - jiff::SignedDuration::from_secs(secs));
    let goes = |b: &Listed| {
        if protected.iter().any(|p| p.manifest_path == b.manifest_path) {
            return false;
        }
        match (rules.keep_days, cutoff, b.created) {
            (None, ..) => true,
            (Some(_), Some(cutoff), Some(at)) => at <= cutoff,
            _ => false,
        }
    };
    Ok(all.iter().filter(|b| goes(b)).cloned().collect())
}

/// Applies retention to `dir`; returns the dumps deleted (or, on a dry run, that would be).
pub fn apply(
    dir: &Path,
    rules: &Retention,
    progress: &dyn Progress,
) -> Result<Vec<PathBuf>, BackupError> {
    let mut deleted = Vec::new();
    for b in retention_plan(dir, rules, jiff::Timestamp::now())? {
        if rules.dry_run {
            progress.message(&format!("would delete {} (--dry-run)", b.dump.display()));
        } else {
            for path in [&b.dump, &b.manifest_path] {
                match std::fs::remove_file(path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(BackupError::Failed(format!(
                            "retention: remove {}: {e}",
                            path.display()
                        )));
                    }
                    _ => {}
                }
            }
            progress.message(&format!("retention: deleted {}", b.dump.display()));
        }
        deleted.push(b.dump);
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::{Retention, retention_plan};
    use crate::backup::manifest::{self, FORMAT, Manifest};
    use std::path::Path;

    /// A backup taken at `at` (complete: its dump has the recorded size).
    fn fake(dir: &Path, name: &str, at: &str) {
        std::fs::write(dir.join(format!("{name}.dump")), b"dump").unwrap();
        let m = Manifest {
            format: FORMAT.into(),
            version: 1,
            name: name.into(),
            dump_file: format!("{name}.dump"),
            created_at: at.into(),
            database: "app".into(),
            system_identifier: String::new(),
            server_version: "15.0".into(),
            server_version_num: 150_000,
            pg_dump_version: "pg_dump (PostgreSQL) 15.0".into(),
            schemas: Vec::new(),
            dump_bytes: 4,
            dump_sha256: String::new(),
            seconds: 0.0,
            tables: Vec::new(),
            sequences: Vec::new(),
            extensions: Vec::new(),
            verified_at: None,
            encryption: None,
        };
        manifest::write(&dir.join(format!("{name}.manifest.json")), &m).unwrap();
    }

    fn going(dir: &Path, rules: &Retention) -> Vec<String> {
        let now: jiff::Timestamp = "2026-12-31T12:00:00Z".parse().unwrap();
        retention_plan(dir, rules, now)
            .unwrap()
            .into_iter()
            .map(|b| b.manifest.name)
            .collect()
    }

    #[test]
    fn the_floor_holds_whatever_the_age_and_periods_keep_their_newest() {
        let dir = tempfile::tempdir().unwrap();
        for (name, at) in [
            ("jan1", "2026-01-01T03:00:00Z"),
            ("jan2", "2026-01-02T03:00:00Z"),
            ("feb1", "2026-02-01T03:00:00Z"),
            ("feb1b", "2026-02-01T04:00:00Z"),
            ("dec30", "2026-12-30T03:00:00Z"),
        ] {
            fake(dir.path(), name, at);
        }
        // A dump without its manifest, and a manifest whose dump is gone, are never counted
        // in the floor; only the former is never touched.
        std::fs::write(dir.path().join("stray.dump"), b"x").unwrap();
        let old = Retention {
            keep_days: Some(0),
            keep: Some(2),
            ..Retention::default()
        };
        assert_eq!(going(dir.path(), &old), ["jan1", "jan2", "feb1"]);
        let days = Retention {
            keep_days: Some(30),
            ..Retention::default()
        };
        assert_eq!(going(dir.path(), &days), ["jan1", "jan2", "feb1", "feb1b"]);
        let monthly = Retention {
            keep_days: Some(0),
            keep: Some(1),
            keep_monthly: Some(3),
            ..Retention::default()
        };
        assert_eq!(going(dir.path(), &monthly), ["jan1", "feb1"]);
        let daily = Retention {
            keep: Some(1),
            keep_daily: Some(2),
            ..Retention::default()
        };
        assert_eq!(going(dir.path(), &daily), ["jan1", "jan2", "feb1"]);
        assert!(going(dir.path(), &Retention::default()).is_empty());
    }
}
