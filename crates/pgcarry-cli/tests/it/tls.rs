//! `sslmode=require` against a server that only accepts TLS connections, with a self-signed
//! certificate: pgcarry encrypts without verifying (libpq's meaning of `require`), and never
//! falls back to a plain connection.

use crate::support::{pgcarry, sqlite_fixture};
use pgcarry::{ClusterOptions, LocalCluster};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

/// A self-signed certificate and key readable by the server's user.
pub(crate) fn self_signed(dir: &std::path::Path) -> (String, String) {
    let crt = dir.join("server.crt");
    let key = dir.join("server.key");
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .expect("openssl is needed to make the test certificate (apt-get install openssl)");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&crt, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let me = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&me.stdout).trim() == "0" {
        // The server runs as `postgres` under root, and must own its key.
        let out = Command::new("id")
            .args(["-u", "postgres"])
            .output()
            .unwrap();
        let uid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        std::os::unix::fs::chown(&key, Some(uid), None).unwrap();
        std::os::unix::fs::chown(&crt, Some(uid), None).unwrap();
    }
    (crt.display().to_string(), key.display().to_string())
}

#[test]
fn sslmode_require_works_against_a_tls_only_server() {
    let dir = tempfile::tempdir().unwrap();
    let (crt, key) = self_signed(dir.path());
    let mut opts = ClusterOptions::for_tests();
    opts.extra_settings = vec![
        ("ssl".into(), "on".into()),
        ("ssl_cert_file".into(), crt),
        ("ssl_key_file".into(), key),
    ];
    let cluster = LocalCluster::start(&opts).unwrap();
    // Only TLS connections from now on.
    let hba = cluster.data_dir().join("pg_hba.conf");
    let text = std::fs::read_to_string(&hba).unwrap();
    let tls_only: String = text
        .lines()
        .map(|l| {
            if l.starts_with("host ") {
                l.replacen("host ", "hostssl ", 1)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&hba, tls_only + "\n").unwrap();
    let mut admin = postgres::Client::connect(&cluster.url(), postgres::NoTls).unwrap();
    admin.query_one("SELECT pg_reload_conf()", &[]).unwrap();
    drop(admin);

    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('x');",
    );
    let url = |mode: &str| format!("{}?sslmode={mode}", cluster.url());
    let out = pgcarry()
        .current_dir(dir.path())
        .args(["migrate", src.to_str().unwrap(), "--to", &url("disable")])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("no encryption") || err.contains("pg_hba"),
        "{err}"
    );
    pgcarry()
        .current_dir(dir.path())
        .args(["migrate", src.to_str().unwrap(), "--to", &url("require")])
        .assert()
        .success();
    pgcarry()
        .args(["wait", &url("prefer"), "--timeout", "10s"])
        .assert()
        .success();
    cluster.stop().unwrap();
}
