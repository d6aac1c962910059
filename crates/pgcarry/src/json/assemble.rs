//! The way back to a JSON store: each document reassembled from the rows of its tables (child
//! rows as arrays under their parent, in position order), written where the migration found
//! it — one file per document by the collection's path pattern, or one array, NDJSON or dump
//! file — under a new directory. What it returns is the written store, with each file's hash,
//! for the same proof that staging passes (`proof::check`): every leaf of every written
//! document against the rows.
//!
//! Rows are read in key order, a cursor per table, so a collection's documents are assembled
//! one at a time (a child table's rows arrive grouped under their parent's key).

use super::JsonError;
use super::layout::{CaptureUse, Layout, Missing, Role, Storage};
use super::recipe::StoreRecipe;
use super::store::{Collection, Kind, SourceFile, Store};
use crate::sqlite::quote_sqlite_ident as q;
use rusqlite::types::Value as Sql;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// What was written: the store (for the proof) and the count of documents per collection.
pub struct Written {
    pub store: Store,
    pub documents: Vec<u64>,
    pub files: u64,
}

/// Writes every collection of `recipe` from the tables of the SQLite database `db` into `dir`
/// (which exists and is empty).
pub fn write_store(db: &Path, recipe: &StoreRecipe, dir: &Path) -> Result<Written, JsonError> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut out = Output {
        dir,
        written: HashSet::new(),
        dumps: BTreeMap::new(),
    };
    let mut store = Store::default();
    let mut documents = Vec::new();
    for (ci, c) in recipe.collections.iter().enumerate() {
        let mut collection = Collection {
            name: c.name.clone(),
            kind: c.kind.clone(),
            pattern: c.pattern.clone(),
            captures: c.captures.clone(),
            files: Vec::new(),
        };
        let mut records = Records::new(recipe, ci, c.file.as_deref());
        let mut n = 0;
        each_document(&conn, &recipe.layout, ci, &mut |doc| {
            n += 1;
            let record = records.take(doc)?;
            if let Kind::Documents = c.kind {
                let (rel, captures, value) = record;
                let bytes = pretty(&value)?;
                let file = out.write(&rel, &bytes, captures)?;
                collection.files.push(file);
            } else {
                records.keep(record);
            }
            Ok(())
        })?;
        if !matches!(c.kind, Kind::Documents) {
            records.finish(&mut out, &mut collection)?;
        }
        documents.push(n);
        store.collections.push(collection);
    }
    out.finish_dumps(&mut store)?;
    Ok(Written {
        files: u64::try_from(out.written.len()).unwrap_or(u64::MAX),
        store,
        documents,
    })
}

/// A collection's records while its documents are assembled: one file per document is written
/// at once; the records of one file are kept until the last.
struct Records<'a> {
    recipe: &'a StoreRecipe,
    ci: usize,
    file: Option<&'a str>,
    /// `(position, record)`: the position from the synthetic key, else the order of the keys.
    kept: Vec<(Option<i64>, String, Value)>,
}

type Record = (String, Vec<String>, Value);

