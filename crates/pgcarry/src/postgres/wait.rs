//! Waiting for a server to accept a real query: for container entrypoints and deploy scripts
//! (`pgcarry wait && exec app`). Attempts back off exponentially with jitter, each bounded by
//! the time left (the timeout is a hard deadline, a silent server included); every attempt is
//! reported, and the last error is returned at the timeout. Failures that waiting cannot cure
//! (a refused password or user, pg_hba, a certificate that does not verify, wrong settings)
//! end it at once.

use super::conn::{ConnError, ConnSettings};
use crate::work::retry::{Kind, Policy, retry};
use std::sync::mpsc;
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
    /// Waiting longer cannot help (the server refused the password, the user or this host;
    /// the certificate does not verify; the settings are wrong), so the wait stops at once.
    #[error(transparent)]
    Refused(ConnError),
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
            try_within(target, left)
        },
        |e| match e {
            Failure::Refused(..) => Kind::Permanent,
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
        Err(Failure::Refused(why, _)) => Err(WaitError::Refused(why)),
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
    /// Waiting may cure it: the server is not up, not reachable, silent, or not ready.
    NotYet(String),
    /// Waiting cannot cure it.
    Refused(ConnError, String),
}

impl Failure {
    fn text(&self) -> &str {
        match self {
            Failure::NotYet(t) | Failure::Refused(_, t) => t,
        }
    }
}

/// The shortest attempt worth making, even when less time is left.
const SHORTEST_ATTEMPT: Duration = Duration::from_millis(200);

/// One attempt, connection and query together, ended after `left` at the latest (on a thread
/// of its own: a server may accept a connection and then never answer the query).
fn try_within(target: &ConnSettings, left: Duration) -> Result<String, Failure> {
    let limit = left.clamp(SHORTEST_ATTEMPT, Duration::from_secs(10));
    // A whole second at least: connect_timeout counts in seconds.
    let per_connect = Duration::from_secs(limit.as_secs().max(1));
    let settings = target.with_connect_timeout(per_connect);
    let (sender, receiver) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("pgcarry-wait".into())
        .spawn(move || {
            let _ = sender.send(try_once(&settings));
        });
    if let Err(e) = spawned {
        return Err(Failure::NotYet(format!("could not start an attempt: {e}")));
    }
    receiver.recv_timeout(limit).unwrap_or_else(|_| {
        Err(Failure::NotYet(format!(
            "no answer from {} within {:.1} s",
            target.addresses(),
            limit.as_secs_f64()
        )))
    })
}

/// One attempt: connect and run `SELECT version()`.
fn try_once(target: &ConnSettings) -> Result<String, Failure> {
    match target.connect() {
        Ok(mut client) => match client.query_one("SELECT version()", &[]) {
            Ok(row) => Ok(row.get(0)),
            Err(e) => Err(Failure::NotYet(super::error::describe_pg_error(&e))),
        },
        Err(e) if e.is_permanent() => {
            let text = e.to_string();
            Err(Failure::Refused(e, text))
        }
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
