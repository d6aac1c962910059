//! Exact value and wire formats, as pure functions: ISO dates and times, Unix and Julian
//! epochs, decimals and PostgreSQL's binary `numeric`, JSON validity, text PostgreSQL can hold,
//! and the binary COPY stream. Nothing here reads a database or a file, or imports anything of
//! the crate but `formats` itself.

pub mod copy;
pub mod datetime;
pub mod decode;
pub mod epoch;
pub mod json;
pub mod json_style;
pub mod numeric;
pub mod shape;
pub mod text;

/// Round-trip property tests; their strategies and decoders serve the encoder's tests too.
#[cfg(test)]
pub(crate) mod proptests;
