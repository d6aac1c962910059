//! Where the target's settings come from (issue 12, items 10 and 11): SQLAlchemy URLs, the
//! Docker image's POSTGRES_* variables (environment and .env) and their place in the order,
//! a service file, and settings pgcarry does not support, which are errors, never ignored.

use crate::support::{pg, pgcarry, sqlite_fixture, test_db};

fn stderr(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stderr).to_string()
}

#[test]
fn sqlalchemy_urls_from_the_flag_and_from_dotenv() {
    let db = test_db("sqla");
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);",
    );
    let port = pg().port();
    let asyncpg = format!("postgresql+asyncpg://postgres@127.0.0.1:{port}/{}", db.name);
    pgcarry()
        .current_dir(dir.path())
        .args(["migrate", src.to_str().unwrap(), "--to", &asyncpg])
        .assert()
        .success();
    assert_eq!(crate::support::count_rows(&mut db.client(), "t"), 1);
    for scheme in [
        "postgresql+psycopg2",
        "postgresql+psycopg",
        "postgres+asyncpg",
    ] {
        std::fs::write(
            dir.path().join(".env"),
            format!(
                "DATABASE_URL={scheme}://postgres@127.0.0.1:{port}/{}\n",
                db.name
            ),
        )
        .unwrap();
        pgcarry()
            .current_dir(dir.path())
            .args(["wait", "--timeout", "10s"])
            .assert()
            .success();
    }
    let help = pgcarry().args(["migrate", "--help"]).assert().success();
    let text = String::from_utf8_lossy(&help.get_output().stdout).to_string();
    assert!(
        text.contains("postgresql+asyncpg://") && text.contains("POSTGRES_HOST"),
        "{text}"
    );
}

#[test]
fn docker_variables_after_database_url_and_before_pg_variables() {
    let db = test_db("dockervars");
    let dir = tempfile::tempdir().unwrap();
    let port = pg().port().to_string();
    // From .env, over wrong PG* variables.
    std::fs::write(
        dir.path().join(".env"),
        format!("POSTGRES_HOST=127.0.0.1\nPOSTGRES_PORT={port}\nPOSTGRES_USER=postgres\nPOSTGRES_DB={}\nPOSTGRES_SSL_MODE=disable\n", db.name),
    )
    .unwrap();
    let out = pgcarry()
        .current_dir(dir.path())
        .env("PGPORT", "1")
        .env("PGDATABASE", "nope")
        .args(["wait", "--timeout", "10s"])
        .assert()
        .success();
    assert!(
        stderr(&out).contains(&format!("/{}?sslmode=disable", db.name)),
        "{}",
        stderr(&out)
    );
    // From the environment, over .env.
    let other = test_db("dockervars_env");
    let out = pgcarry()
        .current_dir(dir.path())
        .env("POSTGRES_DB", &other.name)
        .args(["wait", "--timeout", "10s"])
        .assert()
        .success();
    assert!(
        stderr(&out).contains(&format!("/{}?sslmode", other.name)),
        "{}",
        stderr(&out)
    );
    // DATABASE_URL comes first.
    let out = pgcarry()
        .current_dir(dir.path())
        .env("DATABASE_URL", pg().url())
        .env("POSTGRES_PORT", "1")
        .args(["wait", "--timeout", "10s"])
        .assert()
        .success();
    assert!(
        stderr(&out).contains("/postgres?sslmode"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_service_file_by_name_and_by_pgservice() {
    let db = test_db("service");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("services.conf");
    std::fs::write(
        &file,
        format!(
            "# ours\n[carry]\nhost=127.0.0.1\nport={}\nuser=postgres\ndbname={}\nsslmode=disable\n",
            pg().port(),
            db.name
        ),
    )
    .unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2);",
    );
    pgcarry()
        .current_dir(dir.path())
        .env("PGSERVICEFILE", &file)
        .args(["migrate", src.to_str().unwrap(), "--to", "service=carry"])
        .assert()
        .success();
    assert_eq!(crate::support::count_rows(&mut db.client(), "t"), 2);
    pgcarry()
        .env("PGSERVICEFILE", &file)
        .env("PGSERVICE", "carry")
        .args(["wait", "--timeout", "10s"])
        .assert()
        .success();
    let out = pgcarry()
        .env("PGSERVICEFILE", &file)
        .args(["wait", "service=missing", "--timeout", "10s"])
        .assert()
        .code(2);
    assert!(
        stderr(&out).contains("service \"missing\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_and_unsupported_settings_are_errors_naming_them() {
    for (query, named) in [
        ("sslcrl=/tmp/x.crl", "sslcrl"),
        ("bogus=1", "bogus"),
        ("keepalives=0", "keepalives"),
    ] {
        let url = format!("{}?{query}", pg().url());
        let out = pgcarry()
            .args(["wait", &url, "--timeout", "5s"])
            .assert()
            .code(2);
        assert!(
            stderr(&out).contains(&format!("\"{named}\"")),
            "{}",
            stderr(&out)
        );
    }
}
