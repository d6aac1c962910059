use super::*;

fn ok(sqlite: &str, ty: PgType) -> String {
    translate_default(sqlite, &ty).unwrap_or_else(|e| panic!("{sqlite} for {ty}: {e}"))
}

fn refused(sqlite: &str, ty: PgType) -> String {
    match translate_default(sqlite, &ty) {
        Ok(pg) => panic!("{sqlite} for {ty} translated to {pg}, expected a refusal"),
        Err(e) => e.reason,
    }
}

const UTC: &str = "CURRENT_TIMESTAMP AT TIME ZONE 'UTC'";

#[test]
fn current_timestamp_for_each_type() {
    for now in [
        "CURRENT_TIMESTAMP",
        "(datetime('now'))",
        "datetime('NOW')",
        "(CURRENT_TIMESTAMP)",
    ] {
        assert_eq!(ok(now, PgType::Timestamp), format!("({UTC})"), "{now}");
        assert_eq!(ok(now, PgType::Timestamptz), "CURRENT_TIMESTAMP", "{now}");
        assert_eq!(ok(now, PgType::Date), format!("(({UTC})::date)"), "{now}");
        assert_eq!(
            ok(now, PgType::Text),
            format!("to_char({UTC}, 'YYYY-MM-DD HH24:MI:SS')"),
            "{now}"
        );
        assert_eq!(
            ok(now, PgType::Varchar { max_chars: 32 }),
            format!("to_char({UTC}, 'YYYY-MM-DD HH24:MI:SS')")
        );
        assert!(refused(now, PgType::BigInt).contains("bigint"));
    }
    assert!(
        refused("CURRENT_TIMESTAMP", PgType::Varchar { max_chars: 10 }).contains("varchar(10)")
    );
}

#[test]
fn current_date_and_time() {
    for today in ["CURRENT_DATE", "(date('now'))"] {
        assert_eq!(ok(today, PgType::Date), format!("(({UTC})::date)"));
        assert_eq!(
            ok(today, PgType::Text),
            format!("to_char({UTC}, 'YYYY-MM-DD')")
        );
        assert_eq!(
            ok(today, PgType::Timestamp),
            format!("(date_trunc('day', {UTC}))")
        );
        assert!(translate_default(today, &PgType::Timestamptz).is_err());
    }
    assert_eq!(
        ok("CURRENT_TIME", PgType::Time),
        format!("(({UTC})::time(0))")
    );
    assert_eq!(
        ok("(time('now'))", PgType::Text),
        format!("to_char({UTC}, 'HH24:MI:SS')")
    );
    assert!(translate_default("CURRENT_TIME", &PgType::Timestamp).is_err());
}

