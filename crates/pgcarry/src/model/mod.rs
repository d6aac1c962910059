//! The shared vocabulary at the bottom of the crate: the schema model of a source, PostgreSQL
//! types, the user's `--config`, the `Plan`, and the outcomes of a run. Plain values that can
//! be printed and serialised; this module imports nothing else of the crate and does no I/O
//! beyond reading the config file it is handed.

pub mod config;
pub mod json;
pub mod outcome;
pub mod plan;
pub mod schema;
pub mod source_record;
pub mod types;
