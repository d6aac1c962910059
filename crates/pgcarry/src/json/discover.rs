//! Discovery: which files of a store hold which collection. Walks the tree in name order (so
//! everything after is deterministic), ignores junk (`.DS_Store`, dotfiles, other
//! extensions), reports files that cannot be loaded (malformed, empty, unreadable) and groups
//! the rest: one document per file by path pattern (`data/{user_id}/{id}.json`), one
//! collection per NDJSON or array file, one per top-level key of a dump. `--config` patterns
//! come first. Files are only read; each file's hash is kept so that a file changing between
//! the passes is noticed instead of staged half-old, half-new.

use super::JsonError;
use super::read::{REPEATED_KEY, hash, repeats_a_key, strip_bom};
pub use super::store::{Capture, Collection, Kind, SourceFile, Store};
use crate::model::config::Config;
use crate::model::json::FileProblem;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Junk that stores pick up from file managers and editors: ignored, counted.
fn is_junk(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || matches!(
            name.to_ascii_lowercase().as_str(),
            "thumbs.db" | "desktop.ini" | "__macosx"
        )
}

fn json_ext(name: &str) -> Option<bool> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".json") {
        Some(false)
    } else if lower.ends_with(".ndjson") || lower.ends_with(".jsonl") {
        Some(true)
    } else {
        None
    }
}

/// What one file holds.
enum Content {
    Object(serde_json::Map<String, Value>),
    Array,
    Lines,
}

/// Finds the collections of the store at `source` (a directory or one file).
pub fn discover(source: &Path, config: &Config) -> Result<Store, JsonError> {
    let mut store = Store::default();
    let mut files = Vec::new();
    if source.is_dir() {
        walk(source, "", &mut files, &mut store)?;
    } else {
        let name = source
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        files.push((name, source.to_path_buf()));
    }
    let mut documents = Vec::new();
    let mut by_file = Vec::new();
    for (rel, path) in files {
        let lines = json_ext(&rel).unwrap_or(false);
        let Some((content, hash)) = classify(&rel, &path, lines, &mut store.problems) else {
            continue;
        };
        let file = SourceFile {
            rel: rel.clone(),
            path,
            hash,
            captures: Vec::new(),
        };
        match content {
            Content::Lines => by_file.push((Kind::Lines, stem(&rel), file)),
            Content::Array => by_file.push((Kind::Array, stem(&rel), file)),
            Content::Object(m) => match dump_keys(&m) {
                Some(keys) => {
                    for (k, is_map) in keys {
                        let kind = if is_map {
                            Kind::DumpMap(k.clone())
                        } else {
                            Kind::DumpArray(k.clone())
                        };
                        by_file.push((kind, k, file.clone()));
                    }
                }
                None => documents.push(file),
            },
        }
    }
    let mut collections = super::pattern::group(documents, config)?;
    for (kind, name, file) in by_file {
        let captures = if matches!(kind, Kind::DumpMap(_)) {
            vec![Capture {
                name: "key".into(),
                inferred: true,
            }]
        } else {
            Vec::new()
        };
        collections.push(Collection {
            name,
            kind,
            pattern: file.rel.clone(),
            captures,
            files: vec![file],
        });
    }
    let mut taken = BTreeSet::new();
    for c in &mut collections {
        c.name = unique_table_name(&c.name, &mut taken);
    }
    store.collections = collections;
    Ok(store)
}

/// A name SQLite accepts and no other collection has (ASCII case-insensitively).
pub fn unique_table_name(name: &str, taken: &mut BTreeSet<String>) -> String {
    let mut base = if name.is_empty() { "documents" } else { name }.to_string();
    if base.to_ascii_lowercase().starts_with("sqlite_") {
        base = format!("t_{base}");
    }
    let mut candidate = base.clone();
    let mut n = 2;
    while !taken.insert(candidate.to_ascii_lowercase()) {
        candidate = format!("{base}_{n}");
        n += 1;
    }
    candidate
}

fn stem(rel: &str) -> String {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    match name.find('.') {
        Some(0) | None => name.to_string(),
        Some(i) => name[..i].to_string(),
    }
}

