//! The first pass over a collection: every value of every document, counted by JSON kind at
//! its path (objects and arrays of objects as nested trees), so that the layout decides from
//! all documents, not the first. Constant memory per distinct path, except the value sets of
//! `id` and `*_id` fields and path captures, kept to choose keys and foreign keys.

use super::number::{NumberClass, classify};
use crate::formats::datetime::{self, Parsed};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};

/// What was seen at one path.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub nulls: u64,
    pub bools: u64,
    pub ints: u64,
    pub reals: u64,
    pub decimals: u64,
    pub strings: u64,
    pub objects: u64,
    pub empty_objects: u64,
    pub object_arrays: u64,
    pub empty_arrays: u64,
    pub other_arrays: u64,
    /// Strings that are ISO dates, date-times without and with an offset, UUIDs.
    pub dates: u64,
    pub naive: u64,
    pub offsets: u64,
    pub uuids: u64,
    /// Canonical leaves seen (tracked fields only) and whether one repeated.
    pub values: Option<BTreeSet<String>>,
    pub repeated: bool,
}

impl Stats {
    pub fn numbers(&self) -> u64 {
        self.ints + self.reals + self.decimals
    }

    pub fn non_null(&self) -> u64 {
        self.bools + self.numbers() + self.strings + self.containers()
    }

    pub fn containers(&self) -> u64 {
        self.objects
            + self.empty_objects
            + self.object_arrays
            + self.empty_arrays
            + self.other_arrays
    }

    pub fn observe(&mut self, v: &Value) {
        match v {
            Value::Null => self.nulls += 1,
            Value::Bool(_) => self.bools += 1,
            Value::Number(n) => match classify(n) {
                NumberClass::Int => self.ints += 1,
                NumberClass::Real => self.reals += 1,
                NumberClass::Decimal => self.decimals += 1,
            },
            Value::String(s) => {
                self.strings += 1;
                match datetime::parse(s.as_bytes()) {
                    Some(Parsed::Date(_)) => self.dates += 1,
                    Some(Parsed::Naive(_)) => self.naive += 1,
                    Some(Parsed::Offset(_)) => self.offsets += 1,
                    None => {}
                }
                if s.len() == 36 && crate::formats::text::parse_uuid_text(s.as_bytes()).is_some() {
                    self.uuids += 1;
                }
            }
            Value::Object(m) if m.is_empty() => self.empty_objects += 1,
            Value::Object(_) => self.objects += 1,
            Value::Array(a) if a.is_empty() => self.empty_arrays += 1,
            Value::Array(a) if a.iter().all(Value::is_object) => self.object_arrays += 1,
            Value::Array(_) => self.other_arrays += 1,
        }
        if let Some(values) = &mut self.values
            && let Some(leaf) = leaf(v)
            && !values.insert(leaf)
        {
            self.repeated = true;
        }
    }
}

/// A scalar in canonical text (`s:…`, `n:<canonical number>`, `b:true`); `None` for null,
/// objects and arrays. Keys, foreign keys and the proof compare values in this form.
pub fn leaf(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(format!("s:{s}")),
        Value::Number(n) => {
            let text = n.to_string();
            Some(format!(
                "n:{}",
                super::number::canonical(&text).unwrap_or(text)
            ))
        }
        Value::Bool(b) => Some(format!("b:{b}")),
        _ => None,
    }
}

/// The fields of the objects seen at one path, in first-seen order.
#[derive(Debug, Clone, Default)]
pub struct Node {
    pub fields: Vec<(String, Field)>,
    /// Objects seen at this path: a field present in fewer is absent from some.
    pub seen: u64,
    index: HashMap<String, usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Field {
    pub stats: Stats,
    /// The fields of the non-empty objects seen here.
    pub object: Option<Box<Node>>,
    /// The fields of the elements of the arrays of objects seen here.
    pub element: Option<Box<Node>>,
}

impl Node {
    pub fn field_mut(&mut self, name: &str) -> &mut Field {
        let i = match self.index.get(name) {
            Some(&i) => i,
            None => {
                self.fields.push((name.to_string(), Field::default()));
                self.index.insert(name.to_string(), self.fields.len() - 1);
                self.fields.len() - 1
            }
        };
        &mut self.fields[i].1
    }

    pub fn get(&self, name: &str) -> Option<&Field> {
        self.index.get(name).map(|&i| &self.fields[i].1)
    }

    /// Puts fields first (synthetic keys and path captures), keeping the rest in order.
    pub fn prepend(&mut self, first: Vec<(String, Field)>) {
        let rest = std::mem::take(&mut self.fields);
        self.fields = first;
        self.fields.extend(rest);
        self.index = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.clone(), i))
            .collect();
    }

    /// Observes one object; `root` tracks the values of `id` and `*_id` fields.
    pub fn observe_object(&mut self, m: &Map<String, Value>, root: bool) {
        self.seen += 1;
        for (k, v) in m {
            let f = self.field_mut(k);
            if root && f.stats.values.is_none() && (k == "id" || k.ends_with("_id")) {
                f.stats.values = Some(BTreeSet::new());
            }
            f.stats.observe(v);
            match v {
                Value::Object(o) if !o.is_empty() => {
                    f.object.get_or_insert_default().observe_object(o, false);
                }
                Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_object) => {
                    let e = f.element.get_or_insert_default();
                    for x in a {
                        if let Value::Object(o) = x {
                            e.observe_object(o, false);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_stats_count_kinds_by_path() {
        let mut root = Node::default();
        for doc in [
            json!({"id": 1, "at": "2024-01-02T03:04:05Z", "m": [{"r": "u"}], "o": {"a": 1}}),
            json!({"id": 1, "at": null, "m": [], "o": {"b": [1, 2]}}),
        ] {
            root.observe_object(doc.as_object().unwrap(), true);
        }
        let id = &root.get("id").unwrap().stats;
        assert_eq!((id.ints, id.repeated), (2, true));
        let at = &root.get("at").unwrap().stats;
        assert_eq!((at.strings, at.offsets, at.nulls), (1, 1, 1));
        let m = root.get("m").unwrap();
        assert_eq!((m.stats.object_arrays, m.stats.empty_arrays), (1, 1));
        assert_eq!(m.element.as_ref().unwrap().fields[0].0, "r");
        let o = root.get("o").unwrap().object.as_ref().unwrap();
        assert_eq!(o.get("b").unwrap().stats.other_arrays, 1);
        assert_eq!(leaf(&json!(1.50)), leaf(&json!(1.5)));
    }
}
