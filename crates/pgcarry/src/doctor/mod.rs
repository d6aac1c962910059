//! `doctor`: is this PostgreSQL healthy, and is the migration really done? Read-only checks
//! (keys and sequences first: the sequence left behind `max(id)` after an import), each
//! turning what it finds into [`Finding`] values with their remediation; an exclude file
//! silences accepted findings by key; `--fix` gathers the remediation SQL, `--apply` runs
//! only the safe part of it. Renderers turn a [`DoctorReport`] into text, JSON, Prometheus
//! or Nagios output. Nothing here writes, except [`apply`], on its own connection.

mod check;
mod exclude;
mod finding;
mod fix;
mod integrity;
mod keys;
mod list;
mod maintenance;
mod render;
mod runtime;
mod security;
mod source;

pub use exclude::Exclusions;
pub use finding::{Category, Finding, Level, Remediation};
pub use fix::{Applied, apply, script};
pub use render::{nagios, prometheus, text};
pub use source::findings as source_findings;

use crate::model::outcome::ExitStatus;
use crate::postgres::conn::{ConnError, ConnSettings};
use crate::postgres::error::describe_pg_error;
use check::{Ctx, lacks_privilege, no_privilege};
use list::CHECKS;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How the checks run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Every statement doctor sends ends within this (`statement_timeout`).
    pub statement_timeout: Duration,
    /// A session idle in a transaction this long is a finding.
    pub idle_after: Duration,
    /// A transaction running this long is a finding.
    pub long_after: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            statement_timeout: Duration::from_secs(30),
            idle_after: Duration::from_secs(60),
            long_after: Duration::from_secs(300),
        }
    }
}

/// Why doctor could not check at all (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    #[error(transparent)]
    Connect(#[from] ConnError),
    #[error("{what} on {target}: {message}")]
    Query {
        what: String,
        target: String,
        message: String,
    },
}

/// How one check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    /// It ran (its findings, if any, are in the report).
    Ran,
    /// The role may not read what it needs: an info finding says so.
    NoPrivilege,
    /// It failed (a timeout, an error): a warning finding says so.
    Failed,
}

/// One check's run, for the JSON and Prometheus outputs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckRun {
    pub name: String,
    pub category: Category,
    pub status: CheckStatus,
    /// Findings it made, excluded ones left out.
    pub findings: usize,
    /// Their keys, to count them again after exclusion.
    #[serde(skip)]
    keys: Vec<String>,
}

/// What a doctor run found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DoctorReport {
    /// The format's version: fields are only ever added.
    pub version: u32,
    /// The server, password redacted.
    pub target: String,
    pub server_version: String,
    /// The role the checks ran as.
    pub role: String,
    /// Worst first, then by check and object.
    pub findings: Vec<Finding>,
    /// Keys of the findings the exclude file silenced.
    pub excluded: Vec<String>,
    pub checks: Vec<CheckRun>,
}

impl DoctorReport {
    /// Findings per level: (error, warning, info).
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |l| self.findings.iter().filter(|f| f.level == l).count();
        (n(Level::Error), n(Level::Warning), n(Level::Info))
    }

    /// The product's exit status: 3 when a finding is at or above `fail_on`, else 0.
    pub fn status(&self, fail_on: Level) -> ExitStatus {
        if self.findings.iter().any(|f| f.level >= fail_on) {
            ExitStatus::Differences
        } else {
            ExitStatus::Success
        }
    }

    /// Adds findings (those of `--source`) as one more check's.
    pub fn add(&mut self, name: &str, category: Category, findings: Vec<Finding>) {
        self.checks.push(CheckRun {
            name: name.into(),
            category,
            status: CheckStatus::Ran,
            findings: findings.len(),
            keys: findings.iter().map(|f| f.key.clone()).collect(),
        });
        self.findings.extend(findings);
        sort(&mut self.findings);
    }

    /// Moves the findings whose key the exclusions match to `excluded`.
    pub fn exclude(&mut self, exclusions: &Exclusions) {
        let (gone, kept): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut self.findings)
            .into_iter()
            .partition(|f| exclusions.matches(&f.key));
        self.findings = kept;
        self.excluded.extend(gone.into_iter().map(|f| f.key));
        for c in &mut self.checks {
            c.findings = c.keys.iter().filter(|k| !exclusions.matches(k)).count();
        }
    }
}

fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then_with(|| a.check.cmp(&b.check))
            .then_with(|| a.object.cmp(&b.object))
    });
}

/// Runs every check against `target`, read-only, each statement under the timeout.
pub fn run(target: &ConnSettings, options: &Options) -> Result<DoctorReport, DoctorError> {
    let mut client = target.connect()?;
    let failed = |what: &str, e: &postgres::Error| DoctorError::Query {
        what: what.into(),
        target: target.redacted(),
        message: describe_pg_error(e),
    };
    let ms = options.statement_timeout.as_millis().max(1);
    client
        .batch_execute(&format!(
            "SET statement_timeout = {ms}; SET lock_timeout = '2s'; \
             SET default_transaction_read_only = on"
        ))
        .map_err(|e| failed("could not prepare the session", &e))?;
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), current_user::text, \
                    r.rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') \
             FROM pg_roles r WHERE r.rolname = current_user",
            &[],
        )
        .map_err(|e| failed("could not read the server's version and role", &e))?;
    let mut ctx = Ctx {
        client: &mut client,
        options,
        role: row.get(1),
        sees_all_sessions: row.get(2),
        notes: Vec::new(),
    };
    let mut report = DoctorReport {
        version: 1,
        target: target.redacted(),
        server_version: row.get(0),
        role: ctx.role.clone(),
        findings: Vec::new(),
        excluded: Vec::new(),
        checks: Vec::new(),
    };
    for check in CHECKS {
        let (status, mut found) = match (check.run)(&mut ctx) {
            Ok(found) => (CheckStatus::Ran, found),
            Err(e) if crate::postgres::error::is_connection_error(&e) => {
                return Err(failed(
                    &format!("check {} lost the connection", check.name),
                    &e,
                ));
            }
            Err(e) if lacks_privilege(&e) => (
                CheckStatus::NoPrivilege,
                vec![no_privilege(check.name, check.category, "", &ctx.role, &e)],
            ),
            Err(e) => (
                CheckStatus::Failed,
                vec![check_failed(check.name, check.category, &e)],
            ),
        };
        found.append(&mut ctx.notes);
        report.checks.push(CheckRun {
            name: check.name.into(),
            category: check.category,
            status,
            findings: found.len(),
            keys: found.iter().map(|f| f.key.clone()).collect(),
        });
        report.findings.extend(found);
    }
    sort(&mut report.findings);
    Ok(report)
}

/// The warning for a check that could not finish (a timeout, an unexpected error).
fn check_failed(check: &str, category: Category, e: &postgres::Error) -> Finding {
    Finding::new(
        "check_failed",
        Level::Warning,
        category,
        check,
        format!("check {check} could not finish: {}", describe_pg_error(e)),
    )
    .advice(
        "run doctor again; raise --statement-timeout if the check timed out on a large database",
    )
}
