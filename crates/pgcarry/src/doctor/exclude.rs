//! The exclude file: the keys of findings a team accepted, one per line (`#` starts a
//! comment); a key ending in `*` matches every key that starts with what comes before it.

use std::path::Path;

/// The keys (and key prefixes) to silence.
#[derive(Debug, Clone, Default)]
pub struct Exclusions {
    exact: Vec<String>,
    prefixes: Vec<String>,
}

impl Exclusions {
    /// The exclusions of a file's text.
    pub fn parse(text: &str) -> Exclusions {
        let mut out = Exclusions::default();
        for line in text.lines() {
            let key = line.split('#').next().unwrap_or_default().trim();
            if key.is_empty() {
                continue;
            }
            match key.strip_suffix('*') {
                Some(prefix) => out.prefixes.push(prefix.to_string()),
                None => out.exact.push(key.to_string()),
            }
        }
        out
    }

    /// Reads the exclude file at `path`.
    pub fn read(path: &Path) -> Result<Exclusions, String> {
        std::fs::read_to_string(path)
            .map(|text| Exclusions::parse(&text))
            .map_err(|e| format!("could not read the exclude file {}: {e}", path.display()))
    }

    pub fn matches(&self, key: &str) -> bool {
        self.exact.iter().any(|k| k == key) || self.prefixes.iter().any(|p| key.starts_with(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_prefixes_and_comments() {
        let e = Exclusions::parse(
            "# accepted\nno_primary_key:public.log  # an append-only log\n\ntls:*\n",
        );
        assert!(e.matches("no_primary_key:public.log"));
        assert!(!e.matches("no_primary_key:public.logs"));
        assert!(e.matches("tls:connection"));
        assert!(!e.matches("hba:pg_hba line 3"));
    }
}
