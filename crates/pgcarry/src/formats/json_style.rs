//! How an application wrote a column's JSON documents, apart from their values: spacing
//! (compact `{"a":1}` or PostgreSQL's `{"a": 1}`), whether characters beyond ASCII were escaped,
//! and one order of object keys that every document follows. `jsonb` keeps none of these, so
//! the scan notes them (`json::check_noting`, in the pass that checks the document), the
//! migration records them, and `export` writes documents back so.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most distinct keys remembered for a column's order.
const MAX_KEYS: usize = 256;

/// What the scan saw in one column's documents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonStyle {
    /// Documents with separators written without any whitespace.
    pub compact: u64,
    /// Documents written exactly as PostgreSQL prints them: `, ` and `: `, no other whitespace.
    pub spaced: u64,
    /// Documents with any other whitespace (indentation, newlines).
    pub other: u64,
    /// Every object key, in the order first seen.
    pub keys: Vec<String>,
    /// `(a, b)`: key `a` came right before key `b` in some object (indexes into `keys`).
    pub follows: std::collections::BTreeSet<(u16, u16)>,
    /// More keys than remembered: no order is recorded.
    pub keys_mixed: bool,
}

impl JsonStyle {
    /// Notes one valid document's spacing (counted by `json::check_noting`).
    pub(super) fn note_spacing(&mut self, spacing: &Spacing) {
        match spacing.kind() {
            Some(Kind::Compact) => self.compact += 1,
            Some(Kind::Spaced) => self.spaced += 1,
            Some(Kind::Other) => self.other += 1,
            None => {}
        }
    }

    /// Notes that `key` (unescaped) follows `last` in its object.
    pub(super) fn note_key(&mut self, key: &[u8], last: Option<&[u8]>) {
        let text = String::from_utf8_lossy;
        self.place(&text(key), last.map(text).as_deref());
    }

    /// Notes that `key` follows `last` in its object.
    fn place(&mut self, key: &str, last: Option<&str>) {
        if self.keys_mixed {
            return;
        }
        let index = |keys: &[String], k: &str| keys.iter().position(|x| x == k);
        let at = match index(&self.keys, key) {
            Some(p) => p,
            None if self.keys.len() >= MAX_KEYS => {
                self.keys_mixed = true;
                return;
            }
            None => {
                self.keys.push(key.to_string());
                self.keys.len() - 1
            }
        };
        if let Some(l) = last.and_then(|l| index(&self.keys, l))
            && l != at
        {
            let pair = |i: usize| u16::try_from(i).unwrap_or(u16::MAX);
            self.follows.insert((pair(l), pair(at)));
        }
    }

    /// One order of the keys that every object followed (first-seen order where free), when
    /// there is one.
    fn key_order(&self) -> Option<Vec<String>> {
        if self.keys_mixed || self.keys.is_empty() {
            return None;
        }
        let n = self.keys.len();
        let mut before = vec![0usize; n];
        for &(_, b) in &self.follows {
            before[usize::from(b)] += 1;
        }
        let mut placed = vec![false; n];
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            let next = (0..n).find(|&i| !placed[i] && before[i] == 0)?;
            placed[next] = true;
            order.push(self.keys[next].clone());
            for &(a, b) in &self.follows {
                if usize::from(a) == next {
                    before[usize::from(b)] -= 1;
                }
            }
        }
        Some(order)
    }

    /// The form to record; `ascii` when no document held a character beyond ASCII (so such
    /// characters were written as escapes).
    pub fn form(&self, ascii: bool) -> JsonForm {
        JsonForm {
            ascii,
            compact: match (self.compact, self.spaced, self.other) {
                (c, 0, 0) if c > 0 => Some(true),
                (0, s, 0) if s > 0 => Some(false),
                _ => None,
            },
            keys: self.key_order(),
        }
    }
}

/// The spacing of one document, counted while it is checked.
#[derive(Default)]
pub(super) struct Spacing {
    pub separators: u64,
    /// Separators followed by exactly one space (PostgreSQL's form).
    pub single_space: u64,
    /// Whitespace anywhere else (indentation, newlines, spaces before a separator).
    pub other_whitespace: bool,
}

enum Kind {
    Compact,
    Spaced,
    Other,
}

