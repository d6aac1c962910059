//! Keys and sequences: every identity, serial or owned sequence must hand out a value past the
//! largest key (`is_called` taken into account), be as wide as its column, and not run out of
//! range soon; every table should have a primary key.

use super::check::{Ctx, USER_SCHEMA, object, per_object};
use super::finding::{Category, Finding, Level};
use crate::postgres::ident::{qualified, quote_ident, quote_literal};

/// A share of a key's range at which the key is a warning, and an error.
const RANGE_WARNING: f64 = 0.75;
const RANGE_ERROR: f64 = 0.90;

/// A sequence that a column owns (identity, serial or `OWNED BY`).
struct Owned {
    seq_schema: String,
    seq_name: String,
    schema: String,
    table: String,
    column: String,
    /// The column's type: `int2`, `int4`, `int8`.
    column_type: String,
    /// The sequence's type, same spelling.
    seq_type: String,
    increment: i64,
    max_value: i64,
    table_oid: u32,
}

impl Owned {
    fn seq(&self) -> String {
        qualified(&self.seq_schema, &self.seq_name)
    }
    fn table_sql(&self) -> String {
        qualified(&self.schema, &self.table)
    }
    fn column_object(&self) -> String {
        format!("{}.{}", object(&self.schema, &self.table), self.column)
    }
}

/// The largest value of an integer type.
fn type_max(typname: &str) -> i64 {
    match typname {
        "int2" => i64::from(i16::MAX),
        "int4" => i64::from(i32::MAX),
        _ => i64::MAX,
    }
}

/// The SQL spelling of an integer type.
fn type_sql(typname: &str) -> &'static str {
    match typname {
        "int2" => "smallint",
        "int4" => "integer",
        _ => "bigint",
    }
}

fn owned_sequences(ctx: &mut Ctx<'_>) -> Result<Vec<Owned>, postgres::Error> {
    let sql = format!(
        "SELECT sn.nspname::text, s.relname::text, n.nspname::text, t.relname::text, \
                a.attname::text, ty.typname::text, sty.typname::text, q.seqincrement, q.seqmax, \
                t.oid \
         FROM pg_depend d \
         JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' \
         JOIN pg_namespace sn ON sn.oid = s.relnamespace \
         JOIN pg_sequence q ON q.seqrelid = s.oid \
         JOIN pg_type sty ON sty.oid = q.seqtypid \
         JOIN pg_class t ON t.oid = d.refobjid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid \
         JOIN pg_type ty ON ty.oid = a.atttypid \
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass \
           AND d.deptype IN ('a', 'i') AND ty.typname IN ('int2', 'int4', 'int8') \
           AND {USER_SCHEMA} \
         ORDER BY n.nspname, t.relname, a.attnum"
    );
    let rows = ctx.client.query(&sql, &[])?;
    Ok(rows
        .iter()
        .map(|r| Owned {
            seq_schema: r.get(0),
            seq_name: r.get(1),
            schema: r.get(2),
            table: r.get(3),
            column: r.get(4),
            column_type: r.get(5),
            seq_type: r.get(6),
            increment: r.get(7),
            max_value: r.get(8),
            table_oid: r.get(9),
        })
        .collect())
}

/// Where a sequence stands: its next value and the column's largest value.
struct Position {
    next: i64,
    is_called: bool,
    last_value: i64,
    max: Option<i64>,
}

fn position(ctx: &mut Ctx<'_>, o: &Owned) -> Result<Position, postgres::Error> {
    let row = ctx.client.query_one(
        &format!(
            "SELECT s.last_value, s.is_called, (SELECT max({})::int8 FROM {}) FROM {} s",
            quote_ident(&o.column),
            o.table_sql(),
            o.seq()
        ),
        &[],
    )?;
    let (last_value, is_called): (i64, bool) = (row.get(0), row.get(1));
    let next = if is_called {
        last_value.saturating_add(o.increment)
    } else {
        last_value
    };
    Ok(Position {
        next,
        is_called,
        last_value,
        max: row.get(2),
    })
}

