//! `export --to-json DIR`: a JSON store pgcarry migrated, written back as files.
//!
//! The store's tables are exported first, as `export` does (one snapshot, every table proven
//! against PostgreSQL), into a temporary SQLite file shaped as the staged store was; the
//! migration's recipe (`json::recipe`, kept in `pgcarry.sources`) then says how their rows
//! make documents and where each document's file goes (`json::assemble`). The files are
//! written under `DIR.partial` and proven as staging proves a store (`json::proof`): every
//! leaf of every written document against the rows. Only then is `DIR.partial` renamed to DIR.

use super::{ExportError, ExportReport, ExportRequest};
use crate::json::{assemble, proof, recipe};
use crate::model::outcome::Outcome;
use crate::model::source_record::SourceRecord;
use crate::postgres::conn::ConnSettings;
use crate::work::progress::Progress;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Marks a `DIR.partial` as pgcarry's, so that a run after a crash may remove it.
const MARKER: &str = ".pgcarry-partial";

/// The recipe of the store migrated into `schema`, and the PostgreSQL names of its tables.
pub fn store_tables(
    records: &[(String, SourceRecord)],
    schema: &str,
) -> Result<(serde_json::Value, Vec<String>), ExportError> {
    let kept = records.iter().find_map(|(_, r)| r.store.as_ref());
    let Some((value, recipe)) = kept.and_then(|v| Some((v, recipe::parse(v)?))) else {
        return Err(ExportError::Usage(format!(
            "schema {schema:?} holds no JSON store that pgcarry migrated (pgcarry.sources has \
             no record of one, or one from another version of pgcarry); `pgcarry export` \
             without --to-json writes its tables into a SQLite file"
        )));
    };
    let mut names = Vec::new();
    for t in &recipe.layout.tables {
        let Some((name, _)) = records.iter().find(|(_, r)| r.source_name == t.name) else {
            return Err(ExportError::Usage(format!(
                "table {:?} of the JSON store migrated into schema {schema:?} is gone (or \
                 has no record in pgcarry.sources): its documents cannot be written without it",
                t.name
            )));
        };
        names.push(name.clone());
    }
    Ok((value.clone(), names))
}

