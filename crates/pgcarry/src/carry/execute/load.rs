//! Loading one table: read its rows from the snapshot, encode each value exactly, stream binary
//! COPY. A row with a value that cannot be represented goes to the rejects file; the others
//! load. The table is created in the same transaction as its COPY, so a failure leaves
//! nothing behind, and COPY may use FREEZE.

use super::resume::{self, LoadedTable};
use crate::carry::encode::row as checksum;
use crate::carry::encode::value;
use crate::carry::rejects::{RejectSink, reject_record};
use crate::checksum::{Checksum, TupleHasher};
use crate::model::plan::TablePlan;
use crate::model::schema::Table;
use crate::postgres::copy_in::CopyBuffer;
use crate::postgres::error::{describe_pg_error, is_connection_error};
use crate::sqlite::{Snapshot, SqliteError, read};
use crate::work::progress::Progress;
use postgres::Client;
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
    pub repaired: Vec<crate::model::outcome::ColumnRepairs>,
    /// True when part of the table was loaded by an earlier run: `checksum` covers only the
    /// rows loaded now, so verification hashes the source again.
    pub checksum_partial: bool,
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

enum RowError {
    Io(std::io::Error),
    Rejects(std::io::Error),
    Sqlite(rusqlite::Error),
}

/// How a table is loaded.
#[derive(Debug, Clone)]
pub enum LoadInto<'a> {
    /// Create it (recorded as pgcarry's, made from `source`), then COPY (with FREEZE).
    Create { source: &'a str },
    /// It exists and was emptied (`--if-exists truncate`): COPY.
    Existing,
    /// It exists with rows (`--if-exists upsert`): COPY into a temporary table, then insert,
    /// replacing the rows with the same primary key (after deleting the rows owned by the
    /// source's root rows, when the table has an owner).
    Upsert(Option<super::owned::Owner<'a>>),
}

/// What one table's load has done so far, over its ranges (and, when it resumes, over the
/// ranges an earlier run committed).
struct Tally {
    done: Loaded,
    /// Per column: values with NULs stripped, with invalid UTF-8 replaced, set to NULL by
    /// `--orphans null` (rows written only).
    repaired: Vec<(u64, u64, u64)>,
    /// Rows and bytes already shown in the progress bar.
    reported: (u64, u64),
}

impl Tally {
    fn new(tp: &TablePlan) -> Tally {
        Tally {
            done: Loaded::default(),
            repaired: vec![(0, 0, 0); tp.columns.len()],
            reported: (0, 0),
        }
    }

    /// Continues from the state an earlier run committed; its ranges' checksums are not
    /// known here, so verification reads the source again.
    fn resume(&mut self, tp: &TablePlan, state: &LoadedTable) {
        self.done.rows_read = state.rows_read;
        self.done.rows_written = state.rows_written;
        self.done.rows_rejected = state.rows_rejected;
        self.done.bytes = state.bytes;
        self.done.checksum_partial = true;
        for r in &state.repaired {
            if let Some(i) = tp.columns.iter().position(|c| c.name == r.column) {
                self.repaired[i] = (r.strip_nul, r.replace_invalid_utf8, r.orphan_nulled);
            }
        }
        self.reported = (state.rows_read, state.bytes);
    }
}

/// The per-column repair counts, as the report and the resume state keep them.
fn repairs_of(
    tp: &TablePlan,
    counts: &[(u64, u64, u64)],
) -> Vec<crate::model::outcome::ColumnRepairs> {
    tp.columns
        .iter()
        .zip(counts)
        .filter(|(_, (n, u, o))| n + u + o > 0)
        .map(|(c, &(n, u, o))| crate::model::outcome::ColumnRepairs {
            column: c.name.clone(),
            strip_nul: n,
            replace_invalid_utf8: u,
            orphan_nulled: o,
        })
        .collect()
}

/// One table's load job: what every range of it shares.
struct Job<'a> {
    snapshot: &'a Snapshot,
    source: &'a Table,
    tp: &'a TablePlan,
    schema: &'a str,
    fingerprint: &'a str,
    rejects: &'a RejectSink,
    progress: &'a dyn Progress,
    /// Hash the rows sent, for verification (not with `--no-verify`).
    hash: bool,
}

