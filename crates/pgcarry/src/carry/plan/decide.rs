//! Type decisions: the declared type is a hint, the scanned values are the truth.
//!
//! [`hint`] reads what the application meant from the declared type (SQLAlchemy, Django and
//! Rails spellings included); [`decide`] picks the PostgreSQL type that holds every scanned
//! value exactly, and says why. A value that still cannot be held (NUL bytes, invalid UTF-8 in
//! a text column) is left to the rejects file, and the decision says so.

use crate::formats::epoch;
use crate::model::types::{MAX_NUMERIC_PRECISION, MAX_VARCHAR, PgType, ReadAs};
use crate::sqlite::scan::{ColumnStats, Probe};

/// What the declared type says the application meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    Boolean,
    Integer(PgType),
    Real,
    Numeric(Option<(u32, u32)>),
    /// Text; `Some(n)` for VARCHAR(n)/CHAR(n).
    Text(Option<u32>, bool),
    Blob,
    Date,
    DateTime,
    Time,
    Json,
    Uuid,
    /// No declared type, or one SQLite gives NUMERIC affinity without meaning anything.
    Untyped,
}

/// A type decision with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub pg_type: PgType,
    pub reason: String,
    /// Rows that will be rejected in this column, and why (known from the scan).
    pub rejects: Option<String>,
    /// How values are read: numbers as dates when the column says so.
    pub read_as: ReadAs,
}

/// `varchar(n)`, when PostgreSQL accepts that `n`.
fn varchar_size_ok(n: u32) -> bool {
    (1..=MAX_VARCHAR).contains(&n)
}

/// Why a declared size cannot be PostgreSQL's, for reasons.
fn varchar_size_refused(n: u32) -> String {
    format!(
        "PostgreSQL's varchar(n) takes n from 1 to {MAX_VARCHAR}, not {n}, so text (which holds \
         every value) instead"
    )
}

fn size_args(upper: &str) -> Vec<u32> {
    let Some(open) = upper.find('(') else {
        return Vec::new();
    };
    let close = upper[open..].find(')').map_or(upper.len(), |c| open + c);
    upper[open + 1..close]
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect()
}

/// Reads the declared type.
pub fn hint(declared: &str) -> Hint {
    let upper = declared.trim().to_ascii_uppercase();
    let base = upper.split('(').next().unwrap_or("").trim().to_string();
    if base.is_empty() {
        return Hint::Untyped;
    }
    // `NUMERIC TEXT`, `JSON TEXT`: the meaning of the first word with SQLite's TEXT affinity,
    // which keeps the text as written (the JSON stager declares these).
    if let Some(meaning) = base.strip_suffix(" TEXT") {
        let h = hint(meaning);
        if matches!(h, Hint::Numeric(_) | Hint::Json) {
            return h;
        }
    }
    let args = size_args(&upper);
    match base.as_str() {
        "BOOLEAN" | "BOOL" | "BIT" => return Hint::Boolean,
        "DATE" => return Hint::Date,
        "DATETIME" | "TIMESTAMP" | "TIMESTAMPTZ" | "DATETIME2" | "SMALLDATETIME" => {
            return Hint::DateTime;
        }
        "TIME" => return Hint::Time,
        "JSON" | "JSONB" => return Hint::Json,
        "UUID" | "GUID" | "UNIQUEIDENTIFIER" => return Hint::Uuid,
        "BIGINT" | "INT8" | "UNSIGNED BIG INT" => return Hint::Integer(PgType::BigInt),
        "SMALLINT" | "INT2" | "TINYINT" => return Hint::Integer(PgType::SmallInt),
        _ => {}
    }
    if base.contains("TIMESTAMP") {
        return Hint::DateTime;
    }
    if base.contains("INT") {
        return Hint::Integer(PgType::Integer);
    }
    if base.contains("CHAR") || base.contains("CLOB") || base.contains("TEXT") {
        let fixed = base.contains("CHAR") && !base.contains("VAR") && !base.contains("TEXT");
        return Hint::Text(args.first().copied(), fixed);
    }
    if base.contains("BLOB") || base.contains("BINARY") || base == "BYTEA" {
        return Hint::Blob;
    }
    if base.contains("REAL") || base.contains("FLOA") || base.contains("DOUB") {
        return Hint::Real;
    }
    if base.contains("NUMERIC") || base.contains("DECIMAL") || base == "MONEY" {
        let ps = match args.as_slice() {
            [p] if *p >= 1 => Some((*p, 0)),
            [p, s] if *p >= 1 && s <= p => Some((*p, *s)),
            _ => None,
        };
        // PostgreSQL refuses a larger precision: unconstrained numeric holds every value.
        return Hint::Numeric(ps.filter(|(p, _)| *p <= MAX_NUMERIC_PRECISION));
    }
    Hint::Untyped
}

