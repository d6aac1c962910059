//! A finding as a value: which check found it, how bad it is, on what object, what it means
//! and what to run or change to fix it. Everything `doctor` prints is rendered from these.

use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Worth knowing; nothing is wrong yet (or a check could not run for lack of privilege).
    Info,
    /// Will hurt: performance, safety margins, operations.
    Warning,
    /// Wrong now, or about to fail the application.
    Error,
}

impl Level {
    /// All levels, the worst first (the order of the text output).
    pub const WORST_FIRST: [Level; 3] = [Level::Error, Level::Warning, Level::Info];

    /// `error`, `warning`, `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }
}

/// What part of the database a check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Sequences, key ranges, primary keys.
    Keys,
    /// Constraints and indexes.
    Integrity,
    /// ANALYZE, VACUUM, wraparound, autovacuum.
    Maintenance,
    /// Sessions, connections, locks, replication, slow statements.
    Runtime,
    /// TLS, passwords, roles, privileges.
    Security,
    /// `--source`: what `verify` finds between the source and PostgreSQL.
    PostMigration,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Keys => "keys",
            Category::Integrity => "integrity",
            Category::Maintenance => "maintenance",
            Category::Runtime => "runtime",
            Category::Security => "security",
            Category::PostMigration => "post-migration",
        }
    }
}

/// What to do about a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Remediation {
    /// SQL to run. `safe`: `--fix --apply` runs it (it only moves a sequence forward, builds an
    /// index concurrently or refreshes statistics; it never drops, rewrites or locks for long).
    Sql { sql: String, safe: bool },
    /// A server or role setting to change.
    Setting { setting: String },
    /// What a person should look at; no single statement fixes it.
    Advice { text: String },
}

/// One thing a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// `check:object`: stable across runs, for the exclude file.
    pub key: String,
    /// The check's name (`sequence_behind_max`).
    pub check: String,
    pub level: Level,
    pub category: Category,
    /// The object, schema-qualified where it has a schema (`public.users.id`).
    pub object: String,
    /// What is wrong, in a sentence a person understands.
    pub detail: String,
    pub remediation: Option<Remediation>,
}

impl Finding {
    pub fn new(
        check: &str,
        level: Level,
        category: Category,
        object: impl Into<String>,
        detail: impl Into<String>,
    ) -> Finding {
        let object = object.into();
        Finding {
            key: format!("{check}:{object}"),
            check: check.to_string(),
            level,
            category,
            object,
            detail: detail.into(),
            remediation: None,
        }
    }

    /// With SQL that fixes it; `safe` SQL is run by `--fix --apply`.
    pub fn sql(mut self, sql: impl Into<String>, safe: bool) -> Finding {
        self.remediation = Some(Remediation::Sql {
            sql: sql.into(),
            safe,
        });
        self
    }

    /// With a setting to change.
    pub fn setting(mut self, setting: impl Into<String>) -> Finding {
        self.remediation = Some(Remediation::Setting {
            setting: setting.into(),
        });
        self
    }

    /// With advice a person acts on.
    pub fn advice(mut self, text: impl Into<String>) -> Finding {
        self.remediation = Some(Remediation::Advice { text: text.into() });
        self
    }

    /// The fix's SQL, when there is one, and whether `--apply` runs it.
    pub fn fix_sql(&self) -> Option<(&str, bool)> {
        match &self.remediation {
            Some(Remediation::Sql { sql, safe }) => Some((sql, *safe)),
            _ => None,
        }
    }
}
