//! Opt-in repairs of text PostgreSQL cannot hold: which columns get them, decided at plan time
//! so the load and `pgcarry verify` encode alike.

use crate::model::plan::{Repair, TablePlan};
use crate::model::types::PgType;
use crate::sqlite::scan::TableStats;

/// Puts `repair` on every text column whose scan found a NUL byte or invalid UTF-8, and says
/// in its `rejects` note what the repair covers. `stats[i]` belongs to `tables[i]`.
pub fn apply(tables: &mut [TablePlan], stats: &[TableStats], repair: Repair) {
    if repair.is_none() {
        return;
    }
    for (t, s) in tables.iter_mut().zip(stats) {
        for (c, cs) in t.columns.iter_mut().zip(&s.columns) {
            if cs.text_unholdable == 0
                || !matches!(c.pg_type, PgType::Text | PgType::Varchar { .. })
                || !c.read_as.is_value()
            {
                continue;
            }
            c.repair = repair;
            // Values a flag not given would have repaired still go to the rejects file.
            let (rejected, missing) = match (repair.strip_nul, repair.replace_invalid_utf8) {
                (true, true) => (0, ""),
                (true, false) => (
                    cs.text_invalid_utf8,
                    "invalid UTF-8 (--replace-invalid-utf8 not given)",
                ),
                _ => (cs.text_nul, "a NUL byte (--strip-nul not given)"),
            };
            // Every other value is repairable; a varchar limit may still refuse one.
            c.rejects = (rejected > 0).then(|| {
                format!(
                    "{} text value(s) hold a NUL byte or invalid UTF-8 (e.g. {:?}); {} repairs \
                     {} of them, and the {rejected} row(s) with {missing} go to the rejects file",
                    cs.text_unholdable,
                    cs.text_unholdable_example.as_deref().unwrap_or(""),
                    repair.flags(),
                    cs.text_unholdable - rejected,
                )
            });
        }
    }
}
