//! The rejects file: one NDJSON line per row that could not be represented exactly, with the
//! table, its key, the column, the original value, the reason and the whole row. Blobs and
//! text that is not valid UTF-8 are written as `{"base64": "..."}`. The file is created only
//! when the first row is rejected.

use base64::Engine;
use rusqlite::types::ValueRef;
use serde_json::{Map, Value, json};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct RejectSink {
    path: PathBuf,
    /// Resuming: earlier runs' rejects stay, new ones are appended.
    append: bool,
    file: Mutex<Option<BufWriter<File>>>,
}

/// One rejected row.
pub struct Rejected<'a> {
    pub table: &'a str,
    pub key: Map<String, Value>,
    pub column: &'a str,
    pub value: Value,
    pub reason: &'a str,
    pub row: Map<String, Value>,
}

/// A source value as JSON, exactly: numbers as numbers (NaN/Infinity as strings), text as a
/// string when it is valid UTF-8, anything else as base64.
pub fn value_json(v: ValueRef<'_>) -> Value {
    let b64 = |b: &[u8]| json!({ "base64": base64::engine::general_purpose::STANDARD.encode(b) });
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => json!(i),
        ValueRef::Real(f) if f.is_finite() => {
            serde_json::from_str(&format!("{f:?}")).unwrap_or_else(|_| json!(f.to_string()))
        }
        ValueRef::Real(f) => json!(f.to_string()),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => json!(s),
            Err(_) => b64(t),
        },
        ValueRef::Blob(b) => b64(b),
    }
}

impl RejectSink {
    pub fn new(path: &Path, append: bool) -> RejectSink {
        RejectSink {
            path: path.to_path_buf(),
            append,
            file: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line; creates the file on first use.
    pub fn write(&self, r: &Rejected<'_>) -> std::io::Result<()> {
        let line = json!({
            "table": r.table,
            "key": r.key,
            "column": r.column,
            "value": r.value,
            "reason": r.reason,
            "row": r.row,
        });
        let mut guard = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("rejects file lock poisoned"))?;
        if guard.is_none() {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(self.append)
                .truncate(!self.append)
                .open(&self.path)?;
            *guard = Some(BufWriter::new(file));
        }
        if let Some(f) = guard.as_mut() {
            serde_json::to_writer(&mut *f, &line)?;
            f.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Flushes to disk; true when anything was written.
    pub fn finish(&self) -> std::io::Result<bool> {
        let mut guard = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("rejects file lock poisoned"))?;
        match guard.as_mut() {
            Some(f) => {
                f.flush()?;
                f.get_ref().sync_all()?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_exact() {
        assert_eq!(value_json(ValueRef::Integer(i64::MAX)), json!(i64::MAX));
        assert_eq!(value_json(ValueRef::Real(0.1)).to_string(), "0.1");
        assert_eq!(value_json(ValueRef::Real(f64::NAN)), json!("NaN"));
        assert_eq!(value_json(ValueRef::Text(b"a\0b")), json!("a\u{0}b"));
        assert_eq!(
            value_json(ValueRef::Text(b"\xff")),
            json!({"base64": "/w=="})
        );
        assert_eq!(
            value_json(ValueRef::Blob(b"\x00")),
            json!({"base64": "AA=="})
        );
    }

    #[test]
    fn file_appears_with_the_first_reject() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.ndjson");
        let sink = RejectSink::new(&path, false);
        assert!(!sink.finish().unwrap());
        assert!(!path.exists());
        sink.write(&Rejected {
            table: "t",
            key: Map::new(),
            column: "c",
            value: json!(1),
            reason: "why",
            row: Map::new(),
        })
        .unwrap();
        assert!(sink.finish().unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        let v: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["reason"], "why");
    }
}
