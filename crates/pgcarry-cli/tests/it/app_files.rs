//! SQLite files real applications wrote (issue 13): the plan never produces what PostgreSQL
//! refuses, and what it cannot know is proven before the first row is written.

use crate::support::{migrate_cmd, pgcarry, sqlite_fixture, test_db, verify_cmd};
use std::path::Path;

fn plan_text(dir: &Path, src: &Path, args: &[&str]) -> String {
    let out = pgcarry()
        .current_dir(dir)
        .arg("plan")
        .arg(src)
        .args(args)
        .assert()
        .success();
    String::from_utf8_lossy(&out.get_output().stdout).to_string()
}

/// The table's columns in PostgreSQL, in order, with their types.
fn columns(c: &mut postgres::Client, table: &str) -> Vec<(String, String)> {
    c.query(
        "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute \
         WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        &[&table],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

fn names(cols: &[(String, String)]) -> Vec<&str> {
    cols.iter().map(|(n, _)| n.as_str()).collect()
}

fn index_names(c: &mut postgres::Client, table: &str) -> Vec<String> {
    c.query(
        "SELECT indexname::text FROM pg_indexes WHERE tablename = $1 ORDER BY 1",
        &[&table],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

// Issue 13, item 2: a column named xmin made the whole migration fail at load time.
#[test]
fn system_column_names_are_renamed_in_keys_indexes_foreign_keys_and_views() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, ctid TEXT NOT NULL UNIQUE, xmin INTEGER,
                              xmin_ TEXT);
         CREATE INDEX parent_by_xmin ON parent (xmin);
         CREATE TABLE child (id INTEGER PRIMARY KEY,
                             parent_ctid TEXT REFERENCES parent (ctid), cmax INTEGER);
         CREATE VIEW recent AS SELECT ctid, xmin FROM parent WHERE xmin > 1;
         INSERT INTO parent VALUES (1, 'a', 1, 'x'), (2, 'b', 2, NULL), (3, 'c', 3, 'z');
         INSERT INTO child VALUES (1, 'a', 10), (2, 'c', NULL);",
    );
    let text = plan_text(dir.path(), &src, &[]);
    assert!(
        text.contains("reserves the name xmin for a system column: created as \"xmin_2\""),
        "{text}"
    );
    assert!(text.contains("created as \"ctid_\""), "{text}");

    let db = test_db("system_columns");
    migrate_cmd(dir.path(), &src, &db.url).assert().code(0);
    let mut c = db.client();
    let parent = columns(&mut c, "parent");
    assert_eq!(names(&parent), ["id", "ctid_", "xmin_2", "xmin_"]);
    assert_eq!(
        names(&columns(&mut c, "child")),
        ["id", "parent_ctid", "cmax_"]
    );
    let sums: (i64, String) = c
        .query_one(
            "SELECT sum(xmin_2)::bigint, string_agg(ctid_, ',' ORDER BY id) FROM parent",
            &[],
        )
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!(sums, (6, "a,b,c".to_string()));
    let index: String = c
        .query_one(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'parent_by_xmin'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(index.contains("(xmin_2)"), "{index}");
    let fk: String = c
        .query_one(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(fk.contains("REFERENCES parent(ctid_)"), "{fk}");
    let recent: i64 = c
        .query_one("SELECT count(*) FROM recent", &[])
        .unwrap()
        .get(0);
    assert_eq!(recent, 2);
    verify_cmd(dir.path(), &src, &db.url).assert().code(0);

    // A name chosen in --config is the one used.
    std::fs::write(
        dir.path().join("pgcarry.toml"),
        "[tables.parent.columns.xmin]\nname = \"first_tx\"\n",
    )
    .unwrap();
    let db = test_db("system_columns_config");
    migrate_cmd(dir.path(), &src, &db.url)
        .args(["--config", "pgcarry.toml"])
        .assert()
        .code(0);
    let mut c = db.client();
    assert_eq!(
        names(&columns(&mut c, "parent")),
        ["id", "ctid_", "first_tx", "xmin_"]
    );
}

// Issue 13, item 3: CHAR(0) became varchar(0) and CREATE TABLE failed after other tables had
// been loaded, leaving a partial target.
#[test]
fn sizes_postgresql_refuses_become_text_and_refused_ddl_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE codes (id INTEGER PRIMARY KEY, flag CHAR(0), body VARCHAR(20000000),
                             amount NUMERIC(2000,2), empty CHAR(0));
         INSERT INTO codes VALUES (1, 'y', 'long text', 12.5, NULL), (2, '', 'x', 3, NULL);",
    );
    let text = plan_text(dir.path(), &src, &[]);
    assert!(text.contains("from 1 to 10485760, not 0"), "{text}");
    assert!(text.contains("from 1 to 10485760, not 20000000"), "{text}");
    assert!(text.contains("at most 1000, not 2000"), "{text}");
    let db = test_db("pg_limits");
    migrate_cmd(dir.path(), &src, &db.url).assert().code(0);
    let mut c = db.client();
    let types: Vec<String> = columns(&mut c, "codes")
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(types, ["integer", "text", "text", "numeric", "text"]);
    let flags: Vec<String> = c
        .query("SELECT flag FROM codes ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(flags, ["y", ""]);

    // A CHECK SQLite never evaluates against a number, which PostgreSQL refuses to create:
    // the proof refuses it before any table (the big one included) is created or loaded.
    let bad = sqlite_fixture(
        dir.path(),
        "bad.db",
        "CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT);
         INSERT INTO big WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
           SELECT i, 'v' FROM n;
         CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER CHECK (qty < 'abc'));
         INSERT INTO items VALUES (1, 5);",
    );
    let db = test_db("ddl_proof");
    let out = migrate_cmd(dir.path(), &bad, &db.url).assert().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("refuses the plan's DDL for table items")
            && stderr.contains("statement: ALTER TABLE")
            && stderr.contains("Nothing was created"),
        "{stderr}"
    );
    let mut c = db.client();
    let tables: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0, "nothing created in the target schema");
}

