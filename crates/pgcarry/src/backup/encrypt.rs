//! Encrypted backups in the age format: the recipients a dump is encrypted to (X25519 public
//! keys, `age1…`, given on the command line or in a file), the identities that decrypt it
//! (`AGE-SECRET-KEY-1…` lines of an identity file), a new key pair for `backup keygen`, and the
//! streams between them. The plaintext only ever passes through memory: pg_dump's output is
//! encrypted on its way to disk, and a dump is decrypted on its way into pg_restore's stdin.
//! Nothing here talks to a server or runs a tool.

use super::BackupError;
use age::secrecy::ExposeSecret;
use age::x25519;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The environment variable naming the identity file when `--identity` is not given.
pub const IDENTITY_ENV: &str = "PGCARRY_AGE_IDENTITY";

/// How the manifest records an encrypted dump (public keys only: it stays readable).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Encryption {
    /// `age`.
    pub format: String,
    /// The recipients' public keys (`age1…`): the identity of any of them decrypts the dump.
    pub recipients: Vec<String>,
}

/// The public keys a dump is encrypted to.
#[derive(Clone)]
pub struct Recipients(Vec<x25519::Recipient>);

impl Recipients {
    /// Each value is a public key (`age1…`) or, otherwise, a file of them: one a line,
    /// blank lines and `#` comments ignored. A key given twice counts once.
    pub fn parse(values: &[String]) -> Result<Self, BackupError> {
        let mut keys: Vec<x25519::Recipient> = Vec::new();
        for value in values {
            let found = if value.starts_with("age1") {
                vec![recipient(value, "--encrypt-to")?]
            } else {
                recipients_file(Path::new(value))?
            };
            for key in found {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        Ok(Self(keys))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// What the manifest records.
    pub fn record(&self) -> Encryption {
        Encryption {
            format: "age".into(),
            recipients: self.0.iter().map(ToString::to_string).collect(),
        }
    }
}

fn recipient(text: &str, whence: &str) -> Result<x25519::Recipient, BackupError> {
    text.parse().map_err(|e| {
        BackupError::Usage(format!(
            "{whence}: {text:?} is not an age public key ({e}): give one like age1… as \
             `pgcarry backup keygen` or `age-keygen` prints it"
        ))
    })
}

fn recipients_file(path: &Path) -> Result<Vec<x25519::Recipient>, BackupError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        BackupError::Usage(format!(
            "--encrypt-to {}: neither an age public key (age1…) nor a readable file of them: {e}",
            path.display()
        ))
    })?;
    let keys = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(i, line)| recipient(line, &format!("{} line {}", path.display(), i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(BackupError::Usage(format!(
            "--encrypt-to {}: the file holds no age public key (age1…, one a line)",
            path.display()
        )));
    }
    Ok(keys)
}

/// The secret keys of an identity file, to decrypt with.
pub struct Identities {
    path: PathBuf,
    keys: Vec<x25519::Identity>,
}

impl Identities {
    /// Reads `AGE-SECRET-KEY-1…` lines (blank lines and `#` comments ignored), as
    /// `pgcarry backup keygen` and `age-keygen` write them.
    pub fn load(path: &Path) -> Result<Self, BackupError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            BackupError::Usage(format!(
                "cannot read the age identity file {}: {e}",
                path.display()
            ))
        })?;
        let mut keys = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            keys.push(line.parse::<x25519::Identity>().map_err(|e| {
                BackupError::Usage(format!(
                    "{} line {}: not an age secret key ({e}); the file must hold \
                     AGE-SECRET-KEY-1… lines (plugin, SSH and passphrase-protected identities \
                     are not supported)",
                    path.display(),
                    i + 1
                ))
            })?);
        }
        if keys.is_empty() {
            return Err(BackupError::Usage(format!(
                "{} holds no age secret key (AGE-SECRET-KEY-1…)",
                path.display()
            )));
        }
        Ok(Self {
            path: path.to_path_buf(),
            keys,
        })
    }

    /// A reader of `dump`'s plaintext; fails before returning a byte when no key matches.
    pub fn decrypt(
        &self,
        dump: &Path,
        encryption: &Encryption,
    ) -> Result<age::stream::StreamReader<BufReader<File>>, BackupError> {
        let file = File::open(dump)
            .map_err(|e| BackupError::Failed(format!("open {}: {e}", dump.display())))?;
        let decryptor = age::Decryptor::new_buffered(BufReader::with_capacity(1 << 16, file))
            .map_err(|e| {
                BackupError::Failed(format!(
                    "{} is not an age-encrypted file: {e}",
                    dump.display()
                ))
            })?;
        let ids = self.keys.iter().map(|k| k as &dyn age::Identity);
        decryptor.decrypt(ids).map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => BackupError::Failed(format!(
                "the identity file {} cannot decrypt {}: it holds the key(s) of {}, the dump \
                 is encrypted to {}. Give --identity the secret key of one of those; nothing \
                 was restored",
                self.path.display(),
                dump.display(),
                self.public_keys().join(", "),
                encryption.recipients.join(", ")
            )),
            e => BackupError::Failed(format!("decrypt {}: {e}", dump.display())),
        })
    }

    fn public_keys(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| k.to_public().to_string())
            .collect()
    }
}

