//! Views: a SQLite SELECT rendered as a PostgreSQL SELECT with the same rows, in the same order.
//!
//! Names resolve through the FROM clause (tables by their plan, earlier views by their
//! translated columns) and are re-quoted; expressions go through the same `Render` as CHECKs,
//! so whatever SQLite and PostgreSQL would compute differently is refused with the reason
//! (`+` on text, date functions on text, comparisons of text with non-integer numbers…).
//! Differences the rendering must spell out: text sorts by bytes (`COLLATE "C"`), NULLs sort
//! first ascending (`NULLS FIRST`), `avg()` is a double, `min`/`max` on text compare bytes.

use super::{Render, Scope, Untranslatable, is_text, known_type, refuse};
use crate::model::types::PgType;
use crate::postgres::ident::{pg_name, qualified, quote_ident};
use crate::sqlite::sql::expr::Expr;
use crate::sqlite::sql::select::{
    Compound, Join, OrderTerm, ResultColumn, Select, SelectCore, parse_select,
};
use std::cell::RefCell;

/// A table or an already translated view, as a view's FROM sees it.
#[derive(Debug, Clone)]
pub struct Relation {
    /// The name in PostgreSQL.
    pub target: String,
    pub columns: Vec<RelColumn>,
}

#[derive(Debug, Clone)]
pub struct RelColumn {
    /// The name SQLite uses.
    pub source: String,
    /// The name in PostgreSQL.
    pub target: String,
    pub ty: Option<PgType>,
}

/// A translated view body.
#[derive(Debug, Clone)]
pub struct TranslatedView {
    /// The PostgreSQL SELECT.
    pub select: String,
    /// Its result columns, for views built on it.
    pub columns: Vec<RelColumn>,
}

struct FromEntry {
    /// The name SQLite code refers to it by: its alias, else its table name.
    key: String,
    /// Its alias in PostgreSQL.
    alias: String,
    rel: Relation,
}

struct CoreScope<'r> {
    schema: &'r str,
    relations: &'r dyn Fn(&str) -> Option<Relation>,
    from: Vec<FromEntry>,
    /// Result columns of the core (name, rendered expression, type), for ORDER BY / GROUP BY.
    outputs: RefCell<Vec<(String, String, Option<PgType>)>>,
    /// The query this one is a subquery of: names not found here resolve there (a
    /// correlated subquery).
    outer: Option<&'r (dyn Scope + 'r)>,
}

impl Scope for CoreScope<'_> {
    fn subquery(&self, select: &Select, one_column: bool) -> Result<String, Untranslatable> {
        subquery(select, self.schema, self.relations, self, one_column)
    }

    fn resolve(&self, table: Option<&str>, column: &str) -> Option<(String, Option<PgType>)> {
        let find = |e: &FromEntry| {
            e.rel
                .columns
                .iter()
                .find(|c| c.source.eq_ignore_ascii_case(column))
                .map(|c| {
                    (
                        format!("{}.{}", quote_ident(&e.alias), quote_ident(&c.target)),
                        c.ty.clone(),
                    )
                })
        };
        match table {
            Some(t) => match self.from.iter().find(|e| e.key.eq_ignore_ascii_case(t)) {
                Some(e) => find(e),
                None => self.outer.and_then(|o| self.outer_name(o, table, column)),
            },
            // SQLite refused ambiguous names when the view was created: the first match is the
            // only one, or the left side of a USING join, as in PostgreSQL.
            None => self.from.iter().find_map(find).or_else(|| {
                self.outputs
                    .borrow()
                    .iter()
                    .find(|(n, _, _)| n.eq_ignore_ascii_case(column))
                    .map(|(_, sql, ty)| (sql.clone(), ty.clone()))
                    .or_else(|| self.outer.and_then(|o| self.outer_name(o, None, column)))
            }),
        }
    }
}

impl CoreScope<'_> {
    /// A name of the enclosing query, as rendered there (`"alias"."column"`), unless one of
    /// this query's own aliases would capture it in PostgreSQL.
    fn outer_name(
        &self,
        outer: &dyn Scope,
        table: Option<&str>,
        column: &str,
    ) -> Option<(String, Option<PgType>)> {
        let (sql, ty) = outer.resolve(table, column)?;
        let captured = self
            .from
            .iter()
            .any(|e| sql.starts_with(&format!("{}.", quote_ident(&e.alias))));
        (!captured).then_some((sql, ty))
    }
}

