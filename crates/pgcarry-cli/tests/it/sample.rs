//! The built-in sample application, migrated: every key, constraint and index of the source
//! exists, the next INSERT works, and texts, floats, timestamps and JSON equal the source's.

use crate::support::{pgcarry, test_db};
use std::collections::HashMap;

fn count(c: &mut postgres::Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn the_sample_migrates_with_every_constraint_and_identical_values() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("sample.db");
    pgcarry().args(["sample"]).arg(&src).assert().success();
    let db = test_db("sample");
    let report = dir.path().join("report.json");
    pgcarry()
        .current_dir(dir.path())
        .args([
            "migrate",
            src.to_str().unwrap(),
            "--to",
            &db.url,
            "--report",
        ])
        .arg(&report)
        .assert()
        .success();
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    for t in r["tables"].as_array().unwrap() {
        assert_eq!(t["source_rows"], t["rows_written"], "{t}");
        assert_eq!(t["verified"], true, "{t}");
    }

    let mut c = db.client();
    // Keys, uniques, checks and foreign keys of the source.
    let cons: Vec<String> = c
        .query(
            "SELECT conrelid::regclass::text || ':' || contype::text || ':' || pg_get_constraintdef(oid)
             FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND convalidated ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for want in [
        "users:p:PRIMARY KEY (id)",
        "users:u:UNIQUE (telegram_id)",
        "submissions:p:PRIMARY KEY (id)",
        "submissions:f:FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE",
        "assessments:u:UNIQUE (submission_id)",
        "assessments:f:FOREIGN KEY (submission_id) REFERENCES submissions(id) ON DELETE CASCADE",
        "rate_limits:u:UNIQUE (user_id, date)",
        "rate_limits:f:FOREIGN KEY (user_id) REFERENCES users(id)",
    ] {
        assert!(
            cons.iter().any(|c| c == want),
            "missing {want} in {cons:#?}"
        );
    }
    assert_eq!(
        cons.iter()
            .filter(|c| c.starts_with("submissions:c:"))
            .count(),
        2,
        "{cons:#?}"
    );
    let idx: Vec<String> = c
        .query(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for want in [
        "ix_users_username",
        "ix_submissions_user_id",
        "ix_submissions_created_at",
    ] {
        assert!(
            idx.iter().any(|i| i == want),
            "missing index {want}: {idx:?}"
        );
    }
    // Every NOT NULL of the source.
    let src_conn = rusqlite::Connection::open(&src).unwrap();
    let mut not_null = Vec::new();
    for table in ["users", "submissions", "assessments", "rate_limits"] {
        let mut stmt = src_conn
            .prepare(&format!("PRAGMA table_info({table})"))
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, bool>(3)?)))
            .unwrap();
        for row in rows {
            let (col, nn) = row.unwrap();
            if nn {
                not_null.push((table.to_string(), col));
            }
        }
    }
    for (table, col) in &not_null {
        let nullable: String = c
            .query_one(
                "SELECT is_nullable::text FROM information_schema.columns WHERE table_name = $1 AND column_name = $2",
                &[table, col],
            )
            .unwrap()
            .get(0);
        assert_eq!(nullable, "NO", "{table}.{col}");
    }

    // The application's next INSERT without an id works, with the created_at default.
    let id: i32 = c
        .query_one(
            "INSERT INTO users (telegram_id, first_name, is_pro, updated_at)
             VALUES (1, 'New', false, now()) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        i64::from(id),
        count(&mut c, "SELECT max(id)::bigint FROM users")
    );
    assert_eq!(id, 1001);

    // Values equal the source's: texts, floats, timestamps and JSON documents.
    let mut pg: HashMap<i32, (String, f64, String, serde_json::Value)> = HashMap::new();
    for row in c
        .query(
            "SELECT id, feedback, overall_band, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.US'), suggestions::text
             FROM assessments",
            &[],
        )
        .unwrap()
    {
        let doc: String = row.get(4);
        pg.insert(
            row.get(0),
            (row.get(1), row.get(2), row.get(3), serde_json::from_str(&doc).unwrap()),
        );
    }
    let mut stmt = src_conn
        .prepare("SELECT id, feedback, overall_band, created_at, suggestions FROM assessments")
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut n = 0;
    while let Some(r) = rows.next().unwrap() {
        let id: i32 = r.get(0).unwrap();
        let (feedback, band, at, doc) = pg
            .get(&id)
            .unwrap_or_else(|| panic!("assessment {id} missing"));
        assert_eq!(feedback, &r.get::<_, String>(1).unwrap());
        assert_eq!(band.to_bits(), r.get::<_, f64>(2).unwrap().to_bits());
        assert_eq!(at, &r.get::<_, String>(3).unwrap());
        let src_doc: serde_json::Value =
            serde_json::from_str(&r.get::<_, String>(4).unwrap()).unwrap();
        assert_eq!(doc, &src_doc);
        n += 1;
    }
    assert_eq!(n, pg.len());
    assert_eq!(n, 9000);
    let essays_equal = count(
        &mut c,
        "SELECT count(*) FROM submissions WHERE length(essay) > 500",
    );
    assert_eq!(essays_equal, 10_000);
}

#[test]
fn rehearse_on_the_sample_exits_0_and_reports_every_row() {
    let dir = tempfile::tempdir().unwrap();
    // A port asked for with --port (one that was free a moment ago).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = pgcarry()
        .current_dir(dir.path())
        .args(["rehearse", "--sample", "--report", "r.json", "--port"])
        .arg(port.to_string())
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("migrated and verified"), "{stdout}");
    let all = crate::support::output(&out);
    assert!(all.contains(&format!(":{port}/")), "{all}");
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    let tables = r["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 4);
    for t in tables {
        assert_eq!(t["source_rows"], t["rows_written"], "{t}");
    }
}

#[test]
fn rehearse_refuses_a_port_that_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::support::sqlite_fixture(
        dir.path(),
        "a.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY);",
    );
    // The test run's own server holds this port.
    let taken = crate::support::pg().port().to_string();
    let out = pgcarry()
        .current_dir(dir.path())
        .arg("rehearse")
        .arg(&db)
        .args(["--port", &taken])
        .assert()
        .code(1);
    let text = crate::support::output(&out);
    assert!(text.contains(&taken), "{text}");
}
