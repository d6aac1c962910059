//! A SQLite trigger as a PL/pgSQL trigger function and a `CREATE TRIGGER` with the same
//! meaning: row-level BEFORE/AFTER INSERT/UPDATE [OF cols]/DELETE, `WHEN`, `NEW`/`OLD`, a
//! program of INSERT … VALUES or SELECT (and INSERT OR IGNORE … VALUES), UPDATE, DELETE and
//! `SELECT RAISE(…)` statements. Anything else is refused with the true reason.
//!
//! SQLite does not fire a trigger from its own program (`recursive_triggers` is off by
//! default), PostgreSQL would: each function keeps a transaction-local flag while it runs and
//! does nothing when entered again. An error rolls the flag back with the statement.
//!
//! PL/pgSQL checks a function's statements only when they run, so each statement is also
//! given as a probe — the same statement with `NEW`/`OLD` columns replaced by typed NULLs —
//! that the executor PREPAREs in the creating transaction: a translation PostgreSQL would
//! refuse at run time fails at creation instead, and the trigger is reported, not left broken.

use super::{ExprContext, Render, Scope, Untranslatable, refuse};
use crate::model::plan::{ColumnPlan, TablePlan};
use crate::model::types::PgType;
use crate::postgres::ident::{pg_name, qualified, quote_ident, quote_literal};
use crate::sqlite::sql::expr::{Expr, ResultColumn, Select};
use crate::sqlite::sql::trigger_def::{Event, InsertRows, Statement, Timing, TriggerDef};

/// A translated trigger: its name and table in PostgreSQL, and the SQL that creates it (one
/// batch: function, trigger, probes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslatedTrigger {
    pub name: String,
    pub table: String,
    pub sql: String,
}

/// Names in a trigger statement: `NEW.x`/`OLD.x` of the trigger's row, and the columns of the
/// table the statement writes (UPDATE and DELETE).
struct RowScope<'a> {
    schema: &'a str,
    /// The tables and views a subquery may read.
    relations: &'a dyn Fn(&str) -> Option<super::view::Relation>,
    row: &'a TablePlan,
    target: Option<&'a TablePlan>,
    /// Render `NEW`/`OLD` columns as typed NULLs (the probes).
    probe: bool,
    /// Which of `NEW`/`OLD` the event has.
    has_new: bool,
    has_old: bool,
}

fn find_column<'t>(t: &'t TablePlan, name: &str) -> Option<&'t ColumnPlan> {
    t.columns
        .iter()
        .find(|c| c.source_name.eq_ignore_ascii_case(name))
}

impl Scope for RowScope<'_> {
    fn resolve(&self, table: Option<&str>, column: &str) -> Option<(String, Option<PgType>)> {
        let row = match table {
            Some(t) if t.eq_ignore_ascii_case("new") && self.has_new => Some("NEW"),
            Some(t) if t.eq_ignore_ascii_case("old") && self.has_old => Some("OLD"),
            _ => None,
        };
        if let Some(row) = row {
            let c = find_column(self.row, column)?;
            let rendered = if self.probe {
                format!("(NULL::{})", c.pg_type.sql())
            } else {
                format!("{row}.{}", quote_ident(&c.name))
            };
            return Some((rendered, Some(c.pg_type.clone())));
        }
        let target = self.target?;
        if table.is_some_and(|t| !t.eq_ignore_ascii_case(&target.source_name)) {
            return None;
        }
        let c = find_column(target, column)?;
        // Qualified, so that a subquery's own tables cannot capture it.
        let rendered = format!("{}.{}", quote_ident(&target.name), quote_ident(&c.name));
        Some((rendered, Some(c.pg_type.clone())))
    }

    fn subquery(&self, select: &Select, one_column: bool) -> Result<String, Untranslatable> {
        super::view::subquery(select, self.schema, self.relations, self, one_column)
    }
}

/// What one trigger's translation needs.
struct Translation<'a> {
    def: &'a TriggerDef,
    relations: &'a dyn Fn(&str) -> Option<super::view::Relation>,
    tables: &'a [TablePlan],
    schema: &'a str,
    row: &'a TablePlan,
    /// The flag that keeps the function from running inside itself.
    guard: String,
    probes: Vec<String>,
}

