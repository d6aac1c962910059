//! `backup`: lock the directory, clean what a crashed run left, export a snapshot, run the
//! installed `pg_dump -Fc --snapshot` on it while the manifest is computed from the same
//! snapshot, then put the dump and (last) its manifest in place, and only then apply retention.

use super::content::{self, TableSpec};
use super::encrypt::{self, Recipients};
use super::manifest::{self, FORMAT, Manifest};
use super::retention::{self, Retention};
use super::{BackupError, files};
use crate::postgres::conn::ConnSettings;
use crate::postgres::error::describe_pg_error;
use crate::postgres::tools::{self, Tool};
use crate::work::progress::Progress;
use postgres::Client;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What `backup` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct BackupRequest {
    pub dir: PathBuf,
    /// Only these schemas (every user schema when empty).
    pub schemas: Vec<String>,
    /// Connections summing tables while pg_dump runs.
    pub jobs: usize,
    /// How long to wait for another backup into the same directory.
    pub lock_wait: Duration,
    /// pg_dump's own `--lock-wait-timeout` for its table locks.
    pub lock_wait_timeout: Option<String>,
    /// This pg_dump instead of the newest installed one.
    pub pg_dump: Option<PathBuf>,
    pub retention: Retention,
    /// Encrypt the dump with age to these public keys (`age1…`) or files of them, one a line;
    /// the dump is then `NAME.dump.age`. Empty: not encrypted.
    pub encrypt_to: Vec<String>,
}

/// What a successful backup wrote and removed.
#[derive(Debug)]
pub struct BackupOutcome {
    pub dump: PathBuf,
    pub manifest_path: PathBuf,
    pub manifest: Manifest,
    /// Backups deleted by retention (their dumps).
    pub deleted: Vec<PathBuf>,
}

/// The source server as the manifest names it.
pub struct Server {
    pub version: String,
    pub version_num: u32,
    pub system_identifier: String,
    pub database: String,
}

/// The server's version and identity (the identifier is empty when the role may not read it).
pub fn server(client: &mut Client) -> Result<Server, BackupError> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), \
             current_setting('server_version_num')::int, current_database()::text",
            &[],
        )
        .map_err(|e| {
            BackupError::Failed(format!(
                "read the server version: {}",
                describe_pg_error(&e)
            ))
        })?;
    let system_identifier = client
        .query_one(
            "SELECT system_identifier::text FROM pg_control_system()",
            &[],
        )
        .map(|r| r.get::<_, String>(0))
        .unwrap_or_default();
    Ok(Server {
        version: row.get(0),
        version_num: u32::try_from(row.get::<_, i32>(1)).unwrap_or(0),
        system_identifier,
        database: row.get(2),
    })
}

/// `DB-YYYYMMDDTHHMMSSZ`, with `-N` added if a backup of that name exists already.
fn unique_name(dir: &Path, database: &str, at: jiff::Timestamp) -> String {
    let db: String = database
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = format!("{db}-{}", at.strftime("%Y%m%dT%H%M%SZ"));
    let taken = |n: &str| {
        ["dump", "dump.age", "manifest.json"]
            .iter()
            .any(|ext| dir.join(format!("{n}.{ext}")).exists())
    };
    let mut name = stem.clone();
    let mut n = 1;
    while taken(&name) {
        name = format!("{stem}-{n}");
        n += 1;
    }
    name
}

/// Opens a read-only repeatable-read transaction and exports its snapshot.
fn export_snapshot(client: &mut Client) -> Result<String, BackupError> {
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .and_then(|()| client.query_one("SELECT pg_export_snapshot()", &[]))
        .map(|r| r.get(0))
        .map_err(|e| BackupError::Failed(format!("export a snapshot: {}", describe_pg_error(&e))))
}

