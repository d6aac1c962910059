//! Checks of the generated sample at scale 1: shape, integrity, SQLAlchemy's formats,
//! determinism.

use super::*;
use rusqlite::types::ValueRef;

fn generated(seed: u64) -> (tempfile::TempDir, PathBuf, SampleSummary) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sample.db");
    let summary = generate(&path, &SampleOptions { scale: 1, seed }).expect("generate");
    (dir, path, summary)
}

fn single<T: rusqlite::types::FromSql>(conn: &Connection, sql: &str) -> T {
    conn.query_row(sql, [], |row| row.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every text value of a column (NULLs skipped).
fn texts(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).expect(sql);
    stmt.query_map([], |row| row.get::<_, Option<String>>(0))
        .expect(sql)
        .filter_map(|v| v.expect(sql))
        .collect()
}

/// `YYYY-MM-DD HH:MM:SS.ffffff`, and a real calendar date and time.
fn is_sqlalchemy_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let shape = b.len() == 26
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b' ',
            13 | 16 => c == b':',
            19 => c == b'.',
            _ => c.is_ascii_digit(),
        });
    shape && s.parse::<jiff::civil::DateTime>().is_ok()
}

fn is_date(s: &str) -> bool {
    s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok()
}

/// FNV-1a over every value of every row of every table, in key order, and the schema.
fn content_hash(path: &Path) -> u64 {
    let conn = Connection::open(path).expect("open");
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    };
    for table in [
        "sqlite_schema",
        "users",
        "submissions",
        "assessments",
        "rate_limits",
    ] {
        let order = if table == "sqlite_schema" {
            "name"
        } else {
            "id"
        };
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))
            .expect("prepare");
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).expect("query");
        while let Some(row) = rows.next().expect("row") {
            for i in 0..columns {
                match row.get_ref(i).expect("value") {
                    ValueRef::Null => eat(&[0]),
                    ValueRef::Integer(v) => {
                        eat(&[1]);
                        eat(&v.to_le_bytes());
                    }
                    ValueRef::Real(v) => {
                        eat(&[2]);
                        eat(&v.to_bits().to_le_bytes());
                    }
                    ValueRef::Text(v) => {
                        eat(&[3]);
                        eat(v);
                        eat(&[0xff]);
                    }
                    ValueRef::Blob(v) => {
                        eat(&[4]);
                        eat(v);
                        eat(&[0xff]);
                    }
                }
            }
        }
    }
    hash
}

