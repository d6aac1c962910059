//! `pgcarry schema`: one directory of versioned SQL migrations for SQLite and PostgreSQL alike.
//! A file (`VERSION_name.sql`) holds an `up` and a `down` section, with dialect blocks for the
//! statements that differ; the database records what was applied (with a checksum of the
//! normalised file) in a table of its own. The rules live here and in [`status`] and `run`;
//! what differs per engine sits behind the [`engine::Engine`] trait (`pg`, `lite`).
//!
//! It owns only its record table (`pgcarry.schema_migrations`, `pgcarry_schema_migrations`)
//! and runs only the SQL of the user's files; it knows nothing of carry, export or backup.

pub mod carried;
mod engine;
mod file;
mod lite;
mod pg;
mod run;
mod split;
mod status;
mod target;

pub use lite::TABLE as SQLITE_TABLE;
pub use run::{Unfinished, UpOptions, baseline, down, repair, up};
pub use status::{Kind, Status};
pub use target::Database;

use crate::model::outcome::ExitStatus;
use crate::postgres::lock::LockError;
use crate::work::progress::Progress;
use engine::Engine;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The SQL dialect a section is run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Sqlite => "sqlite",
        }
    }
}

/// Which database, which directory, how long to wait for another writer.
#[derive(Debug, Clone)]
pub struct Request {
    pub database: Database,
    pub dir: PathBuf,
    /// PostgreSQL: how long to wait for the advisory lock; SQLite: the busy timeout.
    pub lock_wait: Duration,
}

/// What a command did: one line per migration, warnings, the SQL of a dry run, and the
/// version the database is at after it.
#[derive(Debug, Clone, Default)]
pub struct Done {
    pub lines: Vec<String>,
    pub warnings: Vec<String>,
    pub sql: String,
    pub version: Option<i64>,
}

impl Done {
    fn warn(&mut self, progress: &dyn Progress, text: String) {
        progress.message(&format!("warning: {text}"));
        self.warnings.push(text);
    }
}

/// Why a `schema` command did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The command is wrong (exit 2): a bad `--db`, a missing directory, an unknown version.
    #[error("{0}")]
    Usage(String),
    /// The directory or the records say it must not run (exit 1): lint errors, a modified or
    /// unfinished migration, one out of order, tables without a baseline.
    #[error("{0}")]
    Refused(String),
    /// Another process holds the lock (exit 1).
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A statement or the database failed (exit 1); the message says what was rolled back.
    #[error("{0}")]
    Failed(String),
}

impl SchemaError {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            SchemaError::Usage(_) => ExitStatus::Usage,
            _ => ExitStatus::Failure,
        }
    }
}

impl From<file::DirError> for SchemaError {
    fn from(e: file::DirError) -> SchemaError {
        match e {
            file::DirError::Missing(_) => SchemaError::Usage(e.to_string()),
            file::DirError::Read { .. } => SchemaError::Failed(e.to_string()),
        }
    }
}

/// The engine of `req.database`: to write (PostgreSQL: the lock taken; SQLite: the file
/// created if missing) or to read (a SQLite file that does not exist reads as empty).
fn open(
    req: &Request,
    write: bool,
    progress: &dyn Progress,
) -> Result<Box<dyn Engine>, SchemaError> {
    let engine: Box<dyn Engine> = match &req.database {
        Database::Sqlite(path) if !write && !path.exists() => {
            Box::new(lite::Lite::empty().map_err(SchemaError::Failed)?)
        }
        Database::Sqlite(path) => {
            Box::new(lite::Lite::open(path, write, req.lock_wait).map_err(SchemaError::Failed)?)
        }
        Database::Postgres(settings) if write => {
            Box::new(pg::Pg::write(settings, req.lock_wait, progress)?)
        }
        Database::Postgres(settings) => Box::new(pg::Pg::read(settings).map_err(|e| {
            SchemaError::Failed(format!("cannot connect to {}: {e}", settings.location()))
        })?),
    };
    Ok(engine)
}

/// The refusal to `what` with a directory that holds files that do not parse.
fn lint_refusal(dir: &file::Directory, what: &str) -> SchemaError {
    let mut s = format!(
        "refusing to {what}: the migrations directory has files that do not parse \
         (`pgcarry schema status` lists them):"
    );
    for f in dir.findings.iter().filter(|f| f.error) {
        let place = f.line.map_or(String::new(), |l| format!(":{l}"));
        let _ = write!(s, "\n  {}{place}: {}", f.file, f.message);
    }
    SchemaError::Refused(s)
}

/// Compares the directory with the database's records; writes nothing.
pub fn status(req: &Request, progress: &dyn Progress) -> Result<Status, SchemaError> {
    let dir = file::read_dir(&req.dir)?;
    let mut engine = open(req, false, progress)?;
    let records = run::applied(engine.as_mut())?;
    let needs_baseline = if records.is_empty() {
        engine.user_tables().map_err(SchemaError::Failed)?
    } else {
        Vec::new()
    };
    let mut status = Status {
        database: req.database.location(),
        engine: engine.dialect().name(),
        directory: req.dir.display().to_string(),
        version: run::newest(&records),
        migrations: status::compare(&dir, &records),
        findings: dir.findings,
        needs_baseline,
        ok: true,
    };
    status.judge();
    Ok(status)
}

/// Writes `dir/VERSION_name.sql` (VERSION: `now` as YYYYMMDDHHMMSS, one more if taken) with
/// empty `up` and `down` sections; creates `dir` if missing.
pub fn new_migration(dir: &Path, name: &str, now: jiff::Timestamp) -> Result<PathBuf, SchemaError> {
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Err(SchemaError::Usage(format!(
            "{name:?} is not a migration name: use letters, digits and _ (e.g. add_search)"
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| SchemaError::Failed(format!("could not create {}: {e}", dir.display())))?;
    let stamp = now
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y%m%d%H%M%S")
        .to_string();
    let mut version: i64 = stamp
        .parse()
        .map_err(|_| SchemaError::Failed(format!("a version from the clock: {stamp}")))?;
    let taken: Vec<i64> = file::read_dir(dir)
        .map(|d| d.migrations.iter().map(|m| m.version).collect())
        .unwrap_or_default();
    while taken.contains(&version) {
        version += 1;
    }
    let path = dir.join(format!("{version}_{name}.sql"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| SchemaError::Failed(format!("could not create {}: {e}", path.display())))?;
    std::io::Write::write_all(&mut f, file::SKELETON.as_bytes())
        .map_err(|e| SchemaError::Failed(format!("could not write {}: {e}", path.display())))?;
    Ok(path)
}
