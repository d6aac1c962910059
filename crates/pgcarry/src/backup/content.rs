//! What a database holds, as a manifest records it: its tables (user schemas, or the ones
//! named), each table's row count and content checksum from binary COPY, its sequences'
//! positions and its extensions, read in one snapshot on several connections. The same code
//! reads the source at backup time and a restored copy at verify time, so both sides hash the
//! same bytes.

use super::BackupError;
use super::manifest::{Extension, SequencePos, TableSum};
use crate::checksum::{Checksum, FieldKind, TupleHasher};
use crate::postgres::conn::ConnSettings;
use crate::postgres::copy_out;
use crate::postgres::error::describe_pg_error;
use crate::postgres::ident::{qualified, quote_literal};
use postgres::Client;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Session settings under which text output (user-defined types) is the same on both sides.
const SETTINGS: &str = "SET LOCAL timezone = 'UTC'; SET LOCAL datestyle = 'ISO, YMD'; \
     SET LOCAL intervalstyle = 'iso_8601'; SET LOCAL extra_float_digits = 3";

/// Tables, each with the select list that reads it: columns of user-defined types (enums,
/// composites, domains, their arrays) as text, since their binary form holds OIDs that differ
/// from one database to the next.
const TABLES_SQL: &str = "
    SELECT n.nspname::text, c.relname::text,
           coalesce(string_agg(CASE WHEN a.atttypid >= 16384
                                    THEN quote_ident(a.attname) || '::text'
                                    ELSE quote_ident(a.attname) END, ', ' ORDER BY a.attnum), '')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relkind::text = $2 AND c.relpersistence <> 't'
      AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
      AND (cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[]))
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
    GROUP BY n.nspname, c.relname ORDER BY 1, 2";

/// A table to sum: its name and the `COPY` that reads it.
#[derive(Debug, Clone)]
pub struct TableSpec {
    pub schema: String,
    pub name: String,
    copy_sql: String,
}

fn pg(what: &str) -> impl Fn(postgres::Error) -> BackupError + '_ {
    move |e| BackupError::Failed(format!("{what}: {}", describe_pg_error(&e)))
}

/// The tables of `schemas` (every user schema when empty).
pub fn tables(client: &mut Client, schemas: &[String]) -> Result<Vec<TableSpec>, BackupError> {
    let rows = client
        .query(TABLES_SQL, &[&schemas, &"r"])
        .map_err(pg("list the tables"))?;
    Ok(rows
        .iter()
        .map(|r| {
            let (schema, name, select): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            TableSpec {
                copy_sql: format!(
                    "COPY (SELECT {select} FROM {}) TO STDOUT (FORMAT binary)",
                    qualified(&schema, &name)
                ),
                schema,
                name,
            }
        })
        .collect())
}

/// Every sequence of `schemas` and its position.
pub fn sequences(client: &mut Client, schemas: &[String]) -> Result<Vec<SequencePos>, BackupError> {
    let rows = client
        .query(TABLES_SQL, &[&schemas, &"S"])
        .map_err(pg("list the sequences"))?;
    let mut out = Vec::new();
    for r in rows {
        let (schema, name): (String, String) = (r.get(0), r.get(1));
        let sql = format!(
            "SELECT last_value, is_called FROM {}",
            qualified(&schema, &name)
        );
        let pos = client.query_one(&sql, &[]).map_err(pg("read a sequence"))?;
        out.push(SequencePos {
            schema,
            name,
            last_value: pos.get(0),
            is_called: pos.get(1),
        });
    }
    Ok(out)
}

/// The installed extensions.
pub fn extensions(client: &mut Client) -> Result<Vec<Extension>, BackupError> {
    let rows = client
        .query(
            "SELECT e.extname::text, e.extversion, n.nspname::text FROM pg_extension e \
             JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1",
            &[],
        )
        .map_err(pg("list the extensions"))?;
    Ok(rows
        .iter()
        .map(|r| Extension {
            name: r.get(0),
            version: r.get(1),
            schema: r.get(2),
        })
        .collect())
}

