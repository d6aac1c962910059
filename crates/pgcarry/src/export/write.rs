//! The SQLite side of `export`: the partial file, built without a journal (nothing in it
//! counts until it is proven and renamed), its rows read back and hashed as PostgreSQL's, and
//! the final rename.

use super::ExportError;
use super::plan::{ExportPlan, ExportTable};
use crate::carry::encode::value::encode_as;
use crate::checksum::Checksum;
use crate::formats::datetime;
use crate::formats::numeric::Numeric;
use crate::model::types::PgType;
use crate::sqlite::quote_sqlite_ident as q;
use rusqlite::Connection;
use std::path::Path;

fn failed(what: &str, path: &Path, e: impl std::fmt::Display) -> ExportError {
    ExportError::Failed(format!("{what} ({}): {e}", path.display()))
}

/// The file being built, at `OUT.partial`.
pub struct Partial {
    conn: Connection,
    path: std::path::PathBuf,
}

impl Partial {
    /// A new, empty file (a partial file an interrupted export left is replaced).
    pub fn create(path: &Path) -> Result<Partial, ExportError> {
        if path.exists() {
            std::fs::remove_file(path)
                .map_err(|e| failed("remove an earlier partial file", path, e))?;
        }
        let conn = Connection::open(path).map_err(|e| failed("create the file", path, e))?;
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF; \
             PRAGMA ignore_check_constraints = ON;",
        )
        .map_err(|e| failed("set up the file", path, e))?;
        Ok(Partial {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn batch(&self, what: &str, sql: &str) -> Result<(), ExportError> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| failed(what, &self.path, format!("{e}\n  {sql}")))
    }

    pub fn create_tables(&mut self, plan: &ExportPlan) -> Result<(), ExportError> {
        self.batch("begin", "BEGIN")?;
        for t in &plan.tables {
            self.batch(&format!("create table {}", t.sqlite_name), &t.create_sql)?;
        }
        self.batch("commit", "COMMIT")
    }

    /// Starts the transaction all rows are written in.
    pub fn begin(&self) -> Result<(), ExportError> {
        self.batch("begin", "BEGIN")
    }

    pub fn commit(&self) -> Result<(), ExportError> {
        self.batch("commit the rows", "COMMIT")
    }

    /// A prepared INSERT for `t`'s rows.
    pub fn statement(&self, t: &ExportTable) -> Result<rusqlite::Statement<'_>, ExportError> {
        let cols: Vec<String> = t.columns.iter().map(|c| q(&c.sqlite_name)).collect();
        let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            q(&t.sqlite_name),
            cols.join(", "),
            marks.join(", ")
        );
        self.conn.prepare(&sql).map_err(|e| {
            failed(
                &format!("prepare the insert into {}", t.sqlite_name),
                &self.path,
                e,
            )
        })
    }

    /// Indexes, the positions of AUTOINCREMENT keys, then the source's objects (FTS tables,
    /// views, triggers); returns those SQLite refused, with its error.
    pub fn finish_structure(
        &mut self,
        plan: &ExportPlan,
    ) -> Result<Vec<(String, String)>, ExportError> {
        self.batch("begin", "BEGIN")?;
        for t in &plan.tables {
            for ix in &t.index_sql {
                self.batch(&format!("create an index on {}", t.name), ix)?;
            }
            if let Some(position) = t.sequence_position {
                let set = |sql: &str| {
                    self.conn
                        .execute(sql, rusqlite::params![t.sqlite_name, position])
                        .map_err(|e| failed("set sqlite_sequence", &self.path, e))
                };
                if set("UPDATE sqlite_sequence SET seq = ?2 WHERE name = ?1")? == 0 {
                    set("INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)")?;
                }
            }
        }
        let mut refused = Vec::new();
        let search = plan.tables.iter().flat_map(|t| &t.optional_sql);
        let views = plan.views.iter().map(|v| &v.sql);
        for sql in search.chain(&plan.source_objects).chain(views) {
            if let Err(e) = self.conn.execute_batch(sql) {
                refused.push((sql.clone(), e.to_string()));
            }
        }
        self.batch("commit", "COMMIT")?;
        Ok(refused)
    }

    pub fn drop_view(&self, name: &str) -> Result<(), ExportError> {
        self.batch("drop a view", &format!("DROP VIEW IF EXISTS {}", q(name)))
    }

    /// `integrity_check`'s answer (CHECK constraints included: the load ran without them) and
    /// `foreign_key_check`'s findings.
    pub fn checks(&self) -> Result<(String, Vec<String>), ExportError> {
        self.batch("check constraints", "PRAGMA ignore_check_constraints = OFF")?;
        let integrity: Vec<String> = self
            .conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| failed("integrity_check", &self.path, e))?;
        let fk: Vec<String> = self
            .conn
            .prepare("SELECT \"table\", rowid, parent, fkid FROM pragma_foreign_key_check")
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(format!(
                        "{} rowid {} references a missing row of {} (foreign key {})",
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<i64>>(1)?
                            .map_or("-".to_string(), |v| v.to_string()),
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?
                    ))
                })?
                .collect()
            })
            .map_err(|e| failed("foreign_key_check", &self.path, e))?;
        Ok((integrity.join("; "), fk))
    }

    /// A rollback journal for the application from now on; closed and synced to disk.
    pub fn close(self) -> Result<(), ExportError> {
        self.batch("set the journal mode", "PRAGMA journal_mode = DELETE")?;
        let path = self.path.clone();
        self.conn
            .close()
            .map_err(|(_, e)| failed("close the file", &path, e))?;
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(|e| failed("sync the file", &path, e))
    }
}

