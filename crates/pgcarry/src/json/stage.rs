//! Writes the staged SQLite database: `CREATE TABLE` with the declared types the layout chose
//! (hints for the SQLite pipeline), primary keys and foreign keys, then every document's rows
//! in one transaction. The database is private to the run (a temporary directory), so it is
//! written without a journal.

use super::JsonError;
use super::flatten::flatten;
use super::layout::{Layout, augment};
use super::store::Store;
use crate::sqlite::quote_sqlite_ident as q;
use rusqlite::Connection;
use std::path::Path;

/// The `CREATE TABLE` statement of table `t`.
pub fn create_sql(layout: &Layout, t: usize) -> String {
    let table = &layout.tables[t];
    let mut parts: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("{} {}", q(&c.name), c.declared))
        .collect();
    let names = |cols: &[usize]| -> String {
        cols.iter()
            .map(|&i| q(&table.columns[i].name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !table.primary_key.is_empty() {
        parts.push(format!("PRIMARY KEY ({})", names(&table.primary_key)));
    }
    if let Some(p) = table.parent {
        let parent = &layout.tables[p];
        let n = parent.primary_key.len();
        let theirs: Vec<String> = parent
            .primary_key
            .iter()
            .map(|&i| q(&parent.columns[i].name))
            .collect();
        parts.push(format!(
            "FOREIGN KEY ({}) REFERENCES {} ({})",
            names(&table.primary_key[..n]),
            q(&parent.name),
            theirs.join(", ")
        ));
    }
    for r in &table.references {
        let parent = &layout.tables[r.table];
        parts.push(format!(
            "FOREIGN KEY ({}) REFERENCES {} ({})",
            q(&table.columns[r.column].name),
            q(&parent.name),
            q(&parent.columns[r.parent_column].name)
        ));
    }
    format!(
        "CREATE TABLE {} (\n  {}\n)",
        q(&table.name),
        parts.join(",\n  ")
    )
}

/// Creates the tables at `db` and loads every document into them.
pub fn write(db: &Path, store: &Store, layout: &Layout) -> Result<(), JsonError> {
    let mut conn = Connection::open(db)?;
    // Keys arrive in document order (random for UUIDs): a page cache of up to 64 MB keeps
    // their indexes from being written out and read back page by page. (256 MB was no faster
    // on a store of 100,000 documents and doubled the peak memory to 356 MB.)
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF; \
         PRAGMA cache_size = -65536;",
    )?;
    let tx = conn.transaction()?;
    for t in 0..layout.tables.len() {
        tx.execute_batch(&create_sql(layout, t))?;
    }
    let inserts: Vec<String> = layout
        .tables
        .iter()
        .map(|t| {
            let marks = vec!["?"; t.columns.len()].join(", ");
            format!("INSERT INTO {} VALUES ({marks})", q(&t.name))
        })
        .collect();
    for (c, cl) in store.collections.iter().zip(&layout.collections) {
        c.for_each_record(&mut |r| {
            let doc = augment(r, cl, &c.kind);
            flatten(layout, cl.table, &doc, &mut |t, row| {
                let mut stmt = tx.prepare_cached(&inserts[t])?;
                stmt.execute(rusqlite::params_from_iter(row))?;
                Ok(())
            })
        })?;
    }
    tx.commit()?;
    Ok(())
}
