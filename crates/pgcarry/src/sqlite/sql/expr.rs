//! SQLite expressions as a tree: operators, IS/IN/BETWEEN/LIKE, CASE, CAST, function calls,
//! literals and names, as `parse_expr` reads them. What an expression means in PostgreSQL is
//! decided by `plan::translate`. Subqueries, row values and window functions have no node: the
//! parser refuses them (no schema expression pgcarry translates needs them).

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
    Subquery(Box<Select>),
    /// `x [NOT] IN (SELECT …)`, read only when parsing a SELECT.
    InSelect {
        expr: Box<Expr>,
        select: Box<Select>,
        negated: bool,
    },
    /// `EXISTS (SELECT …)`, read only when parsing a SELECT.
    Exists(Box<Select>),
    /// `RAISE(kind, message)` of a trigger program (`kind` upper-case; no message for
    /// IGNORE), read only when parsing a SELECT.
    Raise {
        kind: String,
        message: Option<Box<Expr>>,
    },
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

/// A whole SELECT statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Select {
    /// The first core, then each compound operator with the core it brings.
    pub first: SelectCore,
    pub compound: Vec<(Compound, SelectCore)>,
    pub order_by: Vec<OrderTerm>,
    /// `LIMIT n [OFFSET m]`, as expressions.
    pub limit: Option<(Expr, Option<Expr>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compound {
    Union,
    UnionAll,
    Intersect,
    Except,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectCore {
    pub distinct: bool,
    pub columns: Vec<ResultColumn>,
    pub from: Vec<FromItem>,
    pub where_clause: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultColumn {
    /// `*`
    Star,
    /// `t.*`
    TableStar(String),
    /// An expression, its alias, and its source text (SQLite names an unaliased column by it).
    Expr {
        expr: Expr,
        alias: Option<String>,
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// The first table.
    First,
    /// `,` or `CROSS JOIN`.
    Cross,
    Inner,
    Left,
}

/// One table in FROM, with how it joins the ones before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromItem {
    pub join: Join,
    pub table: String,
    pub alias: Option<String>,
    pub on: Option<Expr>,
    pub using: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTerm {
    pub expr: Expr,
    pub descending: bool,
    /// `NULLS FIRST` (true) or `NULLS LAST` (false) when written.
    pub nulls_first: Option<bool>,
}
