//! The binary COPY stream format (`PGCOPY`): its signature and header, the framing of one
//! tuple (a field count, then per field a 4-byte length, -1 for NULL, and the bytes), and a
//! reader that hands out whole tuples from any byte stream. Pure format code: no connection.

use std::io::Read;

/// The 11-byte signature every binary COPY stream starts with.
pub const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// The stream header: the signature, flags (0) and an empty header extension.
pub fn header() -> [u8; 19] {
    let mut h = [0u8; 19];
    h[..SIGNATURE.len()].copy_from_slice(SIGNATURE);
    h
}

/// A malformed binary COPY tuple (only the target side can send one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed binary COPY tuple: {0}")]
pub struct TupleError(pub &'static str);

/// The fields of one binary COPY tuple: `None` for NULL.
pub fn fields(
    tuple: &[u8],
) -> Result<impl Iterator<Item = Result<Option<&[u8]>, TupleError>>, TupleError> {
    let count = tuple
        .get(..2)
        .map(|b| i16::from_be_bytes([b[0], b[1]]))
        .ok_or(TupleError("short"))?;
    let count = usize::try_from(count).map_err(|_| TupleError("negative field count"))?;
    let mut at = 2usize;
    Ok((0..count).map(move |_| {
        let len = tuple
            .get(at..at + 4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or(TupleError("truncated field length"))?;
        at += 4;
        if len < 0 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| TupleError("bad length"))?;
        let bytes = tuple
            .get(at..at + len)
            .ok_or(TupleError("truncated field"))?;
        at += len;
        Ok(Some(bytes))
    }))
}

/// The length in bytes of the tuple at the start of `buf`, or `None` when `buf` does not hold
/// all of it yet. A field count of -1 is the stream trailer (length 2).
pub fn tuple_len(buf: &[u8]) -> Result<Option<usize>, TupleError> {
    let Some(count) = buf.get(..2).map(|b| i16::from_be_bytes([b[0], b[1]])) else {
        return Ok(None);
    };
    if count == -1 {
        return Ok(Some(2));
    }
    let count = usize::try_from(count).map_err(|_| TupleError("negative field count"))?;
    let mut at = 2usize;
    for _ in 0..count {
        let Some(len) = buf
            .get(at..at + 4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        else {
            return Ok(None);
        };
        at += 4;
        if len >= 0 {
            at += usize::try_from(len).map_err(|_| TupleError("bad length"))?;
        } else if len != -1 {
            return Err(TupleError("negative field length"));
        }
    }
    Ok((at <= buf.len()).then_some(at))
}

const READ_AT_ONCE: usize = 256 * 1024;

/// Reads the tuples of a binary COPY stream one at a time.
pub struct Tuples<R> {
    reader: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    header_done: bool,
}

impl<R: Read> Tuples<R> {
    pub fn new(reader: R) -> Self {
        Tuples {
            reader,
            buf: vec![0; READ_AT_ONCE],
            start: 0,
            end: 0,
            header_done: false,
        }
    }

    /// Reads more bytes; false at the end of the stream.
    fn fill(&mut self) -> Result<bool, String> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        let n = self
            .reader
            .read(&mut self.buf[self.end..])
            .map_err(|e| format!("reading COPY data failed: {e}"))?;
        self.end += n;
        Ok(n > 0)
    }

    /// The next tuple, or `None` after the trailer.
    pub fn next_tuple(&mut self) -> Result<Option<&[u8]>, String> {
        if !self.header_done {
            while self.end - self.start < SIGNATURE.len() + 8 {
                if !self.fill()? {
                    return Err("COPY stream ended inside its header".into());
                }
            }
            let h = &self.buf[self.start..self.end];
            if &h[..SIGNATURE.len()] != SIGNATURE {
                return Err("COPY stream does not start with PGCOPY".into());
            }
            let ext = &h[SIGNATURE.len() + 4..SIGNATURE.len() + 8];
            let ext = u32::from_be_bytes([ext[0], ext[1], ext[2], ext[3]]) as usize;
            while self.end - self.start < SIGNATURE.len() + 8 + ext {
                if !self.fill()? {
                    return Err("COPY stream ended inside its header".into());
                }
            }
            self.start += SIGNATURE.len() + 8 + ext;
            self.header_done = true;
        }
        loop {
            match tuple_len(&self.buf[self.start..self.end]).map_err(|e| e.to_string())? {
                Some(2) if self.buf[self.start..self.start + 2] == [0xff, 0xff] => {
                    return Ok(None);
                }
                Some(n) => {
                    let t = &self.buf[self.start..self.start + n];
                    self.start += n;
                    return Ok(Some(t));
                }
                None => {
                    if !self.fill()? {
                        return Err("COPY stream ended inside a row".into());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuple(fields: &[Option<&[u8]>]) -> Vec<u8> {
        let mut t = i16::try_from(fields.len()).unwrap().to_be_bytes().to_vec();
        for f in fields {
            match f {
                Some(b) => {
                    t.extend_from_slice(&i32::try_from(b.len()).unwrap().to_be_bytes());
                    t.extend_from_slice(b);
                }
                None => t.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        t
    }

    #[test]
    fn tuple_lengths() {
        let t = tuple(&[Some(b"abc"), None]);
        assert_eq!(tuple_len(&t).unwrap(), Some(t.len()));
        assert_eq!(tuple_len(&t[..t.len() - 1]).unwrap(), None);
        assert_eq!(tuple_len(&[0xff, 0xff]).unwrap(), Some(2));
        let f: Vec<_> = fields(&t).unwrap().map(Result::unwrap).collect();
        assert_eq!(f, vec![Some(&b"abc"[..]), None]);
    }

    #[test]
    fn reads_tuples_across_small_reads() {
        let mut stream = SIGNATURE.to_vec();
        stream.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        let mut want = Vec::new();
        for i in 0..1000i32 {
            let mut t = vec![0, 2, 0, 0, 0, 4];
            t.extend_from_slice(&i.to_be_bytes());
            t.extend_from_slice(&(-1i32).to_be_bytes());
            stream.extend_from_slice(&t);
            want.push(t);
        }
        stream.extend_from_slice(&[0xff, 0xff]);
        // A reader that hands out 7 bytes at a time.
        struct Trickle(Vec<u8>, usize);
        impl Read for Trickle {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = (self.0.len() - self.1).min(7).min(out.len());
                out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
                self.1 += n;
                Ok(n)
            }
        }
        let mut tuples = Tuples::new(Trickle(stream, 0));
        let mut got = Vec::new();
        while let Some(t) = tuples.next_tuple().unwrap() {
            got.push(t.to_vec());
        }
        assert_eq!(got, want);
    }
}