/// A subquery of a query whose names `outer` resolves: names resolve in the subquery's own
/// FROM first, then in `outer` (correlated). Used as a value or with IN, it has one column.
pub(super) fn subquery<'r>(
    select: &Select,
    schema: &'r str,
    relations: &'r dyn Fn(&str) -> Option<Relation>,
    outer: &'r (dyn Scope + 'r),
    one_column: bool,
) -> Result<String, Untranslatable> {
    let v = translate_select(select, schema, relations, Some(outer))?;
    if one_column && v.columns.len() != 1 {
        return refuse("a subquery used as a value or with IN must return one column");
    }
    Ok(v.select)
}

fn no_columns(_: &str) -> Option<(String, PgType)> {
    None
}

/// Translates the SELECT of a view; `relations` gives the tables and views it may read.
pub fn translate_view(
    select_sql: &str,
    schema: &str,
    relations: &dyn Fn(&str) -> Option<Relation>,
) -> Result<TranslatedView, Untranslatable> {
    let select: Select =
        parse_select(select_sql).or_else(|e| refuse(format!("the SELECT cannot be read: {e}")))?;
    translate_select(&select, schema, relations, None)
}

fn translate_select<'r>(
    select: &Select,
    schema: &'r str,
    relations: &'r dyn Fn(&str) -> Option<Relation>,
    outer: Option<&'r (dyn Scope + 'r)>,
) -> Result<TranslatedView, Untranslatable> {
    let (first_sql, columns, first_scope) = core(&select.first, schema, relations, outer)?;
    let mut sql = first_sql;
    for (op, c) in &select.compound {
        let (s, _, _) = core(c, schema, relations, outer)?;
        let op = match op {
            Compound::Union => "UNION",
            Compound::UnionAll => "UNION ALL",
            Compound::Intersect => "INTERSECT",
            Compound::Except => "EXCEPT",
        };
        sql = format!("{sql}\n{op}\n{s}");
    }
    if select.compound.is_empty() {
        // ORDER BY and LIMIT see the core's FROM and its result columns.
        sql.push_str(&order_and_limit(select, &first_scope)?);
        return Ok(TranslatedView {
            select: sql,
            columns,
        });
    }
    // A compound's ORDER BY names result columns: sort the compound as a derived table, where
    // the names can carry COLLATE and NULLS.
    let outputs: Vec<(String, String, Option<PgType>)> = columns
        .iter()
        .map(|c| (c.source.clone(), quote_ident(&c.target), c.ty.clone()))
        .collect();
    let scope = CoreScope {
        schema,
        relations,
        from: Vec::new(),
        outputs: RefCell::new(outputs),
        outer,
    };
    let tail = order_and_limit(select, &scope)?;
    if tail.is_empty() {
        return Ok(TranslatedView {
            select: sql,
            columns,
        });
    }
    Ok(TranslatedView {
        select: format!("SELECT * FROM (\n{sql}\n) AS \"compound\"{tail}"),
        columns,
    })
}

fn render<'c, 'a>(ctx: &'c super::ExprContext<'a>, scope: &'c CoreScope<'_>) -> Render<'c, 'a> {
    Render {
        ctx,
        scope: Some(scope),
    }
}

