//! The directory against the records: each migration applied, pending, modified, missing or
//! unfinished, decided once here (pure: no database), rendered as text or JSON, and the exit
//! status it earns (3 when something needs a person).

use super::engine::{Record, State};
use super::file::{Directory, Finding, Migration};
use crate::model::outcome::ExitStatus;
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Recorded, the file unchanged.
    Applied,
    /// Recorded by `schema baseline` (never run here), the file unchanged.
    Baseline,
    /// Not recorded; newer than every applied migration.
    Pending,
    /// Not recorded, but older than an applied one (`--allow-out-of-order` to apply it).
    OutOfOrder,
    /// Recorded, but the file's checksum differs.
    Modified,
    /// Recorded, but no file has its version.
    Missing,
    /// A no-transaction migration started and did not finish.
    Unfinished,
}

impl Kind {
    /// True when a person must look (exit 3 from `status`).
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            Kind::OutOfOrder | Kind::Modified | Kind::Missing | Kind::Unfinished
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub version: i64,
    pub name: String,
    pub state: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
}

/// The whole picture of one database and one directory.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub database: String,
    pub engine: &'static str,
    pub directory: String,
    /// The newest applied version.
    pub version: Option<i64>,
    pub migrations: Vec<Entry>,
    pub findings: Vec<Finding>,
    /// The application's tables, when the database has some but no migration is recorded:
    /// it needs `schema baseline VERSION`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs_baseline: Vec<String>,
    /// True when nothing needs a person (pending migrations are fine).
    pub ok: bool,
}

/// Compares the directory's migrations with the records.
pub fn compare(dir: &Directory, records: &[Record]) -> Vec<Entry> {
    let newest_applied = records.iter().map(|r| r.version).max();
    let mut entries: Vec<Entry> = Vec::new();
    for m in &dir.migrations {
        let record = records.iter().find(|r| r.version == m.version);
        let state = match record {
            Some(r) if r.state == State::Started => Kind::Unfinished,
            Some(r) if r.checksum != m.checksum => Kind::Modified,
            Some(r) if r.baseline => Kind::Baseline,
            Some(_) => Kind::Applied,
            None if newest_applied.is_some_and(|n| n > m.version) => Kind::OutOfOrder,
            None => Kind::Pending,
        };
        entries.push(entry(m, record, state));
    }
    for r in records {
        if dir.find(r.version).is_none() {
            entries.push(Entry {
                version: r.version,
                name: r.name.clone(),
                state: if r.state == State::Started {
                    Kind::Unfinished
                } else {
                    Kind::Missing
                },
                file: None,
                applied_at: Some(r.applied_at.clone()),
                duration_ms: Some(r.duration_ms),
            });
        }
    }
    entries.sort_by_key(|e| e.version);
    entries
}

fn entry(m: &Migration, record: Option<&Record>, state: Kind) -> Entry {
    Entry {
        version: m.version,
        name: m.name.clone(),
        state,
        file: Some(m.path.display().to_string()),
        applied_at: record.map(|r| r.applied_at.clone()),
        duration_ms: record.map(|r| r.duration_ms),
    }
}

impl Status {
    /// 0 when nothing needs a person; 3 for modified, missing, unfinished or out-of-order
    /// migrations, files that do not parse, or tables without a baseline.
    pub fn exit_status(&self) -> ExitStatus {
        if self.ok {
            ExitStatus::Success
        } else {
            ExitStatus::Differences
        }
    }

    pub fn judge(&mut self) {
        self.ok = !self.migrations.iter().any(|e| e.state.is_problem())
            && !self.findings.iter().any(|f| f.error)
            && self.needs_baseline.is_empty();
    }

