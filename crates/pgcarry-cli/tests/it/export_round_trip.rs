//! The round trip (issue 14, item 4): `migrate A.db`, then `export B.db`, gives a B whose
//! schema is A's and whose every value has A's storage class and bytes — on the corpus and on
//! a file whose values are written the many ways applications write them.

use crate::support::{migrate_cmd, output, pgcarry, sqlite_fixture, test_db};
use std::path::{Path, PathBuf};

/// Every schema object of a file: type, name, table, SQL.
fn schema(path: &Path) -> Vec<(String, String, String, Option<String>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The tables (and virtual tables) whose rows are the application's.
fn data_tables(path: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', \
             'virtual') AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Every row of a table as (storage class, bytes) per value, sorted.
fn rows(path: &Path, table: &str) -> Vec<Vec<(String, Vec<u8>)>> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM \"{}\"", table.replace('"', "\"\"")))
        .unwrap();
    let n = stmt.column_count();
    let mut out: Vec<Vec<(String, Vec<u8>)>> = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| {
                    use rusqlite::types::ValueRef::*;
                    Ok(match r.get_ref(i)? {
                        Null => ("null".to_string(), Vec::new()),
                        Integer(v) => ("integer".to_string(), v.to_be_bytes().to_vec()),
                        Real(v) => ("real".to_string(), v.to_bits().to_be_bytes().to_vec()),
                        Text(t) => ("text".to_string(), t.to_vec()),
                        Blob(b) => ("blob".to_string(), b.to_vec()),
                    })
                })
                .collect()
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    out.sort();
    out
}

/// Migrates `a` into a fresh database, exports it to `B.db` and asserts B is A.
fn round_trip(dir: &Path, a: &Path, name: &str) -> PathBuf {
    let db = test_db(name);
    migrate_cmd(dir, a, &db.url).assert().code(0);
    std::fs::write(dir.join(format!("{name}.url")), &db.url).unwrap();
    let b = dir.join(format!("{name}.back.db"));
    let run = pgcarry()
        .current_dir(dir)
        .args(["export", "--from", &db.url])
        .arg(&b)
        .assert()
        .code(0);
    let text = output(&run);
    assert!(text.contains("exported and verified"), "{text}");
    assert_eq!(schema(&b), schema(a), "{name}: the schema is the source's");
    let tables = data_tables(a);
    assert_eq!(data_tables(&b), tables);
    for t in &tables {
        assert_eq!(rows(&b, t), rows(a, t), "{name}: table {t}");
    }
    b
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus")
        .join(name)
}

#[test]
fn the_corpus_comes_back_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "chinook.sqlite",
        "chinook_autoincrement.sqlite",
        "northwind.sqlite",
    ] {
        let a = corpus(file);
        assert!(a.exists(), "corpus file {} is missing", a.display());
        round_trip(dir.path(), &a, &file.replace('.', "_"));
    }
}

// The sample application writes JSON as Python does (escaped non-ASCII, its own key order):
// `jsonb` keeps neither, the recorded form gives both back.
#[test]
fn the_sample_application_comes_back_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("sample.db");
    pgcarry().args(["sample"]).arg(&a).assert().success();
    round_trip(dir.path(), &a, "sample_round_trip");
}

