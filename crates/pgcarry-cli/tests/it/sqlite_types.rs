//! Type decisions on real values: each column lands in the PostgreSQL type that holds every
//! value exactly, and the values read back equal the source's.

use crate::support::{migrate_cmd, pgcarry, sqlite_fixture, test_db};

fn column_types(client: &mut postgres::Client, table: &str) -> Vec<(String, String)> {
    client
        .query(
            "SELECT column_name::text, format_type(a.atttypid, a.atttypmod) \
             FROM information_schema.columns c JOIN pg_attribute a \
               ON a.attrelid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass \
              AND a.attname = c.column_name \
             WHERE c.table_schema = 'public' AND c.table_name = $1 ORDER BY c.ordinal_position",
            &[&table],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[test]
fn each_column_gets_the_type_that_holds_all_its_values() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "types.db",
        r#"
        CREATE TABLE t (
            id INTEGER PRIMARY KEY,
            small SMALLINT, big_in_int INTEGER, plain_int INTEGER,
            r REAL, f FLOAT, d DOUBLE,
            price NUMERIC(10,2), ratio NUMERIC(5,2), exact DECIMAL,
            name VARCHAR(5), code CHAR(3), body TEXT,
            pic BLOB, flag BOOLEAN, not_flag BOOLEAN,
            born DATE, seen DATETIME, seen_tz TIMESTAMP, mixed_tz DATETIME, bad_date DATE,
            doc JSON, dup_doc JSON, bad_doc JSON,
            untyped, anything
        );
        INSERT INTO t VALUES (1, 1, 5000000000, 7, 1.5, -2.5, 1e300, 9.99, 1.234, '12345678901234567890.123456789',
            'abcdefg', 'abc', 'héllo wörld', x'00ff10', 1, 0,
            '2024-02-29', '2024-01-02 03:04:05.123456', '2024-01-02T03:04:05+02:00', '2024-01-02 03:04:05', '',
            '{"a": [1, 2.50, {"b": null}]}', '{"a": 1, "a": 2}', '{"a": 1}',
            42, 'x');
        INSERT INTO t VALUES (2, -3, 1, 8, 2.25, 0.1, -1e-300, 0.99, 2.5, '1',
            'ab', 'xy', '', x'', 0, 2,
            '1999-12-31', '2024-01-02T03:04:05', '2024-01-02 03:04:05Z', '2024-01-02 03:04:05Z', '2024-01-01',
            '[]', '{}', 'not json',
            7, 3.5);
        "#,
    );
    let db = test_db("types");
    migrate_cmd(dir.path(), &src, &db.url).assert().success();
    let mut c = db.client();
    let types = column_types(&mut c, "t");
    let want = [
        ("id", "integer"),
        ("small", "smallint"),
        ("big_in_int", "bigint"),
        ("plain_int", "integer"),
        ("r", "double precision"),
        ("f", "double precision"),
        ("d", "double precision"),
        ("price", "numeric(10,2)"),
        ("ratio", "numeric"), // 1.234 does not fit (5,2): never rounded
        ("exact", "numeric"),
        ("name", "text"), // 'abcdefg' is longer than 5
        ("code", "character varying(3)"),
        ("body", "text"),
        ("pic", "bytea"),
        ("flag", "boolean"),
        ("not_flag", "smallint"),
        ("born", "date"),
        ("seen", "timestamp without time zone"),
        ("seen_tz", "timestamp with time zone"),
        ("mixed_tz", "text"),
        ("bad_date", "text"),
        ("doc", "jsonb"),
        ("dup_doc", "json"),
        ("bad_doc", "text"),
        ("untyped", "integer"),
        ("anything", "text"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(types, want);

    let row = c
        .query_one(
            "SELECT big_in_int, f::text, d, price::text, ratio::text, exact::text, name, code, body, pic,
                    flag, born::text, to_char(seen, 'YYYY-MM-DD HH24:MI:SS.US'),
                    extract(epoch from seen_tz)::bigint, doc::text, dup_doc::text, anything
             FROM t WHERE id = 1",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 5_000_000_000);
    assert_eq!(row.get::<_, String>(1), "-2.5");
    assert_eq!(row.get::<_, f64>(2).to_bits(), 1e300f64.to_bits());
    assert_eq!(row.get::<_, String>(3), "9.99");
    assert_eq!(row.get::<_, String>(4), "1.234");
    // SQLite's NUMERIC affinity already stored this text as the REAL 1.2345678901234567e19;
    // that double is what lands, exactly (its shortest round-trip decimal).
    assert_eq!(row.get::<_, String>(5), "12345678901234567000");
    assert_eq!(row.get::<_, String>(6), "abcdefg");
    assert_eq!(row.get::<_, String>(7), "abc");
    assert_eq!(row.get::<_, String>(8), "héllo wörld");
    assert_eq!(row.get::<_, Vec<u8>>(9), vec![0x00, 0xff, 0x10]);
    assert!(row.get::<_, bool>(10));
    assert_eq!(row.get::<_, String>(11), "2024-02-29");
    assert_eq!(row.get::<_, String>(12), "2024-01-02 03:04:05.123456");
    // 03:04:05+02:00 is 01:04:05 UTC: the offset is kept, never dropped.
    assert_eq!(row.get::<_, i64>(13), 1_704_157_445);
    assert_eq!(row.get::<_, String>(14), r#"{"a": [1, 2.50, {"b": null}]}"#);
    assert_eq!(row.get::<_, String>(15), r#"{"a": 1, "a": 2}"#);
    assert_eq!(row.get::<_, String>(16), "x");
    let row2 = c
        .query_one(
            "SELECT f, d, anything, exact::text, pic FROM t WHERE id = 2",
            &[],
        )
        .unwrap();
    assert_eq!(row2.get::<_, f64>(0).to_bits(), 0.1f64.to_bits());
    assert_eq!(row2.get::<_, f64>(1).to_bits(), (-1e-300f64).to_bits());
    assert_eq!(row2.get::<_, String>(2), "3.5");
    assert_eq!(row2.get::<_, String>(3), "1");
    assert_eq!(row2.get::<_, Vec<u8>>(4), Vec::<u8>::new());
}

#[test]
fn plan_explains_every_decision_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "plan.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(3), at DATETIME);
         INSERT INTO t VALUES (1, 'abcd', '2024-01-01 00:00:00'), (2, 'x', 'yesterday');",
    );
    let out = pgcarry()
        .current_dir(dir.path())
        .args(["plan", src.to_str().unwrap(), "--sql"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("never enforced 3"), "{text}");
    assert!(text.contains("\"yesterday\""), "{text}");
    assert!(text.contains("CREATE TABLE \"public\".\"t\""), "{text}");
    assert!(text.contains("PRIMARY KEY (\"id\")"), "{text}");
    let json = pgcarry()
        .current_dir(dir.path())
        .args(["plan", src.to_str().unwrap(), "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let plan: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(plan["tables"][0]["columns"][2]["pg_type"]["type"], "text");
}

#[test]
fn infinite_reals_land_as_infinity_in_double_and_numeric() {
    // SQLite stores NaN as NULL, and an integral -0.0 as the integer 0: those never reach us.
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "inf.db",
        "CREATE TABLE m (id INTEGER PRIMARY KEY, r REAL, n NUMERIC(10,2));
         INSERT INTO m VALUES (1, 9e999, 1.25), (2, -9e999, -9e999), (3, 1e-300, 2);",
    );
    let db = test_db("infinity");
    migrate_cmd(dir.path(), &src, &db.url).assert().success();
    let mut c = db.client();
    let types = column_types(&mut c, "m");
    assert_eq!(types[1].1, "double precision");
    assert_eq!(
        types[2].1, "numeric",
        "NUMERIC(10,2) cannot hold -Infinity: unconstrained"
    );
    let rows: Vec<(String, String)> = c
        .query("SELECT r::text, n::text FROM m ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        [
            ("Infinity".to_string(), "1.25".to_string()),
            ("-Infinity".to_string(), "-Infinity".to_string()),
            ("1e-300".to_string(), "2".to_string()),
        ]
    );
}

#[test]
fn money_kept_exactly_as_text_as_numeric_or_as_cents() {
    // Apps keep money as text, as MONEY/DECIMAL (NUMERIC affinity: SQLite stores '12.50' as
    // the REAL 12.5 before we ever see it) or as integer cents. Each lands without rounding.
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "money.db",
        "CREATE TABLE p (id INTEGER PRIMARY KEY, amount_text TEXT, amount MONEY, cents INTEGER,
             price DECIMAL(10,2));
         INSERT INTO p VALUES (1, '12.50', '12.50', 1250, '12.50'),
             (2, '$1,234.00', '0.10', 10, '0.10'), (3, '0.10', 3, 300, 3);",
    );
    let db = test_db("money");
    migrate_cmd(dir.path(), &src, &db.url).assert().success();
    let mut c = db.client();
    let types: Vec<String> = column_types(&mut c, "p")
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(
        types,
        ["integer", "text", "numeric", "integer", "numeric(10,2)"]
    );
    let rows: Vec<(String, String, i32, String)> = c
        .query(
            "SELECT amount_text, amount::text, cents, price::text FROM p ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let row = |a: &str, b: &str, c: i32, d: &str| (a.to_string(), b.to_string(), c, d.to_string());
    assert_eq!(
        rows,
        [
            row("12.50", "12.5", 1250, "12.50"),
            row("$1,234.00", "0.1", 10, "0.10"),
            row("0.10", "3", 300, "3.00"),
        ]
    );
}
