//! Waiting for a server to accept a real query: for container entrypoints and deploy scripts
//! (`pgcarry wait && exec app`). Attempts back off exponentially with jitter, each bounded by
//! the time left; every attempt is reported, and the last error is returned at the timeout.

use super::conn::ConnSettings;
use crate::work::retry::{Kind, Policy, retry};
use std::time::{Duration, Instant};

/// How the wait ended well.
#[derive(Debug, Clone)]
pub struct Ready {
    pub attempts: u32,
    pub elapsed: Duration,
    pub server_version: String,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "{target} did not accept a query within {timeout:?} ({attempts} attempts); last error: {last}"
)]
pub struct WaitTimeout {
    pub target: String,
    pub timeout: Duration,
    pub attempts: u32,
    pub last: String,
}

/// Why the wait ended without a server that answers.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error(transparent)]
    Timeout(#[from] WaitTimeout),
    /// The server answered and refused the password (or wanted one): waiting longer cannot
    /// help, so the wait stops at once.
    #[error("{0}")]
    Refused(String),
}

/// Tries until `SELECT version()` succeeds or `timeout` passes; `on_attempt(n, error, delay)`
/// hears about every failed attempt. A wrong or missing password ends it at once.
pub fn wait(
    target: &ConnSettings,
    timeout: Duration,
    on_attempt: &mut dyn FnMut(u32, &str, Duration),
) -> Result<Ready, WaitError> {
    let started = Instant::now();
    let policy = Policy::within(timeout);
    let mut attempts = 0;
    let answered = retry(
        policy,
        |n| {
            attempts = n;
            let left = policy.left().unwrap_or(timeout);
            try_once(
                target,
                left.clamp(Duration::from_secs(1), Duration::from_secs(10)),
            )
        },
        |e| match e {
            Failure::Refused(_) => Kind::Permanent,
            Failure::NotYet(_) => Kind::Transient,
        },
        |n, e, delay| on_attempt(n, e.text(), delay),
    );
    match answered {
        Ok(server_version) => Ok(Ready {
            attempts,
            elapsed: started.elapsed(),
            server_version,
        }),
        Err(Failure::Refused(why)) => Err(WaitError::Refused(why)),
        Err(Failure::NotYet(last)) => Err(WaitTimeout {
            target: target.redacted(),
            timeout,
            attempts,
            last,
        }
        .into()),
    }
}

/// Why one attempt failed.
enum Failure {
    /// Waiting may cure it: the server is not up, not reachable, or not ready.
    NotYet(String),
    /// Waiting cannot cure it: the password was refused or is missing.
    Refused(String),
}

impl Failure {
    fn text(&self) -> &str {
        match self {
            Failure::NotYet(t) | Failure::Refused(t) => t,
        }
    }
}

/// One attempt: connect within `connect_timeout` and run `SELECT version()`.
fn try_once(target: &ConnSettings, connect_timeout: Duration) -> Result<String, Failure> {
    match target.with_connect_timeout(connect_timeout).connect() {
        Ok(mut client) => match client.query_one("SELECT version()", &[]) {
            Ok(row) => Ok(row.get(0)),
            Err(e) => Err(Failure::NotYet(super::error::describe_pg_error(&e))),
        },
        Err(
            e @ (super::conn::ConnError::PasswordFailed { .. }
            | super::conn::ConnError::PasswordMissing { .. }),
        ) => Err(Failure::Refused(e.to_string())),
        Err(e) => Err(Failure::NotYet(e.to_string())),
    }
}

/// Parses `60s`, `2m`, `500ms`, `1h` or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&t[..i], t[i..].trim()),
        None => (t, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: use e.g. 60s, 2m, 500ms"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "sec" | "secs" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(format!(
                "invalid duration unit in {text:?}: use ms, s, m or h"
            ));
        }
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("invalid duration {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("15"), Ok(Duration::from_secs(15)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }
}
