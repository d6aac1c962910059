//! PostgreSQL column types pgcarry can choose, and the decision that chose one.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest `varchar(n)` PostgreSQL accepts (`n` is at least 1).
pub const MAX_VARCHAR: u32 = 10_485_760;
/// The largest precision of PostgreSQL's `numeric(p, s)`.
pub const MAX_NUMERIC_PRECISION: u32 = 1000;

/// A PostgreSQL column type, as pgcarry writes it in DDL and encodes it in binary COPY.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PgType {
    Boolean,
    SmallInt,
    Integer,
    BigInt,
    /// `numeric`, or `numeric(precision, scale)` when every value fits.
    Numeric {
        precision_scale: Option<(u32, u32)>,
    },
    DoublePrecision,
    Text,
    /// `varchar(n)`: n counts characters.
    Varchar {
        max_chars: u32,
    },
    Bytea,
    Date,
    Timestamp,
    Timestamptz,
    Time,
    Jsonb,
    Json,
    Uuid,
    /// A PostgreSQL enum type made from a column's `CHECK (c IN (…))` list, when configured
    /// (`type = "enum"`): `sql_name` is its schema-qualified, quoted name.
    Enum {
        sql_name: String,
        labels: Vec<String>,
    },
}

impl PgType {
    /// The type as written in `CREATE TABLE`.
    pub fn sql(&self) -> String {
        match self {
            PgType::Boolean => "boolean".into(),
            PgType::SmallInt => "smallint".into(),
            PgType::Integer => "integer".into(),
            PgType::BigInt => "bigint".into(),
            PgType::Numeric {
                precision_scale: None,
            } => "numeric".into(),
            PgType::Numeric {
                precision_scale: Some((p, s)),
            } => format!("numeric({p},{s})"),
            PgType::DoublePrecision => "double precision".into(),
            PgType::Text => "text".into(),
            PgType::Varchar { max_chars } => format!("varchar({max_chars})"),
            PgType::Bytea => "bytea".into(),
            PgType::Date => "date".into(),
            PgType::Timestamp => "timestamp".into(),
            PgType::Timestamptz => "timestamptz".into(),
            PgType::Time => "time".into(),
            PgType::Jsonb => "jsonb".into(),
            PgType::Json => "json".into(),
            PgType::Uuid => "uuid".into(),
            PgType::Enum { sql_name, .. } => sql_name.clone(),
        }
    }

    /// True for the integer types (candidates for identity columns).
    pub fn is_integer(&self) -> bool {
        matches!(self, PgType::SmallInt | PgType::Integer | PgType::BigInt)
    }
}

/// How a source value is read before it is encoded: as itself, or as a number that stands for
/// a point in time (the plan decides, from the column's declared type and all its values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadAs {
    #[default]
    Value,
    /// Integers are Unix seconds (UTC).
    UnixSeconds,
    /// Integers are Unix milliseconds (UTC), as Prisma writes them.
    UnixMillis,
    /// Reals (and integers) are Julian day numbers, as SQLite's `julianday()` writes them.
    JulianDay,
}

impl ReadAs {
    pub fn is_value(&self) -> bool {
        *self == ReadAs::Value
    }
}

impl fmt::Display for PgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql())
    }
}
