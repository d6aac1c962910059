//! SQLite as a source: introspection through the pragmas and `sqlite_schema`, a scan of the
//! actual values, and readers that all see one consistent snapshot.

pub mod sql;
