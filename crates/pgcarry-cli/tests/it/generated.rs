//! Generated columns: computed by PostgreSQL where the expression means the same there, kept as
//! plain columns with SQLite's values (and a warning) where it does not — verified either way.

use crate::fidelity::{column_types, migrate, plan_text, texts};
use crate::support::{pgcarry, sqlite_fixture, test_db};

#[test]
fn generated_columns_are_computed_by_postgresql_where_the_expression_translates() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(
        dir.path(),
        "generated.db",
        "CREATE TABLE line (id INTEGER PRIMARY KEY, price REAL NOT NULL, qty INTEGER NOT NULL,
             first TEXT, last TEXT, a INTEGER, b INTEGER,
             total REAL GENERATED ALWAYS AS (price * qty) STORED,
             full_name TEXT AS (first || ' ' || last),
             ratio INTEGER AS (a / b) VIRTUAL,
             label TEXT AS (CAST(a AS TEXT)),
             twice REAL AS (total * 2));
         INSERT INTO line (id, price, qty, first, last, a, b) VALUES
             (1, 2.5, 4, 'Ada', 'Lovelace', 7, 2),
             (2, 0.1, 3, 'Alan', NULL, -7, 2),
             (3, 1e300, 1, NULL, 'x', 5, 0);",
    );
    let plan = plan_text(dir.path(), &src);
    assert!(
        plan.contains("\"total\" double precision GENERATED ALWAYS AS"),
        "{plan}"
    );
    assert!(plan.contains("it uses CAST"), "{plan}");
    assert!(plan.contains("reads the generated column total"), "{plan}");

    let db = test_db("generated");
    // Exit 0: loaded and verified, the computed values hashed against SQLite's.
    migrate(dir.path(), &src, &db.url).success();
    let mut c = db.client();
    let generated = texts(
        &mut c,
        "SELECT attname::text FROM pg_attribute WHERE attrelid = 'line'::regclass \
         AND attgenerated = 's' ORDER BY attnum",
    );
    let names: Vec<&str> = generated.iter().flatten().map(String::as_str).collect();
    assert_eq!(names, ["total", "full_name", "ratio"]);
    let types = column_types(&mut c, "line");
    assert_eq!(types[7], ("total".into(), "double precision".into()));
    let rows = c
        .query(
            "SELECT total, full_name, ratio, label, twice FROM line ORDER BY id",
            &[],
        )
        .unwrap();
    let total: Vec<f64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(total, [10.0, 0.1 * 3.0, 1e300]);
    let full: Vec<Option<String>> = rows.iter().map(|r| r.get(1)).collect();
    assert_eq!(full, [Some("Ada Lovelace".into()), None, None]);
    // -7 / 2 truncates toward zero in both; 5 / 0 is NULL in SQLite, and so it stays.
    let ratio: Vec<Option<i32>> = rows.iter().map(|r| r.get(2)).collect();
    assert_eq!(ratio, [Some(3), Some(-3), None]);
    let label: Vec<Option<String>> = rows.iter().map(|r| r.get(3)).collect();
    assert_eq!(
        label,
        [Some("7".into()), Some("-7".into()), Some("5".into())]
    );

    // The standalone proof agrees: what PostgreSQL computes is what SQLite holds.
    pgcarry()
        .current_dir(dir.path())
        .args(["verify", src.to_str().unwrap(), "--to", &db.url])
        .assert()
        .success();

    // The application's next row is computed by PostgreSQL.
    let row = c
        .query_one(
            "INSERT INTO line (id, price, qty, first, last, a, b, label, twice) \
             VALUES (4, 3, 3, 'Grace', 'Hopper', 1, 1, '1', 18) RETURNING total, full_name",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, f64>(0), 9.0);
    assert_eq!(row.get::<_, String>(1), "Grace Hopper");
}
