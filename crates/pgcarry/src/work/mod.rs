//! How work runs, whatever it works on: one pool of worker threads, one retry helper (transient
//! against permanent errors, backoff with jitter, a deadline), and the progress events the
//! command line shows. Imports nothing else of the crate.

pub mod pool;
pub mod progress;
pub mod retry;
