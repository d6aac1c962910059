//! `--backup FILE.tar.gz`: the source (a JSON store's directory tree, or one file) archived
//! with the system's `tar` before anything else reads it, so a person can always go back to
//! exactly what was migrated. Never overwrites a file and never writes inside the source.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the backup {0} already exists; pgcarry never overwrites one: give a new name")]
    Exists(PathBuf),
    #[error("the backup {0} would be written inside the source it archives: put it elsewhere")]
    InsideSource(PathBuf),
    #[error("the backup must be a .tar.gz file (got {0})")]
    Name(PathBuf),
    #[error("could not archive {source_path} into {out}: {message}")]
    Tar {
        source_path: PathBuf,
        out: PathBuf,
        message: String,
    },
}

/// Archives `source` into `out` (gzip-compressed tar); returns the archive's size in bytes.
pub fn archive(source: &Path, out: &Path) -> Result<u64, BackupError> {
    let name = out.file_name().map(|n| n.to_string_lossy().to_lowercase());
    if !name.is_some_and(|n| n.ends_with(".tar.gz") || n.ends_with(".tgz")) {
        return Err(BackupError::Name(out.to_path_buf()));
    }
    if out.exists() {
        return Err(BackupError::Exists(out.to_path_buf()));
    }
    let tar_error = |message: String| BackupError::Tar {
        source_path: source.to_path_buf(),
        out: out.to_path_buf(),
        message,
    };
    let source_abs = source
        .canonicalize()
        .map_err(|e| tar_error(e.to_string()))?;
    let out_dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let out_dir = out_dir
        .canonicalize()
        .map_err(|e| tar_error(format!("{}: {e}", out_dir.display())))?;
    if source_abs.is_dir() && out_dir.starts_with(&source_abs) {
        return Err(BackupError::InsideSource(out.to_path_buf()));
    }
    let (parent, base) = match (source_abs.parent(), source_abs.file_name()) {
        (Some(p), Some(b)) => (p.to_path_buf(), b.to_os_string()),
        _ => return Err(tar_error("the source has no name to archive".into())),
    };
    let out_abs = out_dir.join(out.file_name().unwrap_or_default());
    let result = Command::new("tar")
        .arg("-czf")
        .arg(&out_abs)
        .arg("-C")
        .arg(&parent)
        .arg("--")
        .arg(&base)
        .output()
        .map_err(|e| tar_error(format!("could not run tar: {e}")))?;
    if !result.status.success() {
        let _ = std::fs::remove_file(&out_abs);
        return Err(tar_error(
            String::from_utf8_lossy(&result.stderr).trim().to_string(),
        ));
    }
    std::fs::metadata(&out_abs)
        .map(|m| m.len())
        .map_err(|e| tar_error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_backup_archives_the_tree_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("store");
        std::fs::create_dir_all(src.join("data/u1")).unwrap();
        std::fs::write(src.join("data/u1/c.json"), "{}").unwrap();
        let out = dir.path().join("store.tar.gz");
        assert!(archive(&src, &out).unwrap() > 0);
        let list = Command::new("tar").arg("-tzf").arg(&out).output().unwrap();
        let list = String::from_utf8_lossy(&list.stdout);
        assert!(list.contains("store/data/u1/c.json"), "{list}");
        assert!(matches!(archive(&src, &out), Err(BackupError::Exists(_))));
        let inside = src.join("b.tar.gz");
        assert!(matches!(
            archive(&src, &inside),
            Err(BackupError::InsideSource(_))
        ));
        assert!(matches!(
            archive(&src, &dir.path().join("b.zip")),
            Err(BackupError::Name(_))
        ));
    }
}
