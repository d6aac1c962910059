//! SQLite expressions as a tree: operators, IS/IN/BETWEEN/LIKE, CASE, CAST, function calls,
//! literals and names, as `parse_expr` reads them. What an expression means in PostgreSQL is
//! decided by `plan::translate`. Subqueries, row values and window functions have no node: the
//! parser refuses them (no schema expression pgcarry translates needs them).

pub use super::parse_expr::parse_expr;

/// A SQLite expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A column, unquoted; a `table.` or `schema.table.` prefix is dropped.
    Column(String),
    /// `table.column` (also `schema.table.column`), kept only when parsing a SELECT.
    Qualified {
        table: String,
        column: String,
    },
    /// A lone `"name"`: a column, or (SQLite's legacy fallback for double quotes) the string
    /// `'name'` when no column has that name.
    DoubleQuoted(String),
    /// A string literal, unquoted.
    Str(String),
    /// A numeric literal, as written (`1`, `1.5e3`, `0x1F`).
    Number(String),
    /// A blob literal's hex digits.
    Blob(String),
    Null,
    Bool(bool),
    /// `CURRENT_TIMESTAMP`, `CURRENT_DATE` or `CURRENT_TIME`.
    CurrentTime(NowKind),
    /// `?`, `:name`, …
    Variable(String),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `a IS b` / `a IS NOT b` (also `IS [NOT] DISTINCT FROM`, stored with `negated` flipped).
    Is {
        left: Box<Expr>,
        right: Box<Expr>,
        negated: bool,
    },
    /// `a IS NULL`, `a ISNULL`; negated: `IS NOT NULL`, `NOTNULL`, `NOT NULL`.
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    /// LIKE, GLOB, REGEXP or MATCH.
    Like {
        op: LikeOp,
        expr: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<Box<Expr>>,
        negated: bool,
    },
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    /// `CAST(expr AS type)`, the type as written.
    Cast {
        expr: Box<Expr>,
        type_name: String,
    },
    /// `name(args)`; `star` for `count(*)`.
    Function {
        name: String,
        args: Vec<Expr>,
        distinct: bool,
        star: bool,
    },
    Collate {
        expr: Box<Expr>,
        collation: String,
    },
    /// `(SELECT …)`, read only when parsing a SELECT (views).
    Subquery(Box<super::select::Select>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NowKind {
    Timestamp,
    Date,
    Time,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
    BitNot,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    BitAnd,
    BitOr,
    Shl,
    Shr,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Concat,
    /// `->`
    JsonArrow,
    /// `->>`
    JsonArrowText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LikeOp {
    Like,
    Glob,
    Regexp,
    Match,
}

#[cfg(test)]
#[path = "expr_tests.rs"]
mod tests;
