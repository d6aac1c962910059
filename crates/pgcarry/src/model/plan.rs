//! The plan: every decision about a migration, as a value that `plan` prints, the report
//! serialises and `migrate` executes unchanged — per table its columns with the type chosen and
//! why, and every statement the executor will run.
//!
//! The planner (`carry::plan`) fills it; nothing here decides anything.

use super::types::{PgType, ReadAs};
use serde::{Deserialize, Serialize};

/// Everything `migrate` will do, decided.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// The source, as given.
    pub source: String,
    /// The PostgreSQL schema tables go into.
    pub schema: String,
    pub tables: Vec<TablePlan>,
    /// `CREATE SCHEMA IF NOT EXISTS`, the first statement of the preflight.
    #[serde(default)]
    pub create_schema: String,
    /// The order tables load in (indexes into `tables`): largest first, so the last one to
    /// finish is a small one. Their keys and indexes follow in the same order, then their
    /// foreign keys.
    #[serde(default)]
    pub load_order: Vec<usize>,
    /// `CREATE VIEW` steps, after every table's foreign keys, each after the views it reads.
    #[serde(default)]
    pub views: Vec<Step>,
    /// Source objects not migrated, with the reason (views, triggers, virtual tables…).
    pub skipped: Vec<super::schema::Skipped>,
    pub warnings: Vec<Warning>,
    /// Foreign keys not created because rows reference missing parents (`--orphans`).
    #[serde(default)]
    pub orphans: Vec<OrphanReport>,
    /// JSON stores: where each table came from, files ignored and files not loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<super::json::JsonSummary>,
    /// A SQLite source's `pgcarry schema` records: how many applied migrations are carried to
    /// `pgcarry.schema_migrations` (the record table itself is not created as a table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_migrations: Option<usize>,
}

/// What to do with rows whose foreign key has no parent row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrphanPolicy {
    /// Load every row, leave that foreign key out, report it (exit 3).
    #[default]
    SkipConstraint,
    /// Refuse before writing anything.
    Fail,
    /// Send each orphan row to the rejects file; create the foreign key.
    Reject,
    /// Set the orphan row's referencing columns to NULL (counted in the report); create the
    /// foreign key. A NOT NULL referencing column sends the row to the rejects file instead.
    Null,
}

/// Rows of a table whose foreign key has no parent, recognised while reading
/// (`--orphans reject|null`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrphanRule {
    /// `book (author_id) → author (id)`.
    pub foreign_key: String,
    /// The referencing columns, as indexes into the table's columns.
    pub columns: Vec<usize>,
    /// The referenced table and columns, source names.
    pub parent_table: String,
    pub parent_columns: Vec<String>,
    /// True: set the referencing columns to NULL; false: reject the row.
    pub null: bool,
    /// The referencing columns' source names: the condition of a rule nested in another
    /// (`parent_rejects`) names them on the parent's row.
    #[serde(default)]
    pub column_names: Vec<String>,
    /// The rules that reject rows of the parent table, nested a few levels deep: a parent row
    /// that is itself rejected is no parent, so its children are orphans too (the cascade).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parent_rejects: Vec<OrphanRule>,
}

impl OrphanRule {
    /// How many rules this one nests, itself included: the cascade's conditions grow with it.
    pub fn size(&self) -> usize {
        1 + self
            .parent_rejects
            .iter()
            .map(OrphanRule::size)
            .sum::<usize>()
    }
}

/// A foreign key that orphan rows keep from being created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrphanReport {
    pub table: String,
    /// `book (author_id) → author (id)`.
    pub foreign_key: String,
    pub rows: u64,
    pub example_rowids: Vec<i64>,
}

