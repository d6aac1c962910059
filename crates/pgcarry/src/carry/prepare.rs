//! The commands as library calls: `plan`, `migrate`, `rehearse`. Each takes plain options and
//! returns plain values; the command line only parses flags, prints and maps errors to exit
//! codes.

use crate::carry::archive::{self, BackupError, Contents, Destination};
use crate::carry::execute::ddl::DdlError;
use crate::carry::execute::{MigrateError, MigrateOptions};
use crate::carry::plan::build::{PlanOptions, build};
use crate::carry::plan::decide::{hint, probe};
use crate::carry::plan::skips;
use crate::json::{self, JsonError};
use crate::migrations::{SchemaError, carried};
use crate::model::config::Config;
use crate::model::outcome::ExitStatus;
use crate::model::plan::{IfExists, OrphanPolicy, Plan};
use crate::model::schema::SourceSchema;
use crate::postgres::cluster::{ClusterError, ClusterOptions, LocalCluster};
use crate::postgres::conn::{ConnError, ConnSettings};
use crate::postgres::lock::{LockError, RunLock};
use crate::report::Report;
use crate::sqlite::{self, Snapshot, SqliteError, introspect, scan};
use crate::work::pool;
use crate::work::progress::Progress;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The command line or the configuration is wrong (exit 2).
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Sqlite(#[from] SqliteError),
    #[error(transparent)]
    Connect(#[from] ConnError),
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Json(#[from] JsonError),
    #[error(transparent)]
    Backup(#[from] BackupError),
    /// Another run holds the target schema's lock, or an earlier run's sessions still run
    /// (exit 1: nothing was written).
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("{0}")]
    Other(String),
}

impl RunError {
    /// The exit status this error ends a command with: 2 for what the user fixes by changing
    /// the command, 1 for everything else.
    pub fn exit_status(&self) -> ExitStatus {
        if self.is_usage() {
            ExitStatus::Usage
        } else {
            ExitStatus::Failure
        }
    }

    /// True for errors the user fixes by changing the command (exit code 2).
    pub fn is_usage(&self) -> bool {
        match self {
            RunError::Sqlite(e) => return e.is_usage(),
            RunError::Backup(e) => return e.is_usage(),
            _ => {}
        }
        matches!(
            self,
            RunError::Usage(_)
                | RunError::Json(JsonError::Config(_))
                | RunError::Migrate(MigrateError::Ddl(
                    DdlError::TablesExist { .. }
                        | DdlError::PlanChanged { .. }
                        | DdlError::NotOurs { .. }
                        | DdlError::Dependents { .. }
                        | DdlError::Mismatch { .. }
                ))
        )
    }
}

/// A source, read and planned: the pinned snapshot, the schema model and the plan.
pub struct Prepared {
    pub snapshot: Snapshot,
    pub model: SourceSchema,
    pub plan: Plan,
    /// A JSON store's staged SQLite database (what `snapshot` reads), removed when dropped.
    pub staging: Option<tempfile::TempDir>,
    /// What `--backup` archives: the pinned SQLite file, or the files the store's walk read.
    contents: Contents,
    /// A SQLite source's `pgcarry schema` records, carried to `pgcarry.schema_migrations`.
    schema_records: Option<Vec<carried::Record>>,
}

/// What a SOURCE argument names.
pub enum SourcePath {
    Sqlite(PathBuf),
    /// A JSON store: a directory, or a JSON, NDJSON or dump file.
    Json(PathBuf),
}

/// Resolves `sqlite:PATH`, `json:PATH`, a directory, or a file by its header.
pub fn source_path(source: &str) -> Result<SourcePath, RunError> {
    let (explicit, path) = match source.strip_prefix("sqlite:") {
        Some(p) => (true, PathBuf::from(p)),
        None => (false, PathBuf::from(source)),
    };
    let json = source.strip_prefix("json:");
    let path = json.map_or(path, PathBuf::from);
    let meta = std::fs::metadata(&path)
        .map_err(|e| RunError::Usage(format!("cannot read source {}: {e}", path.display())))?;
    if json.is_some() || (!explicit && meta.is_dir()) {
        return Ok(SourcePath::Json(path));
    }
    if meta.is_dir() {
        return Err(RunError::Usage(format!(
            "{} is a directory, not a SQLite database (use json:{} for a JSON store)",
            path.display(),
            path.display()
        )));
    }
    let checked = sqlite::check_file(&path);
    if !explicit && checked.is_err() && json::looks_like_json(&path) {
        return Ok(SourcePath::Json(path));
    }
    checked.map_err(|e| RunError::Usage(e.to_string()))?;
    Ok(SourcePath::Sqlite(path))
}

/// Checks that SOURCE names a readable SQLite file or JSON store (its header only): what is
/// wrong with the input is said before what is wrong with the outputs.
pub fn check_source(source: &str) -> Result<(), RunError> {
    source_path(source).map(drop)
}

/// Proves an output path (the rejects file, a report) writable before anything is written;
/// a usage error naming the path otherwise. Creates nothing.
pub fn check_output(path: &Path, what: &str) -> Result<(), RunError> {
    crate::carry::output::check_writable(path, what).map_err(RunError::Usage)
}

/// `--backup FILE.tar.gz`, checked before the source is read: a new `.tar.gz` name (not a
/// link, not even a dangling one) in an existing directory outside the source.
pub fn check_backup(source: &str, out: &Path) -> Result<Destination, RunError> {
    let path = match source_path(source)? {
        SourcePath::Sqlite(p) | SourcePath::Json(p) => p,
    };
    Ok(archive::check(&path, out)?)
}

/// Archives exactly what `prepared` migrates (the pinned SQLite snapshot, or the files of the
/// JSON store that were walked) into the checked destination; returns its size in bytes.
pub fn backup(prepared: &Prepared, dest: &Destination) -> Result<u64, RunError> {
    Ok(archive::write(
        dest,
        &prepared.contents,
        &prepared.snapshot,
    )?)
}

/// What the user decided before planning (flags shared by plan, migrate, rehearse, verify).
#[derive(Debug, Clone)]
pub struct PrepareOptions {
    pub schema: String,
    pub jobs: usize,
    pub orphans: OrphanPolicy,
    pub config: Option<PathBuf>,
    pub repair: crate::model::plan::Repair,
    /// Tables with more rows load in key ranges of about this many rows (0: never).
    pub chunk_rows: u64,
    /// JSON stores: follow every symbolic link, also out of the store and to directories.
    pub follow_symlinks: bool,
}

impl Default for PrepareOptions {
    /// Schema `public`, a job per core, foreign keys with orphans left out, no config, no
    /// repairs, key ranges of 250,000 rows, no symbolic link followed out of a JSON store.
    fn default() -> PrepareOptions {
        PrepareOptions {
            schema: "public".into(),
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            orphans: OrphanPolicy::default(),
            config: None,
            repair: crate::model::plan::Repair::default(),
            chunk_rows: 250_000,
            follow_symlinks: false,
        }
    }
}

/// Checks `--schema` before anything is read or written: the migrated tables never go into
/// pgcarry's own state schema, nor into one of PostgreSQL's (`pg_*`, `information_schema`).
pub fn check_schema(schema: &str) -> Result<(), RunError> {
    let others = "Choose another schema for the tables, e.g. --schema public (the default) or \
                  --schema legacy";
    let why = if schema.is_empty() {
        "a schema needs a name".to_string()
    } else if schema == crate::postgres::state_sql::SCHEMA {
        "that schema holds pgcarry's own state (which tables it created, how far each is \
         loaded), and the migrated tables must never mix with it"
            .to_string()
    } else if schema.starts_with("pg_") || schema == "information_schema" {
        format!("{schema:?} is PostgreSQL's own (pg_* and information_schema are the server's)")
    } else {
        return Ok(());
    };
    Err(RunError::Usage(format!(
        "--schema {schema}: {why}; nothing was read or written. {others}"
    )))
}

/// Reads the source and decides everything: introspect, scan every table (in parallel), plan.
pub fn prepare(
    source: &str,
    opts: &PrepareOptions,
    progress: &dyn Progress,
) -> Result<Prepared, RunError> {
    check_schema(&opts.schema)?;
    let (schema, jobs, orphans, repair) =
        (opts.schema.as_str(), opts.jobs, opts.orphans, opts.repair);
    let config = match opts.config.as_deref() {
        Some(p) => Config::load(p).map_err(|e| RunError::Usage(e.to_string()))?,
        None => Config::default(),
    };
    let links = if opts.follow_symlinks {
        json::Links::Follow
    } else {
        json::Links::StayInside
    };
    let (path, staged, contents) = match source_path(source)? {
        SourcePath::Sqlite(p) => {
            skips::refuse_collections(&config, source).map_err(RunError::Usage)?;
            (p.clone(), None, Contents::Sqlite(p))
        }
        SourcePath::Json(p) => {
            let mut staged = json::stage(&p, &config, links, progress)?;
            let files = std::mem::take(&mut staged.tree);
            let contents = Contents::Tree { root: p, files };
            (staged.db.clone(), Some(staged), contents)
        }
    };
    let snapshot = Snapshot::pin(&path)?;
    let (mut model, schema_records) = {
        let conn = snapshot.connection();
        let model = introspect::introspect(&conn, &path)?;
        let records = match contents {
            Contents::Sqlite(_) => carried::source_records(&conn).map_err(schema_error)?,
            Contents::Tree { .. } => None,
        };
        (model, records)
    };
    if schema_records.is_some() {
        model
            .tables
            .retain(|t| t.name != crate::migrations::SQLITE_TABLE);
    }
    skips::apply(&config, &mut model).map_err(RunError::Usage)?;
    progress.phase("scan");
    let stats = scan_all(&snapshot, &model, jobs, progress)?;
    for (t, st) in model.tables.iter_mut().zip(&stats) {
        for (fkid, o) in &st.orphans {
            if let Some(fk) = t.foreign_keys.iter_mut().find(|f| f.id == *fkid) {
                fk.orphans = Some(o.clone());
            }
        }
    }
    let (summary, staging) = match staged {
        Some(s) => (Some(s.summary), Some(s.dir)),
        None => (None, None),
    };
    let mut plan = build(
        &model,
        &stats,
        PlanOptions {
            source: source.to_string(),
            schema: schema.to_string(),
            orphans,
            config,
            repair,
            chunk_rows: opts.chunk_rows,
            json: summary,
        },
    )
    .map_err(|e| RunError::Usage(e.to_string()))?;
    plan.schema_migrations = schema_records.as_ref().map(Vec::len);
    Ok(Prepared {
        snapshot,
        model,
        plan,
        staging,
        contents,
        schema_records,
    })
}

fn scan_all(
    snapshot: &Snapshot,
    model: &SourceSchema,
    jobs: usize,
    progress: &dyn Progress,
) -> Result<Vec<scan::TableStats>, RunError> {
    let results = pool::map(model.tables.len(), jobs, &|i| {
        let t = &model.tables[i];
        let probes: Vec<_> = t
            .columns
            .iter()
            .map(|c| probe(&hint(&c.declared_type)))
            .collect();
        progress.table_start(&t.name, 0);
        let r = scan::scan_table(snapshot, t, &probes, &|rows| {
            progress.table_advance(&t.name, rows, 0)
        });
        progress.table_done(&t.name);
        r
    });
    results
        .into_iter()
        .map(|r| r.map_err(RunError::from))
        .collect()
}

pub struct MigrateRequest {
    pub jobs: usize,
    /// `--if-exists`, when given; [`resolve`] picks the default for the source.
    pub if_exists: Option<IfExists>,
    pub rejects: PathBuf,
    /// Verify after the load (the default); false for `--no-verify`.
    pub verify: bool,
    /// `--adopt`: existing tables pgcarry did not create that `--if-exists` may act on.
    pub adopt: Vec<String>,
    /// `--cascade`: `--if-exists drop` also drops objects pgcarry did not create.
    pub cascade: bool,
    /// `--lock-wait`: how long to wait for another run that holds the target schema's lock
    /// (zero: fail at once).
    pub lock_wait: std::time::Duration,
}

/// The run's settings, every default resolved once: what the executor is told, complete. A
/// JSON store upserts into existing tables unless `--if-exists` says otherwise (it is migrated
/// again as it grows); a SQLite file refuses them.
pub fn resolve(prepared: &Prepared, target: &ConnSettings, req: &MigrateRequest) -> MigrateOptions {
    MigrateOptions {
        jobs: req.jobs,
        if_exists: IfExists::resolve(req.if_exists, prepared.staging.is_some()),
        rejects: req.rejects.clone(),
        target: target.redacted(),
        verify: req.verify,
        adopt: req.adopt.clone(),
        cascade: req.cascade,
    }
}

/// Every `--adopt` names a table of the plan (as the plan names it in the target).
fn check_adopt(plan: &Plan, adopt: &[String]) -> Result<(), RunError> {
    let known = |t: &String| plan.table(t).is_some() || plan.views.iter().any(|v| &v.name == t);
    match adopt.iter().find(|t| !known(t)) {
        None => Ok(()),
        Some(t) => {
            let names: Vec<&str> = plan.tables.iter().map(|t| t.name.as_str()).collect();
            Err(RunError::Usage(format!(
                "--adopt {t}: the plan has no table or view {t:?}; its tables are {}",
                names.join(", ")
            )))
        }
    }
}

/// Connects to `target` and checks that its database can hold every value (its encoding is
/// UTF8), before anything is written; the connection's own error otherwise.
pub fn check_target(target: &ConnSettings) -> Result<(), RunError> {
    let mut client = target.connect()?;
    let encoding = crate::postgres::catalog::server_encoding(&mut client)
        .map_err(|e| RunError::Other(format!("could not read the target's encoding: {e}")))?;
    if encoding != "UTF8" {
        return Err(RunError::Usage(format!(
            "the target database {} has the encoding {encoding}, which cannot hold every text \
             value exactly; nothing was written. Migrate into a UTF8 database: \
             CREATE DATABASE name ENCODING 'UTF8' TEMPLATE template0",
            target.redacted()
        )));
    }
    Ok(())
}

/// Executes a prepared plan against `target`: says where it writes, takes the target schema's
/// run lock (waiting up to `req.lock_wait` for another run), runs the plan on connections that
/// each hold their part of the lock, and releases it.
pub fn migrate(
    prepared: &Prepared,
    target: &ConnSettings,
    req: &MigrateRequest,
    progress: &dyn Progress,
) -> Result<Report, RunError> {
    // Every output and the target are checked before the first write.
    check_adopt(&prepared.plan, &req.adopt)?;
    check_output(&req.rejects, "rejects file")?;
    check_target(target)?;
    let schema = &prepared.plan.schema;
    // It may come from DATABASE_URL or a .env file: say where, before anything is written.
    progress.message(&format!("target: {}, schema {schema}", target.location()));
    let lock = RunLock::acquire(target, schema, req.lock_wait, progress)?;
    let records = match &prepared.schema_records {
        Some(r) => {
            Some(carried::check(target, r.clone(), req.lock_wait, progress).map_err(schema_error)?)
        }
        None => None,
    };
    let connect = || lock.connect();
    let opts = resolve(prepared, target, req);
    let mut report = crate::carry::execute::migrate(
        &prepared.plan,
        &prepared.model,
        &prepared.snapshot,
        &connect,
        &opts,
        progress,
    )?;
    if let Some(records) = records {
        report.schema_migrations = Some(carry_records(records, &report)?);
    }
    drop(lock);
    Ok(report)
}

/// `schema`'s refusals stop the run before anything is written (exit 2); the rest exit 1.
fn schema_error(e: SchemaError) -> RunError {
    match e {
        SchemaError::Refused(s) | SchemaError::Usage(s) => RunError::Usage(s),
        SchemaError::Lock(l) => RunError::Lock(l),
        SchemaError::Failed(s) => RunError::Other(s),
    }
}

/// Records the source's applied migrations in the target, unless a table failed to load
/// (then the next run, which resumes, records them); the sentence for the report.
fn carry_records(records: carried::Carry, report: &Report) -> Result<String, RunError> {
    if report.outcome() == crate::model::outcome::Outcome::Failed {
        return Ok("not carried, as a table failed to load; the next run records them".into());
    }
    let written = records.write().map_err(schema_error)?;
    Ok(format!(
        "{written} applied migration(s) recorded in pgcarry.schema_migrations (as baseline: \
         carried, not run); the records already there were left alone"
    ))
}

/// `pgcarry verify`: checks an existing migration in `target` against the prepared source.
pub fn verify(
    prepared: &Prepared,
    target: &ConnSettings,
    jobs: usize,
    progress: &dyn Progress,
) -> Result<Report, RunError> {
    drop(target.connect()?);
    let connect = || target.connect().map_err(|e| e.to_string());
    Ok(crate::carry::verify::verify_existing(
        &crate::carry::verify::Inputs {
            plan: &prepared.plan,
            model: &prepared.model,
            snapshot: &prepared.snapshot,
            connect: &connect,
            jobs,
        },
        target.redacted(),
        progress,
    ))
}

/// A throw-away local PostgreSQL for `rehearse`, on `port` or one the kernel hands out.
pub fn start_cluster(port: Option<u16>) -> Result<LocalCluster, RunError> {
    Ok(LocalCluster::start(&ClusterOptions {
        fsync: false,
        watch_parent: true,
        extra_settings: vec![("max_wal_size".into(), "4GB".into())],
        port,
    })?)
}

/// The sample database path inside `dir`, generated at `scale`.
pub fn generate_sample(dir: &Path, scale: u32) -> Result<PathBuf, RunError> {
    let path = dir.join(format!("ielts-bot-sample-x{scale}.db"));
    crate::sample::generate(
        &path,
        &crate::sample::SampleOptions {
            scale,
            ..Default::default()
        },
    )
    .map_err(|e| RunError::Other(format!("could not generate the sample database: {e}")))?;
    Ok(path)
}