impl<'a> Records<'a> {
    fn new(recipe: &'a StoreRecipe, ci: usize, file: Option<&'a str>) -> Records<'a> {
        Records {
            recipe,
            ci,
            file,
            kept: Vec::new(),
        }
    }

    /// The document without the fields staging added: its file (or map key), its path
    /// captures, and the record as the file held it.
    fn take(&self, mut doc: Map<String, Value>) -> Result<Record, JsonError> {
        let c = &self.recipe.collections[self.ci];
        let cl = &self.recipe.layout.collections[self.ci];
        let synthetic = cl.synthetic.as_ref().and_then(|s| doc.shift_remove(s));
        let mut captures = Vec::new();
        for (use_, cap) in cl.captures.iter().zip(&c.captures) {
            let v = match use_ {
                CaptureUse::Column(name) => doc.shift_remove(name),
                CaptureUse::Merged => doc.get(&cap.name).cloned(),
            };
            captures.push(match v {
                Some(Value::String(s)) => s,
                Some(Value::Number(n)) => n.to_string(),
                other => {
                    return Err(JsonError::Config(format!(
                        "a document of collection {} has no value for {:?}, which names its \
                         file ({other:?}); it cannot be written back",
                        c.name, cap.name
                    )));
                }
            });
        }
        // A record that was not an object was staged as the field `value` (the other columns
        // of its row are NULL).
        let unwrap = cl.wrapped
            && doc.get("value").is_some_and(|v| !v.is_null())
            && doc.iter().all(|(k, v)| k == "value" || v.is_null());
        let value = match doc.shift_remove("value") {
            Some(v) if unwrap => v,
            Some(v) => {
                doc.insert("value".into(), v);
                Value::Object(doc)
            }
            None => Value::Object(doc),
        };
        let place = match (&c.kind, synthetic) {
            (Kind::Documents, Some(Value::String(rel))) => rel,
            (Kind::Documents, _) => fill_pattern(&c.pattern, &captures),
            (_, Some(Value::Number(n))) => n.to_string(),
            _ => String::new(),
        };
        Ok((place, captures, value))
    }

    fn keep(&mut self, (place, captures, value): Record) {
        let position = place.parse::<i64>().ok();
        let key = captures.into_iter().next().unwrap_or_default();
        self.kept.push((position, key, value));
    }

    /// Writes the kept records: an array file, an NDJSON file, or their part of a dump.
    fn finish(self, out: &mut Output<'_>, collection: &mut Collection) -> Result<(), JsonError> {
        let rel = self.file.unwrap_or_default().to_string();
        let c = &self.recipe.collections[self.ci];
        let mut kept = self.kept;
        if kept.iter().all(|(p, _, _)| p.is_some()) {
            kept.sort_by_key(|(p, _, _)| *p);
        }
        match &c.kind {
            Kind::Lines => {
                let mut text = String::new();
                let mut line = 1;
                for (position, _, value) in &kept {
                    // Blank lines keep every record at its line number.
                    while position.is_some_and(|p| line < p) {
                        text.push('\n');
                        line += 1;
                    }
                    text.push_str(&serde_json::to_string(value).map_err(bug)?);
                    text.push('\n');
                    line += 1;
                }
                collection
                    .files
                    .push(out.write(&rel, text.as_bytes(), Vec::new())?);
            }
            Kind::Array => {
                let items = kept.into_iter().map(|(_, _, v)| v).collect();
                let bytes = pretty(&Value::Array(items))?;
                collection.files.push(out.write(&rel, &bytes, Vec::new())?);
            }
            Kind::DumpArray(key) => {
                let items = kept.into_iter().map(|(_, _, v)| v).collect();
                out.dump(&rel, key, Value::Array(items), self.ci);
            }
            Kind::DumpMap(key) => {
                let mut records = Map::new();
                for (_, k, v) in kept {
                    records.insert(k, v);
                }
                out.dump(&rel, key, Value::Object(records), self.ci);
            }
            Kind::Documents => {}
        }
        Ok(())
    }
}

/// `data/{0}/{1}.json` with the captures in place.
fn fill_pattern(pattern: &str, captures: &[String]) -> String {
    let mut p = pattern.to_string();
    for (i, v) in captures.iter().enumerate() {
        p = p.replace(&format!("{{{i}}}"), v);
    }
    p
}

fn pretty(v: &Value) -> Result<Vec<u8>, JsonError> {
    let mut bytes = serde_json::to_vec_pretty(v).map_err(bug)?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn bug(e: serde_json::Error) -> JsonError {
    JsonError::Bug(format!("writing a document: {e}"))
}

/// Where files go: never outside `dir`, never twice.
struct Output<'a> {
    dir: &'a Path,
    written: HashSet<String>,
    /// Dump files: their keys in the order of the collections, and which collections.
    dumps: BTreeMap<String, (Map<String, Value>, Vec<usize>)>,
}

impl Output<'_> {
    fn write(
        &mut self,
        rel: &str,
        bytes: &[u8],
        captures: Vec<String>,
    ) -> Result<SourceFile, JsonError> {
        let path = self.place(rel)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| JsonError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        write_synced(&path, bytes)?;
        Ok(SourceFile {
            rel: rel.to_string(),
            path,
            hash: super::read::hash(bytes),
            captures,
        })
    }

    /// The path of `rel` under the directory; refused when it would leave it, name no file, or
    /// name a file already written (two documents at one path).
    fn place(&mut self, rel: &str) -> Result<PathBuf, JsonError> {
        let refuse = |why: &str| {
            JsonError::Config(format!(
                "cannot write the document file {rel:?}: {why}; nothing was put in place"
            ))
        };
        let bytes = super::name::unescape(rel).ok_or_else(|| refuse("not a name pgcarry wrote"))?;
        let mut path = self.dir.to_path_buf();
        for part in bytes.split(|&b| b == b'/') {
            if part.is_empty() || part == b"." || part == b".." {
                return Err(refuse("each part of the path must be a name"));
            }
            path.push(OsStr::from_bytes(part));
        }
        if !self.written.insert(rel.to_string()) {
            return Err(refuse("two documents have this path"));
        }
        Ok(path)
    }

    fn dump(&mut self, rel: &str, key: &str, value: Value, ci: usize) {
        let entry = self.dumps.entry(rel.to_string()).or_default();
        entry.0.insert(key.to_string(), value);
        entry.1.push(ci);
    }

    /// Writes each dump file, and gives its collections the file.
    fn finish_dumps(&mut self, store: &mut Store) -> Result<(), JsonError> {
        for (rel, (object, collections)) in std::mem::take(&mut self.dumps) {
            let bytes = pretty(&Value::Object(object))?;
            let file = self.write(&rel, &bytes, Vec::new())?;
            for ci in collections {
                store.collections[ci].files.push(file.clone());
            }
        }
        Ok(())
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), JsonError> {
    use std::io::Write;
    let io = |source| JsonError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)
}