/// Every owned sequence: behind the column's largest value, narrower than the column, or
/// past a share of its range.
pub fn sequences(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let mut out = Vec::new();
    for o in owned_sequences(ctx)? {
        let at = match position(ctx, &o) {
            Ok(at) => at,
            Err(e) => {
                ctx.unreadable("sequences", Category::Keys, &o.column_object(), e)?;
                continue;
            }
        };
        out.extend(behind(&o, &at));
        out.extend(narrower(&o));
        let used = at.max.unwrap_or(0).max(at.next.saturating_sub(1));
        let limit = o.max_value.min(type_max(&o.column_type));
        let remedy = widen_sql(&o);
        if let Some(f) = range_finding(ctx, &o.column_object(), o.table_oid, used, limit)? {
            out.push(f.sql(remedy, false));
        }
    }
    Ok(out)
}

/// The finding for a sequence whose next value is a key already taken.
fn behind(o: &Owned, at: &Position) -> Option<Finding> {
    let max = at.max?;
    if o.increment <= 0 || at.next > max {
        return None;
    }
    let how = if at.is_called {
        format!("last_value {} and is_called true", at.last_value)
    } else {
        format!(
            "last_value {} and is_called false: nextval returns {} itself",
            at.last_value, at.last_value
        )
    };
    let detail = format!(
        "sequence {} hands out {} next ({how}), but {} already holds values up to {max}: the \
         next INSERT that relies on the default fails with a duplicate key (or takes an id \
         that is in use)",
        object(&o.seq_schema, &o.seq_name),
        at.next,
        o.column_object()
    );
    let sql = format!(
        "SELECT setval({}, (SELECT max({}) FROM {}));",
        quote_literal(&o.seq()),
        quote_ident(&o.column),
        o.table_sql()
    );
    Some(
        Finding::new(
            "sequence_behind_max",
            Level::Error,
            Category::Keys,
            o.column_object(),
            detail,
        )
        .sql(sql, true),
    )
}

/// The finding for a sequence of a narrower type than its column.
fn narrower(o: &Owned) -> Option<Finding> {
    if type_max(&o.seq_type) >= type_max(&o.column_type) {
        return None;
    }
    let detail = format!(
        "sequence {} is {} (it ends at {}) but {} is {}: inserts fail once the sequence ends, \
         long before the column is full",
        object(&o.seq_schema, &o.seq_name),
        type_sql(&o.seq_type),
        o.max_value,
        o.column_object(),
        type_sql(&o.column_type)
    );
    Some(
        Finding::new(
            "sequence_narrower_than_column",
            Level::Warning,
            Category::Keys,
            o.column_object(),
            detail,
        )
        .sql(
            format!(
                "ALTER SEQUENCE {} AS {};",
                o.seq(),
                type_sql(&o.column_type)
            ),
            false,
        ),
    )
}

/// What widens a key and its sequence to bigint (rewrites the table: plan a window for it).
fn widen_sql(o: &Owned) -> String {
    if o.column_type == "int8" {
        return format!(
            "-- {} is bigint already: archive or re-key rows; nothing wider exists",
            o.column_object()
        );
    }
    format!(
        "ALTER TABLE {} ALTER COLUMN {} TYPE bigint; -- rewrites the table under an exclusive lock\n\
         ALTER SEQUENCE {} AS bigint;",
        o.table_sql(),
        quote_ident(&o.column),
        o.seq()
    )
}

/// A key that used `used` of its range up to `limit`: a warning past 75 %, an error past
/// 90 %, with the days left at the table's insert rate when the statistics allow.
fn range_finding(
    ctx: &mut Ctx<'_>,
    column: &str,
    table_oid: u32,
    used: i64,
    limit: i64,
) -> Result<Option<Finding>, postgres::Error> {
    if limit <= 0 || used <= 0 {
        return Ok(None);
    }
    let share = used as f64 / limit as f64;
    let level = if share >= RANGE_ERROR {
        Level::Error
    } else if share >= RANGE_WARNING {
        Level::Warning
    } else {
        return Ok(None);
    };
    let mut detail = format!(
        "{column} has used {:.1} % of its range ({used} of {limit})",
        share * 100.0
    );
    if let Some(days) = days_left(ctx, table_oid, limit - used)? {
        detail.push_str(&format!(
            "; at the insert rate since the statistics were reset, about {days:.0} days are left"
        ));
    }
    Ok(Some(Finding::new(
        "key_range",
        level,
        Category::Keys,
        column,
        detail,
    )))
}

