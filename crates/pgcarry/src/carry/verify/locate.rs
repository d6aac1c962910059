//! Locating what differs in a table whose checksums disagree, in constant memory.
//!
//! A single-column integer key is bisected by key range, with range checksums on both sides
//! (as reladiff does), down to ranges of a few rows that are compared row by row. Any other
//! primary key (composite, text, uuid…) is located by hashing: both sides are read once to
//! checksum rows per bucket of the key's hash, then once more keeping only the rows of the
//! few buckets that differ. Either way at most [`MAX_DIFFERENCES`] rows are listed, each with
//! its key and, for a changed row, the columns that differ.

use crate::carry::encode::row as source;
use crate::carry::verify::target;
use crate::checksum::{Checksum, KeyRange, TupleHasher};
use crate::model::outcome::RowDifference;
use crate::model::plan::TablePlan;
use crate::model::schema::Table;
use crate::model::types::PgType;
use crate::sqlite::{Snapshot, SqliteError};
use base64::Engine;
use postgres::Client;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

/// Rows listed per differing table.
pub const MAX_DIFFERENCES: usize = 20;
/// Bisection stops at ranges holding at most this many rows on either side.
const LEAF_ROWS: u64 = 64;
/// Buckets of the key hash when the key cannot be bisected.
const BUCKETS: usize = 4096;

/// One side of the comparison.
pub struct Sides<'a> {
    pub snapshot: &'a Snapshot,
    pub source: &'a Table,
    pub tp: &'a TablePlan,
    pub schema: &'a str,
}

fn sqlite_err(e: SqliteError) -> String {
    format!("{e:#}")
}

/// The positions of the table's primary-key columns in the plan, when it has a key.
pub fn key_columns(source: &Table, tp: &TablePlan) -> Option<Vec<usize>> {
    if source.primary_key.is_empty() {
        return None;
    }
    source
        .primary_key
        .iter()
        .map(|k| {
            tp.columns
                .iter()
                .position(|c| c.source_name.eq_ignore_ascii_case(k))
        })
        .collect()
}

/// Lists up to [`MAX_DIFFERENCES`] differing rows of a table keyed by `key`.
pub fn locate(
    s: &Sides<'_>,
    client: &mut Client,
    key: &[usize],
) -> Result<Vec<RowDifference>, String> {
    let mut found = match key {
        [k] if s.tp.columns[*k].pg_type.is_integer() => bisect(s, client, *k)?,
        _ => by_hash(s, client, key)?,
    };
    found.truncate(MAX_DIFFERENCES);
    Ok(found)
}

fn bisect(s: &Sides<'_>, client: &mut Client, key: usize) -> Result<Vec<RowDifference>, String> {
    let bounds = [
        source::key_bounds(s.snapshot, s.source, key).map_err(sqlite_err)?,
        target::key_bounds(client, s.schema, s.tp, key)?,
    ];
    let Some((lo, hi)) = bounds
        .iter()
        .flatten()
        .copied()
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
    else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    // Depth first, lower half first: differences come out in key order. The whole range is
    // known to differ already.
    let mut stack = vec![(
        KeyRange {
            column: key,
            lo,
            hi,
        },
        true,
    )];
    while let Some((r, known_different)) = stack.pop() {
        if found.len() >= MAX_DIFFERENCES {
            break;
        }
        let (rows_s, rows_t) = if known_different {
            (u64::MAX, u64::MAX)
        } else {
            let (cs, _) =
                source::table_checksum(s.snapshot, s.source, s.tp, Some(&r)).map_err(sqlite_err)?;
            let ct = target::table_checksum(client, s.schema, s.tp, Some(&r))?;
            if cs == ct {
                continue;
            }
            (cs.rows, ct.rows)
        };
        if rows_s.max(rows_t) <= LEAF_ROWS || r.lo == r.hi {
            let key = [key];
            let mut rows = RowSets::new(s.tp, &key);
            source::for_each_tuple(s.snapshot, s.source, s.tp, Some(&r), |t| rows.add(t, true))
                .map_err(sqlite_err)?;
            target::for_each_tuple(client, s.schema, s.tp, Some(&r), |t| rows.add(t, false))?;
            rows.differences(&mut found);
            continue;
        }
        let mid =
            i64::try_from((i128::from(r.lo) + i128::from(r.hi)).div_euclid(2)).unwrap_or(r.lo);
        stack.push((KeyRange { lo: mid + 1, ..r }, false));
        stack.push((KeyRange { hi: mid, ..r }, false));
    }
    Ok(found)
}

