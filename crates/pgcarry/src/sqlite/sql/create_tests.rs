use super::super::*;

fn table(sql: &str) -> CreateTable {
    parse_create_table(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn check(expr: &str) -> NamedExpr {
    NamedExpr {
        name: None,
        expr: expr.into(),
    }
}

#[test]
fn quoted_names_keywords_and_comments() {
    let t = table(
        r#"CREATE TABLE IF NOT EXISTS main."order" ( -- the orders
            key, value /* untyped */, "group",
            [a b] TEXT, `c``d` INT, "e ""f""" REAL, 'g' BLOB
        )"#,
    );
    assert_eq!(t.name, "order");
    let names: Vec<_> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["key", "value", "group", "a b", "c`d", "e \"f\"", "g"]
    );
    assert_eq!(t.columns[0].type_name, "");
    assert_eq!(t.columns[6].type_name, "BLOB");
}

#[test]
fn type_names_with_words_and_sizes() {
    let t = table(
        "CREATE TEMP TABLE t (a DOUBLE PRECISION, b VARYING CHARACTER(255), c DECIMAL(10, 5) NOT NULL,
         d NATIVE CHARACTER(70), e UNSIGNED BIG INT, f VARCHAR ( 64 ), g NUMERIC(-3, +2), h)",
    );
    let types: Vec<_> = t.columns.iter().map(|c| c.type_name.as_str()).collect();
    assert_eq!(
        types,
        [
            "DOUBLE PRECISION",
            "VARYING CHARACTER(255)",
            "DECIMAL(10, 5)",
            "NATIVE CHARACTER(70)",
            "UNSIGNED BIG INT",
            "VARCHAR ( 64 )",
            "NUMERIC(-3, +2)",
            ""
        ]
    );
    assert!(t.columns[2].not_null);
}

#[test]
fn column_constraints() {
    let t = table(
        "CREATE TABLE t (
            id INTEGER CONSTRAINT pk PRIMARY KEY DESC ON CONFLICT REPLACE AUTOINCREMENT,
            name TEXT NOT NULL ON CONFLICT ABORT COLLATE NOCASE UNIQUE NULL,
            age INT CONSTRAINT adult CHECK (age >= (18 + (0))) DEFAULT -1,
            flag BOOLEAN DEFAULT TRUE CHECK (flag IN (0, 1)),
            created TEXT DEFAULT CURRENT_TIMESTAMP,
            updated TEXT DEFAULT (datetime('now', 'localtime')),
            note TEXT DEFAULT 'it''s',
            ratio REAL DEFAULT +0.5,
            raw BLOB DEFAULT X'00ff',
            parent INT REFERENCES t(id) ON DELETE SET NULL ON UPDATE CASCADE MATCH SIMPLE
                DEFERRABLE INITIALLY DEFERRED NOT NULL,
            other INT REFERENCES t NOT DEFERRABLE
        )",
    );
    let id = &t.columns[0];
    assert!(id.primary_key && id.autoincrement && !id.not_null);
    let name = &t.columns[1];
    assert!(name.not_null && !name.primary_key);
    assert_eq!(name.collation.as_deref(), Some("NOCASE"));
    let age = &t.columns[2];
    assert_eq!(
        age.checks,
        [NamedExpr {
            name: Some("adult".into()),
            expr: "age >= (18 + (0))".into()
        }]
    );
    assert_eq!(age.default.as_deref(), Some("-1"));
    assert_eq!(t.columns[3].default.as_deref(), Some("TRUE"));
    assert_eq!(t.columns[3].checks, [check("flag IN (0, 1)")]);
    assert_eq!(t.columns[4].default.as_deref(), Some("CURRENT_TIMESTAMP"));
    assert_eq!(
        t.columns[5].default.as_deref(),
        Some("(datetime('now', 'localtime'))")
    );
    assert_eq!(t.columns[6].default.as_deref(), Some("'it''s'"));
    assert_eq!(t.columns[7].default.as_deref(), Some("+0.5"));
    assert_eq!(t.columns[8].default.as_deref(), Some("X'00ff'"));
    assert!(t.columns[9].not_null);
    assert_eq!(t.columns[10].name, "other");
    let fk = |c: &str, deferrable, initially_deferred| ForeignKeyDef {
        columns: vec![c.to_string()],
        deferrable,
        initially_deferred,
    };
    assert_eq!(
        t.foreign_keys,
        [fk("parent", true, true), fk("other", false, false)]
    );
}