/// One SELECT core, its result columns, and the scope its ORDER BY resolves in.
fn core<'r>(
    c: &SelectCore,
    schema: &'r str,
    relations: &'r dyn Fn(&str) -> Option<Relation>,
    outer: Option<&'r (dyn Scope + 'r)>,
) -> Result<(String, Vec<RelColumn>, CoreScope<'r>), Untranslatable> {
    let mut from = Vec::new();
    for item in &c.from {
        let Some(rel) = relations(&item.table) else {
            return refuse(format!("it reads `{}`, which is not migrated", item.table));
        };
        let key = item.alias.clone().unwrap_or_else(|| item.table.clone());
        from.push(FromEntry {
            alias: pg_name(&key),
            key,
            rel,
        });
    }
    let scope = CoreScope {
        schema,
        relations,
        from,
        outputs: RefCell::new(Vec::new()),
        outer,
    };
    let ctx = super::ExprContext {
        columns: &no_columns,
    };
    let r = render(&ctx, &scope);
    let mut items = Vec::new();
    let mut columns = Vec::new();
    for rc in &c.columns {
        match rc {
            ResultColumn::Star => {
                items.push("*".to_string());
                for e in &scope.from {
                    columns.extend(e.rel.columns.iter().cloned());
                }
            }
            ResultColumn::TableStar(t) => {
                let Some(e) = scope.from.iter().find(|e| e.key.eq_ignore_ascii_case(t)) else {
                    return refuse(format!("`{t}.*` names no table of the FROM clause"));
                };
                items.push(format!("{}.*", quote_ident(&e.alias)));
                columns.extend(e.rel.columns.iter().cloned());
            }
            ResultColumn::Expr { expr, alias, text } => {
                let sql = r.expr(expr)?;
                let ty = known_type(expr, &r);
                let (name, target) = match (alias, expr) {
                    (Some(a), _) => (a.clone(), Some(pg_name(a))),
                    // `"name"` naming a column is that column (SQLite names it `name`).
                    (None, Expr::DoubleQuoted(n)) if r.is_column(expr) => {
                        let target = scope.resolve_target(n).unwrap_or_else(|| pg_name(n));
                        (n.clone(), (target != *n).then(|| target.clone()))
                    }
                    (None, Expr::Column(n) | Expr::Qualified { column: n, .. }) => {
                        let target = scope.resolve_target(n).unwrap_or_else(|| pg_name(n));
                        (n.clone(), (target != *n).then(|| target.clone()))
                    }
                    (None, _) => (text.clone(), Some(pg_name(text))),
                };
                let out_name = target.clone().unwrap_or_else(|| name.clone());
                items.push(match &target {
                    Some(t) => format!("{sql} AS {}", quote_ident(t)),
                    None => sql.clone(),
                });
                scope
                    .outputs
                    .borrow_mut()
                    .push((name.clone(), sql, ty.clone()));
                columns.push(RelColumn {
                    source: name,
                    target: out_name,
                    ty,
                });
            }
        }
    }
    let mut sql = format!(
        "SELECT {}{}",
        if c.distinct { "DISTINCT " } else { "" },
        items.join(", ")
    );
    for (item, entry) in c.from.iter().zip(&scope.from) {
        let table = format!(
            "{} AS {}",
            qualified(schema, &entry.rel.target),
            quote_ident(&entry.alias)
        );
        let join = match item.join {
            Join::First => "\nFROM",
            Join::Cross => "\nCROSS JOIN",
            Join::Inner if item.on.is_none() && item.using.is_empty() => "\nCROSS JOIN",
            Join::Inner => "\nJOIN",
            Join::Left => "\nLEFT JOIN",
        };
        sql.push_str(&format!("{join} {table}"));
        if let Some(on) = &item.on {
            sql.push_str(&format!(" ON {}", r.expr(on)?));
        } else if !item.using.is_empty() {
            let cols: Vec<String> = item
                .using
                .iter()
                .map(|u| quote_ident(&pg_name(u)))
                .collect();
            sql.push_str(&format!(" USING ({})", cols.join(", ")));
        } else if item.join == Join::Left {
            return refuse("LEFT JOIN without ON or USING");
        }
    }
    if let Some(w) = &c.where_clause {
        sql.push_str(&format!("\nWHERE {}", r.expr(w)?));
    }
    if !c.group_by.is_empty() {
        let terms = c
            .group_by
            .iter()
            .map(|g| r.expr(g))
            .collect::<Result<Vec<_>, _>>()?;
        sql.push_str(&format!("\nGROUP BY {}", terms.join(", ")));
    }
    if let Some(h) = &c.having {
        sql.push_str(&format!("\nHAVING {}", r.expr(h)?));
    }
    Ok((sql, columns, scope))
}

impl CoreScope<'_> {
    fn resolve_target(&self, column: &str) -> Option<String> {
        self.from.iter().find_map(|e| {
            e.rel
                .columns
                .iter()
                .find(|c| c.source.eq_ignore_ascii_case(column))
                .map(|c| c.target.clone())
        })
    }
}

/// ORDER BY (text by bytes, NULLs first ascending, as SQLite) and LIMIT/OFFSET.
fn order_and_limit(select: &Select, scope: &CoreScope<'_>) -> Result<String, Untranslatable> {
    let ctx = super::ExprContext {
        columns: &no_columns,
    };
    let r = render(&ctx, scope);
    let mut out = String::new();
    if !select.order_by.is_empty() {
        let terms = select
            .order_by
            .iter()
            .map(|t| order_term(t, &r, scope))
            .collect::<Result<Vec<_>, _>>()?;
        out.push_str(&format!("\nORDER BY {}", terms.join(", ")));
    }
    if let Some((n, offset)) = &select.limit {
        out.push_str(&format!("\nLIMIT {}", r.expr(n)?));
        if let Some(o) = offset {
            out.push_str(&format!(" OFFSET {}", r.expr(o)?));
        }
    }
    Ok(out)
}

