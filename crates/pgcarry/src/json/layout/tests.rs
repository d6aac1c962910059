//! Keys, path captures, references and declared types, decided from whole stores.

use super::*;
use crate::model::config::Config;

fn store(files: &[(&str, &str)]) -> (tempfile::TempDir, Store, Layout) {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let mut store =
        crate::json::discover::discover(dir.path(), &Config::default(), Default::default())
            .unwrap();
    let layout = infer(&mut store).unwrap();
    (dir, store, layout)
}

fn table<'a>(layout: &'a Layout, name: &str) -> &'a TableLayout {
    layout.tables.iter().find(|t| t.name == name).unwrap()
}

fn columns(t: &TableLayout) -> Vec<String> {
    t.columns
        .iter()
        .map(|c| format!("{} {}", c.name, c.declared))
        .collect()
}

fn key(t: &TableLayout) -> Vec<&str> {
    t.primary_key
        .iter()
        .map(|&i| t.columns[i].name.as_str())
        .collect()
}

#[test]
fn json_path_captures_merge_into_fields_and_key_the_collection() {
    let (_d, store, layout) = store(&[
        ("data/7/a1.json", r#"{"user_id": 7, "n": 1}"#),
        ("data/8/b2.json", r#"{"user_id": 8, "n": 2}"#),
        ("data/7/usage.json", r#"{"tier": "free"}"#),
        ("data/8/usage.json", r#"{"tier": "pro"}"#),
        ("users.json", r#"[{"id": 7}, {"id": 8}, {"id": 9}]"#),
    ]);
    // `7` is the document's user_id: merged, no column of its own; the file name is not a
    // field: a column `name`; both are the key (id is absent), key columns first.
    assert_eq!(store.collections[0].origin(), "data/{user_id}/{name}.json");
    let data = table(&layout, "data");
    assert_eq!(columns(data), ["user_id INTEGER", "name TEXT", "n INTEGER"]);
    assert_eq!(key(data), ["user_id", "name"]);
    // usage.json holds no user_id: the path's value is a column, and the key.
    let usage = table(&layout, "usage");
    assert_eq!(columns(usage), ["dir2 TEXT", "tier TEXT"]);
    assert_eq!(key(usage), ["dir2"]);
    // data.user_id → users.id: every value has its parent, of the same kind.
    let users = table(&layout, "users");
    assert_eq!(key(users), ["id"]);
    let r = &data.references;
    assert_eq!(r.len(), 1);
    assert_eq!(layout.tables[r[0].table].name, "users");
}

#[test]
fn json_references_need_every_value_and_the_same_kind() {
    let (_d, _store, layout) = store(&[(
        "dump.json",
        r#"{"facts": [{"id": "a"}, {"id": "b"}],
            "notes": [{"fact_id": "a"}, {"fact_id": "c"}],
            "votes": [{"fact_id": "a"}, {"fact_id": null}],
            "marks": [{"fact_id": 1}]}"#,
    )]);
    let refs = |t: &str| table(&layout, t).references.len();
    assert_eq!(refs("notes"), 0, "c has no fact");
    assert_eq!(refs("votes"), 1, "nulls reference nothing");
    assert_eq!(refs("marks"), 0, "a number is not the text key");
    assert_eq!(key(table(&layout, "votes")), ["_position"]);
}

#[test]
fn json_ids_key_only_when_present_and_unique() {
    let (_d, _store, layout) = store(&[
        ("a.ndjson", "{\"id\": 1}\n{\"id\": 1}\n"),
        ("b.ndjson", "{\"id\": 1}\n{\"x\": 2}\n"),
        ("c.ndjson", "{\"id\": \"x\"}\n{\"id\": \"y\"}\n"),
    ]);
    assert_eq!(key(table(&layout, "a")), ["_line"]);
    assert_eq!(key(table(&layout, "b")), ["_line"]);
    assert_eq!(key(table(&layout, "c")), ["id"]);
}

#[test]
fn json_declared_types_steer_the_sqlite_decisions() {
    let s = |v: serde_json::Value| {
        let mut st = Stats::default();
        for x in v.as_array().unwrap() {
            st.observe(x);
        }
        storage(&st)
    };
    use serde_json::json;
    assert_eq!(s(json!([true, null])), (Storage::Bool, "BOOLEAN"));
    assert_eq!(s(json!([1, 2])), (Storage::Int, "INTEGER"));
    assert_eq!(s(json!([1.5, 0.25])), (Storage::Real, "REAL"));
    assert_eq!(s(json!([1, 1.5])), (Storage::Decimal, "NUMERIC TEXT"));
    assert_eq!(s(json!(["2024-01-01"])), (Storage::Text, "DATE"));
    assert_eq!(
        s(json!(["2024-01-01", "2024-01-01T10:00:00Z"])),
        (Storage::Text, "DATETIME")
    );
    assert_eq!(
        s(json!(["0b8c7f1e-4a8e-4e0e-9a53-1c2d3e4f5a6b"])),
        (Storage::Text, "UUID")
    );
    assert_eq!(s(json!(["a", 1])), (Storage::Json, "JSON TEXT"));
    assert_eq!(s(json!([[1], null])), (Storage::Json, "JSON TEXT"));
    assert_eq!(s(json!([null])), (Storage::Text, "TEXT"));
}

#[test]
fn json_one_field_holds_one_capture() {
    let (_d, _store, layout) = store(&[
        ("a1/a1.json", r#"{"id": "a1"}"#),
        ("b2/b2.json", r#"{"id": "b2"}"#),
    ]);
    let t = table(&layout, "documents");
    assert_eq!(columns(t), ["id TEXT", "name TEXT"]);
    assert_eq!(key(t), ["id"]);
}

#[test]
fn json_a_field_null_in_some_documents_and_absent_from_others_is_said() {
    let (_d, _store, layout) = store(&[(
        "notes.ndjson",
        "{\"id\": 1, \"due\": null, \"tags\": null}\n{\"id\": 2, \"tags\": [1]}\n\
         {\"id\": 3, \"due\": \"2024-05-01\", \"tags\": [\"x\"]}\n",
    )]);
    assert_eq!(
        layout.null_and_absent.len(),
        1,
        "{:?}",
        layout.null_and_absent
    );
    let note = &layout.null_and_absent[0];
    assert!(
        note.contains(".due: null in 1 object(s), absent from 1"),
        "{note}"
    );
}