impl Job<'_> {
    /// The connection was lost while sending.
    fn lost(&self, message: String) -> LoadError {
        LoadError::Connection {
            table: self.tp.name.clone(),
            message,
        }
    }

    fn server(&self, e: postgres::Error) -> LoadError {
        let message = describe_pg_error(&e);
        let table = self.tp.name.clone();
        if is_connection_error(&e) {
            LoadError::Connection { table, message }
        } else {
            LoadError::Server { table, message }
        }
    }
}

#[allow(clippy::too_many_arguments)] // each is a distinct part of the job; a struct would only rename them
/// Creates and loads one table: in one transaction, or for a table the plan splits into key
/// ranges, one transaction per range, each recording how far the table is loaded; `into`
/// says whether the first range creates the table. A table an earlier run (or an earlier
/// attempt) loaded in part continues after its last committed range. An upsert loads the
/// whole table in one transaction.
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
    hash: bool,
) -> Result<Loaded, LoadError> {
    let started = Instant::now();
    let job = Job {
        snapshot,
        source,
        tp,
        schema,
        fingerprint,
        rejects,
        progress,
        hash,
    };
    let chunks = tp
        .chunks
        .as_ref()
        .filter(|_| !matches!(into, LoadInto::Upsert(_)));
    let ranges: Vec<Option<(usize, (i64, i64))>> = match chunks {
        Some(c) => c.ranges.iter().map(|&r| Some((c.column, r))).collect(),
        None => vec![None],
    };
    let mut tally = Tally::new(tp);
    let mut first = 0;
    let mut into = into;
    if chunks.is_some()
        && let Some(state) =
            resume::partial(client, schema, &tp.name, fingerprint).map_err(|e| job.server(e))?
        && let Some(through) = state.loaded_through
    {
        first = ranges
            .iter()
            .position(|r| r.is_some_and(|(_, (lo, _))| lo > through))
            .unwrap_or(ranges.len());
        tally.resume(tp, &state);
        into = LoadInto::Existing;
        progress.message(&format!(
            "table {}: resuming after key {through} ({} of {} ranges loaded)",
            tp.name,
            first,
            ranges.len()
        ));
    }
    progress.table_start(&tp.name, tp.rows);
    progress.table_advance(&tp.name, tally.reported.0, tally.reported.1);
    for (k, range) in ranges.iter().enumerate().skip(first) {
        let last = k + 1 == ranges.len();
        load_range(client, &job, *range, &into, last, &mut tally)?;
        if matches!(into, LoadInto::Create { .. }) {
            into = LoadInto::Existing;
        }
    }
    progress.table_done(&tp.name);
    let mut done = tally.done;
    done.repaired = repairs_of(tp, &tally.repaired);
    done.seconds = started.elapsed().as_secs_f64();
    Ok(done)
}