    /// The text `schema status` prints.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "database: {} ({}), migrations: {}",
            self.database, self.engine, self.directory
        );
        for e in &self.migrations {
            let when = e.applied_at.as_deref().unwrap_or("");
            let row = format!(
                "  {:<14} {:<12} {:<32} {when}",
                e.version,
                label(e.state),
                e.name
            );
            let _ = writeln!(out, "{}", row.trim_end());
        }
        for f in &self.findings {
            let place = f.line.map_or(String::new(), |l| format!(":{l}"));
            let level = if f.error { "error" } else { "note" };
            let _ = writeln!(out, "{level}: {}{place}: {}", f.file, f.message);
        }
        let _ = writeln!(out, "{}", self.summary());
        out
    }

    fn summary(&self) -> String {
        let count = |k: Kind| self.migrations.iter().filter(|e| e.state == k).count();
        let at = self
            .version
            .map_or("no migration applied".to_string(), |v| {
                format!("at version {v}")
            });
        let mut s = format!(
            "{at}; {} applied, {} pending",
            count(Kind::Applied) + count(Kind::Baseline),
            count(Kind::Pending) + count(Kind::OutOfOrder)
        );
        for (kind, what) in [
            (
                Kind::Modified,
                "modified since applied (`schema repair` if on purpose)",
            ),
            (Kind::Missing, "recorded but missing from the directory"),
            (
                Kind::Unfinished,
                "unfinished (see `schema up` for what to do)",
            ),
            (
                Kind::OutOfOrder,
                "out of order (older than the newest applied)",
            ),
        ] {
            let n = count(kind);
            if n > 0 {
                let _ = write!(s, "; {n} {what}");
            }
        }
        if !self.needs_baseline.is_empty() {
            let _ = write!(
                s,
                "\nthe database holds {} table(s) ({}) but no migration is recorded: if its schema \
                 is what the migrations up to some VERSION create, record them with `pgcarry \
                 schema baseline VERSION`",
                self.needs_baseline.len(),
                shorten(&self.needs_baseline)
            );
        }
        s
    }
}

fn label(k: Kind) -> &'static str {
    match k {
        Kind::Applied => "applied",
        Kind::Baseline => "baseline",
        Kind::Pending => "pending",
        Kind::OutOfOrder => "OUT-OF-ORDER",
        Kind::Modified => "MODIFIED",
        Kind::Missing => "MISSING",
        Kind::Unfinished => "UNFINISHED",
    }
}

/// Up to five names, then how many more.
pub fn shorten(names: &[String]) -> String {
    let mut s = names
        .iter()
        .take(5)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 5 {
        let _ = write!(s, ", and {} more", names.len() - 5);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::file::{Directory, Migration, Section};

    fn migration(version: i64, checksum: &str) -> Migration {
        Migration {
            version,
            name: format!("m{version}"),
            path: format!("migrations/{version}_m{version}.sql").into(),
            checksum: checksum.into(),
            no_transaction: false,
            up: Section::default(),
            down: None,
        }
    }

    fn record(version: i64, checksum: &str, state: State) -> Record {
        Record {
            version,
            name: format!("m{version}"),
            checksum: checksum.into(),
            applied_at: "2026-12-06T00:00:00Z".into(),
            duration_ms: 1,
            state,
            baseline: version == 1,
        }
    }

    #[test]
    fn every_migration_gets_one_state() {
        let dir = Directory {
            migrations: [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (6, "f"), (7, "g")]
                .iter()
                .map(|(v, c)| migration(*v, c))
                .collect(),
            findings: Vec::new(),
        };
        let records = vec![
            record(1, "a", State::Finished),
            record(2, "changed", State::Finished),
            record(4, "d", State::Started),
            record(5, "e", State::Finished),
            record(6, "f", State::Finished),
        ];
        let states: Vec<(i64, Kind)> = compare(&dir, &records)
            .iter()
            .map(|e| (e.version, e.state))
            .collect();
        assert_eq!(
            states,
            vec![
                (1, Kind::Baseline),
                (2, Kind::Modified),
                (3, Kind::OutOfOrder),
                (4, Kind::Unfinished),
                (5, Kind::Missing),
                (6, Kind::Applied),
                (7, Kind::Pending),
            ]
        );
    }
}
