//! Keys, indexes, constraints, defaults and sequences: what the SQLite schema promised exists
//! in PostgreSQL after the load, and the application's next INSERT without a key works.

use crate::support::{count_rows, migrate_cmd, pgcarry, sqlite_fixture, test_db};

fn constraints(c: &mut postgres::Client) -> Vec<String> {
    let mut v: Vec<String> = c
        .query(
            "SELECT conrelid::regclass::text || ' ' || contype::text || ' ' || pg_get_constraintdef(oid) \
             FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    v.sort();
    v
}

fn indexes(c: &mut postgres::Client) -> Vec<String> {
    let mut v: Vec<String> = c
        .query(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    v.sort();
    v
}

#[test]
fn keys_indexes_constraints_and_foreign_keys_are_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "schema.db",
        r#"
        PRAGMA foreign_keys = ON;
        CREATE TABLE "Order" ("key" INTEGER PRIMARY KEY AUTOINCREMENT, "group" TEXT NOT NULL DEFAULT 'none',
            status VARCHAR(9) NOT NULL CHECK (status IN ('open', 'closed')),
            is_paid BOOLEAN NOT NULL DEFAULT 0 CHECK (is_paid IN (0, 1)),
            created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP);
        CREATE TABLE line (order_key INTEGER NOT NULL REFERENCES "Order" ON DELETE CASCADE,
            n INTEGER NOT NULL, sku TEXT, qty INTEGER DEFAULT 1,
            PRIMARY KEY (order_key, n)) WITHOUT ROWID;
        CREATE TABLE note (order_key INTEGER, n INTEGER, body TEXT,
            FOREIGN KEY (order_key, n) REFERENCES line (order_key, n) DEFERRABLE INITIALLY DEFERRED);
        CREATE TABLE node (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES node(id) DEFERRABLE, name TEXT UNIQUE);
        CREATE INDEX ix_line_sku ON line (sku DESC) WHERE sku IS NOT NULL;
        CREATE UNIQUE INDEX ux_order_group ON "Order" ("group", status);
        INSERT INTO "Order" ("group", status, is_paid, created_at) VALUES ('a', 'open', 1, '2024-01-01 00:00:00'),
            ('b', 'closed', 0, '2024-01-02 00:00:00');
        DELETE FROM "Order" WHERE "key" = 2;
        INSERT INTO line VALUES (1, 1, 'x', 2), (1, 2, NULL, 1);
        INSERT INTO note VALUES (1, 2, 'hi'), (NULL, NULL, 'orphan-free null key');
        INSERT INTO node VALUES (2, NULL, 'root'), (1, 2, 'child');
        "#,
    );
    let db = test_db("schema");
    migrate_cmd(dir.path(), &src, &db.url).assert().success();
    let mut c = db.client();
    let cons = constraints(&mut c);
    let want = [
        "\"Order\" c CHECK (((status)::text = ANY ((ARRAY['open'::character varying, 'closed'::character varying])::text[])))",
        "\"Order\" c CHECK ((is_paid = ANY (ARRAY[false, true])))",
        "\"Order\" p PRIMARY KEY (key)",
        "line f FOREIGN KEY (order_key) REFERENCES \"Order\"(key) ON DELETE CASCADE",
        "line p PRIMARY KEY (order_key, n)",
        "node f FOREIGN KEY (parent_id) REFERENCES node(id) DEFERRABLE",
        "node p PRIMARY KEY (id)",
        "node u UNIQUE (name)",
        "note f FOREIGN KEY (order_key, n) REFERENCES line(order_key, n) DEFERRABLE INITIALLY DEFERRED",
    ];
    for w in want {
        assert!(
            cons.iter().any(|c| c == w),
            "missing {w}\nhave:\n{}",
            cons.join("\n")
        );
    }
    let idx = indexes(&mut c);
    assert!(
        idx.iter()
            .any(|i| i.contains("ix_line_sku") && i.contains("(sku DESC) WHERE (sku IS NOT NULL)")),
        "{idx:#?}"
    );
    assert!(idx.iter().any(|i| i.contains("UNIQUE INDEX ux_order_group") && i.contains("(\"group\", status)")));

    // NOT NULL kept.
    let nn: Vec<String> = c
        .query(
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'Order' AND is_nullable = 'NO' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(nn, ["created_at", "group", "is_paid", "key", "status"]);

    // AUTOINCREMENT: the next key is past sqlite_sequence (2), not past max(key) (1).
    let row = c
        .query_one("INSERT INTO \"Order\" (status) VALUES ('open') RETURNING \"key\", \"group\", is_paid, created_at IS NOT NULL", &[])
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 3);
    assert_eq!(row.get::<_, String>(1), "none");
    assert!(!row.get::<_, bool>(2));
    assert!(row.get::<_, bool>(3));
    // A line without qty gets the default; the cascade works.
    c.batch_execute(
        "INSERT INTO line (order_key, n) VALUES (3, 1); DELETE FROM \"Order\" WHERE \"key\" = 3",
    )
    .unwrap();
    let lines: i64 = count_rows(&mut c, "line");
    assert_eq!(lines, 2);
    // Plain INTEGER PRIMARY KEY: the next id continues after max(id).
    let id: i32 = c
        .query_one("INSERT INTO node (name) VALUES ('new') RETURNING id", &[])
        .unwrap()
        .get(0);
    assert_eq!(id, 3);
}