/// The identities for an encrypted dump: `identity` (`--identity`, or `PGCARRY_AGE_IDENTITY`
/// read by the command line). Without one: a usage error that says what to pass.
pub fn identities_for(
    dump: &Path,
    encryption: &Encryption,
    identity: Option<&Path>,
) -> Result<Identities, BackupError> {
    let Some(path) = identity else {
        return Err(BackupError::Usage(format!(
            "{} is encrypted (age, to {}): give --identity FILE (or set {IDENTITY_ENV}) with the \
             secret key of one of those recipients",
            dump.display(),
            encryption.recipients.join(", ")
        )));
    };
    Identities::load(path)
}

/// Encrypts everything `input` yields into `path` (created); returns once the last chunk is
/// written and flushed (the caller makes it durable).
pub fn encrypt_into(
    mut input: impl Read,
    path: &Path,
    recipients: &Recipients,
) -> Result<(), BackupError> {
    let keys = recipients.0.iter().map(|r| r as &dyn age::Recipient);
    let encryptor = age::Encryptor::with_recipients(keys)
        .map_err(|e| BackupError::Usage(format!("--encrypt-to: {e}")))?;
    let write_failed = |e: std::io::Error| {
        BackupError::Failed(format!("write the encrypted dump {}: {e}", path.display()))
    };
    let file = File::create(path).map_err(write_failed)?;
    let mut writer = encryptor
        .wrap_output(BufWriter::with_capacity(1 << 16, file))
        .map_err(write_failed)?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(BackupError::Failed(format!("read pg_dump's output: {e}")));
            }
        };
        writer.write_all(&buf[..n]).map_err(write_failed)?;
    }
    writer
        .finish()
        .and_then(|mut w| w.flush())
        .map_err(write_failed)
}

/// Writes a new identity to `out` (created, mode 0600, never over an existing file) in
/// age-keygen's layout; returns its public key.
pub fn keygen(out: &Path) -> Result<String, BackupError> {
    use std::os::unix::fs::OpenOptionsExt;
    let identity = x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => BackupError::Usage(format!(
                "{} exists: pgcarry never overwrites a key; choose another --out",
                out.display()
            )),
            _ => BackupError::Failed(format!("create {}: {e}", out.display())),
        })?;
    let text = format!(
        "# created: {}\n# public key: {public}\n{}\n",
        jiff::Timestamp::now(),
        identity.to_string().expose_secret()
    );
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| BackupError::Failed(format!("write {}: {e}", out.display())))?;
    Ok(public)
}

#[cfg(test)]
mod tests {
    use super::{Identities, Recipients, encrypt_into, keygen};
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn keygen_recipients_file_encrypt_and_decrypt() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.txt");
        let public = keygen(&key).unwrap();
        assert!(public.starts_with("age1"));
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(
            keygen(&key)
                .unwrap_err()
                .to_string()
                .contains("never overwrites")
        );

        let other = dir.path().join("other.txt");
        let other_public = keygen(&other).unwrap();
        let list = dir.path().join("recipients.txt");
        std::fs::write(&list, format!("# ops\n\n{public}\n{public}\n")).unwrap();
        let recipients =
            Recipients::parse(&[list.to_string_lossy().into_owned(), other_public]).unwrap();
        assert_eq!(recipients.record().recipients.len(), 2);

        let secret = b"a secret row".repeat(10_000);
        let file = dir.path().join("x.dump.age");
        encrypt_into(&secret[..], &file, &recipients).unwrap();
        let on_disk = std::fs::read(&file).unwrap();
        assert!(!on_disk.windows(12).any(|w| w == b"a secret row"));

        let mut plain = Vec::new();
        Identities::load(&key)
            .unwrap()
            .decrypt(&file, &recipients.record())
            .unwrap()
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, secret);

        let stranger = dir.path().join("stranger.txt");
        keygen(&stranger).unwrap();
        let err = Identities::load(&stranger)
            .unwrap()
            .decrypt(&file, &recipients.record())
            .err()
            .unwrap();
        assert!(err.to_string().contains("cannot decrypt"), "{err}");
    }

    #[test]
    fn bad_recipients_and_identities_say_what_to_give() {
        let dir = tempfile::tempdir().unwrap();
        let err = Recipients::parse(&["age1nope".into()]).err().unwrap();
        assert!(err.to_string().contains("not an age public key"), "{err}");
        let err = Recipients::parse(&["missing.txt".into()]).err().unwrap();
        assert!(
            err.to_string().contains("neither an age public key"),
            "{err}"
        );
        let bad = dir.path().join("bad.txt");
        std::fs::write(&bad, "# nothing\nAGE-SECRET-KEY-1XYZ\n").unwrap();
        let err = Identities::load(&bad).err().unwrap();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
