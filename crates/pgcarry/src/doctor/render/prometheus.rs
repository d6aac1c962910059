//! Prometheus text exposition format (version 0.0.4), for the node-exporter textfile
//! collector: findings per level, and per check its findings and whether it ran.

use crate::doctor::finding::Level;
use crate::doctor::{CheckStatus, DoctorReport};
use std::fmt::Write;

/// A label value escaped as the format wants: backslash, double quote and newline.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(o: &mut String, name: &str, help: &str) {
    let _ = writeln!(o, "# HELP {name} {help}");
    let _ = writeln!(o, "# TYPE {name} gauge");
}

/// The report as metrics; every family is a gauge.
pub fn render(report: &DoctorReport) -> String {
    let mut o = String::new();
    family(
        &mut o,
        "pgcarry_doctor_findings",
        "Findings of the last pgcarry doctor run by level (excluded findings left out).",
    );
    for level in Level::WORST_FIRST {
        let n = report.findings.iter().filter(|f| f.level == level).count();
        let _ = writeln!(
            o,
            "pgcarry_doctor_findings{{level=\"{}\"}} {n}",
            level.as_str()
        );
    }
    family(
        &mut o,
        "pgcarry_doctor_check_findings",
        "Findings of each check in the last run (excluded findings left out).",
    );
    for c in &report.checks {
        let _ = writeln!(
            o,
            "pgcarry_doctor_check_findings{{check=\"{}\",category=\"{}\"}} {}",
            label(&c.name),
            c.category.as_str(),
            c.findings
        );
    }
    family(
        &mut o,
        "pgcarry_doctor_check_ok",
        "1 when the check ran, 0 when it lacked privilege or failed.",
    );
    for c in &report.checks {
        let _ = writeln!(
            o,
            "pgcarry_doctor_check_ok{{check=\"{}\",category=\"{}\"}} {}",
            label(&c.name),
            c.category.as_str(),
            u8::from(c.status == CheckStatus::Ran)
        );
    }
    family(
        &mut o,
        "pgcarry_doctor_excluded_findings",
        "Findings the exclude file silenced.",
    );
    let _ = writeln!(
        o,
        "pgcarry_doctor_excluded_findings {}",
        report.excluded.len()
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
