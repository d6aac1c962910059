//! The target side of verification: read a table back with `COPY … TO STDOUT (FORMAT binary)`
//! and hand over its tuples, so they hash with the same code as the source side.
//!
//! Streaming: one fixed buffer per table, whatever its size. Nothing is written.

use super::ident::{qualified, quote_ident};
use super::load::describe_pg_error;
use crate::checksum::{Checksum, KeyRange, TupleHasher, tuple_len};
use crate::plan::TablePlan;
use postgres::Client;
use std::io::Read;

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
const READ_AT_ONCE: usize = 256 * 1024;

/// Reads the tuples of a binary COPY stream one at a time.
struct Tuples<R> {
    reader: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    header_done: bool,
}

impl<R: Read> Tuples<R> {
    fn new(reader: R) -> Self {
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
    fn next(&mut self) -> Result<Option<&[u8]>, String> {
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

fn copy_sql(schema: &str, tp: &TablePlan, range: Option<&KeyRange>) -> String {
    let cols: Vec<String> = tp.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let qname = qualified(schema, &tp.name);
    // COPY refuses generated columns by name; a query may read them.
    let generated = tp.columns.iter().any(|c| c.generated.is_some());
    match range {
        None if generated => format!(
            "COPY (SELECT {} FROM {qname}) TO STDOUT (FORMAT binary)",
            cols.join(", ")
        ),
        None => format!(
            "COPY {qname} ({}) TO STDOUT (FORMAT binary)",
            cols.join(", ")
        ),
        Some(r) => format!(
            "COPY (SELECT {} FROM {qname} WHERE {} BETWEEN {} AND {}) TO STDOUT (FORMAT binary)",
            cols.join(", "),
            quote_ident(&tp.columns[r.column].name),
            r.lo,
            r.hi
        ),
    }
}

/// Calls `each` with every tuple of the table (within `range` when given), in the plan's
/// column order.
pub fn for_each_tuple(
    client: &mut Client,
    schema: &str,
    tp: &TablePlan,
    range: Option<&KeyRange>,
    mut each: impl FnMut(&[u8]),
) -> Result<(), String> {
    let reader = client
        .copy_out(&copy_sql(schema, tp, range))
        .map_err(|e| describe_pg_error(&e))?;
    let mut tuples = Tuples::new(reader);
    while let Some(t) = tuples.next()? {
        each(t);
    }
    Ok(())
}

/// The checksum of the table as PostgreSQL holds it (within `range` when given).
pub fn table_checksum(
    client: &mut Client,
    schema: &str,
    tp: &TablePlan,
    range: Option<&KeyRange>,
) -> Result<Checksum, String> {
    let mut hasher = TupleHasher::for_table(tp);
    let mut sum = Checksum::default();
    let mut bad = None;
    for_each_tuple(client, schema, tp, range, |t| match hasher.hash(t) {
        Ok(h) => sum.add(h),
        Err(e) => bad = Some(e.to_string()),
    })?;
    match bad {
        Some(e) => Err(e),
        None => Ok(sum),
    }
}

/// The smallest and largest key, when the table has any row.
pub fn key_bounds(
    client: &mut Client,
    schema: &str,
    tp: &TablePlan,
    column: usize,
) -> Result<Option<(i64, i64)>, String> {
    let key = quote_ident(&tp.columns[column].name);
    let sql = format!(
        "SELECT min({key})::bigint, max({key})::bigint FROM {}",
        qualified(schema, &tp.name)
    );
    let row = client
        .query_one(&sql, &[])
        .map_err(|e| describe_pg_error(&e))?;
    Ok(
        match (row.get::<_, Option<i64>>(0), row.get::<_, Option<i64>>(1)) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
        while let Some(t) = tuples.next().unwrap() {
            got.push(t.to_vec());
        }
        assert_eq!(got, want);
    }
}
