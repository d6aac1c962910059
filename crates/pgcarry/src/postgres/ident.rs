//! PostgreSQL identifiers: always quoted, never longer than PostgreSQL keeps.
//!
//! Names are kept exactly as the source spells them (case, spaces, quotes, reserved words) by
//! quoting every identifier. PostgreSQL silently truncates identifiers to 63 bytes, which could
//! make two long names collide: names over the limit are shortened here, deterministically,
//! with a hash of the full name as suffix, and the plan reports the mapping.

/// The longest identifier PostgreSQL keeps (NAMEDATALEN - 1).
pub const MAX_IDENT_BYTES: usize = 63;

/// `name` as a quoted PostgreSQL identifier: `"name"`, inner quotes doubled.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `schema.name`, both quoted.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// The name PostgreSQL will hold for a source name: unchanged when it fits in 63 bytes, else a
/// prefix cut at a character boundary plus `_` and 8 hex digits of a hash of the whole name.
pub fn pg_name(name: &str) -> String {
    if name.len() <= MAX_IDENT_BYTES {
        return name.to_string();
    }
    let suffix = format!("_{:08x}", fnv1a(name.as_bytes()) & 0xffff_ffff);
    let mut cut = MAX_IDENT_BYTES - suffix.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{}", &name[..cut], suffix)
}

/// A single-quoted SQL string literal.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_everything() {
        assert_eq!(quote_ident("order"), "\"order\"");
        assert_eq!(quote_ident("Order Details"), "\"Order Details\"");
        assert_eq!(
            quote_ident("x\"; DROP TABLE y; --"),
            "\"x\"\"; DROP TABLE y; --\""
        );
    }

    #[test]
    fn long_names_are_shortened_without_collision() {
        let a = format!("{}_alpha", "n".repeat(70));
        let b = format!("{}_beta", "n".repeat(70));
        assert_eq!(pg_name(&a).len(), MAX_IDENT_BYTES);
        assert_ne!(pg_name(&a), pg_name(&b));
        assert_eq!(pg_name(&a), pg_name(&a));
        assert_eq!(pg_name("short"), "short");
        // Multi-byte characters are never split.
        let c = "é".repeat(40);
        assert!(pg_name(&c).len() <= MAX_IDENT_BYTES);
    }
}
