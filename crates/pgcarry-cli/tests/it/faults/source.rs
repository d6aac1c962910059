//! Bad SQLite sources: a database locked by a writer, a file without read permission, a WAL
//! database in a directory the user cannot write, an encrypted file. Each fails before
//! anything is written to the target.

use super::{assert_db_untouched, is_root, output};
use crate::support::{count_rows, migrate_cmd, sqlite_fixture, test_db};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

const ITEMS: &str = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
                     INSERT INTO items (name) VALUES ('a'), ('b');";

#[test]
fn a_database_locked_by_a_writer_fails_after_the_busy_timeout_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(dir.path(), "app.db", ITEMS);
    // The application, in rollback-journal mode, in the middle of a write: readers must wait.
    let app = rusqlite::Connection::open(&src).unwrap();
    app.execute_batch("BEGIN EXCLUSIVE; INSERT INTO items (name) VALUES ('c');")
        .unwrap();
    let db = test_db("sqlite_locked");
    let started = Instant::now();
    let out = migrate_cmd(dir.path(), &src, &db.url).assert().code(1);
    let waited = started.elapsed();
    let text = output(&out);
    assert!(
        text.contains("app.db is locked by another process")
            && text.contains("stop the application"),
        "{text}"
    );
    // It waited for the lock (SQLite's busy timeout), but not forever.
    assert!(
        waited >= Duration::from_secs(9) && waited < Duration::from_secs(60),
        "{waited:?}"
    );
    assert_db_untouched(&db);

    // Once the application commits, the same command goes through.
    app.execute_batch("COMMIT").unwrap();
    migrate_cmd(dir.path(), &src, &db.url).assert().success();
    assert_eq!(count_rows(&mut db.client(), "items"), 3);
}

// A WAL database whose WAL held no transaction (every connection closed, or a writer that has
// not committed yet) failed with "could not pin a consistent WAL snapshot (SQLite code 1)".
#[test]
fn a_wal_database_is_read_while_idle_or_while_a_writer_holds_a_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        &format!("PRAGMA journal_mode = WAL; {ITEMS}"),
    );
    let migrate = |expected: i64| {
        let db = test_db("sqlite_wal_writer");
        // Success is the proof: a read blocked by the writer would fail as locked.
        migrate_cmd(dir.path(), &src, &db.url).assert().success();
        assert_eq!(count_rows(&mut db.client(), "items"), expected);
    };
    // The application stopped: its last connection removed the WAL.
    migrate(2);
    // In WAL mode a writer never blocks readers: they read the last committed state, with
    // an empty WAL and then with committed transactions in it.
    let app = rusqlite::Connection::open(&src).unwrap();
    app.execute_batch("BEGIN IMMEDIATE; INSERT INTO items (name) VALUES ('uncommitted');")
        .unwrap();
    migrate(2);
    app.execute_batch(
        "COMMIT; BEGIN IMMEDIATE; INSERT INTO items (name) VALUES ('uncommitted again');",
    )
    .unwrap();
    migrate(3);
    app.execute_batch("COMMIT").unwrap();
}

/// Exit 2, like a missing file: the input is wrong as given and nothing was attempted; the
/// user fixes the file's permissions (or the user running pgcarry) and runs the same command.
#[test]
fn a_file_without_read_permission_is_a_usage_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    // Root reads any file: run as the unprivileged `postgres` user then, in a directory it
    // can enter.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let src = sqlite_fixture(dir.path(), "app.db", ITEMS);
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o000)).unwrap();
    let db = test_db("sqlite_unreadable");
    let mut cmd = unprivileged_pgcarry(dir.path());
    cmd.arg("migrate").arg(&src).args(["--to", &db.url]);
    let text = output(&cmd.assert().code(2));
    assert!(
        text.contains(&format!("cannot read {}: permission denied", src.display())),
        "{text}"
    );
    assert_db_untouched(&db);
}

