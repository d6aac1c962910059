//! JSON stores end to end: a chat backend's file store (`data/<user_id>/<conversation>.json`
//! plus per-user usage files), an in-memory store's dump, NDJSON and array files, and the bad
//! files real stores hold. Fixtures are built here; nothing is committed as data.

use crate::support::{archive_entries, count_rows, migrate_cmd, pgcarry, test_db};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

const USERS: [&str; 2] = ["111111111", "222222222"];

pub(crate) fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn conversation_id(u: usize, c: usize) -> String {
    format!("{u:08x}-0000-4000-8000-{c:012x}")
}

/// The chat backend's store: conversations with council-style assistant messages, usage.
pub(crate) fn chat_store(root: &Path) {
    for (u, user) in USERS.iter().enumerate() {
        for c in 0..3 {
            let id = conversation_id(u, c);
            let doc = json!({
                "id": id,
                "user_id": user,
                "title": format!("Conversation {c}"),
                "created_at": format!("2024-05-0{}T10:00:00.123456+02:00", c + 1),
                "messages": [
                    {"role": "user", "content": format!("question {c} \"quoted\" é")},
                    {
                        "role": "assistant",
                        "stage1": [{"model": "openai/gpt", "response": "A"},
                                   {"model": "google/gemini", "response": "B"}],
                        "stage2": [{"model": "openai/gpt", "ranking": "1. A",
                                    "parsed_ranking": ["Response A", "Response B"]}],
                        "stage3": {"model": "chair", "response": "final"},
                        "metadata": {"label_to_model": {"Response A": "openai/gpt"},
                                     "aggregate_rankings": [{"model": "openai/gpt", "average_rank": 1.5}]}
                    }
                ]
            });
            write(
                root,
                &format!("data/{user}/{id}.json"),
                serde_json::to_string_pretty(&doc).unwrap().as_bytes(),
            );
        }
        // A number beyond i64 that a double would round.
        let usage = format!(
            r#"{{"user_id": "{user}", "tier": "free", "daily_used": {u}, "daily_limit": 10,
                "monthly_used": 98765432109876543210987, "monthly_limit": 1000,
                "total_queries": 7, "last_reset_daily": "2024-05-01",
                "last_reset_monthly": "2024-05-01T00:00:00Z", "pro": {}}}"#,
            u == 1
        );
        write(root, &format!("data/{user}/usage.json"), usage.as_bytes());
    }
    write(
        root,
        "users.json",
        br#"[{"id": "111111111", "name": "Ann"}, {"id": "222222222", "name": "Bob"}]"#,
    );
}

/// The in-memory store's dump, an NDJSON file and an array file.
pub(crate) fn dump_store(root: &Path) {
    let dump = r#"{
      "facts": [{"id": 1, "text": "water boils at 100 C", "confidence": 0.1000000000000000000001},
                {"id": 2, "text": "the sky is blue", "confidence": 0.5}],
      "validation_results": [{"id": 10, "fact_id": 1, "valid": true, "detail": {"votes": [1, 2]}},
                             {"id": 11, "fact_id": 2, "valid": false, "detail": null}],
      "api_requests": [{"path": "/facts", "ms": 12, "status": "ok"},
                       {"path": "/validate", "ms": 9, "status": 500}]
    }"#;
    write(root, "store_dump.json", dump.as_bytes());
    write(
        root,
        "events.ndjson",
        b"{\"kind\": \"start\", \"at\": \"2024-05-01 10:00:00\"}\n\n{\"kind\": \"stop\", \"at\": \"2024-05-01 11:00:00\"}\n",
    );
}

