//! Encrypted backups (issue 15 item 7): `backup keygen`, `backup --encrypt-to`, and `backup
//! verify` / `restore` with `--identity` (or `PGCARRY_AGE_IDENTITY`), with the installed
//! pg_dump/pg_restore against the shared server. The server only needs the public key; the dump
//! on disk holds nothing readable; the manifest stays plain JSON.

use crate::support::{TestDb, output, pgcarry, test_db};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Text the dump's table of contents holds in plain (a comment): found in a plain dump, never
/// in an encrypted one. (Row data in a custom-format dump is compressed either way.)
const CANARY: &str = "canary-7f3e1b-not-for-disk";

const SCHEMA: &str = "
    CREATE TABLE secrets (id serial PRIMARY KEY, owner text NOT NULL, token text, doc jsonb);
    INSERT INTO secrets (owner, token, doc)
    SELECT 'owner ' || i, md5(i::text), jsonb_build_object('i', i)
    FROM generate_series(1, 300) i;
    CREATE TABLE empty_one (x int);
    CREATE TABLE notes (secret_id int REFERENCES secrets, body text);
    INSERT INTO notes SELECT i, 'note ' || i FROM generate_series(1, 300, 3) i;
    CREATE INDEX ON notes (body);
    CREATE MATERIALIZED VIEW per_owner AS SELECT owner, count(*) FROM secrets GROUP BY owner;
    CREATE TABLE events (at date NOT NULL, what text) PARTITION BY RANGE (at);
    CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    INSERT INTO events SELECT date '2026-01-01' + i, 'e' || i FROM generate_series(0, 99) i;
    SELECT lo_from_bytea(0, 'a large object');
    COMMENT ON TABLE secrets IS 'canary-7f3e1b-not-for-disk';
    SELECT setval('secrets_id_seq', 900);
";

fn source(prefix: &str) -> TestDb {
    let db = test_db(prefix);
    db.client().batch_execute(SCHEMA).unwrap();
    db
}

/// `pgcarry` without an identity from the caller's environment.
fn cmd() -> assert_cmd::Command {
    let mut cmd = pgcarry();
    cmd.env_remove("PGCARRY_AGE_IDENTITY");
    cmd
}

/// `backup keygen --out DIR/NAME`; returns the file and the public key it printed.
pub(crate) fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = dir.join(name);
    let out = cmd()
        .args(["backup", "keygen", "--out"])
        .arg(&key)
        .assert()
        .success();
    let public = String::from_utf8_lossy(&out.get_output().stdout)
        .trim()
        .to_string();
    assert!(public.starts_with("age1"), "{}", output(&out));
    (key, public)
}

/// Takes a backup into `dir` with `args`; returns the dump it names.
fn backup(dir: &Path, url: &str, args: &[&str]) -> PathBuf {
    let out = cmd()
        .args(["backup", "--from", url, "--dir"])
        .arg(dir)
        .args(args)
        .assert();
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(0), "{text}");
    let path = text
        .split("backup: ")
        .nth(1)
        .and_then(|t| t.split(" (").next());
    PathBuf::from(path.unwrap_or_else(|| panic!("{text}")))
}