/// Calls `each` with the hash of every row of `t` in the file at `path` (its own read-only
/// connection, so tables are read in parallel) and the row's first value, for naming it:
/// every value encoded as the PostgreSQL type it is compared in, the tuple hashed as
/// PostgreSQL's COPY tuples are.
pub fn for_each_row_hash(
    path: &Path,
    t: &ExportTable,
    mut each: impl FnMut(u128, &rusqlite::types::ValueRef<'_>),
) -> Result<(), String> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| e.to_string())?;
    let cols: Vec<String> = t.columns.iter().map(|c| q(&c.sqlite_name)).collect();
    let sql = format!(
        "SELECT {} FROM {}",
        if cols.is_empty() {
            "NULL".to_string()
        } else {
            cols.join(", ")
        },
        q(&t.sqlite_name)
    );
    let mut stmt = conn.prepare(&sql).map_err(|e| e.to_string())?;
    let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
    let mut hasher = t.hasher();
    let mut tuple = Vec::new();
    let count = i16::try_from(t.columns.len()).unwrap_or(i16::MAX);
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        tuple.clear();
        tuple.extend_from_slice(&count.to_be_bytes());
        for (i, c) in t.columns.iter().enumerate() {
            let v = row.get_ref(i).map_err(|e| e.to_string())?;
            let at = tuple.len();
            if let Some(bytes) = special(&c.compare, v) {
                let len = i32::try_from(bytes.len()).unwrap_or(0);
                tuple.extend_from_slice(&len.to_be_bytes());
                tuple.extend_from_slice(&bytes);
            } else if encode_as(&c.compare, c.read_as, v, &mut tuple).is_err() {
                // A value the type cannot hold: a field no PostgreSQL tuple has, so the
                // checksums differ.
                tuple.truncate(at);
                tuple.extend_from_slice(&(-2i32).to_be_bytes());
            }
        }
        let first = row.get_ref(0).map_err(|e| e.to_string())?;
        each(hasher.hash(&tuple).unwrap_or(u128::MAX), &first);
    }
    Ok(())
}

/// The checksum of `t` as the file at `path` holds it.
pub fn checksum(path: &Path, t: &ExportTable) -> Result<Checksum, String> {
    let mut sum = Checksum::default();
    for_each_row_hash(path, t, |h, _| sum.add(h))?;
    Ok(sum)
}

/// The binary form PostgreSQL sends for the special values the export writes as text (`NaN`,
/// `Infinity`, `infinity`), which SQLite has no other way to hold.
fn special(ty: &PgType, v: rusqlite::types::ValueRef<'_>) -> Option<Vec<u8>> {
    let rusqlite::types::ValueRef::Text(t) = v else {
        return None;
    };
    let numeric = |n: Numeric| {
        let mut out = Vec::new();
        n.encode(&mut out);
        out
    };
    Some(match (ty, t) {
        (PgType::DoublePrecision, b"NaN") => f64::NAN.to_be_bytes().to_vec(),
        (PgType::Numeric { .. }, b"NaN") => numeric(Numeric::NaN),
        (PgType::Numeric { .. }, b"Infinity") => numeric(Numeric::PosInf),
        (PgType::Numeric { .. }, b"-Infinity") => numeric(Numeric::NegInf),
        (PgType::Date, b"infinity") => i32::MAX.to_be_bytes().to_vec(),
        (PgType::Date, b"-infinity") => i32::MIN.to_be_bytes().to_vec(),
        (PgType::Timestamp | PgType::Timestamptz, b"infinity") => i64::MAX.to_be_bytes().to_vec(),
        (PgType::Timestamp | PgType::Timestamptz, b"-infinity") => i64::MIN.to_be_bytes().to_vec(),
        (PgType::Date, t) => match datetime::parse_bc(t)? {
            Err(days) => days.to_be_bytes().to_vec(),
            Ok(_) => return None,
        },
        (PgType::Timestamp, t) => datetime::parse_bc(t)?.ok()?.to_be_bytes().to_vec(),
        (PgType::Timestamptz, t) => {
            let bc = t.strip_suffix(b"+00:00 BC")?;
            let naive = [bc, b" BC"].concat();
            datetime::parse_bc(&naive)?.ok()?.to_be_bytes().to_vec()
        }
        _ => return None,
    })
}

/// Renames the proven file to `out` (replacing it), then syncs the directory so the rename
/// survives a crash.
pub fn put_in_place(partial: &Path, out: &Path) -> Result<(), ExportError> {
    std::fs::rename(partial, out).map_err(|e| failed("rename into place", out, e))?;
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::File::open(&dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed("sync the directory", &dir, e))
}
