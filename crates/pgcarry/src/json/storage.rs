//! How a JSON value is stored in the staged SQLite database, and the declared type that makes
//! the SQLite pipeline pick the right PostgreSQL type for the column: integers as integers,
//! doubles only when exact, other numbers as their literal (numeric), booleans as 0/1,
//! ISO dates and UUIDs as text (date, timestamp[tz], uuid), and values of several kinds as
//! their JSON text (jsonb).

use super::stats::Stats;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Storage {
    Bool,
    Int,
    Real,
    /// The number's literal, as text, in a numeric column.
    Decimal,
    Text,
    /// The value's JSON text, in a jsonb column.
    Json,
}

/// The storage and the declared type that make the SQLite pipeline choose the right type.
/// `NUMERIC TEXT` and `JSON TEXT` have SQLite's TEXT affinity (it keeps the text as written;
/// NUMERIC affinity would round big numbers through a double) and `plan::decide::hint` reads
/// them as numeric and JSON.
pub fn storage(s: &Stats) -> (Storage, &'static str) {
    let kinds = [s.bools, s.numbers(), s.strings, s.containers()]
        .iter()
        .filter(|&&n| n > 0)
        .count();
    if kinds > 1 || s.containers() > 0 {
        (Storage::Json, "JSON TEXT")
    } else if s.bools > 0 {
        (Storage::Bool, "BOOLEAN")
    } else if s.numbers() > 0 {
        if s.reals == 0 && s.decimals == 0 {
            (Storage::Int, "INTEGER")
        } else if s.ints == 0 && s.decimals == 0 {
            (Storage::Real, "REAL")
        } else {
            (Storage::Decimal, "NUMERIC TEXT")
        }
    } else if s.strings > 0 && s.dates == s.strings {
        (Storage::Text, "DATE")
    } else if s.strings > 0 && s.dates + s.naive + s.offsets == s.strings {
        (Storage::Text, "DATETIME")
    } else if s.strings > 0 && s.uuids == s.strings {
        (Storage::Text, "UUID")
    } else {
        (Storage::Text, "TEXT")
    }
}

/// Why a column holding values of several kinds has the storage it has; `None` for one kind.
pub fn widened(s: &Stats, storage: Storage) -> Option<String> {
    let kinds: Vec<String> = [
        (s.bools, "boolean"),
        (s.ints, "integer"),
        (s.reals + s.decimals, "fractional"),
        (s.strings, "string"),
        (s.objects + s.empty_objects, "object"),
        (s.object_arrays + s.empty_arrays + s.other_arrays, "array"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if kinds.len() < 2 {
        return None;
    }
    let keeps = match storage {
        Storage::Decimal => "numeric keeps every number exactly",
        _ => "jsonb keeps each value exactly, with its kind",
    };
    Some(format!(
        "values of several kinds ({}): {keeps}",
        kinds.join(", ")
    ))
}
