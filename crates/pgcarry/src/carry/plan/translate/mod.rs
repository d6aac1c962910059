//! Translating SQLite expressions (DEFAULTs, CHECKs, index expressions, partial-index
//! predicates, generated columns) into PostgreSQL SQL with the same meaning.
//!
//! The rule: translate what means the same in PostgreSQL, refuse with an `Untranslatable` that
//! says why whatever would mean something else. Everything emitted is also tried on the server,
//! which catches type errors; this module must never emit SQL that PostgreSQL accepts but reads
//! differently. The output is fully parenthesised (SQLite's operator precedence is not
//! PostgreSQL's), identifiers are always quoted, literals re-quoted.

mod calls;
mod default;
mod now;
pub mod trigger;
pub mod view;

pub use default::{is_null_default, translate_default};

use crate::model::types::PgType;
use crate::postgres::ident::{quote_ident, quote_literal};
use crate::sqlite::sql::expr::{BinaryOp, Expr, LikeOp, UnaryOp};
use crate::sqlite::sql::parse_expr::parse_expr;

/// What a translation needs to know about the table.
pub struct ExprContext<'a> {
    /// A source column name (SQLite compares names ignoring case) to its target name and type;
    /// `None` for an unknown name.
    pub columns: &'a dyn Fn(&str) -> Option<(String, PgType)>,
}

/// A SQLite expression that has no PostgreSQL equivalent pgcarry can vouch for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Untranslatable {
    pub reason: String,
}

fn refuse<T>(reason: impl Into<String>) -> Result<T, Untranslatable> {
    Err(Untranslatable {
        reason: reason.into(),
    })
}

/// `sqlite_expr` (SQLite source text) as PostgreSQL SQL.
pub fn translate_expr(sqlite_expr: &str, ctx: &ExprContext) -> Result<String, Untranslatable> {
    let expr = parse(sqlite_expr)?;
    Render { ctx, scope: None }.expr(&expr)
}

fn parse(sqlite_expr: &str) -> Result<Expr, Untranslatable> {
    parse_expr(sqlite_expr).or_else(|e| refuse(format!("cannot read `{sqlite_expr}`: {e}")))
}

/// Where the names of a SELECT come from (its FROM clause): a column reference, qualified or
/// not, as rendered SQL and with its type when known.
pub(crate) trait Scope {
    fn resolve(&self, table: Option<&str>, column: &str) -> Option<(String, Option<PgType>)>;
    /// A subquery, rendered without its parentheses; `one_column` when it is used as a value
    /// or with IN.
    fn subquery(
        &self,
        select: &crate::sqlite::sql::select::Select,
        one_column: bool,
    ) -> Result<String, Untranslatable>;
}

struct Render<'c, 'a> {
    ctx: &'c ExprContext<'a>,
    /// In a view: names resolve through the FROM clause, aggregates are allowed.
    scope: Option<&'c dyn Scope>,
}

/// What is statically known of an operand's type.
fn known_type(e: &Expr, r: &Render) -> Option<PgType> {
    match e {
        Expr::Column(name) => r.lookup(None, name).and_then(|(_, t)| t),
        Expr::Qualified { table, column } => r.lookup(Some(table), column).and_then(|(_, t)| t),
        Expr::DoubleQuoted(name) => r.lookup(None, name).map_or(Some(PgType::Text), |(_, t)| t),
        Expr::Number(n) if is_integer_literal(n) => Some(PgType::BigInt),
        Expr::Number(_) => Some(PgType::DoublePrecision),
        Expr::Unary(UnaryOp::Neg | UnaryOp::Plus, inner) => known_type(inner, r),
        Expr::Str(_) => Some(PgType::Text),
        _ => None,
    }
}

fn is_integer_literal(n: &str) -> bool {
    n.bytes().all(|b| b.is_ascii_digit()) || n.starts_with("0x") || n.starts_with("0X")
}

fn is_number(e: &Expr) -> bool {
    match e {
        Expr::Number(_) => true,
        Expr::Unary(UnaryOp::Neg | UnaryOp::Plus, inner) => is_number(inner),
        _ => false,
    }
}

/// Text that SQLite's numeric affinity turns into a number (spaces around allowed).
const NUMERIC_TEXT: &str = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$";

