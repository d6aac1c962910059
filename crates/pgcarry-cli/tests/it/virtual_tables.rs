//! Virtual tables (issue 13, item 1): full-text tables that keep their own text and R-trees are
//! data and land as tables, verified; shadow tables are never copied; a module pgcarry cannot
//! load stops the run from claiming success.

use crate::support::{migrate_cmd, output, pgcarry, sqlite_fixture, test_db};
use std::path::Path;

/// Rows of a SQLite query, every value as text (NULL as "∅"), for comparison.
fn sqlite_rows(src: &Path, sql: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(src).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => "∅".to_string(),
                    rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                    rusqlite::types::ValueRef::Real(v) => format!("{v:?}"),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into(),
                    rusqlite::types::ValueRef::Blob(b) => format!("{b:?}"),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// The same rows from PostgreSQL: `sql` must cast every column to text, with reals as
/// `float8` printed exactly by `float_text` below.
fn pg_rows(c: &mut postgres::Client, sql: &str) -> Vec<Vec<String>> {
    c.query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| {
            (0..r.len())
                .map(|i| r.get::<_, Option<String>>(i).unwrap_or_else(|| "∅".into()))
                .collect()
        })
        .collect()
}

fn pg_reals(c: &mut postgres::Client, sql: &str) -> Vec<Vec<f64>> {
    c.query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| (0..r.len()).map(|i| r.get::<_, f64>(i)).collect())
        .collect()
}

