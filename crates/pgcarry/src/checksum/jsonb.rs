//! The canonical form of a `jsonb` value, so that the document pgcarry sent and the one
//! PostgreSQL gives back hash alike exactly when `jsonb` holds the same value.
//!
//! PostgreSQL's `jsonb` keeps object keys ordered by (length, bytes), keeps the last of
//! duplicate keys, drops insignificant whitespace, unescapes strings and stores numbers as
//! `numeric` (so `1.50e1` becomes `15.0`: exponent applied, display scale kept, `-0` is `0`).
//! The form written here is a tagged, length-prefixed encoding with exactly those rules; it is
//! hashed, never shown. What `jsonb` distinguishes (`1.0` and `1.00`, `"1"` and `1`) stays
//! distinct. The parser keeps an explicit stack, so any depth the load accepts is fine.

use crate::convert::numeric::parse_decimal;

/// Appends the canonical form of one `jsonb` binary field (version byte `0x01` + text).
/// A document that cannot be parsed (the load refuses those, so only a corrupted target holds
/// one) is written as its raw bytes, tagged: it is reported as a difference, never hidden.
pub fn canonical(field: &[u8], out: &mut Vec<u8>) {
    let text = match field.split_first() {
        Some((1, rest)) => rest,
        _ => field,
    };
    let at = out.len();
    let mut parser = Parser { s: text, i: 0 };
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
}

impl Parser<'_> {
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
            let mut value = Vec::new();
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
                        continue;
                    }
                    value.push(b'{');
                    value.extend_from_slice(&0u64.to_be_bytes());
                }
                b'[' => {
                    self.i += 1;
                    if !self.eat(b']') {
                        stack.push(Frame::Array {
                            count: 0,
                            body: Vec::new(),
                        });
                        continue;
                    }
                    value.push(b'[');
                    value.extend_from_slice(&0u64.to_be_bytes());
                }
                b'"' => {
                    let s = self.string()?;
                    value.push(b's');
                    write_bytes(&s, &mut value);
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
                        return Some(());
                    }
                    Some(Frame::Array { count, body }) => {
                        *count += 1;
                        body.extend_from_slice(&value);
                        if self.eat(b',') {
                            break;
                        }
                        if !self.eat(b']') {
                            return None;
                        }
                        let Some(Frame::Array { count, body }) = stack.pop() else {
                            return None;
                        };
                        value = vec![b'['];
                        value.extend_from_slice(&count.to_be_bytes());
                        value.extend_from_slice(&body);
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
                        let Some(Frame::Object { members, .. }) = stack.pop() else {
                            return None;
                        };
                        value = close_object(members);
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
        let d = parse_decimal(&self.s[start..self.i])?;
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
        let mut out = Vec::new();
        loop {
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

    fn hex4(&mut self) -> Option<u32> {
        let h = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
        self.i += 4;
        u32::from_str_radix(h, 16).ok()
    }
}

/// An object's canonical bytes: keys ordered by (length, bytes), the last duplicate kept.
fn close_object(mut members: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<u8> {
    // Stable: duplicates stay in document order, so the last of each run is the one kept.
    members.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
    let mut kept: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(members.len());
    for m in members {
        match kept.last_mut() {
            Some(last) if last.0 == m.0 => *last = m,
            _ => kept.push(m),
        }
    }
    let mut value = vec![b'{'];
    value.extend_from_slice(&(kept.len() as u64).to_be_bytes());
    for (k, v) in kept {
        write_bytes(&k, &mut value);
        value.extend_from_slice(&v);
    }
    value
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
        let depth = crate::convert::json::MAX_DEPTH - 1;
        let open = "[".repeat(depth);
        let close = "]".repeat(depth);
        let compact = format!("{open}{{\"b\":1,\"a\":2}}{close}");
        let spaced = format!("{open}{{\"a\": 2, \"b\": 1}}{close}");
        assert_eq!(canon(&compact), canon(&spaced));
        assert_eq!(canon(&compact)[0], b'[');
    }

    #[test]
    fn malformed_text_is_kept_raw() {
        assert_eq!(canon("[1,")[0], b'r');
        assert_eq!(canon("1 2")[0], b'r');
        assert_ne!(canon("[1,"), canon("[1,2"));
    }
}
