use super::*;
use crate::sqlite::sql::parse_expr::parse_expr;

fn parse(sql: &str) -> Expr {
    parse_expr(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn col(name: &str) -> Box<Expr> {
    Box::new(Expr::Column(name.into()))
}

fn num(n: &str) -> Box<Expr> {
    Box::new(Expr::Number(n.into()))
}

#[test]
fn precedence_follows_sqlite() {
    // AND binds tighter than OR; comparison tighter than AND.
    assert_eq!(
        parse("a = 1 OR b < 2 AND c"),
        Expr::Binary(
            BinaryOp::Or,
            Box::new(Expr::Binary(BinaryOp::Eq, col("a"), num("1"))),
            Box::new(Expr::Binary(
                BinaryOp::And,
                Box::new(Expr::Binary(BinaryOp::Lt, col("b"), num("2"))),
                col("c")
            ))
        )
    );
    // || binds tighter than +, which binds tighter than <.
    assert_eq!(
        parse("a + b || c < d"),
        Expr::Binary(
            BinaryOp::Lt,
            Box::new(Expr::Binary(
                BinaryOp::Add,
                col("a"),
                Box::new(Expr::Binary(BinaryOp::Concat, col("b"), col("c")))
            )),
            col("d")
        )
    );
    // NOT covers the comparison, not the AND.
    assert_eq!(
        parse("NOT a = 1 AND b"),
        Expr::Binary(
            BinaryOp::And,
            Box::new(Expr::Unary(
                UnaryOp::Not,
                Box::new(Expr::Binary(BinaryOp::Eq, col("a"), num("1")))
            )),
            col("b")
        )
    );
    // Left associative.
    assert_eq!(
        parse("a - b - c"),
        Expr::Binary(
            BinaryOp::Sub,
            Box::new(Expr::Binary(BinaryOp::Sub, col("a"), col("b"))),
            col("c")
        )
    );
}

#[test]
fn names_in_every_quoting() {
    assert_eq!(parse(r#""a ""b""""#), Expr::DoubleQuoted("a \"b\"".into()));
    assert_eq!(parse(r#""t"."a""#), Expr::Column("a".into()));
    assert_eq!(parse("[a b]"), Expr::Column("a b".into()));
    assert_eq!(parse("`key`"), Expr::Column("key".into()));
    assert_eq!(parse("main.t.value"), Expr::Column("value".into()));
    assert_eq!(parse("'a'"), Expr::Str("a".into()));
}

#[test]
fn postfix_and_keyword_operators() {
    assert_eq!(
        parse("a NOT NULL"),
        Expr::IsNull {
            expr: col("a"),
            negated: true
        }
    );
    assert_eq!(
        parse("a ISNULL"),
        Expr::IsNull {
            expr: col("a"),
            negated: false
        }
    );
    assert_eq!(
        parse("a IS NOT NULL"),
        Expr::IsNull {
            expr: col("a"),
            negated: true
        }
    );
    assert_eq!(
        parse("a IS NOT b"),
        Expr::Is {
            left: col("a"),
            right: col("b"),
            negated: true
        }
    );
    assert_eq!(
        parse("a IS DISTINCT FROM b"),
        Expr::Is {
            left: col("a"),
            right: col("b"),
            negated: true
        }
    );
    assert_eq!(
        parse("flag NOT IN (0, 1)"),
        Expr::In {
            expr: col("flag"),
            list: vec![Expr::Number("0".into()), Expr::Number("1".into())],
            negated: true
        }
    );
    assert_eq!(
        parse("a BETWEEN 1 AND 2 AND b"),
        Expr::Binary(
            BinaryOp::And,
            Box::new(Expr::Between {
                expr: col("a"),
                low: num("1"),
                high: num("2"),
                negated: false
            }),
            col("b")
        )
    );
    assert!(matches!(
        parse("a NOT LIKE 'x%' ESCAPE '\\'"),
        Expr::Like {
            op: LikeOp::Like,
            negated: true,
            escape: Some(_),
            ..
        }
    ));
    assert!(matches!(
        parse("a GLOB 'x*'"),
        Expr::Like {
            op: LikeOp::Glob,
            ..
        }
    ));
}

#[test]
fn case_cast_functions_and_nesting() {
    assert!(matches!(
        parse("CASE WHEN a THEN 1 ELSE 2 END"),
        Expr::Case { operand: None, ref whens, otherwise: Some(_) } if whens.len() == 1
    ));
    assert!(matches!(
        parse("CASE a WHEN 1 THEN 'x' WHEN 2 THEN 'y' END"),
        Expr::Case { operand: Some(_), ref whens, otherwise: None } if whens.len() == 2
    ));
    assert_eq!(
        parse("CAST(a AS VARCHAR(10))"),
        Expr::Cast {
            expr: col("a"),
            type_name: "VARCHAR(10)".into()
        }
    );
    assert_eq!(
        parse("count(*)"),
        Expr::Function {
            name: "count".into(),
            args: vec![],
            distinct: false,
            star: true
        }
    );
    assert_eq!(parse("(((a)))"), Expr::Column("a".into()));
    assert_eq!(
        parse("datetime('now')"),
        Expr::Function {
            name: "datetime".into(),
            args: vec![Expr::Str("now".into())],
            distinct: false,
            star: false
        }
    );
    assert_eq!(parse("CURRENT_DATE"), Expr::CurrentTime(NowKind::Date));
    assert!(matches!(
        parse("a COLLATE NOCASE = 'x'"),
        Expr::Binary(BinaryOp::Eq, ..)
    ));
}

#[test]
fn refuses_what_it_does_not_handle() {
    for sql in [
        "a IN (SELECT x FROM t)",
        "EXISTS (SELECT 1)",
        "(a, b) = (1, 2)",
        "count(*) OVER ()",
        "a IN t",
        "a =",
        "a b",
        "CASE END",
    ] {
        assert!(parse_expr(sql).is_err(), "{sql}");
    }
}

#[test]
fn deep_nesting_is_refused_not_a_crash() {
    let nested = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
    assert_eq!(parse(&nested(99)), Expr::Column("a".into()));
    assert!(parse_expr(&nested(101)).is_err());
    assert!(parse_expr(&nested(100_000)).is_err());
    assert!(parse_expr(&format!("{}1", "NOT ".repeat(100_000))).is_err());
    assert!(parse_expr(&format!("{}1", "- ".repeat(100_000))).is_err());
    assert!(matches!(parse("- - 1"), Expr::Unary(UnaryOp::Neg, _)));
}

/// Every prefix of a valid expression is an error or a value, never a panic.
#[test]
fn truncated_input_never_panics() {
    let sql = "CASE WHEN a NOT BETWEEN 1 AND 2 THEN CAST(b AS INT) ELSE lower('x''y') END \
               IS NOT DISTINCT FROM [c d] COLLATE NOCASE OR e NOT IN (1, -2) AND f ISNULL";
    assert!(parse_expr(sql).is_ok());
    for (i, _) in sql.char_indices() {
        let _ = parse_expr(&sql[..i]);
    }
}
