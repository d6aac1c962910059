use super::*;

/// Columns of a test table: source name (any case) -> target name and type.
fn columns(name: &str) -> Option<(String, PgType)> {
    let (target, ty) = match name.to_ascii_lowercase().as_str() {
        "a" => ("a", PgType::BigInt),
        "b" => ("b", PgType::BigInt),
        "price" => (
            "price",
            PgType::Numeric {
                precision_scale: None,
            },
        ),
        "ratio" => ("ratio", PgType::DoublePrecision),
        "name" => ("name", PgType::Text),
        "is_pro" => ("is_pro", PgType::Boolean),
        "created" => ("created", PgType::Timestamp),
        "order" => ("order", PgType::BigInt),
        "a \"b\"" => ("a \"b\"", PgType::Text),
        "my col" => ("My Col", PgType::Integer),
        _ => return None,
    };
    Some((target.to_string(), ty))
}

fn ok(sqlite: &str) -> String {
    let ctx = ExprContext { columns: &columns };
    translate_expr(sqlite, &ctx).unwrap_or_else(|e| panic!("{sqlite}: {e}"))
}

fn refused(sqlite: &str) -> String {
    let ctx = ExprContext { columns: &columns };
    match translate_expr(sqlite, &ctx) {
        Ok(pg) => panic!("{sqlite} translated to {pg}, expected a refusal"),
        Err(e) => e.reason,
    }
}

