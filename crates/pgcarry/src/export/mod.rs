//! The route back: PostgreSQL → a new SQLite file, from one snapshot, proven before it is put
//! in place.
//!
//! One `REPEATABLE READ READ ONLY` transaction holds the snapshot for everything: the catalog,
//! the scan of numeric columns, every table's `COPY … TO STDOUT (FORMAT binary)`. Each tuple
//! is hashed as it arrives (the same hash `verify` uses) and decoded into SQLite values
//! (`formats::decode`). The file is written as `OUT.partial` without a journal, indexes after
//! the rows; then every table is read back, re-encoded into PostgreSQL's binary form for its
//! column types and hashed: the sums must match. With `integrity_check` and
//! `foreign_key_check` passing, the file is synced and renamed to OUT; otherwise OUT is not
//! touched and the partial file stays for inspection.

mod check;
pub mod json;
mod locate;
pub mod plan;
mod read;
mod restyle;
mod search;
mod write;

use crate::checksum::Checksum;
use crate::model::outcome::Outcome;
use crate::model::plan::widest;
use crate::postgres::conn::ConnSettings;
use crate::postgres::error::describe_pg_error;
use crate::postgres::introspect;
use crate::work::progress::Progress;
use plan::{ExportPlan, NotExported};
use postgres::Client;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What to export, and where.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub schema: String,
    /// Only these tables (all of the schema when empty).
    pub tables: Vec<String>,
    pub out: PathBuf,
    /// Replace an existing OUT (only once the new file is proven).
    pub force: bool,
    /// Refuse any column whose values would be written as text of a type SQLite lacks.
    pub strict: bool,
    /// Tables read (and proven) at once, each on its own connection to the snapshot.
    pub jobs: usize,
    /// Only the tables of the JSON store pgcarry migrated into the schema (`export --to-json`
    /// takes them from the file this writes).
    pub json_store: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The request cannot be carried out as given (exit 2): nothing was written.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
}

impl ExportError {
    fn pg(what: &str, e: &postgres::Error) -> ExportError {
        ExportError::Failed(format!("{what}: {}", describe_pg_error(e)))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportReport {
    pub source: String,
    pub out: String,
    pub schema: String,
    pub seconds: f64,
    pub tables: Vec<TableReport>,
    /// `PRAGMA integrity_check`'s answer.
    pub integrity: String,
    /// `PRAGMA foreign_key_check`'s rows, described.
    pub foreign_key_problems: Vec<String>,
    /// Where the file is: OUT when proven, else the partial file left for inspection.
    pub written: String,
    pub plan: ExportPlan,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableReport {
    pub name: String,
    pub rows: u64,
    pub sqlite_rows: u64,
    pub postgres_checksum: String,
    pub sqlite_checksum: String,
    pub verified: bool,
    pub seconds: f64,
    pub error: Option<String>,
    /// When the checksums differ: the rows found on one side only, named by their first value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differing_rows: Vec<String>,
}

impl ExportReport {
    pub fn outcome(&self) -> Outcome {
        if self.tables.iter().any(|t| t.error.is_some()) {
            Outcome::Failed
        } else if self.tables.iter().any(|t| !t.verified)
            || self.integrity != "ok"
            || !self.foreign_key_problems.is_empty()
        {
            Outcome::Differences
        } else {
            Outcome::Success
        }
    }

    /// The summary a person reads.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let w = widest(self.tables.iter().map(|t| t.name.as_str())).max(5);
        let _ = writeln!(
            o,
            "{:w$}  {:>10}  {:>10}  {:32}  {:>7}  verified",
            "table", "postgres", "sqlite", "checksum", "seconds"
        );
        for t in &self.tables {
            let _ = writeln!(
                o,
                "{:w$}  {:>10}  {:>10}  {:32}  {:>7.2}  {}",
                t.name,
                t.rows,
                t.sqlite_rows,
                t.postgres_checksum,
                t.seconds,
                if t.verified { "yes" } else { "NO" }
            );
        }
        for t in &self.tables {
            if let Some(e) = &t.error {
                let _ = writeln!(o, "\nerror: table {}: {e}", t.name);
            } else if !t.verified {
                let _ = writeln!(
                    o,
                    "\ndifference: table {}: PostgreSQL has {} row(s) with checksum {}, the \
                     SQLite file {} with checksum {}",
                    t.name, t.rows, t.postgres_checksum, t.sqlite_rows, t.sqlite_checksum
                );
                for row in &t.differing_rows {
                    let _ = writeln!(o, "  {row}");
                }
            }
        }
        if self.integrity != "ok" {
            let _ = writeln!(o, "\nintegrity_check: {}", self.integrity);
        }
        for p in &self.foreign_key_problems {
            let _ = writeln!(o, "\nforeign_key_check: {p}");
        }
        if !self.plan.not_exported.is_empty() {
            let _ = writeln!(
                o,
                "\nnot exported ({}; see `pgcarry plan --from … --to-sqlite …` or the report):",
                self.plan.not_exported.len()
            );
            for n in &self.plan.not_exported {
                let on = n
                    .table
                    .as_deref()
                    .map(|t| format!("{t}."))
                    .unwrap_or_default();
                let _ = writeln!(o, "  - {on}{}", n.name);
            }
        }
        let verdict = match self.outcome() {
            Outcome::Success => format!("{}: exported and verified", self.written),
            Outcome::Differences => format!(
                "{}: DIFFERS from PostgreSQL (exit 3); {} was not written",
                self.written, self.out
            ),
            Outcome::Failed => format!("FAILED (exit 1); {} was not written", self.out),
        };
        let _ = writeln!(o, "\n{verdict}");
        o
    }
}

/// The settings of every export session (after its snapshot is set): times in UTC, intervals
/// in ISO 8601, floats in full, for the columns read as text.
const SESSION: &str = "SET LOCAL timezone = 'UTC'; SET LOCAL intervalstyle = 'iso_8601'; \
                       SET LOCAL extra_float_digits = 3";

/// Opens the snapshot: one read-only repeatable-read transaction, times in UTC, intervals in
/// ISO 8601 (for the columns read as text).
fn snapshot(source: &ConnSettings) -> Result<Client, ExportError> {
    let mut client = source
        .connect()
        .map_err(|e| ExportError::Failed(e.to_string()))?;
    client
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; {SESSION}"
        ))
        .map_err(|e| ExportError::pg("start the snapshot", &e))?;
    Ok(client)
}

