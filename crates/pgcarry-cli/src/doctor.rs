//! `pgcarry doctor`: its flags, and the run — checks, `--source` verification, exclusions,
//! `--fix`/`--apply`, then one of four renderings and the exit code.

use crate::cli::CommonArgs;
use crate::commands::{prepare_options, resolve_target};
use crate::progress::Terminal;
use clap::{Args, ValueEnum};
use pgcarry::{
    ConnSettings, DoctorOptions, DoctorReport, Exclusions, ExitStatus, FindingCategory,
    FindingLevel, RunError,
};
use std::io::IsTerminal;
use std::path::PathBuf;

/// `doctor --help`'s examples, the fixes `--apply` runs, and the exit codes.
pub const AFTER_HELP: &str = "Examples:\n  \
    pgcarry doctor \"$DATABASE_URL\"\n  \
    pgcarry doctor --format json > doctor.json          # DATABASE_URL, .env or PG*\n  \
    pgcarry doctor --format prometheus > /var/lib/node_exporter/pgcarry.prom\n  \
    pgcarry doctor --format nagios                      # exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN\n  \
    pgcarry doctor --source data/app.db --fail-on warning\n  \
    pgcarry doctor --fix > fix.sql                      # review it; nothing is run\n  \
    pgcarry doctor --fix --apply                        # run the safe fixes, then check again\n\n\
    Every check is read-only, under --statement-timeout. A check the role may not run is an\n\
    info finding (GRANT pg_monitor gives the statistics views). --apply runs only the safe\n\
    fixes: SELECT setval(...) for a sequence behind its column's largest value, CREATE INDEX\n\
    CONCURRENTLY for a foreign key without an index, ANALYZE of a table never analysed; the\n\
    rest of the script (DROP INDEX, ALTER TABLE ... TYPE, VALIDATE, REVOKE) stays commented\n\
    out for a person to run. The exclude file lists finding keys (as printed, `check:object`),\n\
    one per line, `#` comments, a trailing `*` matching a prefix.\n\n\
    Exit codes: 0 no finding at or above --fail-on; 3 findings at or above it (default\n\
    error); 1 could not check (or a fix failed); 2 usage error. --format nagios uses Nagios'\n\
    codes instead: 0 OK, 1 WARNING, 2 CRITICAL (errors), 3 UNKNOWN (could not check).";

#[derive(Args)]
pub struct DoctorArgs {
    /// The PostgreSQL to check: a postgresql:// URL or key=value string (else DATABASE_URL,
    /// .env, POSTGRES_*, PG*: the order of `migrate --help`).
    pub url: Option<String>,
    /// Output: text (grouped by level), json (stable, versioned), prometheus (text
    /// exposition, for the node-exporter textfile collector), nagios (one line).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 3 when a finding is at or above this level.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Print the remediation SQL as one script instead of the findings (runs nothing).
    #[arg(long)]
    pub fix: bool,
    /// With --fix: run the safe fixes (see below), then check again and print that result.
    #[arg(long, requires = "fix")]
    pub apply: bool,
    /// A file of finding keys to leave out (accepted findings).
    #[arg(long, value_name = "FILE")]
    pub exclude: Option<PathBuf>,
    /// Also verify the migration from this source (what `pgcarry verify` checks) and report
    /// its differences as findings.
    #[arg(long, value_name = "PATH")]
    pub source: Option<String>,
    /// Every statement ends within this (statement_timeout).
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub statement_timeout: String,
    /// A session idle in a transaction this long is a finding.
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub idle_after: String,
    /// A transaction running this long is a finding.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub long_after: String,
    /// With --source: how the migration was made (--schema, --config, --orphans ...).
    #[command(
        flatten,
        next_help_heading = "With --source: the options the migration was made with"
    )]
    pub common: CommonArgs,
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Prometheus,
    Nagios,
}

#[derive(Copy, Clone, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

impl FailOn {
    fn level(self) -> FindingLevel {
        match self {
            FailOn::Error => FindingLevel::Error,
            FailOn::Warning => FindingLevel::Warning,
            FailOn::Info => FindingLevel::Info,
        }
    }
}