#[test]
fn values_come_back_in_the_form_the_application_wrote_them() {
    let dir = tempfile::tempdir().unwrap();
    let a = sqlite_fixture(
        dir.path(),
        "app.db",
        "CREATE TABLE users (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             email TEXT NOT NULL COLLATE NOCASE UNIQUE,
             is_admin BOOLEAN NOT NULL DEFAULT 0,
             active BOOLEAN,
             verified BOOL,
             created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
             seen TIMESTAMP,
             logged DATETIME,
             stamp DATETIME,
             jd DATE,
             token UUID,
             ext_id UUID,
             price NUMERIC(10,3),
             amount DECIMAL,
             ratio REAL,
             born DATE,
             note TEXT
         );
         CREATE INDEX users_by_created ON users (created_at DESC);
         INSERT INTO users (email, is_admin, active, verified, created_at, seen, logged, stamp,
                            jd, token, ext_id, price, amount, ratio, born, note) VALUES
           ('a@x.org', 1, 'true', 'Y', '2024-01-02 03:04:05', '2024-01-02T03:04:05.123Z',
            '2024-01-02 03:04:05.678 +00:00', 1704164645, 2460311.5,
            X'0102030405060708090a0b0c0d0e0f10', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
            '19.990', 7, 0.1, '1990-05-06', 'héllo'),
           ('b@x.org', 0, 'false', 'N', '2024-01-02 03:04:05.250000',
            '2024-02-03T00:00:00.000Z', '2024-02-03 00:00:00.000 +00:00', 1704164646,
            2460312.25, X'1102030405060708090a0b0c0d0e0f10',
            'B0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12', '0.500', 12345678901, 2.5, '2000-01-01',
            NULL);
         DELETE FROM users WHERE id = 2;
         INSERT INTO users (email, created_at) VALUES ('c@x.org', '2025-06-07 08:09:10');
         CREATE TABLE tags (user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                            tag TEXT NOT NULL COLLATE NOCASE,
                            PRIMARY KEY (user_id, tag)) WITHOUT ROWID;
         INSERT INTO tags VALUES (1, 'Admin'), (3, 'new');
         CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
         INSERT INTO posts VALUES (1, 'Hello world', 'first post'), (2, 'Other', NULL);
         CREATE VIRTUAL TABLE posts_fts USING fts5(title, body, content='posts',
                                                   content_rowid='id');
         INSERT INTO posts_fts (posts_fts) VALUES ('rebuild');
         CREATE TRIGGER posts_ai AFTER INSERT ON posts BEGIN
             INSERT INTO posts_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
         END;
         CREATE VIRTUAL TABLE notes USING fts5(text);
         INSERT INTO notes (rowid, text) VALUES (5, 'kept only here');
         CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1);
         INSERT INTO boxes VALUES (1, 0.1, 2.5);
         CREATE VIEW admins AS SELECT id, email FROM users WHERE is_admin = 1;",
    );
    let b = round_trip(dir.path(), &a, "formats");
    // The application goes on in B as in A: the next id, NOCASE, the FTS index, the trigger.
    let conn = rusqlite::Connection::open(&b).unwrap();
    conn.execute("INSERT INTO users (email) VALUES ('d@x.org')", [])
        .unwrap();
    assert_eq!(conn.last_insert_rowid(), 4);
    assert!(
        conn.execute("INSERT INTO users (email) VALUES ('A@X.ORG')", [])
            .is_err()
    );
    conn.execute(
        "INSERT INTO posts VALUES (3, 'Third', 'searchable words')",
        [],
    )
    .unwrap();
    let hits: i64 = conn
        .query_row(
            "SELECT count(*) FROM posts_fts WHERE posts_fts MATCH 'searchable OR hello'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(hits, 2);
    let admins: i64 = conn
        .query_row("SELECT count(*) FROM admins", [], |r| r.get(0))
        .unwrap();
    assert_eq!(admins, 1);

    // A part of it: the view over a table left out is not created (it could not work).
    let part = dir.path().join("part.db");
    let db_url = std::fs::read_to_string(dir.path().join("formats.url")).unwrap();
    pgcarry()
        .current_dir(dir.path())
        .args(["export", "--from", &db_url, "--tables", "posts"])
        .arg(&part)
        .assert()
        .code(0);
    let objects: Vec<String> = rusqlite::Connection::open(&part)
        .unwrap()
        .prepare("SELECT name FROM sqlite_schema WHERE type IN ('view', 'trigger') ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        objects,
        ["posts_ai"],
        "posts' own trigger, not the view over users"
    );
}

mod property {
    //! Random tables through the round trip: every column written in one style, as an
    //! application writes it (a timestamp form, a boolean spelling, a UUID as blob or text),
    //! values random. `migrate` then `export` must give back every value's storage class and
    //! bytes. Few cases from a fixed seed (`PROPTEST_CASES`, `PROPTEST_RNG_SEED` override).

    use super::round_trip;
    use proptest::prelude::*;
    use proptest::test_runner::RngSeed;
    use rusqlite::types::Value;