#[test]
fn strftime_now() {
    let epoch = "(floor(extract(epoch from CURRENT_TIMESTAMP))::bigint)";
    assert_eq!(ok("(strftime('%s','now'))", PgType::BigInt), epoch);
    assert_eq!(ok("(strftime('%s','now'))", PgType::Integer), epoch);
    assert_eq!(
        ok("(strftime('%s','now'))", PgType::Text),
        format!("({epoch}::text)")
    );
    assert!(translate_default("(strftime('%s','now'))", &PgType::Timestamp).is_err());
    assert_eq!(
        ok("(strftime('%Y-%m-%d %H:%M:%f', 'now'))", PgType::Text),
        format!("to_char({UTC}, 'YYYY-MM-DD HH24:MI:SS.MS')")
    );
    assert_eq!(
        ok("(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", PgType::Text),
        format!("to_char({UTC}, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
    );
    assert_eq!(
        ok("(strftime('%Y-%m-%d %H:%M:%f', 'now'))", PgType::Timestamp),
        format!("(date_trunc('milliseconds', {UTC}))")
    );
    assert_eq!(
        ok(
            "(strftime('%Y-%m-%d %H:%M:%S', 'now'))",
            PgType::Timestamptz
        ),
        "CURRENT_TIMESTAMP"
    );
    assert!(refused("(strftime('%W', 'now'))", PgType::Text).contains("conversion"));
    assert!(refused("(datetime('now', 'localtime'))", PgType::Timestamp).contains("'now'"));
}

#[test]
fn numbers_for_numeric_types() {
    assert_eq!(ok("0", PgType::BigInt), "0");
    assert_eq!(ok("-1", PgType::Integer), "-1");
    assert_eq!(ok("+7", PgType::SmallInt), "7");
    assert_eq!(ok("(42)", PgType::BigInt), "42");
    assert_eq!(ok("0x10", PgType::BigInt), "16");
    assert_eq!(ok("1.0", PgType::BigInt), "1");
    assert_eq!(ok("'42'", PgType::BigInt), "42");
    assert!(refused("1.5", PgType::BigInt).contains("does not fit"));
    assert!(refused("70000", PgType::SmallInt).contains("does not fit"));
    assert!(refused("'abc'", PgType::Integer).contains("is not of type integer"));
    assert_eq!(ok("0.5", PgType::DoublePrecision), "0.5");
    assert_eq!(ok("-1e3", PgType::DoublePrecision), "-1e3");
    assert_eq!(ok("'2.5'", PgType::DoublePrecision), "2.5");
    assert!(translate_default("'abc'", &PgType::DoublePrecision).is_err());
    let money = PgType::Numeric {
        precision_scale: Some((10, 2)),
    };
    assert_eq!(ok("0", money.clone()), "0");
    assert_eq!(ok("12.50", money.clone()), "12.50");
    assert!(refused("1.234", money.clone()).contains("rounded"));
    assert!(translate_default("123456789", &money).is_err());
    assert_eq!(
        ok(
            "1e3",
            PgType::Numeric {
                precision_scale: None
            }
        ),
        "1e3"
    );
}

#[test]
fn booleans() {
    assert_eq!(ok("0", PgType::Boolean), "false");
    assert_eq!(ok("1", PgType::Boolean), "true");
    assert_eq!(ok("TRUE", PgType::Boolean), "true");
    assert_eq!(ok("false", PgType::Boolean), "false");
    assert_eq!(ok("'1'", PgType::Boolean), "true");
    assert_eq!(ok("'false'", PgType::Boolean), "false");
    assert_eq!(ok("(0)", PgType::Boolean), "false");
    assert_eq!(ok("TRUE", PgType::Integer), "1");
    assert!(refused("2", PgType::Boolean).contains("not a boolean"));
    assert!(translate_default("'yes please'", &PgType::Boolean).is_err());
}

#[test]
fn strings_for_text_and_typed_columns() {
    assert_eq!(ok("'it''s'", PgType::Text), "'it''s'");
    assert_eq!(ok("active", PgType::Text), "'active'");
    assert_eq!(ok("\"active\"", PgType::Text), "'active'");
    assert_eq!(ok("(\"active\")", PgType::Text), "'active'");
    // Northwind: [Discontinued] TEXT NOT NULL DEFAULT '0'.
    assert_eq!(ok("'0'", PgType::Text), "'0'");
    assert_eq!(ok("0", PgType::Text), "'0'");
    assert!(translate_default("1.50", &PgType::Text).is_err());
    assert_eq!(ok("'abc'", PgType::Varchar { max_chars: 3 }), "'abc'");
    assert!(refused("'abcd'", PgType::Varchar { max_chars: 3 }).contains("longer"));
    assert_eq!(ok("'2024-01-31'", PgType::Date), "'2024-01-31'::date");
    assert!(translate_default("'31/01/2024'", &PgType::Date).is_err());
    assert_eq!(
        ok("'2024-01-31 10:00:00'", PgType::Timestamp),
        "'2024-01-31 10:00:00'::timestamp"
    );
    assert!(translate_default("'2024-01-31T10:00:00+02:00'", &PgType::Timestamp).is_err());
    assert_eq!(
        ok("'2024-01-31T10:00:00Z'", PgType::Timestamptz),
        "'2024-01-31T10:00:00Z'::timestamptz"
    );
    assert!(refused("'2024-01-31 10:00:00'", PgType::Timestamptz).contains("offset"));
    assert_eq!(ok("'10:30:00'", PgType::Time), "'10:30:00'::time");
    assert_eq!(ok("'{}'", PgType::Jsonb), "'{}'::jsonb");
    assert_eq!(ok("'[1, \"a\"]'", PgType::Json), "'[1, \"a\"]'::json");
    assert!(refused("'{oops'", PgType::Jsonb).contains("JSON"));
    let uuid = "'123e4567-e89b-12d3-a456-426614174000'";
    assert_eq!(ok(uuid, PgType::Uuid), format!("{uuid}::uuid"));
    assert!(translate_default("'not-a-uuid'", &PgType::Uuid).is_err());
}

#[test]
fn null_blobs_and_expressions() {
    assert_eq!(ok("NULL", PgType::Date), "NULL");
    assert_eq!(ok("X'00FF'", PgType::Bytea), r"'\x00ff'::bytea");
    assert!(translate_default("X'00'", &PgType::Text).is_err());
    assert!(translate_default("'abc'", &PgType::Bytea).is_err());
    assert_eq!(ok("(1 + 2)", PgType::BigInt), "(1 + 2)");
    assert_eq!(ok("(NULL IS NULL)", PgType::Boolean), "(NULL IS NULL)");
    assert_eq!(
        ok("(lower('ABC'))", PgType::Text),
        "translate('ABC', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
    );
    assert!(refused("(other_column + 1)", PgType::BigInt).contains("unknown column"));
    assert!(refused("(random())", PgType::BigInt).contains("random"));
}

// Issue 13, item 5: PostgreSQL stores nothing for DEFAULT NULL; verification called it missing.
#[test]
fn a_null_default_is_no_default() {
    for d in ["NULL", "null", "(NULL)", " ( null ) "] {
        assert!(is_null_default(d), "{d}");
    }
    for d in ["'NULL'", "0", "(NULL IS NULL)", "CURRENT_TIMESTAMP"] {
        assert!(!is_null_default(d), "{d}");
    }
}
