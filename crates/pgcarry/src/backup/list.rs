//! The backups in a directory: every pgcarry manifest and whether its dump is there, complete
//! (the size the manifest records). Files without a pgcarry manifest are not backups.

use super::BackupError;
use super::manifest::{self, Manifest};
use std::path::{Path, PathBuf};

/// One backup found in a directory.
#[derive(Debug, Clone)]
pub struct Listed {
    pub manifest_path: PathBuf,
    pub dump: PathBuf,
    pub manifest: Manifest,
    /// The dump exists with the size the manifest records.
    pub complete: bool,
    pub created: Option<jiff::Timestamp>,
}

/// The backups in `dir`, oldest first.
pub fn list(dir: &Path) -> Result<Vec<Listed>, BackupError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| BackupError::Failed(format!("read {}: {e}", dir.display())))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".manifest.json") {
            continue;
        }
        let manifest_path = entry.path();
        let Ok(manifest) = manifest::read(&manifest_path) else {
            continue;
        };
        let dump = dir.join(&manifest.dump_file);
        let complete = std::fs::metadata(&dump).is_ok_and(|m| m.len() == manifest.dump_bytes);
        out.push(Listed {
            created: manifest.created_at.parse().ok(),
            manifest_path,
            dump,
            manifest,
            complete,
        });
    }
    out.sort_by(|a, b| (a.created, &a.manifest.name).cmp(&(b.created, &b.manifest.name)));
    Ok(out)
}
