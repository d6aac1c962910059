//! Retention: which backups may go. `keep` is a floor (the newest `keep` complete backups are
//! never deleted, whatever their age), `keep_days` removes older backups beyond it; retention
//! runs only after a new backup succeeded, and touches only backups with a pgcarry manifest.

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
    /// Say what would go; delete nothing.
    pub dry_run: bool,
}

impl Retention {
    fn active(&self) -> bool {
        self.keep.is_some() || self.keep_days.is_some()
    }
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
    let protected: Vec<&Listed> = all
        .iter()
        .rev()
        .filter(|b| b.complete)
        .take(floor)
        .collect();
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
