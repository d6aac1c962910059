//! The proof that staging lost nothing: every document is read again and each of its leaf
//! values (with its path and the document's key) is hashed; the staged rows are read back,
//! turned into the same leaves (jsonb text expanded, child rows placed under their array
//! position) and hashed the same way. Per document, both sides must agree, or the error names
//! the file. Together with the checksums of the SQLite → PostgreSQL load, every leaf value of
//! every document is compared. Nulls, empty arrays and empty objects hold no leaf: a null and
//! an absent field are the same NULL in a column.

use super::JsonError;
use super::layout::{Layout, Role, Storage, TableLayout, augment};
use super::number::canonical;
use super::stats::leaf;
use super::store::Store;
use crate::sqlite::quote_sqlite_ident as q;
use rusqlite::types::ValueRef;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// Leaves of one document: a wrapping sum of their hashes and their count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Digest {
    sum: u128,
    count: u64,
}

impl Digest {
    /// Adds the leaf `tag` + `value` (as `stats::leaf` writes it) at `path`.
    fn add(&mut self, key: &str, path: &str, (tag, value): (&str, &str)) {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for part in [key, "\u{1e}", path, "\u{1e}", tag, value] {
            h.update(part.as_bytes());
        }
        self.sum = self.sum.wrapping_add(h.digest128());
        self.count += 1;
    }
}

/// Appends one path segment to `path`; returns the length to truncate back to.
fn push(path: &mut String, seg: &str) -> usize {
    let len = path.len();
    if len > 0 {
        path.push('\u{1f}');
    }
    path.push_str(seg);
    len
}

/// Adds every leaf under `v` at `path` (restored on return).
fn walk(d: &mut Digest, key: &str, path: &mut String, v: &Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let len = push(path, k);
                walk(d, key, path, x);
                path.truncate(len);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let len = push(path, &format!("#{i}"));
                walk(d, key, path, x);
                path.truncate(len);
            }
        }
        v => {
            let number;
            let l = match v {
                Value::String(s) => ("s:", s.as_str()),
                Value::Bool(b) => ("b:", if *b { "true" } else { "false" }),
                Value::Number(n) => {
                    let text = n.to_string();
                    number = canonical(&text).unwrap_or(text);
                    ("n:", number.as_str())
                }
                _ => return,
            };
            d.add(key, path, l);
        }
    }
}

/// The leaf of a staged value, as `stats::leaf` writes the JSON value it came from.
fn staged_leaf(v: ValueRef<'_>, storage: Storage) -> Option<String> {
    Some(match (v, storage) {
        (ValueRef::Integer(i), Storage::Bool) => format!("b:{}", i != 0),
        (ValueRef::Integer(i), _) => format!("n:{}", canonical(&i.to_string())?),
        (ValueRef::Real(f), _) => format!("n:{}", canonical(&format!("{f:?}"))?),
        (ValueRef::Text(t), Storage::Decimal) => {
            format!("n:{}", canonical(std::str::from_utf8(t).ok()?)?)
        }
        (ValueRef::Text(t), _) => format!("s:{}", std::str::from_utf8(t).ok()?),
        _ => return None,
    })
}

type Documents = HashMap<String, (Digest, String)>;

/// Checks the staged database at `db` against every document of `store`: the documents and
/// the staged rows are read at the same time, on two threads.
pub fn check(db: &Path, store: &Store, layout: &Layout) -> Result<(), JsonError> {
    for (ci, (c, cl)) in store
        .collections
        .iter()
        .zip(&layout.collections)
        .enumerate()
    {
        let root = &layout.tables[cl.table];
        let (source, staged) = std::thread::scope(|s| {
            let documents = s.spawn(|| documents(c, cl, root));
            let staged = staged_documents(db, layout, ci);
            let source = documents
                .join()
                .unwrap_or_else(|_| Err(JsonError::Bug("a proof thread panicked".into())));
            (source, staged)
        });
        let (source, mut staged) = (source?, staged?);
        for (key, (d, place)) in &source {
            let got = staged.remove(key).unwrap_or_default();
            if got != *d {
                return Err(JsonError::Proof {
                    path: place.clone(),
                    detail: format!(
                        "{} leaf value(s) in the document, {} found staged",
                        d.count, got.count
                    ),
                });
            }
        }
        if let Some(key) = staged.keys().next() {
            return Err(JsonError::Proof {
                path: c.origin(),
                detail: format!(
                    "staged rows of table {} have no document ({key})",
                    root.name
                ),
            });
        }
    }
    Ok(())
}

