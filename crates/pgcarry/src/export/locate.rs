//! Which rows differ when a table's checksums do not match: PostgreSQL's rows are read again
//! in the export's snapshot and counted by their hash (with their first value, to name them);
//! the file's rows take their hashes off; what is left on either side is named, a few of each.

use super::plan::ExportTable;
use super::write;
use crate::formats::copy::fields;
use crate::formats::decode;
use crate::postgres::copy_out;
use postgres::Client;
use rusqlite::types::{Value, ValueRef};
use std::collections::HashMap;
use std::path::Path;

/// The most rows named per side.
const NAMED: usize = 10;

fn show(v: &ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => format!("{f:?}"),
        ValueRef::Text(t) => format!("{:?}", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => format!(
            "x'{}'",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
    }
}

/// The first value of a PostgreSQL tuple, decoded as the export writes it.
fn first_value(t: &ExportTable, tuple: &[u8]) -> String {
    let Some(c) = t.columns.first() else {
        return "(no columns)".into();
    };
    let field = fields(tuple)
        .ok()
        .and_then(|mut f| f.next())
        .and_then(Result::ok);
    match field {
        Some(Some(b)) => match decode::decode(c.wire, b) {
            Ok(v) => show(&ValueRef::from(&v)),
            Err(e) => e.to_string(),
        },
        _ => show(&ValueRef::from(&Value::Null)),
    }
}

/// Describes the rows of `t` that are not the same in PostgreSQL (in the snapshot `client`
/// holds) and in the file at `path`.
pub fn differing_rows(
    client: &mut Client,
    path: &Path,
    t: &ExportTable,
) -> Result<Vec<String>, String> {
    let mut postgres: HashMap<u128, (u64, String)> = HashMap::new();
    let mut hasher = t.hasher();
    copy_out::for_each_tuple(client, &t.copy_sql, |tuple| {
        if let Ok(h) = hasher.hash(tuple) {
            postgres
                .entry(h)
                .or_insert_with(|| (0, first_value(t, tuple)))
                .0 += 1;
        }
    })?;
    let key = t.columns.first().map_or("row", |c| c.sqlite_name.as_str());
    let mut out = Vec::new();
    let mut only_in_file = 0usize;
    write::for_each_row_hash(path, t, |h, first| match postgres.get_mut(&h) {
        Some(e) if e.0 > 0 => e.0 -= 1,
        _ => {
            only_in_file += 1;
            if only_in_file <= NAMED {
                out.push(format!(
                    "{key}={}: in the file, not in PostgreSQL (a value changed on the way)",
                    show(first)
                ));
            }
        }
    })?;
    let mut only_in_postgres: Vec<&String> = postgres
        .values()
        .filter(|(n, _)| *n > 0)
        .map(|(_, k)| k)
        .collect();
    only_in_postgres.sort();
    let total = only_in_postgres.len();
    out.extend(
        only_in_postgres
            .into_iter()
            .take(NAMED)
            .map(|k| format!("{key}={k}: PostgreSQL's row, not in the file as it was")),
    );
    if only_in_file > NAMED || total > NAMED {
        out.push(format!(
            "… {only_in_file} row(s) only in the file, {total} only in PostgreSQL in all"
        ));
    }
    Ok(out)
}