/// Builds the export's plan in the open snapshot.
fn build_plan(
    client: &mut Client,
    source: &ConnSettings,
    req: &ExportRequest,
) -> Result<ExportPlan, ExportError> {
    let records = records(client, &req.schema)?;
    let store = match req.json_store {
        true => Some(json::store_tables(&records, &req.schema)?),
        false => None,
    };
    let wanted = store.as_ref().map_or(&req.tables, |(_, tables)| tables);
    let tables = introspect::tables(client, &req.schema, wanted)
        .map_err(|e| ExportError::pg("read the tables", &e))?;
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|n| !tables.iter().any(|t| &t.name == *n))
        .collect();
    if !missing.is_empty() {
        return Err(ExportError::Usage(format!(
            "schema {:?} has no table named {}",
            req.schema,
            missing
                .iter()
                .map(|m| format!("{m:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    check_names(&tables)?;
    let exported: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
    let mut not_exported: Vec<NotExported> = Vec::new();
    let mut views = Vec::new();
    // View definitions name the schema's tables without the schema, as SQLite needs them.
    client
        .batch_execute(&format!(
            "SET LOCAL search_path = {}",
            crate::postgres::ident::quote_ident(&req.schema)
        ))
        .map_err(|e| ExportError::pg("set the search path", &e))?;
    for (name, def) in
        introspect::views(client, &req.schema).map_err(|e| ExportError::pg("read the views", &e))?
    {
        match check::translate_view(&def) {
            Some(body) => views.push(plan::ExportView {
                sql: format!(
                    "CREATE VIEW {} AS {body}",
                    crate::sqlite::quote_sqlite_ident(&name)
                ),
                name,
            }),
            None => not_exported.push(NotExported {
                table: None,
                name,
                reason: format!("view not translated to SQLite: {}", def.trim()),
            }),
        }
    }
    let mut planned = Vec::new();
    for t in &tables {
        let integral = integral_numerics(client, &req.schema, t)?;
        let next_id = match t.primary_key.as_slice() {
            [k] => match t.columns.iter().find(|c| &c.name == k) {
                Some(c) if matches!(c.type_name.as_str(), "int2" | "int4" | "int8") => {
                    match &c.sequence {
                        Some(s) => Some(
                            introspect::next_value(client, s)
                                .map_err(|e| ExportError::pg("read a sequence", &e))?,
                        ),
                        None => None,
                    }
                }
                _ => None,
            },
            _ => None,
        };
        let as_source = records
            .iter()
            .find(|(name, _)| name == &t.name)
            .and_then(|(_, r)| plan::from_record(&req.schema, t, r, &integral, next_id));
        let p = match as_source {
            Some(p) => p,
            None => plan::table(
                &req.schema,
                t,
                &integral,
                next_id,
                &exported,
                &mut not_exported,
            ),
        };
        if p.columns.is_empty() {
            not_exported.push(NotExported {
                table: None,
                name: t.name.clone(),
                reason: "a table without columns to export: a SQLite table needs at least one \
                         column (its rows hold no values)"
                    .into(),
            });
            continue;
        }
        planned.push(p);
    }
    let given_back: Vec<&crate::model::source_record::SourceRecord> = planned
        .iter()
        .filter(|p| p.as_source)
        .filter_map(|p| records.iter().find(|(n, _)| n == &p.name).map(|(_, r)| r))
        .collect();
    let recorded: Vec<String> = records.iter().map(|(_, r)| r.source_name.clone()).collect();
    let source_objects = plan::source_objects(&given_back, &recorded);
    // The source's own views come back with its tables: PostgreSQL's are not reported then.
    let given_views: Vec<String> = source_objects
        .iter()
        .filter_map(|sql| crate::sqlite::sql::parse_create_view(sql).ok())
        .map(|(name, _)| name)
        .collect();
    not_exported.retain(|n| n.table.is_some() || !given_views.contains(&n.name));
    views.retain(|v| !given_views.contains(&v.name));
    Ok(ExportPlan {
        json_store: store.map(|(recipe, _)| recipe),
        source: source.redacted(),
        schema: req.schema.clone(),
        tables: planned,
        not_exported,
        source_objects,
        views,
    })
}

/// What pgcarry recorded of the sources of schema `schema`'s tables when it migrated them.
fn records(
    client: &mut Client,
    schema: &str,
) -> Result<Vec<(String, crate::model::source_record::SourceRecord)>, ExportError> {
    let kept: bool = client
        .query_one("SELECT to_regclass('pgcarry.sources') IS NOT NULL", &[])
        .map_err(|e| ExportError::pg("look for pgcarry's records", &e))?
        .get(0);
    if !kept {
        return Ok(Vec::new());
    }
    let rows = client
        .query(crate::postgres::state_sql::SOURCES, &[&schema])
        .map_err(|e| ExportError::pg("read pgcarry's records", &e))?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let json: String = r.get(1);
            // A record an older or newer pgcarry wrote differently is not used.
            serde_json::from_str(&json).ok().map(|rec| (r.get(0), rec))
        })
        .collect())
}

/// SQLite compares names ignoring ASCII case and keeps `sqlite_` for itself.
fn check_names(tables: &[introspect::PgTable]) -> Result<(), ExportError> {
    let mut problems = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        if t.name.to_ascii_lowercase().starts_with("sqlite_") {
            problems.push(format!(
                "table {:?}: SQLite reserves names starting with sqlite_",
                t.name
            ));
        }
        if let Some(other) = tables[..i]
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(&t.name))
        {
            problems.push(format!(
                "tables {:?} and {:?}: one name to SQLite, which ignores case",
                other.name, t.name
            ));
        }
        for (j, c) in t.columns.iter().enumerate() {
            if t.columns[..j]
                .iter()
                .any(|o| o.name.eq_ignore_ascii_case(&c.name))
            {
                problems.push(format!(
                    "table {:?}: columns differing only in case ({:?}), one name to SQLite",
                    t.name, c.name
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ExportError::Usage(format!(
            "these cannot be SQLite names: {}; export the others with --tables",
            problems.join("; ")
        )))
    }
}

/// For each numeric column: whether every value is an integer in 64 bits with scale 0.
fn integral_numerics(
    client: &mut Client,
    schema: &str,
    t: &introspect::PgTable,
) -> Result<plan::IntegralNumerics, ExportError> {
    let numeric: Vec<usize> = t
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.type_name == "numeric")
        .map(|(i, _)| i)
        .collect();
    if numeric.is_empty() {
        return Ok(Vec::new());
    }
    let tests: Vec<String> = numeric
        .iter()
        .map(|&i| {
            let c = crate::postgres::ident::quote_ident(&t.columns[i].name);
            format!(
                "coalesce(bool_and(coalesce({c} IS NULL OR (scale({c}) = 0 AND \
                 {c} BETWEEN -9223372036854775808 AND 9223372036854775807), false)), true)"
            )
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM {}",
        tests.join(", "),
        crate::postgres::ident::qualified(schema, &t.name)
    );
    let row = client
        .query_one(&sql, &[])
        .map_err(|e| ExportError::pg(&format!("scan the numeric columns of {}", t.name), &e))?;
    Ok(numeric
        .iter()
        .enumerate()
        .map(|(k, &i)| (i, row.get::<_, bool>(k)))
        .collect())
}

/// The export's plan, read from one snapshot; writes nothing.
pub fn plan_export(source: &ConnSettings, req: &ExportRequest) -> Result<ExportPlan, ExportError> {
    let mut client = snapshot(source)?;
    build_plan(&mut client, source, req)
}

/// `OUT.partial`: where the file is built.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_os_string();
    name.push(".partial");
    PathBuf::from(name)
}

/// Checks the destination before anything is read: OUT absent (or `--force`), its directory
/// there.
pub fn check_out(req: &ExportRequest) -> Result<(), ExportError> {
    if req.out.exists() && !req.force {
        return Err(ExportError::Usage(format!(
            "{} exists; pgcarry never overwrites a file without --force (the new file replaces \
             it only once it is proven)",
            req.out.display()
        )));
    }
    let dir = match req.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(ExportError::Usage(format!(
            "the directory of {} does not exist",
            req.out.display()
        )));
    }
    Ok(())
}

/// Compares every table of the file with what PostgreSQL sent, `jobs` tables at a time.
fn prove(partial: &Path, plan: &ExportPlan, tables: &mut [TableReport], jobs: usize) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let sums: Vec<(usize, Result<Checksum, String>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..jobs.clamp(1, plan.tables.len().max(1)))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(t) = plan.tables.get(i) else {
                            return done;
                        };
                        done.push((i, write::checksum(partial, t)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let mut summed = vec![false; tables.len()];
    for (i, sum) in sums {
        summed[i] = true;
        let r = &mut tables[i];
        if r.error.is_some() {
            continue;
        }
        match sum {
            Ok(sum) => {
                r.sqlite_rows = sum.rows;
                r.sqlite_checksum = sum.hex();
                r.verified = sum.rows == r.rows && r.sqlite_checksum == r.postgres_checksum;
            }
            Err(e) => r.error = Some(e),
        }
    }
    // A worker that stopped (a panic) leaves its tables unproven: a failure, not a difference.
    for (r, done) in tables.iter_mut().zip(summed) {
        if !done && r.error.is_none() {
            r.error =
                Some("the file's rows could not be read back (a proof worker stopped)".into());
        }
    }
}

/// Each translated view must give the same rows in the file as in PostgreSQL's snapshot
/// (compared as tables are: every value as its type, a checksum over the rows); one that does
/// not is dropped from the file and reported.
fn prove_views(
    client: &mut Client,
    schema: &str,
    partial: &Path,
    file: &write::Partial,
    plan: &mut ExportPlan,
) -> Result<(), ExportError> {
    let mut kept = Vec::new();
    for v in std::mem::take(&mut plan.views) {
        let same = introspect::view_columns(client, schema, &v.name)
            .map_err(|e| describe_pg_error(&e))
            .and_then(|columns| {
                let t = plan::view_as_table(schema, &v.name, &columns);
                let mut hasher = t.hasher();
                let mut in_postgres = Checksum::default();
                crate::postgres::copy_out::for_each_tuple(client, &t.copy_sql, |tuple| {
                    in_postgres.add(hasher.hash(tuple).unwrap_or(u128::MAX));
                })?;
                let in_file = write::checksum(partial, &t)?;
                Ok((in_postgres, in_file))
            });
        match same {
            Ok((a, b)) if a == b => kept.push(v),
            outcome => {
                file.drop_view(&v.name)?;
                let why = match outcome {
                    Ok((a, b)) => format!(
                        "PostgreSQL gives {} row(s) (checksum {}), SQLite {} (checksum {})",
                        a.rows,
                        a.hex(),
                        b.rows,
                        b.hex()
                    ),
                    Err(e) => e,
                };
                plan.not_exported.push(NotExported {
                    table: None,
                    name: v.name.clone(),
                    reason: format!(
                        "view translated, but it does not give the same rows in SQLite ({why}), \
                         so it was left out: {}",
                        v.sql
                    ),
                });
            }
        }
    }
    plan.views = kept;
    Ok(())
}

/// Exports, proves and puts the file in place.
pub fn export(
    source: &ConnSettings,
    req: &ExportRequest,
    progress: &dyn Progress,
) -> Result<ExportReport, ExportError> {
    let started = Instant::now();
    check_out(req)?;
    let mut client = snapshot(source)?;
    let snapshot_id: String = client
        .query_one("SELECT pg_export_snapshot()", &[])
        .map_err(|e| ExportError::pg("export the snapshot", &e))?
        .get(0);
    progress.phase("export: plan");
    let plan = build_plan(&mut client, source, req)?;
    let lossy: Vec<String> = plan
        .tables
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.lossy)
                .map(move |c| format!("{}.{} ({})", t.name, c.name, c.pg_type))
        })
        .collect();
    if req.strict && !lossy.is_empty() {
        return Err(ExportError::Usage(format!(
            "--strict: these columns have no SQLite equivalent and would be written as text: {}",
            lossy.join(", ")
        )));
    }
    let partial = partial_path(&req.out);
    let mut file = write::Partial::create(&partial)?;
    file.create_tables(&plan)?;
    progress.phase("export: read and write");
    let reads = read::read_all(
        source,
        &snapshot_id,
        &plan.tables,
        req.jobs,
        &file,
        progress,
    )?;
    let mut tables: Vec<TableReport> = plan
        .tables
        .iter()
        .zip(reads)
        .map(|(t, r)| TableReport {
            name: t.name.clone(),
            rows: r.rows,
            sqlite_rows: 0,
            postgres_checksum: r.sum.hex(),
            sqlite_checksum: String::new(),
            verified: false,
            seconds: r.seconds,
            error: r.error,
            differing_rows: Vec::new(),
        })
        .collect();
    progress.phase("export: indexes");
    let mut plan = plan;
    for (sql, error) in file.finish_structure(&plan)? {
        let view = plan.views.iter().position(|v| v.sql == sql);
        let (name, what) = match view {
            Some(i) => (plan.views.remove(i).name, "the translated view"),
            None => (
                sql.split_whitespace().take(4).collect::<Vec<_>>().join(" "),
                "the source's statement",
            ),
        };
        plan.not_exported.push(NotExported {
            table: None,
            name,
            reason: format!("{what} failed in SQLite ({error}): {sql}"),
        });
    }
    progress.phase("export: verify");
    prove(&partial, &plan, &mut tables, req.jobs);
    prove_views(&mut client, &req.schema, &partial, &file, &mut plan)?;
    for (t, r) in plan.tables.iter().zip(tables.iter_mut()) {
        if !r.verified && r.error.is_none() {
            r.differing_rows = locate::differing_rows(&mut client, &partial, t)
                .unwrap_or_else(|e| vec![format!("the differing rows could not be located: {e}")]);
        }
    }
    drop(client);
    let (integrity, foreign_key_problems) = file.checks()?;
    let mut report = ExportReport {
        source: plan.source.clone(),
        out: req.out.display().to_string(),
        schema: req.schema.clone(),
        seconds: 0.0,
        tables,
        integrity,
        foreign_key_problems,
        written: partial.display().to_string(),
        plan,
    };
    file.close()?;
    if report.outcome() == Outcome::Success {
        write::put_in_place(&partial, &req.out)?;
        report.written = req.out.display().to_string();
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
