//! The canonical form of a `jsonb` value, so that the document pgcarry sent and the one
//! PostgreSQL gives back hash alike exactly when `jsonb` holds the same value.
//!
//! PostgreSQL's `jsonb` keeps object keys ordered by (length, bytes), keeps the last of
//! duplicate keys, drops insignificant whitespace, unescapes strings and stores numbers as
//! `numeric` (so `1.50e1` becomes `15.0`: exponent applied, display scale kept, `-0` is `0`).
//! The form written here is a tagged, length-prefixed encoding with exactly those rules; it is
//! hashed, never shown. What `jsonb` distinguishes (`1.0` and `1.00`, `"1"` and `1`) stays
//! distinct. The parser keeps an explicit stack, so any depth the load accepts is fine.

use crate::formats::numeric::parse_decimal;

/// Appends the canonical form of one `jsonb` binary field (version byte `0x01` + text).
/// A document that cannot be parsed (the load refuses those, so only a corrupted target holds
/// one) is written as its raw bytes, tagged: it is reported as a difference, never hidden.
#[cfg(test)]
pub fn canonical(field: &[u8], out: &mut Vec<u8>) {
    canonical_pooled(field, out, &mut Vec::new());
}

/// [`canonical`], reusing the buffers in `pool` (kept between calls by the caller), so a
/// table's documents are canonicalised without allocating per value.
pub fn canonical_pooled(field: &[u8], out: &mut Vec<u8>, pool: &mut Vec<Vec<u8>>) {
    let text = match field.split_first() {
        Some((1, rest)) => rest,
        _ => field,
    };
    let at = out.len();
    let mut parser = Parser {
        s: text,
        i: 0,
        pool,
    };
    if parser.document(out).is_none() {
        out.truncate(at);
        out.push(b'r');
        write_bytes(text, out);
    }
}

fn write_bytes(b: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(b.len() as u64).to_be_bytes());
    out.extend_from_slice(b);
}

enum Frame {
    Array {
        count: u64,
        body: Vec<u8>,
    },
    Object {
        members: Vec<(Vec<u8>, Vec<u8>)>,
        key: Vec<u8>,
    },
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    pool: &'a mut Vec<Vec<u8>>,
}

/// Buffers kept for reuse at most (enough for any ordinary nesting).
const POOL_MAX: usize = 256;