/// Loads the rows of one key range (or of the whole table) in one transaction, into the
/// table as `into` says, and records the table's state: complete when `last`, else
/// loaded through the range's upper key.
fn load_range(
    client: &mut Client,
    job: &Job<'_>,
    range: Option<(usize, (i64, i64))>,
    into: &LoadInto<'_>,
    last: bool,
    tally: &mut Tally,
) -> Result<(), LoadError> {
    let server = |e: postgres::Error| job.server(e);
    let mut tx = client.transaction().map_err(server)?;
    let (copy_sql, insert_sql) = begin(&mut tx, job, into)?;
    let mut writer = tx.copy_in(copy_sql).map_err(server)?;
    let bytes_before = tally.done.bytes;
    let written_before = tally.done.rows_written;
    let mut buf = CopyBuffer::new();
    let mut spool = job.rejects.spool().map_err(|e| LoadError::Rejects {
        table: job.tp.name.clone(),
        source: e,
    })?;
    let streamed = stream_rows(job, range, tally, &mut buf, &mut writer, &mut spool);
    if let Err(e) = streamed {
        return Err(match e {
            // The server ended the COPY: its error arrives with finish().
            Streamed::Copy(io) => match writer.finish() {
                Err(e) => server(e),
                Ok(_) => job.lost(format!("sending COPY data failed: {io}")),
            },
            Streamed::Load(e) => e,
        });
    }
    let flushed = buf.finish(&mut writer);
    let copied = writer.finish().map_err(server)?;
    if let Err(e) = flushed {
        return Err(job.lost(format!("sending COPY data failed: {e}")));
    }
    let sent = tally.done.rows_written - written_before;
    if copied != sent {
        return Err(LoadError::Other {
            table: job.tp.name.clone(),
            message: format!("PostgreSQL reports {copied} rows copied, {sent} were sent"),
        });
    }
    if let Some(sql) = insert_sql {
        tx.execute(sql, &[]).map_err(server)?;
    }
    tally.done.bytes = bytes_before + buf.sent;
    let loaded_through = if last {
        None
    } else {
        range.map(|(_, (_, hi))| hi)
    };
    commit(tx, job, tally, loaded_through, spool)
}

/// Prepares the range's transaction as `into` says: creates the table, or for an upsert
/// deletes the rows the source's root rows own and creates the temporary table. Returns the
/// plan's COPY statement to use, and the INSERT that moves upserted rows in after it.
fn begin<'p>(
    tx: &mut postgres::Transaction<'_>,
    job: &Job<'p>,
    into: &LoadInto<'_>,
) -> Result<(&'p str, Option<&'p str>), LoadError> {
    let tp = job.tp;
    let server = |e: postgres::Error| job.server(e);
    match into {
        LoadInto::Create { source } => {
            tx.batch_execute(&tp.create_sql).map_err(server)?;
            super::ownership::record(tx, job.schema, &tp.name, "table", source, false)
                .map_err(server)?;
            if let Some(record) = &tp.source_record {
                let json = serde_json::to_string(record).unwrap_or_default();
                tx.execute(
                    crate::postgres::state_sql::RECORD_SOURCE,
                    &[&job.schema, &tp.name, &json],
                )
                .map_err(server)?;
            }
            Ok((&tp.load.copy_new, None))
        }
        LoadInto::Existing => Ok((&tp.load.copy_existing, None)),
        LoadInto::Upsert(owner) => {
            let Some(upsert) = &tp.load.upsert else {
                return Err(LoadError::Other {
                    table: tp.name.clone(),
                    message: "it has no primary key, so rows cannot be upserted: use \
                              --if-exists truncate or drop"
                        .into(),
                });
            };
            if let Some(owner) = owner {
                super::owned::delete_owned(tx, job.snapshot, owner).map_err(|message| {
                    LoadError::Server {
                        table: tp.name.clone(),
                        message,
                    }
                })?;
            }
            tx.batch_execute(&upsert.temp_table).map_err(server)?;
            Ok((&upsert.copy, Some(&upsert.insert)))
        }
    }
}

/// Why streaming a range's rows stopped.
enum Streamed {
    /// Writing to the COPY failed: the server's reason comes with finishing it.
    Copy(std::io::Error),
    Load(LoadError),
}

