//! The statements that load a table and deal with one that exists already: the COPY into a
//! new table (with FREEZE) or an existing one, the temporary table and `INSERT … ON CONFLICT`
//! of `--if-exists upsert` (with the deletion of rows a root row owns), and the TRUNCATE, DROP
//! and foreign-key drop of `--if-exists truncate|drop`.
//!
//! Written once here, from the table's plan and the schema model; the executor runs them as
//! they are and composes none of its own. Nothing here talks to a server.

use crate::model::plan::{LoadSql, OwnedSql, TablePlan, UpsertSql};
use crate::model::schema::{SourceSchema, Table};
use crate::postgres::ident::{qualified, quote_ident};

/// Where the drop of an existing foreign key puts the constraint's name, read at run time.
pub const CONSTRAINT: &str = "{constraint}";

/// Fills `load` of every table. `model.tables[i]` is the source of `tables[i]`.
pub fn apply(tables: &mut [TablePlan], model: &SourceSchema, schema: &str) {
    let owned: Vec<Option<OwnedSql>> = model
        .tables
        .iter()
        .zip(tables.iter())
        .map(|(t, tp)| owned_sql(model, tables, t, tp, schema))
        .collect();
    for ((tp, t), owned) in tables.iter_mut().zip(&model.tables).zip(owned) {
        tp.load = load_sql(t, tp, schema, owned);
    }
}

fn load_sql(t: &Table, tp: &TablePlan, schema: &str, owned: Option<OwnedSql>) -> LoadSql {
    let qname = qualified(schema, &tp.name);
    let cols = sent_columns(tp).join(", ");
    let copy = |into: &str, freeze: &str| {
        format!("COPY {into} ({cols}) FROM STDIN (FORMAT binary{freeze})")
    };
    LoadSql {
        copy_new: copy(&qname, ", FREEZE"),
        copy_existing: copy(&qname, ""),
        upsert: upsert_sql(t, tp, &qname).map(|insert| UpsertSql {
            owned,
            temp_table: format!(
                "CREATE TEMP TABLE pgcarry_upsert (LIKE {qname} INCLUDING DEFAULTS) ON COMMIT DROP"
            ),
            copy: copy("pgcarry_upsert", ""),
            insert,
        }),
        drop_foreign_key: format!("ALTER TABLE {qname} DROP CONSTRAINT {CONSTRAINT}"),
        truncate: format!("TRUNCATE {qname}"),
        drop: drop_sql(&qname, tp),
    }
}

/// `DROP TABLE … CASCADE`, then the enum types only this table's columns used (created with
/// it; they would be in the way of its re-creation).
fn drop_sql(qname: &str, tp: &TablePlan) -> String {
    let mut sql = format!("DROP TABLE {qname} CASCADE");
    for c in &tp.columns {
        if let crate::model::types::PgType::Enum { sql_name, .. } = &c.pg_type {
            sql.push_str(&format!(";\nDROP TYPE IF EXISTS {sql_name}"));
        }
    }
    sql
}

/// The columns COPY sends, quoted: generated columns are computed by PostgreSQL, never sent.
fn sent_columns(tp: &TablePlan) -> Vec<String> {
    tp.columns
        .iter()
        .filter(|c| c.generated.is_none())
        .map(|c| quote_ident(&c.name))
        .collect()
}

/// `INSERT … SELECT … ON CONFLICT (key) DO UPDATE` from the temporary table; `None` without a
/// primary key.
fn upsert_sql(source: &Table, tp: &TablePlan, qname: &str) -> Option<String> {
    let cols = sent_columns(tp);
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

/// The root table whose rows own `t`'s: `t`'s primary key starts with its parent's, parent by
/// parent up to a root (a JSON document's child tables; an order's lines keyed by order and
/// line number). `None` for a root table or one keyed otherwise.
fn root_of<'a>(model: &'a SourceSchema, t: &'a Table) -> Option<&'a Table> {
    let mut cur = t;
    let mut depth = 0;
    while let Some(fk) = cur.foreign_keys.iter().find(|fk| {
        !fk.columns.is_empty()
            && fk.columns.len() < cur.primary_key.len()
            && cur.primary_key.starts_with(&fk.columns)
    }) {
        let parent = model.tables.iter().find(|p| p.name == fk.ref_table)?;
        if fk.ref_columns != parent.primary_key || depth > 32 {
            return None;
        }
        cur = parent;
        depth += 1;
    }
    (depth > 0).then_some(cur)
}

/// The statements that delete the rows of `t` owned by a root row the source has.
fn owned_sql(
    model: &SourceSchema,
    tables: &[TablePlan],
    t: &Table,
    tp: &TablePlan,
    schema: &str,
) -> Option<OwnedSql> {
    let root = root_of(model, t)?;
    let target = |plan: &TablePlan, k: &String| {
        plan.columns
            .iter()
            .find(|c| &c.source_name == k)
            .map(|c| quote_ident(&c.name))
    };
    let prefix = t.primary_key[..root.primary_key.len()]
        .iter()
        .map(|k| target(tp, k))
        .collect::<Option<Vec<_>>>()?;
    let root_plan = tables.iter().find(|x| x.source_name == root.name)?;
    let key = root
        .primary_key
        .iter()
        .map(|k| target(root_plan, k))
        .collect::<Option<Vec<_>>>()?;
    let cols = key.join(", ");
    Some(OwnedSql {
        root: root.name.clone(),
        root_key: root.primary_key.clone(),
        temp_table: format!(
            "CREATE TEMP TABLE pgcarry_owners ON COMMIT DROP AS SELECT {cols} FROM {} WITH NO DATA",
            qualified(schema, &root_plan.name)
        ),
        copy: format!("COPY pgcarry_owners ({cols}) FROM STDIN (FORMAT binary)"),
        delete: format!(
            "DELETE FROM {} WHERE ({}) IN (SELECT {cols} FROM pgcarry_owners)",
            qualified(schema, &tp.name),
            prefix.join(", ")
        ),
    })
}