impl Parser<'_> {
    fn buf(&mut self) -> Vec<u8> {
        self.pool.pop().unwrap_or_default()
    }

    fn give(&mut self, mut v: Vec<u8>) {
        if self.pool.len() < POOL_MAX {
            v.clear();
            self.pool.push(v);
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn document(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            // A value starts here: a scalar, or a container opening.
            self.ws();
            let mut value = self.buf();
            match *self.s.get(self.i)? {
                b'{' => {
                    self.i += 1;
                    if !self.eat(b'}') {
                        let key = self.string()?;
                        if !self.eat(b':') {
                            return None;
                        }
                        stack.push(Frame::Object {
                            members: Vec::new(),
                            key,
                        });
                        self.give(value);
                        continue;
                    }
                    value.push(b'{');
                    value.extend_from_slice(&0u64.to_be_bytes());
                }
                b'[' => {
                    self.i += 1;
                    if !self.eat(b']') {
                        let body = self.buf();
                        stack.push(Frame::Array { count: 0, body });
                        self.give(value);
                        continue;
                    }
                    value.push(b'[');
                    value.extend_from_slice(&0u64.to_be_bytes());
                }
                b'"' => {
                    let s = self.string()?;
                    value.push(b's');
                    write_bytes(&s, &mut value);
                    self.give(s);
                }
                b't' => self.literal(b"true", b't', &mut value)?,
                b'f' => self.literal(b"false", b'f', &mut value)?,
                b'n' => self.literal(b"null", b'n', &mut value)?,
                _ => self.number(&mut value)?,
            }
            // A value is complete: hand it to its container, closing containers that end.
            loop {
                match stack.last_mut() {
                    None => {
                        self.ws();
                        if self.i != self.s.len() {
                            return None;
                        }
                        out.extend_from_slice(&value);
                        self.give(value);
                        return Some(());
                    }
                    Some(Frame::Array { count, body }) => {
                        *count += 1;
                        body.extend_from_slice(&value);
                        if self.eat(b',') {
                            self.give(value);
                            break;
                        }
                        if !self.eat(b']') {
                            return None;
                        }
                        let Some(Frame::Array { count, body }) = stack.pop() else {
                            return None;
                        };
                        value.clear();
                        value.push(b'[');
                        value.extend_from_slice(&count.to_be_bytes());
                        value.extend_from_slice(&body);
                        self.give(body);
                    }
                    Some(Frame::Object { members, key }) => {
                        members.push((std::mem::take(key), value));
                        if self.eat(b',') {
                            *key = self.string()?;
                            if !self.eat(b':') {
                                return None;
                            }
                            break;
                        }
                        if !self.eat(b'}') {
                            return None;
                        }
                        let Some(Frame::Object { members, key }) = stack.pop() else {
                            return None;
                        };
                        self.give(key);
                        value = self.close_object(members);
                    }
                }
            }
        }
    }

    fn literal(&mut self, word: &[u8], tag: u8, value: &mut Vec<u8>) -> Option<()> {
        if !self.s[self.i..].starts_with(word) {
            return None;
        }
        self.i += word.len();
        value.push(tag);
        Some(())
    }

    fn number(&mut self, value: &mut Vec<u8>) -> Option<()> {
        let start = self.i;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.s.get(self.i) {
            self.i += 1;
        }
        let text = &self.s[start..self.i];
        if let Some(()) = plain_number(text, value) {
            return Some(());
        }
        let d = parse_decimal(text)?;
        value.push(b'd');
        value.push(u8::from(d.negative));
        value.extend_from_slice(&d.scale.to_be_bytes());
        write_bytes(&d.digits, value);
        Some(())
    }

    /// A string literal at the cursor, unescaped to UTF-8 bytes.
    fn string(&mut self) -> Option<Vec<u8>> {
        self.ws();
        if self.s.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        let mut out = self.buf();
        loop {
            // Copy the run up to the next quote or escape at once.
            let rest = self.s.get(self.i..)?;
            let run = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\')
                .unwrap_or(rest.len());
            out.extend_from_slice(&rest[..run]);
            self.i += run;
            let b = *self.s.get(self.i)?;
            self.i += 1;
            match b {
                b'"' => return Some(out),
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut c = self.hex4()?;
                            if (0xD800..0xDC00).contains(&c) {
                                if self.s.get(self.i..self.i + 2)? != b"\\u" {
                                    return None;
                                }
                                self.i += 2;
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return None;
                                }
                                c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                            }
                            let ch = char::from_u32(c)?;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return None,
                    }
                }
                _ => out.push(b),
            }
        }
    }

    /// An object's canonical bytes: keys ordered by (length, bytes), the last duplicate kept.
    /// Its key and value buffers go back to the pool.
    fn close_object(&mut self, mut members: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<u8> {
        // Stable: duplicates stay in document order, so the last of each run is the one kept.
        members.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
        let kept = (0..members.len())
            .filter(|&i| members.get(i + 1).is_none_or(|next| next.0 != members[i].0))
            .count();
        let mut value = self.buf();
        value.push(b'{');
        value.extend_from_slice(&(kept as u64).to_be_bytes());
        for i in 0..members.len() {
            if members.get(i + 1).is_none_or(|next| next.0 != members[i].0) {
                write_bytes(&members[i].0, &mut value);
                value.extend_from_slice(&members[i].1);
            }
        }
        for (k, v) in members {
            self.give(k);
            self.give(v);
        }
        value
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
        self.i += 4;
        u32::from_str_radix(h, 16).ok()
    }
}

