//! The manifest: what a dump holds, computed from the dump's own snapshot, as JSON beside it
//! (`NAME.dump` + `NAME.manifest.json`). A dump without a manifest is not a backup.

use super::BackupError;
pub use super::encrypt::Encryption;
use super::files;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The `format` field every pgcarry manifest carries: retention touches nothing without it.
pub const FORMAT: &str = "pgcarry-backup-manifest";

/// One table's content in the snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableSum {
    pub schema: String,
    pub name: String,
    pub rows: u64,
    /// 32 hex digits: the wrapping sum of every row's xxh3-128 (pgcarry's content checksum).
    pub checksum: String,
}

/// A sequence's position.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SequencePos {
    pub schema: String,
    pub name: String,
    pub last_value: i64,
    pub is_called: bool,
}

/// An installed extension.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Extension {
    pub name: String,
    pub version: String,
    pub schema: String,
}

/// Everything a backup claims, and the proof of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub name: String,
    /// The dump's file name, beside the manifest.
    pub dump_file: String,
    /// RFC 3339, UTC, when the snapshot was taken.
    pub created_at: String,
    pub database: String,
    /// `pg_control_system()`'s identifier of the source cluster (with `database`, what a
    /// scratch database must not be).
    pub system_identifier: String,
    pub server_version: String,
    pub server_version_num: u32,
    pub pg_dump_version: String,
    pub schemas: Vec<String>,
    pub dump_bytes: u64,
    pub dump_sha256: String,
    pub seconds: f64,
    pub tables: Vec<TableSum>,
    pub sequences: Vec<SequencePos>,
    pub extensions: Vec<Extension>,
    /// When `backup verify` last restored it and found every checksum identical.
    #[serde(default)]
    pub verified_at: Option<String>,
    /// Set when the dump is encrypted (`NAME.dump.age`): the format and the recipients' public
    /// keys. `dump_bytes` and `dump_sha256` are of the encrypted file on disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
}

impl Manifest {
    /// The server's major version (`150018` gives 15).
    pub fn server_major(&self) -> u32 {
        self.server_version_num / 10_000
    }

    /// The major version of the pg_dump that wrote the dump.
    pub fn pg_dump_major(&self) -> u32 {
        crate::postgres::tools::parse_major(&self.pg_dump_version).unwrap_or(0)
    }
}

/// `DIR/NAME.manifest.json` for `DIR/NAME.dump`, `DIR/NAME.dump.age` (or the manifest itself).
pub fn path_for(dump: &Path) -> PathBuf {
    let name = dump
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".dump.age")
        .or_else(|| name.strip_suffix(".dump"))
        .or_else(|| name.strip_suffix(".manifest.json"))
        .unwrap_or(&name);
    dump.with_file_name(format!("{stem}.manifest.json"))
}

/// Reads a manifest; `None` for a JSON file that is not a pgcarry manifest.
pub fn read(path: &Path) -> Result<Manifest, BackupError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        BackupError::Failed(format!(
            "cannot read the manifest {}: {e} (a dump without its manifest is not a pgcarry backup)",
            path.display()
        ))
    })?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
        BackupError::Failed(format!("{} is not a pgcarry manifest: {e}", path.display()))
    })?;
    if manifest.format != FORMAT {
        return Err(BackupError::Failed(format!(
            "{} is not a pgcarry manifest (format {:?})",
            path.display(),
            manifest.format
        )));
    }
    Ok(manifest)
}

/// Writes the manifest atomically: `.partial`, fsync, rename, fsync of the directory.
pub fn write(path: &Path, manifest: &Manifest) -> Result<(), BackupError> {
    let json = serde_json::to_string_pretty(manifest)
        .map_err(|e| BackupError::Failed(format!("serialise the manifest: {e}")))?;
    let partial = files::partial_of(path);
    std::fs::write(&partial, json + "\n")
        .map_err(|e| BackupError::Failed(format!("write {}: {e}", partial.display())))?;
    files::commit(&partial, path)
}
