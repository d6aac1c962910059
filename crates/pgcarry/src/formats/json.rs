//! A strict JSON checker that knows what PostgreSQL's `jsonb` would do to a document.
//!
//! `jsonb` keeps only the last of duplicate keys and refuses `\u0000`; both would lose or
//! refuse data, so they are detected here, along with anything that is not RFC 8259 JSON.
//! The checker allocates only for object keys and never recurses (an explicit stack).

/// What checking a document found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JsonCheck {
    /// An object repeats a key (after unescaping): `jsonb` would keep only the last value.
    pub duplicate_keys: bool,
    /// A string holds `\u0000`, which `jsonb` refuses.
    pub nul_escape: bool,
}

/// Deeper documents are refused rather than risk PostgreSQL's stack-depth limit.
pub const MAX_DEPTH: usize = 1000;

/// Why a document is not JSON, with the byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub offset: usize,
    pub what: &'static str,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid JSON at byte {}: {}", self.offset, self.what)
    }
}

use super::json_style::{JsonStyle, Spacing};

enum Frame {
    Array,
    Object(Vec<Vec<u8>>),
}

struct Checker<'a> {
    s: &'a [u8],
    i: usize,
    found: JsonCheck,
    /// Where the document's spacing and key order are noted, when asked.
    style: Option<&'a mut JsonStyle>,
    spacing: Spacing,
}

/// Checks `text` as one JSON document.
pub fn check(text: &[u8]) -> Result<JsonCheck, JsonError> {
    run(text, None)
}

/// Checks `text` and, when it is JSON, notes into `style` how it was written (its spacing and
/// the order of its objects' keys), in the same pass.
pub fn check_noting(text: &[u8], style: &mut JsonStyle) -> Result<JsonCheck, JsonError> {
    run(text, Some(style))
}

fn run<'a>(text: &'a [u8], style: Option<&'a mut JsonStyle>) -> Result<JsonCheck, JsonError> {
    let mut c = Checker {
        s: text,
        i: 0,
        found: JsonCheck::default(),
        style,
        spacing: Spacing::default(),
    };
    c.document()?;
    if let Some(style) = c.style {
        style.note_spacing(&c.spacing);
    }
    Ok(c.found)
}

