//! A whole `CREATE TRIGGER`, read into its parts: when it fires (BEFORE/AFTER/INSTEAD OF, the
//! event, `UPDATE OF` columns, `WHEN`) and its program, statement by statement (INSERT,
//! UPDATE, DELETE, SELECT). What it means in PostgreSQL is decided by `plan::translate`.

use super::SqlError;
use super::expr::{Expr, Select};
use super::parse_expr::expr_at_cursor;
use super::parse_expr::select::select_at;
use super::tokenize::Cursor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    Before,
    After,
    InsteadOf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Insert,
    Delete,
    /// `UPDATE [OF a, b]`: the columns whose update fires it; empty for any.
    Update(Vec<String>),
}

/// A trigger as SQLite declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerDef {
    pub name: String,
    pub timing: Timing,
    pub event: Event,
    pub table: String,
    pub when: Option<Expr>,
    pub body: Vec<Statement>,
}

/// One statement of a trigger's program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    Insert {
        /// `OR REPLACE`, `OR IGNORE`… (`REPLACE INTO` is `OR REPLACE`), upper-case.
        conflict: Option<String>,
        table: String,
        columns: Vec<String>,
        rows: InsertRows,
    },
    Update {
        conflict: Option<String>,
        table: String,
        sets: Vec<(String, Expr)>,
        filter: Option<Expr>,
    },
    Delete {
        table: String,
        filter: Option<Expr>,
    },
    Select(Box<Select>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertRows {
    Values(Vec<Vec<Expr>>),
    Select(Box<Select>),
    Default,
}

/// Reads `sql`, a `CREATE TRIGGER` statement.
pub fn parse_trigger(sql: &str) -> Result<TriggerDef, SqlError> {
    let mut c = Cursor::new(sql)?;
    c.keep_qualifiers = true;
    c.expect_kw("CREATE")?;
    let _ = c.eat_kw("TEMP") || c.eat_kw("TEMPORARY");
    c.expect_kw("TRIGGER")?;
    if c.eat_kw("IF") {
        c.expect_kw("NOT")?;
        c.expect_kw("EXISTS")?;
    }
    let name = c.qualified_name("a trigger name")?;
    let timing = if c.eat_kw("BEFORE") {
        Timing::Before
    } else if c.eat_kw("INSTEAD") {
        c.expect_kw("OF")?;
        Timing::InsteadOf
    } else {
        // AFTER is the default.
        c.eat_kw("AFTER");
        Timing::After
    };
    let event = if c.eat_kw("INSERT") {
        Event::Insert
    } else if c.eat_kw("DELETE") {
        Event::Delete
    } else {
        c.expect_kw("UPDATE")?;
        let mut of = Vec::new();
        if c.eat_kw("OF") {
            of = names(&mut c, "a column")?;
        }
        Event::Update(of)
    };
    c.expect_kw("ON")?;
    let table = c.qualified_name("a table name")?;
    if c.eat_kw("FOR") {
        c.expect_kw("EACH")?;
        c.expect_kw("ROW")?;
    }
    let when = if c.eat_kw("WHEN") {
        Some(expr_at_cursor(&mut c)?)
    } else {
        None
    };
    c.expect_kw("BEGIN")?;
    let mut body = Vec::new();
    while !c.eat_kw("END") {
        body.push(statement(&mut c)?);
        c.expect_op(";")?;
    }
    c.eat_op(";");
    if !c.at_end() {
        return Err(c.error("the end of the trigger"));
    }
    Ok(TriggerDef {
        name,
        timing,
        event,
        table,
        when,
        body,
    })
}

fn names(c: &mut Cursor, what: &str) -> Result<Vec<String>, SqlError> {
    let mut out = vec![c.name(what)?];
    while c.eat_op(",") {
        out.push(c.name(what)?);
    }
    Ok(out)
}

/// `OR REPLACE` and the like, after INSERT or UPDATE.
fn conflict(c: &mut Cursor) -> Result<Option<String>, SqlError> {
    if !c.eat_kw("OR") {
        return Ok(None);
    }
    for kw in ["REPLACE", "IGNORE", "ABORT", "FAIL", "ROLLBACK"] {
        if c.eat_kw(kw) {
            return Ok(Some(kw.to_string()));
        }
    }
    Err(c.error("REPLACE, IGNORE, ABORT, FAIL or ROLLBACK"))
}

fn statement(c: &mut Cursor) -> Result<Statement, SqlError> {
    if c.at_kw("INSERT") || c.at_kw("REPLACE") {
        return insert(c);
    }
    if c.eat_kw("UPDATE") {
        let conflict = conflict(c)?;
        let table = c.qualified_name("a table name")?;
        c.expect_kw("SET")?;
        let mut sets = Vec::new();
        loop {
            let column = c.name("a column")?;
            c.expect_op("=")?;
            sets.push((column, expr_at_cursor(c)?));
            if !c.eat_op(",") {
                break;
            }
        }
        let filter = filter(c)?;
        return Ok(Statement::Update {
            conflict,
            table,
            sets,
            filter,
        });
    }
    if c.eat_kw("DELETE") {
        c.expect_kw("FROM")?;
        let table = c.qualified_name("a table name")?;
        let filter = filter(c)?;
        return Ok(Statement::Delete { table, filter });
    }
    if c.at_kw("SELECT") || c.at_kw("VALUES") {
        return Ok(Statement::Select(Box::new(select_at(c)?)));
    }
    Err(c.error("INSERT, UPDATE, DELETE or SELECT"))
}

fn filter(c: &mut Cursor) -> Result<Option<Expr>, SqlError> {
    if c.eat_kw("WHERE") {
        Ok(Some(expr_at_cursor(c)?))
    } else {
        Ok(None)
    }
}

fn insert(c: &mut Cursor) -> Result<Statement, SqlError> {
    let conflict = if c.eat_kw("REPLACE") {
        Some("REPLACE".to_string())
    } else {
        c.expect_kw("INSERT")?;
        conflict(c)?
    };
    c.expect_kw("INTO")?;
    let table = c.qualified_name("a table name")?;
    let mut columns = Vec::new();
    if c.eat_op("(") {
        columns = names(c, "a column")?;
        c.expect_op(")")?;
    }
    let rows = if c.eat_kw("DEFAULT") {
        c.expect_kw("VALUES")?;
        InsertRows::Default
    } else if c.eat_kw("VALUES") {
        let mut rows = Vec::new();
        loop {
            c.expect_op("(")?;
            let mut row = vec![expr_at_cursor(c)?];
            while c.eat_op(",") {
                row.push(expr_at_cursor(c)?);
            }
            c.expect_op(")")?;
            rows.push(row);
            if !c.eat_op(",") {
                break;
            }
        }
        InsertRows::Values(rows)
    } else {
        InsertRows::Select(Box::new(select_at(c)?))
    };
    Ok(Statement::Insert {
        conflict,
        table,
        columns,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_part_of_a_trigger() {
        let t = parse_trigger(
            "CREATE TRIGGER IF NOT EXISTS main.audit_price AFTER UPDATE OF price, qty ON items \
             FOR EACH ROW WHEN NEW.price <> OLD.price BEGIN \
             INSERT INTO audit (item, old, new) VALUES (NEW.id, OLD.price, NEW.price); \
             UPDATE items SET touched = 1 WHERE id = NEW.id; \
             DELETE FROM cache WHERE item = OLD.id; \
             SELECT RAISE(ABORT, 'negative') WHERE NEW.price < 0; END",
        )
        .unwrap();
        assert_eq!(t.name, "audit_price");
        assert_eq!(t.timing, Timing::After);
        assert_eq!(t.event, Event::Update(vec!["price".into(), "qty".into()]));
        assert_eq!(t.table, "items");
        assert!(t.when.is_some());
        assert_eq!(t.body.len(), 4);
        assert!(
            matches!(&t.body[0], Statement::Insert { columns, rows: InsertRows::Values(v), .. }
            if columns.len() == 3 && v[0].len() == 3)
        );
        assert!(
            matches!(&t.body[1], Statement::Update { sets, filter: Some(_), .. } if sets.len() == 1)
        );
        assert!(matches!(&t.body[2], Statement::Delete { table, .. } if table == "cache"));
        let Statement::Select(s) = &t.body[3] else {
            panic!("{:?}", t.body[3])
        };
        assert!(s.first.where_clause.is_some());
    }

    #[test]
    fn defaults_and_other_forms() {
        let t = parse_trigger(
            "create trigger t before delete on a begin replace into b select * from c; end;",
        )
        .unwrap();
        assert_eq!(t.timing, Timing::Before);
        assert_eq!(t.event, Event::Delete);
        assert!(
            matches!(&t.body[0], Statement::Insert { conflict: Some(c), rows: InsertRows::Select(_), .. } if c == "REPLACE")
        );
        let t = parse_trigger("CREATE TRIGGER t INSERT ON a BEGIN SELECT 1; END").unwrap();
        assert_eq!(t.timing, Timing::After);
        assert!(parse_trigger("CREATE TRIGGER t INSERT ON a BEGIN FROB; END").is_err());
    }
}
