//! Loading one table: read its rows from the snapshot, encode each value exactly, stream binary
//! COPY. A row with a value that cannot be represented goes to the rejects file; the others
//! load. The table is created in the same transaction as its COPY, so a failure leaves
//! nothing behind, and COPY may use FREEZE.

use super::copy::CopyBuffer;
use super::resume::{self, LoadedTable};
use crate::checksum::{Checksum, TupleHasher};
use crate::convert;
use crate::plan::model::Table;
use crate::plan::types::{PgType, ReadAs};
use crate::plan::{Repair, TablePlan};
use crate::progress::Progress;
use crate::rejects::{RejectSink, Rejected, value_json};
use crate::source::sqlite::{Snapshot, SqliteError, read};
use crate::target::postgres::ident::{qualified, quote_ident};
use postgres::Client;
use serde_json::{Map, Value};
use std::time::Instant;

/// What loading one table did.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_rejected: u64,
    pub bytes: u64,
    pub seconds: f64,
    /// Content checksum of the rows written, for verification.
    pub checksum: Checksum,
    /// Values changed by the opt-in repairs, per column with any.
    pub repaired: Vec<crate::report::ColumnRepairs>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Source(#[from] SqliteError),
    #[error("table {table}: PostgreSQL refused the data: {message}")]
    Server { table: String, message: String },
    /// The connection was lost (terminated backend, restarted server, network): the table's
    /// transaction rolled back, so loading it again is safe.
    #[error("table {table}: the connection to PostgreSQL was lost: {message}")]
    Connection { table: String, message: String },
    #[error("table {table}: could not write the rejects file")]
    Rejects {
        table: String,
        #[source]
        source: std::io::Error,
    },
    #[error("table {table}: {message}")]
    Other { table: String, message: String },
}

/// True when `e` means the connection is gone rather than that the data was refused.
pub fn is_connection_error(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        return code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03");
    }
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        if inner.is::<std::io::Error>() {
            return true;
        }
        src = inner.source();
    }
    false
}

/// Describes a server error with its detail and where (COPY line) it happened.
pub fn describe_pg_error(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = db.message().to_string();
            if let Some(d) = db.detail() {
                s.push_str(&format!(" ({d})"));
            }
            if let Some(w) = db.where_() {
                s.push_str(&format!(" [{w}]"));
            }
            s
        }
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s.push_str(&format!(": {inner}"));
                src = inner.source();
            }
            s
        }
    }
}

enum RowError {
    Io(std::io::Error),
    Rejects(std::io::Error),
    Sqlite(rusqlite::Error),
}

/// How a table is loaded.
#[derive(Debug, Clone)]
pub enum LoadInto<'a> {
    /// Create it, then COPY (with FREEZE).
    Create,
    /// It exists and was emptied (`--if-exists truncate`): COPY.
    Existing,
    /// It exists with rows (`--if-exists upsert`): COPY into a temporary table, then insert,
    /// replacing the rows with the same primary key (after deleting the rows owned by the
    /// source's root rows, when the table has an owner).
    Upsert(Option<super::owned::Owner<'a>>),
}

