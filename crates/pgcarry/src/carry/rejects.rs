//! The rejects file: one NDJSON line per row that could not be represented exactly, with the
//! table, its key, the column, the original value, the reason and the whole row. Blobs and
//! text that is not valid UTF-8 are written as `{"base64": "..."}`. The file is created only
//! when the first row is rejected.

use crate::model::plan::TablePlan;
use crate::model::schema::Table;
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

/// One table's rejects, kept aside until the table's transaction commits: a load that is
/// retried (after a dropped connection) must not leave the rejects of its failed attempt.
pub struct Spool {
    file: BufWriter<File>,
    lines: u64,
}

fn line(r: &Rejected<'_>) -> Value {
    json!({
        "table": r.table,
        "key": r.key,
        "column": r.column,
        "value": r.value,
        "reason": r.reason,
        "row": r.row,
    })
}

impl Spool {
    pub fn write(&mut self, r: &Rejected<'_>) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.file, &line(r))?;
        self.file.write_all(b"\n")?;
        self.lines += 1;
        Ok(())
    }
}

impl RejectSink {
    /// A spool for one table's rejects (an anonymous temporary file).
    pub fn spool(&self) -> std::io::Result<Spool> {
        Ok(Spool {
            file: BufWriter::new(tempfile::tempfile()?),
            lines: 0,
        })
    }

    /// Appends a committed table's rejects to the rejects file.
    pub fn commit(&self, spool: Spool) -> std::io::Result<()> {
        if spool.lines == 0 {
            return Ok(());
        }
        let mut file = spool.file.into_inner().map_err(|e| e.into_error())?;
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(0))?;
        let mut guard = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("rejects file lock poisoned"))?;
        let out = self.open(&mut guard)?;
        std::io::copy(&mut file, out)?;
        Ok(())
    }

    fn open<'g>(
        &self,
        guard: &'g mut Option<BufWriter<File>>,
    ) -> std::io::Result<&'g mut BufWriter<File>> {
        if guard.is_none() {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(self.append)
                .truncate(!self.append)
                .open(&self.path)?;
            *guard = Some(BufWriter::new(file));
        }
        guard
            .as_mut()
            .ok_or_else(|| std::io::Error::other("rejects file not open"))
    }

    pub fn new(path: &Path, append: bool) -> RejectSink {
        RejectSink {
            path: path.to_path_buf(),
            append,
            file: Mutex::new(None),
        }
    }

    /// Appends one line; creates the file on first use.
    #[cfg(test)]
    pub fn write(&self, r: &Rejected<'_>) -> std::io::Result<()> {
        let mut guard = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("rejects file lock poisoned"))?;
        let f = self.open(&mut guard)?;
        serde_json::to_writer(&mut *f, &line(r))?;
        f.write_all(b"\n")
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

/// The rejects-file record of `row`, refused for `reason` at `column`: the whole row, its
/// key (or its row number when the table has none).
pub fn reject_record<'a>(
    row: &rusqlite::Row<'_>,
    source: &'a Table,
    tp: &'a TablePlan,
    key_cols: &[usize],
    column: usize,
    row_number: u64,
    reason: &'a str,
) -> rusqlite::Result<Rejected<'a>> {
    let mut full = Map::new();
    for (i, c) in source.columns.iter().enumerate() {
        full.insert(c.name.clone(), value_json(row.get_ref(i)?));
    }
    let mut key = Map::new();
    if key_cols.is_empty() {
        key.insert("row_number".into(), Value::from(row_number));
    } else {
        for &i in key_cols {
            key.insert(source.columns[i].name.clone(), value_json(row.get_ref(i)?));
        }
    }
    Ok(Rejected {
        table: &tp.name,
        key,
        column: &source.columns[column].name,
        value: value_json(row.get_ref(column)?),
        reason,
        row: full,
    })
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
