//! Orphan rows under `--orphans reject|null`: the rule the reader applies to the rows of a
//! table whose foreign key SQLite never checked, and the plan's sentence about it.
//!
//! The scan already counted them (`foreign_key_check`); the rule lets the reader recognise
//! each one again while it streams, so nothing is held in memory. With either policy the
//! foreign key itself is created, and holds.

use crate::model::plan::{OrphanPolicy, OrphanRule};
use crate::model::schema::{ForeignKey, Orphans, Table};

/// The rule for `fk` of `t` under `policy` (reject or null), and the plan's warning.
pub fn rule(
    t: &Table,
    fk: &ForeignKey,
    o: &Orphans,
    policy: OrphanPolicy,
) -> (Option<OrphanRule>, String) {
    let foreign_key = fk.describe(&t.name);
    let columns: Option<Vec<usize>> = fk
        .columns
        .iter()
        .map(|c| {
            t.columns
                .iter()
                .position(|x| x.name.eq_ignore_ascii_case(c))
        })
        .collect();
    let Some(columns) = columns else {
        return (
            None,
            format!("{foreign_key}: names a column the table does not have"),
        );
    };
    let null = policy == OrphanPolicy::Null;
    let not_null: Vec<&str> = columns
        .iter()
        .filter(|&&i| t.columns[i].not_null || t.primary_key.contains(&t.columns[i].name))
        .map(|&i| t.columns[i].name.as_str())
        .collect();
    let what = if !null {
        "go to the rejects file".to_string()
    } else if not_null.is_empty() {
        format!(
            "have {} set to NULL (counted in the report)",
            fk.columns.join(", ")
        )
    } else {
        format!(
            "go to the rejects file: {} cannot be NULL",
            not_null.join(", ")
        )
    };
    let examples = if o.example_rowids.is_empty() {
        String::new()
    } else {
        let ids: Vec<String> = o.example_rowids.iter().map(i64::to_string).collect();
        format!(" (rowid {})", ids.join(", "))
    };
    let message = format!(
        "{} row(s) of {foreign_key} reference a missing parent{examples}: SQLite never checked \
         them; they {what}, and the foreign key is created",
        o.rows
    );
    let rule = OrphanRule {
        foreign_key,
        columns,
        parent_table: fk.ref_table.clone(),
        parent_columns: fk.ref_columns.clone(),
        null: null && not_null.is_empty(),
    };
    (Some(rule), message)
}
