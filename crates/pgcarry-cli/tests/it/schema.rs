//! `pgcarry schema`: versioned migrations on both engines, through the real binary, against a
//! real PostgreSQL and real SQLite files.

use crate::support::{self, Running, output, pgcarry};
use std::path::Path;

/// `pgcarry schema ARGS…` run in `dir`.
pub fn schema(dir: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = pgcarry();
    cmd.current_dir(dir).arg("schema").args(args);
    cmd
}

pub fn write(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    std::fs::write(dir.join("migrations").join(name), text).unwrap();
}

/// The databases a test runs on: a PostgreSQL of its own and a SQLite file in `dir`.
fn both(dir: &Path, prefix: &str) -> (support::TestDb, Vec<String>) {
    let db = support::test_db(prefix);
    let urls = vec![
        db.url.clone(),
        format!("sqlite:{}", dir.join("dev.db").display()),
    ];
    (db, urls)
}

/// The columns of `table` with their types, in either engine.
fn column_type(url: &str, table: &str, column: &str) -> Option<String> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT type FROM pragma_table_info('{table}') WHERE name = ?1"
            ))
            .unwrap();
        return stmt.query_row([column], |r| r.get(0)).ok();
    }
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .query_opt(
            "SELECT data_type FROM information_schema.columns WHERE table_name = $1 \
             AND column_name = $2",
            &[&table, &column],
        )
        .unwrap()
        .map(|r| r.get(0))
}

const NOTES: &str = "-- pgcarry:up\n\
CREATE TABLE notes (\n    id integer PRIMARY KEY,\n    body text NOT NULL\n);\n\
-- pgcarry:postgres\nALTER TABLE notes ADD COLUMN meta jsonb;\n\
-- pgcarry:sqlite\nALTER TABLE notes ADD COLUMN meta text;\n\
-- pgcarry:end\nCREATE INDEX notes_body ON notes (body);\n\n\
-- pgcarry:down\nDROP TABLE notes;\n";

const TAGS: &str = "-- pgcarry:up\nCREATE TABLE tags (name text PRIMARY KEY);\n\
INSERT INTO tags VALUES ('a;b');\n-- pgcarry:down\nDROP TABLE tags;\n";

/// The whole cycle on each engine: new → up → status → down → up, dialect blocks included.
#[test]
fn new_up_status_down_up_on_both_engines() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, urls) = both(dir.path(), "schema_cycle");
    let out = schema(dir.path(), &["new", "notes"]).assert().success();
    let path = output(&out).trim().to_string();
    assert!(
        path.starts_with("migrations/") && path.ends_with("_notes.sql"),
        "{path}"
    );
    let skeleton = std::fs::read_to_string(dir.path().join(&path)).unwrap();
    assert!(skeleton.contains("-- pgcarry:up") && skeleton.contains("-- pgcarry:down"));
    std::fs::write(dir.path().join(&path), NOTES).unwrap();
    write(dir.path(), "29991231000000_tags.sql", TAGS);
    for url in &urls {
        let out = schema(dir.path(), &["status", "--db", url])
            .assert()
            .success();
        assert!(
            output(&out).contains("0 applied, 2 pending"),
            "{}",
            output(&out)
        );
        let out = schema(dir.path(), &["up", "--db", url, "--dry-run"])
            .assert()
            .success();
        let sql = output(&out);
        let (mine, other) = if url.starts_with("sqlite:") {
            ("meta text", "jsonb")
        } else {
            ("meta jsonb", "meta text")
        };
        assert!(sql.contains(mine) && !sql.contains(other), "{sql}");
        assert_eq!(
            column_type(url, "notes", "body"),
            None,
            "dry run changed nothing"
        );

        let out = schema(dir.path(), &["up", "--db", url]).assert().success();
        assert!(
            output(&out).contains("at version 29991231000000"),
            "{}",
            output(&out)
        );
        let meta = column_type(url, "notes", "meta").unwrap();
        assert!(
            meta == "jsonb" || meta == "TEXT" || meta == "text",
            "{meta}"
        );
        assert_eq!(
            url.starts_with("sqlite:"),
            meta != "jsonb",
            "the dialect block of {url}"
        );

        let out = schema(dir.path(), &["status", "--db", url, "--json"])
            .assert()
            .success();
        let status: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        assert_eq!(status["ok"], true);
        assert_eq!(status["migrations"][0]["state"], "applied");
        assert_eq!(status["migrations"][1]["state"], "applied");

        schema(dir.path(), &["down", "--db", url])
            .assert()
            .success();
        assert_eq!(
            column_type(url, "tags", "name"),
            None,
            "tags reverted on {url}"
        );
        assert!(
            column_type(url, "notes", "body").is_some(),
            "notes kept on {url}"
        );
        let out = schema(dir.path(), &["status", "--db", url])
            .assert()
            .success();
        assert!(
            output(&out).contains("1 applied, 1 pending"),
            "{}",
            output(&out)
        );

        let out = schema(dir.path(), &["up", "--db", url]).assert().success();
        assert!(
            output(&out).contains("applied 29991231000000 tags"),
            "{}",
            output(&out)
        );
        let out = schema(dir.path(), &["up", "--db", url]).assert().success();
        assert!(
            output(&out).contains("nothing to apply"),
            "{}",
            output(&out)
        );
    }
}

