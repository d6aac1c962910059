//! The container recipe's entrypoint (`contrib/backup/pgcarry-backup-daily`, issue 15): run as
//! the container runs it, with the built `pgcarry` on PATH, against the shared server. The
//! image itself cannot be built here (no container registry); its script can be run.

use crate::support::{TARGET_VARS, TestDb, test_db};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn entrypoint() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contrib/backup/pgcarry-backup-daily")
}

/// The entrypoint with a clean environment: the built pgcarry first on PATH, the backups
/// in `dir`, nothing else that points at a server; `env` set on top.
fn daily(dir: &Path, env: &[(&str, &str)]) -> Command {
    let bin = Path::new(env!("CARGO_BIN_EXE_pgcarry")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.arg(entrypoint())
        .env("PATH", path)
        .env("BACKUP_DIR", dir);
    for var in TARGET_VARS
        .iter()
        .chain(&["PGCARRY", "PGCARRY_BACKUP_ONCE"])
    {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn once(dir: &Path, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = daily(dir, env)
        .env("PGCARRY_BACKUP_ONCE", "1")
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (status.code(), text(stdout), text(stderr))
}

fn source(prefix: &str) -> TestDb {
    let db = test_db(prefix);
    db.client()
        .batch_execute(
            "CREATE TABLE notes (id serial PRIMARY KEY, body text);
             INSERT INTO notes (body) SELECT 'note ' || i FROM generate_series(1, 300) i;",
        )
        .unwrap();
    db
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn rows_in_manifest(dir: &Path) -> u64 {
    let name = names(dir)
        .into_iter()
        .find(|n| n.ends_with(".manifest.json"))
        .unwrap_or_else(|| panic!("no manifest in {}", dir.display()));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
    m["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rows"].as_u64().unwrap())
        .sum()
}

#[test]
fn run_once_takes_a_backup_with_its_manifest_and_logs_one_line() {
    let db = source("container_once");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("backups");
    let (code, out, err) = once(&dir, &[("DATABASE_URL", &db.url)]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out.lines().count(), 1, "one line per run: {out}");
    assert!(out.contains(" ok backup: "), "{out}");
    let files = names(&dir);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files[0].ends_with(".dump"), "{files:?}");
    assert!(files[1].ends_with(".manifest.json"), "{files:?}");
    assert_eq!(rows_in_manifest(&dir), 300);
}

#[test]
fn run_once_encrypts_to_the_given_key() {
    let db = source("container_age");
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = crate::backup_age::keygen(tmp.path(), "key.txt");
    let dir = tmp.path().join("backups");
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("BACKUP_ENCRYPT_TO", &public),
    ];
    let (code, out, err) = once(&dir, &env);
    assert_eq!(code, Some(0), "{out}{err}");
    let files = names(&dir);
    assert!(files[0].ends_with(".dump.age"), "{files:?}");
    assert_eq!(rows_in_manifest(&dir), 300);
    // Readable only with the identity: verify says so without it, and succeeds with it.
    let dump = dir.join(&files[0]);
    let verify = |identity: Option<&Path>| {
        let mut cmd = crate::support::pgcarry();
        cmd.args(["backup", "verify"]).arg(&dump);
        cmd.args(["--scratch", &test_db("container_age_scratch").url]);
        if let Some(id) = identity {
            cmd.arg("--identity").arg(id);
        }
        cmd.env_remove("PGCARRY_AGE_IDENTITY").assert()
    };
    verify(None).code(2);
    verify(Some(&key)).code(0);
}

#[test]
fn a_failed_run_logs_the_error_and_leaves_no_backup() {
    let db = source("container_fail");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("backups");
    let url = format!("{}_missing", db.url);
    let (code, out, err) = once(&dir, &[("DATABASE_URL", &url)]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert_eq!(out.lines().count(), 1, "one line per run: {out}");
    assert!(out.contains(" FAILED (exit 1): error"), "{out}");
    assert!(
        out.contains("_missing"),
        "the error names the database: {out}"
    );
    assert!(names(&dir).is_empty(), "{:?}", names(&dir));
}

#[test]
fn usage_errors_exit_2_and_say_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("backups");
    let url = "postgresql://localhost/app";
    for (env, says) in [
        (vec![], "DATABASE_URL is not set"),
        (
            vec![("DATABASE_URL", url), ("BACKUP_AT", "25:00")],
            "BACKUP_AT=25:00",
        ),
        (
            vec![("DATABASE_URL", url), ("BACKUP_KEEP", "seven")],
            "BACKUP_KEEP=seven",
        ),
        (
            vec![("DATABASE_URL", url), ("PGCARRY", "no-such-pgcarry")],
            "not on PATH",
        ),
    ] {
        let (code, out, err) = once(&dir, &env);
        assert_eq!(code, Some(2), "{env:?}: {out}{err}");
        assert!(err.contains(says), "{env:?}: {err}");
    }
    assert!(!dir.exists());
}

#[test]
fn the_daily_loop_waits_for_its_time_and_stops_on_term() {
    let db = source("container_loop");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("backups");
    // A time that is not now: the loop sleeps until then.
    let hour = (utc_hour() + 12) % 24;
    let at = format!("{hour:02}:00");
    let mut child = daily(&dir, &[("DATABASE_URL", &db.url), ("BACKUP_AT", &at)])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    log.read_line(&mut first).unwrap();
    assert!(
        first.contains(&format!("daily backup at {at} UTC")),
        "{first}"
    );
    assert!(
        !first.contains("postgresql://"),
        "no URL in the log: {first}"
    );
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut last = String::new();
    log.read_to_string(&mut last).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{last}");
    assert!(last.ends_with(" stopped\n"), "{last}");
    assert!(names(&dir).is_empty(), "no backup before its time");
}

/// The current UTC hour.
fn utc_hour() -> u32 {
    let out = Command::new("date").args(["-u", "+%H"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}
