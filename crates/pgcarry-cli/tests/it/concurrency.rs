//! Two runs at once: one run at a time migrates into a database's schema. The run lock is a
//! PostgreSQL advisory lock held by a session of the run's own; a second run is refused at once
//! (exit 1, nothing written) naming who holds it, or waits with `--lock-wait`; a lock on another
//! schema does not block; and a new run waits for the sessions a killed run left behind.
//!
//! A run is held up for as long as a test needs by a table lock: the test keeps
//! `pgcarry.loaded_tables` locked in an open transaction, so a run that has taken the run lock
//! blocks in its preflight (which alters that table) until the test commits.

use crate::support::{Running, migrate_cmd, pg, sqlite_fixture, test_db, wait_until};
use pgcarry::{ConnSettings, RunLock, Silent};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SHOP: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total REAL);
INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace');
INSERT INTO orders VALUES (1, 1, 9.5), (2, 2, 12.25), (3, 1, 1.0);
";

fn shop(dir: &Path) -> PathBuf {
    sqlite_fixture(dir, "shop.db", SHOP)
}

/// The pid of the session holding a run lock (an exclusive advisory lock) in database `db`.
fn lock_holder(admin: &mut postgres::Client, db: &str) -> Option<i32> {
    admin
        .query_opt(
            "SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND mode = 'ExclusiveLock' \
             AND database = (SELECT oid FROM pg_database WHERE datname = $1)",
            &[&db],
        )
        .unwrap()
        .map(|r| r.get(0))
}

/// True when a session of database `db` waits for a table lock.
fn someone_waits(admin: &mut postgres::Client, db: &str) -> bool {
    admin
        .query_one(
            "SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = $1 \
             AND wait_event_type = 'Lock'",
            &[&db],
        )
        .unwrap()
        .get(0)
}

fn tables_in(client: &mut postgres::Client, schema: &str) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1",
            &[&schema],
        )
        .unwrap()
        .get(0)
}

/// A `migrate` into schema public of `url` that holds the run lock and then stands still in its
/// preflight, while `blocker` keeps pgcarry's state table locked (until it commits). The state
/// table is made by a first run into another schema. Returns the run and its lock session's pid.
fn held_up_run(dir: &Path, src: &Path, url: &str, db: &str) -> (Running, postgres::Client, i32) {
    migrate_cmd(dir, src, url)
        .args(["--schema", "first"])
        .assert()
        .success();
    let mut blocker = postgres::Client::connect(url, postgres::NoTls).unwrap();
    blocker
        .batch_execute("BEGIN; LOCK TABLE pgcarry.loaded_tables IN ACCESS SHARE MODE")
        .unwrap();
    let run = Running::spawn(dir, &["migrate", src.to_str().unwrap(), "--to", url]);
    let mut admin = pg().admin();
    let mut holder = None;
    let held_up = wait_until(Duration::from_secs(60), || {
        holder = lock_holder(&mut admin, db);
        holder.is_some() && someone_waits(&mut admin, db)
    });
    assert!(held_up, "the first run never held up: {}", run.stderr());
    (run, blocker, holder.unwrap())
}

#[test]
fn a_second_run_is_refused_at_once_naming_the_holder_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let src = shop(dir.path());
    let db = test_db("lock_refused");
    let (first, mut blocker, pid) = held_up_run(dir.path(), &src, &db.url, &db.name);

    let second = Running::spawn(
        dir.path(),
        &["migrate", src.to_str().unwrap(), "--to", &db.url],
    );
    let (code, text, elapsed) = second.finish();
    assert_eq!(code, Some(1), "{text}");
    assert!(
        elapsed < Duration::from_secs(20),
        "refused only after {elapsed:?}"
    );
    assert!(
        text.contains("another pgcarry run holds the lock on schema \"public\"")
            && text.contains(&format!("pid {pid}, user postgres"))
            && text.contains("application_name \"pgcarry\"")
            && text.contains("from 127.0.0.1, since ")
            && text.contains("Nothing was written")
            && text.contains("--lock-wait DURATION"),
        "{text}"
    );
    let mut c = db.client();
    assert_eq!(tables_in(&mut c, "public"), 0, "nothing may be written");

    blocker.batch_execute("COMMIT").unwrap();
    let (code, text, _) = first.finish();
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(tables_in(&mut c, "public"), 2);
}

#[test]
fn with_lock_wait_a_second_run_waits_then_finds_everything_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let src = shop(dir.path());
    let db = test_db("lock_wait");
    let (first, mut blocker, pid) = held_up_run(dir.path(), &src, &db.url, &db.name);

    let mut second = Running::spawn(
        dir.path(),
        &[
            "migrate",
            src.to_str().unwrap(),
            "--to",
            &db.url,
            "--lock-wait",
            "30s",
        ],
    );
    assert!(
        second.says(
            "waiting for the lock on schema \"public\": another pgcarry run holds it",
            Duration::from_secs(30)
        ),
        "{}",
        second.stderr()
    );
    assert!(second.stderr().contains(&format!("pid {pid}")));
    // It goes on waiting, and says so again every few seconds.
    assert!(
        second.says("waited 5 s of 30 s", Duration::from_secs(10)),
        "{}",
        second.stderr()
    );
    assert!(second.running(), "{}", second.stderr());
    assert_eq!(tables_in(&mut db.client(), "public"), 0);

    blocker.batch_execute("COMMIT").unwrap();
    let (code, text, _) = first.finish();
    assert_eq!(code, Some(0), "{text}");
    let (code, text, _) = second.finish();
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("resuming: 2 table(s) were loaded by an earlier run"),
        "{text}"
    );
    let n: i64 = db
        .client()
        .query_one("SELECT count(*) FROM orders", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 3, "every row once");
}

