//! `type = "enum"` in `--config`: a column written as text with `CHECK (c IN ('a', 'b'))`
//! becomes a PostgreSQL enum type with exactly those labels, in that order. The CHECK is kept
//! as well (it still holds); a value outside the list sends its row to the rejects file.

use crate::model::schema::Table;
use crate::postgres::ident::quote_literal;
use crate::sqlite::sql::expr::Expr;
use crate::sqlite::sql::parse_expr::parse_expr;

/// The labels of the `CHECK (column IN ('a', 'b', …))` of `t`, if it has one.
pub fn check_labels(t: &Table, column: &str) -> Option<Vec<String>> {
    t.checks.iter().find_map(|check| {
        let Ok(Expr::In {
            expr,
            list,
            negated: false,
        }) = parse_expr(&check.expr)
        else {
            return None;
        };
        let named = match expr.as_ref() {
            Expr::Column(n) | Expr::DoubleQuoted(n) => n.eq_ignore_ascii_case(column),
            _ => false,
        };
        if !named || list.is_empty() {
            return None;
        }
        list.iter()
            .map(|e| match e {
                Expr::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    })
}

/// `CREATE TYPE … AS ENUM (…);` — run with the table's `CREATE TABLE` in its transaction. A
/// same-named type that is already there is not pgcarry's to replace: the table fails with
/// the server's error. `--if-exists drop` drops the type with the table that uses it.
pub fn create_type_sql(sql_name: &str, labels: &[String]) -> String {
    let list: Vec<String> = labels.iter().map(|l| quote_literal(l)).collect();
    format!("CREATE TYPE {sql_name} AS ENUM ({});\n", list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::schema::Check;

    fn table(checks: &[&str]) -> Table {
        Table {
            name: "t".into(),
            columns: Vec::new(),
            primary_key: Vec::new(),
            rowid_alias: None,
            autoincrement: false,
            without_rowid: false,
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            checks: checks
                .iter()
                .map(|c| Check {
                    name: None,
                    expr: c.to_string(),
                })
                .collect(),
            sequence: None,
            sql: String::new(),
            sql_error: None,
        }
    }

    #[test]
    fn labels_come_from_the_columns_in_list() {
        let t = table(&["n > 0", "\"Status\" IN ('open', 'it''s closed')"]);
        assert_eq!(
            check_labels(&t, "status"),
            Some(vec!["open".to_string(), "it's closed".to_string()])
        );
        assert_eq!(check_labels(&t, "other"), None);
        assert_eq!(
            check_labels(&table(&["status IN ('a', 1)"]), "status"),
            None
        );
        assert_eq!(
            check_labels(&table(&["status NOT IN ('a')"]), "status"),
            None
        );
        assert_eq!(
            create_type_sql("\"s\".\"t_status\"", &["a".into()]),
            "CREATE TYPE \"s\".\"t_status\" AS ENUM ('a');\n"
        );
    }
}
