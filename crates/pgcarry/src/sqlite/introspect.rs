//! Reading a SQLite database's schema into the schema model.
//!
//! Structure comes from the pragmas (`table_list`, `table_xinfo`, `index_list`, `index_xinfo`,
//! `foreign_key_list`) which SQLite itself maintains; what the pragmas do not expose (CHECK
//! constraints, COLLATE, generated expressions, index expressions, partial-index WHERE) comes
//! from parsing the stored SQL. Internal tables (`sqlite_%`) and the shadow tables of virtual
//! tables are never migrated; virtual tables are read through their module (`virtual_table`).

use super::{SqliteError, quote_sqlite_ident, sql};
use crate::model::schema::*;
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::Path;

/// Introspects every table, index, foreign key, view and trigger.
pub fn introspect(conn: &Connection, path: &Path) -> Result<SourceSchema, SqliteError> {
    let q = |what: &str| {
        let what = what.to_string();
        move |e| SqliteError::query(path, what.clone(), e)
    };
    let mut schema = SourceSchema::default();
    let sequences = read_sequences(conn).map_err(q("read sqlite_sequence"))?;

    let mut list = conn
        .prepare("SELECT name, type FROM pragma_table_list WHERE schema = 'main' ORDER BY name")
        .map_err(q("list tables"))?;
    let objects: Vec<(String, String)> = list
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(q("list tables"))?
        .collect::<Result<_, _>>()
        .map_err(q("list tables"))?;

    let mut sqls: HashMap<(String, String), String> = HashMap::new();
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE sql IS NOT NULL")
        .map_err(q("read sqlite_schema"))?;
    let rows: Vec<(String, String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .map_err(q("read sqlite_schema"))?
        .collect::<Result<_, _>>()
        .map_err(q("read sqlite_schema"))?;
    for (ty, name, tbl, sql) in rows {
        match ty.as_str() {
            "view" => schema.views.push(View {
                name: name.clone(),
                sql: sql.clone(),
            }),
            "trigger" => schema.triggers.push(Trigger {
                name: name.clone(),
                table: tbl,
                sql: sql.clone(),
            }),
            _ => {}
        }
        sqls.insert((ty, name), sql);
    }
    schema.views.sort_by(|a, b| a.name.cmp(&b.name));
    schema.triggers.sort_by(|a, b| a.name.cmp(&b.name));

    let mut unread = Vec::new();
    for (name, kind) in &objects {
        let (name, kind) = (name.clone(), kind.clone());
        if name.starts_with("sqlite_") {
            continue;
        }
        match kind.as_str() {
            "table" => {}
            "view" => continue,
            "shadow" => {
                let owner = shadow_owner(&name, &objects);
                schema.skipped.push(Skipped::new(
                    name,
                    format!(
                        "shadow table of the virtual table {owner}: its storage, not copied on \
                         its own"
                    ),
                ));
                continue;
            }
            "virtual" => {
                let sql = sqls
                    .get(&("table".to_string(), name.clone()))
                    .cloned()
                    .unwrap_or_default();
                if let Some(module) = super::virtual_table::add(conn, &name, &sql, &mut schema)
                    .map_err(q(&format!("introspect virtual table {name}")))?
                {
                    unread.push((name, module));
                }
                continue;
            }
            other => {
                schema.skipped.push(Skipped::new(
                    name,
                    format!("unsupported object type {other}"),
                ));
                continue;
            }
        }
        let sql = sqls
            .get(&("table".to_string(), name.clone()))
            .cloned()
            .unwrap_or_default();
        let table = read_table(conn, &name, sql, &sqls, sequences.get(&name).copied())
            .map_err(q(&format!("introspect table {name}")))?;
        schema.tables.push(table);
    }
    super::virtual_table::leave_out_unmarked_shadows(&mut schema, &unread);
    resolve_foreign_keys(&mut schema);
    Ok(schema)
}

/// The virtual table a shadow table belongs to: the longest virtual table name it starts with,
/// followed by `_` (SQLite names shadow tables so).
fn shadow_owner(shadow: &str, objects: &[(String, String)]) -> String {
    objects
        .iter()
        .filter(|(name, kind)| {
            kind == "virtual"
                && shadow.len() > name.len()
                && shadow.starts_with(name.as_str())
                && shadow[name.len()..].starts_with('_')
        })
        .map(|(name, _)| name.clone())
        .max_by_key(String::len)
        .unwrap_or_else(|| "(unknown)".to_string())
}

/// Rows of `table` whose foreign key points at no parent row, per foreign key id: SQLite
/// enforces foreign keys only when the application turned them on, so real files have them.
/// `foreign_key_check` finds them all. A check SQLite cannot run (a key referencing columns
/// without a unique index) is left to PostgreSQL, which will refuse the constraint and say why.
/// Called from the scan threads, one table each, on their snapshot readers.
pub fn orphans_of(conn: &Connection, table: &Table) -> Vec<(i64, Orphans)> {
    let mut found: Vec<(i64, Orphans)> = Vec::new();
    if table.foreign_keys.is_empty() {
        return found;
    }
    let sql = format!(
        "SELECT rowid, fkid FROM pragma_foreign_key_check({})",
        super::quote_sqlite_literal(&table.name)
    );
    let Ok(mut stmt) = conn.prepare(&sql) else {
        return found;
    };
    let Ok(mut rows) = stmt.query([]) else {
        return found;
    };
    while let Ok(Some(r)) = rows.next() {
        let rowid: Option<i64> = r.get(0).ok().flatten();
        let Ok(fkid) = r.get::<_, i64>(1) else {
            continue;
        };
        let i = match found.iter().position(|(id, _)| *id == fkid) {
            Some(i) => i,
            None => {
                found.push((
                    fkid,
                    Orphans {
                        rows: 0,
                        example_rowids: Vec::new(),
                    },
                ));
                found.len() - 1
            }
        };
        let o = &mut found[i].1;
        o.rows += 1;
        if o.example_rowids.len() < 5
            && let Some(id) = rowid
        {
            o.example_rowids.push(id);
        }
    }
    found
}

fn read_sequences(conn: &Connection) -> rusqlite::Result<HashMap<String, i64>> {
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'sqlite_sequence'",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(HashMap::new());
    }
    let mut stmt = conn.prepare("SELECT name, seq FROM sqlite_sequence")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    rows.collect()
}