/// An applied file edited is refused (naming version and file); the same file with CRLF line
/// endings and trailing blanks is not; `repair` re-stamps on purpose.
#[test]
fn a_modified_file_is_refused_and_a_crlf_copy_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, urls) = both(dir.path(), "schema_modified");
    for url in &urls {
        write(dir.path(), "1_tags.sql", TAGS);
        schema(dir.path(), &["up", "--db", url]).assert().success();

        write(dir.path(), "1_tags.sql", &TAGS.replace('\n', "  \r\n"));
        schema(dir.path(), &["status", "--db", url])
            .assert()
            .code(0);
        write(
            dir.path(),
            "2_more.sql",
            "-- pgcarry:up\nCREATE TABLE more (x int);\n",
        );
        schema(dir.path(), &["up", "--db", url]).assert().success();

        write(dir.path(), "1_tags.sql", &TAGS.replace("'a;b'", "'c'"));
        let out = schema(dir.path(), &["status", "--db", url])
            .assert()
            .code(3);
        assert!(output(&out).contains("MODIFIED"), "{}", output(&out));
        let out = schema(dir.path(), &["up", "--db", url]).assert().code(1);
        assert!(
            output(&out).contains(
                "migration 1 was applied but has been modified since: migrations/1_tags.sql"
            ),
            "{}",
            output(&out)
        );
        let out = schema(dir.path(), &["repair", "--db", url])
            .assert()
            .success();
        assert!(
            output(&out).contains("re-stamped 1 tags"),
            "{}",
            output(&out)
        );
        schema(dir.path(), &["status", "--db", url])
            .assert()
            .code(0);
        std::fs::remove_dir_all(dir.path().join("migrations")).unwrap();
    }
}

/// A migration that fails halfway is rolled back whole: the database stays at the version
/// before, and the error names the file and the line of the statement.
#[test]
fn a_failing_migration_rolls_back_and_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, urls) = both(dir.path(), "schema_failing");
    write(dir.path(), "1_tags.sql", TAGS);
    write(
        dir.path(),
        "2_broken.sql",
        "-- pgcarry:up\nCREATE TABLE half (x int);\nINSERT INTO half VALUES (1);\n\n\
         INSERT INTO\n  nowhere VALUES (1);\n-- pgcarry:down\nDROP TABLE half;\n",
    );
    for url in &urls {
        let out = schema(dir.path(), &["up", "--db", url]).assert().code(1);
        let text = output(&out);
        assert!(text.contains("migrations/2_broken.sql:"), "{text}");
        // PostgreSQL points at the table's line within the statement; SQLite at the statement.
        let line = if url.starts_with("sqlite:") {
            ":5:"
        } else {
            ":6:"
        };
        assert!(text.contains(&format!("2_broken.sql{line}")), "{text}");
        assert!(text.contains("nowhere"), "{text}");
        assert!(text.contains("at version 1"), "{text}");
        assert_eq!(column_type(url, "half", "x"), None, "rolled back on {url}");
        let out = schema(dir.path(), &["status", "--db", url])
            .assert()
            .success();
        assert!(
            output(&out).contains("at version 1; 1 applied, 1 pending"),
            "{}",
            output(&out)
        );
    }
}