fn manifest_of(dump: &Path) -> serde_json::Value {
    let name = dump.file_name().unwrap().to_string_lossy();
    let stem = name.trim_end_matches(".age").trim_end_matches(".dump");
    let path = dump.with_file_name(format!("{stem}.manifest.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Compares what a person reads with the snapshot `name`: temporary paths, backup names and
/// age public keys (new each run) masked.
fn assert_masked(name: &str, tmp: &Path, text: &str) {
    let tmp = std::fs::canonicalize(tmp).unwrap();
    let text = text.replace(tmp.to_string_lossy().as_ref(), "[TMP]");
    insta::with_settings!({
        filters => vec![
            (r"age1[0-9a-z]{58}", "[AGE PUBLIC KEY]"),
            (r"[\w.-]+-\d{8}T\d{6}Z(-\d+)?\.dump\.age", "[NAME].dump.age"),
        ],
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn tables_in(db: &TestDb) -> i64 {
    db.client()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0)
}

#[test]
fn encrypted_backup_verifies_and_restores_only_with_its_identity() {
    let db = source("age_round_trip");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("backups");
    let (key, public) = keygen(tmp.path(), "key.txt");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let out = cmd()
        .args(["backup", "keygen", "--json", "--out"])
        .arg(tmp.path().join("json.txt"))
        .assert()
        .success();
    let printed: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(printed["public_key"].as_str().unwrap().starts_with("age1"));
    let out = cmd().args(["backup", "keygen", "--out"]).arg(&key).assert();
    assert_eq!(out.get_output().status.code(), Some(2), "{}", output(&out));

    // A plain dump holds the canary: the check below means something.
    let plain = backup(&tmp.path().join("plain"), &db.url, &[]);
    assert!(contains(&std::fs::read(&plain).unwrap(), CANARY));

    let dump = backup(
        &dir,
        &db.url,
        &["--encrypt-to", &public, "--encrypt-to", &public],
    );
    assert!(dump.to_string_lossy().ends_with(".dump.age"), "{dump:?}");
    let bytes = std::fs::read(&dump).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    assert!(!contains(&bytes, CANARY) && !contains(&bytes, "owner 17"));
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(
        names.len(),
        2,
        "only the encrypted dump and its manifest: {names:?}"
    );

    // The manifest is plain JSON: the proof, and who can read the dump (public keys only).
    let m = manifest_of(&dump);
    assert_eq!(m["encryption"]["format"], "age");
    assert_eq!(m["encryption"]["recipients"], serde_json::json!([public]));
    let tables: Vec<String> = m["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("{}={}", t["name"].as_str().unwrap(), t["rows"]))
        .collect();
    assert_eq!(
        tables,
        ["empty_one=0", "events_2026=100", "notes=100", "secrets=300"]
    );
    assert_eq!(m["dump_bytes"].as_u64(), Some(bytes.len() as u64));

    // Without an identity: exit 2, saying what to pass.
    let scratch = test_db("age_scratch");
    let verify = |extra: &[&str]| {
        cmd()
            .args(["backup", "verify"])
            .arg(&dump)
            .args(["--scratch", &scratch.url])
            .args(extra)
            .assert()
    };
    let out = verify(&[]);
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(2), "{text}");
    assert!(
        text.contains("is encrypted") && text.contains("--identity") && text.contains(&public),
        "{text}"
    );

    // A wrong identity: exit 1, named, nothing restored.
    let (stranger, stranger_public) = keygen(tmp.path(), "stranger.txt");
    let out = verify(&["--identity", &stranger.to_string_lossy()]);
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(1), "{text}");
    assert!(
        text.contains("cannot decrypt") && text.contains(&stranger_public),
        "{text}"
    );
    assert_eq!(tables_in(&scratch), 0, "nothing was restored");
    let missing = output(&verify(&[]));
    assert_masked(
        "age_identity_errors",
        tmp.path(),
        &format!("{missing}---\n{text}"),
    );

    // The right identity: restored from the decrypted stream, identical, recorded.
    let out = verify(&["--identity", &key.to_string_lossy()]);
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(0), "{text}");
    assert!(text.contains("4 tables, 500 rows identical"), "{text}");
    assert!(manifest_of(&dump)["verified_at"].is_string());
    let out = cmd().args(["backup", "list"]).arg(&dir).assert().success();
    let text = output(&out);
    assert!(
        text.contains(".dump.age")
            && text.contains("encrypted (age)")
            && text.contains("verified 20"),
        "{text}"
    );

    // restore: the identity from PGCARRY_AGE_IDENTITY; --jobs only sets the checksum readers.
    let target = test_db("age_restored");
    let out = cmd()
        .arg("restore")
        .arg(&dump)
        .args(["--to", &target.url, "--jobs", "2"])
        .env("PGCARRY_AGE_IDENTITY", &key)
        .assert();
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(0), "{text}");
    assert!(text.contains("with one job"), "{text}");
    let row = target
        .client()
        .query_one(
            "SELECT owner, token, nextval('secrets_id_seq') FROM secrets WHERE id = 17",
            &[],
        )
        .unwrap();
    let (owner, token, next): (String, String, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!((owner.as_str(), next), ("owner 17", 901));
    assert_eq!(token.len(), 32);
    let row = target
        .client()
        .query_one(
            "SELECT (SELECT count(*) FROM per_owner), \
             (SELECT convert_from(lo_get(min(oid)), 'UTF8') FROM pg_largeobject_metadata)",
            &[],
        )
        .unwrap();
    let (owners, lo): (i64, String) = (row.get(0), row.get(1));
    assert_eq!((owners, lo.as_str()), (300, "a large object"));

    // --clean over it, from the pipe too: identical again.
    target
        .client()
        .batch_execute("DELETE FROM notes WHERE secret_id < 50")
        .unwrap();
    let out = cmd()
        .arg("restore")
        .arg(&dump)
        .args(["--to", &target.url, "--clean", "--identity"])
        .arg(&key)
        .assert();
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(0), "{text}");
    assert!(text.contains("500 rows identical"), "{text}");

    // A wrong identity never touches the target.
    let other = test_db("age_not_restored");
    let out = cmd()
        .arg("restore")
        .arg(&dump)
        .args(["--to", &other.url, "--identity"])
        .arg(&stranger)
        .assert();
    assert_eq!(out.get_output().status.code(), Some(1), "{}", output(&out));
    assert_eq!(tables_in(&other), 0);
}

#[test]
fn recipients_file_and_several_recipients() {
    let db = source("age_recipients");
    let tmp = tempfile::tempdir().unwrap();
    let (alice, alice_public) = keygen(tmp.path(), "alice.txt");
    let (bob, bob_public) = keygen(tmp.path(), "bob.txt");
    let list = tmp.path().join("recipients.txt");
    std::fs::write(
        &list,
        format!("# the ops team\n{alice_public}\n\n{bob_public}\n"),
    )
    .unwrap();
    let dump = backup(
        &tmp.path().join("b"),
        &db.url,
        &["--encrypt-to", &list.to_string_lossy()],
    );
    let m = manifest_of(&dump);
    assert_eq!(
        m["encryption"]["recipients"],
        serde_json::json!([alice_public, bob_public])
    );
    // Either identity decrypts it (pg_restore --list, then the restore).
    for (key, prefix) in [(&alice, "age_alice"), (&bob, "age_bob")] {
        let target = test_db(prefix);
        let out = cmd()
            .arg("restore")
            .arg(&dump)
            .args(["--to", &target.url, "--identity"])
            .arg(key)
            .assert();
        assert_eq!(out.get_output().status.code(), Some(0), "{}", output(&out));
    }
    // verify's default: restored into a throw-away local server, the identity from the env.
    let out = cmd()
        .args(["backup", "verify", "--json"])
        .arg(&dump)
        .env("PGCARRY_AGE_IDENTITY", &bob)
        .assert();
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(0), "{text}");
    let result: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(result["identical"], true, "{text}");
    assert_eq!(result["rows"], 500);
    // A bad recipient is a usage error before anything is written.
    let out = cmd()
        .args(["backup", "--from", &db.url, "--dir"])
        .arg(tmp.path().join("c"))
        .args(["--encrypt-to", "age1notakey"])
        .assert();
    assert_eq!(out.get_output().status.code(), Some(2), "{}", output(&out));
    assert!(!tmp.path().join("c").exists());
}

#[test]
fn retention_counts_encrypted_backups_like_plain_ones() {
    let db = source("age_retention");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    let (_, public) = keygen(tmp.path(), "key.txt");
    let keep = ["--keep", "2", "--keep-days", "0"];
    let first = backup(
        &dir,
        &db.url,
        &[&["--encrypt-to", &public][..], &keep].concat(),
    );
    let second = backup(&dir, &db.url, &keep);
    let third = backup(
        &dir,
        &db.url,
        &[&["--encrypt-to", &public][..], &keep].concat(),
    );
    assert!(!first.exists(), "the oldest (encrypted) backup goes");
    assert!(second.exists() && third.exists(), "the newest two stay");
    let manifests = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".manifest.json"))
        .count();
    assert_eq!(manifests, 2);
    let out = cmd().args(["backup", "list", "--json"]).arg(&dir).assert();
    let list: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(list[0]["encrypted_to"], serde_json::Value::Null);
    assert_eq!(list[1]["encrypted_to"], serde_json::json!([public]));
    assert_eq!(list[1]["complete"], true);
    // The dry run's --json names the encrypted dump retention would delete next.
    let out = cmd()
        .args(["backup", "--dir"])
        .arg(&dir)
        .args(["--keep", "1", "--dry-run", "--json"])
        .assert()
        .success();
    let plan: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(plan["would_delete"], serde_json::json!([second]));
}

