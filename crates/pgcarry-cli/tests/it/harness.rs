//! The harness itself: the shared cluster, per-test databases, SQLite fixtures, the binary.

use crate::support::{pg, pgcarry, sqlite_fixture, test_db};

#[test]
fn the_cluster_is_shared_and_answers() {
    let a = pg();
    let b = pg();
    assert!(std::ptr::eq(a, b), "pg() started a second cluster");
    assert_ne!(
        a.port(),
        5432,
        "the test cluster must not take the default port"
    );
    let row = a
        .admin()
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .expect("server version");
    let version: i32 = row.get(0);
    assert!(version >= 13_00_00, "PostgreSQL {version} is older than 13");
}

#[test]
fn test_databases_are_independent() {
    let one = test_db("harness independent");
    let two = test_db("harness independent");
    assert_ne!(one.name, two.name);
    assert!(one.name.starts_with("harness_independent_"), "{}", one.name);

    let mut c1 = one.client();
    c1.batch_execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2)")
        .expect("create t in the first database");
    let db: String = c1
        .query_one("SELECT current_database()::text", &[])
        .expect("current_database")
        .get(0);
    assert_eq!(db, one.name);

    let mut c2 = two.client();
    let exists: bool = c2
        .query_one("SELECT to_regclass('public.t') IS NOT NULL", &[])
        .expect("to_regclass")
        .get(0);
    assert!(
        !exists,
        "a table of {} is visible in {}",
        one.name, two.name
    );
    let count: i64 = c1
        .query_one("SELECT count(*) FROM t", &[])
        .expect("count")
        .get(0);
    assert_eq!(count, 2);
}

#[test]
fn sqlite_fixture_builds_a_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO users (name) VALUES ('ada'), ('grace');",
    );
    assert_eq!(path, dir.path().join("app.db"));
    let header = std::fs::read(&path).expect("read the fixture");
    assert!(header.starts_with(b"SQLite format 3\0"));
    let conn = rusqlite::Connection::open(&path).expect("open the fixture");
    let names: Vec<String> = conn
        .prepare("SELECT name FROM users ORDER BY id")
        .and_then(|mut stmt| stmt.query_map([], |row| row.get(0))?.collect())
        .expect("read users");
    assert_eq!(names, ["ada", "grace"]);
}

#[test]
fn the_binary_runs() {
    pgcarry().arg("--help").assert().success();
}