#[test]
fn identifiers_keep_case_spaces_quotes_and_reserved_words() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "names.db",
        r#"
        CREATE TABLE [Order Details] ("select" INTEGER PRIMARY KEY, [From] TEXT, "we""ird" TEXT, MixedCase INTEGER);
        CREATE TABLE "x""; DROP TABLE y; --" (id INTEGER PRIMARY KEY);
        INSERT INTO [Order Details] VALUES (1, 'a', 'b', 3);
        INSERT INTO "x""; DROP TABLE y; --" VALUES (7);
        "#,
    );
    let db = test_db("names");
    migrate_cmd(dir.path(), &src, &db.url).assert().success();
    let mut c = db.client();
    let row = c
        .query_one(
            "SELECT \"select\", \"From\", \"we\"\"ird\", \"MixedCase\" FROM \"Order Details\"",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    assert_eq!(row.get::<_, String>(2), "b");
    let n: i32 = c
        .query_one("SELECT id FROM \"x\"\"; DROP TABLE y; --\"", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 7);
}

#[test]
fn committed_wal_content_is_read_from_one_snapshot() {
    // The application still has the database open in WAL mode; its last commits are only in
    // the -wal file. They must be migrated (the file is never opened `immutable`).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.db");
    let app = rusqlite::Connection::open(&path).unwrap();
    app.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
         CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT);
         CREATE TABLE counts (id INTEGER PRIMARY KEY, n INTEGER);",
    )
    .unwrap();
    for i in 0..500 {
        app.execute("INSERT INTO events (kind) VALUES (?1)", [format!("e{i}")])
            .unwrap();
    }
    app.execute("INSERT INTO counts (n) VALUES (500)", [])
        .unwrap();
    assert!(dir.path().join("live.db-wal").metadata().unwrap().len() > 0);
    let db = test_db("wal");
    pgcarry()
        .current_dir(dir.path())
        .args(["migrate", path.to_str().unwrap(), "--to", &db.url])
        .assert()
        .success();
    let mut c = db.client();
    let events: i64 = count_rows(&mut c, "events");
    let n: i32 = c.query_one("SELECT n FROM counts", &[]).unwrap().get(0);
    assert_eq!(events, 500);
    assert_eq!(
        i64::from(n),
        events,
        "both tables come from the same snapshot"
    );
    drop(app);
}

#[test]
fn orphan_rows_sqlite_never_checked_are_named_and_the_run_exits_3() {
    // SQLite enforces foreign keys only when the application turned them on; this one did not.
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "orphans.db",
        "PRAGMA foreign_keys = OFF;
         CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES author(id), title TEXT);
         INSERT INTO author VALUES (1, 'a');
         INSERT INTO book VALUES (1, 1, 'kept'), (2, 99, 'orphan');",
    );
    let db = test_db("orphans");
    let out = migrate_cmd(dir.path(), &src, &db.url).assert().code(3);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains(
            "foreign key not created: 1 row(s) of book (author_id) → author (id) reference a \
             missing parent (rowid 2)"
        ),
        "{stdout}"
    );
    // Every row is there; the constraint that does not hold is not left looking valid.
    let mut c = db.client();
    assert_eq!(count_rows(&mut c, "book"), 2);
    let fks: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(fks, 0);

    // `plan` shows them before anything is written, and --orphans fail refuses.
    let out = pgcarry()
        .current_dir(dir.path())
        .args(["plan", src.to_str().unwrap()])
        .assert()
        .success();
    let plan = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(plan.contains("reference a missing parent"), "{plan}");
    let db = test_db("orphans_fail");
    let out = pgcarry()
        .current_dir(dir.path())
        .args([
            "migrate",
            src.to_str().unwrap(),
            "--to",
            &db.url,
            "--orphans",
            "fail",
        ])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("nothing was written") && err.contains("book (author_id)"),
        "{err}"
    );
    let tables: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0);
}

#[test]
fn a_create_table_pgcarry_cannot_parse_is_reported_not_silently_dropped() {
    // Row values are valid SQLite; if the DDL parser refuses them, the CHECK must not vanish
    // unnoticed.
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "rowvalue.db",
        "CREATE TABLE t (a INTEGER, b INTEGER, CHECK ((a, b) <> (1, 2)));
         INSERT INTO t VALUES (1, 1);",
    );
    let out = pgcarry()
        .current_dir(dir.path())
        .args(["plan", src.to_str().unwrap()])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("CHECK ((a, b) <> (1, 2))"),
        "the CHECK is either translated or reported with its SQL: {text}"
    );
}