/// Where to write the store.
#[derive(Debug, Clone)]
pub struct JsonExportRequest {
    pub schema: String,
    pub dir: PathBuf,
    /// Replace an existing directory DIR (only once the new one is proven).
    pub force: bool,
    pub jobs: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectionWritten {
    pub name: String,
    pub documents: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JsonExportReport {
    pub dir: String,
    /// Where the store is: DIR when proven, the partial directory when the proof failed, none
    /// when the tables could not be exported.
    pub written: Option<String>,
    pub collections: Vec<CollectionWritten>,
    pub files: u64,
    /// Why the written documents do not hold the rows, when they do not.
    pub proof: Option<String>,
    pub seconds: f64,
    /// The export of the store's tables from PostgreSQL (into a temporary SQLite file).
    pub tables: ExportReport,
}

impl JsonExportReport {
    pub fn outcome(&self) -> Outcome {
        match self.tables.outcome() {
            Outcome::Success if self.proof.is_some() => Outcome::Differences,
            o => o,
        }
    }

    pub fn render(&self) -> String {
        if self.tables.outcome() != Outcome::Success {
            return format!(
                "{}\nthe store's tables did not export; {} was not written\n",
                self.tables.render().trim_end(),
                self.dir
            );
        }
        let mut o = String::new();
        let w = crate::model::plan::widest(self.collections.iter().map(|c| c.name.as_str()));
        let _ = writeln!(o, "{:w$}  {:>10}", "collection", "documents");
        for c in &self.collections {
            let _ = writeln!(o, "{:w$}  {:>10}", c.name, c.documents);
        }
        let rows: u64 = self.tables.tables.iter().map(|t| t.rows).sum();
        let _ = writeln!(
            o,
            "\n{} table(s), {rows} row(s) read from one snapshot and proven; {} file(s) written",
            self.tables.tables.len(),
            self.files
        );
        let _ = match (&self.proof, &self.written) {
            (None, _) => writeln!(o, "{}: exported and verified", self.dir),
            (Some(why), written) => writeln!(
                o,
                "the written documents DIFFER from PostgreSQL's rows (exit 3): {why}\n{} was \
                 not written; the files are left in {} for inspection",
                self.dir,
                written.as_deref().unwrap_or("-")
            ),
        };
        o
    }
}

/// Exports the JSON store migrated into `req.schema` into the directory `req.dir`.
pub fn export_json(
    source: &ConnSettings,
    req: &JsonExportRequest,
    progress: &dyn Progress,
) -> Result<JsonExportReport, ExportError> {
    let started = Instant::now();
    let partial = check_dir(req)?;
    let parent = parent_of(&req.dir);
    let tmp = tempfile::Builder::new()
        .prefix(".pgcarry-export-")
        .tempdir_in(&parent)
        .map_err(|e| failed("make a temporary directory in", &parent, &e))?;
    let db = tmp.path().join("store.db");
    let tables = super::export(
        source,
        &ExportRequest {
            schema: req.schema.clone(),
            tables: Vec::new(),
            out: db.clone(),
            force: false,
            strict: false,
            jobs: req.jobs,
            json_store: true,
        },
        progress,
    )?;
    let mut report = JsonExportReport {
        dir: req.dir.display().to_string(),
        written: None,
        collections: Vec::new(),
        files: 0,
        proof: None,
        seconds: 0.0,
        tables,
    };
    if report.tables.outcome() != Outcome::Success {
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    let recipe = report
        .tables
        .plan
        .json_store
        .as_ref()
        .and_then(recipe::parse)
        .ok_or_else(|| ExportError::Failed("the JSON store's recipe was lost (a bug)".into()))?;
    std::fs::create_dir(&partial).map_err(|e| failed("create", &partial, &e))?;
    std::fs::write(partial.join(MARKER), b"").map_err(|e| failed("write in", &partial, &e))?;
    progress.phase("export: write the documents");
    let written = assemble::write_store(&db, &recipe, &partial)
        .map_err(|e| ExportError::Failed(e.to_string()))?;
    report.files = written.files;
    report.collections = recipe
        .collections
        .iter()
        .zip(&written.documents)
        .map(|(c, &documents)| CollectionWritten {
            name: c.name.clone(),
            documents,
        })
        .collect();
    progress.phase("export: prove every document");
    report.proof = proof::check(&db, &written.store, &recipe.layout)
        .err()
        .map(|e| e.to_string());
    report.written = Some(partial.display().to_string());
    if report.proof.is_none() {
        std::fs::remove_file(partial.join(MARKER)).map_err(|e| failed("finish", &partial, &e))?;
        sync_tree(&partial)?;
        put_in_place(&partial, &req.dir, req.force)?;
        report.written = Some(report.dir.clone());
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn failed(what: &str, path: &Path, e: &std::io::Error) -> ExportError {
    ExportError::Failed(format!("cannot {what} {}: {e}", path.display()))
}

fn parent_of(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Checks DIR (absent, or a directory with `--force`) and clears a partial directory an
/// interrupted run left; returns the partial directory's path.
fn check_dir(req: &JsonExportRequest) -> Result<PathBuf, ExportError> {
    let dir = &req.dir;
    if dir.exists() && !dir.is_dir() {
        return Err(ExportError::Usage(format!(
            "{} exists and is not a directory; pgcarry writes a JSON store into a new directory",
            dir.display()
        )));
    }
    if dir.exists() && !req.force {
        return Err(ExportError::Usage(format!(
            "{} exists; pgcarry never overwrites a directory without --force (the new one \
             replaces it only once it is proven)",
            dir.display()
        )));
    }
    if !parent_of(dir).is_dir() {
        return Err(ExportError::Usage(format!(
            "the directory of {} does not exist",
            dir.display()
        )));
    }
    let mut name = dir.as_os_str().to_os_string();
    name.push(".partial");
    let partial = PathBuf::from(name);
    if partial.exists() {
        if !partial.join(MARKER).exists() {
            return Err(ExportError::Usage(format!(
                "{} exists and pgcarry did not make it; move it away and run again",
                partial.display()
            )));
        }
        std::fs::remove_dir_all(&partial)
            .map_err(|e| failed("remove an earlier partial directory", &partial, &e))?;
    }
    Ok(partial)
}

/// Syncs every directory of the written tree (the files were synced as they were written).
fn sync_tree(dir: &Path) -> Result<(), ExportError> {
    let entries = std::fs::read_dir(dir).map_err(|e| failed("read", dir, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| failed("read", dir, &e))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            sync_tree(&entry.path())?;
        }
    }
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed("sync", dir, &e))
}

/// Renames the proven `partial` to `dir`; with `force`, an existing `dir` is moved aside first
/// and removed after.
fn put_in_place(partial: &Path, dir: &Path, force: bool) -> Result<(), ExportError> {
    let mut aside = None;
    if force && dir.exists() {
        let mut name = dir.as_os_str().to_os_string();
        name.push(".replaced");
        let old = PathBuf::from(name);
        std::fs::rename(dir, &old).map_err(|e| failed("move aside", dir, &e))?;
        aside = Some(old);
    }
    std::fs::rename(partial, dir).map_err(|e| failed("rename into place", dir, &e))?;
    if let Some(old) = aside {
        std::fs::remove_dir_all(&old).map_err(|e| failed("remove the replaced", &old, &e))?;
    }
    let parent = parent_of(dir);
    std::fs::File::open(&parent)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed("sync", &parent, &e))
}
