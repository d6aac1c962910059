//! A value PostgreSQL cannot hold sends its row to the rejects file; the other rows load and
//! the run exits 3, naming the table and the count.

use crate::support::{count_rows, migrate_cmd, pgcarry, sqlite_fixture, test_db};

#[test]
fn unrepresentable_values_go_to_the_rejects_file_and_the_run_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "bad.db",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
         INSERT INTO notes VALUES (1, 'fine'), (2, 'nul' || char(0) || 'byte'), (3, 'also fine');
         INSERT INTO notes VALUES (4, CAST(x'c328' AS TEXT));
         CREATE TABLE other (id INTEGER PRIMARY KEY, v TEXT);
         INSERT INTO other VALUES (1, 'ok');",
    );
    let db = test_db("rejects");
    let rejects = dir.path().join("rejects.ndjson");
    let report = dir.path().join("report.json");
    let assert = pgcarry()
        .current_dir(dir.path())
        .args([
            "migrate",
            src.to_str().unwrap(),
            "--to",
            &db.url,
            "--rejects",
        ])
        .arg(&rejects)
        .arg("--report")
        .arg(&report)
        .assert()
        .code(3);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(
        stdout.contains("2 row(s) rejected in notes (2)"),
        "{stdout}"
    );

    let mut c = db.client();
    let ids: Vec<i32> = c
        .query("SELECT id FROM notes ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, vec![1, 3]);
    assert_eq!(count_rows(&mut c, "other"), 1);

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["table"], "notes");
    assert_eq!(lines[0]["key"]["id"], 2);
    assert_eq!(lines[0]["column"], "body");
    assert_eq!(lines[0]["value"], "nul\u{0}byte");
    assert!(lines[0]["reason"].as_str().unwrap().contains("NUL"));
    assert_eq!(lines[0]["row"]["id"], 2);
    // Invalid UTF-8 is kept byte for byte, as base64.
    assert_eq!(lines[1]["key"]["id"], 4);
    assert_eq!(lines[1]["value"]["base64"], "wyg=");

    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let notes = r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "notes")
        .unwrap();
    assert_eq!(notes["source_rows"], 4);
    assert_eq!(notes["rows_written"], 2);
    assert_eq!(notes["rows_rejected"], 2);
    assert_eq!(notes["target_rows"], 2);
    assert!(r["decisions"].as_array().unwrap().len() >= 3);
}

#[test]
fn null_in_a_primary_key_column_is_rejected_not_dropped() {
    // SQLite lets a non-INTEGER primary key hold NULL in a rowid table; PostgreSQL never does.
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "pknull.db",
        "CREATE TABLE k (code TEXT PRIMARY KEY, v INTEGER);
         INSERT INTO k VALUES ('a', 1), (NULL, 2);",
    );
    let db = test_db("pknull");
    migrate_cmd(dir.path(), &src, &db.url).assert().code(3);
    let line = std::fs::read_to_string(dir.path().join("pgcarry-rejects.ndjson")).unwrap();
    assert!(line.contains("NOT NULL"), "{line}");
    let n = count_rows(&mut db.client(), "k");
    assert_eq!(n, 1);
}
