//! Binary COPY: the `PGCOPY` stream format, encoded by hand into one reusable buffer.
//!
//! Rows are built with [`CopyBuffer::begin_row`] and the field encoders of `carry::encode`, then
//! handed to the server in large chunks. A row that turns out to hold an unrepresentable
//! value is taken back with [`CopyBuffer::rollback_row`] before anything is sent.

use std::io::Write;

/// Bytes gathered before a write to the server.
const FLUSH_AT: usize = 512 * 1024;

/// An in-memory binary COPY stream in the making.
pub struct CopyBuffer {
    buf: Vec<u8>,
    row_start: usize,
    /// Bytes handed to the sink so far (for progress and the report).
    pub sent: u64,
}

impl Default for CopyBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl CopyBuffer {
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(FLUSH_AT + 64 * 1024);
        buf.extend_from_slice(&crate::formats::copy::header());
        CopyBuffer {
            buf,
            row_start: 0,
            sent: 0,
        }
    }

    /// Starts a tuple of `fields` fields; fields are then appended to [`Self::out`].
    pub fn begin_row(&mut self, fields: i16) {
        self.row_start = self.buf.len();
        self.buf.extend_from_slice(&fields.to_be_bytes());
    }

    /// Starts a tuple whose field count the caller writes itself (a whole-row encoder).
    pub fn start_row(&mut self) {
        self.row_start = self.buf.len();
    }

    /// Where field encoders append.
    pub fn out(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// The tuple begun last, as encoded so far (the bytes the checksum hashes).
    pub fn current_row(&self) -> &[u8] {
        &self.buf[self.row_start..]
    }

    /// Keeps only the fields of the tuple begun last whose `keep` is true (generated columns
    /// are hashed with the row but computed by PostgreSQL, not sent). The tuple must be whole.
    pub fn keep_fields(&mut self, keep: &[bool]) {
        let row = self.row_start;
        let mut read = row + 2;
        let mut write = row + 2;
        let mut kept = 0i16;
        for &k in keep {
            let mut len = [0u8; 4];
            len.copy_from_slice(&self.buf[read..read + 4]);
            let n = usize::try_from(i32::from_be_bytes(len)).unwrap_or(0);
            let end = read + 4 + n;
            if k {
                self.buf.copy_within(read..end, write);
                write += end - read;
                kept += 1;
            }
            read = end;
        }
        self.buf.truncate(write);
        self.buf[row..row + 2].copy_from_slice(&kept.to_be_bytes());
    }

    /// Drops the tuple begun last.
    pub fn rollback_row(&mut self) {
        self.buf.truncate(self.row_start);
    }

    /// Sends the buffer when it is large enough.
    pub fn maybe_flush(&mut self, sink: &mut impl Write) -> std::io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.flush(sink)?;
        }
        Ok(())
    }

    pub fn flush(&mut self, sink: &mut impl Write) -> std::io::Result<()> {
        sink.write_all(&self.buf)?;
        self.sent += self.buf.len() as u64;
        self.buf.clear();
        self.row_start = 0;
        Ok(())
    }

    /// Appends the trailer and sends everything left.
    pub fn finish(&mut self, sink: &mut impl Write) -> std::io::Result<()> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.flush(sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_layout() {
        let mut c = CopyBuffer::new();
        c.begin_row(1);
        c.out().extend_from_slice(&(-1i32).to_be_bytes());
        c.begin_row(1);
        c.out().push(9);
        c.rollback_row();
        let mut sink = Vec::new();
        c.finish(&mut sink).unwrap();
        let mut want = crate::formats::copy::SIGNATURE.to_vec();
        want.extend_from_slice(&[0; 8]);
        want.extend_from_slice(&[0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(sink, want);
        assert_eq!(c.sent, want.len() as u64);
    }

    #[test]
    fn keep_fields_drops_the_others_in_place() {
        let mut c = CopyBuffer::new();
        c.begin_row(3);
        c.out().extend_from_slice(&[0, 0, 0, 1, 7]);
        c.out().extend_from_slice(&(-1i32).to_be_bytes());
        c.out().extend_from_slice(&[0, 0, 0, 2, 8, 9]);
        c.keep_fields(&[true, false, true]);
        assert_eq!(c.current_row(), [0, 2, 0, 0, 0, 1, 7, 0, 0, 0, 2, 8, 9]);
        c.begin_row(2);
        c.out().extend_from_slice(&(-1i32).to_be_bytes());
        c.out().extend_from_slice(&[0, 0, 0, 1, 5]);
        c.keep_fields(&[true, false]);
        assert_eq!(c.current_row(), [0, 1, 0xff, 0xff, 0xff, 0xff]);
    }
}
