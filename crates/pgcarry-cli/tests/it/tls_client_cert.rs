//! A private TLS cluster as managed services run them: a CA, a server certificate that is
//! X.509 version 1 (as `openssl x509 -req` and Citus make it), `hostssl ... cert` for a user
//! that logs in with a client certificate, a `reject` line, and a password user for the
//! password file. Issue 12, items 3 and 10.

use crate::support::{pgcarry, sqlite_fixture};
use pgcarry::{ClusterOptions, LocalCluster};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is needed to make the test certificates (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `name.key` and `name.crt` with common name `cn`, signed by `ca` (no extensions: X.509 v1).
fn signed(dir: &Path, name: &str, cn: &str) {
    let (key, csr, crt) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.crt"),
    );
    let subj = format!("/CN={cn}");
    openssl(
        &[
            "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj",
            &subj,
        ],
        dir,
    );
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            &crt,
        ],
        dir,
    );
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Gives `path` to the `postgres` user when we are root (the server runs as it and must own its key).
fn give_to_server(path: &Path) {
    let me = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&me.stdout).trim() == "0" {
        let out = Command::new("id")
            .args(["-u", "postgres"])
            .output()
            .unwrap();
        let uid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        std::os::unix::fs::chown(path, Some(uid), None).unwrap();
    }
}

struct CertCluster {
    dir: tempfile::TempDir,
    cluster: LocalCluster,
}

impl CertCluster {
    fn start() -> CertCluster {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        chmod(d, 0o755);
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=test-ca",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
            ],
            d,
        );
        signed(d, "server", "localhost");
        signed(d, "client", "certuser");
        // The same key in the traditional RSA form (BEGIN RSA PRIVATE KEY).
        openssl(
            &[
                "rsa",
                "-in",
                "client.key",
                "-traditional",
                "-out",
                "client-rsa.key",
            ],
            d,
        );
        let server_text = Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(d.join("server.crt"))
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&server_text.stdout).contains("Version: 1 (0x0)"));
        for (file, mode) in [
            ("server.crt", 0o644),
            ("server.key", 0o600),
            ("ca.crt", 0o644),
        ] {
            chmod(&d.join(file), mode);
            give_to_server(&d.join(file));
        }
        for key in ["client.key", "client-rsa.key"] {
            chmod(&d.join(key), 0o600);
        }
        let mut opts = ClusterOptions::for_tests();
        let path = |f: &str| d.join(f).display().to_string();
        opts.extra_settings = vec![
            ("ssl".into(), "on".into()),
            ("ssl_cert_file".into(), path("server.crt")),
            ("ssl_key_file".into(), path("server.key")),
            ("ssl_ca_file".into(), path("ca.crt")),
        ];
        let cluster = LocalCluster::start(&opts).unwrap();
        let mut admin = postgres::Client::connect(&cluster.url(), postgres::NoTls).unwrap();
        admin
            .batch_execute(
                "CREATE ROLE certuser LOGIN SUPERUSER; \
                 CREATE ROLE pwuser LOGIN SUPERUSER PASSWORD 'pw-Secret-42';",
            )
            .unwrap();
        let hba = cluster.data_dir().join("pg_hba.conf");
        let text = std::fs::read_to_string(&hba).unwrap();
        let first = "hostssl all certuser 127.0.0.1/32 cert\n\
                     host all blocked 127.0.0.1/32 reject\n\
                     host all pwuser 127.0.0.1/32 scram-sha-256\n";
        std::fs::write(&hba, format!("{first}{text}")).unwrap();
        admin.query_one("SELECT pg_reload_conf()", &[]).unwrap();
        CertCluster { dir, cluster }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn url(&self, user: &str, query: &str) -> String {
        format!(
            "postgresql://{user}@127.0.0.1:{}/postgres?{query}",
            self.cluster.port()
        )
    }
}

fn stderr(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stderr).to_string()
}

// Issue 12, item 10: "invalid peer certificate: UnsupportedCertVersion" under require/prefer.
#[test]
fn require_and_prefer_accept_an_x509_v1_server_certificate() {
    let c = CertCluster::start();
    for mode in ["require", "prefer", "allow"] {
        let out = pgcarry()
            .args([
                "wait",
                &c.url("postgres", &format!("sslmode={mode}")),
                "--timeout",
                "10s",
            ])
            .assert();
        let err = stderr(&out);
        out.success();
        assert!(err.contains("ready after 1 attempt"), "{mode}: {err}");
    }
    // The connection really is encrypted under require.
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('x');",
    );
    pgcarry()
        .current_dir(dir.path())
        .args([
            "migrate",
            src.to_str().unwrap(),
            "--to",
            &c.url("postgres", "sslmode=require&application_name=v1check"),
        ])
        .assert()
        .success();
    // TLS 1.2 signs the handshake differently: checked by the same key.
    let mut admin = postgres::Client::connect(&c.cluster.url(), postgres::NoTls).unwrap();
    admin
        .batch_execute("ALTER SYSTEM SET ssl_max_protocol_version = 'TLSv1.2'")
        .unwrap();
    admin.query_one("SELECT pg_reload_conf()", &[]).unwrap();
    pgcarry()
        .args([
            "wait",
            &c.url("postgres", "sslmode=require"),
            "--timeout",
            "10s",
        ])
        .assert()
        .success();
    c.cluster.stop().unwrap();
}

