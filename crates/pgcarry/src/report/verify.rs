//! The human summaries of verification: the lines a migration's report adds for what
//! differs, and the whole output of `pgcarry verify`.

use crate::model::plan::widest;
use crate::report::{Report, StructureProblem, TableReport};
use std::fmt::Write;

/// The lines of the human summary for a table that differs.
pub fn render_table_difference(o: &mut String, t: &TableReport) {
    let _ = writeln!(
        o,
        "\ndifference: table {}: {}",
        t.name,
        t.difference.as_deref().unwrap_or("differs")
    );
    for r in &t.differing_rows {
        let key: Vec<String> = r.key.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let cols = if r.columns.is_empty() {
            String::new()
        } else {
            format!(" (column {})", r.columns.join(", "))
        };
        let what = match r.kind.as_str() {
            "missing" => "missing in PostgreSQL",
            "extra" => "only in PostgreSQL",
            _ => "changed",
        };
        let _ = writeln!(o, "  {} {}: {what}{cols}", t.name, key.join(", "));
    }
}

/// The lines of the human summary for structure the plan promised but PostgreSQL lacks.
pub fn render_structure_problems(o: &mut String, problems: &[StructureProblem]) {
    for p in problems {
        let _ = writeln!(
            o,
            "\ndifference: {} {} on {}: {}",
            p.what, p.name, p.table, p.detail
        );
    }
}

/// The summary `pgcarry verify` prints: per table rows and checksums of both sides, then what
/// differs.
pub fn render(report: &Report) -> String {
    let mut o = String::new();
    let w = widest(report.tables.iter().map(|t| t.name.as_str())).max(5);
    let _ = writeln!(
        o,
        "{:w$}  {:>10}  {:>10}  {:32}  verified",
        "table", "source", "target", "checksum (source)"
    );
    for t in &report.tables {
        let verdict = match t.verified {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "not verified",
        };
        let _ = writeln!(
            o,
            "{:w$}  {:>10}  {:>10}  {:32}  {verdict}",
            t.name,
            t.source_rows - t.rows_rejected,
            t.target_rows.map_or("-".into(), |n| n.to_string()),
            t.source_checksum.as_deref().unwrap_or("-"),
        );
    }
    for t in report.tables.iter().filter(|t| t.verified != Some(true)) {
        match &t.error {
            Some(e) => {
                let _ = writeln!(o, "\nerror: table {} could not be verified: {e}", t.name);
            }
            None => render_table_difference(&mut o, t),
        }
    }
    render_structure_problems(&mut o, &report.structure_problems);
    let rejected: u64 = report.tables.iter().map(|t| t.rows_rejected).sum();
    if rejected > 0 {
        let _ = writeln!(
            o,
            "\n{rejected} source row(s) cannot be represented and are not expected in PostgreSQL \
             (`pgcarry plan` lists them)"
        );
    }
    report.render_files_not_loaded(&mut o);
    report.render_unread(&mut o);
    let verdict = match report.outcome() {
        crate::model::outcome::Outcome::Success => "identical to the source",
        crate::model::outcome::Outcome::Differences
            if report.tables.iter().all(|t| t.verified == Some(true))
                && report.structure_problems.is_empty()
                && rejected == 0
                && !report.files_not_loaded.is_empty() =>
        {
            "identical to the source files that could be loaded (exit 3)"
        }
        crate::model::outcome::Outcome::Differences
            if report.tables.iter().all(|t| t.verified == Some(true))
                && report.structure_problems.is_empty()
                && rejected == 0
                && report.has_unread() =>
        {
            "identical to the source, except the virtual tables that could not be read (exit 3)"
        }
        crate::model::outcome::Outcome::Differences
            if report.tables.iter().all(|t| t.verified == Some(true))
                && report.structure_problems.is_empty() =>
        {
            "identical to the source, except the rows that cannot be represented (exit 3)"
        }
        crate::model::outcome::Outcome::Differences => "DIFFERS from the source (exit 3)",
        crate::model::outcome::Outcome::Failed => "could not be verified (exit 1)",
    };
    let _ = writeln!(o, "\n{}: {verdict}", report.target);
    o
}