// Issue 13, item 5: DEFAULT NULL was reported as a missing default (exit 3).
#[test]
fn default_null_is_no_default() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE s (id INTEGER PRIMARY KEY, a TEXT DEFAULT NULL, b INTEGER DEFAULT (NULL),
                         c TEXT default null, d INTEGER DEFAULT 7);
         INSERT INTO s (id) VALUES (1);",
    );
    let db = test_db("default_null");
    migrate_cmd(dir.path(), &src, &db.url).assert().code(0);
    verify_cmd(dir.path(), &src, &db.url).assert().code(0);
    let mut c = db.client();
    let defaults: Vec<(String, bool)> = c
        .query(
            "SELECT attname::text, atthasdef FROM pg_attribute WHERE attrelid = 's'::regclass \
             AND attnum > 1 ORDER BY attnum",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let want = [("a", false), ("b", false), ("c", false), ("d", true)];
    assert_eq!(
        defaults,
        want.map(|(n, d)| (n.to_string(), d)),
        "a NULL default is no default"
    );
}

// Issue 13, item 6: a dashboard server stores every JSON document as a BLOB; type = "jsonb"
// in --config rejected every row.
#[test]
fn json_blobs_convert_to_jsonb_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        r#"CREATE TABLE dashboard (id INTEGER PRIMARY KEY, data BLOB, title BLOB);
           INSERT INTO dashboard VALUES
             (1, CAST('{"panels": [1, 2], "b": 1.50}' AS BLOB), CAST('Ops é' AS BLOB)),
             (2, CAST('{"a": null}' AS BLOB), CAST('not json' AS BLOB)),
             (3, NULL, NULL);"#,
    );
    let text = plan_text(dir.path(), &src, &[]);
    assert!(text.contains("every value is valid UTF-8 / JSON"), "{text}");
    assert!(
        text.contains("every value is valid UTF-8 (0 of 2 JSON)"),
        "{text}"
    );
    std::fs::write(
        dir.path().join("pgcarry.toml"),
        "[tables.dashboard.columns.data]\ntype = \"jsonb\"\n\
         [tables.dashboard.columns.title]\ntype = \"text\"\n",
    )
    .unwrap();
    let db = test_db("json_blobs");
    migrate_cmd(dir.path(), &src, &db.url)
        .args(["--config", "pgcarry.toml"])
        .assert()
        .code(0);
    let mut c = db.client();
    let rows: Vec<(Option<String>, Option<String>)> = c
        .query("SELECT data->>'b', title FROM dashboard ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        [
            (Some("1.50".into()), Some("Ops é".into())),
            (None, Some("not json".into())),
            (None, None)
        ]
    );
    verify_cmd(dir.path(), &src, &db.url)
        .args(["--config", "pgcarry.toml"])
        .assert()
        .code(0);

    // Bytes that are not UTF-8, or not JSON: their rows go to the rejects file, with why.
    rusqlite::Connection::open(&src)
        .unwrap()
        .execute_batch(
            "INSERT INTO dashboard VALUES (4, x'7bff7d', NULL), (5, CAST('{' AS BLOB), NULL);",
        )
        .unwrap();
    let text = plan_text(dir.path(), &src, &[]);
    assert!(
        text.contains("3 of 4 blobs are valid UTF-8 (2 JSON)"),
        "{text}"
    );
    let db = test_db("json_blobs_rejects");
    migrate_cmd(dir.path(), &src, &db.url)
        .args(["--config", "pgcarry.toml"])
        .assert()
        .code(3);
    let rejects = std::fs::read_to_string(dir.path().join("pgcarry-rejects.ndjson")).unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines.len(), 2, "{rejects}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"id\":4") && l.contains("not valid UTF-8")),
        "{rejects}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"id\":5") && l.contains("blob converted to jsonb")),
        "{rejects}"
    );
    let loaded: i64 = db
        .client()
        .query_one("SELECT count(*) FROM dashboard", &[])
        .unwrap()
        .get(0);
    assert_eq!(loaded, 3);
}

