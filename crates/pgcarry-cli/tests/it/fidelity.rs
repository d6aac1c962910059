//! Fidelity: what real applications write into SQLite lands in PostgreSQL exactly — dates and
//! times as numbers, boolean spellings, case-insensitive uniqueness, views, triggers, FTS5.

use crate::support::{pgcarry, sqlite_fixture, test_db};
use std::path::Path;

pub(crate) fn column_types(client: &mut postgres::Client, table: &str) -> Vec<(String, String)> {
    client
        .query(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = ('public.' || quote_ident($1))::regclass AND attnum > 0 \
               AND NOT attisdropped ORDER BY attnum",
            &[&table],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

pub(crate) fn migrate(dir: &Path, src: &Path, url: &str) -> assert_cmd::assert::Assert {
    pgcarry()
        .current_dir(dir)
        .args(["migrate", src.to_str().unwrap(), "--to", url])
        .assert()
}

pub(crate) fn plan_text(dir: &Path, src: &Path) -> String {
    let out = pgcarry()
        .current_dir(dir)
        .args(["plan", src.to_str().unwrap(), "--sql"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

pub(crate) fn texts(client: &mut postgres::Client, sql: &str) -> Vec<Option<String>> {
    client
        .query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn dates_written_as_numbers_become_timestamps_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "epoch.db",
        "CREATE TABLE e (
            id INTEGER PRIMARY KEY,
            secs DATETIME, millis DATETIME, jd DATETIME, ambiguous TIMESTAMP, old DATE,
            sequelize DATETIME, blank DATE
         );
         INSERT INTO e VALUES (1, 1700000000, 1700000000123, julianday('2024-01-02 03:04:05.678'),
             1700000000, 86400, '2024-01-02 03:04:05.678 +00:00', '');
         INSERT INTO e VALUES (2, 315532800, 1577836800000, julianday('2024-01-01 12:00:00'),
             1700000000000, 1700000000, '2024-01-02 05:04:05.678 +02:00', '2024-01-01');
         INSERT INTO e VALUES (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL);",
    );
    let plan = plan_text(dir.path(), &src);
    assert!(
        plan.contains("Unix seconds between 1980 and 2100"),
        "{plan}"
    );
    assert!(plan.contains("Unix milliseconds between 1980"), "{plan}");
    assert!(plan.contains("Julian day"), "{plan}");
    assert!(plan.contains("ambiguous"), "{plan}");
    let db = test_db("epoch");
    migrate(dir.path(), &src, &db.url).success();
    let mut c = db.client();
    c.batch_execute("SET TimeZone = 'UTC'").unwrap();
    let types = column_types(&mut c, "e");
    let want = [
        ("id", "integer"),
        ("secs", "timestamp with time zone"),
        ("millis", "timestamp with time zone"),
        ("jd", "timestamp without time zone"),
        ("ambiguous", "bigint"),
        ("old", "bigint"),
        ("sequelize", "timestamp with time zone"),
        ("blank", "text"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(types, want);
    let col = |c: &mut postgres::Client, name: &str| {
        texts(c, &format!("SELECT {name}::text FROM e ORDER BY id"))
    };
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        col(&mut c, "secs"),
        [
            s("2023-11-14 22:13:20+00"),
            s("1980-01-01 00:00:00+00"),
            None
        ]
    );
    assert_eq!(
        col(&mut c, "millis"),
        [
            s("2023-11-14 22:13:20.123+00"),
            s("2020-01-01 00:00:00+00"),
            None
        ]
    );
    assert_eq!(
        col(&mut c, "jd"),
        [s("2024-01-02 03:04:05.678"), s("2024-01-01 12:00:00"), None]
    );
    assert_eq!(
        col(&mut c, "ambiguous"),
        [s("1700000000"), s("1700000000000"), None]
    );
    assert_eq!(
        col(&mut c, "sequelize"),
        [
            s("2024-01-02 03:04:05.678+00"),
            s("2024-01-02 03:04:05.678+00"),
            None
        ]
    );
    assert_eq!(col(&mut c, "blank"), [s(""), s("2024-01-01"), None]);
}

#[test]
fn a_julian_day_between_milliseconds_keeps_the_column_numeric() {
    // 2460311.00000000047 is no millisecond SQLite writes: reading it as a date would round.
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "jd.db",
        "CREATE TABLE j (id INTEGER PRIMARY KEY, at DATETIME);
         INSERT INTO j VALUES (1, 2460311.5), (2, 2460311.00000000047);",
    );
    let db = test_db("jd_inexact");
    migrate(dir.path(), &src, &db.url).success();
    let mut c = db.client();
    assert_eq!(column_types(&mut c, "j")[1].1, "double precision");
    let back: Vec<f64> = c
        .query("SELECT at FROM j ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let sqlite = rusqlite::Connection::open(&src).unwrap();
    let source: f64 = sqlite
        .query_row("SELECT at FROM j WHERE id = 2", [], |r| r.get(0))
        .unwrap();
    assert_eq!(back[0], 2_460_311.5);
    assert_eq!(back[1].to_bits(), source.to_bits());
}

#[test]
fn boolean_spellings_become_booleans_and_anything_else_keeps_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "bools.db",
        "CREATE TABLE b (id INTEGER PRIMARY KEY, rails BOOLEAN, words BOOLEAN, yn BOOL,
                         bits BOOLEAN, other BOOLEAN, two BOOLEAN);
         INSERT INTO b VALUES (1, 't', 'true', 'yes', 1, 't', 1);
         INSERT INTO b VALUES (2, 'f', 'FALSE', 'No', 0, 'maybe', 2);
         INSERT INTO b VALUES (3, 'T', 'True', 'YES', NULL, 'f', 0);",
    );
    let db = test_db("bools");
    migrate(dir.path(), &src, &db.url).success();
    let mut c = db.client();
    let types: Vec<String> = column_types(&mut c, "b")
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(
        types,
        [
            "integer", "boolean", "boolean", "boolean", "boolean", "text", "smallint"
        ]
    );
    let rows = c
        .query(
            "SELECT rails, words, yn, bits, other, two FROM b ORDER BY id",
            &[],
        )
        .unwrap();
    let row = |i: usize| {
        (
            rows[i].get::<_, bool>(0),
            rows[i].get::<_, bool>(1),
            rows[i].get::<_, bool>(2),
            rows[i].get::<_, Option<bool>>(3),
            rows[i].get::<_, String>(4),
            rows[i].get::<_, i16>(5),
        )
    };
    assert_eq!(row(0), (true, true, true, Some(true), "t".into(), 1));
    assert_eq!(
        row(1),
        (false, false, false, Some(false), "maybe".into(), 2)
    );
    assert_eq!(row(2), (true, true, true, None, "f".into(), 0));
}

#[test]
fn nocase_uniqueness_stays_case_insensitive() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "nocase.db",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE UNIQUE,
                             nick TEXT COLLATE NOCASE, age INTEGER COLLATE NOCASE);
         CREATE INDEX users_nick ON users (nick);
         CREATE UNIQUE INDEX users_age ON users (age);
         INSERT INTO users VALUES (1, 'alice@example.com', 'Al', 30), (2, 'bob@example.com', 'al', 40);
         CREATE TABLE codes (code TEXT PRIMARY KEY COLLATE NOCASE, label TEXT);
         INSERT INTO codes VALUES ('AB', 'x');
         CREATE TABLE tags (name TEXT COLLATE NOCASE UNIQUE);
         INSERT INTO tags VALUES ('Émile'), ('émile');",
    );
    let plan = plan_text(dir.path(), &src);
    assert!(plan.contains("case-sensitive"), "{plan}");
    let db = test_db("nocase");
    migrate(dir.path(), &src, &db.url).success();
    let mut c = db.client();
    let defs = texts(
        &mut c,
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname",
    );
    let defs: Vec<String> = defs.into_iter().flatten().collect();
    let has = |needle: &str| defs.iter().any(|d| d.contains(needle));
    assert!(
        has("UNIQUE INDEX users_email_key ON public.users USING btree (lower(email))"),
        "{defs:?}"
    );
    assert!(
        has("INDEX users_nick ON public.users USING btree (lower(nick))"),
        "{defs:?}"
    );
    assert!(
        has("UNIQUE INDEX users_age ON public.users USING btree (age)"),
        "{defs:?}"
    );
    assert!(
        has("codes_pkey_nocase ON public.codes USING btree (lower(code))"),
        "{defs:?}"
    );
    assert!(has("translate(name"), "{defs:?}");
    let err = c
        .execute(
            "INSERT INTO users (email) VALUES ('ALICE@example.com')",
            &[],
        )
        .unwrap_err();
    assert!(format!("{err:?}").contains("duplicate key"), "{err:?}");
    c.execute(
        "INSERT INTO users (email) VALUES ('carol@example.com')",
        &[],
    )
    .unwrap();
    let err = c
        .execute("INSERT INTO codes VALUES ('ab', 'y')", &[])
        .unwrap_err();
    assert!(format!("{err:?}").contains("duplicate key"), "{err:?}");
    // SQLite folds ASCII only: 'Émile' and 'émile' differ there, and here; 'ÉMILE' does not.
    let err = c
        .execute("INSERT INTO tags VALUES ('ÉMILE')", &[])
        .unwrap_err();
    assert!(format!("{err:?}").contains("duplicate key"), "{err:?}");
}