/// A table's rows in key order, one looked ahead.
struct Cursor<'s> {
    rows: rusqlite::Rows<'s>,
    width: usize,
    ahead: Option<Vec<Sql>>,
}

impl Cursor<'_> {
    fn peek(&mut self) -> Result<Option<&Vec<Sql>>, JsonError> {
        if self.ahead.is_none()
            && let Some(row) = self.rows.next()?
        {
            let values = (0..self.width)
                .map(|i| row.get::<_, Sql>(i))
                .collect::<Result<Vec<_>, _>>()?;
            self.ahead = Some(values);
        }
        Ok(self.ahead.as_ref())
    }
}

/// Calls `f` with every document of collection `ci`, assembled from its tables' rows.
fn each_document(
    conn: &rusqlite::Connection,
    layout: &Layout,
    ci: usize,
    f: &mut dyn FnMut(Map<String, Value>) -> Result<(), JsonError>,
) -> Result<(), JsonError> {
    let tables: Vec<usize> = (0..layout.tables.len())
        .filter(|&t| layout.tables[t].collection == ci)
        .collect();
    let mut statements = Vec::new();
    for &t in &tables {
        let table = &layout.tables[t];
        let cols: Vec<String> = table.columns.iter().map(|c| q(&c.name)).collect();
        let keys: Vec<String> = table
            .primary_key
            .iter()
            .map(|&i| q(&table.columns[i].name))
            .collect();
        let order = if keys.is_empty() {
            "rowid".to_string()
        } else {
            keys.join(", ")
        };
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {order}",
            cols.join(", "),
            q(&table.name)
        );
        statements.push(conn.prepare(&sql)?);
    }
    let mut cursors = Vec::new();
    for (s, &t) in statements.iter_mut().zip(&tables) {
        cursors.push(Cursor {
            rows: s.query([])?,
            width: layout.tables[t].columns.len(),
            ahead: None,
        });
    }
    let root = layout.collections[ci].table;
    let at = |t: usize| tables.iter().position(|&x| x == t).unwrap_or(0);
    let root_cursor = at(root);
    while cursors[root_cursor].peek()?.is_some() {
        let row = cursors[root_cursor].ahead.take().unwrap_or_default();
        let doc = build(layout, root, row, &mut cursors, &at)?;
        f(doc)?;
    }
    Ok(())
}

