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
    }
}
