//! Recognising the one trigger shape with a PostgreSQL replacement pgcarry can vouch for: a
//! trigger that only stamps a column of the updated row with the current time
//! (`AFTER UPDATE ON t BEGIN UPDATE t SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END`).
//! Anything else (WHEN, several statements, another table, another key) is not this shape.

use super::expr::{BinaryOp, Expr};
use super::parse_expr::expr_at_cursor;
use super::tokenize::Cursor;

/// A trigger that sets `column` of the updated row to `value` on every UPDATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouchTrigger {
    pub name: String,
    pub table: String,
    /// `UPDATE OF a, b`: the columns whose update fires it; empty for any.
    pub of_columns: Vec<String>,
    pub column: String,
    /// The value expression, parsed.
    pub value: Expr,
}

/// `Some` when `sql` is exactly a timestamp-maintaining trigger.
pub fn parse_touch_trigger(sql: &str) -> Option<TouchTrigger> {
    let mut c = Cursor::new(sql).ok()?;
    c.keep_qualifiers = true;
    c.expect_kw("CREATE").ok()?;
    let _ = c.eat_kw("TEMP") || c.eat_kw("TEMPORARY");
    c.expect_kw("TRIGGER").ok()?;
    if c.eat_kw("IF") {
        c.expect_kw("NOT").ok()?;
        c.expect_kw("EXISTS").ok()?;
    }
    let name = c.qualified_name("a trigger name").ok()?;
    if !(c.eat_kw("AFTER") || c.eat_kw("BEFORE")) {
        return None;
    }
    c.expect_kw("UPDATE").ok()?;
    let mut of_columns = Vec::new();
    if c.eat_kw("OF") {
        loop {
            of_columns.push(c.name("a column").ok()?);
            if !c.eat_op(",") {
                break;
            }
        }
    }
    c.expect_kw("ON").ok()?;
    let table = c.qualified_name("a table name").ok()?;
    if c.eat_kw("FOR") {
        c.expect_kw("EACH").ok()?;
        c.expect_kw("ROW").ok()?;
    }
    c.expect_kw("BEGIN").ok()?;
    c.expect_kw("UPDATE").ok()?;
    let target = c.qualified_name("a table name").ok()?;
    if !target.eq_ignore_ascii_case(&table) {
        return None;
    }
    c.expect_kw("SET").ok()?;
    let column = c.name("a column").ok()?;
    c.expect_op("=").ok()?;
    let value = expr_at_cursor(&mut c).ok()?;
    c.expect_kw("WHERE").ok()?;
    let cond = expr_at_cursor(&mut c).ok()?;
    c.eat_op(";");
    c.expect_kw("END").ok()?;
    c.eat_op(";");
    if !c.at_end() || !same_row(&cond, &table) {
        return None;
    }
    Some(TouchTrigger {
        name,
        table,
        of_columns,
        column,
        value,
    })
}

/// `key = NEW.key` (either way round, the key optionally qualified by the table).
fn same_row(cond: &Expr, table: &str) -> bool {
    let Expr::Binary(BinaryOp::Eq, l, r) = cond else {
        return false;
    };
    let own = |e: &Expr| match e {
        Expr::Column(k) => Some(k.clone()),
        Expr::Qualified { table: t, column } if t.eq_ignore_ascii_case(table) => {
            Some(column.clone())
        }
        _ => None,
    };
    let new = |e: &Expr| match e {
        Expr::Qualified { table: t, column } if t.eq_ignore_ascii_case("NEW") => {
            Some(column.clone())
        }
        _ => None,
    };
    match (own(l), new(r), new(l), own(r)) {
        (Some(a), Some(b), _, _) | (_, _, Some(b), Some(a)) => a.eq_ignore_ascii_case(&b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_updated_at_triggers_only() {
        let t = parse_touch_trigger(
            "CREATE TRIGGER touch AFTER UPDATE ON posts FOR EACH ROW BEGIN \
             UPDATE posts SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END",
        )
        .unwrap();
        assert_eq!(
            (t.table.as_str(), t.column.as_str()),
            ("posts", "updated_at")
        );
        assert!(
            parse_touch_trigger(
                "CREATE TRIGGER t AFTER UPDATE OF title ON [posts] BEGIN \
                 UPDATE posts SET updated_at = datetime('now') WHERE NEW.rowid = posts.rowid; END;"
            )
            .is_some()
        );
        for other in [
            "CREATE TRIGGER t AFTER UPDATE ON posts WHEN NEW.x = 1 BEGIN UPDATE posts SET a = 1 WHERE id = NEW.id; END",
            "CREATE TRIGGER t AFTER UPDATE ON posts BEGIN UPDATE other SET a = 1 WHERE id = NEW.id; END",
            "CREATE TRIGGER t AFTER UPDATE ON posts BEGIN UPDATE posts SET a = 1 WHERE id = OLD.id; END",
            "CREATE TRIGGER t AFTER INSERT ON posts BEGIN UPDATE posts SET a = 1 WHERE id = NEW.id; END",
            "CREATE TRIGGER t AFTER UPDATE ON posts BEGIN UPDATE posts SET a = 1 WHERE id = NEW.id; DELETE FROM x; END",
        ] {
            assert!(parse_touch_trigger(other).is_none(), "{other}");
        }
    }
}