/// Translates `def` against the plan's tables in `schema`; `relations` gives what a subquery
/// may read.
pub fn translate_trigger(
    def: &TriggerDef,
    tables: &[TablePlan],
    schema: &str,
    relations: &dyn Fn(&str) -> Option<super::view::Relation>,
) -> Result<TranslatedTrigger, Untranslatable> {
    let row = table(tables, &def.table)?;
    if def.timing == Timing::InsteadOf {
        return refuse("INSTEAD OF triggers (on views) are not translated");
    }
    let returns = match (def.timing, &def.event) {
        (Timing::Before, Event::Delete) => "OLD",
        (Timing::Before, _) => "NEW",
        _ => "NULL",
    };
    let name = pg_name(&def.name);
    let mut t = Translation {
        def,
        relations,
        tables,
        schema,
        row,
        guard: format!("pgcarry.trg_{:016x}", fnv(&format!("{schema}.{name}"))),
        probes: Vec::new(),
    };
    let mut body = String::new();
    for s in &def.body {
        body.push_str(&t.statement(s)?);
    }
    let when = match &def.when {
        Some(w) => {
            let cond = t.condition(w, None)?;
            format!("\n    WHEN ({cond})")
        }
        None => String::new(),
    };
    let function = qualified(schema, &pg_name(&format!("pgcarry_trg_{}", def.name)));
    let on = qualified(schema, &row.name);
    let guard = quote_literal(&t.guard);
    let mut sql = format!(
        "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $pgcarry$\n\
         BEGIN\n\
         \x20   IF current_setting({guard}, true) = 'on' THEN RETURN {returns}; END IF;\n\
         \x20   PERFORM set_config({guard}, 'on', true);\n\
         {body}\
         \x20   PERFORM set_config({guard}, 'off', true);\n\
         \x20   RETURN {returns};\n\
         END\n$pgcarry$;\n\
         DROP TRIGGER IF EXISTS {qname} ON {on};\n\
         CREATE TRIGGER {qname} {timing} {event} ON {on}\n    FOR EACH ROW{when}\n    \
         EXECUTE FUNCTION {function}();",
        qname = quote_ident(&name),
        timing = if def.timing == Timing::Before {
            "BEFORE"
        } else {
            "AFTER"
        },
        event = event_sql(&def.event, row)?,
    );
    for (i, p) in t.probes.iter().enumerate() {
        sql.push_str(&format!(
            "\nPREPARE pgcarry_probe_{i} AS {p};\nDEALLOCATE pgcarry_probe_{i};"
        ));
    }
    Ok(TranslatedTrigger {
        name,
        table: row.name.clone(),
        sql,
    })
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn table<'t>(tables: &'t [TablePlan], name: &str) -> Result<&'t TablePlan, Untranslatable> {
    tables
        .iter()
        .find(|t| t.source_name.eq_ignore_ascii_case(name))
        .map_or_else(
            || refuse(format!("it writes to `{name}`, which is not migrated")),
            Ok,
        )
}

