//! `--backup FILE.tar.gz`: a gzip-compressed tar of exactly what is migrated, written
//! in-process (no system `tar`). A SQLite source is archived as a consistent copy of the pinned
//! snapshot, made with SQLite's online backup API (so a table committed only in the `-wal` is
//! in it), never as the raw files; a JSON store as the files discovery walked, each loaded one
//! checked against the hash it was read with, links out of the store left out unless they were
//! followed. The archive is written to `NAME.partial`, synced, then moved into place: never
//! over an existing file, never through a symbolic link, never inside the source.

use crate::json::TreeFile;
use crate::sqlite::Snapshot;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the backup {0} already exists; pgcarry never overwrites one: give a new name")]
    Exists(PathBuf),
    #[error(
        "the backup {0} is a symbolic link; pgcarry never writes through one: give the real path"
    )]
    Link(PathBuf),
    #[error("{0} is left from an interrupted backup; remove it, or give the backup another name")]
    Partial(PathBuf),
    #[error("the backup {0} would be written inside the source it archives: put it elsewhere")]
    InsideSource(PathBuf),
    #[error("the backup must be a .tar.gz file (got {0})")]
    Name(PathBuf),
    #[error("cannot write the backup {out}: {message}")]
    Place { out: PathBuf, message: String },
    /// The archive itself failed (a source file vanished or changed, a disk error): exit 1.
    #[error("could not archive {source_path} into {out}: {message}")]
    Write {
        source_path: PathBuf,
        out: PathBuf,
        message: String,
    },
}

impl BackupError {
    /// True for what the user fixes by changing the command (exit 2); a failure while
    /// archiving is not.
    pub fn is_usage(&self) -> bool {
        !matches!(self, BackupError::Write { .. })
    }
}

/// A backup path that was checked before anything was read or written.
#[derive(Debug, Clone)]
pub struct Destination {
    out: PathBuf,
    partial: PathBuf,
    dir: PathBuf,
}

impl Destination {
    pub fn path(&self) -> &Path {
        &self.out
    }
}

/// What a prepared source archives.
pub enum Contents {
    /// The pinned snapshot of the SQLite file at this path.
    Sqlite(PathBuf),
    /// A JSON store (a directory or one file) and the files discovery walked.
    Tree { root: PathBuf, files: Vec<TreeFile> },
}

/// Checks `out` before the source is read: a `.tar.gz` name, nothing there yet (not even a
/// dangling link), an existing directory outside the source.
pub fn check(source: &Path, out: &Path) -> Result<Destination, BackupError> {
    let name = out.file_name().unwrap_or_default();
    let lower = name.to_string_lossy().to_lowercase();
    if !(lower.ends_with(".tar.gz") || lower.ends_with(".tgz")) {
        return Err(BackupError::Name(out.to_path_buf()));
    }
    if let Ok(meta) = std::fs::symlink_metadata(out) {
        if meta.is_symlink() {
            return Err(BackupError::Link(out.to_path_buf()));
        }
        return Err(BackupError::Exists(out.to_path_buf()));
    }
    let place = |message: String| BackupError::Place {
        out: out.to_path_buf(),
        message,
    };
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = dir
        .canonicalize()
        .map_err(|e| place(format!("{}: {e}", dir.display())))?;
    if !dir.is_dir() {
        return Err(place(format!("{} is not a directory", dir.display())));
    }
    let source_abs = source
        .canonicalize()
        .map_err(|e| place(format!("cannot read the source {}: {e}", source.display())))?;
    if source_abs.is_dir() && dir.starts_with(&source_abs) {
        return Err(BackupError::InsideSource(out.to_path_buf()));
    }
    let mut partial_name = name.to_os_string();
    partial_name.push(".partial");
    let partial = dir.join(partial_name);
    if std::fs::symlink_metadata(&partial).is_ok() {
        return Err(BackupError::Partial(partial));
    }
    Ok(Destination {
        out: dir.join(name),
        partial,
        dir,
    })
}