#[test]
fn views_translate_with_the_same_rows_in_the_same_order() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "views.db",
        "CREATE TABLE `user` (id INTEGER PRIMARY KEY, name TEXT, active TEXT, score REAL);
         CREATE TABLE post (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES `user`(id), title TEXT);
         INSERT INTO `user` VALUES (1, 'bob', '1', 2.5), (2, 'Alice', '1', NULL), (3, NULL, '0', 1.0),
                                   (4, 'alice', '1', 4.0);
         INSERT INTO post VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c');
         CREATE VIEW \"Active Users\" AS SELECT u.id, u.name AS \"Name\" FROM [user] u
             WHERE u.active = 1 ORDER BY name;
         CREATE VIEW post_counts AS SELECT `user`.name, count(*) AS n, avg(score) AS mean
             FROM post JOIN `user` ON post.user_id = `user`.id GROUP BY `user`.name;
         CREATE VIEW counted AS SELECT name, n FROM post_counts WHERE n > 1;
         CREATE VIEW scores AS SELECT name, score FROM `user` ORDER BY score DESC;
         CREATE VIEW shouting AS SELECT name + '!' AS loud FROM `user`;
         CREATE VIEW recent AS SELECT * FROM post WHERE id > (SELECT max(id) - 2 FROM post);
         CREATE VIEW latest AS SELECT * FROM post p
             WHERE id = (SELECT max(id) FROM post q WHERE q.user_id = p.user_id);
         CREATE VIEW ranked AS SELECT name FROM `user` WHERE name > 5;",
    );
    let plan = plan_text(dir.path(), &src);
    assert!(plan.contains("Views (6):"), "{plan}");
    assert!(
        plan.contains("shouting: view not translated: + on text"),
        "{plan}"
    );
    // A correlated subquery translates; text ordered against a number is refused, with the
    // reason.
    assert!(!plan.contains("latest: view not translated"), "{plan}");
    assert!(
        plan.contains("ranked: view not translated: orders a text column"),
        "{plan}"
    );
    let db = test_db("views");
    migrate(dir.path(), &src, &db.url).success();
    // Again over the finished migration: the views are replaced, not refused.
    pgcarry()
        .current_dir(dir.path())
        .args([
            "migrate",
            src.to_str().unwrap(),
            "--to",
            &db.url,
            "--if-exists",
            "truncate",
        ])
        .assert()
        .success();
    let mut c = db.client();
    // SQLite sorts by bytes ('Alice' < 'alice' < 'bob') and NULLs first.
    assert_eq!(
        texts(&mut c, "SELECT \"Name\" FROM \"Active Users\""),
        [
            Some("Alice".into()),
            Some("alice".into()),
            Some("bob".into())
        ]
    );
    assert_eq!(
        texts(
            &mut c,
            "SELECT name || ':' || n || ':' || coalesce(mean::text, '-') FROM post_counts ORDER BY name COLLATE \"C\""
        ),
        [Some("Alice:1:-".into()), Some("bob:2:2.5".into())]
    );
    assert_eq!(
        texts(&mut c, "SELECT name FROM counted"),
        [Some("bob".into())]
    );
    assert_eq!(
        texts(&mut c, "SELECT title FROM recent ORDER BY id"),
        [Some("b".into()), Some("c".into())]
    );
    // DESC puts NULLs last, as SQLite does.
    assert_eq!(
        texts(&mut c, "SELECT score::text FROM scores"),
        [Some("4".into()), Some("2.5".into()), Some("1".into()), None]
    );
}