fn order_term(t: &OrderTerm, r: &Render, scope: &CoreScope<'_>) -> Result<String, Untranslatable> {
    // `ORDER BY 2` is the second result column.
    let (sql, ty) = match &t.expr {
        Expr::Number(n) => {
            let i: usize = n
                .parse()
                .or_else(|_| refuse(format!("ORDER BY {n} is not a column position")))?;
            let outputs = scope.outputs.borrow();
            let Some((_, sql, ty)) = i.checked_sub(1).and_then(|i| outputs.get(i)) else {
                return refuse(format!("ORDER BY {n}: there is no such column"));
            };
            (sql.clone(), ty.clone())
        }
        e => (r.expr(e)?, known_type(e, r)),
    };
    let collate = match &ty {
        Some(t) if is_text(Some(t)) => " COLLATE \"C\"",
        Some(_) => "",
        None => {
            return refuse(
                "ORDER BY a value of unknown type: SQLite sorts text by bytes and NULLs first, which \
             PostgreSQL only does when told the type",
            );
        }
    };
    let dir = if t.descending { " DESC" } else { "" };
    let nulls = match t.nulls_first.unwrap_or(!t.descending) {
        true => " NULLS FIRST",
        false => " NULLS LAST",
    };
    Ok(format!("{sql}{collate}{dir}{nulls}"))
}