pub fn run(a: DoctorArgs) -> anyhow::Result<ExitStatus> {
    if a.format != Format::Nagios {
        return check(&a);
    }
    // Nagios reads UNKNOWN (3) for a check that could not run, whatever the reason.
    check(&a).or_else(|e| {
        println!(
            "PGCARRY DOCTOR UNKNOWN - {}",
            format!("{e:#}").replace('\n', " ")
        );
        Ok(ExitStatus::Differences)
    })
}

fn duration(flag: &str, text: &str) -> Result<std::time::Duration, RunError> {
    pgcarry::parse_duration(text).map_err(|e| RunError::Usage(format!("{flag}: {e}")))
}

fn check(a: &DoctorArgs) -> anyhow::Result<ExitStatus> {
    let options = DoctorOptions {
        statement_timeout: duration("--statement-timeout", &a.statement_timeout)?,
        idle_after: duration("--idle-after", &a.idle_after)?,
        long_after: duration("--long-after", &a.long_after)?,
    };
    let exclusions = match &a.exclude {
        Some(path) => Exclusions::read(path).map_err(RunError::Usage)?,
        None => Exclusions::default(),
    };
    if let Some(source) = &a.source {
        pgcarry::check_source(source)?;
    }
    let target = resolve_target(a.url.as_deref())?;
    let mut report = inspect(a, &target, &options, &exclusions)?;
    if a.fix && !a.apply {
        print!("{}", pgcarry::doctor_fix_script(&report));
        return Ok(report.status(a.fail_on.level()));
    }
    if a.apply {
        let applied = pgcarry::apply_doctor_fixes(&target, &report).map_err(doctor_error)?;
        let mut failed = false;
        for fix in &applied {
            match &fix.error {
                None => eprintln!("applied {}: {}", fix.key, fix.sql),
                Some(e) => {
                    failed = true;
                    eprintln!("error: fix {} failed: {e}", fix.key);
                }
            }
        }
        eprintln!("{} fix(es) applied; checking again", applied.len());
        let source = std::mem::take(&mut report.findings)
            .into_iter()
            .filter(|f| f.category == FindingCategory::PostMigration)
            .collect::<Vec<_>>();
        report = pgcarry::doctor(&target, &options).map_err(doctor_error)?;
        if a.source.is_some() {
            report.add("source", FindingCategory::PostMigration, source);
        }
        report.exclude(&exclusions);
        let status = render(a, &report)?;
        return Ok(if failed { ExitStatus::Failure } else { status });
    }
    render(a, &report)
}

/// The checks, the `--source` verification's findings, then the exclusions.
fn inspect(
    a: &DoctorArgs,
    target: &ConnSettings,
    options: &DoctorOptions,
    exclusions: &Exclusions,
) -> anyhow::Result<DoctorReport> {
    let mut report = pgcarry::doctor(target, options).map_err(doctor_error)?;
    if let Some(source) = &a.source {
        let prepare = prepare_options(&a.common)?;
        let progress = Terminal::new(a.format != Format::Text);
        let jobs = prepare.jobs;
        let prepared = pgcarry::prepare(source, &prepare, &progress)?;
        let verified = pgcarry::verify(&prepared, target, jobs, &progress)?;
        report.add(
            "source",
            FindingCategory::PostMigration,
            pgcarry::doctor_source_findings(&verified),
        );
    }
    report.exclude(exclusions);
    Ok(report)
}

fn doctor_error(e: pgcarry::DoctorError) -> RunError {
    match e {
        pgcarry::DoctorError::Connect(c) => RunError::Connect(c),
        other => RunError::Other(other.to_string()),
    }
}

/// Prints the report in the chosen format; the exit status (Nagios' own under nagios).
fn render(a: &DoctorArgs, report: &DoctorReport) -> anyhow::Result<ExitStatus> {
    match a.format {
        Format::Text => {
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            print!("{}", pgcarry::render_doctor_text(report, colour));
        }
        Format::Json => println!("{}", serde_json::to_string_pretty(report)?),
        Format::Prometheus => print!("{}", pgcarry::render_doctor_prometheus(report)),
        Format::Nagios => {
            let (line, code) = pgcarry::render_doctor_nagios(report);
            println!("{line}");
            // The process exit code Nagios expects: 0 OK, 1 WARNING, 2 CRITICAL.
            return Ok(match code {
                0 => ExitStatus::Success,
                1 => ExitStatus::Failure,
                _ => ExitStatus::Usage,
            });
        }
    }
    Ok(report.status(a.fail_on.level()))
}
