//! `pgcarry wait`: exits 0 once a real query succeeds; exits non-zero with the last error when
//! the server never answers, after several attempts.

use crate::support::{pg, pgcarry};

#[test]
fn a_running_server_is_ready_at_the_first_attempt() {
    let out = pgcarry()
        .args(["wait", &pg().url(), "--timeout", "10s"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("ready after 1 attempt(s)") && err.contains("PostgreSQL"),
        "{err}"
    );
}

#[test]
fn a_server_that_never_answers_times_out_with_the_last_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgresql://app:hunter2@127.0.0.1:{port}/app?sslmode=disable");
    let started = std::time::Instant::now();
    let out = pgcarry()
        .args(["wait", &url, "--timeout", "1500ms"])
        .assert()
        .code(1);
    let elapsed = started.elapsed();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("attempt 3:"), "backs off and retries: {err}");
    assert!(err.contains("did not accept a query within"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    assert!(
        elapsed.as_secs_f64() >= 1.4 && elapsed.as_secs_f64() < 10.0,
        "{elapsed:?}"
    );
}

#[test]
fn a_bad_timeout_is_a_usage_error() {
    pgcarry()
        .args(["wait", &pg().url(), "--timeout", "soon"])
        .assert()
        .code(2);
}

/// A "half-dead load balancer": accepts TCP connections and never sends a byte. Returns its
/// port; the connections stay open for the life of the test process.
fn silent_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.extend(stream.ok());
        }
    });
    port
}

// Issue 12, item 3: `wait --timeout 3s` ran until killed against a silent server.
#[test]
fn wait_against_a_silent_server_ends_at_its_timeout() {
    let port = silent_server();
    let url = format!("postgresql://app:hunter2@127.0.0.1:{port}/app");
    let started = std::time::Instant::now();
    let out = pgcarry()
        .args(["wait", &url, "--timeout", "3s"])
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(1);
    let elapsed = started.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!((2.5..6.0).contains(&elapsed), "{elapsed} s: {err}");
    assert!(err.contains("did not accept a query within"), "{err}");
    assert!(err.contains("no answer from 127.0.0.1"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

// Issue 12, item 3: `migrate` with connect_timeout=3 ran until killed against a silent server.
#[test]
fn migrate_against_a_silent_server_honours_connect_timeout() {
    let port = silent_server();
    let dir = tempfile::tempdir().unwrap();
    let src = crate::support::sqlite_fixture(
        dir.path(),
        "x.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);",
    );
    let url = format!("postgresql://u:hunter2@127.0.0.1:{port}/db?connect_timeout=2");
    let started = std::time::Instant::now();
    let out = pgcarry()
        .current_dir(dir.path())
        .args(["migrate", src.to_str().unwrap(), "--to", &url])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1);
    let elapsed = started.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(elapsed < 10.0, "{elapsed} s: {err}");
    assert!(
        err.contains(&format!("no answer from 127.0.0.1:{port} within 2 s")),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}
