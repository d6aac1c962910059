//! What a table that exists already in the target must be for the plan to load into it, and
//! what the plan changes in it: under `--if-exists truncate` its columns must be the plan's;
//! under `--if-exists upsert` the columns it shares with the plan must have the plan's type or
//! one the plan's widens ([`decide::widens`], the planner's one widening rule), and the plan's
//! new columns are added, nullable.
//!
//! The target's columns are only known at run time, so the executor reads them from the
//! catalog and calls these pure functions with them: the decision and the statements are the
//! plan's, made here, not the executor's. Nothing here talks to a server.

use super::decide;
use crate::model::config::parse_type;
use crate::model::plan::TablePlan;
use crate::postgres::ident::{qualified, quote_ident};

/// A column of an existing table: its name and type as `format_type` spells it.
pub type Column = (String, String);

/// `--if-exists truncate`: the existing columns must be the plan's, in order; else why not.
pub fn check_same(tp: &TablePlan, have: &[Column]) -> Result<(), String> {
    let want: Vec<Column> = tp
        .columns
        .iter()
        .map(|c| (c.name.clone(), normalise_type(&c.pg_type.sql())))
        .collect();
    let have_norm: Vec<Column> = have
        .iter()
        .map(|(n, t)| (n.clone(), normalise_type(t)))
        .collect();
    if have_norm == want {
        return Ok(());
    }
    let list = |cols: &[Column]| {
        cols.iter()
            .map(|(n, t)| format!("{n} {t}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(format!("has {}; plan wants {}", list(have), list(&want)))
}

/// `--if-exists upsert`: the `ALTER TABLE` statements that make the existing table hold the
/// plan's rows (widened columns, added columns); else why it cannot.
pub fn reconcile(schema: &str, tp: &TablePlan, have: &[Column]) -> Result<Vec<String>, String> {
    let qname = qualified(schema, &tp.name);
    let mut out = Vec::new();
    for c in &tp.columns {
        let want = normalise_type(&c.pg_type.sql());
        let column = quote_ident(&c.name);
        match have.iter().find(|(n, _)| n == &c.name).map(|(_, t)| t) {
            Some(t) if normalise_type(t) == want => {}
            Some(t) if widens(t, &c.pg_type) => {
                out.push(widen_column(&qname, &column, &c.pg_type.sql()));
            }
            Some(t) => return Err(format!("column {} is {t}; plan wants {want}", c.name)),
            None if c.not_null => {
                return Err(format!(
                    "it lacks column {}, which must be NOT NULL",
                    c.name
                ));
            }
            None => out.push(add_column(&qname, &column, &c.pg_type.sql())),
        }
    }
    Ok(out)
}

/// The statements [`reconcile`] may return for table `tp`, with `{column}` and `{type}` for
/// what only the target can tell, as `plan --sql` lists them.
pub fn templates(schema: &str, tp: &TablePlan) -> [String; 2] {
    let qname = qualified(schema, &tp.name);
    [
        add_column(&qname, "{column}", "{type}"),
        widen_column(&qname, "{column}", "{type}"),
    ]
}

fn add_column(qname: &str, column: &str, ty: &str) -> String {
    format!("ALTER TABLE {qname} ADD COLUMN {column} {ty}")
}

fn widen_column(qname: &str, column: &str, ty: &str) -> String {
    format!("ALTER TABLE {qname} ALTER COLUMN {column} TYPE {ty}")
}

fn widens(have: &str, to: &crate::model::types::PgType) -> bool {
    parse_type(&normalise_type(have)).is_ok_and(|from| decide::widens(&from, to))
}

/// A type as `format_type` spells it, in the plan's spelling.
fn normalise_type(t: &str) -> String {
    t.replace("character varying", "varchar")
        .replace("timestamp without time zone", "timestamp")
        .replace("timestamp with time zone", "timestamptz")
        .replace("time without time zone", "time")
        .replace(", ", ",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::plan::ColumnPlan;
    use crate::model::types::PgType;

    fn table(cols: &[(&str, PgType, bool)]) -> TablePlan {
        let json = serde_json::json!({
            "source_name": "t", "name": "t", "rows": 0, "columns": [], "create_sql": "",
            "post_load": [], "foreign_keys": [], "identity": null
        });
        let mut tp: TablePlan = serde_json::from_value(json).unwrap();
        tp.columns = cols
            .iter()
            .map(|(n, ty, not_null)| ColumnPlan {
                source_name: n.to_string(),
                name: n.to_string(),
                declared_type: String::new(),
                pg_type: ty.clone(),
                not_null: *not_null,
                identity: false,
                reason: String::new(),
                rejects: None,
                read_as: Default::default(),
                repair: Default::default(),
                generated: None,
                scan_checked: false,
            })
            .collect();
        tp
    }

    fn have(cols: &[(&str, &str)]) -> Vec<Column> {
        cols.iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn upsert_widens_adds_and_refuses() {
        let tp = table(&[
            ("id", PgType::BigInt, true),
            ("name", PgType::Text, false),
            ("n", PgType::Integer, false),
        ]);
        let sql = reconcile(
            "s",
            &tp,
            &have(&[("id", "integer"), ("name", "character varying(10)")]),
        )
        .unwrap();
        assert_eq!(
            sql,
            [
                r#"ALTER TABLE "s"."t" ALTER COLUMN "id" TYPE bigint"#,
                r#"ALTER TABLE "s"."t" ALTER COLUMN "name" TYPE text"#,
                r#"ALTER TABLE "s"."t" ADD COLUMN "n" integer"#,
            ]
        );
        // Narrowing is never done: the existing rows might not fit.
        let err = reconcile("s", &tp, &have(&[("id", "numeric"), ("name", "text")]));
        assert!(err.unwrap_err().contains("column id is numeric"));
        assert!(reconcile("s", &tp, &have(&[("name", "text")])).is_err());
    }

    #[test]
    fn truncate_needs_the_same_columns() {
        let tp = table(&[
            ("id", PgType::BigInt, true),
            ("at", PgType::Timestamp, false),
        ]);
        let same = have(&[("id", "bigint"), ("at", "timestamp without time zone")]);
        assert!(check_same(&tp, &same).is_ok());
        assert!(check_same(&tp, &have(&[("id", "bigint")])).is_err());
    }
}
