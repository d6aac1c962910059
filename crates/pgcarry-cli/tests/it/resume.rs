//! Safe to interrupt: `kill -9` at any point of a migration, run the same command again, and it
//! continues where it stopped, ends verified, and never duplicates a row.

use crate::support::{
    assert_rows_once, count_rows, migrate_cmd, pgcarry, sample_db, test_db, valid_foreign_keys,
};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn kill_9_at_several_points_then_rerun_ends_complete_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let (src, expected) = sample_db(dir.path(), 1);

    // Kill points from early (preflight, first COPY) to late (indexes, foreign keys).
    let mut interrupted_loads = 0;
    for (i, ms) in [150u64, 400, 800, 1300, 2000].into_iter().enumerate() {
        let db = test_db(&format!("resume_{i}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_pgcarry"))
            .current_dir(dir.path())
            .args(["migrate", src.to_str().unwrap(), "--to", &db.url])
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill(); // SIGKILL; it may already have finished
        let _ = child.wait();
        // How far it got: tables committed with their resume state.
        let mut c = db.client();
        let has_state: bool = c
            .query_one(
                "SELECT to_regclass('pgcarry.loaded_tables') IS NOT NULL",
                &[],
            )
            .unwrap()
            .get(0);
        let committed: i64 = if has_state {
            count_rows(&mut c, "pgcarry.loaded_tables")
        } else {
            0
        };
        drop(c);
        if committed < 4 {
            interrupted_loads += 1;
        }

        migrate_cmd(dir.path(), &src, &db.url).assert().success();
        let mut c = db.client();
        let when = format!("after a kill at {ms} ms");
        assert_rows_once(&mut c, &expected, &when);
        assert_eq!(valid_foreign_keys(&mut c), 3, "every foreign key {when}");
        let next: i32 = c
            .query_one(
                "INSERT INTO users (telegram_id, first_name, is_pro, updated_at) VALUES (1, 'x', false, now()) RETURNING id",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(next, 1001);
    }
    assert!(
        interrupted_loads >= 1,
        "at least one kill must land before every table was loaded"
    );
}

#[test]
fn a_backend_terminated_during_copy_is_retried_and_the_run_ends_complete() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("sample.db");
    pgcarry()
        .args(["sample", "--scale", "2"])
        .arg(&src)
        .assert()
        .success();
    let db = test_db("terminate");
    let child = Command::new(env!("CARGO_BIN_EXE_pgcarry"))
        .current_dir(dir.path())
        .args([
            "migrate",
            src.to_str().unwrap(),
            "--to",
            &db.url,
            "--jobs",
            "1",
        ])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Terminate the first backend seen running a COPY into this database.
    let mut admin = crate::support::pg().admin();
    let started = std::time::Instant::now();
    let mut terminated = false;
    while !terminated && started.elapsed() < Duration::from_secs(60) {
        terminated = admin
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) > 0 FROM pg_stat_activity \
                 WHERE datname = $1 AND query LIKE 'COPY %FROM STDIN%' AND state = 'active'",
                &[&db.name],
            )
            .unwrap()
            .get(0);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(terminated, "no COPY was seen to terminate");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains("connection lost"), "{stderr}");
    let mut c = db.client();
    let n: i64 = count_rows(&mut c, "submissions");
    assert_eq!(n, 20_000);
    let n: i64 = c
        .query_one("SELECT count(DISTINCT id) FROM assessments", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 18_000);
}

#[test]
fn a_large_table_killed_between_key_ranges_resumes_after_the_last_committed_range() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("sample.db");
    pgcarry()
        .args(["sample", "--scale", "2"])
        .arg(&src)
        .assert()
        .success();
    let db = test_db("chunks");
    let args = |cmd: &mut Command| {
        cmd.current_dir(dir.path())
            .args(["migrate", src.to_str().unwrap(), "--to", &db.url])
            .args(["--jobs", "1", "--chunk-rows", "1000"])
            .env_remove("DATABASE_URL");
    };
    let mut first = Command::new(env!("CARGO_BIN_EXE_pgcarry"));
    args(&mut first);
    let mut child = first
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some table is committed in part: ranges done, ranges left.
    let mut c = db.client();
    let started = std::time::Instant::now();
    let mut partial = 0i64;
    while partial == 0 && started.elapsed() < Duration::from_secs(60) {
        partial = c
            .query_one(
                "SELECT CASE WHEN to_regclass('pgcarry.loaded_tables') IS NULL THEN 0 ELSE \
                 (SELECT count(*) FROM pgcarry.loaded_tables WHERE loaded_through IS NOT NULL) END",
                &[],
            )
            .map(|r| r.get(0))
            .unwrap_or(0);
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(partial > 0, "no table was seen loaded in part");
    let (table, through): (String, i64) = {
        let r = c
            .query_one(
                "SELECT table_name, loaded_through FROM pgcarry.loaded_tables \
                 WHERE loaded_through IS NOT NULL LIMIT 1",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    // What the killed run committed is there, and nothing past it.
    let beyond: i64 = c
        .query_one(
            &format!("SELECT count(*) FROM {table} WHERE id::bigint > $1"),
            &[&through],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        beyond, 0,
        "{table} holds rows past its last committed range"
    );

    let mut again = Command::new(env!("CARGO_BIN_EXE_pgcarry"));
    args(&mut again);
    let out = again.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.contains(&format!("table {table}: resuming after key {through}")),
        "{stderr}"
    );
    let sqlite = rusqlite::Connection::open(&src).unwrap();
    for t in ["users", "submissions", "assessments", "rate_limits"] {
        let want: i64 = sqlite
            .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap();
        let (n, distinct): (i64, i64) = {
            let r = c
                .query_one(
                    &format!("SELECT count(*), count(DISTINCT id) FROM {t}"),
                    &[],
                )
                .unwrap();
            (r.get(0), r.get(1))
        };
        assert_eq!((n, distinct), (want, want), "{t}");
    }
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM pgcarry.loaded_tables WHERE loaded_through IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "every table is recorded complete");
}
