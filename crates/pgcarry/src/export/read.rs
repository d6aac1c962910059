//! Reading the snapshot in parallel into the one writer: `jobs` connections each import the
//! export's snapshot (`SET TRANSACTION SNAPSHOT`, from `pg_export_snapshot()`), take tables from
//! a shared queue, hash every tuple as it arrives and decode it; the rows go in batches over a
//! bounded channel to the caller's thread, which inserts them into the file in one
//! transaction. Memory stays bounded by the channel, whatever the tables' sizes.

use super::ExportError;
use super::plan::ExportTable;
use super::restyle;
use super::write::Partial;
use crate::checksum::Checksum;
use crate::formats::copy::fields;
use crate::formats::decode;
use crate::postgres::conn::ConnSettings;
use crate::postgres::copy_out;
use crate::postgres::error::describe_pg_error;
use crate::postgres::ident::quote_literal;
use crate::work::progress::Progress;
use postgres::Client;
use rusqlite::types::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::Instant;

/// Rows per message from a reader to the writer, at most…
const BATCH: usize = 512;
/// …and about this many bytes of PostgreSQL's tuples: wide rows travel in smaller batches.
const BATCH_BYTES: usize = 4 << 20;

/// What reading one table gave: its rows and checksum as PostgreSQL sent them.
#[derive(Debug, Clone, Default)]
pub struct Read {
    pub rows: u64,
    pub sum: Checksum,
    pub seconds: f64,
    pub error: Option<String>,
}

enum Msg {
    Rows(usize, Vec<Vec<Value>>),
    Done(usize, Read),
}

/// A connection in the export's snapshot, with the export's session settings.
pub fn in_snapshot(source: &ConnSettings, id: &str) -> Result<Client, String> {
    let mut client = source.connect().map_err(|e| e.to_string())?;
    client
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT {}; {}",
            quote_literal(id),
            super::SESSION
        ))
        .map_err(|e| format!("join the export's snapshot: {}", describe_pg_error(&e)))?;
    Ok(client)
}

/// Reads every table of `tables` from snapshot `id` on `jobs` connections and writes their
/// rows into `file`; returns what each read gave, in the tables' order.
pub fn read_all(
    source: &ConnSettings,
    id: &str,
    tables: &[ExportTable],
    jobs: usize,
    file: &Partial,
    progress: &dyn Progress,
) -> Result<Vec<Read>, ExportError> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = sync_channel::<Msg>(16);
    let mut reads: Vec<Read> = vec![Read::default(); tables.len()];
    let mut write_errors: Vec<Option<String>> = vec![None; tables.len()];
    std::thread::scope(|s| -> Result<(), ExportError> {
        for _ in 0..jobs.clamp(1, tables.len().max(1)) {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || reader(source, id, tables, next, &tx));
        }
        drop(tx);
        file.begin()?;
        let mut statements = tables
            .iter()
            .map(|t| file.statement(t))
            .collect::<Result<Vec<_>, _>>()?;
        for msg in rx {
            match msg {
                Msg::Rows(i, batch) if write_errors[i].is_none() => {
                    for row in &batch {
                        if let Err(e) = statements[i].execute(rusqlite::params_from_iter(row)) {
                            write_errors[i] =
                                Some(format!("write a row into {}: {e}", tables[i].sqlite_name));
                            break;
                        }
                    }
                }
                Msg::Rows(..) => {}
                Msg::Done(i, read) => {
                    progress.message(&format!("  read {} ({} rows)", tables[i].name, read.rows));
                    reads[i] = read;
                }
            }
        }
        drop(statements);
        file.commit()
    })?;
    for (read, error) in reads.iter_mut().zip(write_errors) {
        if read.error.is_none() {
            read.error = error;
        }
    }
    Ok(reads)
}

/// One reader: a connection in the snapshot, then tables from the queue until it is empty.
fn reader(
    source: &ConnSettings,
    id: &str,
    tables: &[ExportTable],
    next: &AtomicUsize,
    tx: &SyncSender<Msg>,
) {
    let mut client = in_snapshot(source, id);
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(t) = tables.get(i) else {
            return;
        };
        let read = match client.as_mut() {
            Ok(c) => read_table(c, t, i, tx),
            Err(e) => Read {
                error: Some(e.clone()),
                ..Read::default()
            },
        };
        if tx.send(Msg::Done(i, read)).is_err() {
            return;
        }
    }
}

/// Reads table `t` (number `i`): every tuple hashed as sent, decoded, written back in the
/// source's form when recorded, and sent on in batches.
fn read_table(client: &mut Client, t: &ExportTable, i: usize, tx: &SyncSender<Msg>) -> Read {
    let started = Instant::now();
    let mut hasher = t.hasher();
    let mut sum = Checksum::default();
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(BATCH);
    let mut batch_bytes = 0usize;
    let mut failure: Option<String> = None;
    let copied = copy_out::for_each_tuple(client, &t.copy_sql, |tuple| {
        if failure.is_some() {
            return;
        }
        match hasher.hash(tuple) {
            Ok(h) => sum.add(h),
            Err(e) => {
                failure = Some(e.to_string());
                return;
            }
        }
        match decode_row(t, tuple, sum.rows) {
            Ok(row) => batch.push(row),
            Err(e) => failure = Some(e),
        }
        batch_bytes += tuple.len();
        if batch.len() >= BATCH || batch_bytes >= BATCH_BYTES {
            batch_bytes = 0;
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if tx.send(Msg::Rows(i, full)).is_err() {
                failure = Some("the writer stopped".into());
            }
        }
    });
    if !batch.is_empty() {
        let _ = tx.send(Msg::Rows(i, batch));
    }
    let error = match copied {
        Err(e) => Some(format!("read {}: {e}", t.name)),
        Ok(()) => failure,
    };
    Read {
        rows: sum.rows,
        sum,
        seconds: started.elapsed().as_secs_f64(),
        error,
    }
}

/// One tuple as the SQLite values to insert.
fn decode_row(t: &ExportTable, tuple: &[u8], row: u64) -> Result<Vec<Value>, String> {
    let mut values = Vec::with_capacity(t.columns.len());
    for (field, c) in fields(tuple).map_err(|e| e.to_string())?.zip(&t.columns) {
        values.push(match field.map_err(|e| e.to_string())? {
            None => Value::Null,
            Some(b) => {
                let v = decode::decode(c.wire, b)
                    .map_err(|e| format!("column {}, row {row}: {e}", c.name))?;
                restyle::apply(&c.restyle, c.wire, b, v)
            }
        });
    }
    Ok(values)
}