// A WAL database copied with its -wal but without its -shm into a directory the user cannot
// write failed with "could not pin a consistent WAL snapshot (SQLite code 14)" and no hint.
#[test]
fn a_wal_database_in_a_directory_the_user_cannot_write_is_a_usage_error_that_says_what_to_do() {
    // The application, still running: its committed rows are in app.db-wal only.
    let app_dir = tempfile::tempdir().unwrap();
    let app = rusqlite::Connection::open(app_dir.path().join("app.db")).unwrap();
    app.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; {ITEMS}"
    ))
    .unwrap();
    // Copied, database and WAL, into a directory the user running pgcarry cannot write (the
    // `postgres` user when we are root, as root writes anywhere).
    let (read_only, writable) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for (dir, mode) in [(&read_only, 0o555), (&writable, 0o777)] {
        for name in ["app.db", "app.db-wal"] {
            std::fs::copy(app_dir.path().join(name), dir.path().join(name)).unwrap();
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    drop(app);
    let src = read_only.path().join("app.db");
    let db = test_db("sqlite_wal_read_only_dir");
    let mut migrate = unprivileged_pgcarry(writable.path());
    migrate.arg("migrate").arg(&src).args(["--to", &db.url]);
    let mut plan = unprivileged_pgcarry(writable.path());
    plan.arg("plan").arg(&src);
    for mut cmd in [migrate, plan] {
        let text = output(&cmd.assert().code(2));
        let shm = format!("{}-shm", src.display());
        let dir = read_only.path().display().to_string();
        assert!(
            text.contains("is in WAL mode")
                && text.contains(&shm)
                && text.contains(&format!("this user cannot write to {dir}"))
                && text.contains("Copy the database together with its -wal file")
                && text.contains("'PRAGMA journal_mode=DELETE'")
                && text.contains(&format!("run pgcarry as a user who can write to {dir}")),
            "{text}"
        );
    }
    assert_db_untouched(&db);
    // The first way out: the copy in a directory the user can write, its WAL's rows included.
    let copy = writable.path().join("app.db");
    let mut migrate = unprivileged_pgcarry(writable.path());
    migrate.arg("migrate").arg(&copy).args(["--to", &db.url]);
    migrate.assert().success();
    assert_eq!(count_rows(&mut db.client(), "items"), 2);
    // Back to a mode the test's user can remove.
    std::fs::set_permissions(read_only.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn an_encrypted_database_is_a_usage_error_that_says_it_may_be_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_db("sqlite_encrypted");
    // SQLCipher's default: every byte encrypted, header included; pages of 4096 bytes.
    // Deterministic noise is enough to look like it (xorshift).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let noise: Vec<u8> = (0..4 * 4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[3]
        })
        .collect();
    let random = dir.path().join("secret.db");
    std::fs::write(&random, &noise).unwrap();
    // SQLCipher with a plain-text header (for iOS): SQLite's magic string, then noise.
    let plain_header = dir.path().join("secret-plain-header.db");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend_from_slice(&noise[16..]);
    std::fs::write(&plain_header, bytes).unwrap();
    for src in [&random, &plain_header] {
        let text = output(&migrate_cmd(dir.path(), src, &db.url).assert().code(2));
        let name = src.file_name().unwrap().to_str().unwrap();
        assert!(
            text.contains(name) && text.contains("encrypted") && text.contains("decrypt it"),
            "{text}"
        );
    }
    assert_db_untouched(&db);
}

/// `pgcarry` run in `dir` by a user without root's rights (root reads and writes any file):
/// the `postgres` user when we are root, and nothing read from `DATABASE_URL`.
fn unprivileged_pgcarry(dir: &Path) -> assert_cmd::Command {
    let mut cmd = if is_root() {
        let mut c = assert_cmd::Command::new("runuser");
        c.args(["-u", "postgres", "--", env!("CARGO_BIN_EXE_pgcarry")]);
        c
    } else {
        assert_cmd::Command::new(env!("CARGO_BIN_EXE_pgcarry"))
    };
    cmd.env_remove("DATABASE_URL").current_dir(dir);
    cmd
}
