//! The whole route as a property: random SQLite values (every storage class, NULLs, extremes,
//! unicode, nested JSON) are migrated into the test PostgreSQL, and `pgcarry verify` then finds
//! the target identical to the source (exit 0). Few cases with a fixed seed, so the run takes
//! seconds and fails the same way twice; `PROPTEST_CASES` and `PROPTEST_RNG_SEED` override.

use crate::support::{migrate_cmd, pgcarry, test_db};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rusqlite::types::Value;

const SCHEMA: &str = "CREATE TABLE t (
    id INTEGER PRIMARY KEY,
    i INTEGER,
    r REAL,
    s TEXT,
    b BLOB,
    n NUMERIC,
    at DATETIME,
    flag BOOLEAN,
    doc JSON
)";

/// 12 cases from a fixed seed, unless the `PROPTEST_*` variables say otherwise; shrinking
/// bounded, since every step migrates a database.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 12;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(11);
    }
    if std::env::var_os("PROPTEST_MAX_SHRINK_ITERS").is_none() {
        config.max_shrink_iters = 32;
    }
    config
}

fn maybe(v: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    prop_oneof![1 => Just(Value::Null), 4 => v]
}

/// Text PostgreSQL can hold: any characters but NUL.
fn text() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| s.replace('\0', ""))
}

/// A number for a NUMERIC column: an integer, a double, or long decimal text (which SQLite's
/// NUMERIC affinity stores as the nearest double, as it would for an application).
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Integer),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::Real),
        ("-?[1-9][0-9]{20,30}\\.[0-9]{1,12}").prop_map(Value::Text),
    ]
}

/// An ISO date and time without offset, with 0 to 6 fraction digits.
fn datetime() -> impl Strategy<Value = Value> {
    (
        1i32..=9999,
        1u8..=12,
        1u8..=28,
        0u8..24,
        0u8..60,
        0u8..60,
        "(\\.[0-9]{1,6})?",
    )
        .prop_map(|(y, mo, d, h, mi, s, frac)| {
            Value::Text(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}{frac}"))
        })
}

/// A JSON document jsonb can hold (no `\u0000`, no repeated keys).
fn json() -> impl Strategy<Value = Value> {
    use serde_json::Value as J;
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(J::from),
        text().prop_map(J::String),
    ];
    let doc = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
            prop::collection::vec((text(), inner), 0..4)
                .prop_map(|members| J::Object(members.into_iter().collect())),
        ]
    });
    doc.prop_map(|d| Value::Text(d.to_string()))
}

fn row() -> impl Strategy<Value = Vec<Value>> {
    (
        maybe(any::<i64>().prop_map(Value::Integer)),
        // SQLite stores NaN as NULL; infinities are kept.
        maybe(
            any::<f64>()
                .prop_filter("not NaN", |f| !f.is_nan())
                .prop_map(Value::Real),
        ),
        maybe(text().prop_map(Value::Text)),
        maybe(prop::collection::vec(any::<u8>(), 0..24).prop_map(Value::Blob)),
        maybe(number()),
        maybe(datetime()),
        maybe((0i64..=1).prop_map(Value::Integer)),
        maybe(json()),
    )
        .prop_map(|(i, r, s, b, n, at, flag, doc)| vec![i, r, s, b, n, at, flag, doc])
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_sqlite_values_migrate_and_verify(rows in prop::collection::vec(row(), 1..30)) {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("random.db");
        let sqlite = rusqlite::Connection::open(&src).unwrap();
        sqlite.execute_batch(SCHEMA).unwrap();
        for row in &rows {
            sqlite
                .execute(
                    "INSERT INTO t (i, r, s, b, n, at, flag, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rusqlite::params_from_iter(row),
                )
                .unwrap();
        }
        drop(sqlite);
        let db = test_db("round_trip");
        let out = migrate_cmd(dir.path(), &src, &db.url).output().unwrap();
        prop_assert_eq!(
            out.status.code(),
            Some(0),
            "migrate:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let out = pgcarry()
            .current_dir(dir.path())
            .arg("verify")
            .arg(&src)
            .args(["--to", &db.url])
            .output()
            .unwrap();
        prop_assert_eq!(
            out.status.code(),
            Some(0),
            "verify:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