/// Which parser the scan must try on the column's text values.
pub fn probe(h: &Hint) -> Probe {
    match h {
        Hint::Boolean => Probe::Bool,
        Hint::Date | Hint::DateTime => Probe::DateTime,
        Hint::Time => Probe::Time,
        Hint::Json => Probe::Json,
        Hint::Uuid => Probe::Uuid,
        Hint::Numeric(_) => Probe::Decimal,
        _ => Probe::None,
    }
}

fn int_type_for(min: i64, max: i64, at_least: &PgType) -> PgType {
    let need = if i16::try_from(min).is_ok() && i16::try_from(max).is_ok() {
        PgType::SmallInt
    } else if i32::try_from(min).is_ok() && i32::try_from(max).is_ok() {
        PgType::Integer
    } else {
        PgType::BigInt
    };
    if rank(&need) > rank(at_least) {
        need
    } else {
        at_least.clone()
    }
}

/// The one order in which number types widen: each holds every value of those below it.
/// `numeric` without a precision holds any integer; other types are not ranked.
fn rank(t: &PgType) -> Option<u8> {
    match t {
        PgType::SmallInt => Some(0),
        PgType::Integer => Some(1),
        PgType::BigInt => Some(2),
        PgType::Numeric {
            precision_scale: None,
        } => Some(3),
        _ => None,
    }
}

/// True when every value of a column of type `from` converts exactly to type `to`, and `to`
/// is wider: a larger integer type or numeric, or text for varchar(n). What `--if-exists
/// upsert` may change an existing column to when new rows need more room.
pub fn widens(from: &PgType, to: &PgType) -> bool {
    match (rank(from), rank(to)) {
        (Some(a), Some(b)) => a < b,
        _ => matches!((from, to), (PgType::Varchar { .. }, PgType::Text)),
    }
}

fn d(pg_type: PgType, reason: impl Into<String>) -> Decision {
    Decision {
        pg_type,
        reason: reason.into(),
        rejects: None,
        read_as: ReadAs::Value,
    }
}

/// Classes of values present, for reasons: "integer and text".
fn classes(s: &ColumnStats) -> String {
    let mut v = Vec::new();
    for (n, name) in [
        (s.ints, "integer"),
        (s.reals, "real"),
        (s.texts, "text"),
        (s.blobs, "blob"),
    ] {
        if n > 0 {
            v.push(format!("{n} {name}"));
        }
    }
    v.join(", ")
}

/// Picks the type for a column from its declared type and its values.
pub fn decide(declared: &str, s: &ColumnStats) -> Decision {
    let h = hint(declared);
    let declared_txt = if declared.trim().is_empty() {
        "no declared type".to_string()
    } else {
        format!("declared {declared}")
    };
    let mut decision = decide_inner(&h, &declared_txt, s);
    if matches!(h, Hint::Numeric(None))
        && let Some(p) = size_args(&declared.to_ascii_uppercase()).first()
        && *p > MAX_NUMERIC_PRECISION
        && matches!(decision.pg_type, PgType::Numeric { .. })
    {
        decision.reason = format!(
            "{}; PostgreSQL's numeric precision is at most {MAX_NUMERIC_PRECISION}, not {p}, so \
             unconstrained numeric (exact for every value)",
            decision.reason
        );
    }
    if decision.pg_type == PgType::Bytea && s.ints + s.reals > 0 {
        decision.rejects = Some(format!(
            "{} numeric value(s) mixed with blobs: no type holds both exactly, so their rows go to \
             the rejects file",
            s.ints + s.reals
        ));
    }
    if s.text_unholdable > 0 && matches!(decision.pg_type, PgType::Text | PgType::Varchar { .. }) {
        decision.rejects = Some(format!(
            "{} text value(s) hold a NUL byte or invalid UTF-8 (e.g. {:?}); PostgreSQL text cannot \
             hold them, so their rows go to the rejects file",
            s.text_unholdable,
            s.text_unholdable_example.as_deref().unwrap_or("")
        ));
    }
    decision
}

