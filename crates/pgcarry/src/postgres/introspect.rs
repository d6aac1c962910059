//! Reading a PostgreSQL schema's tables for `export`: columns with their types, defaults,
//! identities and sequences; keys, unique constraints, indexes, foreign keys and checks; the
//! views and triggers the export reports. Read-only, in the caller's transaction (the export's
//! snapshot), identifiers passed as parameters.

use postgres::Client;
use postgres::types::ToSql;

#[derive(Debug, Clone)]
pub struct PgTable {
    pub oid: u32,
    pub name: String,
    pub columns: Vec<PgColumn>,
    pub primary_key: Vec<String>,
    /// UNIQUE constraints, by column names.
    pub uniques: Vec<Vec<String>>,
    pub indexes: Vec<PgIndex>,
    pub foreign_keys: Vec<PgForeignKey>,
    /// CHECK constraints: name and definition as PostgreSQL prints it.
    pub checks: Vec<(String, String)>,
    /// Triggers: name and definition.
    pub triggers: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct PgColumn {
    pub attnum: i16,
    pub name: String,
    /// As `format_type` prints it: `character varying(64)`, `numeric(10,2)`, `integer[]`.
    pub type_sql: String,
    /// The type's name in `pg_type` (`int4`, `_int4`, `mood`).
    pub type_name: String,
    /// `pg_type.typtype`: `b` base, `e` enum, `d` domain, `r` range, `c` composite…
    pub type_kind: String,
    /// `pg_type.typcategory`: `A` for arrays.
    pub category: String,
    pub not_null: bool,
    pub default: Option<String>,
    /// `GENERATED ALWAYS AS (…) STORED`: the expression.
    pub generated: Option<String>,
    /// The sequence an identity or serial column takes its values from.
    pub sequence: Option<String>,
    /// An enum's labels, in order.
    pub labels: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct PgIndex {
    pub name: String,
    pub unique: bool,
    /// The indexed columns, when the index is a btree over plain columns without a condition.
    pub columns: Option<Vec<String>>,
    pub definition: String,
}

#[derive(Debug, Clone)]
pub struct PgForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub parent: String,
    /// The parent's schema, when it is not the exported one.
    pub parent_schema: String,
    pub parent_columns: Vec<String>,
    /// `pg_constraint` action codes: `a` no action, `r` restrict, `c` cascade, `n` set null,
    /// `d` set default.
    pub on_delete: String,
    pub on_update: String,
    pub deferred: bool,
    pub definition: String,
}

/// The value `nextval` would hand out next from `sequence` (as `pg_get_serial_sequence`
/// names it: schema-qualified and quoted).
pub fn next_value(client: &mut Client, sequence: &str) -> Result<i64, postgres::Error> {
    let sql = format!(
        "SELECT CASE WHEN is_called THEN last_value + (SELECT seqincrement FROM pg_sequence \
         WHERE seqrelid = $1::text::regclass) ELSE last_value END FROM {sequence}"
    );
    Ok(client.query_one(&sql, &[&sequence])?.get(0))
}

fn names_of(columns: &[PgColumn], attnums: &[i16]) -> Vec<String> {
    attnums
        .iter()
        .filter_map(|n| columns.iter().find(|c| c.attnum == *n))
        .map(|c| c.name.clone())
        .collect()
}

/// The tables (ordinary and partitioned, not partitions) of `schema`, all or those named.
pub fn tables(
    client: &mut Client,
    schema: &str,
    only: &[String],
) -> Result<Vec<PgTable>, postgres::Error> {
    let rows = client.query(
        "SELECT c.oid, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition \
         AND (cardinality($2::text[]) = 0 OR c.relname = ANY($2)) ORDER BY c.relname",
        &[&schema, &only],
    )?;
    let mut out = Vec::new();
    for r in rows {
        let oid: u32 = r.get(0);
        let name: String = r.get(1);
        let columns = columns(client, oid)?;
        let mut t = PgTable {
            oid,
            name,
            primary_key: Vec::new(),
            uniques: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            triggers: Vec::new(),
            columns,
        };
        constraints(client, &mut t)?;
        t.indexes = indexes(client, &t)?;
        t.triggers = pairs(
            client,
            "SELECT tgname::text, pg_get_triggerdef(oid) FROM pg_trigger \
             WHERE tgrelid = $1 AND NOT tgisinternal ORDER BY tgname",
            &[&oid],
        )?;
        out.push(t);
    }
    Ok(out)
}

fn pairs(
    client: &mut Client,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<(String, String)>, postgres::Error> {
    Ok(client
        .query(sql, params)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// The views of `schema`: name and definition.
pub fn views(client: &mut Client, schema: &str) -> Result<Vec<(String, String)>, postgres::Error> {
    pairs(
        client,
        "SELECT c.relname::text, pg_get_viewdef(c.oid) FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind IN ('v', 'm') ORDER BY 1",
        &[&schema],
    )
}

/// The columns of view `name` of `schema`, as a table's are read.
pub fn view_columns(
    client: &mut Client,
    schema: &str,
    name: &str,
) -> Result<Vec<PgColumn>, postgres::Error> {
    let oid: u32 = client
        .query_one(
            "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2",
            &[&schema, &name],
        )?
        .get(0);
    columns(client, oid)
}

fn columns(client: &mut Client, oid: u32) -> Result<Vec<PgColumn>, postgres::Error> {
    let rows = client.query(
        "SELECT a.attnum, a.attname::text, format_type(a.atttypid, a.atttypmod), t.typname::text, \
                t.typtype::text, t.typcategory::text, a.attnotnull, \
                pg_get_expr(d.adbin, d.adrelid), NULL, a.attgenerated = 's', \
                pg_get_serial_sequence(a.attrelid::regclass::text, a.attname), \
                ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid \
                      ORDER BY e.enumsortorder) \
         FROM pg_attribute a JOIN pg_type d0 ON d0.oid = a.atttypid \
         JOIN pg_type t ON t.oid = CASE WHEN d0.typtype = 'd' THEN d0.typbasetype ELSE d0.oid END \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        &[&oid],
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let default: Option<String> = r.get(7);
            let generated: bool = r.get(9);
            PgColumn {
                attnum: r.get(0),
                name: r.get(1),
                type_sql: r.get(2),
                type_name: r.get(3),
                type_kind: r.get(4),
                category: r.get(5),
                not_null: r.get(6),
                generated: if generated { default.clone() } else { None },
                default: if generated { None } else { default },
                sequence: r.get(10),
                labels: r.get(11),
            }
        })
        .collect())
}

fn constraints(client: &mut Client, t: &mut PgTable) -> Result<(), postgres::Error> {
    let rows = client.query(
        "SELECT c.conname::text, c.contype::text, c.conkey, c.confkey, p.relname::text, \
                pn.nspname::text, c.confdeltype::text, c.confupdtype::text, c.condeferred, \
                pg_get_constraintdef(c.oid) \
         FROM pg_constraint c LEFT JOIN pg_class p ON p.oid = c.confrelid \
         LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace \
         WHERE c.conrelid = $1 ORDER BY c.conname",
        &[&t.oid],
    )?;
    for r in rows {
        let name: String = r.get(0);
        let kind: String = r.get(1);
        let key: Vec<i16> = r.get::<_, Option<Vec<i16>>>(2).unwrap_or_default();
        let columns = names_of(&t.columns, &key);
        let definition: String = r.get(9);
        match kind.as_str() {
            "p" => t.primary_key = columns,
            "u" => t.uniques.push(columns),
            "c" => t.checks.push((name, definition)),
            "f" => {
                let parent_key: Vec<i16> = r.get::<_, Option<Vec<i16>>>(3).unwrap_or_default();
                let parent: String = r.get(4);
                let parent_columns = client
                    .query(
                        "SELECT attname::text FROM pg_attribute a JOIN pg_constraint c \
                         ON a.attrelid = c.confrelid AND a.attnum = ANY(c.confkey) \
                         WHERE c.conrelid = $1 AND c.conname = $2 \
                         ORDER BY array_position(c.confkey, a.attnum)",
                        &[&t.oid, &name],
                    )?
                    .iter()
                    .map(|r| r.get(0))
                    .collect::<Vec<String>>();
                debug_assert_eq!(parent_columns.len(), parent_key.len());
                t.foreign_keys.push(PgForeignKey {
                    name,
                    columns,
                    parent,
                    parent_schema: r.get(5),
                    parent_columns,
                    on_delete: r.get(6),
                    on_update: r.get(7),
                    deferred: r.get(8),
                    definition,
                });
            }
            _ => t.checks.push((name, definition)),
        }
    }
    Ok(())
}

fn indexes(client: &mut Client, t: &PgTable) -> Result<Vec<PgIndex>, postgres::Error> {
    let rows = client.query(
        "SELECT i.relname::text, x.indisunique, x.indkey::int2[], \
                x.indexprs IS NULL AND x.indpred IS NULL AND am.amname = 'btree' \
                AND 0 = ALL(x.indoption::int2[]) AND x.indnkeyatts = x.indnatts, \
                pg_get_indexdef(x.indexrelid) \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam \
         WHERE x.indrelid = $1 \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid \
                         AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x')) \
         ORDER BY 1",
        &[&t.oid],
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let key: Vec<i16> = r.get(2);
            let plain: bool = r.get(3);
            PgIndex {
                name: r.get(0),
                unique: r.get(1),
                columns: plain.then(|| names_of(&t.columns, &key)),
                definition: r.get(4),
            }
        })
        .collect())
}
