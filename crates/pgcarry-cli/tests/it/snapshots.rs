//! Snapshots of what a person reads: the plan (text and `--sql`) of a small SQLite database and
//! of a JSON store, the summary `migrate` prints, `verify`'s report of a changed target, and
//! the main error messages. What varies from run to run (temp paths, ports, database names,
//! seconds, MB/s) is masked by filters; everything else is compared byte for byte, so a change
//! of wording shows up as a snapshot diff to review (`INSTA_UPDATE=always` rewrites them).

use crate::support::{migrate_cmd, pg, pgcarry, sqlite_fixture, test_db};
use std::path::Path;

/// A shop: keys (single and composite), a UNIQUE, two indexes, two foreign keys (one with ON
/// DELETE CASCADE), defaults, and one column of most types the plan chooses.
const SHOP: &str = r#"
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT,
    born DATE,
    vip BOOLEAN NOT NULL DEFAULT 0,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    total NUMERIC(10,2) NOT NULL,
    weight REAL,
    note TEXT,
    meta JSON,
    receipt BLOB,
    placed_at DATETIME NOT NULL
);
CREATE INDEX orders_customer ON orders(customer_id);
CREATE INDEX orders_placed ON orders(placed_at DESC);
CREATE TABLE order_tags (
    order_id INTEGER NOT NULL REFERENCES orders(id),
    tag TEXT NOT NULL,
    PRIMARY KEY (order_id, tag)
);
INSERT INTO customers (id, email, name, born, vip, created_at) VALUES
  (1, 'ada@example.com', 'Ada', '1815-12-10', 1, '2024-01-02 10:00:00'),
  (2, 'grace@example.com', 'Grace', '1906-12-09', 0, '2024-01-03 11:30:00'),
  (3, 'alan@example.com', NULL, NULL, 0, '2024-01-04 09:15:00.250');
INSERT INTO orders VALUES
  (1, 1, 19.99, 1.5, 'first', '{"gift": true, "items": [1, 2]}', x'DEADBEEF', '2024-02-01 12:00:00'),
  (2, 1, 5.00, NULL, NULL, NULL, NULL, '2024-02-02 08:30:00'),
  (3, 2, 120.50, 12.25, 'bulk ''order''', '{"gift": false}', x'00', '2024-02-03 17:45:10');
INSERT INTO order_tags VALUES (1, 'gift'), (1, 'express'), (3, 'bulk');
"#;

/// The masks: progress timestamps, the seconds and MB/s columns of the summary, a test
/// server's port and database name, and the temporary directory.
fn masks(dir: &Path) -> Vec<(String, &'static str)> {
    let dir = dir.to_string_lossy();
    let canonical = std::fs::canonicalize(dir.as_ref())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| dir.to_string());
    vec![
        (regex_escape(&canonical), "[TMP]"),
        (regex_escape(&dir), "[TMP]"),
        (r"\[ *\d+\.\d+s\]".to_owned(), "[TIME]"),
        (
            r"(?m)^(\S+ +\d+ +\d+ +\d+) +\d+\.\d+ +\d+\.\d+".to_owned(),
            "$1 [SECONDS] [MB/S]",
        ),
        (r"127\.0\.0\.1:\d+".to_owned(), "127.0.0.1:[PORT]"),
        (r"(127\.0\.0\.1:\[PORT\])/\w+".to_owned(), "$1/[DB]"),
    ]
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// Compares `text` with the snapshot `name`, run in `dir`, with the masks applied.
fn assert_masked(name: &str, dir: &Path, text: &str) {
    let masks = masks(dir);
    insta::with_settings!({
        filters => masks.iter().map(|(re, to)| (re.as_str(), *to)),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

/// Runs `cmd`, expects `code`, and returns the exit code, stdout and stderr as one text.
fn run(cmd: &mut assert_cmd::Command, code: i32) -> String {
    let out = cmd.assert().code(code);
    let out = out.get_output();
    format!(
        "exit {code}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Stdout of `cmd`, which must exit with `code`.
fn stdout(cmd: &mut assert_cmd::Command, code: i32) -> String {
    let out = cmd.assert().code(code);
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}

fn shop(dir: &Path) {
    sqlite_fixture(dir, "shop.db", SHOP);
}

/// A chat store: two conversations of one user, one with a nested list of messages.
fn chat_store(dir: &Path) {
    let user = dir.join("store/data/111");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::write(
        user.join("c1.json"),
        r#"{"id": "c1", "title": "Hello", "created_at": "2024-05-01T10:00:00Z",
            "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
            "score": 1.50}"#,
    )
    .unwrap();
    std::fs::write(
        user.join("c2.json"),
        r#"{"id": "c2", "title": null, "created_at": "2024-05-02T10:00:00+02:00",
            "messages": [], "pinned": true}"#,
    )
    .unwrap();
}

#[test]
fn plan_of_a_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    shop(dir.path());
    let mut cmd = pgcarry();
    cmd.current_dir(dir.path()).args(["plan", "shop.db"]);
    assert_masked("plan_sqlite", dir.path(), &stdout(&mut cmd, 0));
}

#[test]
fn plan_sql_of_a_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    shop(dir.path());
    let mut cmd = pgcarry();
    cmd.current_dir(dir.path())
        .args(["plan", "shop.db", "--sql"]);
    assert_masked("plan_sqlite_sql", dir.path(), &stdout(&mut cmd, 0));
}

#[test]
fn plan_of_a_json_store() {
    let dir = tempfile::tempdir().unwrap();
    chat_store(dir.path());
    let mut cmd = pgcarry();
    cmd.current_dir(dir.path()).args(["plan", "store"]);
    assert_masked("plan_json", dir.path(), &stdout(&mut cmd, 0));
}

#[test]
fn migrate_summary() {
    let dir = tempfile::tempdir().unwrap();
    shop(dir.path());
    let db = test_db("snap_migrate");
    let out = stdout(
        &mut migrate_cmd(dir.path(), Path::new("shop.db"), &db.url),
        0,
    );
    assert_masked("migrate_summary", dir.path(), &out);
}

#[test]
fn verify_report_of_a_changed_target() {
    let dir = tempfile::tempdir().unwrap();
    shop(dir.path());
    let db = test_db("snap_verify");
    migrate_cmd(dir.path(), Path::new("shop.db"), &db.url)
        .assert()
        .success();
    db.client()
        .batch_execute(
            "UPDATE orders SET note = 'changed' WHERE id = 1;
             DELETE FROM order_tags WHERE order_id = 3;
             INSERT INTO customers (id, email) VALUES (4, 'new@example.com');",
        )
        .unwrap();
    let mut cmd = pgcarry();
    cmd.current_dir(dir.path())
        .args(["verify", "shop.db", "--to", &db.url]);
    assert_masked("verify_differences", dir.path(), &stdout(&mut cmd, 3));
}

#[test]
fn error_not_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "just text, not a database").unwrap();
    let mut cmd = pgcarry();
    cmd.current_dir(dir.path()).args(["plan", "notes.txt"]);
    assert_masked("error_not_sqlite", dir.path(), &run(&mut cmd, 2));
}

