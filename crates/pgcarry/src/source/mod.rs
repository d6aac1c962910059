//! Sources pgcarry reads from. Each source turns into the schema model (`plan::model`) and
//! streams of rows; nothing here knows about PostgreSQL.

pub mod sqlite;
