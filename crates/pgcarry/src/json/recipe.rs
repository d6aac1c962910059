//! What a migration keeps of a JSON store so that `export --to-json` can write the store again:
//! the layout (which field of which document went to which column of which table, what a
//! missing value was) and, per collection, how its records sit in files. Kept as JSON in the
//! target's record of the store's first table (`pgcarry.sources`).

use super::layout::Layout;
use super::store::{Capture, Kind, Store};
use serde::{Deserialize, Serialize};

/// The recipe's format: a record of another version is not used.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreRecipe {
    pub version: u32,
    pub layout: Layout,
    /// In the layout's collection order.
    pub collections: Vec<CollectionRecipe>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectionRecipe {
    pub name: String,
    pub kind: Kind,
    /// Documents: the path pattern, with `{0}`, `{1}`… where the captures go.
    pub pattern: String,
    /// As the layout named them.
    pub captures: Vec<Capture>,
    /// The file holding every record (not one document per file), as discovery named it.
    pub file: Option<String>,
}

/// The recipe of a staged store.
pub fn recipe(store: &Store, layout: &Layout) -> StoreRecipe {
    StoreRecipe {
        version: VERSION,
        layout: layout.clone(),
        collections: store
            .collections
            .iter()
            .map(|c| CollectionRecipe {
                name: c.name.clone(),
                kind: c.kind.clone(),
                pattern: c.pattern.clone(),
                captures: c.captures.clone(),
                file: match c.kind {
                    Kind::Documents => None,
                    _ => c.files.first().map(|f| f.rel.clone()),
                },
            })
            .collect(),
    }
}

/// The recipe kept in a record, when this pgcarry can use it.
pub fn parse(value: &serde_json::Value) -> Option<StoreRecipe> {
    serde_json::from_value::<StoreRecipe>(value.clone())
        .ok()
        .filter(|r| r.version == VERSION && r.collections.len() == r.layout.collections.len())
}
