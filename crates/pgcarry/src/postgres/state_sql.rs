//! The statements that keep pgcarry's state in the target, in its `pgcarry` schema: which
//! tables and views pgcarry created (or was told to adopt), and which tables of which plan
//! are loaded (or loaded through which key). Only the text of the
//! statements lives here, so that `plan --sql` can list them; `carry::execute::resume` runs
//! them. Values are always bind parameters (`$1`…), never spliced in.

/// The schema that holds the state (never a target schema).
pub const SCHEMA: &str = "pgcarry";

/// Creates the state tables when missing (one batch, run before anything else).
pub const SETUP: &str = "CREATE SCHEMA IF NOT EXISTS pgcarry;
CREATE TABLE IF NOT EXISTS pgcarry.loaded_tables (
    target_schema text NOT NULL,
    table_name text NOT NULL,
    fingerprint text NOT NULL,
    rows_read bigint NOT NULL,
    rows_written bigint NOT NULL,
    rows_rejected bigint NOT NULL,
    bytes bigint NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_schema, table_name)
);
ALTER TABLE pgcarry.loaded_tables ADD COLUMN IF NOT EXISTS repaired text NOT NULL DEFAULT '[]';
ALTER TABLE pgcarry.loaded_tables ADD COLUMN IF NOT EXISTS loaded_through bigint;
CREATE TABLE IF NOT EXISTS pgcarry.created (
    target_schema text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    relid oid NOT NULL,
    source text NOT NULL,
    adopted boolean NOT NULL,
    grants text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_schema, name)
);
CREATE TABLE IF NOT EXISTS pgcarry.sources (
    target_schema text NOT NULL,
    table_name text NOT NULL,
    record jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_schema, table_name)
);
INSERT INTO pgcarry.created (target_schema, name, kind, relid, source, adopted, grants)
SELECT l.target_schema, l.table_name, 'table', c.oid, 'loaded by an earlier pgcarry', false, '{}'
FROM pgcarry.loaded_tables l
JOIN pg_namespace n ON n.nspname = l.target_schema
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = l.table_name
WHERE NOT EXISTS (SELECT 1 FROM pgcarry.created)
ON CONFLICT DO NOTHING";

/// Records that pgcarry created (or, `$5` true, adopted) table or view `$2` of schema `$1`
/// (`$3`: `table` or `view`) from source `$4`, with the grants it had then (default
/// privileges; none for an adopted table), so that grants added later are told apart. Run in the transaction that
/// creates it; the object's identity is its oid, so a same-named object made by someone else
/// after a drop is not taken for pgcarry's.
pub const RECORD_CREATED: &str = "INSERT INTO pgcarry.created \
     (target_schema, name, kind, relid, source, adopted, grants) \
     SELECT $1, $2, $3, c.oid, $4, $5, CASE WHEN $5 THEN '{}'::text[] ELSE \
     ARRAY(SELECT a.grantee::text || ':' || a.privilege_type FROM aclexplode(c.relacl) a) END \
     FROM pg_class c \
     WHERE c.oid = (quote_ident($1) || '.' || quote_ident($2))::regclass \
     ON CONFLICT (target_schema, name) DO UPDATE SET kind = excluded.kind, \
     relid = excluded.relid, source = excluded.source, adopted = excluded.adopted, \
     grants = excluded.grants, created_at = now()";

/// Keeps what `export` needs to give table `$2` of schema `$1` back as its source had it
/// (`$3`, a `SourceRecord` as JSON text), in the transaction that creates the table.
pub const RECORD_SOURCE: &str = "INSERT INTO pgcarry.sources (target_schema, table_name, record) \
     VALUES ($1, $2, $3::text::jsonb) ON CONFLICT (target_schema, table_name) \
     DO UPDATE SET record = excluded.record, recorded_at = now()";

/// The records of schema `$1`'s tables, when the state tables exist.
pub const SOURCES: &str = "SELECT table_name, record::text FROM pgcarry.sources \
     WHERE target_schema = $1";

/// What pgcarry created in schema `$1`: name, kind, oid, adopted, grants at creation.
pub const CREATED: &str = "SELECT name, kind, relid, adopted, grants FROM pgcarry.created \
     WHERE target_schema = $1";

/// What is recorded for one table, as [`LOADED`] and [`PARTIAL`] read it.
const COLUMNS: &str = "SELECT table_name, fingerprint, rows_read, rows_written, rows_rejected, \
     bytes, repaired, loaded_through FROM pgcarry.loaded_tables";

/// The tables an earlier run loaded into schema `$1`.
pub fn loaded() -> String {
    format!("{COLUMNS} WHERE target_schema = $1")
}

/// What this plan (`$3`) recorded for table `$2` of schema `$1`, when it is loaded in part.
pub fn partial() -> String {
    format!(
        "{COLUMNS} WHERE target_schema = $1 AND table_name = $2 AND fingerprint = $3 \
         AND loaded_through IS NOT NULL"
    )
}

/// Records how far a table is loaded, in the transaction that loaded it.
pub const RECORD: &str = "INSERT INTO pgcarry.loaded_tables \
     (target_schema, table_name, fingerprint, rows_read, rows_written, rows_rejected, bytes, \
     repaired, loaded_through) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (target_schema, table_name) DO UPDATE SET fingerprint = excluded.fingerprint, \
     rows_read = excluded.rows_read, rows_written = excluded.rows_written, \
     rows_rejected = excluded.rows_rejected, bytes = excluded.bytes, \
     repaired = excluded.repaired, loaded_through = excluded.loaded_through, \
     loaded_at = now()";

/// Forgets what was recorded for tables `$2` of schema `$1` (they are loaded again).
pub const FORGET: &str =
    "DELETE FROM pgcarry.loaded_tables WHERE target_schema = $1 AND table_name = ANY($2)";