impl OrphanReport {
    pub fn describe(&self) -> String {
        let examples = if self.example_rowids.is_empty() {
            String::new()
        } else {
            let ids: Vec<String> = self.example_rowids.iter().map(i64::to_string).collect();
            format!(" (rowid {})", ids.join(", "))
        };
        format!(
            "{} row(s) of {} reference a missing parent{examples}",
            self.rows, self.foreign_key
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TablePlan {
    pub source_name: String,
    /// What the target keeps of the source table for `export` (`pgcarry.sources`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_record: Option<super::source_record::SourceRecord>,
    /// The name in PostgreSQL (the source name, shortened only past 63 bytes).
    pub name: String,
    /// Rows in the source snapshot, as scanned.
    pub rows: u64,
    /// A digest of every source value, as scanned: part of the plan's fingerprint, so a source
    /// edited since an interrupted run is noticed before anything is mixed.
    #[serde(default)]
    pub source_digest: String,
    pub columns: Vec<ColumnPlan>,
    /// `CREATE TABLE` with columns, types, NOT NULL and identity only.
    pub create_sql: String,
    /// The statements that load the table's rows, for each way a run may load it.
    #[serde(default)]
    pub load: LoadSql,
    /// After the load, in order: primary key, unique constraints, indexes, checks, defaults.
    pub post_load: Vec<Step>,
    /// After every table's keys exist.
    pub foreign_keys: Vec<Step>,
    /// The table's triggers, each a PL/pgSQL function and `CREATE TRIGGER` (with the probes
    /// of its statements), created after the views.
    #[serde(default)]
    pub triggers: Vec<Step>,
    pub identity: Option<Identity>,
    /// Sets the identity's sequence past the largest key (a [`StepKind::Sequence`] step that
    /// returns the value the next INSERT without a key gets); after the views.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<Step>,
    /// `ANALYZE` of the table once everything else is done (a [`StepKind::Analyze`] step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analyze: Option<Step>,
    /// Orphan rows to reject or to detach while reading (`--orphans reject|null`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orphan_rules: Vec<OrphanRule>,
    /// A large table loads in key ranges, each committed on its own (`--chunk-rows`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunks: Option<Chunks>,
}

/// The statements that load one table. The rows themselves stream through COPY; the
/// executor composes none of these.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoadSql {
    /// `COPY … FROM STDIN (FORMAT binary, FREEZE)`, into the table its transaction created.
    pub copy_new: String,
    /// `COPY … FROM STDIN (FORMAT binary)`, into a table that exists (emptied, or loaded in
    /// part by an earlier run).
    pub copy_existing: String,
    /// `--if-exists upsert`; `None` when the table has no primary key to upsert by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upsert: Option<UpsertSql>,
    /// `--if-exists truncate`, and `upsert`: a foreign key of the existing table, dropped
    /// before the load (the plan's foreign-key steps recreate it); `{constraint}` stands for
    /// its name, read from the catalog.
    pub drop_foreign_key: String,
    /// `--if-exists truncate`: empties the existing table.
    pub truncate: String,
    /// `--if-exists drop`: drops the existing table.
    pub drop: String,
}

/// `--if-exists upsert`: the source's rows go through a temporary table into the existing
/// one, replacing the rows with the same primary key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpsertSql {
    /// Rows owned by a root row the source has are deleted first (a document's child rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned: Option<OwnedSql>,
    /// `CREATE TEMP TABLE pgcarry_upsert (LIKE …) ON COMMIT DROP`.
    pub temp_table: String,
    /// `COPY pgcarry_upsert … FROM STDIN (FORMAT binary)`.
    pub copy: String,
    /// `INSERT … SELECT … FROM pgcarry_upsert ON CONFLICT (key) DO UPDATE …`.
    pub insert: String,
}

/// Deleting the rows of a table owned by the root rows the source has, before an upsert: so
/// that rows the source no longer has (an array that shrank) do not linger.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnedSql {
    /// The root table (source name) whose keys are read from the source.
    pub root: String,
    /// The root's key columns, source names, in the order of the temporary table's columns.
    pub root_key: Vec<String>,
    /// `CREATE TEMP TABLE pgcarry_owners … WITH NO DATA`.
    pub temp_table: String,
    /// `COPY pgcarry_owners … FROM STDIN (FORMAT binary)`.
    pub copy: String,
    /// `DELETE FROM … WHERE (prefix) IN (SELECT … FROM pgcarry_owners)`.
    pub delete: String,
}

/// Key ranges of a large table's integer key (its rowid alias), in order, covering every
/// key: each range loads and commits in its own transaction, so an interrupted load resumes
/// after the last committed range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunks {
    /// The key column, as an index into the table's columns.
    pub column: usize,
    /// Inclusive `(lo, hi)` bounds; the first starts at `i64::MIN`, the last ends at `i64::MAX`.
    pub ranges: Vec<(i64, i64)>,
}

