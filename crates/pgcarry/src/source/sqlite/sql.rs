//! Parsing the SQL text SQLite keeps in `sqlite_schema` (CREATE TABLE / CREATE INDEX).
//! (stub: being written)
