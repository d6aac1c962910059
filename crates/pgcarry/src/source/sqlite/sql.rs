//! Parsing the SQL text SQLite keeps in `sqlite_schema` (CREATE TABLE / CREATE INDEX).
//! (stub with the agreed API; replaced by the real parser)

#[derive(Debug, Clone, Default)]
pub struct CreateTable {
    pub name: String,
    pub columns: Vec<ColumnDef>,
    pub checks: Vec<NamedExpr>,
    pub without_rowid: bool,
    pub strict: bool,
}
#[derive(Debug, Clone, Default)]
pub struct ColumnDef {
    pub name: String,
    pub type_name: String,
    pub collation: Option<String>,
    pub checks: Vec<NamedExpr>,
    pub default: Option<String>,
    pub generated: Option<GeneratedDef>,
    pub primary_key: bool,
    pub autoincrement: bool,
    pub not_null: bool,
}
#[derive(Debug, Clone, Default)]
pub struct GeneratedDef {
    pub expr: String,
    pub stored: bool,
}
#[derive(Debug, Clone, Default)]
pub struct NamedExpr {
    pub name: Option<String>,
    pub expr: String,
}
#[derive(Debug, Clone, Default)]
pub struct CreateIndex {
    pub name: String,
    pub table: String,
    pub unique: bool,
    pub terms: Vec<IndexTerm>,
    pub where_clause: Option<String>,
}
#[derive(Debug, Clone, Default)]
pub struct IndexTerm {
    pub expr: String,
    pub column: Option<String>,
    pub collation: Option<String>,
    pub descending: bool,
}
#[derive(Debug, thiserror::Error)]
#[error("cannot parse SQL: {0}")]
pub struct SqlError(String);

pub fn parse_create_table(_sql: &str) -> Result<CreateTable, SqlError> {
    Err(SqlError("parser not yet merged".into()))
}
pub fn parse_create_index(_sql: &str) -> Result<CreateIndex, SqlError> {
    Err(SqlError("parser not yet merged".into()))
}
