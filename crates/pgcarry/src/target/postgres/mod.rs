//! PostgreSQL as the target: connections, DDL, binary COPY, constraints, sequences.

pub mod conn;
mod conn_error;
mod conninfo;
pub mod copy;
pub mod ddl;
pub mod ident;
pub mod load;
pub mod owned;
pub mod resume;
pub mod structure;
mod tls;
pub mod verify;
pub mod views;
pub mod wait;