#[test]
fn sample_scale_1_has_the_contracted_shape_and_formats() {
    let (_dir, path, summary) = generated(DEFAULT_SEED);
    let conn = Connection::open(&path).expect("open");

    let expected = [
        ("users", 1_000),
        ("submissions", 10_000),
        ("assessments", 9_000),
        ("rate_limits", 5_000),
    ];
    for (table, rows) in expected {
        assert_eq!(
            u64::try_from(single::<i64>(
                &conn,
                &format!("SELECT count(*) FROM {table}")
            ))
            .ok(),
            Some(rows),
            "{table}"
        );
        assert!(
            summary.tables.contains(&(table.to_owned(), rows)),
            "{table} in summary"
        );
    }
    assert_eq!(
        summary.bytes,
        std::fs::metadata(&path).expect("metadata").len()
    );
    assert_eq!(single::<String>(&conn, "PRAGMA journal_mode"), "delete");

    // Integrity: SQLite's own checks, foreign keys included.
    assert_eq!(single::<String>(&conn, "PRAGMA integrity_check"), "ok");
    let orphans: i64 = single(&conn, "SELECT count(*) FROM pragma_foreign_key_check");
    assert_eq!(orphans, 0);

    // SQLAlchemy's formats.
    for sql in [
        "SELECT pro_until FROM users",
        "SELECT created_at FROM users",
        "SELECT updated_at FROM users",
        "SELECT created_at FROM submissions",
        "SELECT evaluated_at FROM submissions",
        "SELECT created_at FROM assessments",
    ] {
        let values = texts(&conn, sql);
        assert!(!values.is_empty(), "{sql}");
        if let Some(bad) = values.iter().find(|v| !is_sqlalchemy_datetime(v)) {
            panic!("{sql}: {bad:?} is not SQLAlchemy's datetime format");
        }
    }
    assert!(
        texts(&conn, "SELECT date FROM rate_limits")
            .iter()
            .all(|d| is_date(d))
    );
    let not_text: i64 = single(
        &conn,
        "SELECT (SELECT count(*) FROM users WHERE typeof(created_at) <> 'text' OR typeof(first_name) <> 'text') \
         + (SELECT count(*) FROM submissions WHERE typeof(created_at) <> 'text') \
         + (SELECT count(*) FROM rate_limits WHERE typeof(date) <> 'text')",
    );
    assert_eq!(not_text, 0);
    assert_eq!(
        single::<i64>(
            &conn,
            "SELECT count(*) FROM users WHERE is_pro NOT IN (0, 1) OR typeof(is_pro) <> 'integer'"
        ),
        0
    );
    assert!(single::<i64>(&conn, "SELECT count(*) FROM users WHERE is_pro = 1") > 0);

    // Enums hold their CHECK lists, and the timeline makes sense.
    for (sql, want) in [
        (
            "SELECT count(*) FROM submissions WHERE task_type NOT IN ('TASK_1', 'TASK_2')",
            0,
        ),
        (
            "SELECT count(*) FROM submissions WHERE status NOT IN ('PENDING', 'EVALUATED', 'FAILED')",
            0,
        ),
        (
            "SELECT count(*) FROM submissions WHERE status = 'EVALUATED'",
            9_000,
        ),
        (
            "SELECT count(*) FROM submissions WHERE (status = 'PENDING') <> (evaluated_at IS NULL)",
            0,
        ),
        (
            "SELECT count(*) FROM submissions WHERE evaluated_at <= created_at",
            0,
        ),
        (
            "SELECT count(*) FROM users WHERE updated_at < created_at",
            0,
        ),
        (
            "SELECT count(*) FROM submissions s JOIN users u ON u.id = s.user_id WHERE s.created_at < u.created_at",
            0,
        ),
        (
            "SELECT count(*) FROM assessments a JOIN submissions s ON s.id = a.submission_id WHERE s.status <> 'EVALUATED'",
            0,
        ),
        (
            "SELECT count(*) FROM submissions WHERE word_count NOT BETWEEN 150 AND 320",
            0,
        ),
        (
            "SELECT count(*) FROM users WHERE telegram_id NOT BETWEEN 100000000 AND 9999999999",
            0,
        ),
        (
            "SELECT count(DISTINCT telegram_id) FROM users WHERE telegram_id > 2147483647",
            -1,
        ),
        ("SELECT count(*) FROM rate_limits WHERE count < 1", 0),
    ] {
        let got: i64 = single(&conn, sql);
        if want < 0 {
            assert!(got > 0, "{sql}");
        } else {
            assert_eq!(got, want, "{sql}");
        }
    }
    let average: f64 = single(&conn, "SELECT avg(word_count) FROM submissions");
    assert!(
        (225.0..245.0).contains(&average),
        "average essay of {average} words"
    );
    assert!(single::<i64>(&conn, "SELECT count(*) FROM users WHERE username IS NULL") > 0);
    assert!(
        single::<i64>(
            &conn,
            "SELECT count(*) FROM users WHERE first_name GLOB '*[^ -~]*'"
        ) > 0
    );

    // word_count agrees with the essay, as Python's len(essay.split()) would.
    let mut stmt = conn
        .prepare("SELECT essay, word_count FROM submissions")
        .expect("prepare");
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .expect("query");
    for row in rows {
        let (essay, count) = row.expect("row");
        assert_eq!(
            i64::try_from(essay.split_whitespace().count()).ok(),
            Some(count)
        );
    }

    // Bands in half steps from 4 to 9; the overall band is the IELTS rounding of their mean.
    let mut stmt = conn
        .prepare("SELECT task_achievement, coherence_cohesion, lexical_resource, grammatical_range, overall_band FROM assessments")
        .expect("prepare");
    let rows = stmt
        .query_map([], |r| {
            Ok([
                r.get::<_, f64>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
            ])
        })
        .expect("query");
    for row in rows {
        let bands = row.expect("row");
        for b in bands {
            assert!(
                (4.0..=9.0).contains(&b) && (b * 2.0).fract() == 0.0,
                "band {b}"
            );
        }
        let mean = (bands[0] + bands[1] + bands[2] + bands[3]) / 4.0;
        assert_eq!(bands[4], (mean * 2.0 + 0.5).floor() / 2.0, "{bands:?}");
    }

    // Every JSON document parses, with the shapes the bot writes.
    for doc in texts(&conn, "SELECT suggestions FROM assessments") {
        let value: serde_json::Value = serde_json::from_str(&doc).expect("suggestions parse");
        let list = value.as_array().expect("suggestions is an array");
        assert!((3..=6).contains(&list.len()) && list.iter().all(serde_json::Value::is_string));
        assert!(doc.is_ascii(), "json.dumps escapes non-ASCII: {doc}");
    }
    let justifications = texts(&conn, "SELECT justifications FROM assessments");
    // Justifications arrived with a later version of the bot (March 2026).
    assert!(
        (2_000..6_000).contains(&justifications.len()),
        "{}",
        justifications.len()
    );
    let early: i64 = single(
        &conn,
        "SELECT count(*) FROM assessments WHERE justifications IS NOT NULL AND created_at < '2026-03-01'",
    );
    assert_eq!(early, 0);
    for doc in justifications {
        let value: serde_json::Value = serde_json::from_str(&doc).expect("justifications parse");
        let object = value.as_object().expect("justifications is an object");
        assert_eq!(object.len(), 4);
        assert!(
            object.contains_key("task_achievement") && object.contains_key("grammatical_range")
        );
    }
    let json_valid: i64 = single(
        &conn,
        "SELECT count(*) FROM assessments WHERE NOT json_valid(suggestions) OR NOT json_valid(coalesce(justifications, '{}'))",
    );
    assert_eq!(json_valid, 0);

    // The schema is SQLAlchemy's, word for word.
    let stored = texts(
        &conn,
        "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY rowid",
    );
    let written: Vec<String> = SCHEMA.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(stored, written);
}

