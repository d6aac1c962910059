//! Everything a run writes besides the target, checked before the first write: the backup
//! archive (a consistent copy of what is migrated, never through a link), the rejects file,
//! the report, and the target database's encoding. A refused output leaves the target as it
//! was: no table, no `pgcarry` schema.

use crate::support::{archive_entries, migrate_cmd, pg, sqlite_fixture, test_db};
use std::path::Path;

const SOURCE: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    INSERT INTO items VALUES (1, 'a'), (2, 'b');";

/// Relations and schemas anything created in the target's database.
fn created(client: &mut postgres::Client) -> (i64, i64) {
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')),
                    (SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcarry')",
            &[],
        )
        .expect("count what exists");
    (row.get(0), row.get(1))
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

// `--backup` of a WAL-mode SQLite file archived the raw file without its `-wal`: a whole
// committed table was missing from the archive.
#[test]
fn backup_of_a_wal_database_holds_the_table_only_in_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("app.db");
    let app = rusqlite::Connection::open(&src).unwrap();
    app.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
         CREATE TABLE only_in_wal (id INTEGER PRIMARY KEY, note TEXT);
         INSERT INTO only_in_wal VALUES (1, 'committed'), (2, 'in the wal');",
    )
    .unwrap();
    // The case is real: the database file alone does not have the table.
    let file_alone = dir.path().join("file-alone.db");
    std::fs::copy(&src, &file_alone).unwrap();
    let has_table = |p: &Path| -> i64 {
        rusqlite::Connection::open(p)
            .unwrap()
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'only_in_wal'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(has_table(&file_alone), 0);

    let db = test_db("backup_wal");
    let backup = dir.path().join("app-before.tar.gz");
    // The application's connection stays open while pgcarry runs.
    migrate_cmd(dir.path(), &src, &db.url)
        .arg("--backup")
        .arg(&backup)
        .assert()
        .code(0);
    let entries = archive_entries(&backup);
    assert_eq!(
        entries.len(),
        1,
        "one consistent database, no raw -wal/-shm"
    );
    assert_eq!(entries[0].0, Path::new("app.db"));
    let restored = dir.path().join("restored.db");
    std::fs::write(&restored, &entries[0].1).unwrap();
    let notes: Vec<String> = rusqlite::Connection::open(&restored)
        .unwrap()
        .prepare("SELECT note FROM only_in_wal ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(notes, ["committed", "in the wal"]);
    drop(app);
}

// `--backup` onto a dangling symbolic link created the link's target.
#[test]
fn backup_onto_a_dangling_symlink_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(dir.path(), "app.db", SOURCE);
    let target = dir.path().join("elsewhere.tar.gz");
    let link = dir.path().join("backup.tar.gz");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let db = test_db("backup_link");
    let out = migrate_cmd(dir.path(), &src, &db.url)
        .arg("--backup")
        .arg(&link)
        .assert()
        .code(2);
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert!(!target.exists(), "the link's target was created");
    assert!(!dir.path().join("backup.tar.gz.partial").exists());
    assert_eq!(created(&mut db.client()), (0, 0));
}

// With `--rejects` in a missing directory the tables were committed and marked loaded, and
// the rejected rows were written nowhere.
#[test]
fn rejects_in_a_missing_directory_is_refused_before_any_write() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(dir.path(), "app.db", SOURCE);
    let db = test_db("rejects_missing_dir");
    let out = migrate_cmd(dir.path(), &src, &db.url)
        .args(["--rejects", "/nonexistent/dir/r.ndjson"])
        .assert()
        .code(2);
    assert!(
        stderr(&out).contains("/nonexistent/dir/r.ndjson"),
        "{}",
        stderr(&out)
    );
    assert_eq!(created(&mut db.client()), (0, 0));
}

// A bad `--report` path was found only after a full, verified migration.
#[test]
fn report_in_a_missing_directory_is_refused_before_any_write() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(dir.path(), "app.db", SOURCE);
    let db = test_db("report_missing_dir");
    let out = migrate_cmd(dir.path(), &src, &db.url)
        .args(["--report", "/nonexistent/x.json"])
        .assert()
        .code(2);
    assert!(
        stderr(&out).contains("/nonexistent/x.json"),
        "{}",
        stderr(&out)
    );
    assert_eq!(created(&mut db.client()), (0, 0));
    // No rejects file either: none was written, none is created by the check.
    assert!(!dir.path().join("pgcarry-rejects.ndjson").exists());
}

// A LATIN1 target failed whole tables mid-load.
#[test]
fn a_latin1_target_is_refused_before_any_write() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO items VALUES (1, 'Zoë'), (2, '日本');",
    );
    let name = format!("latin1_{}", std::process::id());
    pg().admin()
        .batch_execute(&format!(
            "CREATE DATABASE {name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' \
             TEMPLATE template0"
        ))
        .unwrap();
    let url = pg().url_for(&name);
    let backup = dir.path().join("app.tar.gz");
    let out = migrate_cmd(dir.path(), &src, &url)
        .arg("--backup")
        .arg(&backup)
        .assert()
        .code(2);
    let err = stderr(&out);
    assert!(err.contains("LATIN1") && err.contains("UTF8"), "{err}");
    assert!(
        !backup.exists(),
        "the backup was written before the target was checked"
    );
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    assert_eq!(created(&mut client), (0, 0));
}