fn event_sql(event: &Event, row: &TablePlan) -> Result<String, Untranslatable> {
    Ok(match event {
        Event::Insert => "INSERT".into(),
        Event::Delete => "DELETE".into(),
        Event::Update(of) if of.is_empty() => "UPDATE".into(),
        Event::Update(of) => {
            let cols = of
                .iter()
                .map(|c| match find_column(row, c) {
                    Some(c) => Ok(quote_ident(&c.name)),
                    None => refuse(format!("UPDATE OF names unknown column `{c}`")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            format!("UPDATE OF {}", cols.join(", "))
        }
    })
}

impl Translation<'_> {
    fn scope<'s>(&'s self, target: Option<&'s TablePlan>, probe: bool) -> RowScope<'s> {
        RowScope {
            schema: self.schema,
            relations: self.relations,
            row: self.row,
            target,
            probe,
            has_new: !matches!(self.def.event, Event::Delete),
            has_old: !matches!(self.def.event, Event::Insert),
        }
    }

    /// `e` rendered in the statement's scope, and as its probe.
    fn render(
        &self,
        e: &Expr,
        target: Option<&TablePlan>,
    ) -> Result<(String, String), Untranslatable> {
        self.both(e, target, &|r, e| r.expr(e))
    }

    /// `e` rendered by `how`, once with `NEW`/`OLD` as the row's columns and once as typed
    /// NULLs (the probe).
    fn both(
        &self,
        e: &Expr,
        target: Option<&TablePlan>,
        how: &dyn Fn(&Render, &Expr) -> Result<String, Untranslatable>,
    ) -> Result<(String, String), Untranslatable> {
        let none = |_: &str| None;
        let ctx = ExprContext { columns: &none };
        let mut out = [String::new(), String::new()];
        for (probe, slot) in [false, true].into_iter().zip(&mut out) {
            let scope = self.scope(target, probe);
            *slot = how(
                &Render {
                    ctx: &ctx,
                    scope: Some(&scope),
                },
                e,
            )?;
        }
        let [real, probe] = out;
        Ok((real, probe))
    }

    /// A condition (WHEN, RAISE's), probed as a condition: one that is not a boolean in
    /// PostgreSQL (SQLite takes any non-zero value as true) fails at creation, not at run time.
    fn condition(
        &mut self,
        e: &Expr,
        target: Option<&TablePlan>,
    ) -> Result<String, Untranslatable> {
        let (sql, probe) = self.render(e, target)?;
        self.probes
            .push(format!("SELECT CASE WHEN {probe} THEN 1 END"));
        Ok(sql)
    }

    /// A value stored in a column of type `ty`: SQLite's "now" in the column's type, its 0
    /// and 1 a boolean's false and true.
    fn value(
        &mut self,
        e: &Expr,
        target: Option<&TablePlan>,
        ty: &PgType,
    ) -> Result<(String, String), Untranslatable> {
        if let Some(now) = super::now::as_now(e) {
            let sql = super::now::render_now(&now, Some(ty))?;
            return Ok((sql.clone(), sql));
        }
        if *ty == PgType::Boolean {
            self.both(e, target, &|r, e| r.boolean_operand(e))
        } else {
            self.render(e, target)
        }
    }

    fn statement(&mut self, s: &Statement) -> Result<String, Untranslatable> {
        match s {
            Statement::Insert {
                conflict,
                table: name,
                columns,
                rows,
            } => {
                let ignore = conflict.as_deref() == Some("IGNORE");
                if !ignore {
                    no_conflict_clause(conflict.as_deref())?;
                }
                self.insert(name, columns, rows, ignore)
            }
            Statement::Update {
                conflict,
                table: name,
                sets,
                filter,
            } => {
                no_conflict_clause(conflict.as_deref())?;
                let target = table(self.tables, name)?;
                let mut assigns = Vec::new();
                let mut probe_assigns = Vec::new();
                for (col, e) in sets {
                    let c = find_column(target, col)
                        .map_or_else(|| refuse(format!("unknown column `{name}.{col}`")), Ok)?;
                    let (v, p) = self.value(e, Some(target), &c.pg_type)?;
                    assigns.push(format!("{} = {v}", quote_ident(&c.name)));
                    probe_assigns.push(format!("{} = {p}", quote_ident(&c.name)));
                }
                let (w, pw) = self.filter(filter.as_ref(), target)?;
                let q = qualified(self.schema, &target.name);
                self.probes
                    .push(format!("UPDATE {q} SET {}{pw}", probe_assigns.join(", ")));
                Ok(format!("    UPDATE {q} SET {}{w};\n", assigns.join(", ")))
            }
            Statement::Delete {
                table: name,
                filter,
            } => {
                let target = table(self.tables, name)?;
                let (w, pw) = self.filter(filter.as_ref(), target)?;
                let q = qualified(self.schema, &target.name);
                self.probes.push(format!("DELETE FROM {q}{pw}"));
                Ok(format!("    DELETE FROM {q}{w};\n"))
            }
            Statement::Select(select) => self.raise_select(select),
        }
    }

    fn filter(
        &mut self,
        filter: Option<&Expr>,
        target: &TablePlan,
    ) -> Result<(String, String), Untranslatable> {
        match filter {
            Some(f) => {
                let (w, p) = self.render(f, Some(target))?;
                Ok((format!(" WHERE {w}"), format!(" WHERE {p}")))
            }
            None => Ok((String::new(), String::new())),
        }
    }

    /// `INSERT [OR IGNORE] INTO name (columns) …`. `OR IGNORE` skips each row that breaks a
    /// UNIQUE, NOT NULL or CHECK constraint (not a foreign key), as SQLite does: each row is
    /// its own statement in a block that catches exactly those errors.
    fn insert(
        &mut self,
        name: &str,
        columns: &[String],
        rows: &InsertRows,
        ignore: bool,
    ) -> Result<String, Untranslatable> {
        let target = table(self.tables, name)?;
        let q = qualified(self.schema, &target.name);
        let cols = insert_columns(target, name, columns)?;
        let rows = match rows {
            InsertRows::Default => {
                self.probes.push(format!("INSERT INTO {q} DEFAULT VALUES"));
                let sql = format!("INSERT INTO {q} DEFAULT VALUES;");
                return Ok(if ignore {
                    ignoring(&sql)
                } else {
                    format!("    {sql}\n")
                });
            }
            InsertRows::Select(select) => {
                if ignore {
                    return refuse("INSERT OR IGNORE … SELECT in a trigger is not translated");
                }
                return self.insert_select(&q, &cols, select);
            }
            InsertRows::Values(rows) => rows,
        };
        let mut values = Vec::new();
        let mut probes = Vec::new();
        for row in rows {
            if row.len() != cols.len() {
                return refuse(format!(
                    "INSERT INTO {name} gives {} values for {} columns",
                    row.len(),
                    cols.len()
                ));
            }
            let mut v = Vec::new();
            let mut p = Vec::new();
            for (e, c) in row.iter().zip(&cols) {
                let (a, b) = self.value(e, None, &c.pg_type)?;
                v.push(a);
                p.push(b);
            }
            values.push(format!("({})", v.join(", ")));
            probes.push(format!("({})", p.join(", ")));
        }
        let cols: Vec<String> = cols.iter().map(|c| quote_ident(&c.name)).collect();
        let cols = cols.join(", ");
        self.probes.push(format!(
            "INSERT INTO {q} ({cols}) VALUES {}",
            probes.join(", ")
        ));
        if ignore {
            return Ok(values
                .iter()
                .map(|v| ignoring(&format!("INSERT INTO {q} ({cols}) VALUES {v};")))
                .collect());
        }
        Ok(format!(
            "    INSERT INTO {q} ({cols}) VALUES {};\n",
            values.join(", ")
        ))
    }

    /// `INSERT INTO q (cols) SELECT …`: the SELECT translated as a view's, with the trigger's
    /// `NEW`/`OLD` as its outer names. PostgreSQL's assignment of each result column to its
    /// column is probed: a type it would refuse refuses the trigger at creation.
    fn insert_select(
        &mut self,
        q: &str,
        cols: &[&ColumnPlan],
        select: &Select,
    ) -> Result<String, Untranslatable> {
        let cols: Vec<String> = cols.iter().map(|c| quote_ident(&c.name)).collect();
        let cols = cols.join(", ");
        let mut out = [String::new(), String::new()];
        for (probe, slot) in [false, true].into_iter().zip(&mut out) {
            let scope = self.scope(None, probe);
            *slot = super::view::subquery(select, self.schema, self.relations, &scope, false)?;
        }
        let [real, probe] = out;
        self.probes
            .push(format!("INSERT INTO {q} ({cols}) {probe}"));
        Ok(format!("    INSERT INTO {q} ({cols}) {real};\n"))
    }

    /// `SELECT RAISE(…) [WHERE c]` or `SELECT CASE WHEN c THEN RAISE(…) … END`: an IF.
    fn raise_select(&mut self, s: &Select) -> Result<String, Untranslatable> {
        let core = &s.first;
        let plain = s.compound.is_empty()
            && s.order_by.is_empty()
            && s.limit.is_none()
            && core.from.is_empty()
            && core.group_by.is_empty()
            && core.having.is_none()
            && core.columns.len() == 1;
        let expr = match (&core.columns[..], plain) {
            ([ResultColumn::Expr { expr, .. }], true) => expr,
            _ => {
                return refuse(
                    "a SELECT in a trigger program only matters for its RAISE(), and this one \
                     is not a plain `SELECT RAISE(…) WHERE …` or `SELECT CASE WHEN … THEN \
                     RAISE(…) END`",
                );
            }
        };
        let mut branches: Vec<(Option<&Expr>, &Expr)> = Vec::new();
        match expr {
            Expr::Raise { .. } => branches.push((core.where_clause.as_ref(), expr)),
            Expr::Case {
                operand: None,
                whens,
                otherwise,
            } if core.where_clause.is_none()
                && otherwise.as_deref().is_none_or(|o| *o == Expr::Null) =>
            {
                branches.extend(whens.iter().map(|(c, r)| (Some(c), r)));
            }
            _ => return refuse("a SELECT in a trigger program that raises nothing"),
        }
        let mut out = String::new();
        for (i, (cond, raise)) in branches.into_iter().enumerate() {
            let action = self.raise(raise)?;
            match cond {
                Some(c) => {
                    let c = self.condition(c, None)?;
                    let kw = if i == 0 { "IF" } else { "ELSIF" };
                    out.push_str(&format!("    {kw} {c} THEN\n{action}"));
                }
                None => return Ok(action),
            }
        }
        out.push_str("    END IF;\n");
        Ok(out)
    }

    fn raise(&mut self, e: &Expr) -> Result<String, Untranslatable> {
        // ABORT, FAIL and ROLLBACK all end the statement with the error in PostgreSQL.
        let Expr::Raise { message, .. } = e else {
            return refuse("a CASE in a trigger's SELECT whose branches do not all RAISE()");
        };
        let guard = quote_literal(&self.guard);
        match message {
            None => Ok(format!(
                "        PERFORM set_config({guard}, 'off', true);\n        RETURN NULL;\n"
            )),
            Some(m) => {
                let (msg, probe) = self.render(m, None)?;
                self.probes.push(format!("SELECT ({probe})::text"));
                Ok(format!(
                    "        RAISE EXCEPTION USING ERRCODE = 'raise_exception', MESSAGE = {msg};\n"
                ))
            }
        }
    }
}

/// The columns an INSERT into `target` names (`name` in SQLite), or all but the generated
/// ones when it names none.
fn insert_columns<'t>(
    target: &'t TablePlan,
    name: &str,
    columns: &[String],
) -> Result<Vec<&'t ColumnPlan>, Untranslatable> {
    if columns.is_empty() {
        return Ok(target
            .columns
            .iter()
            .filter(|c| c.generated.is_none())
            .collect());
    }
    columns
        .iter()
        .map(|c| match find_column(target, c) {
            Some(c) => Ok(c),
            None => refuse(format!("unknown column `{name}.{c}`")),
        })
        .collect()
}

/// `statement` in a block that skips it when it breaks a UNIQUE, NOT NULL or CHECK constraint
/// (SQLite's `OR IGNORE`).
fn ignoring(statement: &str) -> String {
    format!(
        "    BEGIN\n        {statement}\n    EXCEPTION WHEN unique_violation OR not_null_violation \
         OR check_violation THEN NULL;\n    END;\n"
    )
}

/// `OR REPLACE` and `OR IGNORE` change what a conflict does in ways PostgreSQL's `ON CONFLICT`
/// does not match exactly (they also apply to NOT NULL and CHECK): refused.
fn no_conflict_clause(conflict: Option<&str>) -> Result<(), Untranslatable> {
    match conflict {
        None | Some("ABORT" | "FAIL" | "ROLLBACK") => Ok(()),
        Some(c) => refuse(format!("OR {c} in a trigger statement is not translated")),
    }
}
