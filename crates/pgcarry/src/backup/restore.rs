//! `restore`: the dump into a database with the installed `pg_restore`, then the restored data
//! compared with the manifest (as `verify` does) and the sequences set as recorded. A target
//! that already holds tables is refused unless the user asks for `--clean`.

use super::archive::Archive;
use super::dump::{Server, libpq_command, server};
use super::manifest::{self, Manifest, SequencePos};
use super::{BackupError, content, files};
use crate::postgres::conn::ConnSettings;
use crate::postgres::error::describe_pg_error;
use crate::postgres::ident::{qualified, quote_literal};
use crate::postgres::tools::{self, Tool};
use crate::work::progress::Progress;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What `restore` is asked to do.
#[derive(Debug, Clone)]
pub struct RestoreRequest {
    pub dump: PathBuf,
    pub target: ConnSettings,
    /// Drop the target's objects of the same names first (`pg_restore --clean --if-exists`).
    pub clean: bool,
    pub jobs: usize,
    /// This pg_restore instead of the newest installed one.
    pub pg_restore: Option<PathBuf>,
    /// The age identity file that decrypts an encrypted dump.
    pub identity: Option<PathBuf>,
}

/// What a restore (or a verification) found.
#[derive(Debug)]
pub struct RestoreReport {
    pub manifest: Manifest,
    /// Tables whose rows or checksum differ from the manifest (empty: identical).
    pub differences: Vec<String>,
    pub warnings: Vec<String>,
    pub rows: u64,
}

/// The manifest of `dump`, after checking the dump's size and SHA-256 against it.
pub fn checked_manifest(dump: &Path) -> Result<Manifest, BackupError> {
    let manifest = manifest::read(&manifest::path_for(dump))?;
    let (bytes, sha) = files::sha256(dump)?;
    if bytes != manifest.dump_bytes || sha != manifest.dump_sha256 {
        return Err(BackupError::Failed(format!(
            "{} is not the dump its manifest describes: {bytes} bytes with SHA-256 {sha}, the \
             manifest records {} bytes with SHA-256 {} (the file was changed or truncated)",
            dump.display(),
            manifest.dump_bytes,
            manifest.dump_sha256
        )));
    }
    Ok(manifest)
}

