//! The SELECT grammar of SQLite as views use it: result columns with aliases, FROM with joins,
//! WHERE, GROUP BY, HAVING, compound selects (UNION, INTERSECT, EXCEPT), ORDER BY and LIMIT.
//! Subqueries, CTEs, window functions and NATURAL joins are refused with where they start;
//! what the SELECT means in PostgreSQL is decided by `plan::translate::view`.

use super::expr_at_cursor;
use crate::sqlite::sql::SqlError;
pub use crate::sqlite::sql::expr::{
    Compound, FromItem, Join, OrderTerm, ResultColumn, Select, SelectCore,
};
use crate::sqlite::sql::tokenize::{Cursor, Kind};

/// Words that end a clause and so can never be a bare alias.
const CLAUSE_WORDS: [&str; 22] = [
    "FROM",
    "WHERE",
    "GROUP",
    "HAVING",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "CROSS",
    "NATURAL",
    "ON",
    "USING",
    "WINDOW",
    "OUTER",
    "AS",
];

fn at_alias(c: &Cursor) -> bool {
    c.peek().is_some_and(|t| match t.kind {
        Kind::Quoted | Kind::Str => true,
        Kind::Word => !CLAUSE_WORDS.iter().any(|w| t.is_kw(w)),
        _ => false,
    })
}

fn alias(c: &mut Cursor) -> Result<Option<String>, SqlError> {
    if c.eat_kw("AS") {
        return c.name("an alias").map(Some);
    }
    if at_alias(c) {
        return c.name("an alias").map(Some);
    }
    Ok(None)
}

/// Parses a SELECT statement (the body of a view), `;` allowed at the end.
pub fn parse_select(sql: &str) -> Result<Select, SqlError> {
    let mut c = Cursor::new(sql)?;
    c.keep_qualifiers = true;
    if c.at_kw("WITH") {
        return Err(c.error("SELECT (common table expressions are not supported)"));
    }
    let select = select_at(&mut c)?;
    c.eat_op(";");
    if !c.at_end() {
        return Err(c.error("the end of the SELECT"));
    }
    Ok(select)
}

/// A SELECT at the cursor, up to the first token that cannot continue it (`)` of a subquery).
pub(crate) fn select_at(c: &mut Cursor) -> Result<Select, SqlError> {
    let c = &mut *c;
    let first = core(c)?;
    let mut compound = Vec::new();
    loop {
        let op = if c.eat_kw("UNION") {
            if c.eat_kw("ALL") {
                Compound::UnionAll
            } else {
                Compound::Union
            }
        } else if c.eat_kw("INTERSECT") {
            Compound::Intersect
        } else if c.eat_kw("EXCEPT") {
            Compound::Except
        } else {
            break;
        };
        compound.push((op, core(c)?));
    }
    let mut order_by = Vec::new();
    if c.eat_kw("ORDER") {
        c.expect_kw("BY")?;
        loop {
            let expr = expr_at_cursor(c)?;
            let descending = if c.eat_kw("DESC") {
                true
            } else {
                c.eat_kw("ASC");
                false
            };
            let nulls_first = if c.eat_kw("NULLS") {
                if c.eat_kw("FIRST") {
                    Some(true)
                } else {
                    c.expect_kw("LAST")?;
                    Some(false)
                }
            } else {
                None
            };
            order_by.push(OrderTerm {
                expr,
                descending,
                nulls_first,
            });
            if !c.eat_op(",") {
                break;
            }
        }
    }
    let limit = if c.eat_kw("LIMIT") {
        let n = expr_at_cursor(c)?;
        if c.at_op(",") {
            return Err(c.error("OFFSET (`LIMIT m, n` is not supported)"));
        }
        let offset = if c.eat_kw("OFFSET") {
            Some(expr_at_cursor(c)?)
        } else {
            None
        };
        Some((n, offset))
    } else {
        None
    };
    Ok(Select {
        first,
        compound,
        order_by,
        limit,
    })
}