/// Two `schema up` processes started together: each migration applied exactly once, both
/// succeed (the second waits for the lock, then finds nothing left to do).
#[test]
fn two_concurrent_ups_apply_each_migration_once() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, urls) = both(dir.path(), "schema_concurrent");
    write(
        dir.path(),
        "1_log.sql",
        "-- pgcarry:up\nCREATE TABLE log (step int);\n-- pgcarry:down\nDROP TABLE log;\n",
    );
    for step in 2..=5 {
        write(
            dir.path(),
            &format!("{step}_step.sql"),
            &format!(
                "-- pgcarry:up\nINSERT INTO log VALUES ({step});\n-- pgcarry:postgres\n\
                 SELECT pg_sleep(0.2);\n-- pgcarry:sqlite\nWITH RECURSIVE c(x) AS (SELECT 1 \
                 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT count(*) FROM c;\n"
            ),
        );
    }
    for url in &urls {
        let spawn = || Running::spawn(dir.path(), &["schema", "up", "--db", url]);
        let (a, b) = (spawn(), spawn());
        let mut said = String::new();
        for run in [a, b] {
            let (code, text, _) = run.finish();
            assert_eq!(code, Some(0), "{text}");
            said.push_str(&text);
        }
        for step in 1..=5 {
            let line = format!("applied {step} ");
            assert_eq!(said.matches(&line).count(), 1, "{line} on {url}: {said}");
        }
        let counted: Vec<(i64, i64)> = if let Some(path) = url.strip_prefix("sqlite:") {
            let conn = rusqlite::Connection::open(path).unwrap();
            let mut stmt = conn
                .prepare("SELECT step, count(*) FROM log GROUP BY step ORDER BY step")
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        } else {
            let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
            client
                .query(
                    "SELECT step::int8, count(*) FROM log GROUP BY step ORDER BY step",
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect()
        };
        assert_eq!(counted, vec![(2, 1), (3, 1), (4, 1), (5, 1)], "on {url}");
    }
}

/// `-- pgcarry:no-transaction` runs CREATE INDEX CONCURRENTLY on PostgreSQL; when it fails
/// and leaves an INVALID index, the migration is reported unfinished with what to do.
#[test]
fn no_transaction_runs_create_index_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let db = support::test_db("schema_concurrently");
    let url = db.url.as_str();
    write(
        dir.path(),
        "1_items.sql",
        "-- pgcarry:up\nCREATE TABLE items (id int, code text);\n\
         INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'b');\n",
    );
    write(
        dir.path(),
        "2_index.sql",
        "-- pgcarry:no-transaction\n-- pgcarry:up\n\
         CREATE INDEX CONCURRENTLY items_id ON items (id);\n\
         -- pgcarry:down\nDROP INDEX CONCURRENTLY items_id;\n",
    );
    schema(dir.path(), &["up", "--db", url]).assert().success();
    let mut client = db.client();
    let valid: bool = client
        .query_one(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_id'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(valid);
    let state: String = client
        .query_one(
            "SELECT state FROM pgcarry.schema_migrations WHERE version = 2",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(state, "finished");

    write(
        dir.path(),
        "3_unique.sql",
        "-- pgcarry:no-transaction\n-- pgcarry:up\n\
         CREATE UNIQUE INDEX CONCURRENTLY items_code ON items (code);\n\
         -- pgcarry:down\nDROP INDEX CONCURRENTLY items_code;\n",
    );
    let out = schema(dir.path(), &["up", "--db", url]).assert().code(1);
    let text = output(&out);
    assert!(text.contains("3_unique.sql:3"), "{text}");
    assert!(text.contains("items_code (INVALID)"), "{text}");
    let out = schema(dir.path(), &["status", "--db", url])
        .assert()
        .code(3);
    assert!(output(&out).contains("UNFINISHED"), "{}", output(&out));
    let out = schema(dir.path(), &["up", "--db", url]).assert().code(1);
    assert!(output(&out).contains("did not finish"), "{}", output(&out));

    client
        .batch_execute("DROP INDEX items_code; DELETE FROM items WHERE id = 3")
        .unwrap();
    schema(
        dir.path(),
        &["repair", "--db", url, "--unfinished", "rerun"],
    )
    .assert()
    .success();
    schema(dir.path(), &["up", "--db", url]).assert().success();
    schema(dir.path(), &["down", "--db", url, "--steps", "2"])
        .assert()
        .success();
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'items'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0);

    write(
        dir.path(),
        "4_plain.sql",
        "-- pgcarry:up\nCREATE INDEX CONCURRENTLY items_plain ON items (id);\n",
    );
    let out = schema(dir.path(), &["up", "--db", url]).assert().code(1);
    let text = output(&out);
    assert!(text.contains("4_plain.sql:2"), "{text}");
    assert!(
        text.contains("mark the file `-- pgcarry:no-transaction`"),
        "{text}"
    );
}

