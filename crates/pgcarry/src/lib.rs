//! pgcarry carries an application's data into PostgreSQL and proves that nothing was lost.
//!
//! The library is laid out by engine and by route, the shared vocabulary at the bottom:
//!
//! - `model` (the schema model, types, the [`Plan`], outcomes) and `formats` (exact value and
//!   wire formats) import nothing above them; `work` holds the one worker pool, the one retry
//!   helper and the [`Progress`] events.
//! - The engines: `sqlite` (a file, one snapshot, introspection, scan), `json` (a store of
//!   documents, staged into SQLite), `postgres` (connections, binary COPY, a throw-away cluster).
//! - `carry`: the route SQLite/JSON → PostgreSQL (prepare, plan, encode, execute, verify).
//! - `export`: the route back, PostgreSQL → a new SQLite file (plan, decode, write, prove), or a
//!   JSON store back into its files (`export::json`, by the recipe `json::recipe` kept at migration).
//! - `migrations`: `schema`, versioned SQL migrations on SQLite and PostgreSQL (one trait,
//!   two engines), with checksums, a lock, baselines and dry runs.
//! - `backup`: `pg_dump` from an exported snapshot with a manifest that proves what it holds;
//!   verify, list, restore, retention.
//! - `doctor`: health and post-migration checks as findings with their fixes (read-only,
//!   on the `postgres` engine; `--source` reads `carry`'s verification report).
//! - `report` and `checksum`: what a run found, and how content is compared.
//!
//! Modules are private; what the command line and the tests need is re-exported here.
//!
//! ```no_run
//! use pgcarry::{ConnSettings, IfExists, MigrateRequest, PrepareOptions, Silent};
//!
//! let progress = Silent;
//! let prepared = pgcarry::prepare("app.db", &PrepareOptions::default(), &progress)?;
//! let target = ConnSettings::parse("postgresql://app@localhost/app")?;
//! let request = MigrateRequest {
//!     jobs: 2,
//!     if_exists: Some(IfExists::Fail),
//!     rejects: "rejects.ndjson".into(),
//!     verify: true,
//!     adopt: Vec::new(),
//!     cascade: false,
//!     lock_wait: std::time::Duration::ZERO,
//! };
//! let report = pgcarry::migrate(&prepared, &target, &request, &progress)?;
//! println!("{}", report.render());
//! std::process::exit(pgcarry::ExitStatus::from(report.outcome()).code().into());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backup;
mod carry;
mod checksum;
mod doctor;
mod export;
mod formats;
mod json;
mod migrations;
mod model;
mod postgres;
mod report;
mod sample;
mod sqlite;
mod work;

pub use backup::manifest::Manifest as BackupManifest;
pub use backup::{
    BackupError as DumpError, BackupOutcome, BackupRequest, IDENTITY_ENV as AGE_IDENTITY_ENV,
    Listed as ListedBackup, RestoreReport, RestoreRequest, Retention, VerifyReport, VerifyRequest,
    backup as backup_database, keygen as backup_keygen, list as list_backups,
    restore as restore_backup, retention_plan, verify as verify_backup,
};
pub use carry::archive::Destination as BackupDestination;
pub use carry::plan::print::render as render_plan;
pub use carry::plan::statements::{Phase, Runs, Statement, phases as plan_statements};
pub use carry::prepare::{
    MigrateRequest, PrepareOptions, Prepared, RunError, backup, check_backup, check_output,
    check_schema, check_source, check_target, generate_sample, migrate, prepare, start_cluster,
    verify,
};
pub use doctor::{
    Applied as DoctorFix, Category as FindingCategory, CheckRun, CheckStatus, DoctorError,
    DoctorReport, Exclusions, Finding, Level as FindingLevel, Options as DoctorOptions,
    Remediation, apply as apply_doctor_fixes, nagios as render_doctor_nagios,
    prometheus as render_doctor_prometheus, run as doctor, script as doctor_fix_script,
    source_findings as doctor_source_findings, text as render_doctor_text,
};
pub use export::json::{JsonExportReport, JsonExportRequest, export_json};
pub use export::plan::{ExportPlan, render as render_export_plan};
pub use export::{ExportError, ExportReport, ExportRequest, export, plan_export};
/// Timestamps, as the backups' manifests record them.
pub use jiff::Timestamp;
pub use migrations::{
    Database as SchemaDatabase, Done as SchemaDone, Kind as MigrationKind,
    Request as SchemaRequest, SchemaError, Status as SchemaStatus, Unfinished, UpOptions,
    baseline as schema_baseline, down as schema_down, new_migration, repair as schema_repair,
    status as schema_status, up as schema_up,
};
pub use model::outcome::{ExitStatus, Outcome};
pub use model::plan::{IfExists, OrphanPolicy, Plan, Repair};
pub use postgres::cluster::{ClusterError, ClusterOptions, KeptCluster, LocalCluster};
pub use postgres::conn::{ConnError, ConnSettings};
pub use postgres::lock::{LockError, RunLock, Session};
pub use postgres::wait::{Ready, WaitError, parse_duration, wait};
pub use report::Report;
pub use report::verify::render as render_verification;
pub use sample::{
    DEFAULT_SEED as SAMPLE_SEED, SampleOptions, SampleSummary, generate as write_sample,
};
pub use work::progress::{Progress, Silent};

/// The hot paths, for the benchmarks in `benches/` and the examples only: not a stable API.
#[doc(hidden)]
pub mod internals {
    pub use crate::carry::encode::value::encode;
    pub use crate::checksum::{FieldKind, TupleHasher};
    pub use crate::model::types::PgType;
    pub use crate::postgres::copy_in::CopyBuffer;
}