// Issue 12, item 10: sslcert/sslkey were refused; managed services log in with them.
#[test]
fn client_certificate_login_on_a_cert_only_server() {
    let c = CertCluster::start();
    let cert = c.file("client.crt").display().to_string();
    let key = c.file("client.key").display().to_string();
    let rsa_key = c.file("client-rsa.key").display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('x');",
    );
    // In the URL, PKCS#8 key.
    let url = c.url(
        "certuser",
        &format!("sslmode=require&sslcert={cert}&sslkey={key}"),
    );
    pgcarry()
        .current_dir(dir.path())
        .args(["migrate", src.to_str().unwrap(), "--to", &url])
        .assert()
        .success();
    let mut admin = postgres::Client::connect(&c.cluster.url(), postgres::NoTls).unwrap();
    let owner: String = admin
        .query_one(
            "SELECT tableowner::text FROM pg_tables WHERE tablename = 't'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(owner, "certuser");
    // From PGSSLCERT/PGSSLKEY, traditional RSA key.
    pgcarry()
        .env("PGSSLCERT", &cert)
        .env("PGSSLKEY", &rsa_key)
        .args([
            "wait",
            &c.url("certuser", "sslmode=require"),
            "--timeout",
            "10s",
        ])
        .assert()
        .success();
    // Without the certificate the server refuses, and wait says so at once.
    let started = Instant::now();
    let out = pgcarry()
        .env("HOME", dir.path())
        .args([
            "wait",
            &c.url("certuser", "sslmode=require"),
            "--timeout",
            "60s",
        ])
        .timeout(Duration::from_secs(90))
        .assert()
        .code(1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("certificate"), "{}", stderr(&out));
    // A certificate without its key is an error naming the setting.
    let out = pgcarry()
        .args([
            "wait",
            &c.url("certuser", &format!("sslmode=require&sslcert={cert}")),
            "--timeout",
            "5s",
        ])
        .assert()
        .code(2);
    assert!(stderr(&out).contains("sslkey"), "{}", stderr(&out));
    c.cluster.stop().unwrap();
}

// Issue 12, item 3: wait kept retrying failures that cannot go away.
#[test]
fn wait_stops_at_once_on_pg_hba_reject_and_on_a_certificate_that_does_not_verify() {
    let c = CertCluster::start();
    let cases = [
        (c.url("blocked", "sslmode=disable"), "pg_hba"),
        (
            c.url(
                "postgres",
                &format!(
                    "sslmode=verify-full&sslrootcert={}",
                    c.file("ca.crt").display()
                ),
            ),
            "TLS handshake",
        ),
    ];
    for (url, expected) in cases {
        let started = Instant::now();
        let out = pgcarry()
            .args(["wait", &url, "--timeout", "60s"])
            .timeout(Duration::from_secs(90))
            .assert()
            .code(1);
        let err = stderr(&out);
        assert!(started.elapsed() < Duration::from_secs(10), "{err}");
        assert!(err.contains(expected), "{err}");
        assert!(!err.contains("attempt 2"), "{err}");
    }
    c.cluster.stop().unwrap();
}

// Issue 12, item 10: libpq ignores a password file others may read, with a warning.
#[test]
fn passfile_and_a_group_readable_pgpass() {
    let c = CertCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let pgpass = dir.path().join("pgpass");
    std::fs::write(&pgpass, "*:*:*:pwuser:pw-Secret-42\n").unwrap();
    chmod(&pgpass, 0o600);
    let url = c.url("pwuser", "sslmode=disable");
    pgcarry()
        .env("PGPASSFILE", &pgpass)
        .args(["wait", &url, "--timeout", "10s"])
        .assert()
        .success();
    let with_passfile = format!("{url}&passfile={}", pgpass.display());
    pgcarry()
        .args(["wait", &with_passfile, "--timeout", "10s"])
        .assert()
        .success();
    chmod(&pgpass, 0o644);
    let out = pgcarry()
        .env("PGPASSFILE", &pgpass)
        .args(["wait", &url, "--timeout", "10s"])
        .assert()
        .code(1);
    let err = stderr(&out);
    assert!(
        err.contains("warning: password file") && err.contains("group or world access"),
        "{err}"
    );
    assert!(err.contains("asks for a password"), "{err}");
    assert!(!err.contains("pw-Secret-42"), "{err}");
    c.cluster.stop().unwrap();
}
