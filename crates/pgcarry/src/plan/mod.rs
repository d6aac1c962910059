//! The plan: the schema model read from a source, every type decision with its reason, and the
//! `Plan` value that `plan` prints, the report serialises and `migrate` executes unchanged.

pub mod decide;
pub mod model;
pub mod translate;
pub mod types;
