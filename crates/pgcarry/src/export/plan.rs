//! The export's plan: for every PostgreSQL column its SQLite declared type, how its values are
//! stored and why; the `CREATE TABLE` with keys, NOT NULL, defaults, UNIQUE, checks and
//! foreign keys; the indexes; what does not go back, with its SQL. A plain value, printed by
//! `plan`, kept in the report and executed unchanged.

use super::restyle::{self, Restyle};
use crate::formats::decode::Wire;
use crate::model::plan::widest;
use crate::model::source_record::SourceRecord;
use crate::model::types::PgType;
use crate::model::types::ReadAs;
use crate::postgres::ident::{qualified, quote_ident};
use crate::postgres::introspect::{PgColumn, PgTable};
use crate::sqlite::{quote_sqlite_ident as q, quote_sqlite_literal};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportPlan {
    /// Where the rows come from (password redacted).
    pub source: String,
    pub schema: String,
    pub tables: Vec<ExportTable>,
    /// What does not go back (views, triggers, checks, indexes, defaults…), with the reason.
    pub not_exported: Vec<NotExported>,
    /// For tables given back as their source had them: the source's FTS tables over their text
    /// (each followed by its rebuild), views and triggers, run after the indexes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_objects: Vec<String>,
    /// PostgreSQL views translated to SQLite (each proven by its row count, or left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<ExportView>,
    /// `export --to-json`: the recipe of the JSON store the tables were migrated from.
    #[serde(skip)]
    pub json_store: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportView {
    pub name: String,
    pub sql: String,
}

/// The statements that give back the source's objects recorded with the tables in `plan`
/// that are exported as their source had them.
/// `recorded` names every table the migration recorded: a view naming one that is not given
/// back would not work, and is left out.
pub fn source_objects(records: &[&SourceRecord], recorded: &[String]) -> Vec<String> {
    let given: Vec<String> = records
        .iter()
        .map(|r| r.source_name.to_ascii_lowercase())
        .collect();
    let complete = |sql: &str| {
        let sql = sql.to_ascii_lowercase();
        recorded
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .filter(|n| sql.contains(n.as_str()))
            .all(|n| given.contains(&n))
    };
    let mut out: Vec<String> = Vec::new();
    for r in records {
        for sql in &r.fts {
            out.push(sql.clone());
            if let Ok(v) = crate::sqlite::sql::fts::parse_virtual(sql) {
                out.push(format!(
                    "INSERT INTO {0} ({0}) VALUES ('rebuild')",
                    q(&v.name)
                ));
            }
        }
    }
    for r in records {
        for sql in &r.views {
            if !out.contains(sql) && complete(sql) {
                out.push(sql.clone());
            }
        }
    }
    for r in records {
        out.extend(r.triggers.iter().cloned());
    }
    out
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotExported {
    pub table: Option<String>,
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportTable {
    pub name: String,
    /// The table's name in SQLite: its source's name when pgcarry migrated it.
    pub sqlite_name: String,
    /// Re-created from the source's own SQL, recorded when pgcarry migrated it.
    #[serde(default)]
    pub as_source: bool,
    pub columns: Vec<ExportColumn>,
    /// `COPY (SELECT …) TO STDOUT (FORMAT binary)`, the columns in order.
    pub copy_sql: String,
    pub create_sql: String,
    pub index_sql: Vec<String>,
    /// `AUTOINCREMENT` key: the value `sqlite_sequence` must hold so that the next id is the
    /// one PostgreSQL would hand out.
    pub sequence_position: Option<i64>,
    /// Run after the indexes, each left out and reported if SQLite refuses it: indexes over
    /// expressions or with a condition, and FTS5 tables (with their rebuild and triggers) for
    /// the table's search columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optional_sql: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportColumn {
    pub name: String,
    /// The column's name in SQLite.
    pub sqlite_name: String,
    /// How values are written back as the source stored them.
    #[serde(default, skip_serializing_if = "is_default")]
    pub restyle: Restyle,
    /// Numbers that are dates (as the source stored them): how the proof reads them back.
    #[serde(default, skip_serializing_if = "ReadAs::is_value")]
    pub read_as: ReadAs,
    /// The PostgreSQL type, as `format_type` prints it.
    pub pg_type: String,
    /// The SQLite declared type.
    pub declared: String,
    pub wire: Wire,
    /// The type whose binary form both sides are compared in (the verification re-encodes the
    /// SQLite values as this type and hashes them as PostgreSQL's COPY bytes are hashed).
    pub compare: PgType,
    pub reason: String,
    /// The values are written as text of a type SQLite has no equivalent for (`--strict`
    /// refuses them).
    pub lossy: bool,
}

/// What the scan found about a table's numeric columns: per column index, whether every
/// value is an integer in 64 bits with scale 0.
pub type IntegralNumerics = Vec<(usize, bool)>;

/// One column's storage: declared type, wire, comparison type, reason, lossy, the SELECT
/// expression.
struct Mapping {
    declared: String,
    wire: Wire,
    compare: PgType,
    reason: String,
    lossy: bool,
    select: String,
    check: Option<String>,
}

fn mapping(c: &PgColumn, integral: Option<bool>) -> Mapping {
    let col = quote_ident(&c.name);
    let qc = q(&c.name);
    if c.category == "A" {
        return Mapping {
            declared: "TEXT".into(),
            wire: Wire::Text,
            compare: PgType::Text,
            reason: format!(
                "{}: an array, written as a JSON array (array_to_json)",
                c.type_sql
            ),
            lossy: true,
            select: format!("array_to_json({col})::text"),
            check: Some(format!("json_valid({qc})")),
        };
    }
    if c.type_kind == "e" {
        let labels: Vec<String> = c.labels.iter().map(|l| quote_sqlite_literal(l)).collect();
        return Mapping {
            declared: "TEXT".into(),
            wire: Wire::Text,
            compare: PgType::Text,
            reason: format!(
                "enum {}: its label as text, CHECK of its labels",
                c.type_sql
            ),
            lossy: false,
            select: format!("{col}::text"),
            check: Some(format!("{qc} IN ({})", labels.join(", "))),
        };
    }
    scalar_mapping(c, integral)
}

/// A column of a base type: the type a person would choose in SQLite.
fn scalar_mapping(c: &PgColumn, integral: Option<bool>) -> Mapping {
    let col = quote_ident(&c.name);
    let m = |declared: &str, wire, compare, reason: &str| Mapping {
        declared: declared.to_string(),
        wire,
        compare,
        reason: reason.to_string(),
        lossy: false,
        select: col.clone(),
        check: None,
    };
    let qc = q(&c.name);
    let upper_sql = c.type_sql.to_ascii_uppercase();
    // numeric(p,s): the proof encodes at the column's scale, as PostgreSQL stores it.
    let numeric = PgType::Numeric {
        precision_scale: upper_sql
            .strip_prefix("NUMERIC(")
            .and_then(|r| r.strip_suffix(')'))
            .and_then(|r| r.split_once(','))
            .and_then(|(p, s)| Some((p.trim().parse().ok()?, s.trim().parse().ok()?))),
    };
    match c.type_name.as_str() {
        "bool" => Mapping {
            check: Some(format!("{qc} IN (0, 1)")),
            ..m("BOOLEAN", Wire::Bool, PgType::Boolean, "boolean: 0 or 1")
        },
        "int2" => m(
            "SMALLINT",
            Wire::Int2,
            PgType::SmallInt,
            "smallint: an integer",
        ),
        "int4" => m("INTEGER", Wire::Int4, PgType::Integer, "integer"),
        "int8" => m("BIGINT", Wire::Int8, PgType::BigInt, "bigint: an integer"),
        "float8" => m(
            "REAL",
            Wire::Float8,
            PgType::DoublePrecision,
            "double precision: REAL holds every bit",
        ),
        "float4" => Mapping {
            select: format!("{col}::float8"),
            ..m(
                "REAL",
                Wire::Float8,
                PgType::DoublePrecision,
                "real: REAL (a double) holds every value exactly",
            )
        },
        "numeric" if integral == Some(true) => m(
            &upper_sql,
            Wire::NumericInteger,
            numeric,
            "numeric: every value is an integer in 64 bits, stored as INTEGER",
        ),
        "numeric" => m(
            // A type name's size comes last: `NUMERIC TEXT(10,2)`.
            &match upper_sql.split_once('(') {
                Some((name, size)) => format!("{name} TEXT({size}"),
                None => format!("{upper_sql} TEXT"),
            },
            Wire::NumericText,
            numeric,
            "numeric with fractions or beyond 64 bits: its exact text, in a column of TEXT \
             affinity (NUMERIC affinity would turn '19.99' into a double)",
        ),
        "text" => m("TEXT", Wire::Text, PgType::Text, "text"),
        "varchar" | "bpchar" => m(&upper_sql, Wire::Text, PgType::Text, "text"),
        "bytea" => m("BLOB", Wire::Bytea, PgType::Bytea, "bytea: its bytes"),
        "uuid" => m("UUID", Wire::Uuid, PgType::Uuid, "uuid: lower-case text"),
        "date" => m("DATE", Wire::Date, PgType::Date, "date: YYYY-MM-DD"),
        "time" => m("TIME", Wire::Time, PgType::Time, "time: HH:MM:SS[.ffffff]"),
        "timestamp" => m(
            "TIMESTAMP",
            Wire::Timestamp,
            PgType::Timestamp,
            "timestamp: YYYY-MM-DD HH:MM:SS[.ffffff]",
        ),
        "timestamptz" => m(
            "TIMESTAMPTZ",
            Wire::Timestamptz,
            PgType::Timestamptz,
            "timestamp with time zone: the instant in UTC, YYYY-MM-DD HH:MM:SS[.ffffff]+00:00",
        ),
        "json" => Mapping {
            check: Some(format!("json_valid({qc})")),
            ..m(
                "JSON TEXT",
                Wire::Text,
                PgType::Json,
                "json: its text, as written",
            )
        },
        "jsonb" => Mapping {
            check: Some(format!("json_valid({qc})")),
            ..m(
                "JSONB TEXT",
                Wire::Jsonb,
                PgType::Jsonb,
                "jsonb: the document as PostgreSQL prints it",
            )
        },
        "interval" => Mapping {
            lossy: true,
            select: format!("{col}::text"),
            ..m(
                "TEXT",
                Wire::Text,
                PgType::Text,
                "interval: no SQLite equivalent, ISO-8601 text (P1Y2M3DT4H5M6S)",
            )
        },
        // The type's output function (as psql shows it), not a cast: `inet`'s cast adds `/32`.
        _ => Mapping {
            lossy: true,
            select: format!("CASE WHEN {col} IS NULL THEN NULL ELSE format('%s', {col}) END"),
            ..m(
                "TEXT",
                Wire::Text,
                PgType::Text,
                &format!(
                    "{}: no SQLite equivalent, written as the text PostgreSQL prints",
                    c.type_sql
                ),
            )
        },
    }
}

fn note(out: &mut Vec<NotExported>, table: &str, name: &str, reason: String) {
    out.push(NotExported {
        table: Some(table.to_string()),
        name: name.to_string(),
        reason,
    });
}

/// Column names as a SQLite list.
fn list(cols: &[String]) -> String {
    cols.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ")
}

/// One column: its plan, its definition in `CREATE TABLE` and its expression in the COPY
/// query; `None` for a search column (reported). `key` is `Some(autoincrement)` for the
/// single integer primary key.
fn column(
    t: &PgTable,
    c: &PgColumn,
    integral: Option<bool>,
    key: Option<bool>,
    not_exported: &mut Vec<NotExported>,
) -> Option<(ExportColumn, String, String)> {
    if c.generated.is_some() && c.type_name == "tsvector" {
        // Handled with the table's other columns known (see `search_columns`).
        return None;
    }
    let mut m = mapping(c, integral);
    if let Some(g) = &c.generated {
        m.reason = format!(
            "{}; generated in PostgreSQL as {g}: its values are kept as a plain column",
            m.reason
        );
    }
    let mut def = format!("{} {}", q(&c.name), m.declared);
    if let Some(autoincrement) = key {
        def = format!(
            "{} INTEGER PRIMARY KEY{}",
            q(&c.name),
            if autoincrement { " AUTOINCREMENT" } else { "" }
        );
        m.declared = "INTEGER".into();
        m.reason = format!(
            "{}; the integer primary key: INTEGER PRIMARY KEY (SQLite's rowid){}",
            m.reason,
            if autoincrement {
                ", AUTOINCREMENT and sqlite_sequence continue PostgreSQL's sequence"
            } else {
                ""
            }
        );
    } else if c.not_null {
        def.push_str(" NOT NULL");
    }
    if let (Some(d), None) = (&c.default, key) {
        match default(d, &c.type_name) {
            Some(sql) => {
                let _ = write!(def, " DEFAULT {sql}");
            }
            None => note(
                not_exported,
                &t.name,
                &c.name,
                format!("default {d}: no SQLite equivalent, not exported"),
            ),
        }
    }
    if let Some(check) = &m.check {
        let _ = write!(def, " CHECK ({check})");
    }
    let planned = ExportColumn {
        sqlite_name: c.name.clone(),
        restyle: Restyle::None,
        read_as: ReadAs::Value,
        name: c.name.clone(),
        pg_type: c.type_sql.clone(),
        declared: m.declared,
        wire: m.wire,
        compare: m.compare,
        reason: m.reason,
        lossy: m.lossy,
    };
    Some((planned, def, m.select))
}

/// Plans one table. `integral` says which numeric columns hold only integers; `next_id` is the
/// next value of the identity/serial sequence of a single integer key.
pub fn table(
    schema: &str,
    t: &PgTable,
    integral: &IntegralNumerics,
    next_id: Option<i64>,
    exported: &[String],
    not_exported: &mut Vec<NotExported>,
) -> ExportTable {
    let int_key = match t.primary_key.as_slice() {
        [k] => t
            .columns
            .iter()
            .find(|c| &c.name == k && matches!(c.type_name.as_str(), "int2" | "int4" | "int8")),
        _ => None,
    };
    let (mut columns, mut defs, mut selects) = (Vec::new(), Vec::new(), Vec::new());
    for (i, c) in t.columns.iter().enumerate() {
        let integral = integral.iter().find(|(j, _)| *j == i).map(|(_, b)| *b);
        let key = int_key
            .filter(|k| k.name == c.name)
            .map(|_| next_id.is_some());
        if let Some((planned, def, select)) = column(t, c, integral, key, not_exported) {
            columns.push(planned);
            defs.push(def);
            selects.push(select);
        }
    }
    let kept = |cols: &[String]| cols.iter().all(|k| columns.iter().any(|c| &c.name == k));
    if int_key.is_none() && !t.primary_key.is_empty() && kept(&t.primary_key) {
        defs.push(format!("PRIMARY KEY ({})", list(&t.primary_key)));
    }
    for u in t.uniques.iter().filter(|u| kept(u)) {
        defs.push(format!("UNIQUE ({})", list(u)));
    }
    defs.extend(foreign_keys(schema, t, exported, not_exported));
    defs.extend(checks(t, &columns, not_exported));
    for (name, definition) in &t.triggers {
        note(
            not_exported,
            &t.name,
            name,
            format!("trigger not translated to SQLite: {definition}"),
        );
    }
    let index_sql = indexes(t, &kept, not_exported);
    let mut optional_sql = translated_indexes(t, &columns, not_exported);
    optional_sql.extend(search_columns(
        t,
        &columns,
        int_key.map(|k| k.name.as_str()),
        not_exported,
    ));
    ExportTable {
        name: t.name.clone(),
        sqlite_name: t.name.clone(),
        as_source: false,
        copy_sql: format!(
            "COPY (SELECT {} FROM {}) TO STDOUT (FORMAT binary)",
            selects.join(", "),
            qualified(schema, &t.name)
        ),
        create_sql: format!("CREATE TABLE {} (\n  {}\n)", q(&t.name), defs.join(",\n  ")),
        index_sql,
        sequence_position: next_id.map(|n| n - 1),
        columns,
        optional_sql,
    }
}

/// The FTS5 statements for `t`'s generated `tsvector` columns; each is noted in the plan,
/// as an FTS5 table or as not exported.
fn search_columns(
    t: &PgTable,
    columns: &[ExportColumn],
    key: Option<&str>,
    not_exported: &mut Vec<NotExported>,
) -> Vec<String> {
    let text: Vec<String> = columns
        .iter()
        .filter(|c| c.wire == Wire::Text)
        .map(|c| c.name.clone())
        .collect();
    let mut sql = Vec::new();
    for c in &t.columns {
        let (Some(expr), "tsvector") = (&c.generated, c.type_name.as_str()) else {
            continue;
        };
        let said = match super::search::fts5_for(t, &c.name, expr, key, &text) {
            Some((statements, said)) => {
                sql.extend(statements);
                said
            }
            None => format!(
                "search column (tsvector generated as {expr}): not exported (it names no text \
                 column, or the table has no integer key for an FTS5 table)"
            ),
        };
        note(not_exported, &t.name, &c.name, said);
    }
    sql
}

/// Foreign keys to exported tables, declared in the table; the others reported.
fn foreign_keys(
    schema: &str,
    t: &PgTable,
    exported: &[String],
    not_exported: &mut Vec<NotExported>,
) -> Vec<String> {
    let mut defs = Vec::new();
    for fk in &t.foreign_keys {
        if fk.parent_schema != schema || !exported.contains(&fk.parent) {
            note(
                not_exported,
                &t.name,
                &fk.name,
                format!(
                    "foreign key to {}, which is not exported: {}",
                    qualified(&fk.parent_schema, &fk.parent),
                    fk.definition
                ),
            );
            continue;
        }
        let mut def = format!(
            "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
            q(&fk.name),
            list(&fk.columns),
            q(&fk.parent),
            list(&fk.parent_columns)
        );
        for (when, code) in [("DELETE", &fk.on_delete), ("UPDATE", &fk.on_update)] {
            if let Some(action) = action(code) {
                let _ = write!(def, " ON {when} {action}");
            }
        }
        if fk.deferred {
            def.push_str(" DEFERRABLE INITIALLY DEFERRED");
        }
        defs.push(def);
    }
    defs
}

/// CHECK constraints that translate; the others reported.
fn checks(
    t: &PgTable,
    columns: &[ExportColumn],
    not_exported: &mut Vec<NotExported>,
) -> Vec<String> {
    // Comparisons over numeric stored as text would compare text in SQLite: left out.
    let comparable: Vec<String> = columns
        .iter()
        .filter(|c| c.wire != Wire::NumericText)
        .map(|c| c.name.clone())
        .collect();
    let mut defs = Vec::new();
    for (name, definition) in &t.checks {
        match super::check::translate(definition, &comparable) {
            Some(expr) => defs.push(format!("CONSTRAINT {} CHECK ({expr})", q(name))),
            None => note(
                not_exported,
                &t.name,
                name,
                format!("check constraint not translated to SQLite: {definition}"),
            ),
        }
    }
    defs
}

/// Indexes over plain exported columns; the others reported.
fn indexes(
    t: &PgTable,
    kept: &dyn Fn(&[String]) -> bool,
    not_exported: &mut Vec<NotExported>,
) -> Vec<String> {
    let mut sql = Vec::new();
    for ix in &t.indexes {
        match &ix.columns {
            Some(cols) if kept(cols) => sql.push(format!(
                "CREATE {}INDEX {} ON {} ({})",
                if ix.unique { "UNIQUE " } else { "" },
                q(&ix.name),
                q(&t.name),
                list(cols)
            )),
            Some(_) => note(
                not_exported,
                &t.name,
                &ix.name,
                format!("index over a column not exported: {}", ix.definition),
            ),
            None => {} // see `translated_indexes`
        }
    }
    sql
}

/// Indexes over expressions, with a condition or an order, when they translate; the others
/// reported.
fn translated_indexes(
    t: &PgTable,
    columns: &[ExportColumn],
    not_exported: &mut Vec<NotExported>,
) -> Vec<String> {
    // Expressions over numeric stored as text would compare text in SQLite: left out.
    let usable: Vec<String> = columns
        .iter()
        .filter(|c| c.wire != Wire::NumericText)
        .map(|c| c.name.clone())
        .collect();
    let mut sql = Vec::new();
    for ix in t.indexes.iter().filter(|ix| ix.columns.is_none()) {
        match super::check::translate_index(&ix.definition, &usable) {
            Some((keys, condition)) => sql.push(format!(
                "CREATE {}INDEX {} ON {} ({keys}){}",
                if ix.unique { "UNIQUE " } else { "" },
                q(&ix.name),
                q(&t.name),
                condition.map_or(String::new(), |c| format!(" WHERE {c}"))
            )),
            None => note(
                not_exported,
                &t.name,
                &ix.name,
                format!(
                    "index not translated to SQLite (an expression, a condition, an order or a \
                     method SQLite lacks): {}",
                    ix.definition
                ),
            ),
        }
    }
    sql
}

impl ExportTable {
    /// The hasher for this table's tuples, as both sides hash them.
    pub fn hasher(&self) -> crate::checksum::TupleHasher {
        crate::checksum::TupleHasher::new(
            self.columns
                .iter()
                .map(|c| crate::checksum::FieldKind::of(&c.compare))
                .collect(),
        )
    }
}

/// View `name` (columns `columns`) as a table for the proof: its rows read from PostgreSQL's
/// view and from SQLite's, each column compared as its type.
pub fn view_as_table(schema: &str, name: &str, columns: &[PgColumn]) -> ExportTable {
    let mut planned = Vec::new();
    let mut selects = Vec::new();
    for c in columns {
        let m = mapping(c, None);
        selects.push(m.select.clone());
        planned.push(ExportColumn {
            name: c.name.clone(),
            sqlite_name: c.name.clone(),
            restyle: Restyle::None,
            read_as: ReadAs::Value,
            pg_type: c.type_sql.clone(),
            declared: String::new(),
            wire: m.wire,
            compare: m.compare,
            reason: String::new(),
            lossy: m.lossy,
        });
    }
    ExportTable {
        name: name.to_string(),
        sqlite_name: name.to_string(),
        as_source: false,
        copy_sql: format!(
            "COPY (SELECT {} FROM {}) TO STDOUT (FORMAT binary)",
            selects.join(", "),
            qualified(schema, name)
        ),
        create_sql: String::new(),
        index_sql: Vec::new(),
        sequence_position: None,
        columns: planned,
        optional_sql: Vec::new(),
    }
}

fn is_default(r: &Restyle) -> bool {
    *r == Restyle::None
}

/// A table pgcarry migrated, given back as its source had it: the source's own `CREATE TABLE`
/// and `CREATE INDEX` statements and names, each value in the form the source stored it.
/// `None` when the table's columns are no longer the ones recorded (the application changed
/// it since): it is then exported like any table.
pub fn from_record(
    schema: &str,
    t: &PgTable,
    record: &SourceRecord,
    integral: &IntegralNumerics,
    next_id: Option<i64>,
) -> Option<ExportTable> {
    let current: Vec<&PgColumn> = t
        .columns
        .iter()
        .filter(|c| !(c.generated.is_some() && c.type_name == "tsvector"))
        .collect();
    let names_match = current.len() == record.columns.len()
        && current
            .iter()
            .zip(&record.columns)
            .all(|(c, r)| c.name == r.name);
    if !names_match {
        return None;
    }
    let mut columns = Vec::new();
    let mut selects = Vec::new();
    for (i, (c, r)) in current.iter().zip(&record.columns).enumerate() {
        if r.generated {
            continue;
        }
        let integral = integral.iter().find(|(j, _)| *j == i).map(|(_, b)| *b);
        let m = mapping(c, integral);
        selects.push(m.select.clone());
        columns.push(ExportColumn {
            name: c.name.clone(),
            sqlite_name: r.source_name.clone(),
            restyle: restyle::of(m.wire, r),
            read_as: r.read_as,
            pg_type: c.type_sql.clone(),
            declared: "(the source's)".into(),
            wire: m.wire,
            compare: m.compare,
            reason: format!(
                "as the source had it (recorded when pgcarry migrated it), from {}",
                c.type_sql
            ),
            lossy: false,
        });
    }
    Some(ExportTable {
        name: t.name.clone(),
        sqlite_name: record.source_name.clone(),
        as_source: true,
        copy_sql: format!(
            "COPY (SELECT {} FROM {}) TO STDOUT (FORMAT binary)",
            selects.join(", "),
            qualified(schema, &t.name)
        ),
        create_sql: record.sql.clone(),
        index_sql: record.indexes.clone(),
        sequence_position: next_id.filter(|_| record.autoincrement).map(|n| n - 1),
        columns,
        optional_sql: Vec::new(),
    })
}

fn action(code: &str) -> Option<&'static str> {
    match code {
        "r" => Some("RESTRICT"),
        "c" => Some("CASCADE"),
        "n" => Some("SET NULL"),
        "d" => Some("SET DEFAULT"),
        _ => None,
    }
}

/// A PostgreSQL default as SQLite writes it, when it has a meaning there: literals (their
/// cast dropped), booleans, and the current time in the export's formats.
fn default(expr: &str, type_name: &str) -> Option<String> {
    let e = expr.trim();
    let lower = e.to_ascii_lowercase();
    match lower.as_str() {
        "true" => return Some("1".into()),
        "false" => return Some("0".into()),
        "now()" | "current_timestamp" | "statement_timestamp()" | "transaction_timestamp()" => {
            return Some(match type_name {
                "timestamptz" => "(strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))".into(),
                "date" => "(date('now'))".into(),
                _ => "(strftime('%Y-%m-%d %H:%M:%f', 'now'))".into(),
            });
        }
        "current_date" => return Some("(date('now'))".into()),
        // The current time in UTC, as an application stores it in a timestamp column.
        "(current_timestamp at time zone 'utc'::text)"
        | "(now() at time zone 'utc'::text)"
        | "timezone('utc'::text, now())"
        | "timezone('utc'::text, current_timestamp)"
            if type_name == "timestamp" =>
        {
            return Some("(strftime('%Y-%m-%d %H:%M:%f', 'now'))".into());
        }
        _ => {}
    }
    let number = e.trim_start_matches('(').trim_end_matches(')');
    let number = number.split("::").next().unwrap_or(number);
    if !number.is_empty()
        && number.parse::<f64>().is_ok()
        && number
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.'))
    {
        return Some(number.to_string());
    }
    // 'text'::type: a string literal, its cast dropped.
    if let Some(rest) = e.strip_prefix('\'') {
        let mut end = None;
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                end = Some(i);
                break;
            }
            i += 1;
        }
        let end = end?;
        let tail = &rest[end + 1..];
        let only_a_cast = tail.strip_prefix("::").is_some_and(|ty| {
            ty.chars()
                .all(|c| c.is_ascii_alphanumeric() || " _(),[]".contains(c))
        });
        if tail.is_empty() || only_a_cast {
            return match type_name {
                "bool" => match &rest[..end] {
                    "t" | "true" => Some("1".into()),
                    "f" | "false" => Some("0".into()),
                    _ => None,
                },
                _ => Some(format!("'{}'", &rest[..end])),
            };
        }
    }
    None
}

