//! `export --to-json` (issue 14, item 8): a JSON store migrated by pgcarry comes back as files —
//! each document reassembled from its tables at its own path, every leaf proven against the
//! rows — and refuses what it cannot do without writing anything.

use crate::json::{chat_store, dump_store, tree, write};
use crate::support::{migrate_cmd, output, pgcarry, test_db};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Every file under `root` (relative path → parsed JSON, or the lines of an NDJSON file).
fn documents(root: &Path) -> BTreeMap<String, Vec<Value>> {
    let prefix = format!("{}/", root.display());
    tree(root)
        .into_iter()
        .map(|(path, bytes)| {
            let rel = path.strip_prefix(&prefix).unwrap_or(&path).to_string();
            let text = String::from_utf8(bytes).unwrap();
            let values = if rel.ends_with(".ndjson") {
                // Line numbers matter (they are the records' keys): blank lines stay.
                text.lines()
                    .map(|l| match l.trim() {
                        "" => Value::Null,
                        l => serde_json::from_str(l).unwrap(),
                    })
                    .collect()
            } else {
                vec![serde_json::from_str(&text).unwrap()]
            };
            (rel, values)
        })
        .collect()
}

/// Asserts that two stores hold the same files with the same documents, naming what differs.
fn assert_same_store(got: &Path, want: &Path, context: &str) {
    let (got, want) = (documents(got), documents(want));
    let names = |m: &BTreeMap<String, Vec<Value>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&got), names(&want), "{context}");
    for (rel, docs) in &want {
        assert_eq!(&got[rel], docs, "{rel}\n{context}");
    }
}

fn export_json(url: &str, schema: &str, dir: &Path) -> assert_cmd::Command {
    let mut cmd = pgcarry();
    cmd.args(["export", "--from", url, "--schema", schema, "--to-json"])
        .arg(dir);
    cmd
}

#[test]
fn export_to_json_gives_the_store_back() {
    let db = test_db("exjson");
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("store");
    chat_store(&src);
    dump_store(&src);
    // Documents with nulls, absent fields, empty arrays and objects, scalars at the top.
    write(
        &src,
        "notes.ndjson",
        b"{\"n\": 1, \"tags\": [], \"v\": null}\n\"just text\"\n{\"n\": 2, \"v\": {}, \"x\": [{\"k\": null}]}\n",
    );
    migrate_cmd(dir.path(), &src, &db.url).assert().success();

    let out = dir.path().join("back");
    let a = export_json(&db.url, "public", &out).assert().success();
    let text = output(&a);
    assert!(text.contains("exported and verified"), "{text}");
    assert!(!dir.path().join("back.partial").exists());
    assert_same_store(&out, &src, &text);

    // The written store migrates again to the same rows.
    let again = test_db("exjson_again");
    let a = migrate_cmd(dir.path(), &out, &again.url).assert().success();
    let v = pgcarry()
        .args(["verify", "--to", &again.url])
        .arg(&out)
        .assert();
    assert_eq!(
        v.get_output().status.code(),
        Some(0),
        "{}\n{}",
        output(&a),
        output(&v)
    );

    // An existing directory is never replaced without --force; with it, it is.
    let a = export_json(&db.url, "public", &out).assert().code(2);
    assert!(output(&a).contains("--force"), "{}", output(&a));
    std::fs::write(out.join("mine.txt"), b"kept?").unwrap();
    export_json(&db.url, "public", &out)
        .arg("--force")
        .assert()
        .success();
    assert!(!out.join("mine.txt").exists());
    assert_same_store(&out, &src, "");
}

#[test]
fn export_to_json_writes_what_the_application_changed() {
    let db = test_db("exjson_changed");
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("store");
    chat_store(&src);
    migrate_cmd(dir.path(), &src, &db.url).assert().success();
    let mut client = db.client();
    client
        .batch_execute(
            "UPDATE data SET title = 'renamed' WHERE id::text LIKE '00000000-%-000000000000';
             DELETE FROM data__messages__stage1 WHERE position = 1;",
        )
        .unwrap();
    let out = dir.path().join("back");
    let a = export_json(&db.url, "public", &out).assert().success();
    let docs = documents(&out);
    let first = &docs["data/111111111/00000000-0000-4000-8000-000000000000.json"][0];
    assert_eq!(first["title"], "renamed", "{}", output(&a));
    let stage1 = first["messages"][1]["stage1"].as_array().unwrap();
    assert_eq!(stage1.len(), 1);
}

#[test]
fn export_to_json_refuses_what_it_cannot_write() {
    let db = test_db("exjson_refuse");
    let dir = tempfile::tempdir().unwrap();
    // Not a store pgcarry migrated.
    db.client()
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY)")
        .unwrap();
    let out = dir.path().join("back");
    let a = export_json(&db.url, "public", &out).assert().code(2);
    assert!(output(&a).contains("no JSON store"), "{}", output(&a));
    assert!(!out.exists());

    // A document whose path was changed to leave the directory: refused, nothing written.
    let src = dir.path().join("store");
    write(&src, "a/one.json", br#"{"v": 1}"#);
    write(&src, "a/two.json", br#"{"v": 2}"#);
    migrate_cmd(dir.path(), &src, &db.url)
        .args(["--schema", "store"])
        .assert()
        .success();
    let mut client = db.client();
    let key: String = client
        .query_one(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = 'store' AND table_name = 'a' AND column_name <> 'v'",
            &[],
        )
        .unwrap()
        .get(0);
    let was: String = client
        .query_one(
            &format!("SELECT \"{key}\"::text FROM store.a WHERE v = 1"),
            &[],
        )
        .unwrap()
        .get(0);
    client
        .batch_execute(&format!(
            "UPDATE store.a SET \"{key}\" = '../../escaped' WHERE v = 1"
        ))
        .unwrap();
    let a = export_json(&db.url, "store", &out).assert().code(1);
    assert!(output(&a).contains("../../escaped"), "{}", output(&a));
    assert!(!out.exists());
    assert!(!dir.path().join("escaped.json").exists());
    // The partial directory is pgcarry's: a run after fixing the row replaces it.
    client
        .batch_execute(&format!(
            "UPDATE store.a SET \"{key}\" = '{was}' WHERE v = 1"
        ))
        .unwrap();
    export_json(&db.url, "store", &out).assert().success();
    assert_same_store(&out, &src, "");
}
