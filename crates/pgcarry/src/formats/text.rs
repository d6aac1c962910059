//! Text as PostgreSQL can hold it, and the spellings applications use for booleans, UUIDs and
//! numbers kept as text: exact checks and parsers, no guessing.

use rusqlite::types::ValueRef;

/// Why a value cannot be represented in its column's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn refuse<T>(msg: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(msg.into()))
}

/// Text PostgreSQL can hold: valid UTF-8 without NUL bytes.
pub fn check_text(bytes: &[u8]) -> Result<&str, Refusal> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return refuse(format!(
                "text is not valid UTF-8 (at byte {}); PostgreSQL text cannot hold it",
                e.valid_up_to()
            ));
        }
    };
    // `contains` on bytes is memchr underneath; find the position only when there is one.
    if bytes.contains(&0)
        && let Some(p) = memchr(0, bytes)
    {
        return refuse(format!(
            "text contains a NUL byte (at byte {p}); PostgreSQL text cannot hold it"
        ));
    }
    Ok(text)
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// The text form of a number stored in a column that became text: exact and reversible.
pub fn number_text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(format!("{f:?}")),
        _ => None,
    }
}

/// Parses the boolean spellings applications write: 0/1, t/f, true/false, yes/no (any case).
pub fn parse_bool_text(text: &[u8]) -> Option<bool> {
    match text.to_ascii_lowercase().as_slice() {
        b"1" | b"t" | b"true" | b"y" | b"yes" | b"on" => Some(true),
        b"0" | b"f" | b"false" | b"n" | b"no" | b"off" => Some(false),
        _ => None,
    }
}

/// Parses a UUID written as 36 hyphenated hex characters (either case), or 32 without hyphens.
pub fn parse_uuid_text(text: &[u8]) -> Option<[u8; 16]> {
    let hex: Vec<u8> = match text.len() {
        36 => {
            if [8, 13, 18, 23].iter().any(|&i| text[i] != b'-') {
                return None;
            }
            text.iter().copied().filter(|&b| b != b'-').collect()
        }
        32 => text.to_vec(),
        _ => return None,
    };
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}