/// The content of the default sample at scale 1. The sample is the benchmark workload: if this
/// changes, figures measured before and after no longer compare. Change it only on purpose,
/// and say so in the commit message.
const DEFAULT_SCALE_1_CONTENT: u64 = 0x74d3_57d9_3139_ca78;

#[test]
fn sample_default_content_is_pinned() {
    let (_dir, path, summary) = generated(DEFAULT_SEED);
    let hash = content_hash(&path);
    assert_eq!(
        hash, DEFAULT_SCALE_1_CONTENT,
        "content changed: {hash:#018x} ({} bytes)",
        summary.bytes
    );
}

#[test]
fn sample_is_deterministic_per_seed() {
    let (_a_dir, a, _) = generated(42);
    let (_b_dir, b, _) = generated(42);
    let (_c_dir, c, _) = generated(43);
    let (ha, hb, hc) = (content_hash(&a), content_hash(&b), content_hash(&c));
    assert_eq!(ha, hb, "same seed, same content");
    assert_ne!(ha, hc, "another seed, other content");
}

#[test]
fn sample_refuses_to_overwrite_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("app.db");
    std::fs::write(&path, b"precious").expect("write");
    let err = generate(&path, &SampleOptions::default()).expect_err("must refuse");
    assert!(matches!(err, SampleError::AlreadyExists { .. }), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), b"precious");
}

#[test]
fn sample_rejects_scale_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("none.db");
    let err = generate(&path, &SampleOptions { scale: 0, seed: 1 }).expect_err("must refuse");
    assert!(matches!(err, SampleError::InvalidScale { scale: 0 }));
    assert!(!path.exists());
}