/// A connection in a read-only repeatable-read transaction: in snapshot `id` when given.
pub fn reader(settings: &ConnSettings, snapshot: Option<&str>) -> Result<Client, BackupError> {
    let mut client = settings
        .connect()
        .map_err(|e| BackupError::Failed(e.to_string()))?;
    let join = snapshot
        .map(|id| format!("SET TRANSACTION SNAPSHOT {};", quote_literal(id)))
        .unwrap_or_default();
    client
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; {join} {SETTINGS}"
        ))
        .map_err(pg("open a snapshot"))?;
    Ok(client)
}

/// Row count and checksum of one table.
fn sum_table(client: &mut Client, t: &TableSpec) -> Result<TableSum, BackupError> {
    let mut hasher = TupleHasher::new(vec![FieldKind::Exact]);
    let mut sum = Checksum::default();
    let mut failure = None;
    copy_out::for_each_tuple(client, &t.copy_sql, |tuple| match hasher.hash(tuple) {
        Ok(h) => sum.add(h),
        Err(e) => failure = Some(e.to_string()),
    })
    .map_err(|e| BackupError::Failed(format!("read {}.{}: {e}", t.schema, t.name)))?;
    if let Some(e) = failure {
        return Err(BackupError::Failed(format!(
            "read {}.{}: {e}",
            t.schema, t.name
        )));
    }
    Ok(TableSum {
        schema: t.schema.clone(),
        name: t.name.clone(),
        rows: sum.rows,
        checksum: sum.hex(),
    })
}

/// Sums every table on `jobs` connections, each in snapshot `id` when given.
pub fn sum_tables(
    settings: &ConnSettings,
    snapshot: Option<&str>,
    tables: &[TableSpec],
    jobs: usize,
) -> Result<Vec<TableSum>, BackupError> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<TableSum, BackupError>>>> =
        Mutex::new((0..tables.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, tables.len().max(1)) {
            s.spawn(|| {
                let mut client = reader(settings, snapshot);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(t) = tables.get(i) else { return };
                    let result = match client.as_mut() {
                        Ok(c) => sum_table(c, t),
                        Err(e) => Err(BackupError::Failed(e.to_string())),
                    };
                    if let Ok(mut all) = results.lock() {
                        all[i] = Some(result);
                    }
                }
            });
        }
    });
    let all = results.into_inner().unwrap_or_default();
    all.into_iter()
        .map(|r| r.unwrap_or_else(|| Err(BackupError::Failed("a reader stopped".into()))))
        .collect()
}

/// The tables whose rows or checksum differ from the manifest's, or that are missing or new.
pub fn differences(expected: &[TableSum], found: &[TableSum]) -> Vec<String> {
    let key = |t: &TableSum| format!("{}.{}", t.schema, t.name);
    let mut out = Vec::new();
    for e in expected {
        match found.iter().find(|f| key(f) == key(e)) {
            None => out.push(format!("{}: missing", key(e))),
            Some(f) if f.rows != e.rows => out.push(format!(
                "{}: {} rows, the manifest says {}",
                key(e),
                f.rows,
                e.rows
            )),
            Some(f) if f.checksum != e.checksum => out.push(format!(
                "{}: content checksum {}, the manifest says {} (same {} rows)",
                key(e),
                f.checksum,
                e.checksum,
                e.rows
            )),
            Some(_) => {}
        }
    }
    for f in found {
        if !expected.iter().any(|e| key(e) == key(f)) {
            out.push(format!("{}: not in the manifest", key(f)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{TableSum, differences};

    fn t(name: &str, rows: u64, checksum: &str) -> TableSum {
        TableSum {
            schema: "public".into(),
            name: name.into(),
            rows,
            checksum: checksum.into(),
        }
    }

    #[test]
    fn differences_name_each_table_and_why() {
        let expected = [t("a", 1, "01"), t("b", 2, "02"), t("c", 3, "03")];
        let found = [t("a", 1, "01"), t("b", 2, "ff"), t("d", 0, "00")];
        assert_eq!(
            differences(&expected, &found),
            [
                "public.b: content checksum ff, the manifest says 02 (same 2 rows)",
                "public.c: missing",
                "public.d: not in the manifest",
            ]
        );
        assert!(differences(&expected, &expected).is_empty());
        assert_eq!(
            differences(&[t("a", 1, "01")], &[t("a", 2, "01")]),
            ["public.a: 2 rows, the manifest says 1"]
        );
    }
}