/// The common case without allocating: `-?digits[.digits]`, no exponent and under
/// PostgreSQL's limits, written exactly as `parse_decimal` would have it (leading zeros
/// dropped, scale = fraction digits, no sign on zero). `None` leaves `value` untouched.
fn plain_number(text: &[u8], value: &mut Vec<u8>) -> Option<()> {
    let (negative, rest) = match text.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, text),
    };
    let (int_part, frac_part) = match rest.iter().position(|&b| b == b'.') {
        Some(p) => (&rest[..p], &rest[p + 1..]),
        None => (rest, &rest[..0]),
    };
    if int_part.is_empty()
        || rest.len() > 1000
        || !int_part.iter().all(u8::is_ascii_digit)
        || !frac_part.iter().all(u8::is_ascii_digit)
        || (rest.len() > int_part.len() && frac_part.is_empty())
    {
        return None;
    }
    let (a, b): (&[u8], &[u8]) = match int_part.iter().position(|&d| d != b'0') {
        Some(p) => (&int_part[p..], frac_part),
        None => {
            let q = frac_part
                .iter()
                .position(|&d| d != b'0')
                .unwrap_or(frac_part.len());
            (&[], &frac_part[q..])
        }
    };
    let scale = u32::try_from(frac_part.len()).ok()?;
    value.push(b'd');
    value.push(u8::from(negative && !(a.is_empty() && b.is_empty())));
    value.extend_from_slice(&scale.to_be_bytes());
    value.extend_from_slice(&((a.len() + b.len()) as u64).to_be_bytes());
    value.extend_from_slice(a);
    value.extend_from_slice(b);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> Vec<u8> {
        let mut field = vec![1u8];
        field.extend_from_slice(text.as_bytes());
        let mut out = Vec::new();
        canonical(&field, &mut out);
        out
    }

    #[test]
    fn what_jsonb_normalises_compares_equal() {
        // PostgreSQL: '{"bb":1, "a":2, "ccc":{"z":[1,2],"y":null}}'::jsonb::text
        assert_eq!(
            canon(r#"{"bb":1, "a":2, "ccc":{"z":[1,2],"y":null}}"#),
            canon(r#"{"a": 2, "bb": 1, "ccc": {"y": null, "z": [1, 2]}}"#)
        );
        assert_eq!(canon(r#"{"a":1,"a":2}"#), canon(r#"{"a": 2}"#));
        assert_eq!(canon("1.50e1"), canon("15.0"));
        assert_eq!(canon("1E+2"), canon("100"));
        assert_eq!(canon("1.5e-3"), canon("0.0015"));
        assert_eq!(canon("-0"), canon("0"));
        assert_eq!(canon("-0.0"), canon("0.0"));
        assert_eq!(canon(r#""\u00e9\/""#), canon(r#""é/""#));
        assert_eq!(canon(r#""\ud83d\ude00""#), canon("\"\u{1F600}\""));
        assert_eq!(canon(" [ ] "), canon("[]"));
        assert_eq!(canon("{ }"), canon("{}"));
    }

    #[test]
    fn what_jsonb_distinguishes_stays_distinct() {
        assert_ne!(canon("1.0"), canon("1.00"));
        assert_ne!(canon("1"), canon(r#""1""#));
        assert_ne!(canon("[1,2]"), canon("[2,1]"));
        assert_ne!(canon("[[1],2]"), canon("[[1,2]]"));
        assert_ne!(canon(r#"{"a":"x "}"#), canon(r#"{"a":"x"}"#));
        assert_ne!(canon(r#"{"ab":[]}"#), canon(r#"{"a":"b","":[]}"#));
        assert_ne!(canon("null"), canon(r#""""#));
        assert_ne!(canon("[]"), canon("{}"));
    }

    #[test]
    fn deep_documents_are_canonicalised_without_recursion() {
        let depth = crate::formats::json::MAX_DEPTH - 1;
        let open = "[".repeat(depth);
        let close = "]".repeat(depth);
        let compact = format!("{open}{{\"b\":1,\"a\":2}}{close}");
        let spaced = format!("{open}{{\"a\": 2, \"b\": 1}}{close}");
        assert_eq!(canon(&compact), canon(&spaced));
        assert_eq!(canon(&compact)[0], b'[');
    }

    #[test]
    fn plain_numbers_canonicalise_as_the_general_parser_does() {
        for n in [
            "0",
            "-0",
            "00",
            "1",
            "-1",
            "007",
            "1.50",
            "-0.000",
            "0.0015",
            "10.0",
            "123456789012345678901234567890.5",
        ] {
            let mut fast = Vec::new();
            plain_number(n.as_bytes(), &mut fast).unwrap();
            let d = parse_decimal(n.as_bytes()).unwrap();
            let mut slow = vec![b'd', u8::from(d.negative)];
            slow.extend_from_slice(&d.scale.to_be_bytes());
            write_bytes(&d.digits, &mut slow);
            assert_eq!(fast, slow, "{n}");
        }
        for n in ["1e5", "1.", ".5", "+1", "-", "1.2.3"] {
            assert!(plain_number(n.as_bytes(), &mut Vec::new()).is_none(), "{n}");
        }
    }

    #[test]
    fn malformed_text_is_kept_raw() {
        assert_eq!(canon("[1,")[0], b'r');
        assert_eq!(canon("1 2")[0], b'r');
        assert_ne!(canon("[1,"), canon("[1,2"));
    }
}
