//! What the plan promised besides the rows, checked in the catalog: every primary key, unique
//! constraint, index, check, default and foreign key of the plan exists (foreign keys
//! validated, so no orphan row can hide behind `NOT VALID`), every NOT NULL is in place,
//! every column has the plan's type, every translated trigger is there, and every
//! identity's sequence is past the largest key.
//!
//! Read-only: it reports, it never repairs.

use crate::model::outcome::StructureProblem;
use crate::model::plan::{Identity, StepKind, TablePlan};
use crate::model::types::PgType;
use crate::postgres::error::describe_pg_error;
use crate::postgres::ident::{qualified, quote_ident, quote_literal};
use postgres::Client;
use std::collections::{HashMap, HashSet};

fn problem(tp: &TablePlan, what: &str, name: &str, detail: String) -> StructureProblem {
    StructureProblem {
        table: tp.name.clone(),
        what: what.to_string(),
        name: name.to_string(),
        detail,
    }
}

/// What the catalog says of one table: constraints by name (kind, validated), indexes by name
/// (unique or not), columns by name (NOT NULL, has a default), its (user) triggers.
struct Catalog {
    constraints: HashMap<String, (String, bool)>,
    indexes: HashMap<String, bool>,
    columns: HashMap<String, (bool, bool, String)>,
    triggers: HashSet<String>,
}

