//! The migration report: per table rows read, written and rejected, time, bytes and the
//! verification result; every type decision, warning and failed step. Serialised with
//! `--report FILE.json` and rendered as the human summary.

use crate::model::outcome::{
    ColumnRepairs, DecisionReport, ExitStatus, Outcome, SequenceReport, StepFailure,
    StructureProblem, TableReport,
};
use crate::model::plan::widest;
use crate::model::plan::{Plan, StepKind, Warning};
use crate::model::schema::{Skipped, SkippedKind};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

pub mod verify;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub source: String,
    /// The target, password redacted.
    pub target: String,
    pub schema: String,
    pub seconds: f64,
    /// How long `ANALYZE` of the loaded tables took, after everything else was built.
    #[serde(default)]
    pub analyze_seconds: f64,
    pub tables: Vec<TableReport>,
    pub failed_steps: Vec<StepFailure>,
    pub decisions: Vec<DecisionReport>,
    pub warnings: Vec<Warning>,
    pub skipped: Vec<Skipped>,
    /// The rejects file, when any row was rejected.
    pub rejects_file: Option<String>,
    /// Whether the content was verified after the load.
    pub verified: bool,
    pub sequences: Vec<SequenceReport>,
    /// What the plan promised besides rows (keys, indexes, NOT NULL, valid foreign keys,
    /// sequences past the largest key) and verification found missing or wrong.
    #[serde(default)]
    pub structure_problems: Vec<StructureProblem>,
    /// Foreign keys left out because rows reference missing parents (`--orphans`).
    #[serde(default)]
    pub orphans: Vec<crate::model::plan::OrphanReport>,
    /// JSON stores: files (or NDJSON lines) that could not be loaded, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files_not_loaded: Vec<crate::model::json::FileProblem>,
    /// Objects pgcarry did not create that `--if-exists drop --cascade` dropped with the
    /// tables, as PostgreSQL describes them (`view public.active_users`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped_with_cascade: Vec<String>,
    /// What became of a SQLite source's `pgcarry schema` records, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_migrations: Option<String>,
}

impl Report {
    pub fn new(plan: &Plan, target: String) -> Report {
        let decisions = plan
            .tables
            .iter()
            .flat_map(|t| {
                t.columns.iter().map(move |c| DecisionReport {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    declared_type: c.declared_type.clone(),
                    pg_type: c.pg_type.clone(),
                    reason: c.reason.clone(),
                })
            })
            .collect();
        Report {
            source: plan.source.clone(),
            target,
            schema: plan.schema.clone(),
            seconds: 0.0,
            analyze_seconds: 0.0,
            tables: Vec::new(),
            failed_steps: Vec::new(),
            decisions,
            warnings: plan.warnings.clone(),
            skipped: plan.skipped.clone(),
            rejects_file: None,
            verified: false,
            sequences: Vec::new(),
            structure_problems: Vec::new(),
            orphans: plan.orphans.clone(),
            files_not_loaded: plan
                .json
                .as_ref()
                .map(|j| j.not_loaded.clone())
                .unwrap_or_default(),
            dropped_with_cascade: Vec::new(),
            schema_migrations: None,
        }
    }

    pub fn outcome(&self) -> Outcome {
        if self.tables.iter().any(|t| t.error.is_some()) {
            Outcome::Failed
        } else if self
            .tables
            .iter()
            .any(|t| t.rows_rejected > 0 || t.verified == Some(false))
            || !self.failed_steps.is_empty()
            || !self.structure_problems.is_empty()
            || !self.orphans.is_empty()
            || !self.files_not_loaded.is_empty()
            || self.has_unread()
        {
            Outcome::Differences
        } else {
            Outcome::Success
        }
    }

    /// Whether a virtual table's rows could not be read (its module is not available).
    pub fn has_unread(&self) -> bool {
        self.skipped
            .iter()
            .any(|s| s.kind == Some(SkippedKind::VirtualTable))
    }

    /// One line per virtual table whose rows could not be read, with the reason.
    pub(crate) fn render_unread(&self, o: &mut String) {
        for s in &self.skipped {
            if s.kind == Some(SkippedKind::VirtualTable) {
                let _ = writeln!(o, "\nnot read: {}: {}", s.name, s.reason);
            }
        }
    }

