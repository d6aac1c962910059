//! What a store is made of, as discovery finds it: collections, each with its kind (documents,
//! an array file, NDJSON, a key of a dump), the captures its path pattern names, and its files.

use crate::model::json::FileProblem;
use std::path::PathBuf;

/// Everything discovery found.
#[derive(Debug, Default)]
pub struct Store {
    pub collections: Vec<Collection>,
    pub ignored: Vec<String>,
    pub problems: Vec<FileProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// One document per file; captures come from the path.
    Documents,
    /// A file holding one array of records.
    Array,
    /// NDJSON: one record per line.
    Lines,
    /// The array under this top-level key of a dump.
    DumpArray(String),
    /// The object of objects under this key of a dump (its keys are captured as `key`).
    DumpMap(String),
}

#[derive(Debug, Clone)]
pub struct Collection {
    pub name: String,
    pub kind: Kind,
    /// The path pattern, with `{0}`, `{1}`… where captures go (documents only).
    pub pattern: String,
    pub captures: Vec<Capture>,
    pub files: Vec<SourceFile>,
}

#[derive(Debug, Clone)]
pub struct Capture {
    pub name: String,
    /// Named by pgcarry (not the config): the layout may rename it after a document field
    /// that always holds the same value.
    pub inferred: bool,
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Relative to the store's root, with `/`.
    pub rel: String,
    pub path: PathBuf,
    pub hash: u64,
    /// Values of the collection's captures, from the path.
    pub captures: Vec<String>,
}

impl Collection {
    /// `data/{user_id}/{id}.json`, `dump.json, key "facts"`, `events.ndjson, one record a line`.
    pub fn origin(&self) -> String {
        let first = self.files.first().map_or("", |f| f.rel.as_str());
        match &self.kind {
            Kind::Documents => {
                let mut p = self.pattern.clone();
                for (i, c) in self.captures.iter().enumerate() {
                    p = p.replace(&format!("{{{i}}}"), &format!("{{{}}}", c.name));
                }
                p
            }
            Kind::Array => format!("{first}, an array of records"),
            Kind::Lines => format!("{first}, one record a line"),
            Kind::DumpArray(k) => format!("{first}, key {k:?}"),
            Kind::DumpMap(k) => format!("{first}, key {k:?} (an object of records)"),
        }
    }
}
