//! What `--config` leaves out, decided before the scan (a skipped table is never read): the
//! names it gives must exist in the source, `[collections]` are for JSON stores only, skipped
//! tables and columns leave the schema model with the indexes and foreign keys that read
//! them, and the plan lists each as not migrated.

use crate::model::config::Config;
use crate::model::schema::{Skipped, SkippedKind, SourceSchema};

/// `[collections]` describe a JSON store: refused for the SQLite database `source`.
pub fn refuse_collections(config: &Config, source: &str) -> Result<(), String> {
    if config.collections.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}: [collections] are for JSON stores; {source} is a SQLite database",
        config.source_name()
    ))
}

/// Applies the config's skips to `model`; the error says which setting conflicts with the
/// source (a usage error: nothing was read or written).
pub fn apply(config: &Config, model: &mut SourceSchema) -> Result<(), String> {
    let unreadable = |s: &Skipped| s.kind == Some(SkippedKind::VirtualTable);
    let names: Vec<(String, Vec<String>)> = model
        .tables
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                t.columns.iter().map(|c| c.name.clone()).collect(),
            )
        })
        .chain(
            model
                .skipped
                .iter()
                .filter(|s| unreadable(s))
                .map(|s| (s.name.clone(), Vec::new())),
        )
        .collect();
    let unknown = config.unknown_names(&names);
    if !unknown.is_empty() {
        return Err(format!(
            "{} names what the source does not have: {}",
            config.source_name(),
            unknown.join(", ")
        ));
    }
    let (kept, skipped): (Vec<_>, Vec<_>) = std::mem::take(&mut model.tables)
        .into_iter()
        .partition(|t| !config.table(&t.name).is_some_and(|c| c.skip));
    model.tables = kept;
    let columns_skipped = config.skip_columns(model)?;
    model.skipped.extend(
        skipped
            .into_iter()
            .map(|t| Skipped::new(t.name, format!("skipped by {}", config.source_name()))),
    );
    model.skipped.extend(columns_skipped);
    for s in model.skipped.iter_mut().filter(|s| unreadable(s)) {
        if config.table(&s.name).is_some_and(|c| c.skip) {
            *s = Skipped::new(
                s.name.clone(),
                format!("virtual table skipped by {}", config.source_name()),
            );
        }
    }
    Ok(())
}
