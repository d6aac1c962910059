//! `--config FILE`: the decisions a person overrides after reading `pgcarry plan`, in TOML.
//!
//! ```toml
//! [tables.users]
//! name = "app_users"          # the table's name in PostgreSQL
//!
//! [tables.users.columns.is_pro]
//! type = "boolean"            # any type pgcarry writes: integer, numeric(10,2), varchar(64), jsonb…
//!                             # or "enum": an enum type of the column's CHECK (c IN (…)) labels
//! name = "pro"
//!
//! [tables.users.columns.legacy_hash]
//! skip = true                 # not migrated; indexes and foreign keys over it are left out
//!
//! [tables.orders.columns.total]
//! generated = false           # keep a generated column's values instead of PostgreSQL computing it
//!
//! [tables.sqlite_stat_copy]
//! skip = true                 # not migrated (reported)
//! ```
//!
//! Names are matched as SQLite matches them (ASCII case-insensitively). A configured type is
//! used as given: values it cannot hold exactly send their rows to the rejects file, never
//! rounded or cut. Unknown tables, columns or types are errors, so a typo never passes
//! silently.

use super::schema::{Skipped, SourceSchema};
use super::types::{MAX_NUMERIC_PRECISION, MAX_VARCHAR, PgType};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub tables: BTreeMap<String, TableConfig>,
    /// JSON stores only: collections by path pattern (`data/{user_id}/{id}.json`).
    #[serde(default)]
    pub collections: BTreeMap<String, CollectionConfig>,
    /// Where it was read from, for reasons and errors.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableConfig {
    pub name: Option<String>,
    #[serde(default)]
    pub skip: bool,
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnConfig {
    #[serde(rename = "type")]
    pub pg_type: Option<String>,
    pub name: Option<String>,
    /// Not migrated (reported); indexes and foreign keys over it are left out, named.
    #[serde(default)]
    pub skip: bool,
    /// `generated = false`: a generated column keeps SQLite's values in a plain column instead
    /// of being computed by PostgreSQL.
    pub generated: Option<bool>,
}

/// `[collections.conversations] pattern = "data/{user_id}/{id}.json"`: the files of one
/// collection of a JSON store; `{name}` captures a path segment (or part of one) as a column,
/// `*` matches a segment without capturing it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionConfig {
    pub pattern: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.path = Some(path.to_path_buf());
        for (table, t) in &config.tables {
            for (column, c) in &t.columns {
                if let Some(ty) = c.pg_type.as_ref().filter(|t| !is_enum(t)) {
                    parse_type(ty).map_err(|message| ConfigError::Invalid {
                        path: path.to_path_buf(),
                        message: format!("tables.{table}.columns.{column}.type: {message}"),
                    })?;
                }
            }
        }
        Ok(config)
    }

    /// The settings of a source table, if any.
    pub fn table(&self, name: &str) -> Option<&TableConfig> {
        self.tables
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Names in the file that match nothing in the source: each is an error to report.
    pub fn unknown_names(&self, tables: &[(String, Vec<String>)]) -> Vec<String> {
        let mut unknown = Vec::new();
        for (name, t) in &self.tables {
            match tables.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                None => unknown.push(format!("table {name:?}")),
                Some((_, cols)) => {
                    for c in t.columns.keys() {
                        if !cols.iter().any(|x| x.eq_ignore_ascii_case(c)) {
                            unknown.push(format!("column {name:?}.{c:?}"));
                        }
                    }
                }
            }
        }
        unknown
    }

    /// Removes the columns the config skips from `schema`, with every index and foreign key
    /// that reads one (in either table of the key); returns what was left out, with why. A
    /// primary-key column cannot be skipped: rows would lose their identity.
    pub fn skip_columns(&self, schema: &mut SourceSchema) -> Result<Vec<Skipped>, String> {
        let mut skipped = Vec::new();
        let mut gone: Vec<(String, String)> = Vec::new();
        for t in &mut schema.tables {
            let Some(cfg) = self.table(&t.name) else {
                continue;
            };
            let skip = |c: &str| cfg.column(c).is_some_and(|c| c.skip);
            if let Some(k) = t.primary_key.iter().find(|k| skip(k)) {
                return Err(format!(
                    "{}: column {}.{k} is part of the primary key and cannot be skipped",
                    self.source_name(),
                    t.name
                ));
            }
            for c in t.columns.iter().filter(|c| skip(&c.name)) {
                gone.push((t.name.clone(), c.name.clone()));
                skipped.push(Skipped::new(
                    format!("{}.{}", t.name, c.name),
                    format!("column skipped by {}", self.source_name()),
                ));
            }
            t.columns.retain(|c| !skip(&c.name));
        }
        let is_gone = |table: &str, col: &str| {
            gone.iter()
                .any(|(t, c)| t.eq_ignore_ascii_case(table) && c.eq_ignore_ascii_case(col))
        };
        for t in &mut schema.tables {
            let name = t.name.clone();
            t.indexes.retain(|i| {
                let reads = i.columns.iter().find_map(|c| {
                    c.column
                        .as_deref()
                        .filter(|c| is_gone(&name, c))
                        .map(str::to_string)
                });
                if let Some(c) = &reads {
                    skipped.push(Skipped::new(
                        i.name.clone(),
                        format!("index on {name} reads the skipped column {c}"),
                    ));
                }
                reads.is_none()
            });
            t.foreign_keys.retain(|fk| {
                let child = fk.columns.iter().find(|c| is_gone(&name, c));
                let parent = fk.ref_columns.iter().find(|c| is_gone(&fk.ref_table, c));
                let Some(c) = child.or(parent) else {
                    return true;
                };
                skipped.push(Skipped::new(
                    fk.describe(&name),
                    format!("foreign key reads the skipped column {c}"),
                ));
                false
            });
        }
        Ok(skipped)
    }

    pub fn source_name(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "the config".to_string(), |p| p.display().to_string())
    }
}