fn by_hash(
    s: &Sides<'_>,
    client: &mut Client,
    key: &[usize],
) -> Result<Vec<RowDifference>, String> {
    let mut hasher = TupleHasher::for_table(s.tp);
    let bucket = |t: &[u8]| -> Option<usize> {
        let k = key_bytes(t, key)?;
        usize::try_from(xxhash_rust::xxh3::xxh3_64(&k) % BUCKETS as u64).ok()
    };
    let mut sums = [
        vec![Checksum::default(); BUCKETS],
        vec![Checksum::default(); BUCKETS],
    ];
    let mut add = |side: usize, t: &[u8]| {
        if let (Some(b), Ok(h)) = (bucket(t), hasher.hash(t)) {
            sums[side][b].add(h);
        }
    };
    source::for_each_tuple(s.snapshot, s.source, s.tp, None, |t| add(0, t)).map_err(sqlite_err)?;
    target::for_each_tuple(client, s.schema, s.tp, None, |t| add(1, t))?;
    let differing: HashSet<usize> = (0..BUCKETS)
        .filter(|&b| sums[0][b] != sums[1][b])
        .take(MAX_DIFFERENCES)
        .collect();
    if differing.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = RowSets::new(s.tp, key);
    let keep = |t: &[u8]| bucket(t).is_some_and(|b| differing.contains(&b));
    source::for_each_tuple(s.snapshot, s.source, s.tp, None, |t| {
        if keep(t) {
            rows.add(t, true);
        }
    })
    .map_err(sqlite_err)?;
    target::for_each_tuple(client, s.schema, s.tp, None, |t| {
        if keep(t) {
            rows.add(t, false);
        }
    })?;
    let mut found = Vec::new();
    rows.differences(&mut found);
    Ok(found)
}

/// The key fields of a tuple, length-prefixed and concatenated.
fn key_bytes(tuple: &[u8], key: &[usize]) -> Option<Vec<u8>> {
    let fields: Vec<Option<&[u8]>> = crate::formats::copy::fields(tuple)
        .ok()?
        .collect::<Result<_, _>>()
        .ok()?;
    let mut out = Vec::new();
    for &k in key {
        match fields.get(k)? {
            Some(b) => {
                out.extend_from_slice(&(b.len() as u64).to_be_bytes());
                out.extend_from_slice(b);
            }
            None => out.extend_from_slice(&u64::MAX.to_be_bytes()),
        }
    }
    Some(out)
}

/// One key's rows: the key as the report shows it, the source's rows, the target's rows.
type KeyRows = (Map<String, Value>, Vec<Vec<u8>>, Vec<Vec<u8>>);

/// The rows of a few keys from both sides, in canonical form, compared by key.
struct RowSets<'a> {
    tp: &'a TablePlan,
    key: &'a [usize],
    hasher: TupleHasher,
    /// By sort key: (key JSON, source rows, target rows).
    rows: BTreeMap<Vec<u8>, KeyRows>,
}

impl<'a> RowSets<'a> {
    fn new(tp: &'a TablePlan, key: &'a [usize]) -> Self {
        RowSets {
            tp,
            key,
            hasher: TupleHasher::for_table(tp),
            rows: BTreeMap::new(),
        }
    }

    fn add(&mut self, tuple: &[u8], from_source: bool) {
        let Ok(canonical) = self.hasher.canonical(tuple) else {
            return;
        };
        let Ok(fields) =
            crate::formats::copy::fields(canonical).and_then(|f| f.collect::<Result<Vec<_>, _>>())
        else {
            return;
        };
        let mut sort_key = Vec::new();
        for &k in self.key {
            match fields.get(k).copied().flatten() {
                Some(b) => {
                    let mut b = b.to_vec();
                    // Signed big-endian integers sort in numeric order with the sign bit flipped.
                    if self.tp.columns[k].pg_type.is_integer()
                        && let Some(first) = b.first_mut()
                    {
                        *first ^= 0x80;
                    }
                    sort_key.extend_from_slice(&(b.len() as u64).to_be_bytes());
                    sort_key.extend_from_slice(&b);
                }
                None => sort_key.extend_from_slice(&u64::MAX.to_be_bytes()),
            }
        }
        let entry = self.rows.entry(sort_key).or_insert_with(|| {
            let mut key = Map::new();
            for &k in self.key {
                let c = &self.tp.columns[k];
                key.insert(
                    c.name.clone(),
                    field_json(&c.pg_type, fields.get(k).copied().flatten()),
                );
            }
            (key, Vec::new(), Vec::new())
        });
        let side = if from_source {
            &mut entry.1
        } else {
            &mut entry.2
        };
        side.push(canonical.to_vec());
    }

