//! Integrity: constraints left NOT VALID, indexes left INVALID by a failed build, foreign keys
//! whose referencing columns no index leads with, duplicate and redundant indexes, indexes
//! never used since the statistics began.

use super::check::{Ctx, USER_SCHEMA, object};
use super::finding::{Category, Finding, Level};
use crate::postgres::ident::{pg_name, qualified, quote_ident};

/// Statistics younger than this say nothing about an index being unused.
const UNUSED_MIN_DAYS: f64 = 7.0;

/// Constraints added `NOT VALID` and never validated: old rows were never checked.
pub fn not_valid(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let sql = format!(
        "SELECT n.nspname::text, t.relname::text, c.conname::text, pg_get_constraintdef(c.oid) \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE NOT c.convalidated AND {USER_SCHEMA} ORDER BY 1, 2, 3"
    );
    Ok(ctx
        .client
        .query(&sql, &[])?
        .iter()
        .map(|r| {
            let (schema, table, name, def): (String, String, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            let table_name = object(&schema, &table);
            Finding::new(
                "not_valid_constraint",
                Level::Warning,
                Category::Integrity,
                format!("{table_name}.{name}"),
                format!(
                    "constraint {name} on {table_name} ({def}) was never validated: rows that \
                     existed when it was added may break it"
                ),
            )
            .sql(
                format!(
                    "ALTER TABLE {} VALIDATE CONSTRAINT {}; -- scans the table; fails if a row breaks it",
                    qualified(&schema, &table),
                    quote_ident(&name)
                ),
                false,
            )
        })
        .collect())
}

/// Indexes left INVALID by a failed `CREATE INDEX CONCURRENTLY` or `REINDEX`: queries do not
/// use them, writes still pay for them, and a unique one enforces nothing.
pub fn invalid_indexes(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let sql = format!(
        "SELECT n.nspname::text, ic.relname::text, t.relname::text, pg_get_indexdef(i.indexrelid) \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = ic.relnamespace \
         WHERE NOT i.indisvalid AND {USER_SCHEMA} ORDER BY 1, 2"
    );
    Ok(ctx
        .client
        .query(&sql, &[])?
        .iter()
        .map(|r| {
            let (schema, index, table, def): (String, String, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            Finding::new(
                "invalid_index",
                Level::Error,
                Category::Integrity,
                object(&schema, &index),
                format!(
                    "index {} on {} is INVALID (a concurrent build or reindex failed, or is \
                     still running): queries ignore it and a unique index enforces nothing. \
                     Definition: {def}",
                    object(&schema, &index),
                    table
                ),
            )
            .sql(
                format!(
                    "REINDEX INDEX CONCURRENTLY {}; -- or DROP INDEX CONCURRENTLY it; a unique \
                     index fails again until its duplicates are removed",
                    qualified(&schema, &index)
                ),
                false,
            )
        })
        .collect())
}

/// Foreign keys whose referencing columns no valid index starts with (in any order): every
/// DELETE or key UPDATE on the parent scans the child table.
pub fn unindexed_foreign_keys(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let sql = format!(
        "SELECT n.nspname::text, t.relname::text, c.conname::text, \
                array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord) \
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
                      ORDER BY k.ord), \
                c.confrelid::regclass::text \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE c.contype = 'f' AND {USER_SCHEMA} \
           AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid \
                 AND i.indisvalid AND i.indpred IS NULL \
                 AND i.indnkeyatts >= cardinality(c.conkey) \
                 AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey \
                 AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey) \
         ORDER BY 1, 2, 3"
    );
    Ok(ctx
        .client
        .query(&sql, &[])?
        .iter()
        .map(|r| {
            let (schema, table, name, columns, parent): (
                String,
                String,
                String,
                Vec<String>,
                String,
            ) = (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
            let index = pg_name(&format!("{table}_{}_idx", columns.join("_")));
            let quoted: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
            let table_name = object(&schema, &table);
            Finding::new(
                "fk_without_index",
                Level::Warning,
                Category::Integrity,
                format!("{table_name}.{name}"),
                format!(
                    "foreign key {name} of {table_name} ({}) references {parent}, but no index \
                     starts with its columns: each DELETE or key UPDATE on {parent} scans \
                     {table_name}, and joins on the key cannot use an index",
                    columns.join(", ")
                ),
            )
            .sql(
                format!(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({});",
                    quote_ident(&index),
                    qualified(&schema, &table),
                    quoted.join(", ")
                ),
                true,
            )
        })
        .collect())
}

/// Indexes identical to another one on the same table (same columns, operator classes,
/// collations, sort orders, method; neither has expressions or a predicate), and plain btree indexes whose columns lead another one.
pub fn duplicate_indexes(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let sql = format!(
        "WITH ix AS (\
           SELECT i.*, n.nspname::text AS schema, ic.relname::text AS index, \
                  t.relname::text AS tbl, ic.relam, \
                  EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) AS backs \
           FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
           JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
           WHERE i.indisvalid AND {USER_SCHEMA}) \
         SELECT a.schema, a.index, a.tbl, b.index, \
                (a.indkey::text = b.indkey::text AND a.indnkeyatts = b.indnkeyatts) AS same \
         FROM ix a JOIN ix b ON a.indrelid = b.indrelid AND a.indexrelid <> b.indexrelid \
              AND a.relam = b.relam \
         WHERE NOT a.backs AND a.indexprs IS NULL AND b.indexprs IS NULL \
           AND a.indpred IS NULL AND b.indpred IS NULL \
           AND (a.indclass::oid[])[0:a.indnkeyatts - 1] = (b.indclass::oid[])[0:a.indnkeyatts - 1] \
           AND (a.indcollation::oid[])[0:a.indnkeyatts - 1] = (b.indcollation::oid[])[0:a.indnkeyatts - 1] \
           AND (a.indoption::int2[])[0:a.indnkeyatts - 1] = (b.indoption::int2[])[0:a.indnkeyatts - 1] \
           AND ((a.indkey::text = b.indkey::text AND a.indnkeyatts = b.indnkeyatts \
                 AND (b.backs OR (b.indisunique AND NOT a.indisunique) \
                      OR (b.indisunique = a.indisunique AND b.index < a.index))) \
             OR (NOT a.indisunique AND a.indnkeyatts < b.indnkeyatts \
                 AND a.indnkeyatts = cardinality(a.indkey::int2[]) \
                 AND a.relam = (SELECT oid FROM pg_am WHERE amname = 'btree') \
                 AND (a.indkey::int2[])[0:a.indnkeyatts - 1] = (b.indkey::int2[])[0:a.indnkeyatts - 1])) \
         ORDER BY 1, 2, 5 DESC, 4"
    );
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for r in ctx.client.query(&sql, &[])? {
        let (schema, index, table, other, same): (String, String, String, String, bool) =
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
        if !seen.insert(index.clone()) {
            continue;
        }
        let name = object(&schema, &index);
        let (check, level, detail) = if same {
            (
                "duplicate_index",
                Level::Warning,
                format!(
                    "index {name} on {table} is identical to {other}: every write maintains \
                     both, and queries use one"
                ),
            )
        } else {
            (
                "redundant_index",
                Level::Info,
                format!(
                    "index {name} on {table} covers the leading columns of {other}, which \
                     serves the same lookups"
                ),
            )
        };
        out.push(
            Finding::new(check, level, Category::Integrity, name, detail).sql(
                format!(
                    "DROP INDEX CONCURRENTLY IF EXISTS {};",
                    qualified(&schema, &index)
                ),
                false,
            ),
        );
    }
    Ok(out)
}

