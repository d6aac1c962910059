//! Virtual tables in the schema model. Their rows live in shadow tables whose layout is the
//! module's business, so pgcarry reads them through the module, as the application does:
//!
//! - an FTS3/FTS4/FTS5 table that keeps its own text is data: it becomes a table (its rowid as
//!   key, its columns as SQLite returns them) and later gets a `tsvector` column;
//! - an FTS table over an external content table (or contentless) is not copied: the content
//!   table gets the `tsvector` column (see `carry::plan::fts`);
//! - an R-tree holds its boxes only in its shadow tables: it becomes a plain table, its id as key;
//! - any other module is named with the reason, and the run exits 3 unless the config skips it.
//!
//! Shadow tables are never copied: SQLite marks those of the modules it has; for a module it
//! does not have, the tables named after it with that module's known suffixes are left out.

use super::quote_sqlite_ident;
use super::sql;
use crate::model::schema::{Column, Fts, Skipped, SkippedKind, SourceSchema, Table};
use rusqlite::Connection;

/// Adds the virtual table `name` (created by `sql`) to the schema model; returns its module
/// when pgcarry cannot read its rows.
pub(super) fn add(
    conn: &Connection,
    name: &str,
    sql: &str,
    schema: &mut SourceSchema,
) -> rusqlite::Result<Option<String>> {
    if let Ok(Some(f)) = sql::fts::parse_fts(sql) {
        let own_text = f.content.is_none();
        schema.fts.push(Fts {
            name: name.to_string(),
            module: f.module,
            columns: f.columns,
            content: f.content,
            sql: sql.to_string(),
        });
        if own_text {
            read_as_table(conn, name, sql, Key::Rowid, schema)?;
        }
        return Ok(None);
    }
    let module = sql::fts::parse_virtual(sql).map(|v| v.module);
    match module.as_deref() {
        Ok("rtree" | "rtree_i32") => {
            read_as_table(conn, name, sql, Key::FirstColumn, schema)?;
            Ok(None)
        }
        Ok(module) => {
            let reason = match conn.prepare(&format!("SELECT * FROM {} LIMIT 0", q(name))) {
                Err(e) => format!(
                    "virtual table using module {module}, which pgcarry cannot load ({e}): its \
                     rows cannot be read"
                ),
                Ok(_) => format!(
                    "virtual table using module {module}: pgcarry does not know how it keeps its \
                     rows, so they are not copied"
                ),
            };
            unreadable(schema, name, reason);
            Ok(Some(module.to_string()))
        }
        Err(e) => {
            unreadable(
                schema,
                name,
                format!("virtual table whose definition pgcarry cannot read ({e})"),
            );
            Ok(Some(String::new()))
        }
    }
}

fn q(name: &str) -> String {
    quote_sqlite_ident(name)
}

fn unreadable(schema: &mut SourceSchema, name: &str, reason: String) {
    schema.skipped.push(Skipped {
        name: name.to_string(),
        reason: format!(
            "{reason}; its SQL is in sqlite_schema. Set `skip = true` under [tables.{}] in \
             --config to migrate everything else without it",
            toml_key(name)
        ),
        kind: Some(SkippedKind::VirtualTable),
    });
}

/// `name` as a TOML table key: bare when it can be, else quoted.
fn toml_key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Where a virtual table read as a table takes its key from.
#[derive(Clone, Copy)]
enum Key {
    /// The rowid, as a column named `rowid` (FTS tables).
    Rowid,
    /// The first declared column, which aliases the rowid (R-tree ids).
    FirstColumn,
}

/// The virtual table's visible columns (hidden ones such as FTS5's rank are SQLite's), with its
/// key in front, as a table without indexes, keys to other tables or checks.
fn read_as_table(
    conn: &Connection,
    name: &str,
    sql: &str,
    key: Key,
    schema: &mut SourceSchema,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_xinfo({})", q(name)))?;
    let mut columns: Vec<Column> = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, i64>(6)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|(_, _, hidden)| *hidden == 0)
        .map(|(name, declared, _)| column(name, declared.unwrap_or_default()))
        .collect();
    let key_name = match key {
        Key::Rowid => {
            if columns.iter().any(|c| c.name.eq_ignore_ascii_case("rowid")) {
                unreadable(
                    schema,
                    name,
                    "full-text table with a column named rowid, which hides its rowid: pgcarry \
                     cannot give its rows a key"
                        .into(),
                );
                return Ok(());
            }
            columns.insert(0, column("rowid".into(), "INTEGER".into()));
            "rowid".to_string()
        }
        Key::FirstColumn => match columns.first() {
            Some(c) => c.name.clone(),
            None => return Ok(()),
        },
    };
    columns[0].not_null = true;
    schema.tables.push(Table {
        name: name.to_string(),
        columns,
        primary_key: vec![key_name.clone()],
        rowid_alias: Some(key_name),
        autoincrement: false,
        without_rowid: false,
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
        checks: Vec::new(),
        sequence: None,
        sql: sql.to_string(),
        sql_error: None,
    });
    Ok(())
}

fn column(name: String, declared_type: String) -> Column {
    Column {
        name,
        declared_type,
        not_null: false,
        default: None,
        generated: None,
        collation: None,
    }
}

/// The suffixes of the shadow tables of modules SQLite may not have here.
fn shadow_suffixes(module: &str) -> &'static [&'static str] {
    match module {
        "spellfix1" => &["_vocab"],
        "geopoly" => &["_node", "_parent", "_rowid"],
        "vec0" => &[
            "_chunks",
            "_rowids",
            "_info",
            "_auxiliary",
            "_vector_chunks",
        ],
        _ => &[],
    }
}

/// Moves the shadow tables of the virtual tables `unread` (name, module) out of the tables,
/// into what is not migrated: SQLite marks the shadow tables of the modules it has itself.
pub(super) fn leave_out_unmarked_shadows(schema: &mut SourceSchema, unread: &[(String, String)]) {
    let owner_of = |table: &str| {
        unread.iter().find_map(|(owner, module)| {
            let rest = table.strip_prefix(owner.as_str())?;
            shadow_suffixes(module)
                .iter()
                .any(|s| rest.starts_with(s))
                .then(|| owner.clone())
        })
    };
    let mut kept = Vec::new();
    for t in std::mem::take(&mut schema.tables) {
        match owner_of(&t.name) {
            Some(owner) => schema.skipped.push(Skipped::new(
                t.name,
                format!("shadow table of the virtual table {owner}: not copied on its own"),
            )),
            None => kept.push(t),
        }
    }
    schema.tables = kept;
}
