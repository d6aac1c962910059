//! The route SQLite/JSON → PostgreSQL: prepare a source (stage a JSON store, pin a SQLite
//! snapshot, introspect, scan), plan every decision, encode rows exactly, execute the plan, and
//! verify the result.

pub mod archive;
pub mod encode;
pub mod execute;
pub mod output;
pub mod plan;
pub mod prepare;
pub mod rejects;
pub mod verify;
