//! Post-migration (`--source`): what `verify` found between the source and PostgreSQL, as
//! findings. The verification itself is `carry`'s; this only reads its report.

use super::finding::{Category, Finding, Level};
use crate::report::Report;

/// The findings of a verification report: every table that differs, every promised key,
/// index, constraint or sequence missing, every failed step and orphan set; one info finding
/// when all is identical.
pub fn findings(report: &Report) -> Vec<Finding> {
    let mut out = Vec::new();
    let cat = Category::PostMigration;
    for t in &report.tables {
        if let Some(error) = &t.error {
            out.push(Finding::new(
                "source_table_unverified",
                Level::Error,
                cat,
                t.name.clone(),
                format!("table {} could not be verified: {error}", t.name),
            ));
        } else if t.verified == Some(false) {
            let rows = t.target_rows.map_or("?".into(), |n| n.to_string());
            out.push(
                Finding::new(
                    "source_table_differs",
                    Level::Error,
                    cat,
                    t.name.clone(),
                    format!(
                        "table {} differs from the source ({} source rows, {rows} in \
                         PostgreSQL): {}",
                        t.name,
                        t.source_rows,
                        t.difference
                            .as_deref()
                            .unwrap_or("content checksums differ")
                    ),
                )
                .advice(format!(
                    "run pgcarry verify SOURCE --to URL for the rows that differ in {}",
                    t.name
                )),
            );
        }
    }
    for p in &report.structure_problems {
        out.push(Finding::new(
            "source_structure",
            Level::Error,
            cat,
            format!("{}.{}", p.table, p.name),
            format!("{} {} on {}: {}", p.what, p.name, p.table, p.detail),
        ));
    }
    for s in &report.failed_steps {
        out.push(
            Finding::new(
                "source_failed_step",
                Level::Error,
                cat,
                format!("{}.{}", s.table, s.name),
                format!(
                    "step {:?} {} on {} failed: {}",
                    s.kind, s.name, s.table, s.error
                ),
            )
            .sql(s.sql.clone(), false),
        );
    }
    for o in &report.orphans {
        out.push(Finding::new(
            "source_orphans",
            Level::Warning,
            cat,
            format!("{}.{}", o.table, o.foreign_key),
            o.describe(),
        ));
    }
    if out.is_empty() {
        out.push(Finding::new(
            "source_verified",
            Level::Info,
            cat,
            report.source.clone(),
            format!(
                "{} table(s) identical to the source {} (rows, content checksums, keys, \
                 indexes, sequences)",
                report.tables.len(),
                report.source
            ),
        ));
    }
    out
}
