//! Runs cut off by the server: a restart in the middle of the load is retried (the client
//! reconnects with backoff while the server is down) and the run ends verified; a connection
//! lost while verifying is read again, and a server that stays away is a failure (exit 1)
//! that says so, never a difference (exit 3).

use super::{output, pg_ctl};
use crate::support::{assert_rows_once, pgcarry, sample_db, test_db, valid_foreign_keys};
use pgcarry::{ClusterOptions, LocalCluster};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `pgcarry ARGS` in `dir` with one worker, its output captured.
fn spawn(dir: &std::path::Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_pgcarry"))
        .current_dir(dir)
        .args(args)
        .args(["--jobs", "1"])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until database `dbname` runs a statement like `pattern`; false after a minute.
fn wait_for_query(admin: &mut postgres::Client, dbname: &str, pattern: &str) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let running: bool = admin
            .query_one(
                "SELECT count(*) > 0 FROM pg_stat_activity \
                 WHERE datname = $1 AND query LIKE $2 AND state = 'active'",
                &[&dbname, &pattern],
            )
            .unwrap()
            .get(0);
        if running {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

fn finished(child: Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn a_server_restarted_during_copy_is_waited_for_and_the_run_ends_verified() {
    let dir = tempfile::tempdir().unwrap();
    let (src, expected) = sample_db(dir.path(), 2);
    let cluster = LocalCluster::start(&ClusterOptions::for_tests()).unwrap();
    let mut admin = postgres::Client::connect(&cluster.url(), postgres::NoTls).unwrap();
    admin.batch_execute("CREATE DATABASE target").unwrap();
    let url = cluster.url_for("target");
    let child = spawn(
        dir.path(),
        &["migrate", src.to_str().unwrap(), "--to", &url],
    );
    assert!(
        wait_for_query(&mut admin, "target", "COPY %FROM STDIN%"),
        "no COPY was seen"
    );
    drop(admin);
    // Fast shutdown ends every session; the server stays down for two seconds (connections
    // refused), then comes back on the same port.
    pg_ctl(&cluster, &["stop", "-m", "fast", "-w", "-t", "60"]);
    std::thread::sleep(Duration::from_secs(2));
    let port = format!("-p {}", cluster.port());
    pg_ctl(&cluster, &["start", "-w", "-t", "60", "-o", &port]);
    // The restart ended the run's lock session: the run takes the lock again as it reconnects,
    // and holds it until it ends.
    let mut admin = postgres::Client::connect(&cluster.url(), postgres::NoTls).unwrap();
    let mut child = child;
    let mut relocked = false;
    while !relocked && child.try_wait().unwrap().is_none() {
        relocked = admin
            .query_one(
                "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND granted \
                 AND mode = 'ExclusiveLock' \
                 AND database = (SELECT oid FROM pg_database WHERE datname = 'target')",
                &[],
            )
            .unwrap()
            .get(0);
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(admin);
    let (code, text) = finished(child);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        relocked,
        "the run lock was not taken again after the restart"
    );
    assert!(
        text.contains("connection lost") && text.contains("cannot reconnect yet"),
        "{text}"
    );
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    assert_rows_once(&mut c, &expected, "after the restart");
    assert_eq!(valid_foreign_keys(&mut c), 3);
    drop(c);
    cluster.stop().unwrap();
}

// `pgcarry verify` reported a connection lost mid-read as "verification found a difference"
// (exit 3): nothing was known to differ, the check just could not finish. Now what was cut
// off is read again on a new connection, and only a server that stays away fails (exit 1).
#[test]
fn a_connection_lost_while_verifying_is_read_again_and_the_verification_ends() {
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = sample_db(dir.path(), 2);
    let db = test_db("verify_lost");
    crate::support::migrate_cmd(dir.path(), &src, &db.url)
        .assert()
        .success();
    let child = spawn(
        dir.path(),
        &["verify", src.to_str().unwrap(), "--to", &db.url],
    );
    let mut admin = crate::support::pg().admin();
    assert!(
        wait_for_query(&mut admin, &db.name, "COPY %TO STDOUT%"),
        "verify was not seen reading"
    );
    admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = $1 AND query LIKE 'COPY %TO STDOUT%'",
            &[&db.name],
        )
        .unwrap();
    let (code, text) = finished(child);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("verification could not finish")
            && text.contains("the connection to PostgreSQL was lost while verifying table")
            && text.contains("again in"),
        "{text}"
    );
    assert!(
        !text.contains("difference:") && !text.contains("NO"),
        "{text}"
    );
}

#[test]
fn a_server_gone_while_verifying_is_a_failure_not_a_difference() {
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = sample_db(dir.path(), 2);
    let cluster = LocalCluster::start(&ClusterOptions::for_tests()).unwrap();
    let url = cluster.url();
    crate::support::migrate_cmd(dir.path(), &src, &url)
        .assert()
        .success();
    let child = spawn(dir.path(), &["verify", src.to_str().unwrap(), "--to", &url]);
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    assert!(
        wait_for_query(&mut admin, "postgres", "COPY %TO STDOUT%"),
        "verify was not seen reading"
    );
    drop(admin);
    // Down for longer than the verification retries: it must fail, and say why.
    pg_ctl(&cluster, &["stop", "-m", "fast", "-w", "-t", "60"]);
    let (code, text) = finished(child);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("run `pgcarry verify` again") && text.contains("retry 3 of 3"),
        "{text}"
    );
    assert!(!text.contains("difference:"), "{text}");
    let port = format!("-p {}", cluster.port());
    pg_ctl(&cluster, &["start", "-w", "-t", "60", "-o", &port]);
    // Nothing was wrong with the data: verifying again passes.
    let text = output(
        &pgcarry()
            .current_dir(dir.path())
            .args(["verify", src.to_str().unwrap(), "--to", &url])
            .assert()
            .success(),
    );
    assert!(!text.contains("NO"), "{text}");
    cluster.stop().unwrap();
}
