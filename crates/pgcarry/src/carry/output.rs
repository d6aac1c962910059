//! Outputs proven writable before the first write: a run checks its rejects file and its JSON
//! report when it starts, so a missing directory or a read-only file is a usage error naming
//! the path, never a failure found after tables were committed. Creates nothing that stays:
//! the rejects file still appears only with its first rejected row.

use std::path::{Path, PathBuf};

/// Checks that `path` (the `what`: "rejects file", "report") can be written: an existing file
/// opens for appending (nothing is truncated); otherwise its directory exists and a temporary
/// file can be created in it (and is removed at once).
pub fn check_writable(path: &Path, what: &str) -> Result<(), String> {
    let cannot = |why: String| format!("cannot write the {what} {}: {why}", path.display());
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.is_dir() {
            return Err(cannot("it is a directory".into()));
        }
        return std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop)
            .map_err(|e| cannot(e.to_string()));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(cannot(format!(
            "the directory {} does not exist",
            dir.display()
        )));
    }
    tempfile::Builder::new()
        .prefix(".pgcarry-check-")
        .tempfile_in(&dir)
        .map(drop)
        .map_err(|e| cannot(format!("{}: {e}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_checked_without_being_created() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("r.ndjson");
        check_writable(&new, "rejects file").unwrap();
        assert!(!new.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        std::fs::write(&new, "kept\n").unwrap();
        check_writable(&new, "rejects file").unwrap();
        assert_eq!(std::fs::read_to_string(&new).unwrap(), "kept\n");
        let missing = dir.path().join("nowhere/r.ndjson");
        let err = check_writable(&missing, "rejects file").unwrap_err();
        assert!(
            err.contains("nowhere/r.ndjson") && err.contains("does not exist"),
            "{err}"
        );
        assert!(check_writable(dir.path(), "report").is_err());
    }
}
