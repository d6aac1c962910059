//! The built-in sample application database. (stub with the agreed API: being written)
use std::path::{Path, PathBuf};
pub struct SampleOptions {
    pub scale: u32,
    pub seed: u64,
}
impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions { scale: 1, seed: 1 }
    }
}
pub struct SampleSummary {
    pub path: PathBuf,
    pub tables: Vec<(String, u64)>,
    pub bytes: u64,
}
#[derive(Debug, thiserror::Error)]
#[error("sample generator not merged")]
pub struct SampleError;
pub fn generate(_path: &Path, _opts: &SampleOptions) -> Result<SampleSummary, SampleError> {
    Err(SampleError)
}