/// Files that do not parse are listed by `status` (exit 3) with file and line, and refused by
/// `up`; a pending migration older than the newest applied one needs --allow-out-of-order;
/// a record without its file is reported.
#[test]
fn lint_order_and_missing_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", "dev.db");
    write(dir.path(), "2_tags.sql", TAGS);
    write(
        dir.path(),
        "3_bad.sql",
        "-- pgcarry:up\n-- pgcarry:sqlite-only\nSELECT 1;\n",
    );
    write(dir.path(), "add_thing.sql", "-- pgcarry:up\n");
    write(dir.path(), "README.md", "notes\n");
    let out = schema(dir.path(), &["status", "--db", &url])
        .assert()
        .code(3);
    let text = output(&out);
    assert!(
        text.contains("error: 3_bad.sql:2: unknown directive `-- pgcarry:sqlite-only`"),
        "{text}"
    );
    assert!(
        text.contains("error: add_thing.sql: the name does not match"),
        "{text}"
    );
    assert!(text.contains("note: README.md"), "{text}");
    let out = schema(dir.path(), &["up", "--db", &url]).assert().code(1);
    assert!(
        output(&out).contains("refusing to apply"),
        "{}",
        output(&out)
    );
    assert!(
        !dir.path().join("dev.db").exists()
            || column_type(
                &format!("sqlite:{}", dir.path().join("dev.db").display()),
                "tags",
                "name"
            )
            .is_none()
    );

    std::fs::remove_file(dir.path().join("migrations/3_bad.sql")).unwrap();
    std::fs::remove_file(dir.path().join("migrations/add_thing.sql")).unwrap();
    schema(dir.path(), &["up", "--db", &url]).assert().success();
    write(
        dir.path(),
        "1_early.sql",
        "-- pgcarry:up\nCREATE TABLE early (x int);\n",
    );
    let out = schema(dir.path(), &["up", "--db", &url]).assert().code(1);
    assert!(
        output(&out).contains("--allow-out-of-order"),
        "{}",
        output(&out)
    );
    schema(dir.path(), &["up", "--db", &url, "--allow-out-of-order"])
        .assert()
        .success();

    std::fs::remove_file(dir.path().join("migrations/2_tags.sql")).unwrap();
    let out = schema(dir.path(), &["status", "--db", &url])
        .assert()
        .code(3);
    assert!(output(&out).contains("MISSING"), "{}", output(&out));
}

/// DATABASE_URL from .env may be SQLAlchemy's sqlite:/// URL; --db is then not needed.
#[test]
fn database_url_in_dotenv_may_name_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=sqlite+aiosqlite:///./app.db\n",
    )
    .unwrap();
    write(dir.path(), "1_tags.sql", TAGS);
    let out = schema(dir.path(), &["up"]).assert().success();
    assert!(
        output(&out).contains("database: sqlite:./app.db"),
        "{}",
        output(&out)
    );
    assert!(
        column_type(
            &format!("sqlite:{}", dir.path().join("app.db").display()),
            "tags",
            "name"
        )
        .is_some()
    );
}