    fn config() -> ProptestConfig {
        let mut config = ProptestConfig::default();
        if std::env::var_os("PROPTEST_CASES").is_none() {
            config.cases = 6;
        }
        if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
            config.rng_seed = RngSeed::Fixed(14);
        }
        config.max_shrink_iters = 16;
        config
    }

    /// How the application writes a column's values.
    #[derive(Debug, Clone)]
    struct Styles {
        /// Separator, fraction style (None: Python's none-or-six; Some(n): always n digits),
        /// zone suffix.
        sep: char,
        frac: Option<usize>,
        zone: &'static str,
        /// (true, false) spellings; None: 0/1 integers.
        spelling: Option<(&'static str, &'static str)>,
        uuid_blob: bool,
        uuid_upper: bool,
        /// JSON written compact (`{"a":1}`) or spaced as PostgreSQL prints it.
        json_compact: bool,
    }

    fn styles() -> impl Strategy<Value = Styles> {
        (
            prop_oneof![Just(' '), Just('T')],
            prop_oneof![Just(None), (0usize..=6).prop_map(Some)],
            prop_oneof![Just(""), Just("Z"), Just("+00:00")],
            prop_oneof![
                Just(None),
                Just(Some(("true", "false"))),
                Just(Some(("t", "f"))),
                Just(Some(("Y", "N")))
            ],
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(sep, frac, zone, spelling, uuid_blob, uuid_upper, json_compact)| Styles {
                    sep,
                    frac,
                    zone,
                    spelling,
                    uuid_blob,
                    uuid_upper,
                    json_compact,
                },
            )
    }

    /// A row's raw material: integer, double, text, blob, instant (seconds, micros), flag,
    /// UUID bytes, cents.
    type Raw = (
        Option<i64>,
        Option<f64>,
        Option<String>,
        Option<Vec<u8>>,
        Option<(i64, u32)>,
        Option<bool>,
        Option<[u8; 16]>,
        Option<i64>,
    );

    fn raw() -> impl Strategy<Value = Raw> {
        (
            proptest::option::of(any::<i64>()),
            proptest::option::of(any::<f64>().prop_filter("finite", |f| f.is_finite())),
            proptest::option::of(any::<String>().prop_map(|s| s.replace('\0', ""))),
            proptest::option::of(prop::collection::vec(any::<u8>(), 0..20)),
            // 1980..2100, whole seconds and microseconds.
            proptest::option::of((315_532_800i64..4_102_444_800, 0u32..1_000_000)),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<[u8; 16]>()),
            proptest::option::of(-99_999_999i64..99_999_999),
        )
    }

    fn timestamp(st: &Styles, secs: i64, micros: u32) -> String {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Civil date from days since 1970 (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        let base = format!(
            "{y:04}-{m:02}-{d:02}{}{:02}:{:02}:{:02}",
            st.sep,
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        );
        let frac = match st.frac {
            None if micros == 0 => String::new(),
            None => format!(".{micros:06}"),
            Some(0) => String::new(),
            Some(n) => format!(".{}", &format!("{micros:06}")[..n]),
        };
        format!("{base}{frac}{}", st.zone)
    }

    fn values(st: &Styles, r: &Raw) -> Vec<Value> {
        let (i, f, s, b, at, flag, uuid, cents) = r.clone();
        let opt = |v: Option<Value>| v.unwrap_or(Value::Null);
        vec![
            opt(i.map(Value::Integer)),
            opt(f.map(Value::Real)),
            opt(s.map(Value::Text)),
            opt(b.map(Value::Blob)),
            opt(at.map(|(secs, us)| Value::Text(timestamp(st, secs, us)))),
            opt(flag.map(|v| match st.spelling {
                None => Value::Integer(i64::from(v)),
                Some((yes, no)) => Value::Text(if v { yes } else { no }.to_string()),
            })),
            opt(uuid.map(|u| {
                if st.uuid_blob {
                    Value::Blob(u.to_vec())
                } else {
                    let hex: String = u.iter().map(|x| format!("{x:02x}")).collect();
                    let t = format!(
                        "{}-{}-{}-{}-{}",
                        &hex[..8],
                        &hex[8..12],
                        &hex[12..16],
                        &hex[16..20],
                        &hex[20..]
                    );
                    Value::Text(if st.uuid_upper { t.to_uppercase() } else { t })
                }
            })),
            #[allow(clippy::cast_precision_loss)]
            opt(cents.map(|c| Value::Real(c as f64 / 100.0))),
            document(st, r),
        ]
    }

    /// A JSON object in the application's key order (`name` before `n`; either may be
    /// absent), compact or spaced as the table's style says.
    fn document(st: &Styles, r: &Raw) -> Value {
        let (colon, comma) = if st.json_compact {
            (":", ",")
        } else {
            (": ", ", ")
        };
        let mut members = Vec::new();
        if let Some(s) = &r.2 {
            members.push(format!(
                "\"name\"{colon}{}",
                serde_json::to_string(s).unwrap()
            ));
        }
        if let Some(i) = r.0 {
            members.push(format!("\"n\"{colon}{i}"));
        }
        Value::Text(format!("{{{}}}", members.join(comma)))
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn random_tables_come_back_byte_for_byte(
            st in styles(),
            rows in prop::collection::vec(raw(), 1..25),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let a = dir.path().join("random.db");
            let conn = rusqlite::Connection::open(&a).unwrap();
            conn.execute_batch(
                "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, i INTEGER, r REAL, s TEXT,
                                 b BLOB, at DATETIME, flag BOOLEAN, u UUID, price NUMERIC(12,2),
                                 doc JSON);
                 CREATE INDEX t_at ON t (at);",
            )
            .unwrap();
            for r in &rows {
                conn.execute(
                    "INSERT INTO t (i, r, s, b, at, flag, u, price, doc) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rusqlite::params_from_iter(values(&st, r)),
                )
                .unwrap();
            }
            drop(conn);
            round_trip(dir.path(), &a, "random_round_trip");
        }
    }
}