#[allow(clippy::too_many_arguments)] // each is a distinct part of the job; a struct would only rename them
/// Creates and loads one table in one transaction.
pub fn load_table(
    client: &mut Client,
    snapshot: &Snapshot,
    source: &Table,
    tp: &TablePlan,
    schema: &str,
    into: LoadInto<'_>,
    fingerprint: &str,
    rejects: &RejectSink,
    progress: &dyn Progress,
) -> Result<Loaded, LoadError> {
    let started = Instant::now();
    let server = |e: postgres::Error| {
        let message = describe_pg_error(&e);
        let table = tp.name.clone();
        if is_connection_error(&e) {
            LoadError::Connection { table, message }
        } else {
            LoadError::Server { table, message }
        }
    };
    let mut tx = client.transaction().map_err(server)?;
    let qname = qualified(schema, &tp.name);
    let cols: Vec<String> = tp.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let upsert = match &into {
        LoadInto::Create => {
            tx.batch_execute(&tp.create_sql).map_err(server)?;
            None
        }
        LoadInto::Existing => None,
        LoadInto::Upsert(owner) => {
            if let Some(owner) = owner {
                super::owned::delete_owned(&mut tx, snapshot, schema, &qname, owner).map_err(
                    |message| LoadError::Server {
                        table: tp.name.clone(),
                        message,
                    },
                )?;
            }
            tx.batch_execute(&format!(
                "CREATE TEMP TABLE pgcarry_upsert (LIKE {qname} INCLUDING DEFAULTS) ON COMMIT DROP"
            ))
            .map_err(server)?;
            Some(upsert_sql(source, tp, &qname, &cols).ok_or_else(|| {
                LoadError::Other {
                    table: tp.name.clone(),
                    message: "it has no primary key, so rows cannot be upserted: use \
                          --if-exists truncate or drop"
                        .into(),
                }
            })?)
        }
    };
    let freeze = if matches!(into, LoadInto::Create) {
        ", FREEZE"
    } else {
        ""
    };
    let copy_into = if upsert.is_some() {
        "pgcarry_upsert"
    } else {
        &qname
    };
    let copy_sql = format!(
        "COPY {copy_into} ({}) FROM STDIN (FORMAT binary{freeze})",
        cols.join(", ")
    );
    let mut writer = tx.copy_in(&copy_sql).map_err(server)?;

    let fields = i16::try_from(tp.columns.len()).map_err(|_| LoadError::Other {
        table: tp.name.clone(),
        message: "more than 32767 columns".into(),
    })?;
    let types: Vec<(&PgType, ReadAs, Repair)> = tp
        .columns
        .iter()
        .map(|c| (&c.pg_type, c.read_as, c.repair))
        .collect();
    // Per column: values with NULs stripped, with invalid UTF-8 replaced (rows written only).
    let mut repaired = vec![(0u64, 0u64); tp.columns.len()];
    let mut row_repaired: Vec<(usize, convert::Repaired)> = Vec::new();
    let key_cols: Vec<usize> = source
        .primary_key
        .iter()
        .filter_map(|k| source.columns.iter().position(|c| &c.name == k))
        .collect();
    let mut spool = rejects.spool().map_err(|e| LoadError::Rejects {
        table: tp.name.clone(),
        source: e,
    })?;
    let mut buf = CopyBuffer::new();
    let mut hasher = TupleHasher::for_table(tp);
    let mut done = Loaded::default();
    let mut reported = (0u64, 0u64);
    progress.table_start(&tp.name, tp.rows);

    let result = read::for_each_row(snapshot, source, |row| {
        done.rows_read += 1;
        buf.begin_row(fields);
        row_repaired.clear();
        for (i, (ty, read_as, repair)) in types.iter().enumerate() {
            let v = row.get_ref(i).map_err(RowError::Sqlite)?;
            let refusal = if tp.columns[i].not_null && matches!(v, rusqlite::types::ValueRef::Null)
            {
                Some("NULL in a NOT NULL column".to_string())
            } else {
                match convert::encode_repaired(ty, *read_as, *repair, v, buf.out()) {
                    Ok(r) => {
                        if r != convert::Repaired::default() {
                            row_repaired.push((i, r));
                        }
                        None
                    }
                    Err(r) => Some(r.0),
                }
            };
            if let Some(reason) = refusal {
                buf.rollback_row();
                done.rows_rejected += 1;
                let record = reject_record(row, source, tp, &key_cols, i, done.rows_read, &reason)
                    .map_err(RowError::Sqlite)?;
                spool.write(&record).map_err(RowError::Rejects)?;
                return Ok(());
            }
        }
        done.rows_written += 1;
        for (i, r) in &row_repaired {
            repaired[*i].0 += u64::from(r.nul_stripped);
            repaired[*i].1 += u64::from(r.utf8_replaced);
        }
        if let Ok(h) = hasher.hash(buf.current_row()) {
            done.checksum.add(h);
        }
        buf.maybe_flush(&mut writer).map_err(RowError::Io)?;
        if done.rows_read.is_multiple_of(8192) {
            progress.table_advance(&tp.name, done.rows_read - reported.0, buf.sent - reported.1);
            reported = (done.rows_read, buf.sent);
        }
        Ok(())
    })?;
    match result {
        Ok(_) => {}
        Err(RowError::Sqlite(e)) => {
            return Err(SqliteError::query(
                snapshot.path(),
                format!("read table {}", source.name),
                e,
            )
            .into());
        }
        Err(RowError::Rejects(e)) => {
            return Err(LoadError::Rejects {
                table: tp.name.clone(),
                source: e,
            });
        }
        Err(RowError::Io(io)) => {
            // The server ended the COPY: its error arrives with finish().
            return Err(match writer.finish() {
                Err(e) => server(e),
                Ok(_) => LoadError::Connection {
                    table: tp.name.clone(),
                    message: format!("sending COPY data failed: {io}"),
                },
            });
        }
    }
    let flushed = buf.finish(&mut writer);
    let copied = writer.finish().map_err(server)?;
    if let Err(e) = flushed {
        return Err(LoadError::Connection {
            table: tp.name.clone(),
            message: format!("sending COPY data failed: {e}"),
        });
    }
    if copied != done.rows_written {
        return Err(LoadError::Other {
            table: tp.name.clone(),
            message: format!(
                "PostgreSQL reports {copied} rows copied, {} were sent",
                done.rows_written
            ),
        });
    }
    if let Some(sql) = &upsert {
        tx.execute(sql.as_str(), &[]).map_err(server)?;
    }
    done.repaired = tp
        .columns
        .iter()
        .zip(repaired)
        .filter(|(_, (n, u))| n + u > 0)
        .map(|(c, (n, u))| crate::report::ColumnRepairs {
            column: c.name.clone(),
            strip_nul: n,
            replace_invalid_utf8: u,
        })
        .collect();
    done.bytes = buf.sent;
    let state = LoadedTable {
        fingerprint: fingerprint.to_string(),
        rows_read: done.rows_read,
        rows_written: done.rows_written,
        rows_rejected: done.rows_rejected,
        bytes: done.bytes,
        repaired: done.repaired.clone(),
    };
    resume::record(&mut tx, schema, &tp.name, fingerprint, &state).map_err(server)?;
    tx.commit().map_err(server)?;
    rejects.commit(spool).map_err(|e| LoadError::Rejects {
        table: tp.name.clone(),
        source: e,
    })?;
    progress.table_advance(&tp.name, done.rows_read - reported.0, buf.sent - reported.1);
    progress.table_done(&tp.name);
    done.bytes = buf.sent;
    done.seconds = started.elapsed().as_secs_f64();

    Ok(done)
}

