//! Orphan rows (a foreign key SQLite never checked) under `--orphans reject` and `--orphans
//! null`: each orphan is rejected or detached, the foreign key is created and holds, and
//! verification with the same choice agrees.

use crate::support::{count_rows, migrate_cmd, pgcarry, sqlite_fixture, test_db};
use std::path::Path;

const ORPHANS: &str = "PRAGMA foreign_keys = OFF;
     CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT);
     CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES author(id), title TEXT);
     CREATE TABLE review (id INTEGER PRIMARY KEY, book_id INTEGER NOT NULL REFERENCES book(id), stars INT);
     CREATE TABLE node (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES node(id));
     CREATE TABLE edition (book_id INTEGER, n INTEGER, PRIMARY KEY (book_id, n)) WITHOUT ROWID;
     CREATE TABLE print (id INTEGER PRIMARY KEY, book_id INTEGER, n INTEGER,
         FOREIGN KEY (book_id, n) REFERENCES edition (book_id, n));
     INSERT INTO author VALUES (1, 'a');
     INSERT INTO book VALUES (1, 1, 'kept'), (2, 99, 'orphan'), (3, NULL, 'no author');
     INSERT INTO review VALUES (1, 1, 5), (2, 77, 1);
     INSERT INTO node VALUES (1, NULL), (2, 1), (3, 42);
     INSERT INTO edition VALUES (1, 1);
     INSERT INTO print VALUES (1, 1, 1), (2, 1, 2), (3, NULL, 2);";

fn migrate_with(dir: &Path, src: &Path, url: &str, policy: &str) -> assert_cmd::assert::Assert {
    migrate_cmd(dir, src, url)
        .args(["--orphans", policy, "--rejects"])
        .arg(dir.join(format!("{policy}.ndjson")))
        .assert()
}

/// `migrate_with` that rejected rows (exit 3): its standard output.
fn migrate_rejecting(dir: &Path, src: &Path, url: &str, policy: &str) -> String {
    let out = migrate_with(dir, src, url, policy).code(3);
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}

/// The records of the rejects file `migrate_with` wrote for `policy`.
fn rejects(dir: &Path, policy: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join(format!("{policy}.ndjson")))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `pgcarry verify` with `--orphans policy`: exit 3 either way here (rows were rejected);
/// returns whether it found the rest identical.
fn verify_with(dir: &Path, src: &Path, url: &str, policy: &str) -> bool {
    let out = pgcarry()
        .current_dir(dir)
        .args([
            "verify",
            src.to_str().unwrap(),
            "--to",
            url,
            "--orphans",
            policy,
        ])
        .assert()
        .code(3);
    String::from_utf8_lossy(&out.get_output().stdout)
        .contains("identical to the source, except the rows that cannot be represented")
}

fn foreign_keys(c: &mut postgres::Client) -> i64 {
    c.query_one(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated",
        &[],
    )
    .unwrap()
    .get(0)
}

