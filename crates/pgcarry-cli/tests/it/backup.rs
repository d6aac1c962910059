//! `pgcarry backup`, `backup verify`, `backup list`, `restore` (issue 15): the installed
//! pg_dump/pg_restore against the shared server; a manifest that proves what the dump holds;
//! nothing that looks like a backup after a failed dump; one backup per directory at a time;
//! retention that keeps the newest backups whatever their age.

use crate::support::{Running, output, pgcarry, test_db};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SCHEMA: &str = "
    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
    CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, m mood, moods mood[],
                        doc jsonb, at timestamptz DEFAULT now());
    INSERT INTO users (name, m, moods, doc)
    SELECT 'user ' || i, 'ok', '{sad,happy}', jsonb_build_object('i', i, 'x', 1.50)
    FROM generate_series(1, 200) i;
    CREATE SCHEMA app;
    CREATE TABLE app.notes (user_id int REFERENCES users, body text, raw bytea);
    INSERT INTO app.notes SELECT i, NULL, '\\x00ff' FROM generate_series(1, 50) i;
    CREATE TABLE empty_one (x int);
    SELECT setval('users_id_seq', 500);
";

/// A fresh database with SCHEMA loaded.
fn source(prefix: &str) -> crate::support::TestDb {
    let db = test_db(prefix);
    db.client().batch_execute(SCHEMA).unwrap();
    db
}

fn backup(dir: &Path, url: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    pgcarry()
        .args(["backup", "--from", url, "--dir"])
        .arg(dir)
        .args(args)
        .assert()
}

/// The files of `dir` whose names end with `suffix`, sorted.
fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    out.sort();
    out
}

fn manifest(dump: &Path) -> serde_json::Value {
    let path = dump.to_string_lossy().replace(".dump", ".manifest.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// An executable shell script `dir/name`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn backup_verify_restore_round_trip() {
    let db = source("backup_round_trip");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("backups");
    let out = backup(&dir, &db.url, &[]).success();
    let text = output(&out);
    let dumps = files(&dir, ".dump");
    assert_eq!(dumps.len(), 1, "{text}");
    assert!(files(&dir, ".partial").is_empty());
    let name = dumps[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("{}-", db.name)) && name.ends_with("Z.dump"),
        "{name}"
    );
    let m = manifest(&dumps[0]);
    let tables: Vec<String> = m["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}.{}={}",
                t["schema"].as_str().unwrap(),
                t["name"].as_str().unwrap(),
                t["rows"]
            )
        })
        .collect();
    assert_eq!(
        tables,
        ["app.notes=50", "public.empty_one=0", "public.users=200"]
    );
    assert_eq!(m["sequences"][0]["last_value"], 500);
    assert_eq!(m["dump_sha256"].as_str().unwrap().len(), 64);
    assert!(m["verified_at"].is_null());

    // verify into a scratch database of its own: identical, recorded in the manifest.
    let scratch = test_db("backup_scratch");
    let out = pgcarry()
        .args(["backup", "verify"])
        .arg(&dumps[0])
        .args(["--scratch", &scratch.url])
        .assert();
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(0), "{text}");
    assert!(text.contains("3 tables, 250 rows identical"), "{text}");
    assert!(manifest(&dumps[0])["verified_at"].is_string());
    let out = pgcarry()
        .args(["backup", "list"])
        .arg(&dir)
        .assert()
        .success();
    assert!(output(&out).contains("verified 20"), "{}", output(&out));

    // The source itself is refused as a scratch database.
    let out = pgcarry()
        .args(["backup", "verify"])
        .arg(&dumps[0])
        .args(["--scratch", &db.url])
        .assert();
    assert_eq!(out.get_output().status.code(), Some(2), "{}", output(&out));
    assert!(output(&out).contains("taken from"), "{}", output(&out));

    // restore into another database: identical, sequence as recorded.
    let target = test_db("backup_restored");
    let out = pgcarry()
        .arg("restore")
        .arg(&dumps[0])
        .args(["--to", &target.url, "--jobs", "2"])
        .assert();
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(0), "{text}");
    let next: i64 = target
        .client()
        .query_one("SELECT nextval('users_id_seq')", &[])
        .unwrap()
        .get(0);
    assert_eq!(next, 501);

    // A non-empty target is refused without --clean.
    let out = pgcarry()
        .arg("restore")
        .arg(&dumps[0])
        .args(["--to", &target.url])
        .assert();
    assert_eq!(out.get_output().status.code(), Some(2), "{}", output(&out));
    assert!(output(&out).contains("--clean"));

    // Changes `target` with `sql`, then compares it with the manifest.
    let change_and_compare = |sql: &str| {
        target.client().batch_execute(sql).unwrap();
        let out = pgcarry()
            .args(["backup", "verify"])
            .arg(&dumps[0])
            .args(["--scratch", &target.url, "--already-restored"])
            .assert();
        (out.get_output().status.code(), output(&out))
    };
    // A table changed after the restore is named (exit 3).
    let (code, text) =
        change_and_compare("UPDATE app.notes SET body = 'changed' WHERE user_id = 7");
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("app.notes: content checksum"), "{text}");
    // nextval above moved the sequence ahead, as a live database does: no warning.
    assert!(!text.contains("sequence public.users_id_seq"), "{text}");
    assert!(!text.contains("public.users:"), "{text}");
    // A sequence behind the manifest's position would hand out keys the rows hold: a warning.
    let (_, text) = change_and_compare("SELECT setval('users_id_seq', 100)");
    assert!(
        text.contains("sequence public.users_id_seq is at 100 (is_called true), behind"),
        "{text}"
    );

    // --clean restores over it, identical again.
    let out = pgcarry()
        .arg("restore")
        .arg(&dumps[0])
        .args(["--to", &target.url, "--clean"])
        .assert();
    assert_eq!(out.get_output().status.code(), Some(0), "{}", output(&out));
}