/// `INSERT … SELECT … ON CONFLICT (key) DO UPDATE` from the temporary table; `None` without a
/// primary key.
fn upsert_sql(source: &Table, tp: &TablePlan, qname: &str, cols: &[String]) -> Option<String> {
    let key: Vec<String> = source
        .primary_key
        .iter()
        .filter_map(|k| tp.columns.iter().find(|c| &c.source_name == k))
        .map(|c| quote_ident(&c.name))
        .collect();
    if key.is_empty() || key.len() != source.primary_key.len() {
        return None;
    }
    let set: Vec<String> = cols
        .iter()
        .filter(|c| !key.contains(c))
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .collect();
    let action = if set.is_empty() {
        "DO NOTHING".to_string()
    } else {
        format!("DO UPDATE SET {}", set.join(", "))
    };
    let list = cols.join(", ");
    Some(format!(
        "INSERT INTO {qname} ({list}) SELECT {list} FROM pgcarry_upsert ON CONFLICT ({}) {action}",
        key.join(", ")
    ))
}

fn reject_record<'a>(
    row: &rusqlite::Row<'_>,
    source: &'a Table,
    tp: &'a TablePlan,
    key_cols: &[usize],
    column: usize,
    row_number: u64,
    reason: &'a str,
) -> rusqlite::Result<Rejected<'a>> {
    let mut full = Map::new();
    for (i, c) in source.columns.iter().enumerate() {
        full.insert(c.name.clone(), value_json(row.get_ref(i)?));
    }
    let mut key = Map::new();
    if key_cols.is_empty() {
        key.insert("row_number".into(), Value::from(row_number));
    } else {
        for &i in key_cols {
            key.insert(source.columns[i].name.clone(), value_json(row.get_ref(i)?));
        }
    }
    Ok(Rejected {
        table: &tp.name,
        key,
        column: &source.columns[column].name,
        value: value_json(row.get_ref(column)?),
        reason,
        row: full,
    })
}