/// The object of table `t`'s row `row`, with its child rows as arrays.
fn build(
    layout: &Layout,
    t: usize,
    row: Vec<Sql>,
    cursors: &mut [Cursor<'_>],
    at: &dyn Fn(usize) -> usize,
) -> Result<Map<String, Value>, JsonError> {
    let table = &layout.tables[t];
    let mut obj = Map::new();
    for (c, v) in table.columns.iter().zip(&row) {
        let Role::Field(path) = &c.role else { continue };
        match to_json(v, c.storage, &table.name, &c.name)? {
            Some(v) => insert_at(&mut obj, path, v),
            None if c.if_null == Missing::Null => insert_at(&mut obj, path, Value::Null),
            None => {}
        }
    }
    for path in &table.null_objects {
        let Some((last, above)) = path.split_last() else {
            continue;
        };
        let mut here = Some(&mut obj);
        for k in above {
            here = match here.and_then(|m| m.get_mut(k)) {
                Some(Value::Object(inner)) => Some(inner),
                _ => None,
            };
        }
        if let Some(m) = here
            && !m.contains_key(last)
        {
            m.insert(last.clone(), Value::Null);
        }
    }
    let key: Vec<Sql> = table.primary_key.iter().map(|&i| row[i].clone()).collect();
    for (child, ct) in layout.tables.iter().enumerate() {
        if ct.parent != Some(t) {
            continue;
        }
        let cursor = at(child);
        let mut items = Vec::new();
        while let Some(next) = cursors[cursor].peek()? {
            if next.len() < key.len()
                || !ct.primary_key[..key.len()]
                    .iter()
                    .zip(&key)
                    .all(|(&i, k)| &next[i] == k)
            {
                break;
            }
            let row = cursors[cursor].ahead.take().unwrap_or_default();
            items.push(Value::Object(build(layout, child, row, cursors, at)?));
        }
        let field = ct.array_paths.last().map_or(&[][..], Vec::as_slice);
        match (items.is_empty(), ct.if_empty) {
            (false, _) | (true, Missing::Empty) => insert_at(&mut obj, field, Value::Array(items)),
            (true, Missing::Null) => insert_at(&mut obj, field, Value::Null),
            (true, Missing::Absent) => {}
        }
    }
    Ok(obj)
}

/// Puts `v` at `path` of `obj`, making the objects on the way.
fn insert_at(obj: &mut Map<String, Value>, path: &[String], v: Value) {
    let Some((last, above)) = path.split_last() else {
        return;
    };
    let mut here = obj;
    for seg in above {
        let slot = here
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(m) = slot else { return };
        here = m;
    }
    here.insert(last.clone(), v);
}

/// The JSON value of a staged value, the reverse of `flatten::to_sql`; `None` for NULL.
fn to_json(
    v: &Sql,
    storage: Storage,
    table: &str,
    column: &str,
) -> Result<Option<Value>, JsonError> {
    let unfit = |what: &str| {
        JsonError::Config(format!(
            "table {table}, column {column}: {what} cannot be written back into the JSON \
             documents (the column held {storage:?} values when it was migrated)"
        ))
    };
    Ok(Some(match (v, storage) {
        (Sql::Null, _) => return Ok(None),
        (Sql::Integer(i), Storage::Bool) => Value::Bool(*i != 0),
        (Sql::Integer(i), _) => Value::from(*i),
        (Sql::Real(f), _) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .ok_or_else(|| unfit("a NaN or infinite number"))?,
        (Sql::Text(t), Storage::Decimal) => Value::Number(
            t.parse::<serde_json::Number>()
                .map_err(|_| unfit(&format!("the text {t:?} (not a JSON number)")))?,
        ),
        (Sql::Text(t), Storage::Json) => {
            serde_json::from_str(t).map_err(|_| unfit("a text that is not JSON"))?
        }
        (Sql::Text(t), _) => Value::String(t.clone()),
        (Sql::Blob(_), _) => return Err(unfit("a blob")),
    }))
}

#[cfg(test)]
mod tests {
    use super::super::proof::tests::Gen;
    use super::*;
    use crate::model::config::Config;

    /// Objects without the fields that hold nothing (null, `[]`, `{}`): a NULL column and no
    /// child rows do not say which of them the document had.
    fn solid(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), solid(x)))
                    .filter(|(_, x)| !matches!(x, Value::Null) && x != &Value::Array(Vec::new()))
                    .filter(|(_, x)| x != &Value::Object(Map::new()))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(solid).collect()),
            v => v.clone(),
        }
    }

    #[test]
    fn json_random_stores_are_written_back() {
        for seed in 0..40 {
            let dir = tempfile::tempdir().unwrap();
            let src = dir.path().join("src");
            std::fs::create_dir(&src).unwrap();
            let mut g = Gen(seed);
            let mut docs = Vec::new();
            for _ in 0..30 {
                let mut doc = Map::new();
                for k in ["p", "q", "r", "s"] {
                    if g.next(4) > 0 {
                        doc.insert(k.into(), g.value(0));
                    }
                }
                docs.push(Value::Object(doc));
            }
            let lines: String = docs.iter().map(|d| format!("{d}\n")).collect();
            std::fs::write(src.join("docs.ndjson"), &lines).unwrap();
            std::fs::write(src.join("all.json"), Value::Array(docs.clone()).to_string()).unwrap();
            let mut store =
                super::super::discover::discover(&src, &Config::default(), Default::default())
                    .unwrap();
            let layout = super::super::layout::infer(&mut store).unwrap();
            let db = dir.path().join("s.db");
            super::super::stage::write(&db, &store, &layout).unwrap();
            let recipe = super::super::recipe::recipe(&store, &layout);
            let recipe = super::super::recipe::parse(&serde_json::to_value(&recipe).unwrap())
                .expect("the recipe reads back");
            let out = dir.path().join("out");
            std::fs::create_dir(&out).unwrap();
            let written = write_store(&db, &recipe, &out)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{lines}"));
            super::super::proof::check(&db, &written.store, &layout)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{lines}"));
            let back: Vec<Value> = std::fs::read_to_string(out.join("docs.ndjson"))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let solid_all = |v: &[Value]| v.iter().map(solid).collect::<Vec<_>>();
            assert_eq!(solid_all(&back), solid_all(&docs), "seed {seed}");
            let array: Value =
                serde_json::from_slice(&std::fs::read(out.join("all.json")).unwrap()).unwrap();
            assert_eq!(solid(&array), solid(&Value::Array(docs)), "seed {seed}");
        }
    }
}