impl Render<'_, '_> {
    /// Aggregate calls, in views only; `None` for other functions.
    pub(super) fn aggregate(
        &self,
        name: &str,
        args: &[Expr],
        distinct: bool,
        star: bool,
    ) -> Result<Option<String>, Untranslatable> {
        if self.scope.is_none() {
            return Ok(None);
        }
        let lower = name.to_ascii_lowercase();
        if star {
            return match lower.as_str() {
                "count" => Ok(Some("count(*)".into())),
                _ => Ok(None),
            };
        }
        let [arg] = args else {
            return Ok(None);
        };
        let ty = known_type(arg, self);
        let x = self.expr(arg)?;
        let d = if distinct { "DISTINCT " } else { "" };
        let numeric_only = |what: &str| -> Result<(), Untranslatable> {
            match &ty {
                Some(t) if is_text(Some(t)) || *t == PgType::Boolean || *t == PgType::Bytea => {
                    refuse(format!(
                        "{what}() of {t}: SQLite reads the values as numbers, PostgreSQL refuses them"
                    ))
                }
                _ => Ok(()),
            }
        };
        Ok(Some(match lower.as_str() {
            "count" => format!("count({d}{x})"),
            "sum" => {
                numeric_only("sum")?;
                format!("sum({d}{x})")
            }
            "avg" => {
                numeric_only("avg")?;
                format!("avg({d}CAST({x} AS double precision))")
            }
            "total" => {
                numeric_only("total")?;
                format!("coalesce(sum({d}CAST({x} AS double precision)), 0)")
            }
            "min" | "max" => match &ty {
                Some(t) if is_text(Some(t)) => format!("{lower}({d}{x} COLLATE \"C\")"),
                Some(PgType::Boolean) | None => {
                    return refuse(format!(
                        "{lower}() of a value whose type is not known or boolean: SQLite compares \
                         across storage classes"
                    ));
                }
                Some(_) => format!("{lower}({d}{x})"),
            },
            _ => return Ok(None),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rels(name: &str) -> Option<Relation> {
        let col = |s: &str, ty: PgType| RelColumn {
            source: s.into(),
            target: s.into(),
            ty: Some(ty),
        };
        match name.to_ascii_lowercase().as_str() {
            "products" => Some(Relation {
                target: "Products".into(),
                columns: vec![
                    col("ProductID", PgType::Integer),
                    col("ProductName", PgType::Text),
                    col("Discontinued", PgType::Text),
                    col("UnitPrice", PgType::DoublePrecision),
                ],
            }),
            "order details" => Some(Relation {
                target: "Order Details".into(),
                columns: vec![
                    col("ProductID", PgType::Integer),
                    col("Quantity", PgType::Integer),
                ],
            }),
            _ => None,
        }
    }

    fn t(sql: &str) -> Result<String, Untranslatable> {
        translate_view(sql, "public", &rels).map(|v| v.select)
    }

    #[test]
    fn joins_and_names_are_requoted() {
        let sql = t("SELECT Products.ProductName, sum([Order Details].Quantity) AS n \
                     FROM Products JOIN [Order Details] ON Products.ProductID = [Order Details].ProductID \
                     WHERE Discontinued = 0 GROUP BY Products.ProductName ORDER BY n DESC")
        .unwrap_err();
        // `n` is a sum of unknown type: its order is refused, never guessed.
        assert!(sql.reason.contains("unknown type"), "{sql}");
        let sql = t("SELECT Products.ProductName, sum([Order Details].Quantity) AS n \
                     FROM Products JOIN [Order Details] ON Products.ProductID = [Order Details].ProductID \
                     WHERE Discontinued = 0 GROUP BY Products.ProductName ORDER BY ProductName")
        .unwrap();
        assert_eq!(
            sql,
            "SELECT \"Products\".\"ProductName\", sum(\"Order Details\".\"Quantity\") AS \"n\"\n\
             FROM \"public\".\"Products\" AS \"Products\"\n\
             JOIN \"public\".\"Order Details\" AS \"Order Details\" ON \"Products\".\"ProductID\" = \"Order Details\".\"ProductID\"\n\
             WHERE \"Products\".\"Discontinued\" = '0'\n\
             GROUP BY \"Products\".\"ProductName\"\n\
             ORDER BY \"Products\".\"ProductName\" COLLATE \"C\" NULLS FIRST"
        );
    }

    // See: issue #13 item 7 — `select "ProductName"` made a column named `"ProductName"`,
    // quotes included.
    #[test]
    fn a_double_quoted_column_keeps_sqlites_name() {
        let v = translate_view(
            "SELECT ProductID, \"ProductName\", \"nope\" FROM Products",
            "public",
            &rels,
        )
        .unwrap();
        let names: Vec<&str> = v.columns.iter().map(|c| c.target.as_str()).collect();
        assert_eq!(names, ["ProductID", "ProductName", "\"nope\""]);
        assert!(!v.select.contains("AS \"\"\"ProductName"), "{}", v.select);
    }

    // See: issue #13 item 7 — a correlated subquery was refused as "unknown column".
    #[test]
    fn correlated_subqueries_and_exists_translate() {
        let sql = t(
            "SELECT ProductID, (SELECT sum(Quantity) FROM [Order Details] d \
                     WHERE d.ProductID = Products.ProductID) AS q FROM Products",
        )
        .unwrap();
        assert!(
            sql.contains("WHERE \"d\".\"ProductID\" = \"Products\".\"ProductID\""),
            "{sql}"
        );
        let sql = t("SELECT ProductName FROM Products p WHERE EXISTS \
                     (SELECT 1 FROM [Order Details] WHERE ProductID = p.ProductID) \
                     AND ProductID NOT IN (SELECT ProductID FROM [Order Details] WHERE Quantity > 9)")
        .unwrap();
        assert!(sql.contains("EXISTS (SELECT"), "{sql}");
        assert!(sql.contains("NOT IN (SELECT"), "{sql}");
        // An unqualified name of the subquery's own table stays its own.
        assert!(
            sql.contains("WHERE \"Order Details\".\"ProductID\" = \"p\".\"ProductID\""),
            "{sql}"
        );
    }

    #[test]
    fn refuses_what_changes_meaning() {
        let e = t("SELECT ProductName + ' ' + Discontinued FROM Products").unwrap_err();
        assert!(e.reason.contains("on text"), "{e}");
        let e = t("SELECT * FROM Products WHERE UnitPrice > DATETIME('1997-01-01')").unwrap_err();
        assert!(e.reason.contains("DATETIME()"), "{e}");
        let e = t("SELECT * FROM Products WHERE ProductName < 5").unwrap_err();
        assert!(e.reason.contains("orders a text column"), "{e}");
        let e = t("SELECT * FROM Products p WHERE UnitPrice = \
                   (SELECT max(UnitPrice) FROM Products q WHERE q.ProductID = p.NoSuchColumn)")
        .unwrap_err();
        assert!(e.reason.contains("unknown column `p.NoSuchColumn`"), "{e}");
        let sub = t("SELECT ProductName FROM Products WHERE UnitPrice > (SELECT avg(UnitPrice) FROM Products)")
            .unwrap();
        assert!(
            sub.contains("> (SELECT avg(CAST(\"Products\".\"UnitPrice\" AS double precision))"),
            "{sub}"
        );
        let e = t("SELECT * FROM Missing").unwrap_err();
        assert!(e.reason.contains("not migrated"), "{e}");
    }

    #[test]
    fn compound_order_by_sorts_a_derived_table() {
        let sql =
            t("SELECT ProductName AS name FROM Products UNION SELECT 'x' ORDER BY name").unwrap();
        assert!(sql.starts_with("SELECT * FROM (\nSELECT"), "{sql}");
        assert!(
            sql.ends_with("ORDER BY \"name\" COLLATE \"C\" NULLS FIRST"),
            "{sql}"
        );
    }
}