    /// The human summary: one line per table, then what needs attention, then the verdict.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let totals = self.render_tables(&mut o);
        self.render_table_problems(&mut o);
        for f in &self.failed_steps {
            let _ = writeln!(
                o,
                "\nfailed: {} {} on {}: {}\n  {}",
                kind_name(f.kind),
                f.name,
                f.table,
                f.error,
                f.sql
            );
        }
        verify::render_structure_problems(&mut o, &self.structure_problems);
        for orphan in &self.orphans {
            let _ = writeln!(
                o,
                "\nforeign key not created: {} (every row was loaded; --orphans reject, null or fail handle them otherwise)",
                orphan.describe()
            );
        }
        self.render_rejects(&mut o, totals.rows_rejected);
        self.render_repairs(&mut o);
        self.render_files_not_loaded(&mut o);
        if !self.dropped_with_cascade.is_empty() {
            let _ = writeln!(o, "\ndropped with --cascade (pgcarry did not create them):");
            for d in &self.dropped_with_cascade {
                let _ = writeln!(o, "  - {d}");
            }
        }
        if let Some(s) = &self.schema_migrations {
            let _ = writeln!(o, "\nschema migration records: {s}");
        }
        self.render_warnings(&mut o);
        self.render_unread(&mut o);
        if !self.skipped.is_empty() {
            let _ = writeln!(
                o,
                "\nnot migrated: {}",
                self.skipped
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let outcome = self.outcome();
        let exit = ExitStatus::from(outcome).code();
        let verdict = match outcome {
            Outcome::Success if self.verified => "migrated and verified".to_string(),
            Outcome::Success => "migrated, not verified (--no-verify)".to_string(),
            Outcome::Differences => format!("finished with differences (exit {exit})"),
            Outcome::Failed => format!("FAILED (exit {exit})"),
        };
        let _ = writeln!(o, "\n{}: {verdict}{}", self.target, self.attention());
        o
    }

    /// What the verdict leaves for the user to look at: virtual tables, views and triggers not
    /// migrated.
    fn attention(&self) -> String {
        let count = |kind| self.skipped.iter().filter(|s| s.kind == Some(kind)).count();
        let (views, triggers, unread) = (
            count(SkippedKind::View),
            count(SkippedKind::Trigger),
            count(SkippedKind::VirtualTable),
        );
        let plural = |n: usize, one: &str| match n {
            1 => format!("1 {one}"),
            n => format!("{n} {one}s"),
        };
        let parts: Vec<String> = [
            (unread, "virtual table"),
            (views, "view"),
            (triggers, "trigger"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, one)| plural(n, one))
        .collect();
        if parts.is_empty() {
            return String::new();
        }
        format!(
            "; {} not migrated — see the plan or the report",
            parts.join(" and ")
        )
    }

    /// One line per table and the totals; returns the totals.
    fn render_tables(&self, o: &mut String) -> TableReport {
        let w = widest(self.tables.iter().map(|t| t.name.as_str())).max(5);
        let _ = writeln!(
            o,
            "{:w$}  {:>10}  {:>10}  {:>8}  {:>8}  {:>8}  verified",
            "table",
            "read",
            "written",
            "rejected",
            "seconds",
            "MB/s",
            w = w
        );
        let mut totals = TableReport::default();
        for t in &self.tables {
            let verified = match (&t.error, t.verified) {
                (Some(_), _) => "FAILED",
                (None, Some(true)) => "yes",
                (None, Some(false)) => "NO",
                (None, None) => "not verified",
            };
            let _ = writeln!(
                o,
                "{:w$}  {:>10}  {:>10}  {:>8}  {:>8.2}  {:>8.1}  {}",
                t.name,
                t.source_rows,
                t.rows_written,
                t.rows_rejected,
                t.seconds,
                megabytes_per_second(t.bytes, t.seconds),
                verified,
                w = w
            );
            totals.source_rows += t.source_rows;
            totals.rows_written += t.rows_written;
            totals.rows_rejected += t.rows_rejected;
            totals.bytes += t.bytes;
        }
        let _ = writeln!(
            o,
            "{:w$}  {:>10}  {:>10}  {:>8}  {:>8.2}  {:>8.1}",
            "total",
            totals.source_rows,
            totals.rows_written,
            totals.rows_rejected,
            self.seconds,
            megabytes_per_second(totals.bytes, self.seconds),
            w = w
        );
        totals
    }

    /// Per table: an error, or how its content differs.
    fn render_table_problems(&self, o: &mut String) {
        for t in &self.tables {
            if let Some(e) = &t.error {
                // Verification gave its verdict only on loaded tables.
                let what = match t.verified {
                    Some(_) => "could not be verified",
                    None => "was not loaded",
                };
                let _ = writeln!(o, "\nerror: table {} {what}: {e}", t.name);
            } else if t.verified == Some(false) && t.difference.is_some() {
                verify::render_table_difference(o, t);
            } else if t.verified == Some(false) {
                let _ = writeln!(
                    o,
                    "\ndifference: table {}: {} rows expected in PostgreSQL, {} found",
                    t.name,
                    t.source_rows - t.rows_rejected,
                    t.target_rows.unwrap_or(0)
                );
            }
        }
    }

    /// How many rows were rejected, in which tables, and where they went.
    fn render_rejects(&self, o: &mut String, rejected: u64) {
        if rejected == 0 {
            return;
        }
        let tables: Vec<String> = self
            .tables
            .iter()
            .filter(|t| t.rows_rejected > 0)
            .map(|t| format!("{} ({})", t.name, t.rows_rejected))
            .collect();
        let _ = writeln!(
            o,
            "\n{} row(s) rejected in {}: see {}",
            rejected,
            tables.join(", "),
            self.rejects_file.as_deref().unwrap_or("the rejects file")
        );
    }

    /// The first ten warnings, and how many more there are.
    fn render_warnings(&self, o: &mut String) {
        if self.warnings.is_empty() {
            return;
        }
        let _ = writeln!(
            o,
            "\n{} warning(s) (see `pgcarry plan` or the JSON report):",
            self.warnings.len()
        );
        for w in self.warnings.iter().take(10) {
            let place = match (&w.table, &w.column) {
                (Some(t), Some(c)) => format!("{t}.{c}: "),
                (Some(t), None) => format!("{t}: "),
                _ => String::new(),
            };
            let _ = writeln!(o, "  - {place}{}", w.message);
        }
        if self.warnings.len() > 10 {
            let _ = writeln!(o, "  … and {} more", self.warnings.len() - 10);
        }
    }
}

/// Throughput for the summary (0 when no time was measured).
fn megabytes_per_second(bytes: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        bytes as f64 / 1e6 / seconds
    } else {
        0.0
    }
}

