//! Opt-in repairs of text PostgreSQL cannot hold: without them the rows are rejected (exit 3);
//! with `--strip-nul --replace-invalid-utf8` every row loads, the report counts the values
//! changed per column, the run exits 0, and `verify` with the same flags agrees.

use crate::support::{migrate_cmd, pgcarry, sqlite_fixture, test_db};

const FIXTURE: &str = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
     INSERT INTO notes VALUES (1, 'fine'), (2, 'a' || char(0) || 'b');
     INSERT INTO notes VALUES (3, CAST(x'c328' AS TEXT));";

const FLAGS: [&str; 2] = ["--strip-nul", "--replace-invalid-utf8"];

#[test]
fn without_flags_the_rows_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(dir.path(), "bad.db", FIXTURE);
    let db = test_db("norepair");
    let assert = migrate_cmd(dir.path(), &src, &db.url).assert().code(3);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(
        stdout.contains("2 row(s) rejected in notes (2)"),
        "{stdout}"
    );
    assert!(!stdout.contains("changed by"), "{stdout}");
}

#[test]
fn with_flags_every_row_loads_repaired_counted_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(dir.path(), "bad.db", FIXTURE);
    let src = src.to_str().unwrap();
    let db = test_db("repairs");

    // The plan shows the decision.
    let plan = pgcarry()
        .current_dir(dir.path())
        .args(["plan", src])
        .args(FLAGS)
        .assert()
        .success();
    let plan = String::from_utf8_lossy(&plan.get_output().stdout).to_string();
    assert!(
        plan.contains("repaired (--strip-nul, --replace-invalid-utf8)"),
        "{plan}"
    );
    assert!(!plan.contains("Rows that will be rejected"), "{plan}");

    let report = dir.path().join("report.json");
    let assert = pgcarry()
        .current_dir(dir.path())
        .args(["migrate", src, "--to", &db.url])
        .args(FLAGS)
        .arg("--report")
        .arg(&report)
        .assert()
        .code(0);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(
        stdout.contains("changed by --strip-nul: notes.body 1 value"),
        "{stdout}"
    );
    assert!(
        stdout.contains("changed by --replace-invalid-utf8: notes.body 1 value"),
        "{stdout}"
    );
    assert!(!stdout.contains("rejected in"), "{stdout}");

    let mut c = db.client();
    let rows: Vec<(i32, String)> = c
        .query("SELECT id, body FROM notes ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        vec![
            (1, "fine".to_string()),
            (2, "ab".to_string()),
            (3, "\u{FFFD}(".to_string())
        ]
    );

    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let notes = r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "notes")
        .unwrap();
    assert_eq!(notes["rows_written"], 3);
    assert_eq!(notes["rows_rejected"], 0);
    assert_eq!(notes["verified"], true);
    assert_eq!(notes["repaired"][0]["column"], "body");
    assert_eq!(notes["repaired"][0]["strip_nul"], 1);
    assert_eq!(notes["repaired"][0]["replace_invalid_utf8"], 1);

    // Run again: every table is kept from the first run, and the counts are still reported.
    let again = pgcarry()
        .current_dir(dir.path())
        .args(["migrate", src, "--to", &db.url])
        .args(FLAGS)
        .assert()
        .code(0);
    let stdout = String::from_utf8_lossy(&again.get_output().stdout).to_string();
    let stderr = String::from_utf8_lossy(&again.get_output().stderr).to_string();
    assert!(stderr.contains("resuming"), "{stderr}");
    assert!(
        stdout.contains("changed by --strip-nul: notes.body 1 value"),
        "{stdout}"
    );

    // The verification's source side hashes the repaired values: with the flags it passes.
    pgcarry()
        .current_dir(dir.path())
        .args(["verify", src, "--to", &db.url])
        .args(FLAGS)
        .assert()
        .code(0);
}

#[test]
fn with_one_flag_the_plan_forecasts_exactly_which_rows_are_still_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(dir.path(), "bad.db", FIXTURE);
    let src = src.to_str().unwrap();
    let plan = pgcarry()
        .current_dir(dir.path())
        .args(["plan", src, "--strip-nul"])
        .assert()
        .success();
    let plan = String::from_utf8_lossy(&plan.get_output().stdout).to_string();
    assert!(
        plan.contains(
            "--strip-nul repairs 1 of them, and the 1 row(s) with invalid UTF-8 \
             (--replace-invalid-utf8 not given) go to the rejects file"
        ),
        "{plan}"
    );
    let db = test_db("one_repair");
    let out = migrate_cmd(dir.path(), std::path::Path::new(src), &db.url)
        .arg("--strip-nul")
        .assert()
        .code(3);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("1 row(s) rejected in notes (1)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("changed by --strip-nul: notes.body 1 value"),
        "{stdout}"
    );
}
