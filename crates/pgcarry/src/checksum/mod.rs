//! Order-independent table checksums over the canonical bytes of every row.
//!
//! A row is hashed as its binary COPY tuple: the field count, then per field a 4-byte length
//! (-1 for NULL) and the bytes PostgreSQL stores. That framing makes NULL differ from `''` and
//! keeps column boundaries unambiguous. The source side hashes the tuples it sends to COPY; the
//! target side hashes the tuples `COPY … TO STDOUT (FORMAT binary)` gives back, so both sides
//! hash the same bytes without any per-type code. The only exception is `jsonb`, which
//! PostgreSQL normalises (key order, duplicate keys, whitespace, number spelling): its fields
//! are replaced by a canonical form ([`jsonb`]) on both sides before hashing.
//!
//! Row hashes (xxh3, 128 bits) are combined by wrapping addition, so the checksum needs no
//! sort, streams in constant memory, and compares tables as multisets: a duplicated row counts
//! twice. Nothing here reads a database.

pub mod jsonb;
#[cfg(test)]
mod proptests;

use crate::formats::copy::{TupleError, fields};
use crate::model::plan::TablePlan;
use crate::model::types::PgType;
use std::fmt;

/// The checksum of a set of rows: how many, and the wrapping sum of their 128-bit hashes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    pub rows: u64,
    pub sum: u128,
}

impl Checksum {
    /// Adds one row's hash.
    pub fn add(&mut self, row_hash: u128) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(row_hash);
    }

    /// The sum as 32 hex digits, as the report shows it.
    pub fn hex(&self) -> String {
        format!("{:032x}", self.sum)
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rows, {}", self.rows, self.hex())
    }
}

/// An inclusive range of a single-column integer key: the unit of bisection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRange {
    /// The key column's position in the plan's (and the source's) column list.
    pub column: usize,
    pub lo: i64,
    pub hi: i64,
}

/// How a column's field bytes are made canonical before hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// The binary COPY bytes are already canonical.
    Exact,
    /// `jsonb`: version byte and text, normalised by [`jsonb::canonical`].
    Jsonb,
}

impl FieldKind {
    pub fn of(ty: &PgType) -> FieldKind {
        match ty {
            PgType::Jsonb => FieldKind::Jsonb,
            _ => FieldKind::Exact,
        }
    }
}

/// Hashes binary COPY tuples of one table, canonicalising the fields that need it.
#[derive(Debug, Clone)]
pub struct TupleHasher {
    kinds: Vec<FieldKind>,
    exact: bool,
    scratch: Vec<u8>,
    /// Buffers the jsonb canonicaliser reuses from one document to the next.
    pool: Vec<Vec<u8>>,
}

impl TupleHasher {
    pub fn new(kinds: Vec<FieldKind>) -> TupleHasher {
        let exact = kinds.iter().all(|k| *k == FieldKind::Exact);
        TupleHasher {
            kinds,
            exact,
            scratch: Vec::new(),
            pool: Vec::new(),
        }
    }

    /// The hasher for a planned table's columns, in plan order.
    pub fn for_table(tp: &TablePlan) -> TupleHasher {
        TupleHasher::new(
            tp.columns
                .iter()
                .map(|c| FieldKind::of(&c.pg_type))
                .collect(),
        )
    }

    /// The 128-bit hash of one tuple (field count, then length-prefixed fields).
    pub fn hash(&mut self, tuple: &[u8]) -> Result<u128, TupleError> {
        if self.exact {
            return Ok(xxhash_rust::xxh3::xxh3_128(tuple));
        }
        let canonical = self.canonical(tuple)?;
        Ok(xxhash_rust::xxh3::xxh3_128(canonical))
    }

