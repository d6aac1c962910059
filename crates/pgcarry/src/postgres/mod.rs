//! PostgreSQL, the engine: connection settings the way libpq users expect them (URLs, `.env`,
//! `PG*`, TLS), errors told apart, identifiers, binary COPY in and out, the run lock, waiting
//! for a server, the server tools on the machine, and a throw-away local cluster. Nothing here
//! knows about a source or a plan.

pub mod catalog;
pub mod cluster;
pub mod conn;
mod conn_error;
mod conninfo;
pub mod copy_in;
pub mod copy_out;
pub mod error;
pub mod ident;
pub mod introspect;
pub mod lock;
mod service;
mod sslmode;
pub mod state_sql;
mod tls;
pub mod tools;
pub mod wait;
mod x509;