#[test]
fn table_foreign_keys_keep_their_deferral() {
    let t = table(
        "CREATE TABLE t (a INT, b INT, c INT,
         FOREIGN KEY (a, \"b\") REFERENCES p (x, y) DEFERRABLE,
         CONSTRAINT k FOREIGN KEY (c) REFERENCES q DEFERRABLE INITIALLY IMMEDIATE
           FOREIGN KEY (a) REFERENCES r ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED)",
    );
    let got: Vec<(Vec<String>, bool, bool)> = t
        .foreign_keys
        .into_iter()
        .map(|f| (f.columns, f.deferrable, f.initially_deferred))
        .collect();
    let v = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        [
            (v(&["a", "b"]), true, false),
            (v(&["c"]), true, false),
            (v(&["a"]), true, true)
        ]
    );
}

#[test]
fn generated_columns() {
    let t = table(
        "CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a * 2) STORED,
         c AS (a || 'x') , d TEXT AS (upper((a))) VIRTUAL NOT NULL)",
    );
    let g = |i: usize| t.columns[i].generated.clone().unwrap();
    assert_eq!(
        g(1),
        GeneratedDef {
            expr: "a * 2".into(),
            stored: true
        }
    );
    assert_eq!(
        g(2),
        GeneratedDef {
            expr: "a || 'x'".into(),
            stored: false
        }
    );
    assert_eq!(g(3).expr, "upper((a))");
    assert!(t.columns[3].not_null);
    assert_eq!(t.columns[2].type_name, "");
}

#[test]
fn table_constraints_and_options() {
    let t = table(
        r#"CREATE TABLE "t" (a TEXT, B INT, c,
            CONSTRAINT pk PRIMARY KEY ("a", b DESC) ON CONFLICT FAIL,
            UNIQUE (c COLLATE NOCASE),
            CHECK (length(a) > 0),
            CONSTRAINT positive CHECK (b > 0) ON CONFLICT ABORT,
            CONSTRAINT fk FOREIGN KEY (c) REFERENCES "other" ("x") ON DELETE NO ACTION
        ) WITHOUT ROWID, STRICT;"#,
    );
    assert!(t.without_rowid && t.strict);
    assert!(t.columns[0].primary_key && t.columns[1].primary_key && !t.columns[2].primary_key);
    assert_eq!(
        t.checks,
        [
            check("length(a) > 0"),
            NamedExpr {
                name: Some("positive".into()),
                expr: "b > 0".into()
            }
        ]
    );
}

#[test]
fn table_constraints_without_commas() {
    let t =
        table("CREATE TABLE t (a, b, PRIMARY KEY (a) UNIQUE (b) CHECK (b > 0), CHECK (a <> b))");
    assert!(t.columns[0].primary_key);
    assert_eq!(t.checks, [check("b > 0"), check("a <> b")]);
}

#[test]
fn table_level_autoincrement() {
    let t = table("CREATE TABLE t (id INTEGER, PRIMARY KEY (id AUTOINCREMENT))");
    assert!(t.columns[0].primary_key && t.columns[0].autoincrement);
}

#[test]
fn errors_say_where_and_what() {
    let err = parse_create_table("CREATE TABLE t (a INT PRIMARY)").unwrap_err();
    assert_eq!(err.to_string(), "expected KEY at byte 29, found `)`");
    let err = parse_create_table("CREATE TABLE t (a INT").unwrap_err();
    assert!(err.to_string().contains("end of the statement"), "{err}");
    let err = parse_create_table("CREATE TABLE t (a INT CHECK (a > 0)").unwrap_err();
    assert!(err.to_string().contains("end of the statement"), "{err}");
    assert!(parse_create_table("CREATE VIRTUAL TABLE f USING fts5(body)").is_err());
    assert!(parse_create_table("CREATE TABLE t (a) garbage").is_err());
    assert!(parse_create_table("CREATE TABLE t (a DEFAULT)").is_err());
}

#[test]
fn indexes() {
    let i = parse_create_index(
        r#"CREATE UNIQUE INDEX IF NOT EXISTS main."ix a" ON [my table] (
            "Name" COLLATE NOCASE DESC, lower(email), b ASC, (c + 1) COLLATE "BINARY"
        ) WHERE deleted_at IS NULL AND (b > 0);"#,
    )
    .unwrap();
    assert_eq!(i.name, "ix a");
    assert_eq!(i.table, "my table");
    assert!(i.unique);
    let t = &i.terms;
    assert_eq!(t.len(), 4);
    assert_eq!(
        t[0],
        IndexTerm {
            expr: "\"Name\"".into(),
            column: Some("Name".into()),
            collation: Some("NOCASE".into()),
            descending: true
        }
    );
    assert_eq!(t[1].expr, "lower(email)");
    assert_eq!(t[1].column, None);
    assert_eq!(t[2].column.as_deref(), Some("b"));
    assert!(!t[2].descending);
    assert_eq!(t[3].expr, "(c + 1)");
    assert_eq!(t[3].collation.as_deref(), Some("BINARY"));
    assert_eq!(
        i.where_clause.as_deref(),
        Some("deleted_at IS NULL AND (b > 0)")
    );

    let plain = parse_create_index("CREATE INDEX ix ON t(a)").unwrap();
    assert!(!plain.unique && plain.where_clause.is_none());
    assert!(parse_create_index("CREATE INDEX ix ON t()").is_err());
    assert!(parse_create_index("CREATE INDEX ix ON t(a) WHERE").is_err());
}