fn ids(c: &mut postgres::Client, table: &str) -> Vec<i32> {
    c.query(&format!("SELECT id FROM {table} ORDER BY id"), &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn orphans_reject_sends_each_orphan_to_the_rejects_file_and_keeps_every_foreign_key() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(dir.path(), "orphans.db", ORPHANS);
    let db = test_db("orphans_reject");
    let stdout = migrate_rejecting(dir.path(), &src, &db.url, "reject");
    assert!(stdout.contains("row(s) rejected"), "{stdout}");

    let mut c = db.client();
    assert_eq!(ids(&mut c, "book"), [1, 3]);
    assert_eq!(ids(&mut c, "review"), [1]);
    assert_eq!(ids(&mut c, "node"), [1, 2]);
    assert_eq!(ids(&mut c, "print"), [1, 3]);
    assert_eq!(foreign_keys(&mut c), 4);

    let rejects = rejects(dir.path(), "reject");
    let mut seen: Vec<(String, i64, String)> = rejects
        .iter()
        .map(|r| {
            (
                r["table"].as_str().unwrap().to_string(),
                r["key"]["id"].as_i64().unwrap(),
                r["column"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    let want = [
        ("book", 2, "author_id"),
        ("node", 3, "parent_id"),
        ("print", 2, "book_id"),
        ("review", 2, "book_id"),
    ];
    let want: Vec<(String, i64, String)> = want
        .iter()
        .map(|(t, k, c)| (t.to_string(), *k, c.to_string()))
        .collect();
    assert_eq!(seen, want);
    let book = rejects.iter().find(|r| r["table"] == "book").unwrap();
    let reason = book["reason"].as_str().unwrap();
    assert!(
        reason.contains("book (author_id) → author (id) has no parent row"),
        "{reason}"
    );
    assert_eq!(book["value"], 99);

    // The standalone proof, with the same choice, finds the migration identical but for the
    // rejected rows.
    assert!(verify_with(dir.path(), &src, &db.url, "reject"));
}

#[test]
fn orphans_null_detaches_each_orphan_and_counts_it() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(dir.path(), "orphans.db", ORPHANS);
    let db = test_db("orphans_null");
    // review.book_id is NOT NULL: that orphan cannot be detached and is rejected (exit 3).
    let stdout = migrate_rejecting(dir.path(), &src, &db.url, "null");
    assert!(
        stdout.contains("changed by --orphans null:")
            && stdout.contains("book.author_id 1 value")
            && stdout.contains("node.parent_id 1 value")
            && stdout.contains("print.book_id 1 value")
            && stdout.contains("print.n 1 value"),
        "{stdout}"
    );
    let mut c = db.client();
    let authors: Vec<Option<i32>> = c
        .query("SELECT author_id FROM book ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(authors, [Some(1), None, None]);
    let titles: i64 = c
        .query_one("SELECT count(*) FROM book WHERE title = 'orphan'", &[])
        .unwrap()
        .get(0);
    assert_eq!(titles, 1);
    assert_eq!(ids(&mut c, "review"), [1]);
    assert_eq!(count_rows(&mut c, "print"), 3);
    assert_eq!(foreign_keys(&mut c), 4);
    let rejects = std::fs::read_to_string(dir.path().join("null.ndjson")).unwrap();
    assert!(rejects.contains("\"table\":\"review\""), "{rejects}");
    assert_eq!(rejects.lines().count(), 1);

    assert!(verify_with(dir.path(), &src, &db.url, "null"));
    // Without the same choice, verify sees what was changed.
    assert!(!verify_with(dir.path(), &src, &db.url, "skip-constraint"));
}

/// Chains of rows whose parent is rejected: each link is an orphan in PostgreSQL too.
const CASCADE: &str = "PRAGMA foreign_keys = OFF;
     CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT);
     CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES author(id));
     CREATE TABLE review (id INTEGER PRIMARY KEY, book_id INTEGER NOT NULL REFERENCES book(id));
     CREATE TABLE tag (id INTEGER PRIMARY KEY, review_id INTEGER REFERENCES review(id));
     CREATE TABLE node (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES node(id));
     INSERT INTO author VALUES (1, 'a');
     INSERT INTO book VALUES (1, 1), (2, 99);
     INSERT INTO review VALUES (1, 1), (2, 2), (3, 77);
     INSERT INTO tag VALUES (1, 1), (2, 2), (3, 3), (4, NULL);
     INSERT INTO node VALUES (1, NULL), (2, 1), (3, 42), (4, 3), (5, 4), (6, 2);";

#[test]
fn orphans_reject_cascades_to_the_children_of_a_rejected_row() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(dir.path(), "cascade.db", CASCADE);
    let db = test_db("orphans_cascade_reject");
    let stdout = migrate_rejecting(dir.path(), &src, &db.url, "reject");
    assert!(stdout.contains("row(s) rejected"), "{stdout}");

    let mut c = db.client();
    assert_eq!(ids(&mut c, "book"), [1]);
    // review 2's book is rejected (no author), review 3's book does not exist.
    assert_eq!(ids(&mut c, "review"), [1]);
    // tag 2 and 3 hang off rejected reviews, two and one levels down.
    assert_eq!(ids(&mut c, "tag"), [1, 4]);
    // node 3 is an orphan; 4 and 5 descend from it.
    assert_eq!(ids(&mut c, "node"), [1, 2, 6]);
    // Every foreign key is created, and holds.
    assert_eq!(foreign_keys(&mut c), 4);

    let mut seen: Vec<(String, i64, bool)> = rejects(dir.path(), "reject")
        .iter()
        .map(|r| {
            let reason = r["reason"].as_str().unwrap();
            (
                r["table"].as_str().unwrap().to_string(),
                r["key"]["id"].as_i64().unwrap(),
                reason.contains("its parent row is rejected itself"),
            )
        })
        .collect();
    seen.sort();
    let want: Vec<(String, i64, bool)> = [
        ("book", 2, false),
        ("node", 3, false),
        ("node", 4, true),
        ("node", 5, true),
        ("review", 2, true),
        ("review", 3, false),
        ("tag", 2, true),
        ("tag", 3, true),
    ]
    .iter()
    .map(|(t, k, c)| (t.to_string(), *k, *c))
    .collect();
    assert_eq!(seen, want);
    assert!(verify_with(dir.path(), &src, &db.url, "reject"));
}

#[test]
fn orphans_null_detaches_the_children_of_a_row_it_must_reject() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(dir.path(), "cascade.db", CASCADE);
    let db = test_db("orphans_cascade_null");
    // Book 2 loses its author and stays; review 3 cannot lose its NOT NULL book and is
    // rejected, so tag 3 loses its review.
    migrate_with(dir.path(), &src, &db.url, "null").code(3);
    let mut c = db.client();
    assert_eq!(ids(&mut c, "review"), [1, 2]);
    let tags: Vec<Option<i32>> = c
        .query("SELECT review_id FROM tag ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tags, [Some(1), Some(2), None, None]);
    assert_eq!(ids(&mut c, "node"), [1, 2, 3, 4, 5, 6]);
    assert_eq!(foreign_keys(&mut c), 4);
    let rejects = std::fs::read_to_string(dir.path().join("null.ndjson")).unwrap();
    assert_eq!(rejects.lines().count(), 1, "{rejects}");
    assert!(verify_with(dir.path(), &src, &db.url, "null"));
}
