//! Reading a collection's records again, in the order discovery fixed: each file is re-read
//! and refused if its hash changed since discovery (a store being written to is never
//! staged half-old, half-new). A UTF-8 byte-order mark is skipped; NDJSON lines that
//! discovery reported as malformed are skipped.

use super::JsonError;
use super::store::{Collection, Kind, SourceFile};
use serde_json::Value;

/// One record of a collection, as read.
pub struct Record<'a> {
    pub file: &'a SourceFile,
    /// Line number (NDJSON, from 1) or position in the array (from 0); 0 for documents.
    pub position: i64,
    pub captures: Vec<String>,
    pub value: Value,
}

impl<'a> Record<'a> {
    fn at(file: &'a SourceFile, position: usize, captures: Vec<String>, value: Value) -> Self {
        Record {
            file,
            position: i64::try_from(position).unwrap_or(i64::MAX),
            captures,
            value,
        }
    }
}

impl Collection {
    /// Calls `f` for every record, in a deterministic order. Files are read and parsed on a
    /// thread of their own, ahead of `f` (a bounded queue keeps memory constant).
    pub fn for_each_record(
        &self,
        f: &mut dyn FnMut(Record<'_>) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Record<'_>, JsonError>>(64);
        std::thread::scope(|s| {
            let reader = s.spawn(move || {
                let stopped = || JsonError::Bug("the reader's consumer stopped".into());
                let read = self.read_records(&mut |r| tx.send(Ok(r)).map_err(|_| stopped()));
                if let Err(e) = read {
                    // Fails only when the consumer stopped first: its error is the one to tell.
                    let _ = tx.send(Err(e));
                }
            });
            let mut result = Ok(());
            for item in rx.iter() {
                if let Err(e) = item.and_then(&mut *f) {
                    result = Err(e);
                    break;
                }
            }
            drop(rx);
            if reader.join().is_err() && result.is_ok() {
                result = Err(JsonError::Bug("the JSON reader thread panicked".into()));
            }
            result
        })
    }

    fn read_records<'a>(
        &'a self,
        f: &mut dyn FnMut(Record<'a>) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        for file in &self.files {
            let bytes = read_checked(file)?;
            let text = strip_bom(&bytes);
            match &self.kind {
                Kind::Lines => {
                    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
                        if line.iter().all(u8::is_ascii_whitespace) {
                            continue;
                        }
                        // Bad lines were reported by discovery; the hash says they are the same.
                        if let Ok(value) = serde_json::from_slice::<Value>(line)
                            && !repeats_a_key(line)
                        {
                            f(Record::at(file, i + 1, Vec::new(), value))?;
                        }
                    }
                }
                _ => {
                    let value: Value =
                        serde_json::from_slice(text).map_err(|_| JsonError::Changed {
                            path: file.rel.clone(),
                        })?;
                    self.records_of(file, value, f)?;
                }
            }
        }
        Ok(())
    }

    fn records_of<'a>(
        &self,
        file: &'a SourceFile,
        value: Value,
        f: &mut dyn FnMut(Record<'a>) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        let mut each = |items: Value| -> Result<(), JsonError> {
            let Value::Array(items) = items else {
                return Ok(());
            };
            for (i, value) in items.into_iter().enumerate() {
                f(Record::at(file, i, Vec::new(), value))?;
            }
            Ok(())
        };
        match (&self.kind, value) {
            (Kind::Documents, value) => f(Record {
                file,
                position: 0,
                captures: file.captures.clone(),
                value,
            }),
            (Kind::Array, v) => each(v),
            (Kind::DumpArray(key), Value::Object(mut m)) => {
                each(m.remove(key).unwrap_or(Value::Null))
            }
            (Kind::DumpMap(key), Value::Object(mut m)) => {
                if let Some(Value::Object(records)) = m.remove(key) {
                    for (i, (k, value)) in records.into_iter().enumerate() {
                        f(Record::at(file, i, vec![k], value))?;
                    }
                }
                Ok(())
            }
            _ => Err(JsonError::Changed {
                path: file.rel.clone(),
            }),
        }
    }
}

/// Why a document that repeats a key in an object is not loaded.
pub const REPEATED_KEY: &str =
    "an object repeats a key, and only one of its values could be kept; fix the document";

/// True when an object of the document repeats a key (after unescaping): serde_json, like
/// PostgreSQL's jsonb, would keep only the last value, losing the others silently.
pub(super) fn repeats_a_key(text: &[u8]) -> bool {
    crate::formats::json::check(text).is_ok_and(|c| c.duplicate_keys)
}

pub(super) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

pub(super) fn hash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// Reads a file again, refusing it if it changed since discovery.
pub fn read_checked(file: &SourceFile) -> Result<Vec<u8>, JsonError> {
    let bytes = read_file(&file.path).map_err(|source| JsonError::Io {
        path: file.path.clone(),
        source,
    })?;
    if hash(&bytes) != file.hash {
        return Err(JsonError::Changed {
            path: file.rel.clone(),
        });
    }
    Ok(bytes)
}

/// Reads a walked file again for the archive; a loaded document that changed since discovery
/// is refused (the archive must hold what was migrated).
pub fn read_tree_file(file: &super::store::TreeFile) -> Result<Vec<u8>, JsonError> {
    let rel = super::name::escape(file.rel.as_os_str());
    let bytes = read_file(&file.path).map_err(|source| JsonError::Io {
        path: file.path.clone(),
        source,
    })?;
    match file.hash {
        Some(h) if hash(&bytes) != h => Err(JsonError::Changed { path: rel }),
        _ => Ok(bytes),
    }
}

/// Reads a file of the store without following a link in its last component: discovery
/// resolved every link it accepted, so a path that is a link now was swapped in since (and may
/// point out of the store).
pub(super) fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}