/// Every file under `root` with its bytes.
pub(crate) fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.display().to_string(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    let o = a.get_output();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn json_chat_store_and_dump_plan_migrate_rerun_verify() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("store");
    chat_store(&src);
    dump_store(&src);
    let config = dir.path().join("pgcarry.toml");
    std::fs::write(
        &config,
        "[collections.conversations]\npattern = \"data/{user_id}/{id}.json\"\n\
         [collections.usage]\npattern = \"data/{user_id}/usage.json\"\n",
    )
    .unwrap();
    let before = tree(&src);

    let plan = pgcarry()
        .arg("plan")
        .arg(&src)
        .arg("--config")
        .arg(&config)
        .assert()
        .success();
    let plan = stdout(&plan);
    for want in [
        "conversations ← data/{user_id}/{id}.json (6 document(s)); key id",
        "usage ← data/{user_id}/usage.json (2 document(s)); key user_id",
        "facts ← store_dump.json, key \"facts\"",
        "conversations__messages__stage1",
        "conversations_user_id_fkey",
        "validation_results_fact_id_fkey (\"fact_id\") → \"facts\" (\"id\")",
        "conversations__messages_parent_id_fkey (\"parent_id\") → \"conversations\" (\"id\")",
        "conversations_pkey (\"id\")",
        "widened: api_requests.status: values of several kinds (1 integer, 1 string): jsonb",
        "timestamptz",
        "numeric",
        "jsonb",
        "uuid",
    ] {
        assert!(plan.contains(want), "plan lacks {want:?}:\n{plan}");
    }

    let db = test_db("json_chat");
    let migrate = || {
        let mut cmd = migrate_cmd(dir.path(), &src, &db.url);
        cmd.arg("--config").arg(&config);
        cmd
    };
    let out = migrate().assert().code(0);
    assert!(stdout(&out).contains("migrated and verified"));
    let mut c = db.client();
    assert_eq!(count_rows(&mut c, "conversations"), 6);
    assert_eq!(count_rows(&mut c, "conversations__messages"), 12);
    assert_eq!(count_rows(&mut c, "conversations__messages__stage1"), 12);
    let id = conversation_id(1, 2);
    let row = c
        .query_one(
            "SELECT c.user_id, c.created_at = '2024-05-03 08:00:00.123456+00'::timestamptz, \
                    m.position, m.role, s.parsed_ranking = '[\"Response A\", \"Response B\"]'::jsonb \
             FROM conversations c \
             JOIN conversations__messages m ON m.parent_id = c.id \
             JOIN conversations__messages__stage2 s \
               ON s.parent_parent_id = c.id AND s.parent_position = m.position \
             WHERE c.id = $1::text::uuid",
            &[&id],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "222222222");
    assert!(row.get::<_, bool>(1));
    assert_eq!(row.get::<_, i32>(2), 1);
    assert_eq!(row.get::<_, String>(3), "assistant");
    assert!(row.get::<_, bool>(4));
    let row = c
        .query_one(
            "SELECT monthly_used::text, pro, last_reset_daily::text, pg_typeof(monthly_used)::text \
             FROM usage WHERE user_id = '222222222'",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "98765432109876543210987");
    assert!(row.get::<_, bool>(1));
    assert_eq!(row.get::<_, String>(2), "2024-05-01");
    assert_eq!(row.get::<_, String>(3), "numeric");
    let row = c
        .query_one(
            "SELECT confidence::text, v.valid, v.detail__votes::text \
             FROM facts f JOIN validation_results v ON v.fact_id = f.id WHERE f.id = 1",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "0.1000000000000000000001");
    assert!(row.get::<_, bool>(1));
    let votes: Value = serde_json::from_str(row.get(2)).unwrap();
    assert_eq!(votes, json!([1, 2]));
    // Values of different kinds in one field keep every value exactly, as jsonb.
    let statuses: Vec<Value> = c
        .query(
            "SELECT status::text FROM api_requests ORDER BY _position",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(r.get(0)).unwrap())
        .collect();
    assert_eq!(statuses, [json!("ok"), json!(500)]);
    let fks: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' \
             AND conname IN ('conversations_user_id_fkey', 'usage_user_id_fkey', \
                             'validation_results_fact_id_fkey')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(fks, 3);

    // Running again on the unchanged store changes nothing.
    let state = "SELECT table_name, loaded_at::text FROM pgcarry.loaded_tables ORDER BY 1";
    let loaded: Vec<(String, String)> = c
        .query(state, &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    migrate().assert().code(0);
    let again: Vec<(String, String)> = c
        .query(state, &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(loaded, again);
    assert_eq!(count_rows(&mut c, "conversations__messages"), 12);

    pgcarry()
        .arg("verify")
        .arg(&src)
        .args(["--to", &db.url])
        .arg("--config")
        .arg(&config)
        .assert()
        .code(0);
    assert_eq!(before, tree(&src), "the source files were modified");

    // The store grew and documents changed (a new field, a number beyond 32 bits, an array
    // that shrank): the run adds the column, widens the type, upserts by key without
    // duplicates, and replaces the shrunk conversation's rows, so it verifies.
    let user = USERS[0];
    let old = src.join(format!("data/{user}/{}.json", conversation_id(0, 0)));
    let text = std::fs::read_to_string(&old).unwrap();
    std::fs::write(&old, text.replace("Conversation 0", "Renamed")).unwrap();
    let new_id = conversation_id(0, 9);
    let doc = text
        .replacen('{', "{\"archived\": true,", 1)
        .replace(&conversation_id(0, 0), &new_id)
        .replace("Conversation 0", "Added");
    write(&src, &format!("data/{user}/{new_id}.json"), doc.as_bytes());
    let shrunk = src.join(format!("data/{user}/{}.json", conversation_id(0, 1)));
    let mut conv: Value = serde_json::from_slice(&std::fs::read(&shrunk).unwrap()).unwrap();
    conv["messages"].as_array_mut().unwrap().truncate(1);
    std::fs::write(&shrunk, serde_json::to_vec_pretty(&conv).unwrap()).unwrap();
    let usage = src.join(format!("data/{user}/usage.json"));
    let text = std::fs::read_to_string(&usage).unwrap();
    std::fs::write(
        &usage,
        text.replace("\"daily_used\": 0", "\"daily_used\": 3000000000"),
    )
    .unwrap();
    let out = migrate().assert().code(0);
    assert!(
        stdout(&out).contains("migrated and verified"),
        "{}",
        stdout(&out)
    );
    assert_eq!(count_rows(&mut c, "conversations"), 7);
    assert_eq!(count_rows(&mut c, "conversations__messages"), 13);
    assert_eq!(count_rows(&mut c, "conversations__messages__stage1"), 12);
    let titles: Vec<String> = c
        .query(
            "SELECT title FROM conversations WHERE id IN ($1::text::uuid, $2::text::uuid) ORDER BY title",
            &[&conversation_id(0, 0), &new_id],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(titles, ["Added", "Renamed"]);
    let row = c
        .query_one(
            "SELECT u.daily_used, (SELECT count(*) FROM conversations WHERE archived) \
             FROM usage u WHERE u.user_id = $1",
            &[&user],
        )
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 3_000_000_000);
    assert_eq!(row.get::<_, i64>(1), 1);
}

#[test]
fn json_bad_files_are_reported_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("store");
    dump_store(&src);
    write(&src, "broken.json", br#"{"id": 1, "text": "#);
    write(&src, "empty.json", b"");
    write(
        &src,
        "bom.json",
        b"\xEF\xBB\xBF[{\"id\": 7, \"note\": \"with a BOM\"}]",
    );
    write(&src, ".DS_Store", b"\0\0\0\x01Bud1");
    write(&src, "Thumbs.db", b"\xD0\xCF\x11\xE0");
    write(&src, ".cache/x.json", b"{}");
    write(&src, "lines.ndjson", b"{\"a\": 1}\n{\"a\": \n{\"a\": 3}\n");
    let before = tree(&src);

    let plan = pgcarry().arg("plan").arg(&src).assert().success();
    let plan = stdout(&plan);
    for want in [
        "ignored: 3 file(s)",
        "broken.json: not loaded: malformed JSON",
        "empty.json: not loaded: empty file",
        "lines.ndjson: line 2 not loaded: malformed JSON",
    ] {
        assert!(plan.contains(want), "plan lacks {want:?}:\n{plan}");
    }

    let db = test_db("json_bad");
    let report = dir.path().join("report.json");
    let backup = dir.path().join("store.tar.gz");
    let out = migrate_cmd(dir.path(), &src, &db.url)
        .arg("--report")
        .arg(&report)
        .arg("--backup")
        .arg(&backup)
        .assert()
        .code(3);
    let listed: Vec<_> = archive_entries(&backup).into_iter().map(|e| e.0).collect();
    assert!(
        listed.contains(&Path::new("store/broken.json").to_path_buf()),
        "{listed:?}"
    );
    let text = stdout(&out);
    assert!(
        text.contains("3 source file(s) or line(s) not loaded"),
        "{text}"
    );
    assert!(text.contains("broken.json"), "{text}");
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let paths: Vec<&str> = r["files_not_loaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["broken.json", "empty.json", "lines.ndjson"]);
    let out = pgcarry()
        .arg("verify")
        .arg(&src)
        .args(["--to", &db.url])
        .assert()
        .code(3);
    let text = stdout(&out);
    assert!(
        text.contains("empty.json: not loaded: empty file"),
        "{text}"
    );
    assert!(
        text.contains("identical to the source files that could be loaded"),
        "{text}"
    );
    let mut c = db.client();
    assert_eq!(count_rows(&mut c, "facts"), 2);
    assert_eq!(count_rows(&mut c, "lines"), 2);
    let note: String = c
        .query_one("SELECT note FROM bom WHERE id = 7", &[])
        .unwrap()
        .get(0);
    assert_eq!(note, "with a BOM");
    assert_eq!(before, tree(&src), "the source files were modified");
}

#[test]
fn json_rehearse_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("data");
    chat_store(&src);
    let out = pgcarry()
        .current_dir(dir.path())
        .arg("rehearse")
        .arg(&src)
        .assert()
        .code(0);
    assert!(stdout(&out).contains("migrated and verified"));
    // The throw-away server is named too, as migrate names its target.
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("target: postgres@127.0.0.1:") && stderr.contains(", schema public\n"),
        "{stderr}"
    );
}

#[test]
fn json_explicit_sources_and_empty_stores() {
    let dir = tempfile::tempdir().unwrap();
    dump_store(dir.path());
    // One dump file, named explicitly.
    let plan = pgcarry()
        .arg("plan")
        .arg(format!(
            "json:{}",
            dir.path().join("store_dump.json").display()
        ))
        .assert()
        .success();
    let plan = stdout(&plan);
    assert!(plan.contains("validation_results_fact_id_fkey"), "{plan}");
    assert!(!plan.contains("events"), "{plan}");
    // A directory without documents is a usage error, not an empty migration.
    let empty = dir.path().join("empty");
    write(&empty, "notes.txt", b"nothing here");
    let out = pgcarry().arg("plan").arg(&empty).assert().code(2);
    assert!(
        stdout(&out).contains("holds no JSON documents"),
        "{}",
        stdout(&out)
    );
}

/// Writes `bytes` at `root/rel`, where `rel` may hold bytes that are not UTF-8.
fn write_raw(root: &Path, rel: &[u8], bytes: &[u8]) {
    use std::os::unix::ffi::OsStrExt;
    let p = root.join(std::ffi::OsStr::from_bytes(rel));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

// Two files whose names differ only in bytes that are not UTF-8 were both mapped to U+FFFD,
// became one document, and plan, migrate and verify all counted the reduced set.
#[test]
fn json_file_names_that_are_not_utf8_stay_apart() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("store");
    write_raw(&src, b"data/u1/a\xff.json", br#"{"text": "first"}"#);
    write_raw(&src, b"data/u1/a\xfe.json", br#"{"text": "second"}"#);
    write_raw(&src, b"data/u2/b.json", br#"{"text": "third"}"#);
    let plan = pgcarry().arg("plan").arg(&src).assert().success();
    assert!(stdout(&plan).contains("3 document(s)"), "{}", stdout(&plan));

    let db = test_db("json_bytes");
    let out = migrate_cmd(dir.path(), &src, &db.url).assert().code(0);
    assert!(
        stdout(&out).contains("migrated and verified"),
        "{}",
        stdout(&out)
    );
    let mut c = db.client();
    let rows: Vec<(String, String)> = c
        .query("SELECT name, text FROM data ORDER BY text", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    // The name keeps every byte: `\xNN` for each one that is not UTF-8.
    assert_eq!(
        rows,
        [
            ("a\\xff".to_string(), "first".to_string()),
            ("a\\xfe".to_string(), "second".to_string()),
            ("b".to_string(), "third".to_string()),
        ]
    );
    pgcarry()
        .arg("verify")
        .arg(&src)
        .args(["--to", &db.url])
        .assert()
        .code(0);
}

// A store's `users/50.json -> ../outside/secret.json` was loaded, and a link to /etc/passwd
// was read: links out of the store are reported, never read, unless --follow-symlinks.
#[test]
fn json_symlinks_out_of_the_store_are_not_followed() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("store");
    write(&src, "users/1.json", br#"{"id": 1, "name": "Ann"}"#);
    write(&src, "shared/two.json", br#"{"id": 2, "name": "Bob"}"#);
    write(
        &dir.path().join("outside"),
        "secret.json",
        br#"{"id": 50, "name": "s3cret"}"#,
    );
    write(
        &dir.path().join("outside/more"),
        "51.json",
        br#"{"id": 51, "name": "hidden"}"#,
    );
    // Inside the store: read as today.
    symlink("../shared/two.json", src.join("users/2.json")).unwrap();
    // Out of the store: a file, a directory, a system file.
    symlink("../../outside/secret.json", src.join("users/50.json")).unwrap();
    symlink("../outside/more", src.join("more")).unwrap();
    symlink("/etc/passwd", src.join("users/60.json")).unwrap();

    let plan = pgcarry().arg("plan").arg(&src).assert().success();
    let plan = stdout(&plan);
    for want in [
        "users/50.json: not loaded: a symbolic link to a file outside the store",
        "users/60.json: not loaded: a symbolic link to a file outside the store",
        "more: not loaded: a symbolic link to a directory outside the store",
        "--follow-symlinks",
    ] {
        assert!(plan.contains(want), "plan lacks {want:?}:\n{plan}");
    }

    let db = test_db("json_links");
    let backup = dir.path().join("store.tar.gz");
    let out = migrate_cmd(dir.path(), &src, &db.url)
        .arg("--backup")
        .arg(&backup)
        .assert()
        .code(3);
    let text = stdout(&out);
    assert!(text.contains("users/50.json"), "{text}");
    assert!(
        !text.contains("s3cret") && !text.contains("root:"),
        "{text}"
    );
    let mut c = db.client();
    let names: Vec<String> = c
        .query(
            "SELECT name FROM documents WHERE dir1 = 'users' ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, ["Ann", "Bob"]);
    // The backup holds what was migrated: the link inside the store as the file it read,
    // nothing from outside.
    let archived = archive_entries(&backup);
    let names: Vec<String> = archived
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "store/shared/two.json",
            "store/users/1.json",
            "store/users/2.json"
        ]
    );
    assert!(
        archived
            .iter()
            .all(|(_, b)| !b.windows(6).any(|w| w == b"s3cret"))
    );

    // --follow-symlinks reads them all, and archives what it read.
    let db = test_db("json_links_followed");
    let backup = dir.path().join("followed.tar.gz");
    let out = migrate_cmd(dir.path(), &src, &db.url)
        .arg("--follow-symlinks")
        .arg("--backup")
        .arg(&backup)
        .assert()
        .code(3);
    // /etc/passwd is read now, and is no JSON document.
    assert!(
        stdout(&out).contains("users/60.json: not loaded: malformed JSON"),
        "{}",
        stdout(&out)
    );
    let mut c = db.client();
    let per_dir: Vec<(String, i64)> = c
        .query(
            "SELECT dir1, count(*) FROM documents GROUP BY dir1 ORDER BY dir1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        per_dir,
        [
            ("more".into(), 1),
            ("shared".into(), 1),
            ("users".into(), 3)
        ]
    );
    let archived = archive_entries(&backup);
    assert!(
        archived
            .iter()
            .any(|(p, b)| p == Path::new("store/users/50.json")
                && b.windows(6).any(|w| w == b"s3cret")),
        "{:?}",
        archived.iter().map(|e| &e.0).collect::<Vec<_>>()
    );
    assert!(
        archived
            .iter()
            .any(|(p, _)| p == Path::new("store/more/51.json"))
    );
}
