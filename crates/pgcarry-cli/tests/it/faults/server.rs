//! The target refuses: a wrong password (and none at all) on a server that asks for one, and a
//! server whose disk fills up during the load.

use super::{assert_untouched, output};
use crate::support::{assert_rows_once, migrate_cmd, pgcarry, sample_db, sqlite_fixture};
use pgcarry::{ClusterOptions, LocalCluster};
use std::path::{Path, PathBuf};
use std::process::Command;

fn connect(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls)
        .unwrap_or_else(|err| panic!("connect to {url}: {err}"))
}

/// Makes every TCP connection authenticate with SCRAM, the `postgres` role's password being
/// `password`.
fn require_password(cluster: &LocalCluster, password: &str) {
    let mut admin = connect(&cluster.url());
    admin
        .batch_execute(&format!(
            "SET password_encryption = 'scram-sha-256'; ALTER ROLE postgres PASSWORD '{password}'"
        ))
        .unwrap();
    let hba = cluster.data_dir().join("pg_hba.conf");
    let text = std::fs::read_to_string(&hba).unwrap();
    let scram: Vec<String> = text
        .lines()
        .map(|l| match l.strip_suffix("trust") {
            Some(head) if l.starts_with("host") => format!("{head}scram-sha-256"),
            _ => l.to_string(),
        })
        .collect();
    assert!(scram.iter().any(|l| l.ends_with("scram-sha-256")), "{text}");
    std::fs::write(&hba, scram.join("\n") + "\n").unwrap();
    admin.query_one("SELECT pg_reload_conf()", &[]).unwrap();
}

#[test]
fn a_wrong_password_fails_with_exit_1_naming_the_user_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO items VALUES (1, 'a');",
    );
    let cluster = LocalCluster::start(&ClusterOptions::for_tests()).unwrap();
    require_password(&cluster, "r1ght-pa55");
    let with_password = |p: &str| {
        cluster
            .url()
            .replace("postgres@", &format!("postgres:{p}@"))
    };

    let text = output(
        &migrate_cmd(dir.path(), &src, &with_password("wr0ng-pa55"))
            .assert()
            .code(1),
    );
    assert!(
        text.contains("password authentication failed for user \"postgres\"")
            && text.contains("check the password in --to, DATABASE_URL or PGPASSWORD"),
        "{text}"
    );
    assert!(
        !text.contains("wr0ng-pa55"),
        "the password is printed: {text}"
    );

    let text = output(
        &migrate_cmd(dir.path(), &src, &cluster.url())
            .assert()
            .code(1),
    );
    assert!(
        text.contains("asks for a password for user \"postgres\"") && text.contains("PGPASSWORD"),
        "{text}"
    );

    // `pgcarry wait` does not wait out a wrong password: retrying cannot fix it.
    let started = std::time::Instant::now();
    let text = output(
        &pgcarry()
            .args(["wait", &with_password("wr0ng-pa55"), "--timeout", "60s"])
            .assert()
            .code(1),
    );
    assert!(
        text.contains("password authentication failed") && !text.contains("wr0ng-pa55"),
        "{text}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    pgcarry()
        .args(["wait", &with_password("r1ght-pa55"), "--timeout", "10s"])
        .assert()
        .success();

    assert_untouched(&mut connect(&with_password("r1ght-pa55")));
    cluster.stop().unwrap();
}

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` at `path`, owned by the `postgres` user (the server's).
    fn mount(path: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(path).unwrap();
        let id = |flag: &str| {
            let out = Command::new("id")
                .args([flag, "postgres"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        let options = format!("size={size},mode=0700,uid={},gid={}", id("-u"), id("-g"));
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &options, "tmpfs"])
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "this test needs to mount a small tmpfs (root, CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(path.to_path_buf())
    }

    fn resize(&self, size: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_with_exit_1_keeps_no_half_table_and_a_rerun_completes() {
    let dir = tempfile::tempdir().unwrap();
    let (src, expected) = sample_db(dir.path(), 1);
    // The target database lives in a tablespace on a tmpfs with room for its catalog and a
    // few MB of rows, not for the sample's tens of MB; WAL stays on the cluster's own disk.
    let disk = Tmpfs::mount(&dir.path().join("small"), "14m");
    let cluster = LocalCluster::start(&ClusterOptions::for_tests()).unwrap();
    let mut admin = connect(&cluster.url());
    admin
        .batch_execute(&format!(
            "CREATE TABLESPACE small LOCATION '{}'",
            disk.0.display()
        ))
        .unwrap();
    admin
        .batch_execute("CREATE DATABASE target TABLESPACE small")
        .unwrap();
    drop(admin);
    let url = cluster.url_for("target");

    let text = output(&migrate_cmd(dir.path(), &src, &url).assert().code(1));
    assert!(
        text.contains("disk is full (SQLSTATE 53100)")
            && text.contains("free space on the server")
            && text.contains("run the same command again"),
        "{text}"
    );
    // Only tables loaded in full are recorded as loaded, and at least one is not.
    let mut c = connect(&url);
    let loaded: Vec<String> = c
        .query("SELECT table_name FROM pgcarry.loaded_tables", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(loaded.len() < expected.len(), "{loaded:?}");
    let whole: Vec<(String, i64)> = expected
        .iter()
        .filter(|(t, _)| loaded.contains(t))
        .cloned()
        .collect();
    assert_rows_once(&mut c, &whole, "after the disk filled");
    drop(c);

    disk.resize("200m");
    migrate_cmd(dir.path(), &src, &url).assert().success();
    assert_rows_once(&mut connect(&url), &expected, "after the re-run");
    cluster.stop().unwrap();
}