// Issue 13, item 9: the application's first queries ran without statistics, and a sample
// database's unique index on each primary-key column was built twice.
#[test]
fn tables_are_analyzed_and_duplicate_indexes_are_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, team INTEGER);
         CREATE UNIQUE INDEX users_id ON users (id);
         CREATE INDEX users_email ON users (email);
         CREATE INDEX users_email_again ON users (email);
         CREATE UNIQUE INDEX users_email_unique ON users (email);
         CREATE INDEX users_team_email ON users (team, email);
         INSERT INTO users WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
           SELECT i, 'u' || i || '@x', i % 3 FROM n;",
    );
    let text = plan_text(dir.path(), &src, &[]);
    assert!(
        text.contains("index users_id not created: it duplicates the primary key"),
        "{text}"
    );
    assert!(
        text.contains("index users_email_again not created: it duplicates users_email"),
        "{text}"
    );
    let db = test_db("analyze");
    migrate_cmd(dir.path(), &src, &db.url)
        .args(["--report", "report.json"])
        .assert()
        .code(0);
    let mut c = db.client();
    assert_eq!(
        index_names(&mut c, "users"),
        [
            "users_email",
            "users_email_unique",
            "users_pkey",
            "users_team_email"
        ]
    );
    let stats: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_stats WHERE schemaname = 'public' AND tablename = 'users'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(
        stats >= 3,
        "ANALYZE gathered statistics on every column: {stats}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert!(report["analyze_seconds"].as_f64().is_some(), "{report}");
    assert_eq!(report["structure_problems"], serde_json::json!([]));
}

// Issue 13: SQLite lets a foreign key reference a column that is not unique, or of another
// type; PostgreSQL refuses both, which now would stop the run at the DDL proof.
#[test]
fn foreign_keys_postgresql_cannot_create_are_left_out_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "PRAGMA foreign_keys = OFF;
         CREATE TABLE team (id INTEGER PRIMARY KEY, code TEXT, slug TEXT UNIQUE);
         CREATE TABLE member (id INTEGER PRIMARY KEY,
                              team_code TEXT REFERENCES team (code),
                              team_id TEXT REFERENCES team (id),
                              team_slug TEXT REFERENCES team (slug));
         INSERT INTO team VALUES (1, 'a', 's1'), (2, 'a', 's2');
         INSERT INTO member VALUES (1, 'a', 'x1', 's1');",
    );
    let text = plan_text(dir.path(), &src, &[]);
    assert!(
        text.contains("foreign key member (team_code) → team (code) not created: PostgreSQL needs a primary key or unique constraint"),
        "{text}"
    );
    assert!(
        text.contains("foreign key member (team_id) → team (id) not created: team_id is text and team.id is integer"),
        "{text}"
    );
    let db = test_db("fk_left_out");
    migrate_cmd(dir.path(), &src, &db.url).assert().code(0);
    let mut c = db.client();
    let fks: Vec<String> = c
        .query(
            "SELECT conname::text FROM pg_constraint WHERE contype = 'f' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(fks, ["member_team_slug_fkey"]);
    let members: i64 = c
        .query_one("SELECT count(*) FROM member", &[])
        .unwrap()
        .get(0);
    assert_eq!(members, 1);
}