#[test]
fn changed_dump_bytes_fail_verify() {
    let db = source("backup_changed_bytes");
    let tmp = tempfile::tempdir().unwrap();
    backup(tmp.path(), &db.url, &[]).success();
    let dump = files(tmp.path(), ".dump").remove(0);
    let mut bytes = std::fs::read(&dump).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&dump, bytes).unwrap();
    let out = pgcarry().args(["backup", "verify"]).arg(&dump).assert();
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(1), "{text}");
    assert!(
        text.contains("SHA-256") && text.contains("changed or truncated"),
        "{text}"
    );
}

// A dump written straight to its final name, then killed, looks like a backup and pushes good
// ones out of retention: a killed pg_dump must leave nothing that looks complete.
#[test]
fn killed_pg_dump_leaves_no_backup_and_deletes_nothing() {
    let db = source("backup_killed");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    backup(&dir, &db.url, &[]).success();
    // A crashed run's leftovers are removed and reported by the next run.
    std::fs::write(dir.join("old-20200101T000000Z.dump.partial"), b"half").unwrap();
    let dying = script(
        tmp.path(),
        "pg_dump",
        "[ \"$1\" = --version ] && exec pg_dump --version\npg_dump \"$@\"\nkill -9 $$",
    );
    let out = pgcarry()
        .args(["backup", "--from", &db.url, "--dir"])
        .arg(&dir)
        .args(["--keep", "1", "--keep-days", "0", "--pg-dump"])
        .arg(&dying)
        .assert();
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(1), "{text}");
    assert!(text.contains("pg_dump failed"), "{text}");
    assert!(text.contains("old-20200101T000000Z.dump.partial"), "{text}");
    assert!(files(&dir, ".partial").is_empty());
    assert_eq!(files(&dir, ".dump").len(), 1, "the good backup stays");
    assert_eq!(files(&dir, ".manifest.json").len(), 1);
}

#[test]
fn too_old_pg_dump_is_named() {
    let db = test_db("backup_old_pg_dump");
    let tmp = tempfile::tempdir().unwrap();
    let old = script(tmp.path(), "pg_dump", "echo 'pg_dump (PostgreSQL) 12.3'");
    let out = pgcarry()
        .args(["backup", "--from", &db.url, "--dir"])
        .arg(tmp.path())
        .arg("--pg-dump")
        .arg(&old)
        .assert();
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(1), "{text}");
    assert!(
        text.contains("pg_dump 12 cannot read a version") && text.contains("postgresql-client-"),
        "{text}"
    );
    assert!(files(tmp.path(), ".dump").is_empty());
}

#[test]
fn concurrent_backups_into_one_directory_do_not_interleave() {
    let db = source("backup_lock");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    let slow = script(
        tmp.path(),
        "pg_dump",
        "[ \"$1\" = --version ] && exec pg_dump --version\nsleep 2\nexec pg_dump \"$@\"",
    );
    let dir_s = dir.to_string_lossy().into_owned();
    let slow_s = slow.to_string_lossy().into_owned();
    let first = Running::spawn(
        tmp.path(),
        &[
            "backup",
            "--from",
            &db.url,
            "--dir",
            &dir_s,
            "--pg-dump",
            &slow_s,
        ],
    );
    assert!(
        first.says("dump ", Duration::from_secs(30)),
        "{}",
        first.stderr()
    );
    let out = backup(&dir, &db.url, &[]);
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(1), "{text}");
    assert!(
        text.contains(".pgcarry-backup.lock") && text.contains("--lock-wait"),
        "{text}"
    );
    // With --lock-wait the next one waits for the first and then runs.
    let out = backup(&dir, &db.url, &["--lock-wait", "60s"]);
    assert_eq!(out.get_output().status.code(), Some(0), "{}", output(&out));
    let (code, text, _) = first.finish();
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(files(&dir, ".dump").len(), 2);
    assert_eq!(files(&dir, ".manifest.json").len(), 2);
}