impl Spacing {
    fn kind(&self) -> Option<Kind> {
        if self.other_whitespace {
            Some(Kind::Other)
        } else if self.separators == 0 {
            None
        } else if self.single_space == 0 {
            Some(Kind::Compact)
        } else if self.single_space == self.separators {
            Some(Kind::Spaced)
        } else {
            Some(Kind::Other)
        }
    }
}

/// How to write a column's documents back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonForm {
    /// Characters beyond ASCII as `\uXXXX` escapes (Python's `json.dumps` default).
    #[serde(default)]
    pub ascii: bool,
    /// `Some(true)`: compact; `Some(false)`: `, ` and `: `; `None`: as PostgreSQL prints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compact: Option<bool>,
    /// Object keys in this order (others after, as they come).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
}

impl JsonForm {
    /// `text` (a document as PostgreSQL prints it) written in this form; `None` when it does
    /// not parse.
    pub fn write(&self, text: &str) -> Option<String> {
        let mut v: Value = serde_json::from_str(text).ok()?;
        if let Some(keys) = &self.keys {
            reorder(&mut v, keys);
        }
        let mut out = String::with_capacity(text.len());
        write_value(&v, self.compact.unwrap_or(false), &mut out);
        Some(if self.ascii && !out.is_ascii() {
            ascii_escaped(&out)
        } else {
            out
        })
    }
}

/// A JSON text with every character beyond ASCII written as `\uXXXX` (surrogate pairs
/// beyond the BMP), lower-case hex as Python writes it. Such characters only occur inside
/// strings, so the escapes mean the same document.
fn ascii_escaped(t: &str) -> String {
    let mut out = String::with_capacity(t.len() + 16);
    for c in t.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

fn reorder(v: &mut Value, keys: &[String]) {
    match v {
        Value::Object(m) => {
            let rank = |k: &str| keys.iter().position(|x| x == k).unwrap_or(usize::MAX);
            let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
            entries.sort_by_key(|(k, _)| rank(k));
            for (k, mut x) in entries {
                reorder(&mut x, keys);
                m.insert(k, x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| reorder(x, keys)),
        _ => {}
    }
}

fn write_value(v: &Value, compact: bool, out: &mut String) {
    let (comma, colon) = if compact { (",", ":") } else { (", ", ": ") };
    match v {
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push_str(colon);
                write_value(x, compact, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                write_value(x, compact, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&serde_json::to_string(scalar).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(docs: &[&str]) -> JsonStyle {
        let mut s = JsonStyle::default();
        for d in docs {
            crate::formats::json::check_noting(d.as_bytes(), &mut s).unwrap();
        }
        s
    }

    #[test]
    fn notes_spacing_and_one_key_order() {
        let s = style(&[
            r#"{"task":"a","score":1}"#,
            r#"{"task":"b","note":{"x":1},"score":2}"#,
        ]);
        let f = s.form(false);
        assert_eq!(f.compact, Some(true));
        assert_eq!(
            f.keys.as_deref(),
            Some(&["task", "note", "score", "x"].map(String::from)[..])
        );
        assert_eq!(
            style(&[r#"{"a": [1, 2]}"#]).form(false).compact,
            Some(false)
        );
        assert_eq!(style(&["{\n  \"a\": 1\n}"]).form(false).compact, None);
        let mixed = style(&[r#"{"a":1,"b":2}"#, r#"{"b":1,"a":2}"#]);
        assert_eq!(mixed.form(false).keys, None);
        // Keys first seen apart still get the one order their shared object gives.
        let apart = style(&[r#"{"n":1}"#, r#"{"name":"x"}"#, r#"{"name":"y","n":2}"#]);
        assert_eq!(
            apart.form(false).keys.as_deref(),
            Some(&["name", "n"].map(String::from)[..])
        );
    }

    #[test]
    fn writes_documents_back_in_their_form() {
        let f = JsonForm {
            ascii: false,
            compact: Some(true),
            keys: Some(vec!["task".into(), "score".into()]),
        };
        assert_eq!(
            f.write(r#"{"score": 1.50, "task": "a\"b"}"#).as_deref(),
            Some(r#"{"task":"a\"b","score":1.50}"#)
        );
        let spaced = JsonForm {
            ascii: true,
            compact: Some(false),
            keys: None,
        };
        assert_eq!(
            spaced
                .write(r#"{"b": [1, {"c": null}], "a": "–😀"}"#)
                .as_deref(),
            Some(r#"{"b": [1, {"c": null}], "a": "\u2013\ud83d\ude00"}"#)
        );
    }
}
