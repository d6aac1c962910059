//! Sources pgcarry reads from. Each source turns into the schema model (`plan::model`) and
//! streams of rows; nothing here knows about PostgreSQL. JSON stores are staged into SQLite
//! (`json`) and then read as SQLite.

pub mod backup;
pub mod json;
pub mod sqlite;
