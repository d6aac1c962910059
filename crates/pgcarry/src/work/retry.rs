//! The one retry helper: what is tried again, how long to wait between tries (exponential
//! backoff with jitter), and when to stop (a number of tries, a deadline, or an error that
//! waiting cannot fix). Load, verify, wait and reconnects all go through it.

use std::time::{Duration, Instant};

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(5);

/// A pseudo-random fraction in [0.5, 1.0) (std's randomly keyed hasher): enough to keep many
/// waiting clients from retrying in lockstep.
fn jitter(attempt: u32) -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    let bits = h.finish() >> 11; // 53 bits
    #[allow(clippy::cast_precision_loss)] // 53 bits fit a double exactly
    let unit = bits as f64 / (1u64 << 53) as f64;
    0.5 + unit / 2.0
}

/// The delay after failed try `attempt` (0-based): 100 ms doubling to at most 5 s, times a
/// jitter in [0.5, 1).
pub fn backoff(attempt: u32) -> Duration {
    let base = FIRST_DELAY
        .saturating_mul(1u32 << attempt.min(16))
        .min(MAX_DELAY);
    base.mul_f64(jitter(attempt))
}

/// Whether an error may go away by itself (a server restarting, a connection lost) or not (a
/// wrong password, a missing table): only transient errors are tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Transient,
    Permanent,
}

/// When to stop trying.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Tries in all, the first included (`u32::MAX` for no limit).
    pub tries: u32,
    /// No try starts after this, and no delay runs past it.
    pub deadline: Option<Instant>,
    /// Added to the attempt number when computing the delay: a larger value starts slower.
    pub first_step: u32,
}

impl Policy {
    /// At most `tries` tries, whatever the time.
    pub fn tries(tries: u32) -> Policy {
        Policy {
            tries,
            deadline: None,
            first_step: 0,
        }
    }

    /// As many tries as fit in `within` from now.
    pub fn within(within: Duration) -> Policy {
        Policy {
            tries: u32::MAX,
            deadline: Some(Instant::now() + within),
            first_step: 0,
        }
    }

    /// The same policy, starting its delays `steps` doublings later.
    pub fn starting_at(self, steps: u32) -> Policy {
        Policy {
            first_step: steps,
            ..self
        }
    }

    /// The time left before the deadline (`None`: no deadline).
    pub fn left(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }
}

/// Calls `attempt(n)` (n from 1) until it succeeds, it fails with a permanent error, or
/// `policy` says stop; the last error is returned. `on_retry(n, error, delay)` hears about each
/// failed try that will be tried again, before the delay.
pub fn retry<T, E>(
    policy: Policy,
    mut attempt: impl FnMut(u32) -> Result<T, E>,
    classify: impl Fn(&E) -> Kind,
    mut on_retry: impl FnMut(u32, &E, Duration),
) -> Result<T, E> {
    let mut n = 0u32;
    loop {
        n += 1;
        let error = match attempt(n) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if classify(&error) == Kind::Permanent || n >= policy.tries {
            return Err(error);
        }
        let mut delay = backoff(n - 1 + policy.first_step);
        if let Some(left) = policy.left() {
            if left.is_zero() {
                return Err(error);
            }
            delay = delay.min(left);
        }
        on_retry(n, &error, delay);
        std::thread::sleep(delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 0..6 {
            let d = backoff(attempt);
            let base = FIRST_DELAY * (1u32 << attempt);
            assert!(
                d >= base.min(MAX_DELAY) / 2 && d < base.min(MAX_DELAY),
                "{d:?}"
            );
        }
        assert!(backoff(30) <= MAX_DELAY);
    }

    #[test]
    fn transient_errors_are_tried_until_the_count_runs_out() {
        let mut heard = Vec::new();
        let r: Result<(), u32> = retry(
            Policy::tries(3),
            Err,
            |_| Kind::Transient,
            |n, _, _| heard.push(n),
        );
        assert_eq!(r, Err(3));
        assert_eq!(heard, vec![1, 2]);
    }

    #[test]
    fn a_permanent_error_stops_at_once() {
        let r: Result<(), u32> = retry(
            Policy::tries(5),
            Err,
            |_| Kind::Permanent,
            |_, _, _| panic!("no retry expected"),
        );
        assert_eq!(r, Err(1));
    }

    #[test]
    fn success_after_failures_returns_the_value() {
        let r = retry(
            Policy::tries(5),
            |n| if n < 3 { Err(n) } else { Ok(n * 10) },
            |_| Kind::Transient,
            |_, _, _| {},
        );
        assert_eq!(r, Ok(30));
    }

    #[test]
    fn a_deadline_bounds_the_whole_wait() {
        let started = Instant::now();
        let r: Result<(), ()> = retry(
            Policy::within(Duration::from_millis(300)),
            |_| Err(()),
            |_| Kind::Transient,
            |_, _, _| {},
        );
        assert!(r.is_err());
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
}
