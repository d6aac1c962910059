//! Discovery: which files of a store hold which collection. Walks the tree in name order (so
//! everything after is deterministic), ignores junk (`.DS_Store`, dotfiles, other
//! extensions), reports files that cannot be loaded (malformed, empty, unreadable) and groups
//! the rest: one document per file by path pattern (`data/{user_id}/{id}.json`), one
//! collection per NDJSON or array file, one per top-level key of a dump. `--config` patterns
//! come first. Files are only read; each file's hash is kept so that a file changing between
//! the passes is noticed instead of staged half-old, half-new.
//!
//! Names are taken byte for byte: a name that is not UTF-8 is escaped losslessly (see `name`),
//! so two files never become one document. Symbolic links are followed only to files inside
//! the store (a link out of it is reported as not loaded, with its target), unless
//! `--follow-symlinks` asks for every link, directories included.

use super::JsonError;
use super::read::{REPEATED_KEY, hash, read_file, repeats_a_key, strip_bom};
pub use super::store::{Capture, Collection, Kind, Links, SourceFile, Store, TreeFile};
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
pub fn discover(source: &Path, config: &Config, links: Links) -> Result<Store, JsonError> {
    let mut store = Store::default();
    let mut files = Vec::new();
    if source.is_dir() {
        let root = source.canonicalize().map_err(|e| JsonError::Io {
            path: source.to_path_buf(),
            source: e,
        })?;
        let mut walker = Walker {
            root: root.clone(),
            links,
            above: vec![root.clone()],
            files: &mut files,
            store: &mut store,
        };
        walker.walk(source, &root, "", Path::new(""))?;
    } else {
        // Named on the command line: a link is followed, and read where it leads.
        let name = source.file_name().unwrap_or_default();
        let path = source.canonicalize().map_err(|e| JsonError::Io {
            path: source.to_path_buf(),
            source: e,
        })?;
        files.push((super::name::escape(name), path.clone(), 0));
        store.tree.push(TreeFile {
            rel: PathBuf::from(name),
            path,
            hash: None,
        });
    }
    let mut documents = Vec::new();
    let mut by_file = Vec::new();
    for (rel, path, tree_index) in files {
        let lines = json_ext(&rel).unwrap_or(false);
        let Some((content, hash)) = classify(&rel, &path, lines, &mut store.problems) else {
            continue;
        };
        store.tree[tree_index].hash = Some(hash);
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

/// The walk of a directory tree: which names are files of the store, which are ignored, and
/// which links are followed.
struct Walker<'a> {
    /// The store's directory, resolved.
    root: PathBuf,
    links: Links,
    /// The resolved directories being walked, root first: a link back to one is a cycle.
    above: Vec<PathBuf>,
    /// `(rel, path to read, index in store.tree)` of each file with a JSON extension.
    files: &'a mut Vec<(String, PathBuf, usize)>,
    store: &'a mut Store,
}

impl Walker<'_> {
    /// Walks `dir` (resolved: `real`) in name order (the names' bytes); `prefix` and
    /// `raw_prefix` are its path from the root, escaped and as bytes.
    fn walk(
        &mut self,
        dir: &Path,
        real: &Path,
        prefix: &str,
        raw_prefix: &Path,
    ) -> Result<(), JsonError> {
        let io = |source| JsonError::Io {
            path: dir.to_path_buf(),
            source,
        };
        // Keyed by the name's bytes: two names that differ only in bytes that are not UTF-8
        // stay two entries (and their escaped texts differ too).
        let mut names: BTreeMap<std::ffi::OsString, PathBuf> = BTreeMap::new();
        for e in std::fs::read_dir(dir).map_err(io)? {
            let e = e.map_err(io)?;
            names.insert(e.file_name(), e.path());
        }
        for (raw, path) in names {
            let name = super::name::escape(&raw);
            let rel = format!("{prefix}{name}");
            let raw_rel = raw_prefix.join(&raw);
            if is_junk(&name) {
                self.store.ignored.push(rel);
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                self.store.ignored.push(rel);
                continue;
            };
            if meta.is_symlink() {
                self.link(&path, &name, rel, raw_rel)?;
            } else if meta.is_dir() {
                self.walk_into(&path, real.join(&raw), &rel, &raw_rel)?;
            } else if meta.is_file() {
                self.file(&name, rel, raw_rel, path);
            } else {
                self.store.ignored.push(rel);
            }
        }
        Ok(())
    }

    fn walk_into(
        &mut self,
        dir: &Path,
        real: PathBuf,
        rel: &str,
        raw_rel: &Path,
    ) -> Result<(), JsonError> {
        self.above.push(real.clone());
        let r = self.walk(dir, &real, &format!("{rel}/"), raw_rel);
        self.above.pop();
        r
    }

    /// A regular file (or a followed link to one): a candidate document, or ignored.
    fn file(&mut self, name: &str, rel: String, raw_rel: PathBuf, path: PathBuf) {
        self.store.tree.push(TreeFile {
            rel: raw_rel,
            path: path.clone(),
            hash: None,
        });
        if json_ext(name).is_some() {
            self.files.push((rel, path, self.store.tree.len() - 1));
        } else {
            self.store.ignored.push(rel);
        }
    }

    /// A symbolic link: followed when it stays inside the store (files only) or when links are
    /// followed; a link out of the store to what would be loaded is reported, never read.
    fn link(
        &mut self,
        path: &Path,
        name: &str,
        rel: String,
        raw_rel: PathBuf,
    ) -> Result<(), JsonError> {
        let target = match path.canonicalize() {
            Ok(t) => t,
            Err(e) if json_ext(name).is_some() => {
                self.problem(
                    rel,
                    format!("not loaded: a symbolic link that leads nowhere: {e}"),
                );
                return Ok(());
            }
            Err(_) => {
                self.store.ignored.push(rel);
                return Ok(());
            }
        };
        let is_dir = target.is_dir();
        let inside = target.starts_with(&self.root);
        let follow = self.links == Links::Follow;
        if !inside && !follow && (is_dir || json_ext(name).is_some()) {
            let what = if is_dir { "a directory" } else { "a file" };
            self.problem(
                rel,
                format!(
                    "not loaded: a symbolic link to {what} outside the store ({}); \
                     --follow-symlinks reads it",
                    target.display()
                ),
            );
        } else if is_dir && follow && !self.above.contains(&target) {
            self.walk_into(path, target, &rel, &raw_rel)?;
        } else if !is_dir && (inside || follow) && target.is_file() {
            self.file(name, rel, raw_rel, target);
        } else {
            // Links to directories inside the store (their files are walked where they are),
            // links back to a directory being walked, links out of the store to other files.
            self.store.ignored.push(rel);
        }
        Ok(())
    }

    fn problem(&mut self, rel: String, reason: String) {
        self.store.problems.push(FileProblem { path: rel, reason });
    }
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
    let bytes = match read_file(path) {
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
        let store = discover(d, &Config::default(), Links::default()).unwrap();
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
        let store = discover(
            &dir.path().join("a.json"),
            &Config::default(),
            Links::default(),
        )
        .unwrap();
        write(dir.path(), "a.json", br#"[{"a": 2}]"#);
        let r = store.collections[0].for_each_record(&mut |_| Ok(()));
        assert!(matches!(r, Err(JsonError::Changed { .. })));
    }

    #[test]
    fn json_followed_links_never_loop() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "a/1.json", br#"{"n": 1}"#);
        std::os::unix::fs::symlink("..", d.join("a/up")).unwrap();
        std::os::unix::fs::symlink("a", d.join("b")).unwrap();
        let rels = |links| {
            let store = discover(d, &Config::default(), links).unwrap();
            let mut rels: Vec<String> = store
                .collections
                .iter()
                .flat_map(|c| c.files.iter().map(|f| f.rel.clone()))
                .collect();
            rels.sort();
            (rels, store.ignored)
        };
        // Links to directories inside the store are not followed by default.
        assert_eq!(
            rels(Links::StayInside),
            (
                vec!["a/1.json".to_string()],
                vec!["a/up".into(), "b".into()]
            )
        );
        // Followed, `b` is walked once and the links back up are not.
        assert_eq!(
            rels(Links::Follow),
            (
                vec!["a/1.json".to_string(), "b/1.json".into()],
                vec!["a/up".into(), "b/up".into()]
            )
        );
    }

    #[test]
    fn json_a_file_swapped_for_a_link_after_discovery_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let store_dir = dir.path().join("store");
        write(&store_dir, "a.json", br#"[{"a": 1}]"#);
        write(dir.path(), "outside.json", br#"[{"a": 1}]"#);
        let store = discover(&store_dir, &Config::default(), Links::default()).unwrap();
        std::fs::remove_file(store_dir.join("a.json")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside.json"), store_dir.join("a.json"))
            .unwrap();
        let r = store.collections[0].for_each_record(&mut |_| Ok(()));
        assert!(matches!(r, Err(JsonError::Io { .. })));
    }
}