/// The plan as a person reads it.
pub fn render(plan: &ExportPlan) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Export plan: {} schema {:?} → SQLite: {} table(s)",
        plan.source,
        plan.schema,
        plan.tables.len()
    );
    for t in &plan.tables {
        let _ = writeln!(o, "\n{}", t.name);
        let w = widest(t.columns.iter().map(|c| c.name.as_str()));
        let tw = widest(t.columns.iter().map(|c| c.declared.as_str()));
        for c in &t.columns {
            let _ = writeln!(
                o,
                "  {:w$}  {:tw$}  {}{}",
                c.name,
                c.declared,
                c.reason,
                if c.lossy { " [lossy]" } else { "" }
            );
        }
        for ix in &t.index_sql {
            let _ = writeln!(o, "  {ix}");
        }
        if let Some(p) = t.sequence_position {
            let _ = writeln!(
                o,
                "  sqlite_sequence: {p} (the next id is {})",
                p.saturating_add(1)
            );
        }
    }
    if !plan.views.is_empty() {
        let _ = writeln!(
            o,
            "\nViews (each kept only if it gives the same rows in SQLite as in PostgreSQL):"
        );
        for v in &plan.views {
            let _ = writeln!(o, "  {}", v.sql);
        }
    }
    if !plan.not_exported.is_empty() {
        let _ = writeln!(o, "\nNot exported:");
        for n in &plan.not_exported {
            let on = n
                .table
                .as_deref()
                .map(|t| format!("{t}."))
                .unwrap_or_default();
            let _ = writeln!(o, "  - {on}{}: {}", n.name, n.reason);
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_that_mean_the_same_in_sqlite() {
        assert_eq!(default("'draft'::text", "text").as_deref(), Some("'draft'"));
        assert_eq!(
            default("'it''s'::character varying", "varchar").as_deref(),
            Some("'it''s'")
        );
        assert_eq!(default("42", "int4").as_deref(), Some("42"));
        assert_eq!(
            default("'-1.50'::numeric", "numeric").as_deref(),
            Some("'-1.50'")
        );
        assert_eq!(default("(-5)", "int4").as_deref(), Some("-5"));
        assert_eq!(default("true", "bool").as_deref(), Some("1"));
        assert!(default("now()", "timestamptz").unwrap().contains("+00:00"));
        assert_eq!(default("gen_random_uuid()", "uuid"), None);
        assert_eq!(default("nextval('s'::regclass)", "int4"), None);
        assert_eq!(default("'a'::text || 'b'::text", "text"), None);
    }
}
