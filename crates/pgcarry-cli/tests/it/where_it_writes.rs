//! Say where it writes before it writes: `migrate` prints its target (user, host, port,
//! database, schema; never the password) before the first statement that changes anything, as
//! it may come from `DATABASE_URL` or a `.env` file; and `--schema pgcarry`, pgcarry's own state
//! schema, is refused before anything is read or written.

use crate::support::{Running, pg, pgcarry, sqlite_fixture, test_db};
use pgcarry::{ConnSettings, RunLock, Silent};
use std::time::Duration;

const ITEMS: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);
                     INSERT INTO items VALUES (1, 'a'), (2, 'b');";

/// Tables outside the system schemas, and whether the `pgcarry` schema exists.
fn written(client: &mut postgres::Client) -> (i64, bool) {
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM pg_tables \
                     WHERE schemaname NOT IN ('pg_catalog', 'information_schema')), \
                    EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'pgcarry')",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

#[test]
fn the_target_is_said_before_anything_is_written_and_never_the_password() {
    let dir = tempfile::tempdir().unwrap();
    sqlite_fixture(dir.path(), "app.db", ITEMS);
    let db = test_db("where_target");
    // The target comes from a .env file, with a password (the test server trusts any).
    let url = db.url.replace("postgres@", "postgres:s3cret-pw@");
    std::fs::write(dir.path().join(".env"), format!("DATABASE_URL={url}\n")).unwrap();
    // The run stops at the run lock, after saying where it writes: the test holds the lock.
    let held = RunLock::acquire(
        &ConnSettings::parse(&db.url).unwrap(),
        "public",
        Duration::ZERO,
        &Silent,
    )
    .unwrap();
    let run = Running::spawn(
        dir.path(),
        &[
            "migrate",
            "app.db",
            "--lock-wait",
            "30s",
            "--schema",
            "public",
        ],
    );
    assert!(
        run.says("waiting for the lock", Duration::from_secs(30)),
        "{}",
        run.stderr()
    );
    let line = format!(
        "target: postgres@127.0.0.1:{}/{}, schema public\n",
        pg().port(),
        db.name
    );
    let stderr = run.stderr();
    let said = stderr.find(&line);
    assert!(
        said.is_some_and(|at| at < stderr.find("waiting for the lock").unwrap()),
        "{stderr}"
    );
    assert_eq!(written(&mut db.client()), (0, false), "nothing yet");
    drop(held);
    let (code, text, _) = run.finish();
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
    assert_eq!(crate::support::count_rows(&mut db.client(), "items"), 2);
}

#[test]
fn schema_pgcarry_is_refused_before_anything_is_read_or_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_db("where_schema");
    // The source does not exist: the refusal comes before it is even looked at.
    let commands: [&[&str]; 4] = [
        &["plan", "missing.db"],
        &["migrate", "missing.db", "--to", &db.url],
        &["verify", "missing.db", "--to", &db.url],
        &["rehearse", "missing.db"],
    ];
    for schema in ["pgcarry", "pg_catalog", "information_schema"] {
        for args in commands {
            let out = pgcarry()
                .current_dir(dir.path())
                .args(args)
                .args(["--schema", schema])
                .assert()
                .code(2);
            let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
            assert!(
                stderr.starts_with(&format!("error: --schema {schema}: "))
                    && stderr.contains("nothing was read or written")
                    && stderr.contains("Choose another schema")
                    && !stderr.contains("missing.db"),
                "{args:?} --schema {schema}: {stderr}"
            );
            if schema == "pgcarry" {
                assert!(stderr.contains("pgcarry's own state"), "{stderr}");
            }
        }
    }
    assert_eq!(written(&mut db.client()), (0, false));
    // Any other name is a schema like another, "Pgcarry" included.
    let src = sqlite_fixture(dir.path(), "app.db", ITEMS);
    crate::support::migrate_cmd(dir.path(), &src, &db.url)
        .args(["--schema", "Pgcarry"])
        .assert()
        .success();
    assert_eq!(
        crate::support::count_rows(&mut db.client(), "\"Pgcarry\".items"),
        2
    );
}