fn only_numbers(s: &ColumnStats) -> bool {
    s.texts == 0 && s.blobs == 0
}

/// The column being decided: its declared type, as reasons quote it, and its scan.
struct Col<'a> {
    declared: &'a str,
    s: &'a ColumnStats,
}

impl Col<'_> {
    /// Every text value parsed as the declared type says.
    fn probe_all(&self) -> bool {
        self.s.probe_ok == self.s.texts
    }

    /// Every integer is one a double holds exactly.
    fn numbers_fit_double(&self) -> bool {
        let s = self.s;
        s.ints == 0 || (s.int_min >= -(1 << 53) && s.int_max <= (1 << 53))
    }

    /// Why the column stays text: some text values are not `what`.
    fn failed(&self, what: &str) -> String {
        format!(
            "{}, but {} text value(s) are not {what} (e.g. {:?}): kept as text",
            self.declared,
            self.s.texts - self.s.probe_ok,
            self.s.probe_failed_example.as_deref().unwrap_or("")
        )
    }
}

fn decide_inner(h: &Hint, declared: &str, s: &ColumnStats) -> Decision {
    let non_null = s.non_null();
    if non_null == 0 {
        let refused = match h {
            Hint::Text(Some(n), _) if !varchar_size_ok(*n) => {
                format!(": {}", varchar_size_refused(*n))
            }
            _ => String::new(),
        };
        return d(
            empty_type(h),
            format!("{declared}; the column holds no values{refused}"),
        );
    }
    if s.blobs > 0 && !matches!(h, Hint::Blob | Hint::Uuid) {
        return d(
            PgType::Bytea,
            format!(
                "{declared}, but it holds blobs ({}): bytea holds their bytes{}",
                classes(s),
                blob_text_note(s)
            ),
        );
    }
    let c = Col { declared, s };
    match h {
        Hint::Boolean => boolean(&c),
        Hint::Integer(width) => integer(&c, width),
        Hint::Real => real(&c),
        Hint::Numeric(ps) => numeric(&c, ps),
        Hint::Text(n, fixed) => text(&c, n, fixed),
        Hint::Blob => blob(&c),
        Hint::Date | Hint::DateTime => date_time(&c, h),
        Hint::Time => time(&c),
        Hint::Json => json(&c),
        Hint::Uuid => uuid(&c),
        Hint::Untyped => untyped(&c),
    }
}

/// A boolean column: 0/1 and true/false, else integers or text.
fn boolean(c: &Col<'_>) -> Decision {
    let (declared, s, probe_all) = (c.declared, c.s, c.probe_all());
    if s.reals == 0 && s.ints_not_bool == 0 && probe_all {
        d(
            PgType::Boolean,
            format!("{declared}; values are 0/1 or true/false"),
        )
    } else if only_numbers(s) && s.reals == 0 {
        d(
            int_type_for(s.int_min, s.int_max, &PgType::SmallInt),
            format!(
                "{declared}, but it holds integers other than 0/1 ({}..{}): kept as integers",
                s.int_min, s.int_max
            ),
        )
    } else {
        d(
            PgType::Text,
            format!(
                "{declared}, but it holds {}: text holds them all",
                classes(s)
            ),
        )
    }
}

/// An integer column: the narrowest integer type, at least as wide as declared, that holds
/// every value.
fn integer(c: &Col<'_>, width: &PgType) -> Decision {
    let (declared, s) = (c.declared, c.s);
    if only_numbers(s) && s.reals == 0 {
        let t = int_type_for(s.int_min, s.int_max, width);
        let why = if &t == width {
            format!("{declared}; values {}..{} fit", s.int_min, s.int_max)
        } else {
            format!(
                "{declared}, widened: values {}..{} do not fit {width}",
                s.int_min, s.int_max
            )
        };
        d(t, why)
    } else if only_numbers(s) {
        d(
            PgType::Numeric {
                precision_scale: None,
            },
            format!("{declared}, but it also holds non-integral reals: numeric holds both exactly"),
        )
    } else {
        d(
            PgType::Text,
            format!(
                "{declared}, but it holds {}: text holds them all",
                classes(s)
            ),
        )
    }
}