fn read_table(
    conn: &Connection,
    name: &str,
    sql: String,
    sqls: &HashMap<(String, String), String>,
    sequence: Option<i64>,
) -> rusqlite::Result<Table> {
    let (parsed, sql_error) = match sql::parse_create_table(&sql) {
        Ok(p) => (Some(p), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let parsed_col = |col: &str| {
        parsed
            .as_ref()
            .and_then(|p| p.columns.iter().find(|c| c.name.eq_ignore_ascii_case(col)))
    };

    let mut stmt = conn.prepare(&format!("PRAGMA table_xinfo({})", quote_sqlite_ident(name)))?;
    let mut columns = Vec::new();
    let mut pk: Vec<(i64, String)> = Vec::new();
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let col_name: String = r.get(1)?;
        let declared: String = r.get::<_, Option<String>>(2)?.unwrap_or_default();
        let not_null: bool = r.get(3)?;
        let default: Option<String> = r.get(4)?;
        let pk_pos: i64 = r.get(5)?;
        let hidden: i64 = r.get(6)?;
        let def = parsed_col(&col_name);
        let generated = if hidden == 2 || hidden == 3 {
            Some(Generated {
                expr: def
                    .and_then(|d| d.generated.as_ref().map(|g| g.expr.clone()))
                    .unwrap_or_default(),
                stored: hidden == 3,
            })
        } else {
            None
        };
        if pk_pos > 0 {
            pk.push((pk_pos, col_name.clone()));
        }
        columns.push(Column {
            name: col_name,
            declared_type: declared,
            not_null,
            default,
            generated,
            collation: def.and_then(|d| d.collation.clone()),
        });
    }
    pk.sort();
    let primary_key: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();

    let without_rowid: bool = conn
        .query_row(
            "SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap_or(false);
    let rowid_alias = match primary_key.as_slice() {
        [only] if !without_rowid => columns
            .iter()
            .find(|c| &c.name == only && c.declared_type.eq_ignore_ascii_case("INTEGER"))
            .map(|c| c.name.clone()),
        _ => None,
    };
    let autoincrement = sequence.is_some() || parsed_col_any(parsed.as_ref(), |c| c.autoincrement);

    let indexes = read_indexes(conn, name, sqls)?;
    let mut foreign_keys = read_foreign_keys(conn, name)?;
    if let Some(p) = &parsed {
        apply_deferral(&mut foreign_keys, &p.foreign_keys);
    }
    let mut checks = Vec::new();
    if let Some(p) = &parsed {
        for c in &p.columns {
            checks.extend(c.checks.iter().map(|e| Check {
                name: e.name.clone(),
                expr: e.expr.clone(),
            }));
        }
        checks.extend(p.checks.iter().map(|e| Check {
            name: e.name.clone(),
            expr: e.expr.clone(),
        }));
    }

    Ok(Table {
        name: name.to_string(),
        columns,
        primary_key,
        rowid_alias,
        autoincrement,
        without_rowid,
        indexes,
        foreign_keys,
        checks,
        sequence,
        sql,
        sql_error,
    })
}

fn parsed_col_any(parsed: Option<&sql::CreateTable>, f: impl Fn(&sql::ColumnDef) -> bool) -> bool {
    parsed.is_some_and(|p| p.columns.iter().any(f))
}

fn read_indexes(
    conn: &Connection,
    table: &str,
    sqls: &HashMap<(String, String), String>,
) -> rusqlite::Result<Vec<Index>> {
    let mut stmt = conn.prepare(&format!("PRAGMA index_list({})", quote_sqlite_ident(table)))?;
    let list: Vec<(String, bool, String, bool)> = stmt
        .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (name, unique, origin, partial) in list {
        if origin == "pk" {
            continue;
        }
        let sql = sqls.get(&("index".to_string(), name.clone())).cloned();
        let parsed = sql.as_deref().and_then(|s| sql::parse_create_index(s).ok());
        let mut cols = conn.prepare(&format!(
            "PRAGMA index_xinfo({})",
            quote_sqlite_ident(&name)
        ))?;
        let mut rows = cols.query([])?;
        let mut columns = Vec::new();
        let mut key_no = 0usize;
        while let Some(r) = rows.next()? {
            let key: bool = r.get(5)?;
            if !key {
                continue;
            }
            let cid: i64 = r.get(1)?;
            let col: Option<String> = r.get(2)?;
            let desc: bool = r.get(3)?;
            let coll: Option<String> = r.get(4)?;
            let term = parsed.as_ref().and_then(|p| p.terms.get(key_no));
            key_no += 1;
            let (column, expr) = if cid == -2 {
                (None, Some(term.map(|t| t.expr.clone()).unwrap_or_default()))
            } else {
                (col, None)
            };
            // Only an explicit COLLATE is kept; BINARY is SQLite's default.
            let explicit_coll = term
                .and_then(|t| t.collation.clone())
                .or_else(|| coll.filter(|c| !c.eq_ignore_ascii_case("BINARY")));
            columns.push(IndexColumn {
                column,
                expr,
                descending: desc,
                collation: explicit_coll,
            });
        }
        let partial_where = if partial {
            Some(
                parsed
                    .as_ref()
                    .and_then(|p| p.where_clause.clone())
                    .unwrap_or_default(),
            )
        } else {
            None
        };
        out.push(Index {
            name,
            unique,
            from_constraint: origin == "u",
            columns,
            partial_where,
            sql,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn read_foreign_keys(conn: &Connection, table: &str) -> rusqlite::Result<Vec<ForeignKey>> {
    let mut stmt = conn.prepare(&format!(
        "PRAGMA foreign_key_list({})",
        quote_sqlite_ident(table)
    ))?;
    let mut rows = stmt.query([])?;
    let mut by_id: Vec<(i64, ForeignKey)> = Vec::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let ref_table: String = r.get(2)?;
        let from: String = r.get(3)?;
        let to: Option<String> = r.get(4)?;
        let on_update: String = r.get(5)?;
        let on_delete: String = r.get(6)?;
        match by_id.iter_mut().find(|(i, _)| *i == id) {
            Some((_, fk)) => {
                fk.columns.push(from);
                fk.ref_columns.extend(to);
            }
            None => by_id.push((
                id,
                ForeignKey {
                    id,
                    orphans: None,
                    columns: vec![from],
                    ref_table,
                    ref_columns: to.into_iter().collect(),
                    on_update,
                    on_delete,
                    deferrable: false,
                    initially_deferred: false,
                },
            )),
        }
    }
    // SQLite lists foreign keys in reverse declaration order.
    by_id.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
    Ok(by_id.into_iter().map(|(_, fk)| fk).collect())
}

/// The pragma does not say whether a foreign key is DEFERRABLE: the statement does. Keys are
/// matched by their referencing columns, each written clause used once.
fn apply_deferral(fks: &mut [ForeignKey], written: &[sql::ForeignKeyDef]) {
    let mut used = vec![false; written.len()];
    for fk in fks {
        let same = |d: &sql::ForeignKeyDef| {
            d.columns.len() == fk.columns.len()
                && d.columns
                    .iter()
                    .zip(&fk.columns)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        };
        if let Some(i) = (0..written.len()).find(|&i| !used[i] && same(&written[i])) {
            used[i] = true;
            fk.deferrable = written[i].deferrable;
            fk.initially_deferred = written[i].initially_deferred;
        }
    }
}

/// `REFERENCES t` without columns means t's primary key; the referenced table's name is
/// matched case-insensitively, as SQLite does.
fn resolve_foreign_keys(schema: &mut SourceSchema) {
    let parents: Vec<(String, Vec<String>, Vec<String>)> = schema
        .tables
        .iter()
        .map(|t| {
            let cols = t.columns.iter().map(|c| c.name.clone()).collect();
            (t.name.clone(), t.primary_key.clone(), cols)
        })
        .collect();
    for t in &mut schema.tables {
        for fk in &mut t.foreign_keys {
            let Some((name, pk, cols)) = parents
                .iter()
                .find(|(n, _, _)| n.eq_ignore_ascii_case(&fk.ref_table))
            else {
                continue;
            };
            fk.ref_table = name.clone();
            if fk.ref_columns.is_empty() {
                fk.ref_columns = pk.clone();
            }
            for rc in &mut fk.ref_columns {
                if let Some(real) = cols.iter().find(|c| c.eq_ignore_ascii_case(rc)) {
                    *rc = real.clone();
                }
            }
        }
    }
}