/// A pg_restore that reads the dump's archive version, after `pg_restore --list` read it.
pub fn listed_restore_tool(
    archive: &Archive,
    manifest: &Manifest,
    explicit: Option<&Path>,
) -> Result<Tool, BackupError> {
    let tool = tools::find("pg_restore", explicit, manifest.pg_dump_major(), "dump")?;
    let mut cmd = Command::new(&tool.path);
    cmd.arg("--list").stdin(Stdio::null());
    let out = archive.run(cmd)?;
    if !out.status.success() {
        return Err(BackupError::Failed(format!(
            "pg_restore --list cannot read {}: {}",
            archive.path().display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(tool)
}

/// Runs `pg_restore` of `archive` into `target` with `extra` arguments.
pub fn run_pg_restore(
    tool: &Tool,
    archive: &Archive,
    target: &ConnSettings,
    extra: &[String],
) -> Result<(), BackupError> {
    let mut cmd = Command::new(&tool.path);
    cmd.args(["--exit-on-error", "--no-owner"])
        .args(extra)
        .arg(format!("--dbname={}", target.dbname()));
    let out = archive.run(libpq_command(cmd, target))?;
    if !out.status.success() {
        return Err(BackupError::Failed(format!(
            "pg_restore into {} failed ({}): {}",
            target.location(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// The tables of `target` (the manifest's schemas) compared with the manifest: the tables
/// that differ, the rows read, and warnings for sequences missing or behind the manifest's
/// position. A sequence ahead of it is expected: PostgreSQL keeps no snapshot of a sequence, so
/// pg_dump reads a position later than the snapshot's (and a live database moves on).
pub fn compare(
    target: &ConnSettings,
    manifest: &Manifest,
    jobs: usize,
    warnings: &mut Vec<String>,
) -> Result<(Vec<String>, u64), BackupError> {
    let mut client = content::reader(target, None)?;
    let tables = content::tables(&mut client, &manifest.schemas)?;
    let sequences = content::sequences(&mut client, &manifest.schemas)?;
    let descending: Vec<(String, String)> = client
        .query(
            "SELECT schemaname::text, sequencename::text FROM pg_sequences WHERE increment_by < 0",
            &[],
        )
        .map_err(|e| BackupError::Failed(format!("list the sequences: {}", describe_pg_error(&e))))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    drop(client);
    for s in &manifest.sequences {
        let up = !descending.contains(&(s.schema.clone(), s.name.clone()));
        match sequences
            .iter()
            .find(|f| f.schema == s.schema && f.name == s.name)
        {
            None => warnings.push(format!("sequence {}.{} is missing", s.schema, s.name)),
            Some(f) if behind(f, s, up) => warnings.push(format!(
                "sequence {}.{} is at {} (is_called {}), behind the manifest's {} (is_called \
                 {}): new rows could take keys the backup's rows hold; `restore` sets every \
                 sequence as recorded",
                s.schema, s.name, f.last_value, f.is_called, s.last_value, s.is_called
            )),
            Some(_) => {}
        }
    }
    let found = content::sum_tables(target, None, &tables, jobs)?;
    let rows = found.iter().map(|t| t.rows).sum();
    Ok((content::differences(&manifest.tables, &found), rows))
}

/// Whether `found` would hand out a value `recorded` already handed out (`up`: ascending).
fn behind(found: &SequencePos, recorded: &SequencePos, up: bool) -> bool {
    let key = |p: &SequencePos| {
        let v = i128::from(p.last_value);
        (if up { v } else { -v }, p.is_called)
    };
    key(found) < key(recorded)
}

/// Whether the database holds tables, views or sequences of its own.
pub fn has_relations(target: &ConnSettings) -> Result<bool, BackupError> {
    let mut client = target.connect()?;
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' \
             AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')",
            &[],
        )
        .map_err(|e| BackupError::Failed(describe_pg_error(&e)))?;
    Ok(row.get::<_, i64>(0) > 0)
}

/// The server's identity, and a warning when its major version is not the backup's.
pub fn target_server(
    target: &ConnSettings,
    manifest: &Manifest,
    warnings: &mut Vec<String>,
) -> Result<Server, BackupError> {
    let server = server(&mut target.connect()?)?;
    if server.version_num / 10_000 != manifest.server_major() {
        warnings.push(format!(
            "the backup is of PostgreSQL {}, {} runs {}: check the application against it",
            manifest.server_version,
            target.location(),
            server.version
        ));
    }
    Ok(server)
}

/// Sets every sequence to the position the manifest recorded.
fn set_sequences(target: &ConnSettings, manifest: &Manifest) -> Result<(), BackupError> {
    let mut client = target.connect()?;
    for s in &manifest.sequences {
        let sql = format!(
            "SELECT setval({}::regclass, {}, {})",
            quote_literal(&qualified(&s.schema, &s.name)),
            s.last_value,
            s.is_called
        );
        client.query_one(&sql, &[]).map_err(|e| {
            BackupError::Failed(format!(
                "set sequence {}.{}: {}",
                s.schema,
                s.name,
                describe_pg_error(&e)
            ))
        })?;
    }
    Ok(())
}

/// Restores `request.dump` into `request.target` and verifies it against the manifest.
pub fn restore(
    request: &RestoreRequest,
    progress: &dyn Progress,
) -> Result<RestoreReport, BackupError> {
    let manifest = checked_manifest(&request.dump)?;
    let archive = Archive::open(&request.dump, &manifest, request.identity.as_deref())?;
    let tool = listed_restore_tool(&archive, &manifest, request.pg_restore.as_deref())?;
    let mut warnings = Vec::new();
    target_server(&request.target, &manifest, &mut warnings)?;
    if !request.clean && has_relations(&request.target)? {
        return Err(BackupError::Usage(format!(
            "{} already holds tables: restore into an empty database, or add --clean to drop \
             the objects the backup holds first",
            request.target.location()
        )));
    }
    let mut extra = Vec::new();
    if archive.parallel() {
        extra.push(format!("--jobs={}", request.jobs.max(1)));
    } else if request.jobs > 1 {
        progress.message(
            "the dump is encrypted: pg_restore reads it decrypted from a pipe, with one job \
             (--jobs sets only the connections that compute checksums)",
        );
    }
    if request.clean {
        extra.extend(["--clean".to_string(), "--if-exists".to_string()]);
    }
    progress.message(&format!(
        "restore {} into {} with {}",
        request.dump.display(),
        request.target.location(),
        tool.version
    ));
    run_pg_restore(&tool, &archive, &request.target, &extra)?;
    set_sequences(&request.target, &manifest)?;
    let (differences, rows) = compare(&request.target, &manifest, request.jobs, &mut warnings)?;
    Ok(RestoreReport {
        manifest,
        differences,
        warnings,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::{SequencePos, behind};

    fn at(last_value: i64, is_called: bool) -> SequencePos {
        SequencePos {
            schema: "public".into(),
            name: "s".into(),
            last_value,
            is_called,
        }
    }

    #[test]
    fn a_sequence_is_behind_only_when_it_would_repeat_a_value() {
        assert!(behind(&at(99, true), &at(100, true), true));
        assert!(behind(&at(100, false), &at(100, true), true));
        assert!(!behind(&at(100, true), &at(100, true), true));
        assert!(!behind(&at(101, true), &at(100, true), true));
        // Descending: -5 comes after -4.
        assert!(!behind(&at(-5, true), &at(-4, true), false));
        assert!(behind(&at(-3, true), &at(-4, true), false));
        assert!(!behind(&at(i64::MIN, true), &at(i64::MAX, true), false));
    }
}