#[test]
fn keep_is_a_floor_whatever_the_age() {
    let db = source("backup_retention");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    // Each run's dump, in the order they were taken.
    let mut taken: Vec<String> = Vec::new();
    for _ in 0..3 {
        let out = backup(&dir, &db.url, &["--keep", "2", "--keep-days", "0"]).success();
        let text = output(&out);
        let path = text
            .split("backup: ")
            .nth(1)
            .and_then(|t| t.split(" (").next());
        taken.push(path.unwrap_or_else(|| panic!("{text}")).to_string());
    }
    let dumps: Vec<String> = files(&dir, ".dump")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(dumps.len(), 2, "{dumps:?}");
    assert!(
        dumps.contains(&taken[1]) && dumps.contains(&taken[2]),
        "{taken:?} {dumps:?}"
    );
    assert_eq!(files(&dir, ".manifest.json").len(), 2);
    // A file without a pgcarry manifest is never touched; a dry run deletes nothing.
    std::fs::write(dir.join("other.dump"), b"not ours").unwrap();
    let out = backup(&dir, &db.url, &["--keep", "1", "--dry-run"]).success();
    let text = output(&out);
    assert!(
        text.contains(&format!("would delete {}", taken[1])),
        "{text}"
    );
    assert!(!text.contains(&taken[2]), "{text}");
    assert!(!text.contains("other.dump"), "{text}");
    assert_eq!(files(&dir, ".dump").len(), 3);
    backup(&dir, &db.url, &["--keep", "1"]).success();
    let left = files(&dir, ".dump");
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(
        !left.iter().any(|p| p.to_string_lossy() == taken[1]),
        "{left:?}"
    );
    assert!(left.iter().any(|p| p.ends_with("other.dump")));
}

#[test]
fn verify_without_scratch_restores_into_a_throw_away_server() {
    let db = source("backup_throw_away");
    let tmp = tempfile::tempdir().unwrap();
    backup(tmp.path(), &db.url, &[]).success();
    let dump = files(tmp.path(), ".dump").remove(0);
    let out = pgcarry()
        .args(["backup", "verify", "--json"])
        .arg(&dump)
        .assert();
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(0), "{text}");
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let result: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(result["identical"], true, "{text}");
    assert_eq!(result["rows"], 250);
    assert!(manifest(&dump)["verified_at"].is_string());
}

/// A small tmpfs (256 KiB) mounted for one test, unmounted when dropped.
pub struct SmallDisk(pub PathBuf);

impl SmallDisk {
    /// Mounts it at `dir/disk` (the tests run as root).
    pub fn mount(dir: &Path) -> SmallDisk {
        let mount = dir.join("disk");
        std::fs::create_dir(&mount).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
            .arg(&mount)
            .status()
            .is_ok_and(|s| s.success());
        assert!(mounted, "mount a tmpfs (the tests run as root)");
        SmallDisk(mount)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

// A full disk while pg_dump writes: exit 1, nothing that looks like a backup, and retention
// (which would otherwise make room by deleting the good one) never runs.
#[test]
fn full_disk_leaves_no_backup_and_deletes_nothing() {
    let db = source("backup_full_disk");
    let tmp = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(tmp.path());
    let mount = disk.0.clone();
    backup(&mount, &db.url, &[]).success();
    db.client()
        .batch_execute(
            "CREATE TABLE noise AS SELECT decode(string_agg(md5(random()::text || i), ''), 'hex') AS b \
             FROM generate_series(1, 40000) i GROUP BY i % 10",
        )
        .unwrap();
    let out = backup(&mount, &db.url, &["--keep", "1", "--keep-days", "0"]);
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(1), "{text}");
    assert!(text.contains("No space left on device"), "{text}");
    assert!(files(&mount, ".partial").is_empty(), "{text}");
    assert_eq!(files(&mount, ".dump").len(), 1, "{text}");
    assert_eq!(files(&mount, ".manifest.json").len(), 1, "{text}");
}
