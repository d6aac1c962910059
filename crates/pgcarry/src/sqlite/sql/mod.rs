//! Parsing the SQL text SQLite keeps in `sqlite_schema`: `CREATE TABLE`, `CREATE INDEX`,
//! `CREATE VIEW`, and SQLite expressions.
//!
//! The pragmas give columns, keys, indexed columns and foreign keys; this module gives what they
//! do not: CHECK constraints, column collations, generated columns, AUTOINCREMENT, DEFAULT and
//! index expressions as written, partial-index predicates. It only reads SQLite's dialect and
//! keeps expressions as SQLite source text; translating them to PostgreSQL is `plan::translate`.

mod create;
pub mod expr;
pub mod fts;
pub mod parse_expr;
pub use parse_expr::select;
pub(crate) mod tokenize;
pub mod trigger_def;

pub use create::{parse_create_index, parse_create_table, parse_create_view, view_has_column_list};

/// A parsed `CREATE TABLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTable {
    /// The table name, unquoted, without schema.
    pub name: String,
    pub columns: Vec<ColumnDef>,
    /// Table-level CHECK constraints.
    pub checks: Vec<NamedExpr>,
    /// Foreign keys as written, for what `pragma foreign_key_list` does not say (DEFERRABLE).
    pub foreign_keys: Vec<ForeignKeyDef>,
    pub without_rowid: bool,
    pub strict: bool,
}

/// A `REFERENCES` clause, on a column or in a `FOREIGN KEY` table constraint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ForeignKeyDef {
    /// The referencing columns, unquoted.
    pub columns: Vec<String>,
    /// `DEFERRABLE` (not `NOT DEFERRABLE`).
    pub deferrable: bool,
    /// `DEFERRABLE INITIALLY DEFERRED`: checked at commit, the only form SQLite defers.
    pub initially_deferred: bool,
}

/// One column of a `CREATE TABLE`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnDef {
    pub name: String,
    /// The declared type as written, whitespace collapsed: `VARCHAR(64)`, `UNSIGNED BIG INT`, or
    /// empty.
    pub type_name: String,
    /// `COLLATE name` on the column.
    pub collation: Option<String>,
    /// Column-level CHECK constraints.
    pub checks: Vec<NamedExpr>,
    /// The DEFAULT as SQLite source text: `0`, `-1`, `'x'`, `CURRENT_TIMESTAMP`, `(expr)` with its
    /// parentheses.
    pub default: Option<String>,
    pub generated: Option<GeneratedDef>,
    /// Part of the primary key, declared on the column or in a table constraint.
    pub primary_key: bool,
    pub autoincrement: bool,
    pub not_null: bool,
}

/// `GENERATED ALWAYS AS (expr) VIRTUAL|STORED`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedDef {
    /// SQLite source text, without the outer parentheses.
    pub expr: String,
    pub stored: bool,
}

/// An expression with an optional constraint name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedExpr {
    /// `CONSTRAINT name`, unquoted.
    pub name: Option<String>,
    /// SQLite source text, trimmed, without the outer parentheses of `CHECK (…)`.
    pub expr: String,
}

/// A parsed `CREATE INDEX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateIndex {
    pub name: String,
    pub table: String,
    pub unique: bool,
    pub terms: Vec<IndexTerm>,
    /// A partial index's predicate, SQLite source text.
    pub where_clause: Option<String>,
}

/// One indexed term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexTerm {
    /// SQLite source text, without COLLATE/ASC/DESC.
    pub expr: String,
    /// `Some(name)`, unquoted, when the term is a plain column name.
    pub column: Option<String>,
    pub collation: Option<String>,
    pub descending: bool,
}

/// SQL that could not be parsed: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    #[error("unterminated {what} starting at byte {offset}")]
    Unterminated { what: &'static str, offset: usize },
    #[error("unexpected character {ch:?} at byte {offset}")]
    UnexpectedChar { ch: char, offset: usize },
    #[error("expected {expected} at byte {offset}, found {found}")]
    Expected {
        expected: String,
        found: String,
        offset: usize,
    },
}