impl Chunks {
    /// About `chunk_rows` rows per range for `rows` keys spread over `min..=max`, or `None`
    /// when one range would do.
    pub fn split(column: usize, rows: u64, min: i64, max: i64, chunk_rows: u64) -> Option<Chunks> {
        if chunk_rows == 0 || rows <= chunk_rows || max <= min {
            return None;
        }
        let n = rows.div_ceil(chunk_rows);
        let span = i128::from(max) - i128::from(min) + 1;
        let width = (span / i128::from(n)).max(1);
        let mut ranges = Vec::new();
        let mut lo = i128::from(i64::MIN);
        let mut bound = i128::from(min);
        for k in 0..n {
            bound += width;
            let hi = if k + 1 == n {
                i128::from(i64::MAX)
            } else {
                bound - 1
            };
            if hi >= lo {
                ranges.push((
                    i64::try_from(lo).unwrap_or(i64::MIN),
                    i64::try_from(hi).unwrap_or(i64::MAX),
                ));
            }
            lo = hi + 1;
        }
        (ranges.len() > 1).then_some(Chunks { column, ranges })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnPlan {
    pub source_name: String,
    pub name: String,
    pub declared_type: String,
    pub pg_type: PgType,
    pub not_null: bool,
    pub identity: bool,
    /// Why this type: the decision's reason.
    pub reason: String,
    /// Rows the scan already knows will be rejected for this column, and why.
    pub rejects: Option<String>,
    /// How source values are read before encoding (numbers as dates); encode with
    /// `convert::encode_as(&pg_type, read_as, …)`.
    #[serde(default, skip_serializing_if = "ReadAs::is_value")]
    pub read_as: ReadAs,
    /// Opt-in repairs of text PostgreSQL cannot hold, set only on text columns whose scan found
    /// such values; encode with `convert::encode_repaired`.
    #[serde(default, skip_serializing_if = "Repair::is_none")]
    pub repair: Repair,
    /// A generated column PostgreSQL computes: the expression in `CREATE TABLE`. Its values are
    /// read from the source and hashed with the row, but not sent in COPY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    /// The scan already found every text value of this column holdable (valid UTF-8, no NUL)
    /// and, for json/jsonb, a valid document: the load writes such values without checking
    /// them again. Set only where the scan's own decision stands (not under `--config`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scan_checked: bool,
}

/// Opt-in repairs of text PostgreSQL cannot hold (`--strip-nul`, `--replace-invalid-utf8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Repair {
    /// Remove NUL bytes, keeping every other byte.
    #[serde(default)]
    pub strip_nul: bool,
    /// Replace each invalid UTF-8 sequence with U+FFFD.
    #[serde(default)]
    pub replace_invalid_utf8: bool,
}

impl Repair {
    pub fn is_none(&self) -> bool {
        !self.strip_nul && !self.replace_invalid_utf8
    }

    /// The flags, as the user wrote them: `--strip-nul, --replace-invalid-utf8`.
    pub fn flags(&self) -> String {
        let mut v = Vec::new();
        if self.strip_nul {
            v.push("--strip-nul");
        }
        if self.replace_invalid_utf8 {
            v.push("--replace-invalid-utf8");
        }
        v.join(", ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    PrimaryKey,
    Unique,
    Index,
    Check,
    Default,
    ForeignKey,
    View,
    /// A translated trigger: its function, the trigger, and the probes of its statements.
    Trigger,
    /// A full-text search column (tsvector) or its GIN index, for an FTS5 table.
    Search,
    /// An identity's sequence set past the largest key.
    Sequence,
    /// `ANALYZE` of a loaded table, so its first queries get plans from real statistics.
    Analyze,
}

/// What to do with tables that already exist in the target schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IfExists {
    /// Refuse, and write nothing.
    #[default]
    Fail,
    /// Keep their definition (it must match the plan), empty them, reload.
    Truncate,
    /// Drop and recreate them.
    Drop,
    /// Keep their definition (it must match the plan) and their rows; insert the source's
    /// rows, replacing those with the same primary key (a JSON store that grew or changed).
    Upsert,
}

impl IfExists {
    /// What the user asked for, or the default for the source: a JSON store upserts (it is
    /// migrated again as it grows); a SQLite file refuses.
    pub fn resolve(asked: Option<IfExists>, json_store: bool) -> IfExists {
        match asked {
            Some(mode) => mode,
            None if json_store => IfExists::Upsert,
            None => IfExists::Fail,
        }
    }
}

/// One statement run after the load.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    pub kind: StepKind,
    /// The constraint or index name, or the column for defaults.
    pub name: String,
    pub sql: String,
}

/// A rowid-alias key that becomes an identity column, and where its sequence must start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identity {
    pub column: String,
    /// The sequence is set past this: max(key) and `sqlite_sequence`, as scanned.
    pub last_value: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Warning {
    pub table: Option<String>,
    pub column: Option<String>,
    pub message: String,
}

/// The width of the widest text in characters (0 for none), for aligned columns of output.
pub(crate) fn widest<'a>(texts: impl IntoIterator<Item = &'a str>) -> usize {
    texts
        .into_iter()
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(0)
}

/// SQL on one line, for warnings and reasons.
pub(crate) fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Plan {
    pub fn table(&self, name: &str) -> Option<&TablePlan> {
        self.tables.iter().find(|t| t.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::Chunks;

    #[test]
    fn chunks_cover_every_key_once_in_order() {
        let c = Chunks::split(0, 250, 1, 250, 100).unwrap();
        assert_eq!(c.ranges, [(i64::MIN, 83), (84, 166), (167, i64::MAX)]);
        assert!(Chunks::split(0, 100, 1, 100, 100).is_none());
        assert!(Chunks::split(0, 500, 1, 500, 0).is_none());
        // Sparse or extreme keys still give contiguous ranges.
        let c = Chunks::split(0, 3, i64::MIN, i64::MAX, 1).unwrap();
        assert_eq!(c.ranges.first().unwrap().0, i64::MIN);
        assert_eq!(c.ranges.last().unwrap().1, i64::MAX);
        for w in c.ranges.windows(2) {
            assert_eq!(w[0].1 + 1, w[1].0);
        }
    }
}
