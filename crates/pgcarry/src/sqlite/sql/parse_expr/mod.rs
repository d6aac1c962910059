//! The expression grammar of SQLite: a precedence-climbing parser over the tokens, with
//! SQLite's binding order (which is not PostgreSQL's). Builds `expr::Expr`; never interprets it.

use super::SqlError;
use super::expr::{BinaryOp, Expr, LikeOp, NowKind, UnaryOp};
use super::tokenize::{Cursor, Kind, Token};

pub mod select;

/// Parses one expression at the cursor, stopping before the first token that cannot continue it.
pub(crate) fn expr_at_cursor(c: &mut Cursor) -> Result<Expr, SqlError> {
    expr(c, 0)
}

/// Parses one SQLite expression (the whole text).
pub fn parse_expr(sql: &str) -> Result<Expr, SqlError> {
    let mut c = Cursor::new(sql)?;
    let expr = expr(&mut c, 0)?;
    if c.at_end() {
        Ok(expr)
    } else {
        Err(c.error("an operator or the end of the expression"))
    }
}

// Binding levels, SQLite's order from loosest to tightest.
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const EQUALITY: u8 = 4;
const COMPARE: u8 = 5;
const BITWISE: u8 = 6;
const ADD: u8 = 7;
const MUL: u8 = 8;
const CONCAT: u8 = 9;
const ARROW: u8 = 10;
const COLLATE: u8 = 11;

fn binary_op(t: &Token) -> Option<(BinaryOp, u8)> {
    let op = match t.kind {
        Kind::Word if t.is_kw("OR") => return Some((BinaryOp::Or, OR)),
        Kind::Word if t.is_kw("AND") => return Some((BinaryOp::And, AND)),
        Kind::Op => t.text.as_str(),
        _ => return None,
    };
    Some(match op {
        "=" | "==" => (BinaryOp::Eq, EQUALITY),
        "!=" | "<>" => (BinaryOp::Ne, EQUALITY),
        "<" => (BinaryOp::Lt, COMPARE),
        "<=" => (BinaryOp::Le, COMPARE),
        ">" => (BinaryOp::Gt, COMPARE),
        ">=" => (BinaryOp::Ge, COMPARE),
        "&" => (BinaryOp::BitAnd, BITWISE),
        "|" => (BinaryOp::BitOr, BITWISE),
        "<<" => (BinaryOp::Shl, BITWISE),
        ">>" => (BinaryOp::Shr, BITWISE),
        "+" => (BinaryOp::Add, ADD),
        "-" => (BinaryOp::Sub, ADD),
        "*" => (BinaryOp::Mul, MUL),
        "/" => (BinaryOp::Div, MUL),
        "%" => (BinaryOp::Rem, MUL),
        "||" => (BinaryOp::Concat, CONCAT),
        "->" => (BinaryOp::JsonArrow, ARROW),
        "->>" => (BinaryOp::JsonArrowText, ARROW),
        _ => return None,
    })
}

fn like_op(t: &Token) -> Option<LikeOp> {
    [
        ("LIKE", LikeOp::Like),
        ("GLOB", LikeOp::Glob),
        ("REGEXP", LikeOp::Regexp),
        ("MATCH", LikeOp::Match),
    ]
    .into_iter()
    .find_map(|(kw, op)| t.is_kw(kw).then_some(op))
}

/// Nesting beyond this is refused rather than risking the stack (SQLite allows 1000; no schema needs more than a few).
const MAX_DEPTH: usize = 100;

/// An expression whose operators all bind at `min` or tighter.
fn expr(c: &mut Cursor, min: u8) -> Result<Expr, SqlError> {
    if c.depth >= MAX_DEPTH {
        return Err(c.error(&format!("an expression nested less than {MAX_DEPTH} deep")));
    }
    c.depth += 1;
    let result = expr_at(c, min);
    c.depth -= 1;
    result
}

