//! The scan: every value of every column, counted by storage class and checked against the
//! parsers the converter will use, so that type decisions rest on the data, not the declared
//! type. One pass per table, tables in parallel, constant memory.

use super::{Snapshot, SqliteError, quote_sqlite_ident};
use crate::formats::text as convert;
use crate::formats::{datetime, epoch, json, numeric, shape};
use crate::model::schema::Table;
use rusqlite::types::ValueRef;
use serde::{Deserialize, Serialize};

/// Which parsers a column's text values must be checked with (from its declared type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    None,
    Bool,
    DateTime,
    Time,
    Json,
    Uuid,
    Decimal,
}

/// What the scan found in one column.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ColumnStats {
    pub nulls: u64,
    pub ints: u64,
    pub reals: u64,
    pub texts: u64,
    pub blobs: u64,
    pub int_min: i64,
    pub int_max: i64,
    pub ints_not_bool: u64,
    pub reals_non_finite: u64,
    pub reals_fractional: u64,
    /// Largest (integer digits, fraction digits) a real or decimal text needs as numeric.
    pub decimal_int_digits: u32,
    pub decimal_scale: u32,
    pub text_max_chars: u64,
    /// Texts PostgreSQL text cannot hold (NUL byte or invalid UTF-8).
    pub text_unholdable: u64,
    pub text_unholdable_example: Option<String>,
    /// Of those: texts holding a NUL byte, and texts that are not valid UTF-8 (a value may be
    /// both), so the plan can say exactly what each repair flag covers.
    pub text_nul: u64,
    pub text_invalid_utf8: u64,
    pub blobs_16: u64,
    /// Blobs whose bytes are text PostgreSQL holds (valid UTF-8, no NUL), and of those the
    /// ones that are a JSON document: a configured text or jsonb type converts them.
    #[serde(default)]
    pub blobs_utf8: u64,
    #[serde(default)]
    pub blobs_json: u64,
    /// Texts the column's probe accepted, and the first one it refused.
    pub probe_ok: u64,
    pub probe_failed_example: Option<String>,
    pub dates: u64,
    pub naive: u64,
    pub offsets: u64,
    pub json_duplicate_keys: u64,
    pub json_nul: u64,
    /// In date columns: numbers that are Julian days SQLite writes exactly (see `convert::epoch`).
    #[serde(default)]
    pub julian_ok: u64,
    /// Texts with a character beyond ASCII (where SQLite's NOCASE and PostgreSQL's lower() differ).
    #[serde(default)]
    pub text_non_ascii: u64,
    /// The written forms of the text values of a date, time, boolean or UUID column
    /// (`formats::shape`), up to a few; `forms_mixed` when there were more.
    #[serde(default)]
    pub forms: Vec<String>,
    #[serde(default)]
    pub forms_mixed: bool,
    /// How a JSON column's documents were written (spacing, key order).
    #[serde(default)]
    pub json_style: crate::formats::json_style::JsonStyle,
}

impl ColumnStats {
    pub fn non_null(&self) -> u64 {
        self.ints + self.reals + self.texts + self.blobs
    }
}

/// Folds one value into the content digest: its storage class and its bytes, in order. A
/// one-shot hash per value and a multiply keep this a few nanoseconds per value.
fn digest_value(acc: &mut u64, v: ValueRef<'_>) {
    use xxhash_rust::xxh3::xxh3_64_with_seed;
    let h = match v {
        ValueRef::Null => 0x6e75_6c6c,
        ValueRef::Integer(i) => u64::from_le_bytes(i.to_le_bytes()) ^ 0x0100_0000_0000_0001,
        ValueRef::Real(f) => f.to_bits().rotate_left(17) ^ 0x0200_0000_0000_0002,
        ValueRef::Text(t) => xxh3_64_with_seed(t, 3),
        ValueRef::Blob(b) => xxh3_64_with_seed(b, 4),
    };
    *acc = (acc.rotate_left(23) ^ h).wrapping_mul(0x9e37_79b9_7f4a_7c15);
}

