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
    /// Every regular file discovery walked (loaded, not loaded or ignored), in walk order:
    /// what `--backup` archives. Never a file outside the tree, unless links are followed.
    pub tree: Vec<TreeFile>,
}

/// Whether discovery follows symbolic links.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Links {
    /// Links to files inside the store are read; links leaving the store are not followed
    /// (reported as not loaded), nor are links to directories.
    #[default]
    StayInside,
    /// `--follow-symlinks`: every link is followed, to files and directories, wherever it
    /// points (a link back to a directory being walked is not, so there is no cycle).
    Follow,
}

/// One file of the tree, as walked.
#[derive(Debug, Clone)]
pub struct TreeFile {
    /// Relative to the store's root, with the name's exact bytes (the archive's entry name).
    pub rel: PathBuf,
    /// Where it is read from (a link's resolved target).
    pub path: PathBuf,
    /// The hash discovery read, for the files whose documents are loaded.
    pub hash: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Capture {
    pub name: String,
    /// Named by pgcarry (not the config): the layout may rename it after a document field
    /// that always holds the same value.
    pub inferred: bool,
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Relative to the store's root, with `/`; names escaped losslessly (see `name`).
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