impl TableConfig {
    pub fn column(&self, name: &str) -> Option<&ColumnConfig> {
        self.columns
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// A type as written in the config: the names pgcarry writes in DDL (and a few aliases).
pub fn parse_type(text: &str) -> Result<PgType, String> {
    let t = text.trim().to_ascii_lowercase();
    let args = |inner: &str| -> Result<Vec<u32>, String> {
        inner
            .split(',')
            .map(|p| {
                p.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("invalid size in {text:?}"))
            })
            .collect()
    };
    if let Some(rest) = t
        .strip_prefix("varchar(")
        .or_else(|| t.strip_prefix("character varying("))
    {
        let inner = rest
            .strip_suffix(')')
            .ok_or_else(|| format!("invalid type {text:?}"))?;
        return match args(inner)?.as_slice() {
            [n] if (1..=MAX_VARCHAR).contains(n) => Ok(PgType::Varchar { max_chars: *n }),
            _ => Err(format!(
                "invalid varchar size in {text:?}: PostgreSQL takes 1 to {MAX_VARCHAR} (text has no limit)"
            )),
        };
    }
    if let Some(rest) = t
        .strip_prefix("numeric(")
        .or_else(|| t.strip_prefix("decimal("))
    {
        let inner = rest
            .strip_suffix(')')
            .ok_or_else(|| format!("invalid type {text:?}"))?;
        return match args(inner)?.as_slice() {
            [p] if (1..=MAX_NUMERIC_PRECISION).contains(p) => Ok(PgType::Numeric {
                precision_scale: Some((*p, 0)),
            }),
            [p, s] if (1..=MAX_NUMERIC_PRECISION).contains(p) && s <= p => Ok(PgType::Numeric {
                precision_scale: Some((*p, *s)),
            }),
            _ => Err(format!(
                "invalid numeric precision in {text:?}: PostgreSQL takes 1 to \
                 {MAX_NUMERIC_PRECISION}, with a scale from 0 to the precision"
            )),
        };
    }
    Ok(match t.as_str() {
        "boolean" | "bool" => PgType::Boolean,
        "smallint" | "int2" => PgType::SmallInt,
        "integer" | "int" | "int4" => PgType::Integer,
        "bigint" | "int8" => PgType::BigInt,
        "numeric" | "decimal" => PgType::Numeric {
            precision_scale: None,
        },
        "double precision" | "float8" => PgType::DoublePrecision,
        "text" => PgType::Text,
        "bytea" => PgType::Bytea,
        "date" => PgType::Date,
        "timestamp" | "timestamp without time zone" => PgType::Timestamp,
        "timestamptz" | "timestamp with time zone" => PgType::Timestamptz,
        "time" => PgType::Time,
        "jsonb" => PgType::Jsonb,
        "json" => PgType::Json,
        "uuid" => PgType::Uuid,
        "real" | "float4" => {
            return Err("real would round doubles; use double precision or numeric".into());
        }
        _ => return Err(format!("unknown or unsupported type {text:?}")),
    })
}

/// `type = "enum"`: a PostgreSQL enum type from the column's `CHECK (c IN (…))`.
pub fn is_enum(ty: &str) -> bool {
    ty.trim().eq_ignore_ascii_case("enum")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        assert_eq!(
            parse_type("VARCHAR(64)"),
            Ok(PgType::Varchar { max_chars: 64 })
        );
        assert_eq!(
            parse_type("numeric(10, 2)"),
            Ok(PgType::Numeric {
                precision_scale: Some((10, 2))
            })
        );
        assert_eq!(parse_type("timestamptz"), Ok(PgType::Timestamptz));
        assert!(parse_type("real").is_err());
        assert!(parse_type("money").is_err());
        assert!(parse_type("varchar(0)").is_err());
        assert!(parse_type("varchar(10485761)").is_err());
        assert!(parse_type("numeric(1001, 2)").is_err());
    }

    #[test]
    fn files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[tables.Users]\nname = \"app_users\"\n[tables.Users.columns.is_pro]\ntype = \"boolean\"\n",
        )
        .unwrap();
        let c = Config::load(&p).unwrap();
        let t = c.table("users").unwrap();
        assert_eq!(t.name.as_deref(), Some("app_users"));
        assert_eq!(
            t.column("IS_PRO").unwrap().pg_type.as_deref(),
            Some("boolean")
        );
        let unknown = c.unknown_names(&[("users".into(), vec!["id".into()])]);
        assert_eq!(unknown, ["column \"Users\".\"is_pro\""]);
        std::fs::write(&p, "[tables.users]\nnmae = \"x\"\n").unwrap();
        assert!(Config::load(&p).is_err(), "a typo in a key is an error");
        std::fs::write(&p, "[tables.users.columns.x]\ntype = \"float4\"\n").unwrap();
        assert!(Config::load(&p).is_err());
    }
}