/// Indexes not scanned once since the statistics began (at least a week ago), that back no
/// constraint and are not unique.
pub fn unused_indexes(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let age: f64 = ctx
        .client
        .query_one(
            "SELECT extract(epoch FROM now() - coalesce(\
               (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()), \
               pg_postmaster_start_time()))::float8 / 86400",
            &[],
        )?
        .get(0);
    if age < UNUSED_MIN_DAYS {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT n.nspname::text, s.indexrelname::text, s.relname::text, \
                pg_size_pretty(pg_relation_size(s.indexrelid)) \
         FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid \
         JOIN pg_namespace n ON n.nspname = s.schemaname \
         WHERE s.idx_scan = 0 AND NOT i.indisunique AND i.indisvalid AND {USER_SCHEMA} \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = s.indexrelid) \
         ORDER BY pg_relation_size(s.indexrelid) DESC, 1, 2"
    );
    Ok(ctx
        .client
        .query(&sql, &[])?
        .iter()
        .map(|r| {
            let (schema, index, table, size): (String, String, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            Finding::new(
                "unused_index",
                Level::Info,
                Category::Integrity,
                object(&schema, &index),
                format!(
                    "index {} on {table} ({size}) was never scanned in the {age:.0} days the \
                     statistics cover (on this server; replicas keep their own)",
                    object(&schema, &index)
                ),
            )
            .sql(
                format!(
                    "DROP INDEX CONCURRENTLY IF EXISTS {};",
                    qualified(&schema, &index)
                ),
                false,
            )
        })
        .collect())
}
