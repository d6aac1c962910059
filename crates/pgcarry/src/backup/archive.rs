//! The dump as `pg_restore` reads it: a plain archive it opens itself, or an age-encrypted one
//! decrypted as a stream into its stdin (never to disk). Reading from a pipe, pg_restore
//! cannot seek, so an encrypted dump restores with one job.

use super::BackupError;
use super::encrypt::{Encryption, Identities, identities_for};
use super::manifest::Manifest;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A backup's dump, ready to be given to pg_restore.
pub enum Archive {
    Plain(PathBuf),
    Encrypted {
        path: PathBuf,
        encryption: Encryption,
        identities: Identities,
    },
}

impl Archive {
    /// `dump` as its manifest describes it; an encrypted one needs `identity`, and is
    /// refused here, before anything runs, when none of its keys decrypts it.
    pub fn open(
        dump: &Path,
        manifest: &Manifest,
        identity: Option<&Path>,
    ) -> Result<Self, BackupError> {
        let Some(encryption) = &manifest.encryption else {
            return Ok(Archive::Plain(dump.to_path_buf()));
        };
        let identities = identities_for(dump, encryption, identity)?;
        identities.decrypt(dump, encryption)?;
        Ok(Archive::Encrypted {
            path: dump.to_path_buf(),
            encryption: encryption.clone(),
            identities,
        })
    }

    /// The dump's file.
    pub fn path(&self) -> &Path {
        match self {
            Archive::Plain(path) | Archive::Encrypted { path, .. } => path,
        }
    }

    /// Whether pg_restore can read it with several jobs (it must seek in the file).
    pub fn parallel(&self) -> bool {
        matches!(self, Archive::Plain(_))
    }

    /// Runs `cmd` (a pg_restore with its options) on the archive and collects its output.
    pub fn run(&self, mut cmd: Command) -> Result<Output, BackupError> {
        let started = |e: std::io::Error| BackupError::Failed(format!("run pg_restore: {e}"));
        let (path, plain) = match self {
            Archive::Plain(path) => return cmd.arg(path).output().map_err(started),
            Archive::Encrypted {
                path,
                encryption,
                identities,
            } => (path, identities.decrypt(path, encryption)?),
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(started)?;
        let feeding = child.stdin.take().map(|stdin| {
            let path = path.clone();
            std::thread::spawn(move || feed(plain, stdin, &path))
        });
        let out = child
            .wait_with_output()
            .map_err(|e| BackupError::Failed(format!("wait for pg_restore: {e}")))?;
        let fed = feeding.map_or(Ok(()), |t| {
            t.join()
                .unwrap_or_else(|_| Err(BackupError::Failed("the decryption stopped".into())))
        });
        // pg_restore may stop reading early (--list, or an error it reports itself).
        if out.status.success() {
            fed.map(|()| out)
        } else {
            fed.and(Ok(out))
        }
    }
}

/// Copies the decrypted archive into pg_restore's stdin; pg_restore closing it is not an error.
fn feed(mut plain: impl Read, mut stdin: impl Write, path: &Path) -> Result<(), BackupError> {
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match plain.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(BackupError::Failed(format!(
                    "decrypt {}: {e} (the file was changed or truncated)",
                    path.display()
                )));
            }
        };
        match stdin.write_all(&buf[..n]) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => {
                return Err(BackupError::Failed(format!(
                    "write to pg_restore's stdin: {e}"
                )));
            }
        }
    }
}
