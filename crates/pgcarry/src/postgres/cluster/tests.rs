//! Unit tests of the throw-away cluster: each starts a real PostgreSQL (never mocked; a
//! cluster that cannot start fails the test).

use super::host::{percent_encode, shell_quote, tail};
use super::*;
use std::ffi::OsStr;
use std::time::{Duration, Instant};

fn query_one(url: &str, sql: &str) -> String {
    let mut client = postgres::Client::connect(url, postgres::NoTls)
        .unwrap_or_else(|err| panic!("connect to {url}: {err}"));
    client.query_one(sql, &[]).expect(sql).get(0)
}

fn start() -> LocalCluster {
    let opts = ClusterOptions {
        fsync: false,
        ..ClusterOptions::default()
    };
    LocalCluster::start(&opts).unwrap_or_else(|err| panic!("{err}"))
}

fn wait_until_gone(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while path.exists() {
        assert!(Instant::now() < deadline, "{} still exists", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn find_bin_dir_holds_initdb_and_pg_ctl() {
    let dir = LocalCluster::find_bin_dir().unwrap_or_else(|err| panic!("{err}"));
    assert!(dir.join("initdb").is_file());
    assert!(dir.join("pg_ctl").is_file());
}

#[test]
fn starts_answers_queries_and_stop_removes_the_directory() {
    let cluster = start();
    let dir = cluster.dir().to_path_buf();
    assert!(cluster.data_dir().join("PG_VERSION").is_file());
    assert!(
        cluster
            .url()
            .ends_with(&format!(":{}/postgres", cluster.port()))
    );
    assert_eq!(
        query_one(&cluster.url(), "SELECT current_setting('fsync')"),
        "off"
    );
    assert_eq!(
        query_one(&cluster.url(), "SELECT current_user::text"),
        "postgres"
    );
    cluster.stop().unwrap_or_else(|err| panic!("{err}"));
    assert!(!dir.exists(), "{} was not removed", dir.display());
}

#[test]
fn extra_settings_are_applied_and_quoted() {
    let opts = ClusterOptions {
        fsync: false,
        watch_parent: false,
        extra_settings: vec![
            ("cluster_name".into(), "it's pgcarry".into()),
            ("work_mem".into(), "8MB".into()),
        ],
        port: None,
    };
    let cluster = LocalCluster::start(&opts).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(query_one(&cluster.url(), "SHOW work_mem"), "8MB");
    assert_eq!(
        query_one(&cluster.url(), "SHOW cluster_name"),
        "it's pgcarry"
    );
    assert_eq!(
        query_one(&cluster.url(), "SELECT current_setting('fsync')"),
        "off"
    );
}

#[test]
fn drop_and_cleanup_handle_remove_the_cluster_once() {
    let cluster = start();
    let dir = cluster.dir().to_path_buf();
    let handle = cluster.cleanup_handle();
    let from_thread = handle.clone();
    std::thread::spawn(move || from_thread.cleanup())
        .join()
        .expect("cleanup thread")
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(!dir.exists());
    handle.cleanup().unwrap_or_else(|err| panic!("{err}"));
    drop(cluster);

    let cluster = start();
    let dir = cluster.dir().to_path_buf();
    drop(cluster);
    assert!(!dir.exists());
}

#[test]
fn two_clusters_run_side_by_side() {
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(start);
        let b = s.spawn(start);
        (a.join().expect("a"), b.join().expect("b"))
    });
    assert_ne!(a.port(), b.port());
    assert_ne!(a.dir(), b.dir());
    query_one(&a.url_for("template1"), "SELECT 'a'");
    query_one(&b.url(), "SELECT 'b'");
}

#[test]
fn kept_cluster_survives_and_its_stop_command_removes_it() {
    let kept = start().keep();
    assert_eq!(query_one(&kept.url, "SELECT 'alive'"), "alive");
    let out = Command::new("sh")
        .args(["-c", &kept.stop_command])
        .output()
        .expect("sh");
    assert!(out.status.success(), "{}: {out:?}", kept.stop_command);
    assert!(!kept.dir.exists());
}

#[test]
fn watchdog_removes_the_cluster_when_the_watched_process_exits() {
    let cluster = start();
    let mut watched = Command::new("sleep").arg("60").spawn().expect("sleep");
    let mut watchdog = cluster
        .inner
        .spawn_watchdog(watched.id())
        .unwrap_or_else(|err| panic!("{err}"));
    // Still running while the watched process lives.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(query_one(&cluster.url(), "SELECT 'alive'"), "alive");
    watched.kill().expect("kill sleep");
    watched.wait().expect("reap sleep");
    wait_until_gone(cluster.dir());
    let status = watchdog.wait().expect("reap watchdog");
    assert!(status.success());
    assert!(
        postgres::Client::connect(&cluster.url(), postgres::NoTls).is_err(),
        "the server still accepts connections"
    );
    cluster.stop().unwrap_or_else(|err| panic!("{err}"));
}

#[test]
fn start_failure_reports_the_cause() {
    let opts = ClusterOptions {
        fsync: false,
        watch_parent: false,
        extra_settings: vec![("no_such_setting".into(), "1".into())],
        port: None,
    };
    let err = LocalCluster::start(&opts).expect_err("bad setting must fail");
    let text = err.to_string();
    assert!(text.contains("no_such_setting"), "{text}");
    let ClusterError::Start { dir, attempts, .. } = &err else {
        panic!("expected a start error: {text}");
    };
    assert_eq!(*attempts, 1);
    let temp = dir.parent().expect("data dir has a parent");
    assert!(!temp.exists(), "{} was left behind", temp.display());
}

#[test]
fn helpers_quote_and_encode() {
    assert_eq!(percent_encode("db_1-x"), "db_1-x");
    assert_eq!(percent_encode("a b/é"), "a%20b%2F%C3%A9");
    assert_eq!(shell_quote(OsStr::new("/tmp/x")), "/tmp/x");
    assert_eq!(shell_quote(OsStr::new("it's")), r"'it'\''s'");
    assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
}