/// A floating-point column: double precision, never real; numeric past 2^53.
fn real(c: &Col<'_>) -> Decision {
    let (declared, s, numbers_fit_double) = (c.declared, c.s, c.numbers_fit_double());
    if only_numbers(s) && numbers_fit_double {
        d(
            PgType::DoublePrecision,
            format!("{declared}: double precision keeps every bit (never real)"),
        )
    } else if only_numbers(s) {
        d(
            PgType::Numeric {
                precision_scale: None,
            },
            format!(
                "{declared}, but it holds integers beyond 2^53 that a double would round: numeric"
            ),
        )
    } else {
        d(
            PgType::Text,
            format!(
                "{declared}, but it holds {}: text holds them all",
                classes(s)
            ),
        )
    }
}

/// A decimal column: numeric(p,s) when every value fits, else unconstrained numeric.
fn numeric(c: &Col<'_>, ps: &Option<(u32, u32)>) -> Decision {
    let (declared, s, probe_all) = (c.declared, c.s, c.probe_all());
    let failed = |what: &str| c.failed(what);
    if !probe_all {
        return d(PgType::Text, failed("decimal numbers"));
    }
    match ps {
        Some((p, sc))
            if s.reals_non_finite == 0
                && s.decimal_scale <= *sc
                && s.decimal_int_digits <= p - sc =>
        {
            d(
                PgType::Numeric {
                    precision_scale: Some((*p, *sc)),
                },
                format!("{declared}; every value fits without rounding"),
            )
        }
        Some(_) => d(
            PgType::Numeric {
                precision_scale: None,
            },
            format!(
                "{declared}, but values need {} integer and {} fraction digits (or are NaN/Infinity): \
                 unconstrained numeric, so nothing is rounded",
                s.decimal_int_digits, s.decimal_scale
            ),
        ),
        None => d(
            PgType::Numeric {
                precision_scale: None,
            },
            format!("{declared}: exact numeric"),
        ),
    }
}

/// A text column: varchar(n) when every value fits n (SQLite never enforced it), else text.
fn text(c: &Col<'_>, n: &Option<u32>, fixed: &bool) -> Decision {
    let (declared, s) = (c.declared, c.s);
    let len = s.text_max_chars;
    match n {
        _ if s.ints + s.reals > 0 => d(
            PgType::Text,
            format!(
                "{declared}, holding {}: numbers are kept as their exact text",
                classes(s)
            ),
        ),
        Some(n) if !varchar_size_ok(*n) => d(
            PgType::Text,
            format!("{declared}: {}", varchar_size_refused(*n)),
        ),
        Some(n) if len <= u64::from(*n) => {
            let why = if *fixed {
                format!(
                    "{declared}: varchar({n}), because PostgreSQL's char(n) would pad values with spaces"
                )
            } else {
                format!("{declared}; the longest value has {len} characters")
            };
            d(PgType::Varchar { max_chars: *n }, why)
        }
        Some(n) => d(
            PgType::Text,
            format!(
                "{declared}, but values are up to {len} characters (SQLite never enforced {n}): widened to text"
            ),
        ),
        None => d(PgType::Text, declared.to_string()),
    }
}

/// A blob column: bytea.
fn blob(c: &Col<'_>) -> Decision {
    let (declared, s) = (c.declared, c.s);
    if s.blobs == 0 && s.ints + s.reals > 0 {
        d(
            PgType::Text,
            format!(
                "{declared}, but it holds {}: text holds them all",
                classes(s)
            ),
        )
    } else {
        d(PgType::Bytea, format!("{declared}{}", blob_text_note(s)))
    }
}

