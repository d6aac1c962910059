//! JSON document stores as a source: a directory tree of JSON files, NDJSON files, files
//! holding one array, or one dump whose top-level keys are collections. The store is staged
//! into a temporary SQLite database with a faithful, deterministic flattening (declared types
//! as hints for the SQLite pipeline's decisions), then proven lossless by re-reading every
//! document; everything after that is the SQLite pipeline, unchanged. Source files are only
//! ever opened for reading.

pub mod assemble;
pub mod discover;
pub mod flatten;
pub mod layout;
pub mod name;
pub mod number;
pub mod pattern;
pub mod proof;
pub mod read;
pub mod recipe;
pub mod stage;
pub mod stats;
pub mod storage;
mod store;

pub use store::{Links, TreeFile};

use crate::model::config::Config;
use crate::model::json::{CollectionSummary, JsonSummary};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not stage the JSON documents into a temporary SQLite database: {0}")]
    Stage(#[from] rusqlite::Error),
    #[error("{path} changed while pgcarry was reading it; run again when the store is quiet")]
    Changed { path: String },
    #[error(
        "the staged rows do not hold every value of {path} ({detail}); nothing was written (a bug in pgcarry; please report it with the file)"
    )]
    Proof { path: String, detail: String },
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Bug(String),
}

/// A store staged into SQLite: the database lives as long as `dir`.
pub struct Staged {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub summary: JsonSummary,
    /// The files discovery walked: what `--backup` archives.
    pub tree: Vec<TreeFile>,
}

/// True when `path` is a directory, or a file that is not SQLite and looks like JSON.
pub fn looks_like_json(path: &Path) -> bool {
    if path.is_dir() {
        return true;
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if matches!(ext.as_deref(), Some("json" | "ndjson" | "jsonl")) {
        return true;
    }
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    let text = head[..n]
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&head[..n]);
    matches!(
        text.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// Discovers, stages and proves a store; the staged database is ready for the SQLite pipeline.
pub fn stage(
    source: &Path,
    config: &Config,
    links: Links,
    progress: &dyn crate::work::progress::Progress,
) -> Result<Staged, JsonError> {
    progress.phase("JSON: find the documents");
    let mut store = discover::discover(source, config, links)?;
    if store.collections.is_empty() && store.problems.is_empty() {
        return Err(JsonError::Config(format!(
            "{} holds no JSON documents (.json, .ndjson or .jsonl files){}",
            source.display(),
            if store.ignored.is_empty() {
                String::new()
            } else {
                format!("; {} other file(s) were ignored", store.ignored.len())
            }
        )));
    }
    progress.phase("JSON: read every document for the layout");
    let layout = layout::infer(&mut store)?;
    let dir = tempfile::Builder::new()
        .prefix("pgcarry-json-")
        .tempdir()
        .map_err(|source| JsonError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
    let db = dir.path().join("staged.db");
    progress.phase("JSON: stage the rows");
    stage::write(&db, &store, &layout)?;
    progress.phase("JSON: prove every value was staged");
    proof::check(&db, &store, &layout)?;
    let collections = store
        .collections
        .iter()
        .zip(&layout.collections)
        .map(|(c, l)| CollectionSummary {
            table: layout.tables[l.table].name.clone(),
            origin: c.origin(),
            documents: l.documents,
            key: l.key_reason.clone(),
        })
        .collect();
    let recipe = serde_json::to_value(recipe::recipe(&store, &layout))
        .map_err(|e| JsonError::Bug(format!("the store's recipe: {e}")))?;
    let summary = JsonSummary {
        recipe: Some(recipe),
        collections,
        ignored: store.ignored.clone(),
        not_loaded: store.problems.clone(),
        widened: layout.widened.clone(),
        null_and_absent: layout.null_and_absent.clone(),
    };
    Ok(Staged {
        dir,
        db,
        summary,
        tree: store.tree,
    })
}