#[test]
fn error_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = pgcarry();
    cmd.current_dir(dir.path()).args(["plan", "missing.db"]);
    assert_masked("error_missing_file", dir.path(), &run(&mut cmd, 2));
    // Given as an absolute path, the message names it as given.
    let mut cmd = pgcarry();
    cmd.current_dir(dir.path())
        .arg("plan")
        .arg(dir.path().join("missing.db"));
    assert_masked("error_missing_file_absolute", dir.path(), &run(&mut cmd, 2));
}

#[test]
fn error_connection_refused() {
    let dir = tempfile::tempdir().unwrap();
    shop(dir.path());
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgresql://app:pw@127.0.0.1:{port}/app?sslmode=disable");
    let mut cmd = migrate_cmd(dir.path(), Path::new("shop.db"), &url);
    assert_masked("error_connection_refused", dir.path(), &run(&mut cmd, 1));
}

#[test]
fn error_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    shop(dir.path());
    let url = pg().url_for("no_such_database");
    let mut cmd = migrate_cmd(dir.path(), Path::new("shop.db"), &url);
    assert_masked("error_missing_database", dir.path(), &run(&mut cmd, 1));
}

#[test]
fn error_existing_tables_without_if_exists() {
    let dir = tempfile::tempdir().unwrap();
    shop(dir.path());
    let db = test_db("snap_existing");
    // The application created two of the tables itself and wrote a row.
    db.client()
        .batch_execute(
            "CREATE TABLE customers (id int PRIMARY KEY, email text);
             INSERT INTO customers VALUES (9, 'app@example.com');
             CREATE TABLE orders (id int);",
        )
        .unwrap();
    let mut cmd = migrate_cmd(dir.path(), Path::new("shop.db"), &db.url);
    assert_masked("error_existing_tables", dir.path(), &run(&mut cmd, 2));
}

#[test]
fn error_schema_pgcarry() {
    let dir = tempfile::tempdir().unwrap();
    shop(dir.path());
    let db = test_db("snap_schema_pgcarry");
    let mut cmd = migrate_cmd(dir.path(), Path::new("shop.db"), &db.url);
    cmd.args(["--schema", "pgcarry"]);
    assert_masked("error_schema_pgcarry", dir.path(), &run(&mut cmd, 2));
}

#[test]
fn error_bad_config_keys() {
    let dir = tempfile::tempdir().unwrap();
    shop(dir.path());
    let cases = [
        (
            "config_unknown_table",
            "[tables.custmers]\nname = \"clients\"\n",
        ),
        (
            "config_unknown_key",
            "[tables.customers]\nnmae = \"clients\"\n",
        ),
        (
            "config_unknown_column",
            "[tables.customers.columns.emial]\ntype = \"text\"\n",
        ),
        (
            "config_lossy_type",
            "[tables.customers.columns.id]\ntype = \"real\"\n",
        ),
    ];
    for (name, toml) in cases {
        std::fs::write(dir.path().join("pgcarry.toml"), toml).unwrap();
        let mut cmd = pgcarry();
        cmd.current_dir(dir.path())
            .args(["plan", "shop.db", "--config", "pgcarry.toml"]);
        let out = format!("--- pgcarry.toml\n{toml}{}", run(&mut cmd, 2));
        assert_masked(&format!("error_{name}"), dir.path(), &out);
    }
}