/// What the scan saw of blobs that hold text (an application storing JSON documents as
/// BLOBs): a text or jsonb type in `--config` converts their bytes.
fn blob_text_note(s: &ColumnStats) -> String {
    let (blobs, utf8, json) = (s.blobs, s.blobs_utf8, s.blobs_json);
    let every = if s.texts + s.ints + s.reals == 0 {
        "every value"
    } else {
        "every blob"
    };
    if blobs == 0 || utf8 == 0 {
        String::new()
    } else if json == blobs {
        format!(
            "; {every} is valid UTF-8 / JSON: type = \"jsonb\" (or \"text\") in --config \
             converts the bytes"
        )
    } else if utf8 == blobs {
        format!(
            "; {every} is valid UTF-8 ({json} of {blobs} JSON): type = \"text\" in --config \
             converts the bytes"
        )
    } else {
        format!(
            "; {utf8} of {blobs} blobs are valid UTF-8 ({json} JSON): a text or jsonb type in \
             --config converts those and sends the rows of the others to the rejects file"
        )
    }
}

/// A date or timestamp column: ISO text as date, timestamp or timestamptz; numbers as
/// instants.
fn date_time(c: &Col<'_>, h: &Hint) -> Decision {
    let (declared, s, probe_all) = (c.declared, c.s, c.probe_all());
    let failed = |what: &str| c.failed(what);
    if s.texts == 0 {
        return numbers_as_dates(declared, s);
    }
    if s.ints + s.reals > 0 {
        return d(
            PgType::Text,
            format!(
                "{declared}, but it holds {}: text holds them all",
                classes(s)
            ),
        );
    }
    if !probe_all {
        return d(PgType::Text, failed("ISO dates or timestamps"));
    }
    if s.offsets > 0 && s.offsets < s.texts {
        return d(
            PgType::Text,
            format!(
                "{declared}, but {} value(s) carry a UTC offset and {} do not: no single type keeps both \
                 exactly, kept as text",
                s.offsets,
                s.texts - s.offsets
            ),
        );
    }
    if s.offsets > 0 {
        d(
            PgType::Timestamptz,
            format!("{declared}; every value carries a UTC offset: timestamptz"),
        )
    } else if s.naive == 0 && *h == Hint::Date {
        d(
            PgType::Date,
            format!("{declared}; every value is an ISO date"),
        )
    } else {
        d(
            PgType::Timestamp,
            format!("{declared}; every value is an ISO date and time without offset"),
        )
    }
}

/// A time-of-day column.
fn time(c: &Col<'_>) -> Decision {
    let (declared, s, probe_all) = (c.declared, c.s, c.probe_all());
    let failed = |what: &str| c.failed(what);
    if s.ints + s.reals > 0 || !probe_all {
        d(PgType::Text, failed("times of day"))
    } else {
        d(
            PgType::Time,
            format!("{declared}; every value is a time of day"),
        )
    }
}

/// A JSON column: jsonb, or json where jsonb would lose something.
fn json(c: &Col<'_>) -> Decision {
    let (declared, s, probe_all) = (c.declared, c.s, c.probe_all());
    let failed = |what: &str| c.failed(what);
    if !probe_all {
        return d(PgType::Text, failed("valid JSON"));
    }
    if s.reals_non_finite > 0 {
        return d(
            PgType::Text,
            format!("{declared}, but it holds NaN/Infinity reals, which JSON cannot"),
        );
    }
    if s.json_duplicate_keys > 0 || s.json_nul > 0 {
        d(
            PgType::Json,
            format!(
                "{declared}; {} document(s) repeat a key and {} hold \\u0000, which jsonb would lose or \
                 refuse: json keeps the text exactly",
                s.json_duplicate_keys, s.json_nul
            ),
        )
    } else {
        d(
            PgType::Jsonb,
            format!("{declared}; every document is valid JSON"),
        )
    }
}

/// A UUID column: as text or 16-byte blobs.
fn uuid(c: &Col<'_>) -> Decision {
    let (declared, s, probe_all) = (c.declared, c.s, c.probe_all());
    let failed = |what: &str| c.failed(what);
    if s.blobs > 0 && s.blobs_16 == s.blobs && probe_all && s.ints + s.reals == 0 {
        d(
            PgType::Uuid,
            format!("{declared}; every value is a UUID (text or 16-byte blob)"),
        )
    } else if s.blobs > 0 {
        d(
            PgType::Bytea,
            format!("{declared}, but it holds blobs that are not 16-byte UUIDs"),
        )
    } else if probe_all && s.ints + s.reals == 0 {
        d(PgType::Uuid, format!("{declared}; every value is a UUID"))
    } else {
        d(PgType::Text, failed("UUIDs"))
    }
}