#[test]
fn identifiers_in_any_quoting_map_through_the_context() {
    assert_eq!(ok("A"), r#""a""#);
    assert_eq!(ok(r#""order" > 0"#), r#""order" > 0"#);
    assert_eq!(ok("[my col] = 1"), r#""My Col" = 1"#);
    assert_eq!(ok("`MY COL` = 1"), r#""My Col" = 1"#);
    assert_eq!(ok(r#""a ""b""" = 'x'"#), r#""a ""b""" = 'x'"#);
    assert_eq!(ok("t.a = 1"), r#""a" = 1"#);
    assert!(refused("missing = 1").contains("unknown column `missing`"));
    assert!(refused("[missing] = 1").contains("unknown column `missing`"));
}

/// SQLite reads a double-quoted name that is no column as a string (its legacy "DQS").
#[test]
fn unknown_double_quoted_names_are_strings() {
    assert_eq!(
        ok(r#"name IN ("active", "banned")"#),
        r#""name" IN ('active', 'banned')"#
    );
    assert_eq!(ok(r#""name" = "x""#), r#""name" = 'x'"#);
    assert_eq!(ok(r#""is_pro" = 1"#), r#""is_pro" = true"#);
    assert_eq!(ok(r#""name" < 'm'"#), r#""name" < 'm' COLLATE "C""#);
}

#[test]
fn literals() {
    assert_eq!(ok("name = 'it''s'"), r#""name" = 'it''s'"#);
    assert_eq!(ok("a = 0x10"), r#""a" = 16"#);
    assert_eq!(ok("a = -1.5e3"), r#""a" = -1.5e3"#);
    assert_eq!(ok("X'0A'"), r"'\x0a'::bytea");
    assert_eq!(ok("a IS NULL"), r#""a" IS NULL"#);
    assert_eq!(ok("- -1"), "-(-1)");
}

#[test]
fn operators_are_parenthesised_for_postgres_precedence() {
    assert_eq!(ok("a == 1"), r#""a" = 1"#);
    assert_eq!(ok("a != 1 AND b <> 2"), r#"("a" <> 1) AND ("b" <> 2)"#);
    assert_eq!(
        ok("a = 1 OR b = 2 AND a < b"),
        r#"("a" = 1) OR (("b" = 2) AND ("a" < "b"))"#
    );
    assert_eq!(ok("a + b * 2 > 3"), r#"("a" + ("b" * 2)) > 3"#);
    assert_eq!(ok("name || 'x' = 'ax'"), r#"("name" || 'x') = 'ax'"#);
    assert_eq!(ok("NOT (a > 1)"), r#"NOT ("a" > 1)"#);
    assert_eq!(ok("((a)) > ((1))"), r#""a" > 1"#);
    assert_eq!(ok("a & 4 = 4"), r#"("a" & 4) = 4"#);
    // Northwind's CHECK.
    let discount = |n: &str| Some((n.to_string(), PgType::DoublePrecision));
    let ctx = ExprContext { columns: &discount };
    assert_eq!(
        translate_expr("[Discount]>=(0) AND [Discount]<=(1)", &ctx).unwrap(),
        r#"("Discount" >= 0) AND ("Discount" <= 1)"#
    );
}

#[test]
fn null_tests_and_is() {
    assert_eq!(ok("a ISNULL"), r#""a" IS NULL"#);
    assert_eq!(ok("a NOTNULL"), r#""a" IS NOT NULL"#);
    assert_eq!(ok("a NOT NULL"), r#""a" IS NOT NULL"#);
    assert_eq!(ok("a IS b"), r#""a" IS NOT DISTINCT FROM "b""#);
    assert_eq!(ok("a IS NOT b"), r#""a" IS DISTINCT FROM "b""#);
    assert_eq!(
        ok("a IS NOT DISTINCT FROM 3"),
        r#""a" IS NOT DISTINCT FROM 3"#
    );
    assert_eq!(ok("is_pro IS TRUE"), r#""is_pro" IS true"#);
}

#[test]
fn in_between_case() {
    assert_eq!(ok("a IN (1, 2, 3)"), r#""a" IN (1, 2, 3)"#);
    assert_eq!(ok("name NOT IN ('x', 'y')"), r#""name" NOT IN ('x', 'y')"#);
    assert_eq!(ok("a IN ()"), "false");
    assert_eq!(
        ok("a BETWEEN 1 AND b + 1"),
        r#""a" BETWEEN 1 AND ("b" + 1)"#
    );
    assert_eq!(ok("a NOT BETWEEN -1 AND 1"), r#""a" NOT BETWEEN -1 AND 1"#);
    assert_eq!(
        ok("CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END = name"),
        r#"CASE WHEN "a" > 0 THEN 'pos' WHEN "a" < 0 THEN 'neg' ELSE 'zero' END = "name""#
    );
    assert_eq!(
        ok("CASE a WHEN 1 THEN 2 END"),
        r#"CASE "a" WHEN 1 THEN 2 END"#
    );
}

#[test]
fn text_ordering_is_bytewise_like_sqlite() {
    assert_eq!(ok("name < 'm'"), r#""name" < 'm' COLLATE "C""#);
    assert_eq!(
        ok("name BETWEEN 'a' AND 'm'"),
        r#"("name" COLLATE "C") BETWEEN 'a' AND 'm'"#
    );
    assert_eq!(ok("name = 'M'"), r#""name" = 'M'"#);
    assert_eq!(ok("'a' < name"), r#"'a' < "name" COLLATE "C""#);
    assert_eq!(ok("a < '5'"), r#""a" < '5'"#);
    assert_eq!(
        ok("name COLLATE BINARY = 'x'"),
        r#"("name" COLLATE "C") = 'x'"#
    );
    assert!(refused("name COLLATE NOCASE = 'x'").contains("NOCASE"));
}

/// SQLAlchemy writes `CHECK (is_pro IN (0, 1))` for booleans; PostgreSQL needs booleans.
#[test]
fn boolean_columns_compare_with_false_and_true() {
    assert_eq!(ok("is_pro IN (0, 1)"), r#""is_pro" IN (false, true)"#);
    assert_eq!(ok("is_pro = 1"), r#""is_pro" = true"#);
    assert_eq!(ok("0 != is_pro"), r#"false <> "is_pro""#);
    assert_eq!(ok("is_pro IS 0"), r#""is_pro" IS NOT DISTINCT FROM false"#);
    assert_eq!(ok("is_pro"), r#""is_pro""#);
    assert_eq!(ok("is_pro AND a > 0"), r#""is_pro" AND ("a" > 0)"#);
    assert_eq!(ok("NOT is_pro"), r#"NOT "is_pro""#);
    assert_eq!(
        ok("CASE is_pro WHEN 1 THEN 'y' END"),
        r#"CASE "is_pro" WHEN true THEN 'y' END"#
    );
    assert!(refused("is_pro IN (0, 1, 2)").contains("neither 0 nor 1"));
    assert!(refused("is_pro = 2").contains("neither 0 nor 1"));
}

#[test]
fn like_becomes_ilike_without_a_default_escape() {
    assert_eq!(ok("name LIKE 'a%'"), r#""name" ILIKE 'a%'"#);
    assert_eq!(
        ok("name NOT LIKE 'a\\_%'"),
        r#""name" NOT ILIKE 'a\_%' ESCAPE ''"#
    );
    assert_eq!(
        ok("name LIKE 'a!_%' ESCAPE '!'"),
        r#""name" ILIKE 'a!_%' ESCAPE '!'"#
    );
    assert_eq!(ok("name LIKE name"), r#""name" ILIKE "name" ESCAPE ''"#);
    assert!(refused("name LIKE 'é%'").contains("ASCII"));
    for op in ["GLOB 'a*'", "REGEXP 'a.'", "MATCH 'a'"] {
        assert!(refused(&format!("name {op}")).contains("no exact"), "{op}");
    }
}

#[test]
fn casts_follow_sqlite_affinity() {
    assert_eq!(ok("CAST(a AS INTEGER)"), r#"CAST("a" AS bigint)"#);
    assert_eq!(
        ok("CAST(ratio AS INT)"),
        r#"CAST(trunc(CAST("ratio" AS numeric)) AS bigint)"#
    );
    assert_eq!(ok("CAST(a AS TEXT)"), r#"CAST("a" AS text)"#);
    assert_eq!(ok("CAST(name AS VARCHAR(10))"), r#"CAST("name" AS text)"#);
    assert_eq!(
        ok("CAST(name AS REAL)"),
        r#"CAST("name" AS double precision)"#
    );
    assert_eq!(
        ok("CAST(name AS DOUBLE PRECISION)"),
        r#"CAST("name" AS double precision)"#
    );
    assert_eq!(ok("CAST(name AS NUMERIC)"), r#"CAST("name" AS numeric)"#);
    assert_eq!(ok("CAST(name AS BLOB)"), r#"convert_to("name", 'UTF8')"#);
    assert!(refused("CAST(a AS BLOB)").contains("text"));
    assert!(refused("CAST(ratio AS TEXT)").contains("different text"));
}

#[test]
fn functions() {
    // SQLite folds ASCII letters only.
    assert_eq!(
        ok("lower(name)"),
        r#"translate("name", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"#
    );
    assert_eq!(
        ok("UPPER(name) = 'X'"),
        r#"translate("name", 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') = 'X'"#
    );
    assert_eq!(ok("length(trim(name)) > 0"), r#"length(btrim("name")) > 0"#);
    assert_eq!(ok("ifnull(a, 0)"), r#"coalesce("a", 0)"#);
    assert_eq!(ok("coalesce(a, b, 0)"), r#"coalesce("a", "b", 0)"#);
    assert_eq!(ok("nullif(name, '')"), r#"nullif("name", '')"#);
    assert_eq!(ok("instr(name, '@') > 0"), r#"strpos("name", '@') > 0"#);
    assert_eq!(ok("substr(name, 1, 3)"), r#"substr("name", 1, 3)"#);
    assert_eq!(
        ok("replace(name, 'a', 'b')"),
        r#"replace("name", 'a', 'b')"#
    );
    assert_eq!(ok("abs(a)"), r#"abs("a")"#);
    assert_eq!(
        ok("round(ratio, 2)"),
        r#"round(CAST("ratio" AS numeric), 2)"#
    );
    assert_eq!(ok("ltrim(name)"), r#"ltrim("name")"#);
    assert!(refused("substr(name, -2)").contains("negative"));
    assert_eq!(
        refused("json_extract(name, '$.a')"),
        "function json_extract() with 2 arguments has no PostgreSQL equivalent pgcarry can vouch for"
    );
    assert!(
        refused("lower(hex(randomblob(16)))").contains("function randomblob() with 1 argument has")
    );
    assert!(refused("lower(name, 1)").contains("lower() with 2 arguments"));
    assert!(refused("count(*)").contains("count"));
    assert!(refused("date(created)").contains("'now'"));
    assert!(refused("datetime('now', 'localtime')").contains("'now'"));
}

#[test]
fn now_in_expressions() {
    assert_eq!(
        ok("datetime('now')"),
        "to_char(CURRENT_TIMESTAMP AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
    );
    // Compared with a timestamp column, "now" is a timestamp.
    assert_eq!(
        ok("created <= CURRENT_TIMESTAMP"),
        r#""created" <= (CURRENT_TIMESTAMP AT TIME ZONE 'UTC')"#
    );
    assert_eq!(
        ok("date('now') > created"),
        r#"(date_trunc('day', CURRENT_TIMESTAMP AT TIME ZONE 'UTC')) > "created""#
    );
}

#[test]
fn deep_expressions_translate_or_are_refused() {
    let deep = format!("{}a{}", "(a + ".repeat(45), ")".repeat(45));
    assert!(ok(&deep).starts_with(r#""a" + ("a" + "#));
    let deeper = format!("{}a{}", "(a + ".repeat(5000), ")".repeat(5000));
    assert!(refused(&deeper).contains("nested"));
}

#[test]
fn refusals_say_why() {
    assert!(refused("ratio % 2").contains("truncates"));
    assert!(refused("price / 2").contains("integers"));
    assert!(refused("ratio || 'x'").contains("different text"));
    assert!(refused("is_pro || 'x'").contains("different text"));
    assert!(refused("name -> '$.a'").contains("JSON"));
    assert!(refused("a = ?").contains("parameter"));
    assert!(refused("a IN (SELECT 1)").contains("cannot read"));
    assert!(refused("a = ").contains("cannot read"));
}

/// A rough declared-type mapping, enough to translate the corpus schemas.
fn declared(type_name: &str) -> PgType {
    let upper = type_name.to_ascii_uppercase();
    if upper.contains("INT") {
        PgType::BigInt
    } else if upper.contains("CHAR") || upper.contains("TEXT") {
        PgType::Text
    } else if upper.contains("REAL") || upper.contains("DOUB") {
        PgType::DoublePrecision
    } else if upper.contains("DATE") {
        PgType::Timestamp
    } else if upper.contains("BLOB") {
        PgType::Bytea
    } else {
        PgType::Numeric {
            precision_scale: None,
        }
    }
}

/// Every CHECK and DEFAULT of the corpus databases translates.
#[test]
fn corpus_checks_and_defaults_translate() {
    use crate::sqlite::sql::parse_create_table;
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let mut translated = Vec::new();
    for file in ["northwind.sqlite", "chinook.sqlite"] {
        let path = corpus.join(file);
        if !path.exists() {
            eprintln!("skipping {}: not present", path.display());
            continue;
        }
        let db = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut stmt = db
            .prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND sql IS NOT NULL")
            .unwrap();
        let sqls: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for sql in sqls {
            let table = parse_create_table(&sql).unwrap();
            let lookup = |name: &str| {
                table
                    .columns
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(name))
                    .map(|c| (c.name.clone(), declared(&c.type_name)))
            };
            let ctx = ExprContext { columns: &lookup };
            let column_checks = table.columns.iter().flat_map(|c| &c.checks);
            for check in table.checks.iter().chain(column_checks) {
                let pg = translate_expr(&check.expr, &ctx)
                    .unwrap_or_else(|e| panic!("{file} {}: CHECK {}: {e}", table.name, check.expr));
                translated.push(pg);
            }
            for column in &table.columns {
                if let Some(default) = &column.default {
                    let pg = translate_default(default, &declared(&column.type_name))
                        .unwrap_or_else(|e| {
                            panic!("{file} {}: DEFAULT {default}: {e}", table.name)
                        });
                    translated.push(pg);
                }
            }
        }
    }
    if corpus.join("northwind.sqlite").exists() {
        assert!(translated.contains(&r#"("Discount" >= 0) AND ("Discount" <= 1)"#.to_string()));
        assert!(translated.contains(&"'0'".to_string()));
    }
}

#[test]
fn division_by_zero_is_null_as_in_sqlite() {
    // SQLite: 1 / 0 is NULL; PostgreSQL raises "division by zero" unless told otherwise.
    assert_eq!(ok("a / b"), "\"a\" / NULLIF(\"b\", 0)");
    assert_eq!(ok("a % 3"), "\"a\" % NULLIF(3, 0)");
}