fn core(c: &mut Cursor) -> Result<SelectCore, SqlError> {
    if c.at_kw("VALUES") {
        return Err(c.error("SELECT (VALUES is not supported)"));
    }
    c.expect_kw("SELECT")?;
    let distinct = c.eat_kw("DISTINCT");
    if !distinct {
        c.eat_kw("ALL");
    }
    let mut columns = Vec::new();
    loop {
        if c.eat_op("*") {
            columns.push(ResultColumn::Star);
        } else if c.peek_at(1).is_some_and(|t| t.is_op("."))
            && c.peek_at(2).is_some_and(|t| t.is_op("*"))
        {
            let table = c.name("a table name")?;
            c.pos += 2;
            columns.push(ResultColumn::TableStar(table));
        } else {
            let from = c.pos;
            let expr = expr_at_cursor(c)?;
            let text = c.text_since(from).to_string();
            if c.at_kw("OVER") {
                return Err(c.error("a column (window functions are not supported)"));
            }
            let alias = alias(c)?;
            columns.push(ResultColumn::Expr { expr, alias, text });
        }
        if !c.eat_op(",") {
            break;
        }
    }
    let mut from = Vec::new();
    if c.eat_kw("FROM") {
        from.push(from_item(c, Join::First)?);
        loop {
            let join = if c.eat_op(",") {
                Join::Cross
            } else if c.at_kw("NATURAL") || c.at_kw("RIGHT") || c.at_kw("FULL") {
                return Err(c.error("a join (NATURAL, RIGHT and FULL joins are not supported)"));
            } else if c.eat_kw("CROSS") {
                c.expect_kw("JOIN")?;
                Join::Cross
            } else if c.eat_kw("LEFT") {
                c.eat_kw("OUTER");
                c.expect_kw("JOIN")?;
                Join::Left
            } else if c.eat_kw("INNER") {
                c.expect_kw("JOIN")?;
                Join::Inner
            } else if c.eat_kw("JOIN") {
                Join::Inner
            } else {
                break;
            };
            from.push(from_item(c, join)?);
        }
    }
    let where_clause = if c.eat_kw("WHERE") {
        Some(expr_at_cursor(c)?)
    } else {
        None
    };
    let mut group_by = Vec::new();
    let mut having = None;
    if c.eat_kw("GROUP") {
        c.expect_kw("BY")?;
        loop {
            group_by.push(expr_at_cursor(c)?);
            if !c.eat_op(",") {
                break;
            }
        }
        if c.eat_kw("HAVING") {
            having = Some(expr_at_cursor(c)?);
        }
    }
    if c.at_kw("WINDOW") {
        return Err(c.error("the end of the SELECT (WINDOW is not supported)"));
    }
    Ok(SelectCore {
        distinct,
        columns,
        from,
        where_clause,
        group_by,
        having,
    })
}

fn from_item(c: &mut Cursor, join: Join) -> Result<FromItem, SqlError> {
    if c.at_op("(") {
        return Err(c.error("a table name (subqueries in FROM are not supported)"));
    }
    let table = c.qualified_name("a table name")?;
    if c.at_op("(") {
        return Err(c.error("a table name (table-valued functions are not supported)"));
    }
    let alias = alias(c)?;
    if c.at_kw("INDEXED") || c.at_kw("NOT") {
        return Err(c.error("a join (INDEXED BY is not supported)"));
    }
    let mut on = None;
    let mut using = Vec::new();
    if c.eat_kw("ON") {
        on = Some(expr_at_cursor(c)?);
    } else if c.eat_kw("USING") {
        c.expect_op("(")?;
        loop {
            using.push(c.name("a column name")?);
            if c.eat_op(")") {
                break;
            }
            c.expect_op(",")?;
        }
    }
    Ok(FromItem {
        join,
        table,
        alias,
        on,
        using,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::sql::expr::Expr;

    #[test]
    fn reads_joins_aliases_and_compounds() {
        let s = parse_select(
            "SELECT t.*, [a b] AS x, count(*) n, u.c FROM t JOIN [u v] u ON t.id = u.id \
             LEFT OUTER JOIN w USING (id) WHERE x > 1 GROUP BY u.c HAVING count(*) > 2 \
             UNION ALL SELECT 1, 2, 3, 4 ORDER BY 2 DESC LIMIT 5;",
        )
        .unwrap();
        assert_eq!(s.first.columns.len(), 4);
        assert_eq!(s.first.columns[0], ResultColumn::TableStar("t".into()));
        assert!(matches!(
            &s.first.columns[2],
            ResultColumn::Expr { alias: Some(a), text, .. } if a == "n" && text == "count(*)"
        ));
        assert!(matches!(
            &s.first.columns[3],
            ResultColumn::Expr { expr: Expr::Qualified { table, column }, alias: None, .. }
                if table == "u" && column == "c"
        ));
        assert_eq!(s.first.from.len(), 3);
        assert_eq!(s.first.from[1].table, "u v");
        assert_eq!(s.first.from[1].alias.as_deref(), Some("u"));
        assert_eq!(s.first.from[2].join, Join::Left);
        assert_eq!(s.first.from[2].using, ["id"]);
        assert_eq!(s.compound[0].0, Compound::UnionAll);
        assert!(s.order_by[0].descending);
        assert!(s.limit.is_some());
    }

    #[test]
    fn refuses_what_it_does_not_read() {
        assert!(parse_select("SELECT a FROM (SELECT 1 a)").is_err());
        assert!(parse_select("SELECT a FROM t WHERE a IN (SELECT 1)").is_ok());
        assert!(parse_select("SELECT a FROM t WHERE NOT EXISTS (SELECT 1)").is_ok());
        assert!(parse_select("SELECT a FROM t WHERE a > (SELECT max(b) FROM u)").is_ok());
        assert!(parse_select("WITH x AS (SELECT 1) SELECT * FROM x").is_err());
        assert!(parse_select("SELECT a FROM t NATURAL JOIN u").is_err());
        assert!(parse_select("SELECT row_number() OVER () FROM t").is_err());
    }
}