/// A column without a meaningful declared type: the values decide.
fn untyped(c: &Col<'_>) -> Decision {
    let (declared, s, numbers_fit_double) = (c.declared, c.s, c.numbers_fit_double());
    if s.texts == 0 && s.reals == 0 {
        d(
            int_type_for(s.int_min, s.int_max, &PgType::Integer),
            format!(
                "{declared}; all values are integers ({}..{})",
                s.int_min, s.int_max
            ),
        )
    } else if s.texts == 0 && numbers_fit_double {
        d(
            PgType::DoublePrecision,
            format!("{declared}; values are numbers, some fractional"),
        )
    } else if s.texts == 0 {
        d(
            PgType::Numeric {
                precision_scale: None,
            },
            format!("{declared}; large integers and reals"),
        )
    } else if s.ints + s.reals > 0 {
        d(
            PgType::Text,
            format!("{declared}, holding {}: text holds them all", classes(s)),
        )
    } else {
        d(PgType::Text, format!("{declared}; values are text"))
    }
}

/// A date column holding only numbers: Unix seconds, Unix milliseconds or Julian days when
/// every value falls in one of the (disjoint) ranges of `convert::epoch`; numbers otherwise.
fn numbers_as_dates(declared: &str, s: &ColumnStats) -> Decision {
    let ints_in = |r: &std::ops::RangeInclusive<i64>| {
        s.ints > 0 && r.contains(&s.int_min) && r.contains(&s.int_max)
    };
    if s.reals == 0 && ints_in(&epoch::UNIX_SECONDS) {
        return Decision {
            read_as: ReadAs::UnixSeconds,
            ..d(
                PgType::Timestamptz,
                format!(
                    "{declared}, holding integers {}..{}: every one is Unix seconds between 1980 and 2100, \
                     read as UTC instants (timestamptz)",
                    s.int_min, s.int_max
                ),
            )
        };
    }
    if s.reals == 0 && ints_in(&epoch::UNIX_MILLIS) {
        return Decision {
            read_as: ReadAs::UnixMillis,
            ..d(
                PgType::Timestamptz,
                format!(
                    "{declared}, holding integers {}..{}: every one is Unix milliseconds between 1980 and \
                     2100, read as UTC instants (timestamptz), exact to the millisecond",
                    s.int_min, s.int_max
                ),
            )
        };
    }
    if s.reals > 0 && s.julian_ok == s.ints + s.reals {
        return Decision {
            read_as: ReadAs::JulianDay,
            ..d(
                PgType::Timestamp,
                format!(
                    "{declared}, holding {}: every one is a Julian day (2400000..2500000) that SQLite \
                     writes for a whole millisecond, read as timestamp",
                    classes(s)
                ),
            )
        };
    }
    let why = if s.reals > 0 {
        format!(
            "{declared}, but it holds numbers ({}) that are not all Julian days SQLite writes for a whole \
             millisecond (2400000..2500000): kept as numbers",
            classes(s)
        )
    } else {
        format!(
            "{declared}, but its integers {}..{} are not all Unix seconds or all Unix milliseconds between \
             1980 and 2100: ambiguous, kept as numbers (not read as dates)",
            s.int_min, s.int_max
        )
    };
    d(int_type_for(s.int_min, s.int_max, &PgType::BigInt), why).numbers_only(s)
}

impl Decision {
    fn numbers_only(self, s: &ColumnStats) -> Decision {
        if s.reals > 0 {
            let numeric = if s.int_min >= -(1 << 53) && s.int_max <= (1 << 53) {
                PgType::DoublePrecision
            } else {
                PgType::Numeric {
                    precision_scale: None,
                }
            };
            Decision {
                pg_type: numeric,
                ..self
            }
        } else {
            self
        }
    }
}