    /// The tuple with every field in canonical form (the same framing).
    pub fn canonical<'a>(&'a mut self, tuple: &'a [u8]) -> Result<&'a [u8], TupleError> {
        if self.exact {
            return Ok(tuple);
        }
        self.scratch.clear();
        self.scratch
            .extend_from_slice(tuple.get(..2).ok_or(TupleError("short"))?);
        for (i, field) in fields(tuple)?.enumerate() {
            let field = field?;
            match (self.kinds.get(i), field) {
                (Some(FieldKind::Jsonb), Some(bytes)) => {
                    let at = self.scratch.len();
                    self.scratch.extend_from_slice(&[0; 4]);
                    jsonb::canonical_pooled(bytes, &mut self.scratch, &mut self.pool);
                    let len = i32::try_from(self.scratch.len() - at - 4)
                        .map_err(|_| TupleError("field longer than 2 GB"))?;
                    self.scratch[at..at + 4].copy_from_slice(&len.to_be_bytes());
                }
                (_, Some(bytes)) => {
                    let len = i32::try_from(bytes.len())
                        .map_err(|_| TupleError("field longer than 2 GB"))?;
                    self.scratch.extend_from_slice(&len.to_be_bytes());
                    self.scratch.extend_from_slice(bytes);
                }
                (_, None) => self.scratch.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        Ok(&self.scratch)
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

    fn sum(rows: &[Vec<u8>], kinds: &[FieldKind]) -> Checksum {
        let mut h = TupleHasher::new(kinds.to_vec());
        let mut c = Checksum::default();
        for r in rows {
            c.add(h.hash(r).unwrap());
        }
        c
    }

    const EXACT2: [FieldKind; 2] = [FieldKind::Exact, FieldKind::Exact];

    #[test]
    fn order_does_not_matter_but_multiplicity_does() {
        let a = tuple(&[Some(b"1"), Some(b"x")]);
        let b = tuple(&[Some(b"2"), Some(b"y")]);
        let c = tuple(&[Some(b"3"), None]);
        let one = sum(&[a.clone(), b.clone(), c.clone()], &EXACT2);
        let other = sum(&[c.clone(), a.clone(), b.clone()], &EXACT2);
        assert_eq!(one, other);
        let dup = sum(&[a.clone(), a.clone(), b.clone(), c.clone()], &EXACT2);
        assert_ne!(one.sum, dup.sum);
        // Two rows swapping a value between them are not the same table.
        let swapped = sum(
            &[
                tuple(&[Some(b"1"), Some(b"y")]),
                tuple(&[Some(b"2"), Some(b"x")]),
                c,
            ],
            &EXACT2,
        );
        assert_ne!(one.sum, swapped.sum);
    }

    #[test]
    fn null_is_not_the_empty_string() {
        let null = sum(&[tuple(&[Some(b"1"), None])], &EXACT2);
        let empty = sum(&[tuple(&[Some(b"1"), Some(b"")])], &EXACT2);
        assert_ne!(null.sum, empty.sum);
    }

    #[test]
    fn column_boundaries_are_unambiguous() {
        let a = sum(&[tuple(&[Some(b"ab"), Some(b"c")])], &EXACT2);
        let b = sum(&[tuple(&[Some(b"a"), Some(b"bc")])], &EXACT2);
        assert_ne!(a.sum, b.sum);
    }

    #[test]
    fn floats_differ_by_sign_of_zero_and_by_one_ulp() {
        let f = |x: f64| sum(&[tuple(&[Some(&x.to_bits().to_be_bytes())])], &EXACT2[..1]);
        assert_ne!(f(0.0).sum, f(-0.0).sum);
        assert_ne!(f(0.1).sum, f(f64::from_bits(0.1f64.to_bits() + 1)).sum);
        assert_eq!(f(0.1).sum, f(0.1).sum);
    }

    #[test]
    fn a_trailing_space_differs() {
        let a = sum(&[tuple(&[Some(b"x")])], &EXACT2[..1]);
        let b = sum(&[tuple(&[Some(b"x ")])], &EXACT2[..1]);
        assert_ne!(a.sum, b.sum);
    }

    #[test]
    fn jsonb_fields_hash_as_postgresql_stores_them() {
        let kinds = [FieldKind::Exact, FieldKind::Jsonb];
        let src = tuple(&[
            Some(b"1"),
            Some(b"\x01{\"bb\": 1.50e1, \"a\" : [true,null]}"),
        ]);
        let pg = tuple(&[Some(b"1"), Some(b"\x01{\"a\": [true, null], \"bb\": 15.0}")]);
        assert_eq!(sum(&[src], &kinds), sum(std::slice::from_ref(&pg), &kinds));
        let other = tuple(&[
            Some(b"1"),
            Some(b"\x01{\"a\": [true, null], \"bb\": 15.00}"),
        ]);
        assert_ne!(sum(&[other], &kinds).sum, sum(&[pg], &kinds).sum);
    }
}