impl Catalog {
    fn read(client: &mut Client, rel: &str) -> Result<Catalog, postgres::Error> {
        let constraints = client
            .query(
                &format!(
                    "SELECT conname::text, contype::text, convalidated \
                     FROM pg_constraint WHERE conrelid = {rel}::regclass"
                ),
                &[],
            )?
            .iter()
            .map(|r| (r.get::<_, String>(0), (r.get(1), r.get(2))))
            .collect();
        let indexes = client
            .query(
                &format!(
                    "SELECT c.relname::text, i.indisunique FROM pg_index i \
                     JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = {rel}::regclass"
                ),
                &[],
            )?
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get(1)))
            .collect();
        let columns = client
            .query(
                &format!(
                    "SELECT attname::text, attnotnull, atthasdef, format_type(atttypid, atttypmod) \
                     FROM pg_attribute \
                     WHERE attrelid = {rel}::regclass AND attnum > 0 AND NOT attisdropped"
                ),
                &[],
            )?
            .iter()
            .map(|r| (r.get::<_, String>(0), (r.get(1), r.get(2), r.get(3))))
            .collect();
        let triggers = client
            .query(
                &format!(
                    "SELECT tgname::text FROM pg_trigger \
                     WHERE tgrelid = {rel}::regclass AND NOT tgisinternal"
                ),
                &[],
            )?
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect();
        Ok(Catalog {
            constraints,
            indexes,
            columns,
            triggers,
        })
    }

    fn constraints_of_kind(&self, kind: &str) -> HashSet<&str> {
        self.constraints
            .iter()
            .filter(|(_, (k, _))| k == kind)
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

/// Checks one table against its plan; returns what is missing or wrong, or an error when the
/// catalog could not be read (the caller tells a lost connection from a missing table).
pub fn check_table(
    client: &mut Client,
    schema: &str,
    tp: &TablePlan,
) -> Result<Vec<StructureProblem>, String> {
    let pg = |e: postgres::Error| describe_pg_error(&e);
    let rel = quote_literal(&qualified(schema, &tp.name));
    let catalog = Catalog::read(client, &rel).map_err(pg)?;
    let mut problems = check_steps(&catalog, tp);
    for c in &tp.columns {
        match catalog.columns.get(&c.name) {
            Some((_, _, have)) if !same_type(have, &c.pg_type) => problems.push(problem(
                tp,
                "column type",
                &c.name,
                format!(
                    "is {have} in PostgreSQL; the plan made it {}",
                    c.pg_type.sql()
                ),
            )),
            Some(_) => {}
            None => problems.push(problem(
                tp,
                "column",
                &c.name,
                "missing in PostgreSQL".into(),
            )),
        }
    }
    for c in tp.columns.iter().filter(|c| c.not_null) {
        if catalog.columns.get(&c.name).is_none_or(|c| !c.0) {
            problems.push(problem(
                tp,
                "NOT NULL",
                &c.name,
                "the column accepts NULL".into(),
            ));
        }
    }
    if let Some(id) = &tp.identity {
        problems.extend(check_sequence(client, schema, tp, id).map_err(pg)?);
    }
    Ok(problems)
}

/// Every key, index, check, default and foreign key of the plan is there (foreign keys
/// validated).
fn check_steps(catalog: &Catalog, tp: &TablePlan) -> Vec<StructureProblem> {
    let (pkeys, checks, fkeys) = (
        catalog.constraints_of_kind("p"),
        catalog.constraints_of_kind("c"),
        catalog.constraints_of_kind("f"),
    );
    let (indexes, columns) = (&catalog.indexes, &catalog.columns);
    let mut problems = Vec::new();
    for step in tp
        .post_load
        .iter()
        .chain(&tp.foreign_keys)
        .chain(&tp.triggers)
    {
        let name = step.name.as_str();
        let missing = match step.kind {
            StepKind::PrimaryKey => !pkeys.contains(name),
            StepKind::Unique => indexes.get(name) != Some(&true),
            StepKind::Index => !indexes.contains_key(name),
            StepKind::Check => !checks.contains(name),
            StepKind::Default => columns.get(name).is_none_or(|c| !c.1),
            StepKind::ForeignKey => !fkeys.contains(name),
            // The tsvector column, or its GIN index.
            StepKind::Search => !columns.contains_key(name) && !indexes.contains_key(name),
            // Views are checked with the views, sequences with the sequences.
            StepKind::View | StepKind::Sequence | StepKind::Analyze => false,
            StepKind::Trigger => !catalog.triggers.contains(name),
        };
        let what = crate::report::kind_name(step.kind);
        if missing {
            problems.push(problem(tp, what, name, "missing in PostgreSQL".into()));
        } else if step.kind == StepKind::ForeignKey
            && catalog.constraints.get(name).is_some_and(|c| !c.1)
        {
            problems.push(problem(
                tp,
                what,
                name,
                "NOT VALID: existing rows were never checked".into(),
            ));
        }
    }
    problems
}

/// The identity's sequence exists and its next value is past the largest key (and past what
/// SQLite's `sqlite_sequence` had handed out).
fn check_sequence(
    client: &mut Client,
    schema: &str,
    tp: &TablePlan,
    id: &Identity,
) -> Result<Option<StructureProblem>, postgres::Error> {
    let qt = qualified(schema, &tp.name);
    let seq: Option<String> = client
        .query_one(
            &format!(
                "SELECT pg_get_serial_sequence({}, {})",
                quote_literal(&qt),
                quote_literal(&id.column)
            ),
            &[],
        )?
        .get(0);
    let Some(seq) = seq else {
        return Ok(Some(problem(
            tp,
            "sequence",
            &id.column,
            "no identity or sequence".into(),
        )));
    };
    let row = client.query_one(
        &format!(
            "SELECT (SELECT max({})::bigint FROM {qt}), \
             CASE WHEN s.is_called THEN s.last_value + 1 ELSE s.last_value END \
             FROM {seq} s",
            quote_ident(&id.column)
        ),
        &[],
    )?;
    let (max, next): (Option<i64>, i64) = (row.get(0), row.get(1));
    let floor = max.into_iter().chain(id.last_value).max();
    Ok(floor.filter(|&floor| next <= floor).map(|floor| {
        problem(
            tp,
            "sequence",
            &id.column,
            format!("next value {next} is not past the largest key {floor}"),
        )
    }))
}

/// True when `have`, a type as `format_type` spells it, is the plan's type `want`.
fn same_type(have: &str, want: &PgType) -> bool {
    let spelled = match want {
        PgType::Varchar { max_chars } => format!("character varying({max_chars})"),
        PgType::Timestamp => "timestamp without time zone".into(),
        PgType::Timestamptz => "timestamp with time zone".into(),
        PgType::Time => "time without time zone".into(),
        // An enum type: its name, however the catalog qualifies and quotes it.
        PgType::Enum { sql_name, .. } => {
            let last = |t: &str| {
                t.rsplit('.')
                    .next()
                    .unwrap_or(t)
                    .trim_matches('"')
                    .to_string()
            };
            return last(have) == last(sql_name);
        }
        other => other.sql(),
    };
    have == spelled
}