/// Writes the archive of `contents` (`snapshot` is the pinned SQLite source); returns its
/// size in bytes. The partial file is removed when anything fails.
pub fn write(
    dest: &Destination,
    contents: &Contents,
    snapshot: &Snapshot,
) -> Result<u64, BackupError> {
    let source_path = match contents {
        Contents::Sqlite(p) => p.clone(),
        Contents::Tree { root, .. } => root.clone(),
    };
    let fail = |message: String| BackupError::Write {
        source_path: source_path.clone(),
        out: dest.out.clone(),
        message,
    };
    // create_new: never through a link, never over a file that appeared since the check.
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(&dest.partial)
        .map_err(|e| fail(format!("{}: {e}", dest.partial.display())))?;
    let written = fill(file, contents, snapshot)
        .map_err(fail)
        .and_then(|()| put_in_place(dest));
    if written.is_err() {
        let _ = std::fs::remove_file(&dest.partial);
    }
    written?;
    std::fs::metadata(&dest.out)
        .map(|m| m.len())
        .map_err(|e| BackupError::Write {
            source_path: source_path.clone(),
            out: dest.out.clone(),
            message: e.to_string(),
        })
}

/// Writes the compressed tar into `file` and syncs it.
fn fill(file: File, contents: &Contents, snapshot: &Snapshot) -> Result<(), String> {
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    match contents {
        Contents::Sqlite(path) => add_sqlite(&mut tar, path, snapshot)?,
        Contents::Tree { root, files } => add_tree(&mut tar, root, files)?,
    }
    let gz = tar.into_inner().map_err(|e| e.to_string())?;
    let mut file = gz.finish().map_err(|e| e.to_string())?;
    file.flush().map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())
}

