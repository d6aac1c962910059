//! The planner: from the schema model and the scan of every value, decide each column's type
//! with its reason and write every statement the migration will run, into a `Plan`.

pub mod build;
pub mod constraints;
pub mod decide;
pub mod enums;
pub mod fts;
pub mod generated;
mod names;
pub mod orphans;
pub mod print;
pub mod repair;
pub mod translate;
pub mod triggers;
pub mod views;