impl Checker<'_> {
    fn err<T>(&self, what: &'static str) -> Result<T, JsonError> {
        Err(JsonError {
            offset: self.i,
            what,
        })
    }

    fn ws(&mut self) {
        let start = self.i;
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
        if self.style.is_some() && self.i > start {
            let after_separator = start > 0 && matches!(self.s[start - 1], b',' | b':');
            if after_separator && &self.s[start..self.i] == b" " {
                self.spacing.single_space += 1;
            } else {
                self.spacing.other_whitespace = true;
            }
        }
    }

    /// A `,` or `:` consumed.
    fn separator(&mut self) {
        self.spacing.separators += 1;
    }

    /// Notes key `key` of an object whose previous key is `last`.
    fn note_key(&mut self, key: &[u8], last: Option<&Vec<u8>>) {
        if let Some(style) = self.style.as_deref_mut() {
            style.note_key(key, last.map(Vec::as_slice));
        }
    }

    fn document(&mut self) -> Result<(), JsonError> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            // A value is expected here.
            self.ws();
            match self.s.get(self.i) {
                Some(b'{' | b'[') if stack.len() >= MAX_DEPTH => {
                    return self.err("nested too deeply");
                }
                Some(b'{') => {
                    self.i += 1;
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                    } else {
                        let key = self.key()?;
                        self.note_key(&key, None);
                        stack.push(Frame::Object(vec![key]));
                        continue;
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    self.ws();
                    if self.s.get(self.i) == Some(&b']') {
                        self.i += 1;
                    } else {
                        stack.push(Frame::Array);
                        continue;
                    }
                }
                Some(b'"') => {
                    self.string(None)?;
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(_) => return self.err("expected a value"),
                None => return self.err("unexpected end"),
            }
            // A value ended: close containers or move to the next element.
            loop {
                self.ws();
                let Some(top) = stack.last_mut() else {
                    if self.i != self.s.len() {
                        return self.err("text after the document");
                    }
                    return Ok(());
                };
                match (top, self.s.get(self.i)) {
                    (Frame::Array, Some(b',')) => {
                        self.i += 1;
                        self.separator();
                        break;
                    }
                    (Frame::Array, Some(b']')) | (Frame::Object(_), Some(b'}')) => {
                        self.i += 1;
                        stack.pop();
                    }
                    (Frame::Object(_), Some(b',')) => {
                        self.i += 1;
                        self.separator();
                        self.ws();
                        let key = self.key()?;
                        if let Some(Frame::Object(keys)) = stack.last_mut() {
                            if keys.contains(&key) {
                                self.found.duplicate_keys = true;
                            }
                            if let Some(style) = self.style.as_deref_mut() {
                                style.note_key(&key, keys.last().map(Vec::as_slice));
                            }
                            keys.push(key);
                        }
                        break;
                    }
                    _ => return self.err("expected ',' or a closing bracket"),
                }
            }
        }
    }

    /// `"key" :` — returns the unescaped key.
    fn key(&mut self) -> Result<Vec<u8>, JsonError> {
        if self.s.get(self.i) != Some(&b'"') {
            return self.err("expected a string key");
        }
        let mut key = Vec::new();
        self.string(Some(&mut key))?;
        self.ws();
        if self.s.get(self.i) != Some(&b':') {
            return self.err("expected ':'");
        }
        self.i += 1;
        self.separator();
        Ok(key)
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), JsonError> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            self.err("invalid literal")
        }
    }

    fn number(&mut self) -> Result<(), JsonError> {
        let start = self.i;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.s.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.skip_digits(),
            _ => return self.err("invalid number"),
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                return self.err("invalid number");
            }
            self.skip_digits();
        }
        if let Some(b'e' | b'E') = self.s.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.s.get(self.i) {
                self.i += 1;
            }
            let exp_start = self.i;
            if !self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                return self.err("invalid number");
            }
            self.skip_digits();
            // numeric holds up to 131072 digits before the point and 16383 after.
            if self.i - exp_start > 5 {
                self.i = start;
                return self.err("number out of PostgreSQL's numeric range");
            }
        }
        Ok(())
    }

    fn skip_digits(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
    }

    /// A string; the unescaped bytes go to `out` when given.
    fn string(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<(), JsonError> {
        self.i += 1; // opening quote
        loop {
            // The common case first: plain bytes, checked in a tight loop.
            let plain = self.s[self.i..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(self.s.len() - self.i);
            if let Some(out) = out.as_deref_mut() {
                out.extend_from_slice(&self.s[self.i..self.i + plain]);
            }
            self.i += plain;
            let Some(&b) = self.s.get(self.i) else {
                return self.err("unterminated string");
            };
            match b {
                b'"' => {
                    self.i += 1;
                    return Ok(());
                }
                b'\\' => {
                    self.i += 1;
                    let Some(&e) = self.s.get(self.i) else {
                        return self.err("unterminated escape");
                    };
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return self.err("invalid escape"),
                    };
                    if let Some(out) = out.as_deref_mut() {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                }
                0x00..=0x1f => return self.err("control character in string"),
                _ => {
                    if let Some(out) = out.as_deref_mut() {
                        out.push(b);
                    }
                    self.i += 1;
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let Some(part) = self.s.get(self.i..self.i + 4) else {
            return self.err("short \\u escape");
        };
        let mut v = 0u32;
        for &h in part {
            let d = match h {
                b'0'..=b'9' => h - b'0',
                b'a'..=b'f' => h - b'a' + 10,
                b'A'..=b'F' => h - b'A' + 10,
                _ => return self.err("invalid \\u escape"),
            };
            v = v * 16 + u32::from(d);
        }
        self.i += 4;
        Ok(v)
    }

    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        if first == 0 {
            self.found.nul_escape = true;
        }
        let code = if (0xD800..0xDC00).contains(&first) {
            if !self.s[self.i..].starts_with(b"\\u") {
                return self.err("lone surrogate in \\u escape");
            }
            self.i += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return self.err("invalid surrogate pair");
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else if (0xDC00..0xE000).contains(&first) {
            return self.err("lone surrogate in \\u escape");
        } else {
            first
        };
        match char::from_u32(code) {
            Some(c) => Ok(c),
            None => self.err("invalid code point"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_json() {
        for doc in [
            r#"{"a": [1, 2.5, -0, 1e10, true, false, null], "b": {"c": "\u00e9\n"}}"#,
            "[]",
            "{}",
            " 42 ",
            r#""😀 \ud83d\ude00""#,
            "[[[[]]]]",
        ] {
            assert_eq!(check(doc.as_bytes()), Ok(JsonCheck::default()), "{doc}");
        }
    }

    #[test]
    fn refuses_non_json() {
        for doc in [
            "",
            "{",
            "[1,]",
            "{'a': 1}",
            "01",
            "1.",
            "NaN",
            "[1] x",
            "\"a\tb\"",
            "{\"a\" 1}",
            r#""\ud800""#,
            "tru",
            "-",
            "1e999999",
        ] {
            assert!(check(doc.as_bytes()).is_err(), "{doc}");
        }
    }

    #[test]
    fn finds_what_jsonb_would_lose() {
        let dup = check(br#"{"a": 1, "b": {"x": 1}, "\u0061": 2}"#).unwrap();
        assert!(dup.duplicate_keys && !dup.nul_escape);
        let nested_ok = check(br#"[{"a": 1}, {"a": 2}]"#).unwrap();
        assert!(!nested_ok.duplicate_keys);
        let nul = check(br#"{"a": "x\u0000y"}"#).unwrap();
        assert!(nul.nul_escape);
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(check(deep.as_bytes()).is_err());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(check(ok.as_bytes()).is_ok());
    }
}
