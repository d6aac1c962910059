//! The backup directory's files: the per-directory lock, `.partial` files made durable and
//! renamed into place, stale partials of a crashed run, and the dump's SHA-256. Nothing here
//! talks to a server.

use super::BackupError;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The lock file every `backup` into a directory holds while it runs.
pub const LOCK_FILE: &str = ".pgcarry-backup.lock";

/// `PATH.partial`.
pub fn partial_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn failed(what: &str, path: &Path, e: &std::io::Error) -> BackupError {
    BackupError::Failed(format!("{what} {}: {e}", path.display()))
}

/// Makes `partial` durable and renames it to `target`, then makes the rename durable.
pub fn commit(partial: &Path, target: &Path) -> Result<(), BackupError> {
    File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed("fsync", partial, &e))?;
    std::fs::rename(partial, target).map_err(|e| failed("rename into place", target, &e))?;
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty());
    File::open(dir.unwrap_or(Path::new(".")))
        .and_then(|d| d.sync_all())
        .map_err(|e| failed("fsync the directory of", target, &e))
}

/// Removes the `.partial` files a crashed or killed run left in `dir`; returns their paths.
pub fn remove_stale_partials(dir: &Path) -> Result<Vec<PathBuf>, BackupError> {
    let mut removed = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| failed("read the directory", dir, &e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if [
            ".dump.partial",
            ".dump.age.partial",
            ".manifest.json.partial",
        ]
        .iter()
        .any(|suffix| name.ends_with(suffix))
        {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| failed("remove the stale", &path, &e))?;
            removed.push(path);
        }
    }
    removed.sort();
    Ok(removed)
}

/// The file's size and SHA-256 (hex).
pub fn sha256(path: &Path) -> Result<(u64, String), BackupError> {
    let mut file = File::open(path).map_err(|e| failed("open", path, &e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| failed("read", path, &e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((bytes, hex))
}

/// The directory's lock, held until dropped (the kernel releases it when the process dies).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

/// Takes `DIR/.pgcarry-backup.lock`, waiting up to `wait` for another run to finish.
pub fn lock(dir: &Path, wait: Duration) -> Result<DirLock, BackupError> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| failed("open the lock file", &path, &e))?;
    let deadline = Instant::now() + wait;
    loop {
        // SAFETY: flock on a file descriptor this function owns; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(DirLock { _file: file });
        }
        if Instant::now() >= deadline {
            return Err(BackupError::Failed(format!(
                "another pgcarry backup into {} is running (it holds {}); nothing was written. \
                 Wait for it with --lock-wait DURATION",
                dir.display(),
                path.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::{lock, remove_stale_partials};
    use std::time::Duration;

    #[test]
    fn stale_partials_go_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "a.dump.partial",
            "a.manifest.json.partial",
            "c.dump.age.partial",
            "b.dump",
            "notes.partial",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let removed = remove_stale_partials(dir.path()).unwrap();
        assert_eq!(removed.len(), 3);
        assert!(dir.path().join("b.dump").exists());
        assert!(dir.path().join("notes.partial").exists());
    }

    #[test]
    fn a_held_lock_refuses_the_second_taker() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path(), Duration::ZERO).unwrap();
        let second = lock(dir.path(), Duration::from_millis(300));
        assert!(second.unwrap_err().to_string().contains("--lock-wait"));
        drop(first);
        assert!(lock(dir.path(), Duration::ZERO).is_ok());
    }
}
