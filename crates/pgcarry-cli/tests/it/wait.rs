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
