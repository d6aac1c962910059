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
    let Some(rule) = build(t, fk, policy) else {
        return (
            None,
            format!("{foreign_key}: names a column the table does not have"),
        );
    };
    let what = if !rule.null && policy == OrphanPolicy::Null {
        format!(
            "go to the rejects file: {} cannot be NULL",
            not_null(t, &rule.columns).join(", ")
        )
    } else if rule.null {
        format!(
            "have {} set to NULL (counted in the report)",
            fk.columns.join(", ")
        )
    } else {
        "go to the rejects file".to_string()
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
    (Some(rule), message)
}

/// The referencing columns among `columns` that cannot hold NULL.
fn not_null<'t>(t: &'t Table, columns: &[usize]) -> Vec<&'t str> {
    columns
        .iter()
        .filter(|&&i| t.columns[i].not_null || t.primary_key.contains(&t.columns[i].name))
        .map(|&i| t.columns[i].name.as_str())
        .collect()
}

/// The rule for `fk` of `t`, without its cascade; `None` when it names a column `t` lacks.
fn build(t: &Table, fk: &ForeignKey, policy: OrphanPolicy) -> Option<OrphanRule> {
    let columns: Vec<usize> = fk
        .columns
        .iter()
        .map(|c| {
            t.columns
                .iter()
                .position(|x| x.name.eq_ignore_ascii_case(c))
        })
        .collect::<Option<_>>()?;
    let null = policy == OrphanPolicy::Null && not_null(t, &columns).is_empty();
    Some(OrphanRule {
        foreign_key: fk.describe(&t.name),
        column_names: columns.iter().map(|&i| t.columns[i].name.clone()).collect(),
        columns,
        parent_table: fk.ref_table.clone(),
        parent_columns: fk.ref_columns.clone(),
        null,
        parent_rejects: Vec::new(),
    })
}

/// How deep the cascade looks: a chain of rejected parents longer than this (a deep tree of
/// orphans in one table) leaves children whose foreign key then fails, loudly.
const CASCADE_DEPTH: usize = 6;
/// The most rules one cascade nests (each is a subquery per row read).
const CASCADE_SIZE: usize = 64;

/// The cascade under `--orphans reject|null`: a row whose parent row is rejected has no parent
/// in PostgreSQL either, so it is an orphan too. Gives every foreign key whose parent table
/// rejects rows a rule (a new one when the scan found no orphan of its own), nesting the
/// parent's rejecting rules, level by level. `rules[i]` belongs to `schema[i]`; returns the
/// plan's sentence for each foreign key that now cascades.
pub fn cascade(
    tables: &[Table],
    rules: &mut [Vec<OrphanRule>],
    policy: OrphanPolicy,
) -> Vec<(String, String)> {
    if !matches!(policy, OrphanPolicy::Reject | OrphanPolicy::Null) {
        return Vec::new();
    }
    let mut said = Vec::new();
    for _ in 0..CASCADE_DEPTH {
        let rejecting: Vec<(String, Vec<OrphanRule>)> = tables
            .iter()
            .zip(rules.iter())
            .map(|(t, r)| {
                let r: Vec<OrphanRule> = r.iter().filter(|r| !r.null).cloned().collect();
                (t.name.clone(), r)
            })
            .collect();
        let mut changed = false;
        for (t, own) in tables.iter().zip(rules.iter_mut()) {
            for fk in &t.foreign_keys {
                let Some((_, parent)) = rejecting
                    .iter()
                    .find(|(n, r)| n.eq_ignore_ascii_case(&fk.ref_table) && !r.is_empty())
                else {
                    continue;
                };
                let nested: usize = parent.iter().map(OrphanRule::size).sum();
                if nested + 1 > CASCADE_SIZE {
                    continue;
                }
                let described = fk.describe(&t.name);
                let at = match own.iter().position(|r| r.foreign_key == described) {
                    Some(at) => at,
                    None => {
                        let Some(rule) = build(t, fk, policy) else {
                            continue;
                        };
                        own.push(rule);
                        own.len() - 1
                    }
                };
                let rule = &mut own[at];
                if rule.parent_rejects.is_empty() {
                    let what = if rule.null {
                        format!("has {} set to NULL", fk.columns.join(", "))
                    } else {
                        "goes to the rejects file".to_string()
                    };
                    said.push((
                        t.name.clone(),
                        format!(
                            "{described}: a row whose parent row is rejected {what} too \
                             (the cascade of --orphans)"
                        ),
                    ));
                }
                // Deeper each round, until the parents' rules stop growing.
                if rule.size() != 1 + nested {
                    rule.parent_rejects = parent.clone();
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    said
}