impl Report {
    /// The source files (or NDJSON lines) of a JSON store that were not loaded, and why.
    pub fn render_files_not_loaded(&self, o: &mut String) {
        if self.files_not_loaded.is_empty() {
            return;
        }
        let _ = writeln!(
            o,
            "\n{} source file(s) or line(s) not loaded (everything else was):",
            self.files_not_loaded.len()
        );
        for f in &self.files_not_loaded {
            let _ = writeln!(o, "  - {}: {}", f.path, f.reason);
        }
    }

    /// `changed by --strip-nul: notes.body 3 values`, one line per repair that changed any.
    fn render_repairs(&self, o: &mut String) {
        type Count = fn(&ColumnRepairs) -> u64;
        let strip: Count = |c| c.strip_nul;
        let replace: Count = |c| c.replace_invalid_utf8;
        let orphans: Count = |c| c.orphan_nulled;
        let mut first = true;
        for (flag, count) in [
            ("--strip-nul", strip),
            ("--replace-invalid-utf8", replace),
            ("--orphans null", orphans),
        ] {
            let changed: Vec<String> = self
                .tables
                .iter()
                .flat_map(|t| t.repaired.iter().map(move |c| (t, c)))
                .filter(|(_, c)| count(c) > 0)
                .map(|(t, c)| {
                    let n = count(c);
                    let values = if n == 1 { "value" } else { "values" };
                    format!("{}.{} {n} {values}", t.name, c.column)
                })
                .collect();
            if changed.is_empty() {
                continue;
            }
            if first {
                o.push('\n');
                first = false;
            }
            let _ = writeln!(o, "changed by {flag}: {}", changed.join(", "));
        }
    }
}

pub fn kind_name(k: StepKind) -> &'static str {
    match k {
        StepKind::PrimaryKey => "primary key",
        StepKind::Unique => "unique constraint",
        StepKind::Index => "index",
        StepKind::Check => "check constraint",
        StepKind::Default => "default",
        StepKind::ForeignKey => "foreign key",
        StepKind::View => "view",
        StepKind::Trigger => "trigger",
        StepKind::Search => "full-text search",
        StepKind::Sequence => "sequence",
        StepKind::Analyze => "analyze",
    }
}