/// Days until `left` more inserts at the table's rate since the statistics were reset;
/// `None` when they never were (the rate is unknown) or nothing was inserted.
fn days_left(ctx: &mut Ctx<'_>, table_oid: u32, left: i64) -> Result<Option<f64>, postgres::Error> {
    let row = ctx.client.query_opt(
        "SELECT t.n_tup_ins::float8, extract(epoch FROM now() - d.stats_reset)::float8 \
         FROM pg_stat_user_tables t, pg_stat_database d \
         WHERE t.relid = $1 AND d.datname = current_database() AND d.stats_reset IS NOT NULL",
        &[&table_oid],
    )?;
    Ok(row.and_then(|r| {
        let (inserted, seconds): (f64, f64) = (r.get(0), r.get(1));
        (inserted > 0.0 && seconds > 0.0).then(|| left as f64 / (inserted / seconds) / 86_400.0)
    }))
}

/// Single-column smallint and integer primary keys without a sequence (the application
/// assigns them): past a share of their range.
pub fn unsequenced_key_range(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let sql = format!(
        "SELECT n.nspname::text, t.relname::text, a.attname::text, ty.typname::text, t.oid \
         FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = c.conkey[1] \
         JOIN pg_type ty ON ty.oid = a.atttypid \
         WHERE c.contype = 'p' AND cardinality(c.conkey) = 1 AND ty.typname IN ('int2', 'int4') \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.refobjid = t.oid \
                 AND d.refobjsubid = a.attnum AND d.classid = 'pg_class'::regclass \
                 AND d.deptype IN ('a', 'i')) \
           AND {USER_SCHEMA} \
         ORDER BY 1, 2"
    );
    let mut out = Vec::new();
    for r in ctx.client.query(&sql, &[])? {
        let (schema, table, column, typname): (String, String, String, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        let oid: u32 = r.get(4);
        let name = format!("{}.{column}", object(&schema, &table));
        let max = ctx.client.query_one(
            &format!(
                "SELECT max({})::int8 FROM {}",
                quote_ident(&column),
                qualified(&schema, &table)
            ),
            &[],
        );
        let max: Option<i64> = match max {
            Ok(row) => row.get(0),
            Err(e) => {
                ctx.unreadable("key_range", Category::Keys, &name, e)?;
                continue;
            }
        };
        let widen = format!(
            "ALTER TABLE {} ALTER COLUMN {} TYPE bigint; -- rewrites the table under an exclusive lock",
            qualified(&schema, &table),
            quote_ident(&column)
        );
        if let Some(f) = range_finding(ctx, &name, oid, max.unwrap_or(0), type_max(&typname))? {
            out.push(f.sql(widen, false));
        }
    }
    Ok(out)
}

/// Tables without a primary key (logical replication cannot update or delete their rows,
/// and nothing stops duplicate rows).
pub fn no_primary_key(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let sql = format!(
        "SELECT n.nspname::text, t.relname::text FROM pg_class t \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE t.relkind IN ('r', 'p') AND NOT t.relispartition AND {USER_SCHEMA} \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = t.oid AND c.contype = 'p') \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e') \
         ORDER BY 1, 2"
    );
    per_object(ctx, &sql, |schema, table| {
        Finding::new(
            "no_primary_key",
            Level::Warning,
            Category::Keys,
            object(schema, table),
            format!(
                "table {} has no primary key: nothing prevents duplicate rows, and logical \
                 replication cannot apply its UPDATEs and DELETEs",
                object(schema, table)
            ),
        )
        .advice(format!(
            "ALTER TABLE {} ADD PRIMARY KEY (...) on the columns that identify a row \
             (or an identity column: ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY)",
            qualified(schema, table)
        ))
    })
}
