//! `--config FILE`: a person overrides a type, a name, or skips a table; the plan says so, and a
//! typo is an error rather than silently ignored.

use crate::support::{migrate_cmd, pgcarry, sqlite_fixture, test_db};

#[test]
fn config_overrides_types_and_names_and_skips_tables() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, flags INTEGER, note TEXT);
         INSERT INTO users VALUES (1, 0, 'a'), (2, 1, 'b'), (3, 7, 'c');
         CREATE TABLE cache (k TEXT, v BLOB);
         INSERT INTO cache VALUES ('x', x'00');",
    );
    std::fs::write(
        dir.path().join("pgcarry.toml"),
        r#"
[tables.users]
name = "app_users"

[tables.users.columns.flags]
type = "boolean"
name = "is_admin"

[tables.cache]
skip = true
"#,
    )
    .unwrap();
    let plan = pgcarry()
        .current_dir(dir.path())
        .args(["plan", src.to_str().unwrap(), "--config", "pgcarry.toml"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&plan.get_output().stdout).to_string();
    assert!(
        text.contains("app_users") && text.contains("configured in pgcarry.toml"),
        "{text}"
    );
    assert!(text.contains("cache: skipped by pgcarry.toml"), "{text}");

    let db = test_db("config");
    // 7 is not a boolean: that row is rejected, never coerced.
    pgcarry()
        .current_dir(dir.path())
        .args([
            "migrate",
            src.to_str().unwrap(),
            "--to",
            &db.url,
            "--config",
            "pgcarry.toml",
        ])
        .assert()
        .code(3);
    let mut c = db.client();
    let rows: Vec<(i32, bool)> = c
        .query("SELECT id, is_admin FROM app_users ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows, [(1, false), (2, true)]);
    let cache: bool = c
        .query_one("SELECT to_regclass('public.cache') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!cache);
    let rejects = std::fs::read_to_string(dir.path().join("pgcarry-rejects.ndjson")).unwrap();
    assert!(
        rejects.contains("\"id\":3") && rejects.contains("boolean"),
        "{rejects}"
    );
}

#[test]
fn a_config_naming_what_does_not_exist_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);",
    );
    std::fs::write(dir.path().join("c.toml"), "[tables.usres]\nname = \"x\"\n").unwrap();
    let out = pgcarry()
        .current_dir(dir.path())
        .args(["plan", src.to_str().unwrap(), "--config", "c.toml"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("\"usres\""), "{err}");
    std::fs::write(
        dir.path().join("c.toml"),
        "[tables.users.columns.id]\ntype = \"real\"\n",
    )
    .unwrap();
    let out = pgcarry()
        .current_dir(dir.path())
        .args(["plan", src.to_str().unwrap(), "--config", "c.toml"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("real would round"), "{err}");
}

#[test]
fn config_skips_columns_and_makes_enum_types_from_check_lists() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "tickets.db",
        "PRAGMA foreign_keys = OFF;
         CREATE TABLE ticket (id INTEGER PRIMARY KEY,
             status VARCHAR(10) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'won''t fix')),
             legacy_hash TEXT, owner_ref INTEGER REFERENCES ticket(id));
         CREATE INDEX ix_ticket_hash ON ticket (legacy_hash);
         INSERT INTO ticket VALUES (1, 'open', 'x', NULL), (2, 'won''t fix', 'y', 1), (3, 'closed', NULL, 99);",
    );
    std::fs::write(
        dir.path().join("pgcarry.toml"),
        r#"
[tables.ticket.columns.status]
type = "enum"

[tables.ticket.columns.legacy_hash]
skip = true

[tables.ticket.columns.owner_ref]
skip = true
"#,
    )
    .unwrap();
    let plan = pgcarry()
        .current_dir(dir.path())
        .args(["plan", src.to_str().unwrap(), "--config", "pgcarry.toml"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&plan.get_output().stdout).to_string();
    assert!(
        text.contains("ticket.legacy_hash: column skipped by pgcarry.toml"),
        "{text}"
    );
    assert!(
        text.contains("ix_ticket_hash: index on ticket reads the skipped column legacy_hash"),
        "{text}"
    );
    assert!(
        text.contains("a PostgreSQL enum of its CHECK's labels"),
        "{text}"
    );
    // The orphan (owner_ref 99) is in a skipped column: no orphan is reported.
    assert!(!text.contains("missing parent"), "{text}");

    let db = test_db("config_enum");
    migrate_cmd(dir.path(), &src, &db.url)
        .args(["--config", "pgcarry.toml"])
        .assert()
        .success();
    let mut c = db.client();
    let labels: Vec<String> = c
        .query(
            "SELECT enumlabel::text FROM pg_enum WHERE enumtypid = 'ticket_status'::regtype \
             ORDER BY enumsortorder",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(labels, ["open", "closed", "won't fix"]);
    let columns: Vec<String> = c
        .query(
            "SELECT attname::text || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'ticket'::regclass AND attnum > 0 ORDER BY attnum",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(columns, ["id integer", "status ticket_status"]);
    let statuses: Vec<String> = c
        .query("SELECT status::text FROM ticket ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(statuses, ["open", "won't fix", "closed"]);
    // The default and the CHECK still work on the enum column.
    let status: String = c
        .query_one(
            "INSERT INTO ticket (id) VALUES (4) RETURNING status::text",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(status, "open");
    assert!(
        c.execute("INSERT INTO ticket VALUES (5, 'bogus')", &[])
            .is_err()
    );

    // Run again with --if-exists drop: the type is replaced, not duplicated.
    migrate_cmd(dir.path(), &src, &db.url)
        .args(["--config", "pgcarry.toml", "--if-exists", "drop"])
        .assert()
        .success();
    pgcarry()
        .current_dir(dir.path())
        .args([
            "verify",
            src.to_str().unwrap(),
            "--to",
            &db.url,
            "--config",
            "pgcarry.toml",
        ])
        .assert()
        .success();
}

// Decimal text with more trailing zeros than the configured scale ('1.500' in numeric(10,1))
// made verify report the row as changed, and zero written as '0.000' was rejected.
#[test]
fn decimals_with_zeros_beyond_a_configured_scale_load_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "prices.db",
        "CREATE TABLE prices (id INTEGER PRIMARY KEY, amount TEXT);
         INSERT INTO prices VALUES (1, '1.500'), (2, '1.5'), (3, '0.000'), (4, '-20.10');",
    );
    std::fs::write(
        dir.path().join("pgcarry.toml"),
        "[tables.prices.columns.amount]\ntype = \"numeric(10,1)\"\n",
    )
    .unwrap();
    let db = test_db("config_numeric_scale");
    migrate_cmd(dir.path(), &src, &db.url)
        .args(["--config", "pgcarry.toml"])
        .assert()
        .code(0);
    let amounts: Vec<String> = db
        .client()
        .query("SELECT amount::text FROM prices ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(amounts, ["1.5", "1.5", "0.0", "-20.1"]);
    pgcarry()
        .current_dir(dir.path())
        .arg("verify")
        .arg(&src)
        .args(["--to", &db.url, "--config", "pgcarry.toml"])
        .assert()
        .code(0);
}
