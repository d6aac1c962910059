//! The `pgcarry` command: parse flags, call the library, print, map the outcome to the exit
//! codes of the product brief (0 ok, 1 failed, 2 usage, 3 finished with differences).

mod cli;
mod commands;
mod progress;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(
                if e.downcast_ref::<pgcarry::carry::prepare::RunError>()
                    .is_some_and(|r| r.is_usage())
                {
                    2
                } else {
                    1
                },
            )
        }
    }
}