    fn differences(mut self, found: &mut Vec<RowDifference>) {
        for (_, (key, mut s, mut t)) in std::mem::take(&mut self.rows) {
            if found.len() >= MAX_DIFFERENCES {
                return;
            }
            s.sort();
            t.sort();
            let (kind, columns) = match (s.len(), t.len()) {
                _ if s == t => continue,
                (_, 0) => ("missing", Vec::new()),
                (0, _) => ("extra", Vec::new()),
                (a, b) if a > b => ("missing", Vec::new()),
                (a, b) if a < b => ("extra", Vec::new()),
                _ => ("changed", differing_columns(self.tp, &s[0], &t[0])),
            };
            found.push(RowDifference {
                key,
                kind: kind.into(),
                columns,
            });
        }
    }
}

/// A key value as the report shows it: numbers, text, uuids as such; anything else base64.
fn field_json(ty: &PgType, bytes: Option<&[u8]>) -> Value {
    let Some(b) = bytes else {
        return Value::Null;
    };
    let int = match (ty, b.len()) {
        (PgType::SmallInt, 2) => b.try_into().ok().map(|a| i64::from(i16::from_be_bytes(a))),
        (PgType::Integer, 4) => b.try_into().ok().map(|a| i64::from(i32::from_be_bytes(a))),
        (PgType::BigInt, 8) => b.try_into().ok().map(i64::from_be_bytes),
        _ => None,
    };
    if let Some(i) = int {
        return Value::from(i);
    }
    match ty {
        PgType::Text | PgType::Varchar { .. } | PgType::Enum { .. } => match std::str::from_utf8(b)
        {
            Ok(s) => Value::from(s),
            Err(_) => base64_json(b),
        },
        PgType::Uuid if b.len() == 16 => {
            let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
            Value::from(format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            ))
        }
        _ => base64_json(b),
    }
}

fn base64_json(b: &[u8]) -> Value {
    serde_json::json!({ "base64": base64::engine::general_purpose::STANDARD.encode(b) })
}

fn differing_columns(tp: &TablePlan, a: &[u8], b: &[u8]) -> Vec<String> {
    let (Ok(fa), Ok(fb)) = (
        crate::formats::copy::fields(a),
        crate::formats::copy::fields(b),
    ) else {
        return Vec::new();
    };
    fa.zip(fb)
        .zip(&tp.columns)
        .filter(|((x, y), _)| x != y)
        .map(|(_, c)| c.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_read_as_people_write_them() {
        assert_eq!(
            field_json(&PgType::Integer, Some(&(-7i32).to_be_bytes())),
            Value::from(-7)
        );
        assert_eq!(
            field_json(&PgType::BigInt, Some(&5_000_000_000i64.to_be_bytes())),
            Value::from(5_000_000_000i64)
        );
        assert_eq!(
            field_json(&PgType::Text, Some(b"theme")),
            Value::from("theme")
        );
        assert_eq!(
            field_json(&PgType::Uuid, Some(&[0x12; 16])),
            Value::from("12121212-1212-1212-1212-121212121212")
        );
        assert_eq!(
            field_json(&PgType::Bytea, Some(b"\xff")),
            base64_json(b"\xff")
        );
        assert_eq!(field_json(&PgType::Text, None), Value::Null);
    }

    #[test]
    fn key_bytes_frame_each_field() {
        let tuple = |a: &[u8], b: &[u8]| {
            let mut t = 2i16.to_be_bytes().to_vec();
            for f in [a, b] {
                t.extend_from_slice(&i32::try_from(f.len()).unwrap().to_be_bytes());
                t.extend_from_slice(f);
            }
            t
        };
        assert_ne!(
            key_bytes(&tuple(b"ab", b"c"), &[0, 1]),
            key_bytes(&tuple(b"a", b"bc"), &[0, 1])
        );
        assert_eq!(
            key_bytes(&tuple(b"ab", b"c"), &[0]),
            key_bytes(&tuple(b"ab", b"zz"), &[0])
        );
    }
}
