//! PostgreSQL as the target: connections, DDL, binary COPY, constraints, sequences.

pub mod conn;
mod conn_error;
mod conninfo;
pub mod ident;
mod tls;