/// Reads the range's rows, encodes each into `buf` (rejecting the rows that cannot be) and
/// streams them to the COPY, counting into `tally`.
fn stream_rows(
    job: &Job<'_>,
    range: Option<(usize, (i64, i64))>,
    tally: &mut Tally,
    buf: &mut CopyBuffer,
    writer: &mut postgres::CopyInWriter<'_>,
    spool: &mut crate::carry::rejects::Spool,
) -> Result<(), Streamed> {
    let (tp, source) = (job.tp, job.source);
    // Generated columns are computed by PostgreSQL: hashed with the row, never sent.
    let sent: Vec<bool> = tp.columns.iter().map(|c| c.generated.is_none()).collect();
    let has_generated = sent.contains(&false);
    let key_cols: Vec<usize> = source
        .primary_key
        .iter()
        .filter_map(|k| source.columns.iter().position(|c| &c.name == k))
        .collect();
    let mut row_repaired: Vec<(usize, value::Repaired)> = Vec::new();
    let mut hasher = TupleHasher::for_table(tp);
    let Tally {
        done,
        repaired,
        reported,
    } = tally;
    let bytes_before = done.bytes;
    let rules = &tp.orphan_rules;
    let result = read::for_each_row(job.snapshot, source, rules, range, |row| {
        done.rows_read += 1;
        // The same rule as the verification's source side: one function encodes for both.
        buf.start_row();
        let encoded = checksum::encode_row(row, tp, buf.out(), &mut row_repaired)
            .map_err(RowError::Sqlite)?;
        let detached = match encoded {
            Ok(detached) => detached,
            Err((column, reason)) => {
                done.rows_rejected += 1;
                let record =
                    reject_record(row, source, tp, &key_cols, column, done.rows_read, &reason)
                        .map_err(RowError::Sqlite)?;
                spool.write(&record).map_err(RowError::Rejects)?;
                return Ok(());
            }
        };
        done.rows_written += 1;
        for (i, r) in &row_repaired {
            repaired[*i].0 += u64::from(r.nul_stripped);
            repaired[*i].1 += u64::from(r.utf8_replaced);
        }
        // An orphan's referencing values are all non-NULL: each one was set to NULL.
        for &i in detached.map_or(&[][..], |r| &r.columns[..]) {
            repaired[i].2 += 1;
        }
        if job.hash
            && let Ok(h) = hasher.hash(buf.current_row())
        {
            done.checksum.add(h);
        }
        if has_generated {
            buf.keep_fields(&sent);
        }
        buf.maybe_flush(writer).map_err(RowError::Io)?;
        if done.rows_read.is_multiple_of(8192) {
            let sent = bytes_before + buf.sent;
            job.progress
                .table_advance(&tp.name, done.rows_read - reported.0, sent - reported.1);
            *reported = (done.rows_read, sent);
        }
        Ok(())
    })
    .map_err(|e| Streamed::Load(e.into()))?;
    result.map(drop).map_err(|e| row_error(job, e))
}

/// What stopped the reading of a row, as the range's load reports it.
fn row_error(job: &Job<'_>, e: RowError) -> Streamed {
    match e {
        RowError::Sqlite(e) => Streamed::Load(
            SqliteError::query(
                job.snapshot.path(),
                format!("read table {}", job.source.name),
                e,
            )
            .into(),
        ),
        RowError::Rejects(e) => Streamed::Load(LoadError::Rejects {
            table: job.tp.name.clone(),
            source: e,
        }),
        RowError::Io(io) => Streamed::Copy(io),
    }
}

/// Records the table's state in the range's transaction, commits it with its rejects, and
/// shows the progress.
fn commit(
    mut tx: postgres::Transaction<'_>,
    job: &Job<'_>,
    tally: &mut Tally,
    loaded_through: Option<i64>,
    spool: crate::carry::rejects::Spool,
) -> Result<(), LoadError> {
    let (tp, server) = (job.tp, |e: postgres::Error| job.server(e));
    let done = &tally.done;
    let state = LoadedTable {
        fingerprint: job.fingerprint.to_string(),
        rows_read: done.rows_read,
        rows_written: done.rows_written,
        rows_rejected: done.rows_rejected,
        bytes: done.bytes,
        repaired: repairs_of(tp, &tally.repaired),
        loaded_through,
    };
    resume::record(&mut tx, job.schema, &tp.name, job.fingerprint, &state).map_err(server)?;
    tx.commit().map_err(server)?;
    job.rejects.commit(spool).map_err(|e| LoadError::Rejects {
        table: tp.name.clone(),
        source: e,
    })?;
    job.progress.table_advance(
        &tp.name,
        done.rows_read - tally.reported.0,
        done.bytes - tally.reported.1,
    );
    tally.reported = (done.rows_read, done.bytes);
    Ok(())
}