/// The worked example: the sample migrated by `pgcarry migrate`, then `schema baseline` and a
/// new migration on PostgreSQL; the same directory on the SQLite source.
#[test]
fn migrate_then_baseline_then_a_new_migration_on_both() {
    let dir = tempfile::tempdir().unwrap();
    let db = support::test_db("schema_baseline");
    let (src, _) = support::sample_db(dir.path(), 1);
    support::migrate_cmd(dir.path(), &src, &db.url)
        .assert()
        .success();
    write(
        dir.path(),
        "20261201000000_initial.sql",
        "-- pgcarry:up\n-- The schema `pgcarry migrate` made from the SQLite file.\n",
    );
    write(
        dir.path(),
        "20261204120000_add_search.sql",
        "-- pgcarry:up\nCREATE INDEX ix_users_language ON users (language_code);\n\
         -- pgcarry:postgres\nALTER TABLE users ADD COLUMN search tsvector GENERATED ALWAYS AS \
         (to_tsvector('simple', coalesce(first_name, '') || ' ' || coalesce(username, ''))) STORED;\n\
         CREATE INDEX users_search ON users USING gin (search);\n\
         -- pgcarry:sqlite\nCREATE VIRTUAL TABLE users_search USING fts5(first_name, username, \
         content='users', content_rowid='id');\nINSERT INTO users_search(users_search) VALUES ('rebuild');\n\
         -- pgcarry:down\nDROP INDEX ix_users_language;\n-- pgcarry:postgres\n\
         ALTER TABLE users DROP COLUMN search;\n-- pgcarry:sqlite\nDROP TABLE users_search;\n",
    );
    let sqlite = format!("sqlite:{}", src.display());
    for url in [db.url.as_str(), sqlite.as_str()] {
        let out = schema(dir.path(), &["status", "--db", url])
            .assert()
            .code(3);
        assert!(
            output(&out).contains("schema baseline VERSION"),
            "{}",
            output(&out)
        );
        let out = schema(dir.path(), &["up", "--db", url]).assert().code(1);
        assert!(
            output(&out).contains("records no migration"),
            "{}",
            output(&out)
        );
        let out = schema(dir.path(), &["baseline", "20261201000000", "--db", url])
            .assert()
            .success();
        assert!(
            output(&out).contains("baseline 20261201000000 initial (not run)"),
            "{}",
            output(&out)
        );
        let out = schema(dir.path(), &["up", "--db", url]).assert().success();
        assert!(
            output(&out).contains("applied 20261204120000 add_search"),
            "{}",
            output(&out)
        );
        schema(dir.path(), &["status", "--db", url])
            .assert()
            .code(0);
    }
    let mut client = db.client();
    let found: i64 = client
        .query_one(
            "SELECT count(*) FROM users WHERE search @@ to_tsquery('simple', 'a:*')",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(found > 0);
    let conn = rusqlite::Connection::open(&src).unwrap();
    let found: i64 = conn
        .query_row(
            "SELECT count(*) FROM users_search WHERE users_search MATCH 'a*'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(found > 0);
}

/// A second `schema up` on PostgreSQL while one runs: with `--lock-wait 0s` it fails at once,
/// naming the session that holds the lock; the first one finishes unharmed.
#[test]
fn a_held_lock_names_its_holder() {
    let dir = tempfile::tempdir().unwrap();
    let db = support::test_db("schema_lock");
    write(
        dir.path(),
        "1_slow.sql",
        "-- pgcarry:up\nCREATE TABLE slow (x int);\nSELECT pg_sleep(3);\n",
    );
    let first = Running::spawn(
        dir.path(),
        &["schema", "up", "--db", &db.url, "--wait", "10s"],
    );
    assert!(
        first.says("applying 1_slow.sql", std::time::Duration::from_secs(20)),
        "{}",
        first.stderr()
    );
    let out = schema(dir.path(), &["up", "--db", &db.url, "--lock-wait", "0s"])
        .assert()
        .code(1);
    let text = output(&out);
    assert!(text.contains("holds the lock"), "{text}");
    assert!(text.contains("pid "), "{text}");
    assert!(text.contains("--lock-wait"), "{text}");
    let (code, text, _) = first.finish();
    assert_eq!(code, Some(0), "{text}");
}

/// What the user must change is a usage error (exit 2), with what to do.
#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = schema(dir.path(), &["new", "add search"]).assert().code(2);
    assert!(
        output(&out).contains("letters, digits and _"),
        "{}",
        output(&out)
    );
    let out = schema(dir.path(), &["status", "--db", "sqlite:dev.db"])
        .assert()
        .code(2);
    assert!(output(&out).contains("schema new NAME"), "{}", output(&out));
    write(dir.path(), "1_tags.sql", TAGS);
    let out = schema(dir.path(), &["status", "--db", "sqlite://host/dev.db"])
        .assert()
        .code(2);
    assert!(
        output(&out).contains("sqlite:///relative/path"),
        "{}",
        output(&out)
    );
    let out = schema(dir.path(), &["baseline", "7", "--db", "sqlite:dev.db"])
        .assert()
        .code(2);
    assert!(
        output(&out).contains("no migration in migrations has version 7"),
        "{}",
        output(&out)
    );
    schema(
        dir.path(),
        &["up", "--db", "sqlite:dev.db", "--lock-wait", "soon"],
    )
    .assert()
    .code(2);
    // status of a file that does not exist yet: everything pending, nothing created.
    let out = schema(dir.path(), &["status", "--db", "sqlite:dev.db"])
        .assert()
        .code(0);
    assert!(output(&out).contains("1 pending"), "{}", output(&out));
    assert!(!dir.path().join("dev.db").exists());
}

/// What a person reads, as a snapshot: `status` with a modified, a pending and an out-of-order
/// migration, a file that does not parse and a note; `up`'s refusal; a failing migration.
#[test]
fn status_and_errors_read_well() {
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite:dev.db";
    write(dir.path(), "20261201000000_tags.sql", TAGS);
    write(dir.path(), "20261203000000_notes.sql", NOTES);
    schema(dir.path(), &["up", "--db", db]).assert().success();
    write(
        dir.path(),
        "20261201000000_tags.sql",
        &TAGS.replace("'a;b'", "'c'"),
    );
    write(
        dir.path(),
        "20261202000000_early.sql",
        "-- pgcarry:up\nCREATE TABLE early (x int);\n",
    );
    write(
        dir.path(),
        "20261204000000_broken.sql",
        "-- pgcarry:up\nCREATE TABLE half (x int);\nINSERT INTO nowhere VALUES (1);\n",
    );
    write(
        dir.path(),
        "20261205000000_bad.sql",
        "-- pgcarry:up\nBEGIN;\n-- pgcarry:sqlite-only\n",
    );
    write(dir.path(), "notes.txt", "to do\n");
    let mut text = String::new();
    for (args, code) in [(vec!["status", "--db", db], 3), (vec!["up", "--db", db], 1)] {
        let out = schema(dir.path(), &args).assert().code(code);
        text.push_str(&format!(
            "$ pgcarry schema {} (exit {code})\n{}\n",
            args.join(" "),
            output(&out)
        ));
    }
    std::fs::remove_file(dir.path().join("migrations/20261205000000_bad.sql")).unwrap();
    write(dir.path(), "20261201000000_tags.sql", TAGS);
    let args = ["up", "--db", db, "--allow-out-of-order"];
    let out = schema(dir.path(), &args).assert().code(1);
    text.push_str(&format!(
        "$ pgcarry schema {} (exit 1)\n{}",
        args.join(" "),
        output(&out)
    ));
    insta::with_settings!({
        filters => vec![(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIME]"), (r"\(\d+ ms\)", "([MS] ms)")],
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("schema_status_and_errors", text);
    });
}

/// A process killed in the middle of a no-transaction migration leaves it recorded as started:
/// `status` reports it unfinished (exit 3) and `up` refuses with what to do, never a bare
/// "dirty" flag.
#[test]
fn a_crash_inside_a_no_transaction_migration_is_reported_unfinished() {
    let dir = tempfile::tempdir().unwrap();
    let db = support::test_db("schema_crash");
    write(
        dir.path(),
        "1_slow.sql",
        "-- pgcarry:no-transaction\n-- pgcarry:up\nCREATE TABLE slow (x int);\nSELECT pg_sleep(2);\n",
    );
    let mut running = Running::spawn(dir.path(), &["schema", "up", "--db", &db.url]);
    assert!(
        running.says("applying 1_slow.sql", std::time::Duration::from_secs(20)),
        "{}",
        running.stderr()
    );
    assert!(support::wait_until(
        std::time::Duration::from_secs(10),
        || {
            db.client()
                .query_one("SELECT to_regclass('public.slow') IS NOT NULL", &[])
                .unwrap()
                .get::<_, bool>(0)
        }
    ));
    running.child.kill().unwrap();
    let _ = running.finish();
    let out = schema(dir.path(), &["status", "--db", &db.url])
        .assert()
        .code(3);
    assert!(
        output(&out).contains("1              UNFINISHED"),
        "{}",
        output(&out)
    );
    let out = schema(dir.path(), &["up", "--db", &db.url])
        .assert()
        .code(1);
    let text = output(&out);
    assert!(text.contains("did not finish"), "{text}");
    assert!(text.contains("schema repair --unfinished"), "{text}");
}
