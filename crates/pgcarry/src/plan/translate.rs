//! Translating SQLite expressions (defaults, CHECKs, index expressions) into PostgreSQL SQL.
//! (stub with the agreed API; replaced by the real translator)
use crate::plan::types::PgType;

pub struct ExprContext<'a> {
    pub columns: &'a dyn Fn(&str) -> Option<(String, PgType)>,
}
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Untranslatable {
    pub reason: String,
}
pub fn translate_expr(_e: &str, _ctx: &ExprContext) -> Result<String, Untranslatable> {
    Err(Untranslatable {
        reason: "translator not merged".into(),
    })
}
pub fn translate_default(_e: &str, _t: &PgType) -> Result<String, Untranslatable> {
    Err(Untranslatable {
        reason: "translator not merged".into(),
    })
}