fn sqlite_reals(src: &Path, sql: &str) -> Vec<Vec<f64>> {
    let conn = rusqlite::Connection::open(src).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get::<_, f64>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn exists(c: &mut postgres::Client, table: &str) -> bool {
    c.query_one("SELECT to_regclass($1::text) IS NOT NULL", &[&table])
        .unwrap()
        .get(0)
}

#[test]
fn full_text_tables_with_their_own_text_and_rtrees_land_as_tables_and_are_verified() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE VIRTUAL TABLE notes USING fts5(title, body, tag UNINDEXED,
                                               tokenize = 'unicode61');
         INSERT INTO notes (rowid, title, body, tag) VALUES
             (3, 'Groceries', 'milk, eggs and crème fraîche', 'home'),
             (10, 'Release plan', 'ship the export command', NULL),
             (11, 'Numbers', 42, 7);
         CREATE VIRTUAL TABLE journal USING fts4(entry, mood, tokenize=porter, notindexed=mood);
         INSERT INTO journal (docid, entry, mood) VALUES (1, 'walked the dog', 2.5),
                                                         (5, 'read a book', 'calm');
         CREATE VIRTUAL TABLE legacy USING fts3(line, tokenize simple);
         INSERT INTO legacy (line) VALUES ('first line'), ('second line');
         CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
         INSERT INTO docs VALUES (1, 'Alpha', 'the first document'), (2, 'Beta', NULL);
         CREATE VIRTUAL TABLE docs_fts USING fts4(content=\"docs\", title, body);
         INSERT INTO docs_fts (docs_fts) VALUES ('rebuild');
         CREATE VIRTUAL TABLE boxes USING rtree(id, min_x, max_x, min_y, max_y, +label);
         INSERT INTO boxes VALUES (1, 0.1, 2.5, -3.25, 4.0, 'park'),
                                  (7, 10, 20, 30, 40, NULL);
         CREATE VIRTUAL TABLE cells USING rtree_i32(id, lo, hi);
         INSERT INTO cells VALUES (2, -5, 9);
         CREATE TABLE events (id INTEGER PRIMARY KEY, xmin INTEGER, what TEXT);
         INSERT INTO events VALUES (1, 100, 'start');
         CREATE TRIGGER events_noted AFTER INSERT ON events BEGIN
             INSERT INTO notes (rowid, title, body) VALUES (new.id + 1000, new.what, 'event');
         END;",
    );
    let plan = pgcarry()
        .current_dir(dir.path())
        .arg("plan")
        .arg(&src)
        .assert()
        .success();
    let plan = output(&plan);
    assert!(
        plan.contains("FTS5 table keeping its own text: migrated as a table"),
        "{plan}"
    );
    assert!(
        plan.contains("shadow table of the virtual table notes"),
        "{plan}"
    );
    assert!(
        plan.contains("FTS4 table: not copied (nor its shadow tables); docs gets the column"),
        "{plan}"
    );

    let db = test_db("virtual_tables");
    let run = migrate_cmd(dir.path(), &src, &db.url).assert().code(0);
    assert!(
        output(&run).contains("migrated and verified"),
        "{}",
        output(&run)
    );
    let mut c = db.client();

    assert_eq!(
        pg_rows(
            &mut c,
            "SELECT rowid::text, title, body::text, tag::text FROM notes ORDER BY notes.rowid"
        ),
        sqlite_rows(
            &src,
            "SELECT rowid, title, body, tag FROM notes ORDER BY rowid"
        )
    );
    let found: Vec<i32> = c
        .query(
            "SELECT rowid FROM notes WHERE notes_tsv @@ websearch_to_tsquery('simple', 'crème')",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(found, [3], "the search column indexes the text");
    assert_eq!(
        pg_rows(
            &mut c,
            "SELECT rowid::text, entry, mood::text FROM journal ORDER BY journal.rowid"
        ),
        sqlite_rows(
            &src,
            "SELECT docid, entry, mood FROM journal ORDER BY docid"
        ),
    );
    assert_eq!(
        pg_rows(
            &mut c,
            "SELECT rowid::text, line FROM legacy ORDER BY legacy.rowid"
        ),
        sqlite_rows(&src, "SELECT rowid, line FROM legacy ORDER BY rowid"),
    );
    let docs_hits: i64 = c
        .query_one(
            "SELECT count(*) FROM docs WHERE docs_fts_tsv @@ websearch_to_tsquery('simple', 'first')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        docs_hits, 1,
        "the external content table gets the search column"
    );
    assert!(
        !exists(&mut c, "docs_fts"),
        "an external-content FTS table is not copied"
    );

    let boxes = "SELECT id, min_x, max_x, min_y, max_y FROM boxes ORDER BY id";
    assert_eq!(
        pg_reals(
            &mut c,
            "SELECT id::float8, min_x, max_x, min_y, max_y FROM boxes ORDER BY id"
        ),
        sqlite_reals(&src, boxes),
        "the boxes are the 32-bit values SQLite returns, exactly"
    );
    assert_eq!(
        pg_rows(&mut c, "SELECT id::text, label FROM boxes ORDER BY id"),
        sqlite_rows(&src, "SELECT id, label FROM boxes ORDER BY id"),
    );
    assert_eq!(
        pg_rows(&mut c, "SELECT id::text, lo::text, hi::text FROM cells"),
        [["2", "-5", "9"]]
    );
    assert_eq!(pg_rows(&mut c, "SELECT xmin_::text FROM events"), [["100"]]);
    for shadow in [
        "notes_data",
        "notes_content",
        "journal_segdir",
        "legacy_content",
        "docs_fts_content",
        "boxes_node",
        "boxes_rowid",
        "cells_parent",
    ] {
        assert!(!exists(&mut c, shadow), "{shadow} is a shadow table");
    }
    pgcarry()
        .current_dir(dir.path())
        .args(["verify", src.to_str().unwrap(), "--to", &db.url])
        .assert()
        .code(0);
    // A trigger writing into the FTS table writes into the table it became.
    c.execute("INSERT INTO events (id, what) VALUES (2, 'stop')", &[])
        .unwrap();
    assert_eq!(
        pg_rows(&mut c, "SELECT title FROM notes WHERE rowid = 1002"),
        [["stop"]]
    );
    // An application's next row gets a key after the migrated ones.
    let next: i32 = c
        .query_one(
            "INSERT INTO notes (title) VALUES ('new') RETURNING rowid",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(next > 11 && next != 1002, "{next}");
}

#[test]
fn a_virtual_table_whose_module_is_missing_exits_3_naming_it_unless_skipped() {
    let dir = tempfile::tempdir().unwrap();
    // spellfix1 is not compiled into SQLite: its table is written into the schema directly, as
    // a file from an application that loads the extension looks to pgcarry.
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE words_vocab (id INTEGER PRIMARY KEY, word TEXT);
         INSERT INTO words_vocab VALUES (1, 'kitten');
         CREATE TABLE words_extra (id INTEGER PRIMARY KEY, note TEXT);
         INSERT INTO words_extra VALUES (1, 'an application table');
         CREATE TABLE t (id INTEGER PRIMARY KEY);
         INSERT INTO t VALUES (1), (2);
         PRAGMA writable_schema = ON;
         INSERT INTO sqlite_schema (type, name, tbl_name, rootpage, sql)
             VALUES ('table', 'words', 'words', 0, 'CREATE VIRTUAL TABLE words USING spellfix1');
         PRAGMA writable_schema = OFF;",
    );
    let db = test_db("missing_module");
    let run = migrate_cmd(dir.path(), &src, &db.url).assert().code(3);
    let text = output(&run);
    assert!(
        text.contains("not read: words: virtual table using module spellfix1"),
        "{text}"
    );
    assert!(text.contains("skip = true"), "{text}");
    assert!(text.contains("1 virtual table not migrated"), "{text}");
    let mut c = db.client();
    assert_eq!(pg_rows(&mut c, "SELECT count(*)::text FROM t"), [["2"]]);
    assert!(exists(&mut c, "words_extra"), "not a shadow table's name");
    assert!(!exists(&mut c, "words_vocab"), "spellfix1's shadow table");
    let verify = pgcarry()
        .current_dir(dir.path())
        .args(["verify", src.to_str().unwrap(), "--to", &db.url])
        .assert()
        .code(3);
    assert!(output(&verify).contains("spellfix1"), "{}", output(&verify));

    std::fs::write(
        dir.path().join("pgcarry.toml"),
        "[tables.words]\nskip = true\n",
    )
    .unwrap();
    let db = test_db("missing_module_skipped");
    let run = migrate_cmd(dir.path(), &src, &db.url)
        .args(["--config", "pgcarry.toml"])
        .assert()
        .code(0);
    assert!(
        output(&run).contains("migrated and verified"),
        "{}",
        output(&run)
    );
}