/// What the scan found in one table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableStats {
    pub rows: u64,
    /// Per column, in `Table::columns` order.
    pub columns: Vec<ColumnStats>,
    /// Largest rowid-alias key, for sequences.
    pub max_key: Option<i64>,
    /// Orphan rows per foreign key id (`introspect::orphans_of`).
    #[serde(default)]
    pub orphans: Vec<(i64, crate::model::schema::Orphans)>,
    /// A digest of every value in storage order (hex): any edit of the table changes it, so
    /// the plan's fingerprint tells a resumed run that the source changed.
    #[serde(default)]
    pub content_digest: String,
    /// Unique keys over an application-defined collation whose rows hold values equal under
    /// its stand-in (`collation::folded_duplicates`): by index name, `None` for the primary key.
    #[serde(default)]
    pub folded_duplicates: Vec<Option<String>>,
}

fn example(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

fn observe(stats: &mut ColumnStats, probe: Probe, v: ValueRef<'_>) {
    match v {
        ValueRef::Null => stats.nulls += 1,
        ValueRef::Integer(i) => {
            if stats.ints == 0 {
                stats.int_min = i;
                stats.int_max = i;
            }
            stats.ints += 1;
            stats.int_min = stats.int_min.min(i);
            stats.int_max = stats.int_max.max(i);
            if i != 0 && i != 1 {
                stats.ints_not_bool += 1;
            }
            if probe == Probe::DateTime && epoch::julian_day_int(i).is_some() {
                stats.julian_ok += 1;
            }
            if probe == Probe::Decimal {
                let d = numeric::Decimal::from_i64(i);
                note_decimal(stats, &d);
            }
        }
        ValueRef::Real(f) => {
            stats.reals += 1;
            if !f.is_finite() {
                stats.reals_non_finite += 1;
            } else if f.fract() != 0.0 {
                stats.reals_fractional += 1;
            }
            if probe == Probe::DateTime && epoch::julian_day(f).is_some() {
                stats.julian_ok += 1;
            }
            if probe == Probe::Decimal
                && let numeric::Numeric::Finite(d) = numeric::Numeric::from_f64(f)
            {
                note_decimal(stats, &d);
            }
        }
        ValueRef::Blob(b) => {
            stats.blobs += 1;
            if b.len() == 16 {
                stats.blobs_16 += 1;
            }
            if convert::check_text(b).is_ok() {
                stats.blobs_utf8 += 1;
                stats.blobs_json += u64::from(json::check(b).is_ok());
            }
        }
        ValueRef::Text(t) => {
            stats.texts += 1;
            match convert::check_text(t) {
                Ok(text) => {
                    let chars = if t.is_ascii() {
                        t.len()
                    } else {
                        stats.text_non_ascii += 1;
                        text.chars().count()
                    };
                    stats.text_max_chars = stats.text_max_chars.max(chars as u64);
                }
                Err(_) => {
                    stats.text_unholdable += 1;
                    stats.text_nul += u64::from(t.contains(&0));
                    stats.text_invalid_utf8 += u64::from(std::str::from_utf8(t).is_err());
                    if stats.text_unholdable_example.is_none() {
                        stats.text_unholdable_example = Some(example(t));
                    }
                    return;
                }
            }
            let ok = match probe {
                Probe::None => true,
                Probe::Bool => convert::parse_bool_text(t).is_some(),
                Probe::Uuid => convert::parse_uuid_text(t).is_some(),
                Probe::Time => datetime::parse_time(t).is_some(),
                Probe::DateTime => match datetime::parse(t) {
                    Some(datetime::Parsed::Date(_)) => {
                        stats.dates += 1;
                        true
                    }
                    Some(datetime::Parsed::Naive(_)) => {
                        stats.naive += 1;
                        true
                    }
                    Some(datetime::Parsed::Offset(_)) => {
                        stats.offsets += 1;
                        true
                    }
                    None => false,
                },
                Probe::Json => match json::check_noting(t, &mut stats.json_style) {
                    Ok(found) => {
                        stats.json_duplicate_keys += u64::from(found.duplicate_keys);
                        stats.json_nul += u64::from(found.nul_escape);
                        true
                    }
                    Err(_) => false,
                },
                Probe::Decimal => match numeric::parse_decimal(t) {
                    Some(d) => {
                        note_decimal(stats, &d);
                        true
                    }
                    None => false,
                },
            };
            if ok {
                stats.probe_ok += 1;
                note_form(stats, probe, t);
            } else if stats.probe_failed_example.is_none() {
                stats.probe_failed_example = Some(example(t));
            }
        }
    }
}

/// Notes the written form of a text value the probe accepted (see `formats::shape`).
fn note_form(stats: &mut ColumnStats, probe: Probe, t: &[u8]) {
    thread_local! {
        static FORM: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    if stats.forms_mixed {
        return;
    }
    FORM.with_borrow_mut(|form| {
        match probe {
            Probe::DateTime | Probe::Time => shape::datetime_form(t, form),
            Probe::Uuid => shape::uuid_form(t, form),
            Probe::Bool => {
                form.clear();
                form.extend_from_slice(t);
            }
            _ => return,
        }
        if !shape::note(&mut stats.forms, form) {
            stats.forms_mixed = true;
        }
    });
}

fn note_decimal(stats: &mut ColumnStats, d: &numeric::Decimal) {
    let (int_digits, scale) = d.precision_needs();
    stats.decimal_int_digits = stats.decimal_int_digits.max(int_digits);
    stats.decimal_scale = stats.decimal_scale.max(scale);
}

/// Scans one table on its own reader connection.
pub fn scan_table(
    snapshot: &Snapshot,
    table: &Table,
    probes: &[Probe],
    on_rows: &(dyn Fn(u64) + Sync),
) -> Result<TableStats, SqliteError> {
    let conn = snapshot.reader()?;
    let path = snapshot.path();
    let cols: Vec<(usize, String)> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| (i, quote_sqlite_ident(&c.name)))
        .collect();
    let mut stats = TableStats {
        rows: 0,
        columns: vec![ColumnStats::default(); table.columns.len()],
        max_key: None,
        orphans: Vec::new(),
        content_digest: String::new(),
        folded_duplicates: Vec::new(),
    };
    let mut digest = 0u64;
    if cols.is_empty() {
        return Ok(stats);
    }
    let list: Vec<&str> = cols.iter().map(|(_, q)| q.as_str()).collect();
    let sql = format!(
        "SELECT {} FROM {}",
        list.join(", "),
        quote_sqlite_ident(&table.name)
    );
    let what = || format!("scan table {}", table.name);
    let mut stmt = conn
        .prepare(&sql)
        .map_err(|e| SqliteError::query(path, what(), e))?;
    let mut rows = stmt
        .query([])
        .map_err(|e| SqliteError::query(path, what(), e))?;
    while let Some(row) = rows
        .next()
        .map_err(|e| SqliteError::query(path, what(), e))?
    {
        for (pos, (i, _)) in cols.iter().enumerate() {
            let v = row
                .get_ref(pos)
                .map_err(|e| SqliteError::query(path, what(), e))?;
            observe(&mut stats.columns[*i], probes[*i], v);
            digest_value(&mut digest, v);
        }
        stats.rows += 1;
        if stats.rows.is_multiple_of(65_536) {
            on_rows(65_536);
        }
    }
    on_rows(stats.rows % 65_536);
    stats.content_digest = format!("{digest:016x}");
    if let Some(key) = &table.rowid_alias
        && let Some(i) = table.columns.iter().position(|c| &c.name == key)
        && stats.columns[i].ints > 0
    {
        stats.max_key = Some(stats.columns[i].int_max);
    }
    drop(rows);
    drop(stmt);
    stats.orphans = super::introspect::orphans_of(&conn, table);
    stats.folded_duplicates = super::collation::folded_duplicates(&conn, table);
    Ok(stats)
}