/// Takes a backup of `source` into `request.dir`, then applies retention.
pub fn backup(
    source: &ConnSettings,
    request: &BackupRequest,
    progress: &dyn Progress,
) -> Result<BackupOutcome, BackupError> {
    let dir = &request.dir;
    let recipients = Recipients::parse(&request.encrypt_to)?;
    let recipients = (!recipients.is_empty()).then_some(recipients);
    std::fs::create_dir_all(dir)
        .map_err(|e| BackupError::Failed(format!("create {}: {e}", dir.display())))?;
    let _lock = files::lock(dir, request.lock_wait)?;
    for stale in files::remove_stale_partials(dir)? {
        progress.message(&format!(
            "removed {}, left by an earlier backup that did not finish",
            stale.display()
        ));
    }
    let started = Instant::now();
    let mut exporter = source.connect()?;
    let server = server(&mut exporter)?;
    let pg_dump = tools::find(
        "pg_dump",
        request.pg_dump.as_deref(),
        server.version_num / 10_000,
        "server",
    )?;
    let snapshot = export_snapshot(&mut exporter)?;
    let created = jiff::Timestamp::now();
    let name = unique_name(dir, &server.database, created);
    let dump_file = match recipients {
        Some(_) => format!("{name}.dump.age"),
        None => format!("{name}.dump"),
    };
    let dump = dir.join(&dump_file);
    let partial = files::partial_of(&dump);
    let client = &mut exporter;
    let tables = content::tables(client, &request.schemas)?;
    let sequences = content::sequences(client, &request.schemas)?;
    let extensions = content::extensions(client)?;
    progress.message(&format!(
        "dump {} ({} tables) with {} into {}",
        server.database,
        tables.len(),
        pg_dump.version,
        dump.display()
    ));
    let to = Output {
        partial: &partial,
        recipients: recipients.as_ref(),
    };
    let sums = dump_and_sum(source, request, &pg_dump, &snapshot, &tables, &to);
    let _ = exporter.batch_execute("COMMIT");
    let sums = match sums {
        Ok(sums) => sums,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    let (dump_bytes, dump_sha256) = files::sha256(&partial)?;
    files::commit(&partial, &dump)?;
    let manifest = Manifest {
        format: FORMAT.into(),
        version: 1,
        name: name.clone(),
        dump_file,
        created_at: created.to_string(),
        database: server.database,
        system_identifier: server.system_identifier,
        server_version: server.version,
        server_version_num: server.version_num,
        pg_dump_version: pg_dump.version,
        schemas: request.schemas.clone(),
        dump_bytes,
        dump_sha256,
        seconds: started.elapsed().as_secs_f64(),
        tables: sums,
        sequences,
        extensions,
        verified_at: None,
        encryption: recipients.as_ref().map(Recipients::record),
    };
    let manifest_path = manifest::path_for(&dump);
    manifest::write(&manifest_path, &manifest)?;
    let deleted = retention::apply(dir, &request.retention, progress)?;
    Ok(BackupOutcome {
        dump,
        manifest_path,
        manifest,
        deleted,
    })
}

/// Where pg_dump's archive goes: `partial` itself, or through the age encryptor into it.
struct Output<'a> {
    partial: &'a Path,
    recipients: Option<&'a Recipients>,
}

/// Runs pg_dump on `snapshot` into `to` while the tables are summed from the same snapshot;
/// a failure of either (or of the encryption) is the backup's failure.
fn dump_and_sum(
    source: &ConnSettings,
    request: &BackupRequest,
    pg_dump: &Tool,
    snapshot: &str,
    tables: &[TableSpec],
    to: &Output,
) -> Result<Vec<super::manifest::TableSum>, BackupError> {
    let mut cmd = Command::new(&pg_dump.path);
    cmd.arg("--format=custom")
        .arg(format!("--snapshot={snapshot}"));
    if to.recipients.is_none() {
        cmd.arg("--file").arg(to.partial);
    }
    if let Some(t) = &request.lock_wait_timeout {
        cmd.arg(format!("--lock-wait-timeout={t}"));
    }
    for schema in &request.schemas {
        cmd.arg(format!("--schema={schema}"));
    }
    let mut cmd = libpq_command(cmd, source);
    if to.recipients.is_some() {
        cmd.stdout(Stdio::piped());
    }
    let mut child = cmd
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| BackupError::Failed(format!("run {}: {e}", pg_dump.path.display())))?;
    // The archive on pg_dump's stdout is encrypted on its way to disk, never written plain.
    let encrypting = to.recipients.zip(child.stdout.take()).map(|(r, out)| {
        let (r, partial) = (r.clone(), to.partial.to_path_buf());
        std::thread::spawn(move || encrypt::encrypt_into(out, &partial, &r))
    });
    let sums = content::sum_tables(source, Some(snapshot), tables, request.jobs);
    if sums.is_err() {
        let _ = child.kill();
    }
    let out = child
        .wait_with_output()
        .map_err(|e| BackupError::Failed(format!("wait for pg_dump: {e}")))?;
    let written = encrypting.map_or(Ok(()), |t| {
        t.join()
            .unwrap_or_else(|_| Err(BackupError::Failed("the encryption stopped".into())))
    });
    if !out.status.success() {
        let also = written.err().map(|e| format!(" ({e})")).unwrap_or_default();
        return Err(BackupError::Failed(format!(
            "pg_dump failed ({}); no backup was written: {}{also}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    written?;
    sums
}

/// `cmd` connecting to `target` through libpq's environment (never the command line): the
/// caller's own `PG*` variables are removed first, so only `target`'s settings apply.
pub fn libpq_command(mut cmd: Command, target: &ConnSettings) -> Command {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(target.libpq_env()).stdin(Stdio::null());
    cmd
}
