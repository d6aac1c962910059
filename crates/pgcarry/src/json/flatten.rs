//! The second pass: one (augmented) document into rows of its tables, by the layout. Values
//! are stored so that nothing is rounded: integers as integers, doubles only when their
//! shortest text is the literal, every other number as its literal text, booleans as 0/1,
//! and values of mixed kinds as their JSON text. A value the layout did not foresee is a bug
//! (the file was hashed, so it cannot have changed), reported as such.

use super::JsonError;
use super::layout::{Layout, Role, Slot, Slots, Storage};
use super::number::{NumberClass, classify};
use rusqlite::types::Value as Sql;
use serde_json::{Map, Value};

/// Emits the rows of one document: the root row first, then each child row after its parent.
pub fn flatten(
    layout: &Layout,
    table: usize,
    doc: &Map<String, Value>,
    out: &mut dyn FnMut(usize, Vec<Sql>) -> Result<(), JsonError>,
) -> Result<(), JsonError> {
    emit(layout, table, doc, &[], 0, out)
}

fn emit(
    layout: &Layout,
    table: usize,
    obj: &Map<String, Value>,
    parent_key: &[Sql],
    position: i64,
    out: &mut dyn FnMut(usize, Vec<Sql>) -> Result<(), JsonError>,
) -> Result<(), JsonError> {
    let t = &layout.tables[table];
    let mut row = vec![Sql::Null; t.columns.len()];
    for (i, c) in t.columns.iter().enumerate() {
        match c.role {
            Role::ParentKey(j) => row[i] = parent_key.get(j).cloned().unwrap_or(Sql::Null),
            Role::Position => row[i] = Sql::Integer(position),
            Role::Field(_) => {}
        }
    }
    let mut children = Vec::new();
    fill(layout, table, &t.slots, obj, &mut row, &mut children)?;
    let key: Vec<Sql> = t.primary_key.iter().map(|&i| row[i].clone()).collect();
    out(table, row)?;
    for (child, items) in children {
        for (i, item) in items.iter().enumerate() {
            let Value::Object(m) = item else {
                return Err(unforeseen(layout, child, "position", item));
            };
            let position = i64::try_from(i).unwrap_or(i64::MAX);
            emit(layout, child, m, &key, position, out)?;
        }
    }
    Ok(())
}

fn fill<'a>(
    layout: &Layout,
    table: usize,
    slots: &Slots,
    obj: &'a Map<String, Value>,
    row: &mut [Sql],
    children: &mut Vec<(usize, &'a Vec<Value>)>,
) -> Result<(), JsonError> {
    for (k, v) in obj {
        match (slots.0.get(k), v) {
            (Some(Slot::Column(i)), v) => {
                let c = &layout.tables[table].columns[*i];
                row[*i] = to_sql(v, c.storage).ok_or_else(|| unforeseen(layout, table, k, v))?;
            }
            (Some(Slot::Object(inner)), Value::Object(m)) => {
                fill(layout, table, inner, m, row, children)?;
            }
            (Some(Slot::Child(t)), Value::Array(a)) => children.push((*t, a)),
            (Some(Slot::Object(_) | Slot::Child(_)), Value::Null) => {}
            _ => return Err(unforeseen(layout, table, k, v)),
        }
    }
    Ok(())
}

fn unforeseen(layout: &Layout, table: usize, field: &str, v: &Value) -> JsonError {
    let mut text = v.to_string();
    text.truncate(80);
    JsonError::Bug(format!(
        "the value {text} of field {field:?} does not fit the layout decided for table {} (a bug in \
         pgcarry; please report it)",
        layout.tables[table].name
    ))
}

/// The SQLite value for `v` in a column of `storage`; `None` when it does not fit.
pub fn to_sql(v: &Value, storage: Storage) -> Option<Sql> {
    Some(match (storage, v) {
        (_, Value::Null) => Sql::Null,
        (Storage::Json, v) => Sql::Text(serde_json::to_string(v).ok()?),
        (Storage::Bool, Value::Bool(b)) => Sql::Integer(i64::from(*b)),
        (Storage::Text, Value::String(s)) => Sql::Text(s.clone()),
        (Storage::Int, Value::Number(n)) => Sql::Integer(n.as_i64()?),
        (Storage::Real, Value::Number(n)) if classify(n) == NumberClass::Real => {
            Sql::Real(n.as_f64()?)
        }
        (Storage::Decimal, Value::Number(n)) => Sql::Text(n.to_string()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::discover::{Capture, Collection, Kind, SourceFile, Store};
    use super::*;
    use serde_json::json;

    /// A store of one NDJSON file holding `docs`, laid out.
    pub(crate) fn laid_out(docs: &[Value]) -> (tempfile::TempDir, Store, Layout) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.ndjson");
        let text: String = docs.iter().map(|d| format!("{d}\n")).collect();
        std::fs::write(&path, &text).unwrap();
        let mut store = Store {
            collections: vec![Collection {
                name: "c".into(),
                kind: Kind::Lines,
                pattern: "c.ndjson".into(),
                captures: Vec::<Capture>::new(),
                files: vec![SourceFile {
                    rel: "c.ndjson".into(),
                    path,
                    hash: xxhash_rust::xxh3::xxh3_64(text.as_bytes()),
                    captures: Vec::new(),
                }],
            }],
            ..Store::default()
        };
        let layout = super::super::layout::infer(&mut store).unwrap();
        (dir, store, layout)
    }

    #[test]
    fn json_flattening_of_nested_documents() {
        let docs = [
            json!({"id": 1, "meta": {"a": {"b": {"c": 1}}, "n": 1.5}, "tags": ["x"],
                   "msgs": [{"role": "user", "n": 12345678901234567890_u64}, {"role": "bot"}],
                   "ok": true, "mixed": 1}),
            json!({"id": 2, "meta": null, "msgs": [], "ok": false, "mixed": "one"}),
        ];
        let (_dir, _store, layout) = laid_out(&docs);
        let cols: Vec<(String, String)> = layout
            .tables
            .iter()
            .flat_map(|t| {
                t.columns
                    .iter()
                    .map(move |c| (format!("{}.{}", t.name, c.name), c.declared.clone()))
            })
            .collect();
        let want = [
            ("c.id", "INTEGER"),
            ("c.meta__a__b", "JSON TEXT"),
            ("c.meta__n", "REAL"),
            ("c.tags", "JSON TEXT"),
            ("c.ok", "BOOLEAN"),
            ("c.mixed", "JSON TEXT"),
            ("c__msgs.parent_id", "INTEGER"),
            ("c__msgs.position", "INTEGER"),
            ("c__msgs.role", "TEXT"),
            ("c__msgs.n", "NUMERIC TEXT"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(cols, want);
        let mut rows = Vec::new();
        let doc = docs[0].as_object().unwrap();
        flatten(&layout, 0, doc, &mut |t, r| {
            rows.push((t, r));
            Ok(())
        })
        .unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].1[1], Sql::Text(r#"{"c":1}"#.into()));
        assert_eq!(rows[0].1[5], Sql::Text("1".into()));
        assert_eq!(
            rows[1].1,
            [
                Sql::Integer(1),
                Sql::Integer(0),
                Sql::Text("user".into()),
                Sql::Text("12345678901234567890".into())
            ]
        );
        assert_eq!(rows[2].1[1], Sql::Integer(1));
    }
}