#[test]
fn lock_wait_gives_up_at_its_deadline_with_the_same_error() {
    let dir = tempfile::tempdir().unwrap();
    let src = shop(dir.path());
    let db = test_db("lock_deadline");
    let target = ConnSettings::parse(&db.url).unwrap();
    let held = RunLock::acquire(&target, "public", Duration::ZERO, &Silent).unwrap();
    let second = Running::spawn(
        dir.path(),
        &[
            "migrate",
            src.to_str().unwrap(),
            "--to",
            &db.url,
            "--lock-wait",
            "2s",
        ],
    );
    let (code, text, elapsed) = second.finish();
    assert_eq!(code, Some(1), "{text}");
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
    assert!(
        text.contains("waiting for the lock on schema \"public\"")
            && text.contains("holds the lock on schema \"public\" of database")
            && text.contains("after waiting 2 s")
            && text.contains("give a longer --lock-wait"),
        "{text}"
    );
    assert_eq!(tables_in(&mut db.client(), "public"), 0);
    drop(held);
}

// Two runs started together used to both fail (exit 1) when the URL set its own
// application_name: the wait for earlier runs looked for sessions named "pgcarry" only.
#[test]
fn two_runs_started_together_with_their_own_application_name_never_both_fail() {
    let dir = tempfile::tempdir().unwrap();
    let (src, expected) = crate::support::sample_db(dir.path(), 1);
    for lock_wait in [None, Some("60s")] {
        let db = test_db("lock_together");
        let url = format!("{}?application_name=myapp", db.url);
        let mut args = vec!["migrate", src.to_str().unwrap(), "--to", &url];
        args.extend(lock_wait.iter().flat_map(|w| ["--lock-wait", *w]));
        let runs = [
            Running::spawn(dir.path(), &args),
            Running::spawn(dir.path(), &args),
        ];
        let outcomes: Vec<(Option<i32>, String, Duration)> =
            runs.into_iter().map(Running::finish).collect();
        let ok = outcomes.iter().filter(|(c, _, _)| *c == Some(0)).count();
        assert!(ok >= 1, "both failed: {outcomes:#?}");
        for (code, text, _) in &outcomes {
            match code {
                Some(0) => {}
                Some(1) if lock_wait.is_none() => assert!(
                    text.contains("another pgcarry run holds the lock")
                        && text.contains("application_name \"myapp\""),
                    "{text}"
                ),
                _ => panic!("with --lock-wait {lock_wait:?}: {text}"),
            }
        }
        if lock_wait.is_some() {
            assert_eq!(ok, 2, "{outcomes:#?}");
        }
        crate::support::assert_rows_once(&mut db.client(), &expected, "after two runs");
    }
}

#[test]
fn a_lock_on_another_schema_of_the_same_database_does_not_block() {
    let dir = tempfile::tempdir().unwrap();
    let src = shop(dir.path());
    let db = test_db("lock_other_schema");
    let target = ConnSettings::parse(&db.url).unwrap();
    let held = RunLock::acquire(&target, "other", Duration::ZERO, &Silent).unwrap();
    migrate_cmd(dir.path(), &src, &db.url).assert().success();
    // The same lock does block a run into its own schema.
    let out = migrate_cmd(dir.path(), &src, &db.url)
        .args(["--schema", "other"])
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        text.contains("another pgcarry run holds the lock on schema \"other\""),
        "{text}"
    );
    assert_eq!(tables_in(&mut db.client(), "other"), 0);
    drop(held);
    migrate_cmd(dir.path(), &src, &db.url)
        .args(["--schema", "other"])
        .assert()
        .success();
}

// A killed run leaves its sessions running until their statement ends (an index build may
// still commit): the next run waits for them, says which they are, then goes on.
#[test]
fn a_new_run_waits_for_the_sessions_a_killed_run_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let src = shop(dir.path());
    let db = test_db("lock_orphans");
    let (mut first, mut blocker, lock_pid) = held_up_run(dir.path(), &src, &db.url, &db.name);
    let mut admin = pg().admin();
    // The session of the killed run that stands in its preflight.
    let orphan: i32 = admin
        .query_one(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
            &[&db.name],
        )
        .unwrap()
        .get(0);
    first.child.kill().unwrap();
    let _ = first.finish();
    // Its idle lock session ends with the process; the orphan waits on.
    assert!(
        wait_until(Duration::from_secs(10), || lock_holder(
            &mut admin, &db.name
        )
        .is_none_or(|p| p != lock_pid)),
        "the killed run's lock session stayed"
    );

    let mut second = Running::spawn(
        dir.path(),
        &["migrate", src.to_str().unwrap(), "--to", &db.url],
    );
    assert!(
        second.says(
            "waiting for 1 session(s) of an earlier pgcarry run on schema \"public\" to end",
            Duration::from_secs(30)
        ),
        "{}",
        second.stderr()
    );
    assert!(
        second.stderr().contains(&format!("pid {orphan} (active")),
        "{}",
        second.stderr()
    );
    assert!(second.running());
    blocker.batch_execute("COMMIT").unwrap();
    let (code, text, _) = second.finish();
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(tables_in(&mut db.client(), "public"), 2);
}

#[test]
fn a_lock_wait_that_is_not_a_duration_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let src = shop(dir.path());
    let db = test_db("lock_wait_usage");
    let out = migrate_cmd(dir.path(), &src, &db.url)
        .args(["--lock-wait", "soon"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("--lock-wait: invalid duration \"soon\": use e.g. 60s, 2m, 500ms"),
        "{stderr}"
    );
    assert_eq!(tables_in(&mut db.client(), "public"), 0);
}