fn expr_at(c: &mut Cursor, min: u8) -> Result<Expr, SqlError> {
    let mut left = if c.eat_kw("NOT") {
        Expr::Unary(UnaryOp::Not, Box::new(expr(c, NOT)?))
    } else {
        unary(c)?
    };
    while let Some(t) = c.peek() {
        if let Some((op, level)) = binary_op(t) {
            if level < min {
                break;
            }
            c.next();
            let right = expr(c, level + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        } else if t.is_kw("COLLATE") {
            if COLLATE < min {
                break;
            }
            c.next();
            let collation = c.name("a collation name")?;
            left = Expr::Collate {
                expr: Box::new(left),
                collation,
            };
        } else if EQUALITY < min {
            break;
        } else {
            match keyword_operator(c, left)? {
                Ok(applied) => left = applied,
                Err(unchanged) => return Ok(unchanged),
            }
        }
    }
    Ok(left)
}

/// The postfix and keyword operators of the equality level (IS, ISNULL, NOT NULL, IN, BETWEEN,
/// LIKE …) applied to `left`; `Err(left)` when none comes next.
fn keyword_operator(c: &mut Cursor, left: Expr) -> Result<Result<Expr, Expr>, SqlError> {
    let left = Box::new(left);
    let negated = c.at_kw("NOT");
    let skip = usize::from(negated);
    let Some(op) = c.peek_at(skip) else {
        return Ok(Err(*left));
    };
    if !negated && (op.is_kw("ISNULL") || op.is_kw("NOTNULL")) {
        let negated = op.is_kw("NOTNULL");
        c.next();
        return Ok(Ok(Expr::IsNull {
            expr: left,
            negated,
        }));
    }
    if negated && op.is_kw("NULL") {
        c.pos += 2;
        return Ok(Ok(Expr::IsNull {
            expr: left,
            negated: true,
        }));
    }
    if !negated && op.is_kw("IS") {
        c.next();
        let mut negated = c.eat_kw("NOT");
        if c.eat_kw("DISTINCT") {
            c.expect_kw("FROM")?;
            negated = !negated;
        }
        if c.eat_kw("NULL") {
            return Ok(Ok(Expr::IsNull {
                expr: left,
                negated,
            }));
        }
        let right = Box::new(expr(c, EQUALITY + 1)?);
        return Ok(Ok(Expr::Is {
            left,
            right,
            negated,
        }));
    }
    if op.is_kw("IN") {
        c.pos += skip + 1;
        if c.keep_qualifiers && c.at_op("(") && c.peek_at(1).is_some_and(|t| t.is_kw("SELECT")) {
            c.next();
            let select = select::select_at(c)?;
            c.expect_op(")")?;
            return Ok(Ok(Expr::InSelect {
                expr: left,
                select: Box::new(select),
                negated,
            }));
        }
        let list = in_list(c)?;
        return Ok(Ok(Expr::In {
            expr: left,
            list,
            negated,
        }));
    }
    if op.is_kw("BETWEEN") {
        c.pos += skip + 1;
        let low = Box::new(expr(c, EQUALITY + 1)?);
        c.expect_kw("AND")?;
        let high = Box::new(expr(c, EQUALITY + 1)?);
        return Ok(Ok(Expr::Between {
            expr: left,
            low,
            high,
            negated,
        }));
    }
    let Some(like) = like_op(op) else {
        return Ok(Err(*left));
    };
    c.pos += skip + 1;
    let pattern = Box::new(expr(c, EQUALITY + 1)?);
    let escape = if c.eat_kw("ESCAPE") {
        Some(Box::new(expr(c, EQUALITY + 1)?))
    } else {
        None
    };
    Ok(Ok(Expr::Like {
        op: like,
        expr: left,
        pattern,
        escape,
        negated,
    }))
}

/// `( e, … )` after IN.
fn in_list(c: &mut Cursor) -> Result<Vec<Expr>, SqlError> {
    if !c.at_op("(") {
        return Err(c.error("`(` and a list of values (IN a table is not supported)"));
    }
    c.next();
    if c.at_kw("SELECT") || c.at_kw("WITH") {
        return Err(c.error("a list of values (subqueries are not supported)"));
    }
    let mut list = Vec::new();
    if c.eat_op(")") {
        return Ok(list);
    }
    loop {
        list.push(expr(c, 0)?);
        if c.eat_op(")") {
            return Ok(list);
        }
        c.expect_op(",")?;
    }
}

/// A prefix `-`, `+`, `~`, or a primary expression.
fn unary(c: &mut Cursor) -> Result<Expr, SqlError> {
    let mut ops = Vec::new();
    loop {
        if c.eat_op("-") {
            ops.push(UnaryOp::Neg);
        } else if c.eat_op("+") {
            ops.push(UnaryOp::Plus);
        } else if c.eat_op("~") {
            ops.push(UnaryOp::BitNot);
        } else {
            break;
        }
    }
    if ops.len() > MAX_DEPTH {
        return Err(c.error("fewer prefix operators"));
    }
    let operand = primary(c)?;
    Ok(ops
        .into_iter()
        .rev()
        .fold(operand, |e, op| Expr::Unary(op, Box::new(e))))
}

const NOT_AN_OPERAND: [&str; 12] = [
    "AND", "OR", "IS", "IN", "BETWEEN", "THEN", "ELSE", "END", "WHEN", "ESCAPE", "COLLATE", "FROM",
];

fn primary(c: &mut Cursor) -> Result<Expr, SqlError> {
    let Some(t) = c.peek().cloned() else {
        return Err(c.error("an expression"));
    };
    match t.kind {
        Kind::Number => {
            c.next();
            return Ok(Expr::Number(t.text));
        }
        Kind::Str => {
            c.next();
            return Ok(Expr::Str(t.text));
        }
        Kind::Blob => {
            c.next();
            return Ok(Expr::Blob(t.text));
        }
        Kind::Variable => {
            c.next();
            return Ok(Expr::Variable(t.text));
        }
        Kind::Op if t.is_op("(") => {
            c.next();
            if c.at_kw("SELECT") && c.keep_qualifiers {
                let select = select::select_at(c)?;
                c.expect_op(")")?;
                return Ok(Expr::Subquery(Box::new(select)));
            }
            if c.at_kw("SELECT") || c.at_kw("WITH") {
                return Err(c.error("an expression (subqueries are not supported)"));
            }
            let inner = expr(c, 0)?;
            if c.at_op(",") {
                return Err(c.error("`)` (row values are not supported)"));
            }
            c.expect_op(")")?;
            return Ok(inner);
        }
        Kind::Op => return Err(c.error("an expression")),
        Kind::Word | Kind::Quoted => {}
    }
    if t.kind == Kind::Word {
        let keyword = |kw: &str| t.is_kw(kw);
        if keyword("EXISTS") && c.keep_qualifiers && c.peek_at(1).is_some_and(|n| n.is_op("(")) {
            c.pos += 2;
            let select = select::select_at(c)?;
            c.expect_op(")")?;
            return Ok(Expr::Exists(Box::new(select)));
        }
        if keyword("RAISE") && c.keep_qualifiers && c.peek_at(1).is_some_and(|n| n.is_op("(")) {
            c.pos += 2;
            return raise(c);
        }
        if NOT_AN_OPERAND.iter().any(|kw| keyword(kw))
            || ["SELECT", "EXISTS", "RAISE"].iter().any(|kw| keyword(kw))
        {
            return Err(c.error("an expression"));
        }
        let simple = [
            ("NULL", Expr::Null),
            ("TRUE", Expr::Bool(true)),
            ("FALSE", Expr::Bool(false)),
            ("CURRENT_TIMESTAMP", Expr::CurrentTime(NowKind::Timestamp)),
            ("CURRENT_DATE", Expr::CurrentTime(NowKind::Date)),
            ("CURRENT_TIME", Expr::CurrentTime(NowKind::Time)),
        ];
        if let Some((_, e)) = simple.into_iter().find(|(kw, _)| keyword(kw)) {
            c.next();
            return Ok(e);
        }
        if keyword("CAST") && c.peek_at(1).is_some_and(|n| n.is_op("(")) {
            c.pos += 2;
            let inner = expr(c, 0)?;
            c.expect_kw("AS")?;
            let from = c.pos;
            while c
                .peek()
                .is_some_and(|t| matches!(t.kind, Kind::Word | Kind::Quoted))
            {
                c.next();
            }
            if c.at_op("(") {
                c.parenthesized()?;
            }
            let type_name = c
                .text_since(from)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            c.expect_op(")")?;
            return Ok(Expr::Cast {
                expr: Box::new(inner),
                type_name,
            });
        }
        if keyword("CASE") {
            c.next();
            return case(c);
        }
    }
    c.next();
    if c.at_op("(") {
        return function(c, t.text);
    }
    if !c.at_op(".") && t.kind == Kind::Quoted && c.sql[t.start..].starts_with('"') {
        return Ok(Expr::DoubleQuoted(t.text));
    }
    let mut name = t.text;
    let mut qualifier = None;
    while c.eat_op(".") {
        qualifier = Some(name);
        name = c.name("a column name")?;
    }
    match qualifier {
        Some(table) if c.keep_qualifiers => Ok(Expr::Qualified {
            table,
            column: name,
        }),
        _ => Ok(Expr::Column(name)),
    }
}

/// `RAISE(IGNORE)` or `RAISE(ABORT|FAIL|ROLLBACK, message)`, after `RAISE (`.
fn raise(c: &mut Cursor) -> Result<Expr, SqlError> {
    let kind = ["IGNORE", "ABORT", "FAIL", "ROLLBACK"]
        .into_iter()
        .find(|kw| c.eat_kw(kw))
        .ok_or_else(|| c.error("IGNORE, ABORT, FAIL or ROLLBACK"))?;
    let message = if kind != "IGNORE" {
        c.expect_op(",")?;
        Some(Box::new(expr(c, 0)?))
    } else {
        None
    };
    c.expect_op(")")?;
    Ok(Expr::Raise {
        kind: kind.to_string(),
        message,
    })
}

fn case(c: &mut Cursor) -> Result<Expr, SqlError> {
    let operand = if c.at_kw("WHEN") {
        None
    } else {
        Some(Box::new(expr(c, 0)?))
    };
    let mut whens = Vec::new();
    while c.eat_kw("WHEN") {
        let when = expr(c, 0)?;
        c.expect_kw("THEN")?;
        whens.push((when, expr(c, 0)?));
    }
    if whens.is_empty() {
        return Err(c.error("WHEN"));
    }
    let otherwise = if c.eat_kw("ELSE") {
        Some(Box::new(expr(c, 0)?))
    } else {
        None
    };
    c.expect_kw("END")?;
    Ok(Expr::Case {
        operand,
        whens,
        otherwise,
    })
}

/// The arguments of `name(`, the cursor on the `(`.
fn function(c: &mut Cursor, name: String) -> Result<Expr, SqlError> {
    c.expect_op("(")?;
    let mut args = Vec::new();
    let mut distinct = false;
    let star = c.eat_op("*");
    if !star && !c.at_op(")") {
        distinct = c.eat_kw("DISTINCT");
        loop {
            args.push(expr(c, 0)?);
            if !c.eat_op(",") {
                break;
            }
        }
    }
    c.expect_op(")")?;
    if c.at_kw("FILTER") || c.at_kw("OVER") {
        return Err(c.error("the end of the function call (window functions are not supported)"));
    }
    Ok(Expr::Function {
        name,
        args,
        distinct,
        star,
    })
}