/// The pinned snapshot, copied page by page in one step of the online backup API inside the
/// snapshot's own read transaction, archived under the source file's name.
fn add_sqlite<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &Path,
    snapshot: &Snapshot,
) -> Result<(), String> {
    let scratch = tempfile::Builder::new()
        .prefix("pgcarry-backup-")
        .tempdir()
        .map_err(|e| format!("a temporary directory: {e}"))?;
    let copy = scratch.path().join("copy.db");
    {
        let reader = snapshot.reader().map_err(|e| e.to_string())?;
        let mut out = rusqlite::Connection::open(&copy).map_err(|e| e.to_string())?;
        let backup = rusqlite::backup::Backup::new(&reader, &mut out).map_err(|e| e.to_string())?;
        // Busy or Locked would be a lock on the destination, ours alone: a bounded wait.
        let mut waits = 0;
        loop {
            match backup.step(-1).map_err(|e| e.to_string())? {
                rusqlite::backup::StepResult::Done => break,
                rusqlite::backup::StepResult::More => {}
                _ if waits < 500 => {
                    waits += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                _ => return Err("the copy of the snapshot stayed locked for 10 s".into()),
            }
        }
    }
    let name = path
        .file_name()
        .unwrap_or(std::ffi::OsStr::new("source.db"));
    tar.append_path_with_name(&copy, name)
        .map_err(|e| e.to_string())
}

/// Every walked file under the store's own name, read again and, for a loaded document,
/// refused if it changed since it was read.
fn add_tree<W: Write>(
    tar: &mut tar::Builder<W>,
    root: &Path,
    files: &[TreeFile],
) -> Result<(), String> {
    let resolved = root.canonicalize().map_err(|e| e.to_string())?;
    let top = if resolved.is_dir() {
        resolved.file_name().map(PathBuf::from).unwrap_or_default()
    } else {
        PathBuf::new()
    };
    for f in files {
        let bytes = crate::json::read::read_tree_file(f).map_err(|e| e.to_string())?;
        let meta = std::fs::metadata(&f.path).map_err(|e| format!("{}: {e}", f.path.display()))?;
        let mut header = tar::Header::new_gnu();
        header.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(bytes.len() as u64);
        tar.append_data(&mut header, top.join(&f.rel), bytes.as_slice())
            .map_err(|e| format!("{}: {e}", f.rel.display()))?;
    }
    Ok(())
}

/// Moves the synced partial file to its name, refusing to replace anything that appeared
/// there meanwhile, and syncs the directory.
fn put_in_place(dest: &Destination) -> Result<(), BackupError> {
    let fail = |message: String| BackupError::Place {
        out: dest.out.clone(),
        message,
    };
    match std::fs::hard_link(&dest.partial, &dest.out) {
        Ok(()) => {
            std::fs::remove_file(&dest.partial).map_err(|e| fail(e.to_string()))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(BackupError::Exists(dest.out.clone()));
        }
        // A file system without hard links: check again, then rename.
        Err(_) => {
            if std::fs::symlink_metadata(&dest.out).is_ok() {
                return Err(BackupError::Exists(dest.out.clone()));
            }
            std::fs::rename(&dest.partial, &dest.out).map_err(|e| fail(e.to_string()))?;
        }
    }
    File::open(&dest.dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| fail(format!("sync {}: {e}", dest.dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// The entries of a .tar.gz: name and content.
    fn entries(path: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let gz = flate2::read::GzDecoder::new(File::open(path).unwrap());
        let mut archive = tar::Archive::new(gz);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let mut bytes = Vec::new();
                e.read_to_end(&mut bytes).unwrap();
                (e.path().unwrap().into_owned(), bytes)
            })
            .collect()
    }

    fn pinned_empty(dir: &Path) -> Snapshot {
        let db = dir.join("empty.db");
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch("CREATE TABLE x (a)")
            .unwrap();
        Snapshot::pin(&db).unwrap()
    }

    #[test]
    fn json_backup_archives_the_walked_files_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("store");
        std::fs::create_dir_all(src.join("data/u1")).unwrap();
        std::fs::write(src.join("data/u1/c.json"), "{}").unwrap();
        let files = vec![TreeFile {
            rel: PathBuf::from("data/u1/c.json"),
            path: src.join("data/u1/c.json"),
            hash: None,
        }];
        let contents = Contents::Tree {
            root: src.clone(),
            files,
        };
        let snapshot = pinned_empty(dir.path());
        let out = dir.path().join("store.tar.gz");
        let dest = check(&src, &out).unwrap();
        assert!(write(&dest, &contents, &snapshot).unwrap() > 0);
        assert_eq!(
            entries(&out),
            [(PathBuf::from("store/data/u1/c.json"), b"{}".to_vec())]
        );
        assert!(!dest.partial.exists());
        assert!(matches!(check(&src, &out), Err(BackupError::Exists(_))));
        assert!(matches!(
            check(&src, &src.join("b.tar.gz")),
            Err(BackupError::InsideSource(_))
        ));
        assert!(matches!(
            check(&src, &dir.path().join("b.zip")),
            Err(BackupError::Name(_))
        ));
        let nowhere = dir.path().join("nowhere/b.tar.gz");
        assert!(matches!(
            check(&src, &nowhere),
            Err(BackupError::Place { .. })
        ));
    }

    #[test]
    fn a_backup_onto_a_dangling_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.json");
        std::fs::write(&src, "[]").unwrap();
        let link = dir.path().join("b.tar.gz");
        std::os::unix::fs::symlink(dir.path().join("target.tar.gz"), &link).unwrap();
        assert!(matches!(check(&src, &link), Err(BackupError::Link(_))));
        assert!(!dir.path().join("target.tar.gz").exists());
    }

    #[test]
    fn a_file_vanishing_mid_archive_is_a_failure_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("store");
        std::fs::create_dir_all(&src).unwrap();
        let contents = Contents::Tree {
            root: src.clone(),
            files: vec![TreeFile {
                rel: PathBuf::from("gone.json"),
                path: src.join("gone.json"),
                hash: Some(1),
            }],
        };
        let snapshot = pinned_empty(dir.path());
        let out = dir.path().join("s.tar.gz");
        let dest = check(&src, &out).unwrap();
        let err = write(&dest, &contents, &snapshot).unwrap_err();
        assert!(!err.is_usage(), "{err}");
        assert!(!out.exists() && !dest.partial.exists());
    }

    #[test]
    fn a_wal_database_is_archived_with_what_only_the_wal_holds() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let app = rusqlite::Connection::open(&db).unwrap();
        app.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE only_in_wal (x); INSERT INTO only_in_wal VALUES (1), (2);",
        )
        .unwrap();
        let snapshot = Snapshot::pin(&db).unwrap();
        // Committed after the pin: not in the archive, as it is not migrated.
        app.execute("INSERT INTO only_in_wal VALUES (3)", [])
            .unwrap();
        let out = dir.path().join("w.tar.gz");
        let dest = check(&db, &out).unwrap();
        write(&dest, &Contents::Sqlite(db.clone()), &snapshot).unwrap();
        let got = entries(&out);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, PathBuf::from("w.db"));
        let copy = dir.path().join("copy.db");
        std::fs::write(&copy, &got[0].1).unwrap();
        let n: i64 = rusqlite::Connection::open(&copy)
            .unwrap()
            .query_row("SELECT count(*) FROM only_in_wal", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }
}
