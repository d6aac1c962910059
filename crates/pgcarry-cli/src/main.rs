//! The `pgcarry` command: parse flags, call the library, print, map the outcome to the exit
//! codes of the product brief (0 ok, 1 failed, 2 usage, 3 finished with differences).

mod cli;
mod commands;
mod doctor;
mod package;
mod progress;
mod schema;

use clap::Parser;
use pgcarry::{ExitStatus, RunError};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let status = commands::run(cli).unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        e.downcast_ref::<pgcarry::RunError>()
            .map_or(ExitStatus::Failure, RunError::exit_status)
    });
    ExitCode::from(status.code())
}