#[test]
fn views() {
    let (name, select) = parse_create_view(
        "CREATE VIEW IF NOT EXISTS [Big Orders] (id, total) AS SELECT id, total FROM o WHERE total > 100;",
    )
    .unwrap();
    assert_eq!(name, "Big Orders");
    assert_eq!(select, "SELECT id, total FROM o WHERE total > 100");
    assert!(parse_create_view("CREATE VIEW v AS").is_err());
}

/// Every CREATE statement of the corpus databases must parse.
#[test]
fn corpus_schemas_parse() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let mut parsed = 0;
    for file in [
        "northwind.sqlite",
        "chinook.sqlite",
        "chinook_autoincrement.sqlite",
    ] {
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
            .prepare("SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL")
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .unwrap();
        for row in rows {
            let (kind, name, sql) = row.unwrap();
            let parsed_name = match kind.as_str() {
                "table" => parse_create_table(&sql).map(|t| t.name),
                "index" => parse_create_index(&sql).map(|i| i.name),
                "view" => parse_create_view(&sql).map(|v| v.0),
                _ => continue,
            };
            let parsed_name = parsed_name.unwrap_or_else(|e| panic!("{file} {name}: {e}\n{sql}"));
            assert_eq!(parsed_name, name, "{file}");
            parsed += 1;
        }
    }
    eprintln!("parsed {parsed} corpus statements");
}

#[test]
fn northwind_details() {
    let t = table(
        r#"CREATE TABLE [Order Details](
   [OrderID]INTEGER NOT NULL,
   [UnitPrice]NUMERIC NOT NULL DEFAULT 0,
   [Discount]REAL NOT NULL DEFAULT 0,
    PRIMARY KEY ("OrderID"),
    CHECK ([Discount]>=(0) AND [Discount]<=(1)),
	FOREIGN KEY ([OrderID]) REFERENCES [Orders] ([OrderID])
		ON DELETE NO ACTION ON UPDATE NO ACTION
)"#,
    );
    assert_eq!(t.name, "Order Details");
    assert_eq!(t.columns[1].type_name, "NUMERIC");
    assert_eq!(t.columns[1].default.as_deref(), Some("0"));
    assert!(t.columns[0].primary_key);
    assert_eq!(t.checks, [check("[Discount]>=(0) AND [Discount]<=(1)")]);
}

