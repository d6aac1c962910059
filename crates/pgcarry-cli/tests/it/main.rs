//! Integration tests: the real `pgcarry` binary against a real PostgreSQL started for the run.
//!
//! One test binary, so everything links once and all tests share one PostgreSQL
//! (`support::pg()`); each test takes a database of its own (`support::test_db`).
//! Add a test module as one more `mod` line below.

mod support;

mod app_files;
mod backup;
mod backup_age;
mod backup_container;
mod cli;
mod concurrency;
mod config;
mod corpus;
mod doctor;
mod export;
mod export_json;
mod export_round_trip;
mod faults;
mod fidelity;
mod generated;
mod harness;
mod json;
mod layout;
mod orphans;
mod outputs;
mod ownership;
mod plan_statements;
mod rejects;
mod repairs;
mod resume;
mod round_trips;
mod sample;
mod schema;
mod schemacarry;
mod settings;
mod snapshots;
mod sqlite_schema;
mod sqlite_types;
mod tls;
mod tls_client_cert;
mod triggers;
mod verify;
mod virtual_tables;
mod wait;
mod where_it_writes;
