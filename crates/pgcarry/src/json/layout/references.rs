//! References between collections: a column `x_id` whose every value is an `id` of the
//! collection `x` (or `xs`, `xes`, `x` with `y` → `ies`) becomes a foreign key, declared with
//! the type of the key it references so that PostgreSQL can create it. A single value without
//! its parent, a value of another kind, or a parent keyed otherwise than by `id`: no foreign
//! key (nothing to report; the column is loaded as is).

use super::{Layout, Reference, Role, Storage};
use crate::json::stats::Node;

/// `x_id` columns of a collection whose every value is an `id` of collection `x`/`xs`.
pub fn find(layout: &mut Layout, roots: &[Node]) {
    let tables = &layout.tables;
    let mut found = Vec::new();
    for (ci, c) in layout.collections.iter().enumerate() {
        let t = &tables[c.table];
        for (col, column) in t.columns.iter().enumerate() {
            let Role::Field(path) = &column.role else {
                continue;
            };
            let [name] = path.as_slice() else { continue };
            let Some(x) = name.strip_suffix("_id").filter(|x| !x.is_empty()) else {
                continue;
            };
            let Some(values) = roots[ci].get(name).and_then(|f| f.stats.values.as_ref()) else {
                continue;
            };
            let names = [
                x.to_string(),
                format!("{x}s"),
                format!("{x}es"),
                x.strip_suffix('y')
                    .map_or_else(String::new, |s| format!("{s}ies")),
            ];
            let parent = layout.collections.iter().enumerate().find(|(pi, p)| {
                *pi != ci
                    && names
                        .iter()
                        .any(|n| tables[p.table].name.eq_ignore_ascii_case(n))
            });
            let Some((pi, p)) = parent else { continue };
            let pt = &tables[p.table];
            let [pk] = pt.primary_key.as_slice() else {
                continue;
            };
            if pt.columns[*pk].role != Role::Field(vec!["id".into()]) {
                continue;
            }
            let parent_values = roots[pi].get("id").and_then(|f| f.stats.values.as_ref());
            let ok = column.storage != Storage::Json
                && column.storage == pt.columns[*pk].storage
                && !values.is_empty()
                && parent_values.is_some_and(|pv| values.iter().all(|v| pv.contains(v)));
            if ok {
                found.push((c.table, col, p.table, *pk));
            }
        }
    }
    for (t, column, table, parent_column) in found {
        let declared = layout.tables[table].columns[parent_column].declared.clone();
        let tl = &mut layout.tables[t];
        // The same type as the key it references, so the foreign key can be created.
        tl.columns[column].declared = declared;
        tl.references.push(Reference {
            column,
            table,
            parent_column,
        });
    }
}