/// A flashcard app's file: its connections register `unicase` (case-insensitive) and
/// `path_order` (here case-sensitive), which SQLite stores only by name.
fn file_with_application_collations(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("cards.db");
    let app = rusqlite::Connection::open(&path).unwrap();
    let unicase = |a: &str, b: &str| a.to_lowercase().cmp(&b.to_lowercase());
    app.create_collation("unicase", unicase).unwrap();
    app.create_collation("path_order", |a: &str, b: &str| a.cmp(b))
        .unwrap();
    app.execute_batch(
        "CREATE TABLE cards (id INTEGER PRIMARY KEY, name TEXT COLLATE unicase, deck TEXT);
         CREATE INDEX cards_by_name ON cards (name);
         CREATE UNIQUE INDEX cards_deck_name ON cards (deck, name);
         CREATE TABLE tags (tag TEXT NOT NULL PRIMARY KEY COLLATE unicase, usn INTEGER)
           WITHOUT ROWID;
         CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT COLLATE path_order UNIQUE);
         CREATE TABLE folders (path TEXT PRIMARY KEY COLLATE path_order) WITHOUT ROWID;
         INSERT INTO cards VALUES (1, 'Apple', 'd1'), (2, 'banana', 'd1'), (3, 'apple', 'd2'),
                                  (4, 'Émile', 'd1'), (5, NULL, 'd1'), (6, NULL, 'd1');
         INSERT INTO tags VALUES ('Verbs', 1), ('nouns', 2), ('Ädj', 3);
         INSERT INTO files VALUES (1, 'Item'), (2, 'item');
         INSERT INTO folders VALUES ('Docs'), ('docs');",
    )
    .unwrap();
    path
}

// Issue 13, item 4: collations the application defined (a flashcard app registers
// `unicase`) stopped plan, migrate and verify with "no such collation sequence".
#[test]
fn application_collations_are_read_through_a_stand_in_and_fold_keys_with_lower() {
    let dir = tempfile::tempdir().unwrap();
    let src = file_with_application_collations(dir.path());
    let text = plan_text(dir.path(), &src, &[]);
    for said in [
        "cards.name: COLLATE unicase is the application's own collation",
        "tags.tag: COLLATE unicase is the application's own collation",
        "not the application's exact order, which it cannot know",
        "(\"deck\", lower(\"name\"))",
        // 'Item' and 'item' in one unique key: `path_order` is no case-insensitive collation.
        "index sqlite_autoindex_files_1 not created: COLLATE path_order is the application's \
         own collation, which pgcarry cannot reproduce, and its rows hold values equal when \
         case is ignored",
        "folders: primary key (path) kept case-sensitive: COLLATE path_order",
    ] {
        assert!(text.contains(said), "{said}\n{text}");
    }

    let db = test_db("app_collations");
    migrate_cmd(dir.path(), &src, &db.url).assert().code(0);
    verify_cmd(dir.path(), &src, &db.url).assert().code(0);
    let mut c = db.client();
    let rows = |c: &mut postgres::Client, sql: &str| -> Vec<String> {
        c.query(sql, &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let cards = "SELECT concat_ws('|', id, coalesce(name, 'NULL'), deck) FROM cards ORDER BY id";
    assert_eq!(
        rows(&mut c, cards),
        [
            "1|Apple|d1",
            "2|banana|d1",
            "3|apple|d2",
            "4|Émile|d1",
            "5|NULL|d1",
            "6|NULL|d1"
        ]
    );
    let tags = "SELECT concat_ws('|', tag, usn) FROM tags ORDER BY usn";
    assert_eq!(rows(&mut c, tags), ["Verbs|1", "nouns|2", "Ädj|3"]);
    let files = "SELECT path FROM files ORDER BY id";
    assert_eq!(rows(&mut c, files), ["Item", "item"]);
    let folders = "SELECT path FROM folders ORDER BY path COLLATE \"C\"";
    assert_eq!(rows(&mut c, folders), ["Docs", "docs"]);
    assert_eq!(
        index_names(&mut c, "cards"),
        ["cards_by_name", "cards_deck_name", "cards_pkey"]
    );
    assert_eq!(index_names(&mut c, "files"), ["files_pkey"]);
    assert_eq!(index_names(&mut c, "folders"), ["folders_pkey"]);
    let by_name = "SELECT indexdef FROM pg_indexes WHERE indexname = 'cards_by_name'";
    assert!(rows(&mut c, by_name)[0].contains("(lower(name))"));
    // The keys refuse what the application's unicase refused.
    for refused in [
        "INSERT INTO cards VALUES (7, 'BANANA', 'd1')",
        "INSERT INTO tags VALUES ('VERBS', 4)",
    ] {
        let err = c.execute(refused, &[]).unwrap_err();
        assert!(format!("{err:?}").contains("23505"), "{refused}: {err:?}");
    }
}