fn walk(
    dir: &Path,
    prefix: &str,
    files: &mut Vec<(String, PathBuf)>,
    store: &mut Store,
) -> Result<(), JsonError> {
    let entries = std::fs::read_dir(dir).map_err(|source| JsonError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut names: BTreeMap<String, PathBuf> = BTreeMap::new();
    for e in entries {
        let e = e.map_err(|source| JsonError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        names.insert(e.file_name().to_string_lossy().into_owned(), e.path());
    }
    for (name, path) in names {
        let rel = format!("{prefix}{name}");
        if is_junk(&name) {
            store.ignored.push(rel);
            continue;
        }
        // Symbolic links to directories are not followed (no cycles); links to files are.
        let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if is_dir {
            walk(&path, &format!("{rel}/"), files, store)?;
        } else if json_ext(&name).is_some() {
            files.push((rel, path));
        } else {
            store.ignored.push(rel);
        }
    }
    Ok(())
}

/// Reads and classifies one file; a file that cannot be loaded is added to `problems`.
fn classify(
    rel: &str,
    path: &Path,
    lines: bool,
    problems: &mut Vec<FileProblem>,
) -> Option<(Content, u64)> {
    let mut problem = |reason: String| {
        problems.push(FileProblem {
            path: rel.to_string(),
            reason,
        });
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            problem(format!("not loaded: cannot read it: {e}"));
            return None;
        }
    };
    let h = hash(&bytes);
    let text = strip_bom(&bytes);
    if text.iter().all(u8::is_ascii_whitespace) {
        problem("not loaded: empty file".into());
        return None;
    }
    if !lines {
        if repeats_a_key(text) {
            problem(format!("not loaded: {REPEATED_KEY}"));
            return None;
        }
        match serde_json::from_slice::<Value>(text) {
            Ok(Value::Object(m)) => return Some((Content::Object(m), h)),
            Ok(Value::Array(_)) => return Some((Content::Array, h)),
            Ok(_) => {
                problem(
                    "not loaded: a lone JSON scalar, not a document, an array or NDJSON".into(),
                );
                return None;
            }
            Err(e) if e.classify() == serde_json::error::Category::Syntax && is_ndjson(text) => {}
            Err(e) => {
                problem(format!("not loaded: malformed JSON: {e}"));
                return None;
            }
        }
    }
    let mut good = 0;
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(_) if repeats_a_key(line) => {
                problem(format!("line {} not loaded: {REPEATED_KEY}", i + 1));
            }
            Ok(_) => good += 1,
            Err(e) => problem(format!("line {} not loaded: malformed JSON: {e}", i + 1)),
        }
    }
    (good > 0).then_some((Content::Lines, h))
}

/// A `.json` file that is really NDJSON: every non-blank line is a JSON object.
fn is_ndjson(text: &[u8]) -> bool {
    let mut lines = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .peekable();
    lines.peek().is_some()
        && lines.all(|l| matches!(serde_json::from_slice::<Value>(l), Ok(Value::Object(_))))
}

/// The collections of a dump (`{"facts": [...], "users": {"1": {...}}}`): every top-level
/// value holds records (an array, or an object of objects), at least one of them non-empty.
/// `(key, is_map)` in the file's order.
fn dump_keys(m: &serde_json::Map<String, Value>) -> Option<Vec<(String, bool)>> {
    let mut keys = Vec::new();
    let mut records = 0;
    for (k, v) in m {
        match v {
            Value::Array(a) if a.iter().all(Value::is_object) => {
                records += a.len();
                keys.push((k.clone(), false));
            }
            Value::Object(o) if !o.is_empty() && o.values().all(Value::is_object) => {
                records += o.len();
                keys.push((k.clone(), true));
            }
            _ => return None,
        }
    }
    (records > 0).then_some(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &[u8]) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn json_discovery_of_a_mixed_store() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "data/u1/c1.json", br#"{"id": "c1", "user_id": "u1"}"#);
        write(
            d,
            "data/u2/c2.json",
            b"\xEF\xBB\xBF{\"id\": \"c2\", \"user_id\": \"u2\"}",
        );
        write(d, "data/u1/usage.json", br#"{"tier": "free"}"#);
        write(d, "data/u2/usage.json", br#"{"tier": "pro"}"#);
        write(
            d,
            "dump.json",
            br#"{"facts": [{"id": 1}], "users": {"a": {"n": 1}}}"#,
        );
        write(d, "events.ndjson", b"{\"a\": 1}\n\n{\"a\": 2}\nnot json\n");
        write(d, "list.json", br#"[{"a": 1}, {"a": 2}]"#);
        write(d, "bad.json", br#"{"a": "#);
        write(d, "twice.json", br#"{"a": 1, "\u0061": 2}"#);
        write(d, "empty.json", b"");
        write(d, ".DS_Store", b"\0\0junk");
        write(d, "notes.txt", b"hello");
        let store = discover(d, &Config::default()).unwrap();
        let names: Vec<_> = store.collections.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["data", "usage", "facts", "users", "events", "list"],
            "{store:#?}"
        );
        assert_eq!(store.collections[0].origin(), "data/{dir2}/{name}.json");
        assert_eq!(store.collections[1].origin(), "data/{dir2}/usage.json");
        assert_eq!(store.ignored, [".DS_Store", "notes.txt"]);
        let bad: Vec<_> = store.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            bad,
            ["bad.json", "empty.json", "events.ndjson", "twice.json"]
        );
        assert!(store.problems[2].reason.starts_with("line 4 not loaded:"));
        assert!(store.problems[3].reason.contains("repeats a key"));
        let mut seen = Vec::new();
        for c in &store.collections {
            c.for_each_record(&mut |r| {
                seen.push((c.name.clone(), r.position, r.captures.clone()));
                Ok(())
            })
            .unwrap();
        }
        assert!(seen.contains(&("data".into(), 0, vec!["u2".into(), "c2".into()])));
        assert!(seen.contains(&("events".into(), 3, vec![])));
        assert!(seen.contains(&("users".into(), 0, vec!["a".into()])));
    }

    #[test]
    fn json_file_changed_between_passes_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.json", br#"[{"a": 1}]"#);
        let store = discover(&dir.path().join("a.json"), &Config::default()).unwrap();
        write(dir.path(), "a.json", br#"[{"a": 2}]"#);
        let r = store.collections[0].for_each_record(&mut |_| Ok(()));
        assert!(matches!(r, Err(JsonError::Changed { .. })));
    }
}