fn is_number_type(t: &PgType) -> bool {
    matches!(
        t,
        PgType::SmallInt
            | PgType::Integer
            | PgType::BigInt
            | PgType::Numeric { .. }
            | PgType::DoublePrecision
    )
}

fn is_text(t: Option<&PgType>) -> bool {
    matches!(t, Some(PgType::Text | PgType::Varchar { .. }))
}

impl Render<'_, '_> {
    fn expr(&self, e: &Expr) -> Result<String, Untranslatable> {
        if let Some(now) = now::as_now(e) {
            return now::render_now(&now, None);
        }
        Ok(match e {
            Expr::Column(name) => self.column(None, name)?,
            Expr::Qualified { table, column } => self.column(Some(table), column)?,
            // SQLite reads an unknown double-quoted name as a string.
            Expr::DoubleQuoted(name) => match self.lookup(None, name) {
                Some((rendered, _)) => rendered,
                None => quote_literal(name),
            },
            Expr::Str(s) => quote_literal(s),
            Expr::Number(n) => number(n)?,
            Expr::Blob(hex) => format!("'\\x{}'::bytea", hex.to_ascii_lowercase()),
            Expr::Null => "NULL".into(),
            Expr::Bool(b) => b.to_string(),
            Expr::CurrentTime(kind) => now::render_now(&now::Now::Kind(*kind), None)?,
            Expr::Variable(v) => return refuse(format!("parameter {v} has no value in a schema")),
            Expr::Unary(op, inner) => match op {
                UnaryOp::Not => format!("NOT {}", self.operand(inner)?),
                UnaryOp::Neg => {
                    let x = self.operand(inner)?;
                    // `--` would start a comment.
                    if x.starts_with('-') {
                        format!("-({x})")
                    } else {
                        format!("-{x}")
                    }
                }
                // SQLite's unary plus does nothing, even to text.
                UnaryOp::Plus => self.operand(inner)?,
                UnaryOp::BitNot => format!("~{}", self.operand(inner)?),
            },
            Expr::Binary(op, l, r) => self.binary(*op, l, r)?,
            Expr::Is {
                left,
                right,
                negated,
            } => {
                let (l, r) = self.compared(left, right)?;
                match (right.as_ref(), *negated) {
                    (Expr::Bool(_), false) => format!("{l} IS {r}"),
                    (Expr::Bool(_), true) => format!("{l} IS NOT {r}"),
                    (_, false) => format!("{l} IS NOT DISTINCT FROM {r}"),
                    (_, true) => format!("{l} IS DISTINCT FROM {r}"),
                }
            }
            Expr::IsNull { expr, negated } => {
                let not = if *negated { " NOT" } else { "" };
                format!("{} IS{not} NULL", self.operand(expr)?)
            }
            Expr::In {
                expr,
                list,
                negated,
            } => self.in_list(expr, list, *negated)?,
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let not = if *negated { "NOT " } else { "" };
                let mut x = self.operand(expr)?;
                if self.is_text_column(expr) {
                    x = format!("({x} COLLATE \"C\")");
                }
                format!(
                    "{x} {not}BETWEEN {} AND {}",
                    self.operand(low)?,
                    self.operand(high)?
                )
            }
            Expr::Like {
                op,
                expr,
                pattern,
                escape,
                negated,
            } => self.like(*op, expr, pattern, escape.as_deref(), *negated)?,
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => self.case(operand.as_deref(), whens, otherwise.as_deref())?,
            Expr::Cast { expr, type_name } => self.cast(expr, type_name)?,
            Expr::Function {
                name,
                args,
                distinct,
                star,
            } => {
                if let Some(sql) = self.aggregate(name, args, *distinct, *star)? {
                    sql
                } else if *distinct || *star {
                    return refuse(format!("aggregate call {name}(…) in an expression"));
                } else {
                    self.function(name, args)?
                }
            }
            Expr::Raise { .. } => return refuse("RAISE() outside of a trigger program"),
            Expr::Subquery(select) => match self.scope {
                Some(scope) => format!("({})", scope.subquery(select, true)?),
                None => return refuse("a subquery in a schema expression"),
            },
            Expr::Exists(select) => match self.scope {
                Some(scope) => format!("EXISTS ({})", scope.subquery(select, false)?),
                None => return refuse("a subquery in a schema expression"),
            },
            Expr::InSelect {
                expr,
                select,
                negated,
            } => match self.scope {
                Some(scope) => {
                    let not = if *negated { "NOT " } else { "" };
                    let x = self.operand(expr)?;
                    format!("{x} {not}IN ({})", scope.subquery(select, true)?)
                }
                None => return refuse("a subquery in a schema expression"),
            },
            Expr::Collate { expr, collation } => {
                if !collation.eq_ignore_ascii_case("BINARY") {
                    return refuse(format!(
                        "COLLATE {collation} has no exact PostgreSQL equivalent"
                    ));
                }
                format!("{} COLLATE \"C\"", self.operand(expr)?)
            }
        })
    }

    /// True for a name that resolves to a column.
    fn is_column(&self, e: &Expr) -> bool {
        match e {
            Expr::Column(_) | Expr::Qualified { .. } => true,
            Expr::DoubleQuoted(name) => self.lookup(None, name).is_some(),
            _ => false,
        }
    }

    fn is_text_column(&self, e: &Expr) -> bool {
        self.is_column(e) && is_text(known_type(e, self).as_ref())
    }

    /// A column reference: rendered SQL and its type when known.
    fn lookup(&self, table: Option<&str>, name: &str) -> Option<(String, Option<PgType>)> {
        match self.scope {
            Some(scope) => scope.resolve(table, name),
            None => (self.ctx.columns)(name).map(|(n, t)| (quote_ident(&n), Some(t))),
        }
    }

    fn column(&self, table: Option<&str>, name: &str) -> Result<String, Untranslatable> {
        match self.lookup(table, name) {
            Some((rendered, _)) => Ok(rendered),
            None => match table {
                Some(t) => refuse(format!("unknown column `{t}.{name}`")),
                None => refuse(format!("unknown column `{name}`")),
            },
        }
    }

    /// An operand of an operator: parenthesised unless it is atomic.
    fn operand(&self, e: &Expr) -> Result<String, Untranslatable> {
        let text = self.expr(e)?;
        let atomic = match e {
            Expr::Unary(UnaryOp::Neg, inner) => matches!(inner.as_ref(), Expr::Number(_)),
            Expr::Unary(UnaryOp::Plus, inner) => return self.operand(inner),
            Expr::Unary(..)
            | Expr::Binary(..)
            | Expr::Is { .. }
            | Expr::IsNull { .. }
            | Expr::In { .. }
            | Expr::InSelect { .. }
            | Expr::Between { .. }
            | Expr::Like { .. }
            | Expr::Collate { .. } => false,
            _ => true,
        };
        Ok(if atomic { text } else { format!("({text})") })
    }

    /// Both sides of an equality, a literal 0/1 facing a boolean column turned into false/true.
    fn compared(&self, left: &Expr, right: &Expr) -> Result<(String, String), Untranslatable> {
        let lt = known_type(left, self);
        let rt = known_type(right, self);
        let side = |e: &Expr, other: Option<&PgType>| match other {
            Some(PgType::Boolean) if !self.is_column(e) => self.boolean_operand(e),
            // SQLite gives the number the text column's affinity: it compares as text.
            Some(PgType::Text | PgType::Varchar { .. }) if matches!(e, Expr::Number(_)) => {
                match e {
                    Expr::Number(n) if n.bytes().all(|b| b.is_ascii_digit()) => {
                        Ok(quote_literal(n))
                    }
                    _ => refuse(format!(
                        "compares a text column with the number {}, which SQLite compares as its text",
                        self.expr(e).unwrap_or_default()
                    )),
                }
            }
            Some(t) => match now::as_now(e) {
                Some(now) => now::render_now(&now, Some(t)),
                None => self.operand(e),
            },
            None => self.operand(e),
        };
        let l = if self.is_column(left) {
            self.operand(left)?
        } else {
            side(left, rt.as_ref())?
        };
        let r = side(right, lt.as_ref())?;
        // A number column facing a text column: SQLite gives the text numeric affinity, so
        // text that reads as a number compares as that number, other text equals no number.
        let as_number = |sql: String| {
            format!("(CASE WHEN {sql} ~ '{NUMERIC_TEXT}' THEN CAST({sql} AS numeric) END)")
        };
        let (number, text) = (
            |t: &Option<PgType>| t.as_ref().is_some_and(is_number_type),
            |e: &Expr, t: &Option<PgType>| self.is_column(e) && is_text(t.as_ref()),
        );
        Ok(match () {
            () if number(&lt) && self.is_column(left) && text(right, &rt) => (l, as_number(r)),
            () if number(&rt) && self.is_column(right) && text(left, &lt) => (as_number(l), r),
            () => (l, r),
        })
    }

    /// True when a comparison of `l` and `r` compares text with text (not a number column
    /// facing a text one, which [`Render::compared`] turns into numbers).
    fn compares_text(&self, l: &Expr, r: &Expr) -> bool {
        let numeric = |e: &Expr| known_type(e, self).is_some_and(|t| is_number_type(&t));
        [l, r].into_iter().any(|e| self.is_text_column(e)) && !numeric(l) && !numeric(r)
    }

    /// A value compared with a boolean column: SQLite stores the booleans as 0 and 1.
    fn boolean_operand(&self, e: &Expr) -> Result<String, Untranslatable> {
        match e {
            Expr::Number(n) if n == "0" => Ok("false".into()),
            Expr::Number(n) if n == "1" => Ok("true".into()),
            Expr::Bool(b) => Ok(b.to_string()),
            Expr::Str(s) if s.eq_ignore_ascii_case("true") => Ok("true".into()),
            Expr::Str(s) if s.eq_ignore_ascii_case("false") => Ok("false".into()),
            Expr::Number(_) | Expr::Str(_) | Expr::Unary(UnaryOp::Neg, _) => refuse(format!(
                "compares a boolean column with {}, which is neither 0 nor 1",
                self.expr(e).unwrap_or_else(|_| "a value".into())
            )),
            _ => self.operand(e),
        }
    }

    fn binary(&self, op: BinaryOp, l: &Expr, r: &Expr) -> Result<String, Untranslatable> {
        let symbol = match op {
            BinaryOp::Or => "OR",
            BinaryOp::And => "AND",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::Shl => "<<",
            BinaryOp::Shr => ">>",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Concat => "||",
            BinaryOp::JsonArrow | BinaryOp::JsonArrowText => {
                return refuse("SQLite's JSON operators -> and ->> return SQLite JSON text");
            }
        };
        let types = [known_type(l, self), known_type(r, self)];
        let any = |f: &dyn Fn(&PgType) -> bool| types.iter().flatten().any(f);
        let arithmetic = matches!(
            op,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem
        );
        if arithmetic && any(&|t| is_text(Some(t))) {
            return refuse(format!(
                "{symbol} on text: SQLite converts the text to a number (text that is not one \
                 counts as 0), PostgreSQL does not"
            ));
        }
        match op {
            BinaryOp::Eq | BinaryOp::Ne => {
                let (l, r) = self.compared(l, r)?;
                return Ok(format!("{l} {symbol} {r}"));
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
                if (self.is_text_column(l) && is_number(r))
                    || (self.is_text_column(r) && is_number(l)) =>
            {
                return refuse(
                    "orders a text column against a number: SQLite's answer depends on the \
                     column's affinity (numbers or text), PostgreSQL's would compare text",
                );
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                // SQLite orders text by bytes; the database's default collation may not.
                let collate = if self.compares_text(l, r) {
                    " COLLATE \"C\""
                } else {
                    ""
                };
                let (l, r) = self.compared(l, r)?;
                return Ok(format!("{l} {symbol} {r}{collate}"));
            }
            BinaryOp::Rem
                if any(&|t| matches!(t, PgType::DoublePrecision | PgType::Numeric { .. })) =>
            {
                return refuse(
                    "% on non-integers: SQLite truncates the operands to integers first",
                );
            }
            BinaryOp::Div if any(&|t| matches!(t, PgType::Numeric { .. })) => {
                return refuse("/ on a numeric column: SQLite divides integral values as integers");
            }
            BinaryOp::Concat
                if any(&|t| {
                    matches!(
                        t,
                        PgType::DoublePrecision | PgType::Numeric { .. } | PgType::Boolean
                    )
                }) =>
            {
                return refuse(
                    "|| on a real, numeric or boolean value: SQLite and PostgreSQL write them as \
                     different text",
                );
            }
            // SQLite's x / 0 and x % 0 are NULL; PostgreSQL's raise an error.
            BinaryOp::Div | BinaryOp::Rem => {
                return Ok(format!(
                    "{} {symbol} NULLIF({}, 0)",
                    self.operand(l)?,
                    self.operand(r)?
                ));
            }
            _ => {}
        }
        Ok(format!(
            "{} {symbol} {}",
            self.operand(l)?,
            self.operand(r)?
        ))
    }

    fn in_list(&self, expr: &Expr, list: &[Expr], negated: bool) -> Result<String, Untranslatable> {
        if list.is_empty() {
            // SQLite: `x IN ()` is false, even for NULL; PostgreSQL has no empty list.
            return Ok((if negated { "true" } else { "false" }).into());
        }
        let boolean = known_type(expr, self) == Some(PgType::Boolean);
        let items = list
            .iter()
            .map(|e| {
                if boolean {
                    self.boolean_operand(e)
                } else {
                    self.expr(e)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let not = if negated { "NOT " } else { "" };
        Ok(format!(
            "{} {not}IN ({})",
            self.operand(expr)?,
            items.join(", ")
        ))
    }

    fn like(
        &self,
        op: LikeOp,
        expr: &Expr,
        pattern: &Expr,
        escape: Option<&Expr>,
        negated: bool,
    ) -> Result<String, Untranslatable> {
        let name = match op {
            LikeOp::Like => "LIKE",
            LikeOp::Glob => "GLOB",
            LikeOp::Regexp => "REGEXP",
            LikeOp::Match => "MATCH",
        };
        if op != LikeOp::Like {
            return refuse(format!("{name} has no exact PostgreSQL equivalent"));
        }
        if let Expr::Str(p) = pattern
            && !p.is_ascii()
        {
            return refuse(
                "LIKE with non-ASCII letters: SQLite ignores case for ASCII letters only, \
                 ILIKE for all",
            );
        }
        let not = if negated { "NOT " } else { "" };
        let mut out = format!(
            "{} {not}ILIKE {}",
            self.operand(expr)?,
            self.operand(pattern)?
        );
        match escape {
            Some(e) => out.push_str(&format!(" ESCAPE {}", self.operand(e)?)),
            // SQLite has no default escape character; PostgreSQL's is the backslash.
            None if !matches!(pattern, Expr::Str(p) if !p.contains('\\')) => {
                out.push_str(" ESCAPE ''");
            }
            None => {}
        }
        Ok(out)
    }

    fn case(
        &self,
        operand: Option<&Expr>,
        whens: &[(Expr, Expr)],
        otherwise: Option<&Expr>,
    ) -> Result<String, Untranslatable> {
        let mut out = String::from("CASE");
        let boolean = operand.and_then(|o| known_type(o, self)) == Some(PgType::Boolean);
        if let Some(o) = operand {
            out.push_str(&format!(" {}", self.operand(o)?));
        }
        for (when, then) in whens {
            let when = if boolean {
                self.boolean_operand(when)?
            } else {
                self.expr(when)?
            };
            out.push_str(&format!(" WHEN {when} THEN {}", self.expr(then)?));
        }
        if let Some(e) = otherwise {
            out.push_str(&format!(" ELSE {}", self.expr(e)?));
        }
        out.push_str(" END");
        Ok(out)
    }
}

/// A numeric literal as PostgreSQL reads it: hexadecimal becomes decimal.
fn number(n: &str) -> Result<String, Untranslatable> {
    match n.strip_prefix("0x").or_else(|| n.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16)
            // SQLite reads hex literals as 64-bit two's complement.
            .map(|v| i64::from_ne_bytes(v.to_ne_bytes()).to_string())
            .or_else(|_| refuse(format!("hexadecimal literal {n} does not fit in 64 bits"))),
        None => Ok(n.to_string()),
    }
}

#[cfg(test)]
#[path = "expr_tests.rs"]
mod tests;
