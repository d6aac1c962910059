//! The layout: how documents become tables, decided from the first pass over every document.
//! Objects become columns `a__b` (up to three levels, jsonb beyond); arrays of objects become
//! child tables `parent__field` keyed by the parent's key and a `position`; everything else
//! (scalar arrays, values of different kinds at one path) is one column holding the JSON text
//! exactly. Each column's declared type is the hint that steers the SQLite pipeline's type
//! decision (see `storage`). Keys: the document's `id` when present and unique, else the path
//! captures when unique, else the file, line or position. References between collections
//! (`fact_id` → `facts.id`) become foreign keys only when every value has its parent.

use super::JsonError;
use super::read::Record;
use super::stats::{Field, Node, Stats};
pub use super::storage::{Storage, storage, widened};
use super::store::{Collection, Kind, Store};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

mod references;

/// Objects nested deeper than this many path segments are kept as one jsonb column.
pub const MAX_DEPTH: usize = 3;
/// An object with more distinct keys than this is a map (ids as keys): one jsonb column.
pub const MAX_FIELDS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// The parent row's key column at this index of its primary key.
    ParentKey(usize),
    Position,
    /// The value at this path of the (augmented) document or array element.
    Field(Vec<String>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnLayout {
    pub name: String,
    pub declared: String,
    pub storage: Storage,
    pub role: Role,
    /// What a NULL of this column was in most of the documents: the field `null`, or absent.
    #[serde(default)]
    pub if_null: Missing,
}

/// What a document held where its table has nothing (a NULL, or no child rows): the export
/// back to JSON writes what most documents held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    #[default]
    Absent,
    Null,
    /// An empty array (child tables only).
    Empty,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Slot {
    Column(usize),
    Object(Slots),
    Child(usize),
}

/// Where each field of an object goes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Slots(pub BTreeMap<String, Slot>);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reference {
    pub column: usize,
    pub table: usize,
    pub parent_column: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableLayout {
    pub name: String,
    pub collection: usize,
    pub columns: Vec<ColumnLayout>,
    pub primary_key: Vec<usize>,
    /// The parent table (child tables): the first key columns reference its primary key.
    pub parent: Option<usize>,
    pub references: Vec<Reference>,
    pub slots: Slots,
    /// Columns holding the document's key, and the array positions from outer to inner.
    pub top_key: Vec<usize>,
    pub positions: Vec<usize>,
    /// The paths of the arrays from the document to this table's rows, outer to inner.
    pub array_paths: Vec<Vec<String>>,
    /// Child tables: what the parent held when it has no rows here (`[]`, `null` or nothing).
    #[serde(default)]
    pub if_empty: Missing,
    /// The objects (paths in this table's rows) that were `null` more often than absent when
    /// they were not objects: written back as `null` when every field of theirs is NULL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub null_objects: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaptureUse {
    /// Every document holds the same value in the field of that name.
    Merged,
    /// A column of its own, of this name.
    Column(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectionLayout {
    pub table: usize,
    pub documents: u64,
    pub captures: Vec<CaptureUse>,
    /// A synthetic key column added to each document (`_file`, `_line`, `_position`).
    pub synthetic: Option<String>,
    pub key_reason: String,
    /// Some record was not an object: it is staged as the field `value`.
    #[serde(default)]
    pub wrapped: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Layout {
    pub tables: Vec<TableLayout>,
    pub collections: Vec<CollectionLayout>,
    /// Columns whose values differ in kind, and what keeps them all: `t.c: …`.
    pub widened: Vec<String>,
    /// Plain columns whose field is `null` in some objects and absent from others: both load
    /// as NULL, so the difference is not kept (`t.c: …`).
    pub null_and_absent: Vec<String>,
}

/// The document as staged: synthetic key and captured path segments first, then its fields
/// (a record that is not an object is the field `value`).
pub fn augment(record: Record<'_>, c: &CollectionLayout, kind: &Kind) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(name) = &c.synthetic {
        let v = match kind {
            Kind::Documents => Value::String(record.file.rel.clone()),
            _ => Value::from(record.position),
        };
        m.insert(name.clone(), v);
    }
    for (u, v) in c.captures.iter().zip(&record.captures) {
        if let CaptureUse::Column(name) = u {
            m.insert(name.clone(), Value::String(v.clone()));
        }
    }
    match record.value {
        Value::Object(o) => m.extend(o),
        other => {
            m.insert("value".into(), other);
        }
    }
    m
}

/// What the first pass learnt about one collection.
struct Seen {
    root: Node,
    documents: u64,
    /// Per capture: document fields that always hold the captured value.
    candidates: Vec<Option<Vec<String>>>,
    capture_stats: Vec<Stats>,
    tuples: BTreeSet<Vec<String>>,
    tuples_repeat: bool,
    /// Some record was not an object.
    wrapped: bool,
}

fn first_pass(c: &Collection) -> Result<Seen, JsonError> {
    let mut seen = Seen {
        root: Node::default(),
        documents: 0,
        candidates: vec![None; c.captures.len()],
        capture_stats: (0..c.captures.len())
            .map(|_| Stats {
                values: Some(BTreeSet::new()),
                ..Stats::default()
            })
            .collect(),
        tuples: BTreeSet::new(),
        tuples_repeat: false,
        wrapped: false,
    };
    c.for_each_record(&mut |r| {
        seen.documents += 1;
        let wrapped;
        let m = match &r.value {
            Value::Object(m) => m,
            other => {
                seen.wrapped = true;
                wrapped = Map::from_iter([("value".to_string(), other.clone())]);
                &wrapped
            }
        };
        seen.root.observe_object(m, true);
        for (i, v) in r.captures.iter().enumerate() {
            seen.capture_stats[i].observe(&Value::String(v.clone()));
            let equal: Vec<String> = m
                .iter()
                .filter(|(_, x)| match x {
                    Value::String(s) => s == v,
                    Value::Number(n) => n.to_string() == *v,
                    _ => false,
                })
                .map(|(k, _)| k.clone())
                .collect();
            let cand = &mut seen.candidates[i];
            *cand = Some(match cand.take() {
                None => equal,
                Some(prev) => prev.into_iter().filter(|k| equal.contains(k)).collect(),
            });
        }
        if !r.captures.is_empty() && !seen.tuples.insert(r.captures.clone()) {
            seen.tuples_repeat = true;
        }
        Ok(())
    })?;
    Ok(seen)
}

/// Reads every document once and decides the layout. Renames inferred captures after the
/// document field that always holds their value.
pub fn infer(store: &mut Store) -> Result<Layout, JsonError> {
    let mut b = Builder::default();
    let mut roots = Vec::new();
    for ci in 0..store.collections.len() {
        let seen = first_pass(&store.collections[ci])?;
        let c = &mut store.collections[ci];
        let mut captures = Vec::new();
        let mut added = Vec::new();
        let mut merged_into: Vec<String> = Vec::new();
        for (i, cap) in c.captures.iter_mut().enumerate() {
            // A field holds at most one capture (`{id}/{id}.json` keeps the second apart).
            let cands: Vec<String> = seen.candidates[i]
                .clone()
                .unwrap_or_default()
                .into_iter()
                .filter(|k| !merged_into.contains(k))
                .collect();
            let merged = if cap.inferred {
                let pick = cands
                    .iter()
                    .find(|k| *k == "id")
                    .or_else(|| cands.iter().find(|k| k.ends_with("_id")))
                    .or(cands.first());
                if let Some(k) = pick {
                    cap.name = k.clone();
                }
                pick.is_some()
            } else {
                cands.contains(&cap.name)
            };
            if merged {
                merged_into.push(cap.name.clone());
                captures.push(CaptureUse::Merged);
            } else {
                let name = free_field_name(&seen.root, &added, &cap.name);
                cap.name = name.clone();
                added.push((
                    name.clone(),
                    Field {
                        stats: seen.capture_stats[i].clone(),
                        ..Field::default()
                    },
                ));
                captures.push(CaptureUse::Column(name));
            }
        }
        let mut root = seen.root;
        let id_key = root.get("id").is_some_and(|f| {
            let s = &f.stats;
            !s.repeated && (s.ints == seen.documents || s.strings == seen.documents)
        });
        let capture_key_names: Vec<String> = c.captures.iter().map(|x| x.name.clone()).collect();
        let (synthetic, key_names, key_reason) = if id_key {
            (
                None,
                vec!["id".to_string()],
                "id (present and unique in every document)".to_string(),
            )
        } else if !c.captures.is_empty() && !seen.tuples_repeat {
            let reason = format!("{} (from the path, unique)", capture_key_names.join(", "));
            (None, capture_key_names, reason)
        } else {
            let (base, stats, why) = match c.kind {
                Kind::Documents => (
                    "_file",
                    Stats {
                        strings: seen.documents,
                        ..Stats::default()
                    },
                    "the file's path",
                ),
                Kind::Lines => (
                    "_line",
                    Stats {
                        ints: seen.documents,
                        ..Stats::default()
                    },
                    "the line number",
                ),
                _ => (
                    "_position",
                    Stats {
                        ints: seen.documents,
                        ..Stats::default()
                    },
                    "the position in the array",
                ),
            };
            let name = free_field_name(&root, &added, base);
            added.insert(
                0,
                (
                    name.clone(),
                    Field {
                        stats,
                        ..Field::default()
                    },
                ),
            );
            let reason = format!("{name} ({why}): no unique id in the documents");
            (Some(name.clone()), vec![name], reason)
        };
        root.prepend(added);
        let table = b.root_table(ci, &c.name, &root, &key_names);
        roots.push(root);
        b.layout.collections.push(CollectionLayout {
            table,
            documents: seen.documents,
            captures,
            synthetic,
            key_reason,
            wrapped: seen.wrapped,
        });
    }
    references::find(&mut b.layout, &roots);
    Ok(b.layout)
}

/// What most of the `seen` objects held at a field of these stats when they held no value:
/// `null`, nothing, or (`arrays`) an empty array.
fn missing(s: &Stats, seen: u64, arrays: bool) -> Missing {
    let absent = seen.saturating_sub(s.nulls + s.non_null());
    let empty = if arrays { s.empty_arrays } else { 0 };
    if empty > 0 && empty >= s.nulls && empty >= absent {
        Missing::Empty
    } else if s.nulls > 0 && s.nulls >= absent {
        Missing::Null
    } else {
        Missing::Absent
    }
}

fn free_field_name(root: &Node, added: &[(String, Field)], base: &str) -> String {
    let taken = |n: &str| {
        root.fields.iter().any(|(k, _)| k.eq_ignore_ascii_case(n))
            || added.iter().any(|(k, _)| k.eq_ignore_ascii_case(n))
    };
    let mut name = base.to_string();
    let mut n = 2;
    while taken(&name) {
        name = if n == 2 {
            format!("path_{base}")
        } else {
            format!("path_{base}_{n}")
        };
        n += 1;
    }
    name
}

#[derive(Default)]
struct Builder {
    layout: Layout,
    taken: BTreeSet<String>,
}

impl Builder {
    fn root_table(&mut self, ci: usize, name: &str, root: &Node, key: &[String]) -> usize {
        let t = self.new_table(ci, name, None, Vec::new());
        // Key columns first: child tables copy them.
        let mut slots = Slots::default();
        let mut pk = Vec::new();
        for k in key {
            let s = root.get(k).map(|f| f.stats.clone()).unwrap_or_default();
            let c = self.add_column(t, k, storage(&s), Role::Field(vec![k.clone()]));
            slots.0.insert(k.clone(), Slot::Column(c));
            pk.push(c);
        }
        let table = &mut self.layout.tables[t];
        table.top_key.clone_from(&pk);
        table.primary_key = pk;
        self.place(t, &[], root, &mut slots);
        self.layout.tables[t].slots = slots;
        t
    }

    fn new_table(
        &mut self,
        ci: usize,
        name: &str,
        parent: Option<usize>,
        array_paths: Vec<Vec<String>>,
    ) -> usize {
        let name = super::discover::unique_table_name(name, &mut self.taken);
        self.layout.tables.push(TableLayout {
            name,
            collection: ci,
            columns: Vec::new(),
            primary_key: Vec::new(),
            parent,
            references: Vec::new(),
            slots: Slots::default(),
            top_key: Vec::new(),
            positions: Vec::new(),
            array_paths,
            if_empty: Missing::Absent,
            null_objects: Vec::new(),
        });
        self.layout.tables.len() - 1
    }

    fn add_column(&mut self, t: usize, base: &str, storage: (Storage, &str), role: Role) -> usize {
        let cols = &mut self.layout.tables[t].columns;
        let mut name = base.to_string();
        let mut n = 2;
        while cols.iter().any(|c| c.name.eq_ignore_ascii_case(&name)) {
            name = format!("{base}_{n}");
            n += 1;
        }
        cols.push(ColumnLayout {
            name,
            declared: storage.1.to_string(),
            storage: storage.0,
            role,
            if_null: Missing::Absent,
        });
        cols.len() - 1
    }

    /// Places the fields of `node` (objects at `prefix` of table `t`'s rows).
    fn place(&mut self, t: usize, prefix: &[String], node: &Node, slots: &mut Slots) {
        for (k, f) in &node.fields {
            if slots.0.contains_key(k) {
                continue;
            }
            let mut path = prefix.to_vec();
            path.push(k.clone());
            let s = &f.stats;
            let only = |n: u64| n > 0 && n == s.non_null();
            let slot = match (&f.object, &f.element) {
                (Some(o), _)
                    if only(s.objects)
                        && path.len() < MAX_DEPTH
                        && o.fields.len() <= MAX_FIELDS =>
                {
                    let mut inner = Slots::default();
                    if missing(s, node.seen, false) == Missing::Null {
                        self.layout.tables[t].null_objects.push(path.clone());
                    }
                    self.place(t, &path, o, &mut inner);
                    Slot::Object(inner)
                }
                (_, Some(e)) if s.object_arrays > 0 && only(s.object_arrays + s.empty_arrays) => {
                    let child = self.child_table(t, &path, e);
                    self.layout.tables[child].if_empty = missing(s, node.seen, true);
                    Slot::Child(child)
                }
                _ => {
                    let st = storage(s);
                    let c = self.add_column(t, &path.join("__"), st, Role::Field(path));
                    self.layout.tables[t].columns[c].if_null = missing(s, node.seen, false);
                    let table = &self.layout.tables[t];
                    let column = format!("{}.{}", table.name, table.columns[c].name);
                    if let Some(why) = widened(s, st.0) {
                        self.layout.widened.push(format!("{column}: {why}"));
                    }
                    let present = s.nulls + s.non_null();
                    if st.0 != Storage::Json && s.nulls > 0 && present < node.seen {
                        self.layout.null_and_absent.push(format!(
                            "{column}: null in {} object(s), absent from {}; both load as NULL",
                            s.nulls,
                            node.seen - present
                        ));
                    }
                    Slot::Column(c)
                }
            };
            slots.0.insert(k.clone(), slot);
        }
    }

    fn child_table(&mut self, parent: usize, path: &[String], element: &Node) -> usize {
        let p = &self.layout.tables[parent];
        let name = format!("{}__{}", p.name, path.join("__"));
        let mut arrays = p.array_paths.clone();
        arrays.push(path.to_vec());
        let parent_key: Vec<(String, String, Storage)> = p
            .primary_key
            .iter()
            .map(|&i| {
                let c = &p.columns[i];
                (format!("parent_{}", c.name), c.declared.clone(), c.storage)
            })
            .collect();
        let (top_n, ci) = (p.top_key.len(), p.collection);
        let t = self.new_table(ci, &name, Some(parent), arrays);
        let mut key = Vec::new();
        for (i, (name, declared, storage)) in parent_key.into_iter().enumerate() {
            key.push(self.add_column(t, &name, (storage, &declared), Role::ParentKey(i)));
        }
        key.push(self.add_column(t, "position", (Storage::Int, "INTEGER"), Role::Position));
        let table = &mut self.layout.tables[t];
        table.top_key = key[..top_n].to_vec();
        table.positions = key[top_n..].to_vec();
        table.primary_key = key;
        // Grandchildren copy the key set above.
        let mut slots = Slots::default();
        self.place(t, &[], element, &mut slots);
        self.layout.tables[t].slots = slots;
        t
    }
}

#[cfg(test)]
mod tests;
