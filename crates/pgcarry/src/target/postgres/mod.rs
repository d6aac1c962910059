//! PostgreSQL as the target: connections, DDL, binary COPY, constraints, sequences.

pub mod conn;
pub mod copy;
pub mod ident;