/// DDL as the usual frameworks write it, created in a real SQLite (so it is valid there) and
/// read back from `sqlite_schema`.
#[test]
fn framework_ddl() {
    let db = rusqlite::Connection::open_in_memory().unwrap();
    db.execute_batch(
        r#"
        -- Django
        CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
            "password" varchar(128) NOT NULL, "last_login" datetime NULL,
            "is_superuser" bool NOT NULL, "age" integer unsigned NOT NULL CHECK ("age" >= 0));
        CREATE UNIQUE INDEX "auth_user_live" ON "auth_user" ("password") WHERE "last_login" IS NOT NULL;
        -- SQLAlchemy
        CREATE TABLE users (
            id INTEGER NOT NULL,
            is_pro BOOLEAN NOT NULL,
            status VARCHAR(6) NOT NULL,
            created_at DATETIME DEFAULT (CURRENT_TIMESTAMP),
            PRIMARY KEY (id),
            CHECK (is_pro IN (0, 1)),
            CONSTRAINT userstatus CHECK (status IN ('active', 'banned')),
            UNIQUE (status, id),
            FOREIGN KEY(id) REFERENCES auth_user (id) ON DELETE CASCADE
        );
        -- Rails
        CREATE TABLE "posts" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL,
            "created_at" datetime(6) NOT NULL, "body" text DEFAULT '' NOT NULL);
        CREATE INDEX "index_posts_on_lower_body" ON "posts" (lower("body")) WHERE body <> '';
        -- Prisma
        CREATE TABLE "User" ("id" TEXT NOT NULL PRIMARY KEY,
            "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
            "role" TEXT NOT NULL DEFAULT 'USER');
        -- Sequelize
        CREATE TABLE `Accounts` (`id` INTEGER PRIMARY KEY AUTOINCREMENT,
            `email` VARCHAR(255) UNIQUE, `createdAt` DATETIME NOT NULL);
        -- Hand-written, with everything SQLite allows
        CREATE TABLE IF NOT EXISTS "order" (key TEXT, value ANY, "group" INT DEFAULT -1,
            total REAL GENERATED ALWAYS AS (value * 2) VIRTUAL,
            updated TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            PRIMARY KEY (key)) WITHOUT ROWID, STRICT;
        CREATE INDEX "order by value" ON "order" (value DESC, key COLLATE NOCASE);
        CREATE VIEW active_users AS SELECT * FROM users WHERE status = 'active';
        "#,
    )
    .unwrap();
    let mut stmt = db
        .prepare("SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL")
        .unwrap();
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let sql_of = |name: &str| &rows.iter().find(|r| r.1 == name).unwrap().2;
    for (kind, name, sql) in &rows {
        let parsed = match kind.as_str() {
            "table" => parse_create_table(sql).map(|t| t.name),
            "index" => parse_create_index(sql).map(|i| i.name),
            "view" => parse_create_view(sql).map(|v| v.0),
            _ => continue,
        };
        assert_eq!(&parsed.unwrap_or_else(|e| panic!("{name}: {e}")), name);
    }

    let django = table(sql_of("auth_user"));
    assert!(django.columns[0].autoincrement);
    assert_eq!(django.columns[4].type_name, "integer unsigned");
    assert_eq!(django.columns[4].checks, [check("\"age\" >= 0")]);
    let live = parse_create_index(sql_of("auth_user_live")).unwrap();
    assert_eq!(
        live.where_clause.as_deref(),
        Some("\"last_login\" IS NOT NULL")
    );

    let users = table(sql_of("users"));
    assert!(users.columns[0].primary_key && !users.columns[0].autoincrement);
    assert_eq!(
        users.columns[3].default.as_deref(),
        Some("(CURRENT_TIMESTAMP)")
    );
    assert_eq!(users.checks[0], check("is_pro IN (0, 1)"));
    assert_eq!(users.checks[1].name.as_deref(), Some("userstatus"));

    let posts = table(sql_of("posts"));
    assert_eq!(posts.columns[1].type_name, "datetime(6)");
    assert_eq!(posts.columns[2].default.as_deref(), Some("''"));
    let lower = parse_create_index(sql_of("index_posts_on_lower_body")).unwrap();
    assert_eq!(lower.terms[0].expr, "lower(\"body\")");
    assert_eq!(lower.terms[0].column, None);

    let order = table(sql_of("order"));
    assert!(order.without_rowid && order.strict);
    assert_eq!(order.columns[1].type_name, "ANY");
    assert_eq!(order.columns[2].default.as_deref(), Some("-1"));
    assert_eq!(
        order.columns[3].generated.as_ref().unwrap().expr,
        "value * 2"
    );
    assert_eq!(
        order.columns[4].default.as_deref(),
        Some("(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))")
    );
    let by_value = parse_create_index(sql_of("order by value")).unwrap();
    assert!(by_value.terms[0].descending);
    assert_eq!(by_value.terms[1].collation.as_deref(), Some("NOCASE"));
    assert_eq!(
        parse_create_view(sql_of("active_users")).unwrap().1,
        "SELECT * FROM users WHERE status = 'active'"
    );
}

/// Every prefix of a valid statement is an error or a value, never a panic.
#[test]
fn truncated_statements_never_panic() {
    let sql = r#"CREATE TABLE IF NOT EXISTS main."t" ([a b] INT CONSTRAINT pk PRIMARY KEY
        AUTOINCREMENT, b TEXT DEFAULT (datetime('now')) REFERENCES x(y) ON DELETE SET NULL
        NOT DEFERRABLE, c AS (b || 'x') STORED, CHECK (b <> ''), UNIQUE (b COLLATE NOCASE DESC))
        WITHOUT ROWID"#;
    assert!(parse_create_table(sql).is_ok());
    for (i, _) in sql.char_indices() {
        let _ = parse_create_table(&sql[..i]);
    }
    let index = "CREATE UNIQUE INDEX i ON t (a COLLATE NOCASE DESC, lower(b)) WHERE a > 0";
    assert!(parse_create_index(index).is_ok());
    for (i, _) in index.char_indices() {
        let _ = parse_create_index(&index[..i]);
    }
}