#[test]
fn northwind_views_translate_where_they_mean_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("northwind.sqlite");
    let corpus =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/northwind.sqlite");
    std::fs::copy(corpus, &copy).unwrap();
    let db = test_db("northwind_views");
    migrate(dir.path(), &copy, &db.url).success();
    let mut c = db.client();
    let views: Vec<String> = texts(
        &mut c,
        "SELECT viewname::text FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
    )
    .into_iter()
    .flatten()
    .collect();
    // The other 6 compare dates as text (DATETIME('1997-01-01')), add text with +, or read
    // such a view: reported with their SQL.
    assert_eq!(views.len(), 10, "{views:?}");
    let sqlite = rusqlite::Connection::open(&copy).unwrap();
    for v in &views {
        let want: i64 = sqlite
            .query_row(&format!("SELECT count(*) FROM [{v}]"), [], |r| r.get(0))
            .unwrap();
        let got: i64 = c
            .query_one(&format!("SELECT count(*) FROM \"{v}\""), &[])
            .unwrap()
            .get(0);
        assert_eq!(got, want, "rows of view {v}");
    }
}

#[test]
fn an_updated_at_trigger_is_translated_and_keeps_the_column_current() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "touch.db",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT,
                             updated_at DATETIME DEFAULT CURRENT_TIMESTAMP);
         INSERT INTO posts VALUES (1, 'a', '2020-01-01 00:00:00');
         CREATE TRIGGER posts_touch AFTER UPDATE ON posts FOR EACH ROW BEGIN
             UPDATE posts SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
         END;
         CREATE TRIGGER posts_audit AFTER DELETE ON posts BEGIN SELECT 1; END;",
    );
    let out = pgcarry()
        .current_dir(dir.path())
        .args(["plan", src.to_str().unwrap(), "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let plan: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let skipped = plan["skipped"].to_string();
    assert!(
        !skipped.contains("posts_touch") && skipped.contains("posts_audit"),
        "{skipped}"
    );
    let db = test_db("touch");
    migrate(dir.path(), &src, &db.url).success();
    let mut c = db.client();
    let triggers: Vec<String> = c
        .query(
            "SELECT tgname::text FROM pg_trigger WHERE NOT tgisinternal",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(triggers, ["posts_touch"]);
    c.execute("UPDATE posts SET title = 'b' WHERE id = 1", &[])
        .unwrap();
    let year: f64 = c
        .query_one(
            "SELECT extract(year FROM updated_at)::float8 FROM posts",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(year > 2020.0, "updated_at was stamped: {year}");
}

#[test]
fn fts5_becomes_a_tsvector_column_with_a_gin_index() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "fts.db",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
         INSERT INTO posts VALUES (1, 'Hello world', 'first post'), (2, 'Other', NULL);
         CREATE VIRTUAL TABLE posts_fts USING fts5(title, body, content='posts', content_rowid='id');
         INSERT INTO posts_fts(posts_fts) VALUES ('rebuild');
         CREATE VIRTUAL TABLE notes_fts USING fts5(x, content='');
         CREATE VIRTUAL TABLE docs_fts USING fts5(body);
         INSERT INTO docs_fts VALUES ('kept only here');",
    );
    let plan = plan_text(dir.path(), &src);
    assert!(plan.contains("contentless FTS5 table"), "{plan}");
    assert!(
        plan.contains("docs_fts: FTS5 table keeping its own text: migrated as a table"),
        "{plan}"
    );
    let db = test_db("fts");
    migrate(dir.path(), &src, &db.url).success();
    let mut c = db.client();
    let tables: Vec<Option<String>> = texts(
        &mut c,
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    );
    assert_eq!(
        tables,
        [Some("docs_fts".to_string()), Some("posts".to_string())],
        "no shadow tables, and only the FTS table that keeps its own text"
    );
    assert_eq!(
        column_types(&mut c, "posts").last().unwrap(),
        &("posts_fts_tsv".to_string(), "tsvector".to_string())
    );
    let ids: Vec<i32> = c
        .query(
            "SELECT id FROM posts WHERE posts_fts_tsv @@ websearch_to_tsquery('simple', 'POST hello')",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [1]);
    let gin: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'posts' AND indexdef LIKE '%USING gin (posts_fts_tsv)%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(gin, 1);
    // Running again over the finished migration keeps the search column and its index.
    for again in ["truncate", "drop"] {
        pgcarry()
            .current_dir(dir.path())
            .args([
                "migrate",
                src.to_str().unwrap(),
                "--to",
                &db.url,
                "--if-exists",
                again,
            ])
            .assert()
            .success();
    }
    assert_eq!(
        column_types(&mut c, "posts").last().unwrap().1,
        "tsvector".to_string()
    );
    // New rows are indexed by PostgreSQL itself.
    c.execute(
        "INSERT INTO posts (title, body) VALUES ('new', 'words')",
        &[],
    )
    .unwrap();
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM posts WHERE posts_fts_tsv @@ to_tsquery('simple', 'words')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

// See: issue #13 item 7 — a view comparing an integer column with a text column (which SQLite
// compares as numbers) and reading a correlated subquery was not migrated.
#[test]
fn views_with_loose_comparisons_and_correlated_subqueries_return_sqlites_rows() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "loose.db",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE refs (code TEXT, note TEXT);
         INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd');
         INSERT INTO refs VALUES ('1', 'one'), (' 2', 'two'), ('x', 'none'), ('3.0', 'three'),
                                 ('04', 'four'), (NULL, 'null');
         CREATE VIEW matched AS SELECT items.id, refs.note FROM items JOIN refs ON items.id = refs.code;
         CREATE VIEW counted AS SELECT i.id, (SELECT count(*) FROM refs r WHERE r.code = i.id) AS n
             FROM items i WHERE EXISTS (SELECT 1 FROM refs WHERE refs.code = i.id);",
    );
    let db = test_db("loose_views");
    let a = migrate(dir.path(), &src, &db.url).code(0);
    let out = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(!out.contains("not migrated"), "{out}");
    let lite = rusqlite::Connection::open(&src).unwrap();
    let mut pg = db.client();
    for (view, sql) in [
        ("matched", "SELECT id, note FROM matched ORDER BY id"),
        (
            "counted",
            "SELECT id, CAST(n AS TEXT) FROM counted ORDER BY id",
        ),
    ] {
        let want: Vec<(i64, String)> = lite
            .prepare(sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let pg_sql = sql
            .replace("CAST(n AS TEXT)", "n::text")
            .replace("SELECT id", "SELECT id::bigint");
        let got: Vec<(i64, String)> = pg
            .query(pg_sql.as_str(), &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(got, want, "{view}");
        assert!(!want.is_empty(), "{view}");
    }
}