/// Every document of a collection, read again: its key, leaves and where it came from.
fn documents(
    c: &super::store::Collection,
    cl: &super::layout::CollectionLayout,
    root: &TableLayout,
) -> Result<Documents, JsonError> {
    let mut source = Documents::new();
    let mut path = String::new();
    c.for_each_record(&mut |r| {
        let place = match c.kind {
            super::store::Kind::Documents => r.file.rel.clone(),
            super::store::Kind::Lines => format!("{}, line {}", r.file.rel, r.position),
            _ => format!("{}, record {}", r.file.rel, r.position),
        };
        let doc = Value::Object(augment(r, cl, &c.kind));
        let key: Vec<String> = root
            .primary_key
            .iter()
            .map(|&i| match &root.columns[i].role {
                Role::Field(p) => p
                    .iter()
                    .try_fold(&doc, |v, k| v.get(k))
                    .and_then(leaf)
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .collect();
        let key = key.join("\u{1f}");
        let mut d = Digest::default();
        path.clear();
        walk(&mut d, &key, &mut path, &doc);
        source.insert(key, (d, place));
        Ok(())
    })?;
    Ok(source)
}

/// The staged rows of a collection's tables, as leaves per document key.
fn staged_documents(
    db: &Path,
    layout: &Layout,
    ci: usize,
) -> Result<HashMap<String, Digest>, JsonError> {
    let conn = rusqlite::Connection::open(db)?;
    let mut staged = HashMap::new();
    for t in layout.tables.iter().filter(|t| t.collection == ci) {
        read_table(&conn, t, &mut staged)?;
    }
    Ok(staged)
}

/// Adds the leaves of every row of `t` to the digest of its document.
fn read_table(
    conn: &rusqlite::Connection,
    t: &TableLayout,
    staged: &mut HashMap<String, Digest>,
) -> Result<(), JsonError> {
    let cols: Vec<String> = t.columns.iter().map(|c| q(&c.name)).collect();
    let sql = format!("SELECT {} FROM {}", cols.join(", "), q(&t.name));
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut path = String::new();
    while let Some(row) = rows.next()? {
        let mut key = Vec::new();
        for &i in &t.top_key {
            key.push(staged_leaf(row.get_ref(i)?, t.columns[i].storage).unwrap_or_default());
        }
        let key = key.join("\u{1f}");
        path.clear();
        for (array, &i) in t.array_paths.iter().zip(&t.positions) {
            for seg in array {
                push(&mut path, seg);
            }
            let pos = row.get_ref(i)?.as_i64().unwrap_or(-1);
            push(&mut path, &format!("#{pos}"));
        }
        let d = staged.entry(key.clone()).or_default();
        for (i, c) in t.columns.iter().enumerate() {
            let Role::Field(at) = &c.role else { continue };
            let len = path.len();
            for seg in at {
                push(&mut path, seg);
            }
            let v = row.get_ref(i)?;
            if c.storage == Storage::Json {
                if let ValueRef::Text(text) = v {
                    let value: Value = serde_json::from_slice(text).map_err(|e| {
                        JsonError::Bug(format!("staged JSON of {}.{}: {e}", t.name, c.name))
                    })?;
                    walk(d, &key, &mut path, &value);
                }
            } else if let ValueRef::Text(t) = v
                && c.storage == Storage::Text
            {
                let text = std::str::from_utf8(t).unwrap_or_default();
                d.add(&key, &path, ("s:", text));
            } else if let Some(l) = staged_leaf(v, c.storage) {
                let (tag, value) = l.split_at(2);
                d.add(&key, &path, (tag, value));
            }
            path.truncate(len);
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::config::Config;

    #[test]
    fn json_proof_passes_and_catches_a_lost_value() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir(&src).unwrap();
        std::fs::write(
            src.join("a.json"),
            r#"[{"id": "x", "n": 1.50, "big": 123456789012345678901234567890,
                 "m": [{"t": [1, {"u": null}], "s": {"k": true}}], "e": [], "z": {}}]"#,
        )
        .unwrap();
        let mut store =
            super::super::discover::discover(&src, &Config::default(), Default::default()).unwrap();
        let layout = super::super::layout::infer(&mut store).unwrap();
        let db = dir.path().join("s.db");
        super::super::stage::write(&db, &store, &layout).unwrap();
        check(&db, &store, &layout).unwrap();
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute("UPDATE a__m SET s__k = 0", []).unwrap();
        let err = check(&db, &store, &layout).unwrap_err().to_string();
        assert!(err.contains("a.json, record 0"), "{err}");
    }

    /// A small deterministic generator of values of every kind, nested.
    pub(crate) struct Gen(pub(crate) u64);

    impl Gen {
        pub(crate) fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }

        pub(crate) fn value(&mut self, depth: u32) -> Value {
            let pick = if depth > 3 {
                self.next(7)
            } else {
                self.next(10)
            };
            match pick {
                0 => Value::Null,
                1 => Value::Bool(self.next(2) == 0),
                2 => Value::from(self.next(1000)),
                3 => serde_json::from_str(
                    ["1.5", "0.1", "123456789012345678901", "1e-7", "-0", "2.50"]
                        [usize::try_from(self.next(6)).unwrap()],
                )
                .unwrap(),
                4 => Value::String(
                    ["a", "2024-01-02", "2024-01-02T03:04:05Z", "é \"q\"", ""]
                        [usize::try_from(self.next(5)).unwrap()]
                    .into(),
                ),
                5 | 6 => {
                    let n = self.next(3);
                    Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
                }
                _ => {
                    let mut m = serde_json::Map::new();
                    for _ in 0..self.next(4) {
                        let k =
                            ["a", "b", "c", "id", "x_id"][usize::try_from(self.next(5)).unwrap()];
                        m.insert(k.into(), self.value(depth + 1));
                    }
                    Value::Object(m)
                }
            }
        }
    }

    #[test]
    fn json_random_documents_stage_losslessly() {
        for seed in 0..40 {
            let dir = tempfile::tempdir().unwrap();
            let src = dir.path().join("src");
            std::fs::create_dir(&src).unwrap();
            let mut g = Gen(seed);
            let mut lines = String::new();
            for _ in 0..30 {
                let mut doc = serde_json::Map::new();
                for k in ["p", "q", "r", "s"] {
                    if g.next(4) > 0 {
                        doc.insert(k.into(), g.value(0));
                    }
                }
                lines.push_str(&Value::Object(doc).to_string());
                lines.push('\n');
            }
            std::fs::write(src.join("docs.ndjson"), &lines).unwrap();
            let mut store =
                super::super::discover::discover(&src, &Config::default(), Default::default())
                    .unwrap();
            let layout = super::super::layout::infer(&mut store).unwrap();
            let db = dir.path().join("s.db");
            super::super::stage::write(&db, &store, &layout)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{lines}"));
            check(&db, &store, &layout).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{lines}"));
        }
    }
}
