//! `--fix`: the remediation SQL of the findings as one script (the fixes that are not safe
//! to run unattended commented out, for a person to review); `--apply`: run the safe ones —
//! `setval` past the largest key, `CREATE INDEX CONCURRENTLY` for a foreign key, `ANALYZE` —
//! each on its own, on a connection of its own.

use super::finding::Finding;
use super::{DoctorError, DoctorReport};
use crate::postgres::conn::ConnSettings;
use crate::postgres::error::describe_pg_error;
use serde::Serialize;
use std::fmt::Write;

/// The remediation script of `report`'s findings, worst first.
pub fn script(report: &DoctorReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "-- pgcarry doctor --fix: {}\n-- Statements not commented out are safe: `--apply` runs \
         exactly those. The commented ones\n-- rewrite, drop or lock: review them and run them \
         yourself in a maintenance window.",
        report.target
    );
    let mut any = false;
    for f in &report.findings {
        let Some((sql, safe)) = f.fix_sql() else {
            continue;
        };
        any = true;
        let _ = writeln!(
            o,
            "\n-- {} {}: {}",
            f.level.as_str(),
            f.key,
            one_line(&f.detail)
        );
        for line in sql.lines() {
            if safe {
                let _ = writeln!(o, "{line}");
            } else {
                let _ = writeln!(o, "-- {line}");
            }
        }
    }
    if !any {
        o.push_str("\n-- nothing to fix\n");
    }
    o
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One safe fix run by `--apply`.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub key: String,
    pub sql: String,
    /// Why it failed; `None` when it ran.
    pub error: Option<String>,
}

/// Runs the safe fixes of `report`'s findings, in order, each in a transaction of its own
/// (`CREATE INDEX CONCURRENTLY` outside one); a failed fix is recorded and the rest still run.
pub fn apply(target: &ConnSettings, report: &DoctorReport) -> Result<Vec<Applied>, DoctorError> {
    let safe: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.fix_sql().is_some_and(|(_, safe)| safe))
        .collect();
    if safe.is_empty() {
        return Ok(Vec::new());
    }
    let mut client = target.connect()?;
    client
        .batch_execute("SET lock_timeout = '10s'; SET statement_timeout = 0")
        .map_err(|e| DoctorError::Query {
            what: "could not prepare the session for --apply".into(),
            target: target.redacted(),
            message: describe_pg_error(&e),
        })?;
    Ok(safe
        .into_iter()
        .filter_map(|f| {
            let (sql, _) = f.fix_sql()?;
            let error = client
                .batch_execute(sql)
                .err()
                .map(|e| describe_pg_error(&e));
            Some(Applied {
                key: f.key.clone(),
                sql: sql.to_string(),
                error,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::finding::{Category, Level};

    fn report(findings: Vec<Finding>) -> DoctorReport {
        DoctorReport {
            version: 1,
            target: "postgresql://app@db/app".into(),
            server_version: "15".into(),
            role: "app".into(),
            findings,
            excluded: Vec::new(),
            checks: Vec::new(),
        }
    }

    #[test]
    fn only_safe_fixes_stay_uncommented() {
        let safe = Finding::new("a", Level::Error, Category::Keys, "t", "behind")
            .sql("SELECT setval('s', 1);", true);
        let risky = Finding::new("b", Level::Warning, Category::Integrity, "i", "dup\nindex")
            .sql("DROP INDEX i;\nANALYZE t;", false);
        let advice = Finding::new("c", Level::Info, Category::Keys, "t", "x").advice("look");
        let text = script(&report(vec![safe, risky, advice]));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&"SELECT setval('s', 1);"));
        assert!(lines.contains(&"-- DROP INDEX i;"));
        assert!(lines.contains(&"-- ANALYZE t;"));
        assert!(lines.contains(&"-- warning b:i: dup index"));
        assert!(!text.contains("look"));
        assert!(script(&report(Vec::new())).contains("-- nothing to fix"));
    }
}
