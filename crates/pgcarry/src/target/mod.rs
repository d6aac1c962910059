//! Targets pgcarry writes to.

pub mod postgres;