// The encrypting writer, not pg_dump, meets the full disk: the backup still exits 1, names the
// cause, leaves no partial and no dump, and retention (which would make room) never runs.
#[test]
fn full_disk_under_encryption_leaves_no_backup_and_deletes_nothing() {
    let db = source("age_full_disk");
    let tmp = tempfile::tempdir().unwrap();
    let disk = crate::backup::SmallDisk::mount(tmp.path());
    let (_, public) = keygen(tmp.path(), "key.txt");
    let first = backup(&disk.0, &db.url, &["--encrypt-to", &public]);
    db.client()
        .batch_execute(
            "CREATE TABLE noise AS SELECT decode(string_agg(md5(random()::text || i), ''), 'hex') \
             AS b FROM generate_series(1, 40000) i GROUP BY i % 10",
        )
        .unwrap();
    let out = cmd()
        .args(["backup", "--from", &db.url, "--dir"])
        .arg(&disk.0)
        .args(["--encrypt-to", &public, "--keep", "1", "--keep-days", "0"])
        .assert();
    let text = output(&out);
    assert_eq!(out.get_output().status.code(), Some(1), "{text}");
    assert!(
        text.contains("No space left on device") && text.contains("encrypted dump"),
        "{text}"
    );
    let names: Vec<String> = std::fs::read_dir(&disk.0)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(names.len(), 2, "only the first backup: {names:?}");
    assert!(first.exists());
}
