//! The round trip (issue 14, item 4): `migrate A.db`, then `export B.db`, gives a B whose
//! schema is A's and whose every value has A's storage class and bytes — on the corpus and on
//! a file whose values are written the many ways applications write them.

use crate::support::{migrate_cmd, output, pgcarry, sqlite_fixture, test_db};
use std::path::{Path, PathBuf};

/// Every schema object of a file: type, name, table, SQL.
fn schema(path: &Path) -> Vec<(String, String, String, Option<String>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The tables (and virtual tables) whose rows are the application's.
fn data_tables(path: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', \
             'virtual') AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Every row of a table as (storage class, bytes) per value, sorted.
fn rows(path: &Path, table: &str) -> Vec<Vec<(String, Vec<u8>)>> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM \"{}\"", table.replace('"', "\"\"")))
        .unwrap();
    let n = stmt.column_count();
    let mut out: Vec<Vec<(String, Vec<u8>)>> = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| {
                    use rusqlite::types::ValueRef::*;
                    Ok(match r.get_ref(i)? {
                        Null => ("null".to_string(), Vec::new()),
                        Integer(v) => ("integer".to_string(), v.to_be_bytes().to_vec()),
                        Real(v) => ("real".to_string(), v.to_bits().to_be_bytes().to_vec()),
                        Text(t) => ("text".to_string(), t.to_vec()),
                        Blob(b) => ("blob".to_string(), b.to_vec()),
                    })
                })
                .collect()
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    out.sort();
    out
}

/// Migrates `a` into a fresh database, exports it to `B.db` and asserts B is A.
fn round_trip(dir: &Path, a: &Path, name: &str) -> PathBuf {
    let db = test_db(name);
    migrate_cmd(dir, a, &db.url).assert().code(0);
    let b = dir.join(format!("{name}.back.db"));
    let run = pgcarry()
        .current_dir(dir)
        .args(["export", "--from", &db.url])
        .arg(&b)
        .assert()
        .code(0);
    let text = output(&run);
    assert!(text.contains("exported and verified"), "{text}");
    assert_eq!(schema(&b), schema(a), "{name}: the schema is the source's");
    let tables = data_tables(a);
    assert_eq!(data_tables(&b), tables);
    for t in &tables {
        assert_eq!(rows(&b, t), rows(a, t), "{name}: table {t}");
    }
    b
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus")
        .join(name)
}

#[test]
fn the_corpus_comes_back_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "chinook.sqlite",
        "chinook_autoincrement.sqlite",
        "northwind.sqlite",
    ] {
        let a = corpus(file);
        assert!(a.exists(), "corpus file {} is missing", a.display());
        round_trip(dir.path(), &a, &file.replace('.', "_"));
    }
}

#[test]
fn values_come_back_in_the_form_the_application_wrote_them() {
    let dir = tempfile::tempdir().unwrap();
    let a = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE users (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             email TEXT NOT NULL COLLATE NOCASE UNIQUE,
             is_admin BOOLEAN NOT NULL DEFAULT 0,
             active BOOLEAN,
             verified BOOL,
             created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
             seen TIMESTAMP,
             logged DATETIME,
             stamp DATETIME,
             jd DATE,
             token UUID,
             ext_id UUID,
             price NUMERIC(10,3),
             amount DECIMAL,
             ratio REAL,
             born DATE,
             note TEXT
         );
         CREATE INDEX users_by_created ON users (created_at DESC);
         INSERT INTO users (email, is_admin, active, verified, created_at, seen, logged, stamp,
                            jd, token, ext_id, price, amount, ratio, born, note) VALUES
           ('a@x.org', 1, 'true', 'Y', '2024-01-02 03:04:05', '2024-01-02T03:04:05.123Z',
            '2024-01-02 03:04:05.678 +00:00', 1704164645, 2460311.5,
            X'0102030405060708090a0b0c0d0e0f10', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
            '19.990', 7, 0.1, '1990-05-06', 'héllo'),
           ('b@x.org', 0, 'false', 'N', '2024-01-02 03:04:05.250000',
            '2024-02-03T00:00:00.000Z', '2024-02-03 00:00:00.000 +00:00', 1704164646,
            2460312.25, X'1102030405060708090a0b0c0d0e0f10',
            'B0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12', '0.500', 12345678901, 2.5, '2000-01-01',
            NULL);
         DELETE FROM users WHERE id = 2;
         INSERT INTO users (email, created_at) VALUES ('c@x.org', '2025-06-07 08:09:10');
         CREATE TABLE tags (user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                            tag TEXT NOT NULL COLLATE NOCASE,
                            PRIMARY KEY (user_id, tag)) WITHOUT ROWID;
         INSERT INTO tags VALUES (1, 'Admin'), (3, 'new');
         CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
         INSERT INTO posts VALUES (1, 'Hello world', 'first post'), (2, 'Other', NULL);
         CREATE VIRTUAL TABLE posts_fts USING fts5(title, body, content='posts',
                                                   content_rowid='id');
         INSERT INTO posts_fts (posts_fts) VALUES ('rebuild');
         CREATE TRIGGER posts_ai AFTER INSERT ON posts BEGIN
             INSERT INTO posts_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
         END;
         CREATE VIRTUAL TABLE notes USING fts5(text);
         INSERT INTO notes (rowid, text) VALUES (5, 'kept only here');
         CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1);
         INSERT INTO boxes VALUES (1, 0.1, 2.5);
         CREATE VIEW admins AS SELECT id, email FROM users WHERE is_admin = 1;",
    );
    let b = round_trip(dir.path(), &a, "formats");
    // The application goes on in B as in A: the next id, NOCASE, the FTS index, the trigger.
    let conn = rusqlite::Connection::open(&b).unwrap();
    conn.execute("INSERT INTO users (email) VALUES ('d@x.org')", [])
        .unwrap();
    assert_eq!(conn.last_insert_rowid(), 4);
    assert!(
        conn.execute("INSERT INTO users (email) VALUES ('A@X.ORG')", [])
            .is_err()
    );
    conn.execute(
        "INSERT INTO posts VALUES (3, 'Third', 'searchable words')",
        [],
    )
    .unwrap();
    let hits: i64 = conn
        .query_row(
            "SELECT count(*) FROM posts_fts WHERE posts_fts MATCH 'searchable OR hello'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(hits, 2);
    let admins: i64 = conn
        .query_row("SELECT count(*) FROM admins", [], |r| r.get(0))
        .unwrap();
    assert_eq!(admins, 1);
}
