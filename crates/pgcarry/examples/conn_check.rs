//! Connect to a target the way pgcarry resolves `--to` and say what the connection is.
//!
//! `cargo run -p pgcarry --example conn_check -- 'postgresql://u@host:port/db?sslmode=require'`
//! (or no argument: DATABASE_URL, `.env`, then the PG* variables). Prints the redacted target
//! and whether the session is encrypted, per `pg_stat_ssl`; a manual check for TLS set-ups.

use std::process::ExitCode;

use pgcarry::ConnSettings;

fn main() -> ExitCode {
    let explicit = std::env::args().nth(1);
    let settings = match ConnSettings::resolve(explicit.as_deref()) {
        Ok(settings) => settings,
        Err(e) => return fail(&e),
    };
    println!("target: {settings}");
    let mut client = match settings.connect() {
        Ok(client) => client,
        Err(e) => return fail(&e),
    };
    let query = "SELECT ssl, coalesce(version, ''), current_setting('application_name') \
                 FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    match client.query_one(query, &[]) {
        Ok(row) => {
            let (ssl, version, app): (bool, String, String) = (row.get(0), row.get(1), row.get(2));
            println!("connected: ssl={ssl} {version} application_name={app}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn fail(error: &dyn std::error::Error) -> ExitCode {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    eprintln!("error: {text}");
    ExitCode::FAILURE
}