fn empty_type(h: &Hint) -> PgType {
    match h {
        Hint::Boolean => PgType::Boolean,
        Hint::Integer(w) => w.clone(),
        Hint::Real => PgType::DoublePrecision,
        Hint::Numeric(ps) => PgType::Numeric {
            precision_scale: *ps,
        },
        Hint::Text(Some(n), _) if varchar_size_ok(*n) => PgType::Varchar { max_chars: *n },
        Hint::Text(_, _) | Hint::Untyped => PgType::Text,
        Hint::Blob => PgType::Bytea,
        Hint::Date => PgType::Date,
        Hint::DateTime => PgType::Timestamp,
        Hint::Time => PgType::Time,
        Hint::Json => PgType::Jsonb,
        Hint::Uuid => PgType::Uuid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(min: i64, max: i64) -> ColumnStats {
        ColumnStats {
            ints: 2,
            int_min: min,
            int_max: max,
            ints_not_bool: u64::from(min < 0 || max > 1),
            ..Default::default()
        }
    }

    fn texts(n: u64, ok: u64) -> ColumnStats {
        ColumnStats {
            texts: n,
            probe_ok: ok,
            probe_failed_example: (ok < n).then(|| "x".into()),
            text_max_chars: 10,
            ..Default::default()
        }
    }

    #[test]
    fn hints_read_declared_types() {
        assert_eq!(hint("VARCHAR(64)"), Hint::Text(Some(64), false));
        assert_eq!(hint("character(5)"), Hint::Text(Some(5), true));
        assert_eq!(hint("NUMERIC(10,2)"), Hint::Numeric(Some((10, 2))));
        assert_eq!(hint("BIGINT"), Hint::Integer(PgType::BigInt));
        assert_eq!(hint("INTEGER"), Hint::Integer(PgType::Integer));
        assert_eq!(hint("DOUBLE PRECISION"), Hint::Real);
        assert_eq!(hint(""), Hint::Untyped);
        assert_eq!(hint("DATETIME"), Hint::DateTime);
        assert_eq!(hint("BOOLEAN"), Hint::Boolean);
        assert_eq!(hint("STRING"), Hint::Untyped);
        // The JSON stager's spellings: TEXT affinity in SQLite, numeric and JSON here.
        assert_eq!(hint("NUMERIC TEXT"), Hint::Numeric(None));
        assert_eq!(hint("JSON TEXT"), Hint::Json);
        assert_eq!(hint("LONG TEXT"), Hint::Text(None, false));
    }

    // Issue 13, item 3: CHAR(0) became varchar(0), which PostgreSQL refuses mid-run.
    #[test]
    fn sizes_postgresql_refuses_become_text_or_unconstrained_numeric() {
        for declared in ["CHAR(0)", "VARCHAR(20000000)"] {
            let d = decide(declared, &texts(3, 3));
            assert_eq!(d.pg_type, PgType::Text, "{declared}");
            assert!(d.reason.contains("from 1 to 10485760"), "{}", d.reason);
            let empty = decide(declared, &ColumnStats::default());
            assert_eq!(empty.pg_type, PgType::Text, "{declared}");
        }
        assert_eq!(
            decide("VARCHAR(10485760)", &texts(3, 3)).pg_type,
            PgType::Varchar {
                max_chars: MAX_VARCHAR
            }
        );
        let d = decide("NUMERIC(2000,2)", &ints(1, 2));
        assert_eq!(
            d.pg_type,
            PgType::Numeric {
                precision_scale: None
            }
        );
        assert!(d.reason.contains("at most 1000"), "{}", d.reason);
    }

    #[test]
    fn integers_widen_when_values_do_not_fit() {
        assert_eq!(decide("INTEGER", &ints(1, 10)).pg_type, PgType::Integer);
        assert_eq!(decide("INTEGER", &ints(1, 1 << 40)).pg_type, PgType::BigInt);
        assert_eq!(
            decide("SMALLINT", &ints(1, 70_000)).pg_type,
            PgType::Integer
        );
        assert_eq!(decide("BOOLEAN", &ints(0, 1)).pg_type, PgType::Boolean);
        assert_eq!(decide("BOOLEAN", &ints(0, 2)).pg_type, PgType::SmallInt);
    }

    #[test]
    fn text_columns() {
        assert_eq!(
            decide("VARCHAR(10)", &texts(3, 3)).pg_type,
            PgType::Varchar { max_chars: 10 }
        );
        let long = ColumnStats {
            text_max_chars: 11,
            ..texts(3, 3)
        };
        let dec = decide("VARCHAR(10)", &long);
        assert_eq!(dec.pg_type, PgType::Text);
        assert!(dec.reason.contains("never enforced"), "{}", dec.reason);
        let bad = ColumnStats {
            text_unholdable: 1,
            ..texts(3, 3)
        };
        assert!(decide("TEXT", &bad).rejects.is_some());
    }

    #[test]
    fn datetimes() {
        let naive = ColumnStats {
            naive: 3,
            ..texts(3, 3)
        };
        assert_eq!(decide("DATETIME", &naive).pg_type, PgType::Timestamp);
        let dates = ColumnStats {
            dates: 3,
            ..texts(3, 3)
        };
        assert_eq!(decide("DATE", &dates).pg_type, PgType::Date);
        let tz = ColumnStats {
            offsets: 3,
            ..texts(3, 3)
        };
        assert_eq!(decide("DATETIME", &tz).pg_type, PgType::Timestamptz);
        let mixed = ColumnStats {
            offsets: 1,
            naive: 2,
            ..texts(3, 3)
        };
        assert_eq!(decide("DATETIME", &mixed).pg_type, PgType::Text);
        assert_eq!(decide("DATETIME", &texts(3, 2)).pg_type, PgType::Text);
    }

    #[test]
    fn numbers_in_date_columns() {
        let secs = ints(1_600_000_000, 1_700_000_000);
        let dec = decide("DATETIME", &secs);
        assert_eq!(
            (dec.pg_type, dec.read_as),
            (PgType::Timestamptz, ReadAs::UnixSeconds)
        );
        let ms = ints(1_600_000_000_000, 1_700_000_000_000);
        let dec = decide("TIMESTAMP", &ms);
        assert_eq!(
            (dec.pg_type, dec.read_as),
            (PgType::Timestamptz, ReadAs::UnixMillis)
        );
        // Seconds and milliseconds mixed: ambiguous, kept as numbers.
        let mixed = ints(1_600_000_000, 1_700_000_000_000);
        let dec = decide("DATETIME", &mixed);
        assert_eq!((dec.pg_type, dec.read_as), (PgType::BigInt, ReadAs::Value));
        assert!(dec.reason.contains("ambiguous"), "{}", dec.reason);
        // Before 1980: not read as a date.
        assert_eq!(
            decide("DATE", &ints(0, 1_700_000_000)).read_as,
            ReadAs::Value
        );
        let julian = ColumnStats {
            reals: 2,
            julian_ok: 2,
            ..Default::default()
        };
        let dec = decide("DATETIME", &julian);
        assert_eq!(
            (dec.pg_type, dec.read_as),
            (PgType::Timestamp, ReadAs::JulianDay)
        );
        let inexact = ColumnStats {
            julian_ok: 1,
            ..julian
        };
        let dec = decide("DATETIME", &inexact);
        assert_eq!(
            (dec.pg_type, dec.read_as),
            (PgType::DoublePrecision, ReadAs::Value)
        );
    }

    #[test]
    fn json_and_numeric() {
        assert_eq!(decide("JSON", &texts(3, 3)).pg_type, PgType::Jsonb);
        let dup = ColumnStats {
            json_duplicate_keys: 1,
            ..texts(3, 3)
        };
        assert_eq!(decide("JSON", &dup).pg_type, PgType::Json);
        assert_eq!(decide("JSON", &texts(3, 1)).pg_type, PgType::Text);
        let money = ColumnStats {
            decimal_int_digits: 3,
            decimal_scale: 2,
            ..texts(3, 3)
        };
        assert_eq!(
            decide("NUMERIC(10,2)", &money).pg_type,
            PgType::Numeric {
                precision_scale: Some((10, 2))
            }
        );
        let fine = ColumnStats {
            decimal_scale: 3,
            ..money
        };
        assert_eq!(
            decide("NUMERIC(10,2)", &fine).pg_type,
            PgType::Numeric {
                precision_scale: None
            }
        );
        assert_eq!(
            decide("REAL", &ints(0, 1 << 60)).pg_type,
            PgType::Numeric {
                precision_scale: None
            }
        );
    }
}
