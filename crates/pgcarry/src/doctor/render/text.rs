//! The text output: findings grouped by level, worst first, each with its fix; a summary
//! line. Colour (ANSI) only when the caller says the output is a terminal.

use crate::doctor::finding::{Level, Remediation};
use crate::doctor::{CheckStatus, DoctorReport};
use std::fmt::Write;

fn paint(text: &str, level: Level, colour: bool) -> String {
    if !colour {
        return text.to_string();
    }
    let code = match level {
        Level::Error => "1;31",
        Level::Warning => "1;33",
        Level::Info => "1;36",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// The report as text; `colour` on a terminal only.
pub fn render(report: &DoctorReport, colour: bool) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "doctor: {} as role {}, PostgreSQL {}",
        report.target, report.role, report.server_version
    );
    for level in Level::WORST_FIRST {
        let all: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.level == level)
            .collect();
        if all.is_empty() {
            continue;
        }
        let heading = format!("{} ({})", level.as_str(), all.len());
        let _ = writeln!(o, "\n{}", paint(&heading, level, colour));
        for f in all {
            let _ = writeln!(o, "  [{}] {}", f.category.as_str(), f.key);
            let _ = writeln!(o, "    {}", f.detail);
            match &f.remediation {
                Some(Remediation::Sql { sql, safe }) => {
                    let label = if *safe {
                        "fix (--apply runs it)"
                    } else {
                        "fix"
                    };
                    let indented = sql.replace('\n', "\n      ");
                    let _ = writeln!(o, "    {label}: {indented}");
                }
                Some(Remediation::Setting { setting }) => {
                    let _ = writeln!(o, "    setting: {setting}");
                }
                Some(Remediation::Advice { text }) => {
                    let _ = writeln!(o, "    advice: {text}");
                }
                None => {}
            }
        }
    }
    let (errors, warnings, info) = report.counts();
    let ran = report
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Ran)
        .count();
    let excluded = if report.excluded.is_empty() {
        String::new()
    } else {
        format!(", {} excluded", report.excluded.len())
    };
    let verdict = if errors + warnings + info == 0 {
        "healthy: no findings".to_string()
    } else {
        format!("{errors} error(s), {warnings} warning(s), {info} info")
    };
    let _ = writeln!(
        o,
        "\n{verdict} ({ran} of {} checks ran{excluded})",
        report.checks.len()
    );
    o
}
