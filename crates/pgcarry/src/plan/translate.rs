//! Translating SQLite expressions (defaults, CHECKs, index expressions) into PostgreSQL SQL.
//! (stub: being written)
