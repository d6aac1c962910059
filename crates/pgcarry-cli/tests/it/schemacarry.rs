//! `pgcarry migrate` of a SQLite file kept under `pgcarry schema`: its records land in
//! `pgcarry.schema_migrations`, not among the application's tables.

use crate::schema::{schema, write};
use crate::support::{self, output, pgcarry};
use std::path::Path;

/// A SQLite file in `dir` with two migrations applied by `schema up`.
fn dev_db(dir: &Path) -> String {
    write(
        dir,
        "20261201000000_users.sql",
        "-- pgcarry:up\nCREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
         INSERT INTO users (name) VALUES ('ada'), ('bo');\n-- pgcarry:down\nDROP TABLE users;\n",
    );
    write(
        dir,
        "20261202000000_notes.sql",
        "-- pgcarry:up\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n\
         -- pgcarry:down\nDROP TABLE notes;\n",
    );
    let url = format!("sqlite:{}", dir.join("dev.db").display());
    schema(dir, &["up", "--db", &url]).assert().success();
    url
}

fn migrate(dir: &Path, url: &str) -> assert_cmd::Command {
    let mut cmd = pgcarry();
    cmd.current_dir(dir)
        .args(["migrate", "dev.db", "--to", url]);
    cmd
}

#[test]
fn records_are_carried_and_schema_up_continues_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let db = support::test_db("schemacarry");
    dev_db(dir.path());
    let out = pgcarry()
        .current_dir(dir.path())
        .args(["plan", "dev.db"])
        .assert()
        .success();
    let text = output(&out);
    assert!(
        text.contains(
            "schema migration records: 2 applied migrations carried to pgcarry.schema_migrations"
        ),
        "{text}"
    );
    let out = migrate(dir.path(), &db.url).assert().success();
    assert!(
        output(&out).contains("2 applied migration(s) recorded"),
        "{}",
        output(&out)
    );
    let mut client = db.client();
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'pgcarry_schema_migrations'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0);
    let users: i64 = client
        .query_one("SELECT count(*) FROM public.users", &[])
        .unwrap()
        .get(0);
    assert_eq!(users, 2);
    let out = schema(dir.path(), &["status", "--db", &db.url])
        .assert()
        .code(0);
    let text = output(&out);
    assert!(text.contains("2 applied, 0 pending"), "{text}");
    assert!(!text.contains("baseline VERSION"), "{text}");
    pgcarry()
        .current_dir(dir.path())
        .args(["verify", "dev.db", "--to", &db.url])
        .assert()
        .success();
    write(
        dir.path(),
        "20261203000000_tags.sql",
        "-- pgcarry:up\nALTER TABLE users ADD COLUMN tag text;\n\
         -- pgcarry:down\nALTER TABLE users DROP COLUMN tag;\n",
    );
    let out = schema(dir.path(), &["up", "--db", &db.url])
        .assert()
        .success();
    assert!(
        output(&out).contains("applied 20261203000000 tags"),
        "{}",
        output(&out)
    );
    schema(dir.path(), &["status", "--db", &db.url])
        .assert()
        .code(0);
}

#[test]
fn disagreeing_records_and_unfinished_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = support::test_db("schemacarry_refuse");
    dev_db(dir.path());
    let mut client = db.client();
    client
        .batch_execute(
            "CREATE SCHEMA pgcarry; CREATE TABLE pgcarry.schema_migrations (version bigint \
             PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz \
             NOT NULL DEFAULT now(), duration_ms bigint NOT NULL DEFAULT 0, state text NOT NULL \
             DEFAULT 'finished', baseline boolean NOT NULL DEFAULT false); \
             INSERT INTO pgcarry.schema_migrations (version, name, checksum) \
             VALUES (20261201000000, 'users', 'other')",
        )
        .unwrap();
    let out = migrate(dir.path(), &db.url).assert().code(2);
    assert!(output(&out).contains("disagree"), "{}", output(&out));
    let users: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'users'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(users, 0, "nothing was written");

    let conn = rusqlite::Connection::open(dir.path().join("dev.db")).unwrap();
    conn.execute(
        "UPDATE pgcarry_schema_migrations SET state = 'started' WHERE version = 20261202000000",
        [],
    )
    .unwrap();
    let other = support::test_db("schemacarry_unfinished");
    let out = migrate(dir.path(), &other.url).assert().code(2);
    assert!(
        output(&out).contains("schema repair --unfinished"),
        "{}",
        output(&out)
    );
}

#[test]
fn a_table_of_that_name_with_other_columns_is_carried_as_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = support::test_db("schemacarry_other");
    let conn = rusqlite::Connection::open(dir.path().join("dev.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE pgcarry_schema_migrations (version INTEGER PRIMARY KEY, note TEXT);
         INSERT INTO pgcarry_schema_migrations VALUES (1, 'mine');",
    )
    .unwrap();
    drop(conn);
    migrate(dir.path(), &db.url).assert().success();
    let n: i64 = db
        .client()
        .query_one("SELECT count(*) FROM public.pgcarry_schema_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}
