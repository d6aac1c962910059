//! The command-line contract: where the target comes from, what happens with existing tables,
//! bad input, exit codes, and passwords never printed.

use crate::support::{pgcarry, sqlite_fixture, test_db};

fn small_db(dir: &std::path::Path) -> std::path::PathBuf {
    sqlite_fixture(
        dir,
        "app.db",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO items (name) VALUES ('a'), ('b');",
    )
}

#[test]
fn existing_tables_are_never_written_into_unless_told_how() {
    let dir = tempfile::tempdir().unwrap();
    let src = small_db(dir.path());
    let db = test_db("ifexists");
    let run = |extra: &[&str]| {
        let mut cmd = pgcarry();
        cmd.current_dir(dir.path())
            .args(["migrate", src.to_str().unwrap(), "--to", &db.url])
            .args(extra);
        cmd.assert()
    };
    run(&[]).success();
    db.client()
        .batch_execute("INSERT INTO items (name) VALUES ('added by the app')")
        .unwrap();

    let out = run(&[]).code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("items (3 rows)") && err.contains("--if-exists drop"),
        "{err}"
    );
    let n: i64 = db
        .client()
        .query_one("SELECT count(*) FROM items", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 3, "nothing written on refusal");

    run(&["--if-exists", "truncate"]).success();
    let n: i64 = db
        .client()
        .query_one("SELECT count(*) FROM items", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 2);

    run(&["--if-exists", "drop"]).success();
    let next: i32 = db
        .client()
        .query_one("INSERT INTO items (name) VALUES ('c') RETURNING id", &[])
        .unwrap()
        .get(0);
    assert_eq!(next, 3);
}

#[test]
fn migrates_into_the_schema_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let src = small_db(dir.path());
    let db = test_db("schema_flag");
    pgcarry()
        .current_dir(dir.path())
        .args([
            "migrate",
            src.to_str().unwrap(),
            "--to",
            &db.url,
            "--schema",
            "Legacy App",
        ])
        .assert()
        .success();
    let n: i64 = db
        .client()
        .query_one("SELECT count(*) FROM \"Legacy App\".items", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

#[test]
fn target_comes_from_database_url_then_a_dotenv_file_then_pg_variables() {
    let dir = tempfile::tempdir().unwrap();
    let src = small_db(dir.path());

    let db = test_db("env_url");
    pgcarry()
        .current_dir(dir.path())
        .env("DATABASE_URL", &db.url)
        .args(["migrate", src.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(
        db.client()
            .query_one("SELECT count(*) FROM items", &[])
            .unwrap()
            .get::<_, i64>(0),
        2
    );

    let db = test_db("env_dotenv");
    std::fs::write(
        dir.path().join(".env"),
        format!("# app settings\nDATABASE_URL=\"{}\"\n", db.url),
    )
    .unwrap();
    pgcarry()
        .current_dir(dir.path())
        .args(["migrate", src.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(
        db.client()
            .query_one("SELECT count(*) FROM items", &[])
            .unwrap()
            .get::<_, i64>(0),
        2
    );
    std::fs::remove_file(dir.path().join(".env")).unwrap();

    let db = test_db("env_pg");
    let port = crate::support::pg().port().to_string();
    pgcarry()
        .current_dir(dir.path())
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", &port)
        .env("PGUSER", "postgres")
        .env("PGDATABASE", &db.name)
        .env("PGSSLMODE", "disable")
        .args(["migrate", src.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(
        db.client()
            .query_one("SELECT count(*) FROM items", &[])
            .unwrap()
            .get::<_, i64>(0),
        2
    );
}

#[test]
fn passwords_never_appear_in_output() {
    let dir = tempfile::tempdir().unwrap();
    let src = small_db(dir.path());
    let db = test_db("secret");
    let url = db.url.replace("postgres@", "postgres:s3cr3t-pa55@");
    let out = pgcarry()
        .current_dir(dir.path())
        .args([
            "migrate",
            src.to_str().unwrap(),
            "--to",
            &url,
            "--report",
            "r.json",
        ])
        .assert()
        .success();
    let o = out.get_output();
    let all = format!(
        "{}{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        std::fs::read_to_string(dir.path().join("r.json")).unwrap()
    );
    assert!(!all.contains("s3cr3t-pa55"), "{all}");
    assert!(all.contains("***"), "{all}");
}

#[test]
fn bad_sources_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "just text, not a database").unwrap();
    let out = pgcarry()
        .current_dir(dir.path())
        .args(["plan", "notes.txt"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("not a SQLite database"), "{err}");
    let out = pgcarry()
        .current_dir(dir.path())
        .args(["plan", "missing.db"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("missing.db"), "{err}");
    // A SQLite file is recognised by its header, whatever its extension.
    let src = small_db(dir.path());
    let renamed = dir.path().join("app.data");
    std::fs::copy(&src, &renamed).unwrap();
    pgcarry()
        .current_dir(dir.path())
        .args(["plan", "app.data"])
        .assert()
        .success();
    pgcarry()
        .current_dir(dir.path())
        .args(["plan", "sqlite:app.data"])
        .assert()
        .success();
    // Flags clap rejects are usage errors too.
    pgcarry().args(["migrate"]).assert().code(2);
}

#[test]
fn an_unreachable_target_fails_before_writing_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let src = small_db(dir.path());
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = pgcarry()
        .current_dir(dir.path())
        .args(["migrate", src.to_str().unwrap(), "--to"])
        .arg(format!(
            "postgresql://app:pw@127.0.0.1:{port}/app?sslmode=disable"
        ))
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains(&port.to_string()) && !err.contains(":pw@"),
        "{err}"
    );
}

#[test]
fn a_truncated_sqlite_file_is_reported_as_corrupt_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "whole.db",
        "CREATE TABLE big (id INTEGER PRIMARY KEY, body TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
         INSERT INTO big SELECT i, printf('%0500d', i) FROM n;",
    );
    let bytes = std::fs::read(&src).unwrap();
    let cut = dir.path().join("cut.db");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let db = test_db("corrupt");
    let out = pgcarry()
        .current_dir(dir.path())
        .args(["migrate", cut.to_str().unwrap(), "--to", &db.url])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("corrupt or truncated"), "{err}");
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
