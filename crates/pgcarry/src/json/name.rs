//! File names as text, losslessly. A name that is not valid UTF-8 keeps every byte: each byte
//! of an invalid sequence is written `\xNN` (two lowercase hex digits) and a backslash of the
//! name itself is written `\\`; everything else is the name's own text. Two different names
//! therefore never give the same text, and the text is what a document's path column, its
//! captures and its key hold. Imports nothing of the crate.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// The name's text: its UTF-8 as it is, `\` as `\\`, each byte of an invalid sequence as `\xNN`.
pub fn escape(name: &OsStr) -> String {
    let mut out = String::with_capacity(name.len());
    for chunk in name.as_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// The name's bytes again from its text (the inverse of [`escape`]); `None` for a text that
/// `escape` never writes.
pub fn unescape(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b != b'\\' {
            out.push(b);
            rest = tail;
            continue;
        }
        match tail {
            [b'\\', more @ ..] => {
                out.push(b'\\');
                rest = more;
            }
            [b'x', h, l, more @ ..] => {
                let hex = std::str::from_utf8(&[*h, *l]).ok()?.to_string();
                out.push(u8::from_str_radix(&hex, 16).ok()?);
                rest = more;
            }
            _ => return None,
        }
    }
    // `\x41` is not how `escape` writes `A`: such a text names no file.
    (escape(OsStr::from_bytes(&out)) == text).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_names_are_escaped_losslessly() {
        let text = |b: &[u8]| escape(OsStr::from_bytes(b));
        assert_eq!(text(b"conv-1.json"), "conv-1.json");
        assert_eq!(text("é.json".as_bytes()), "é.json");
        assert_eq!(text(b"a\xff.json"), "a\\xff.json");
        assert_eq!(text(b"a\xfe.json"), "a\\xfe.json");
        // A name holding the escape's own text stays apart from the byte it stands for.
        assert_eq!(text(b"a\\xff.json"), "a\\\\xff.json");
        assert_ne!(text(b"a\\xff.json"), text(b"a\xff.json"));
        // A truncated multi-byte sequence: each of its bytes.
        assert_eq!(text(b"\xc3.json"), "\\xc3.json");
        for name in [
            &b"a\\xff.json"[..],
            b"a\xff.json",
            b"\xc3\\",
            "é.json".as_bytes(),
        ] {
            assert_eq!(unescape(&text(name)).as_deref(), Some(name));
        }
        assert_eq!(unescape("a\\q"), None);
        assert_eq!(unescape("\\x41"), None);
    }
}
