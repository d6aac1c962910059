//! pgcarry carries an application's data into PostgreSQL and proves that nothing was lost.
//!
//! The pipeline, as the modules show it:
//!
//! ```text
//! source ──introspect──▶ schema model ──plan (scan + decide)──▶ Plan ──▶ DDL (tables only)
//!    │                                                            │
//!    └──read (one snapshot, one thread per table)──▶ convert ──▶ binary COPY ──▶ PostgreSQL
//!                                                     │                   │
//!                                                  rejects      indexes, constraints, sequences
//! ```
//!
//! The command-line crate (`pgcarry-cli`) only parses flags and calls into this library.

pub mod checksum;
pub mod cluster;
pub mod convert;
pub mod migrate;
pub mod plan;
pub mod progress;
pub mod rejects;
pub mod report;
pub mod run;
pub mod sample;
pub mod source;
pub mod target;
pub mod verify;
