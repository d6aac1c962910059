//! What staging a JSON store found, as the plan and the report keep it: where each table came
//! from, the files ignored and the files that could not be loaded.

use serde::{Deserialize, Serialize};

/// A file that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileProblem {
    pub path: String,
    pub reason: String,
}

/// Where each table came from, what was ignored and what could not be loaded.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JsonSummary {
    pub collections: Vec<CollectionSummary>,
    /// Files ignored on purpose (`.DS_Store`, dotfiles, other extensions).
    pub ignored: Vec<String>,
    /// Files (or NDJSON lines) that could not be loaded.
    pub not_loaded: Vec<FileProblem>,
    /// Fields whose values differ in kind across documents, and the type that holds them all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub widened: Vec<String>,
    /// Fields `null` in some documents and absent from others: both load as NULL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub null_and_absent: Vec<String>,
    /// How the store's documents are laid out in tables and files (`json::recipe`), for the
    /// target's record: not part of the report.
    #[serde(skip)]
    pub recipe: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectionSummary {
    pub table: String,
    /// `data/{user_id}/{id}.json`, `dump.json: key facts`, `events.ndjson (lines)`.
    pub origin: String,
    pub documents: u64,
    /// The primary key and why: `id (unique in every document)`.
    pub key: String,
}
