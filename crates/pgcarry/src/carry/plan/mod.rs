//! The planner: from the schema model and the scan of every value, decide each column's type
//! with its reason and write every statement the migration will run, into a `Plan`.

pub mod build;
mod columns;
pub mod constraints;
pub mod decide;
pub mod enums;
pub mod existing;
pub mod fts;
pub mod generated;
pub mod load;
mod names;
pub mod orphans;
pub mod print;
pub mod repair;
pub mod sequence;
pub mod skips;
pub mod statements;
mod table;
pub mod translate;
pub mod triggers;
pub mod views;
