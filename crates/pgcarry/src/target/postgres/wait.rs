//! Waiting for a server to accept a real query: for container entrypoints and deploy scripts
//! (`pgcarry wait && exec app`). Attempts back off exponentially with jitter, each bounded by
//! the time left; every attempt is reported, and the last error is returned at the timeout.

use super::conn::ConnSettings;
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

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(5);

/// A pseudo-random fraction in [0.5, 1.0) (std's randomly keyed hasher): enough to keep
/// many waiting containers from retrying in lockstep.
fn jitter(attempt: u32) -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    let bits = h.finish() >> 11; // 53 bits
    #[allow(clippy::cast_precision_loss)] // 53 bits fit a double exactly
    let unit = bits as f64 / (1u64 << 53) as f64;
    0.5 + unit / 2.0
}

/// The delay before attempt `n + 1`: 100 ms doubling to at most 5 s, times a jitter in [0.5, 1).
pub fn backoff(attempt: u32) -> Duration {
    let base = FIRST_DELAY
        .saturating_mul(1u32 << attempt.min(16))
        .min(MAX_DELAY);
    base.mul_f64(jitter(attempt))
}

/// Tries until `SELECT version()` succeeds or `timeout` passes; `on_attempt(n, error, delay)`
/// hears about every failed attempt. A wrong or missing password ends it at once.
pub fn wait(
    target: &ConnSettings,
    timeout: Duration,
    on_attempt: &mut dyn FnMut(u32, &str, Duration),
) -> Result<Ready, WaitError> {
    let started = Instant::now();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let left = timeout.saturating_sub(started.elapsed());
        let bounded = target
            .with_connect_timeout(left.clamp(Duration::from_secs(1), Duration::from_secs(10)));
        let error = match bounded.connect() {
            Ok(mut client) => match client.query_one("SELECT version()", &[]) {
                Ok(row) => {
                    return Ok(Ready {
                        attempts: attempt,
                        elapsed: started.elapsed(),
                        server_version: row.get(0),
                    });
                }
                Err(e) => super::load::describe_pg_error(&e),
            },
            Err(
                e @ (super::conn::ConnError::PasswordFailed { .. }
                | super::conn::ConnError::PasswordMissing { .. }),
            ) => return Err(WaitError::Refused(e.to_string())),
            Err(e) => e.to_string(),
        };
        let left = timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(WaitTimeout {
                target: target.redacted(),
                timeout,
                attempts: attempt,
                last: error,
            }
            .into());
        }
        let delay = backoff(attempt - 1).min(left);
        on_attempt(attempt, &error, delay);
        std::thread::sleep(delay);
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

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 0..40 {
            let d = backoff(attempt);
            let base = FIRST_DELAY
                .saturating_mul(1u32 << attempt.min(16))
                .min(MAX_DELAY);
            assert!(d >= base / 2 && d <= base, "{attempt}: {d:?} vs {base:?}");
        }
        assert!(backoff(30) <= MAX_DELAY);
    }
}
