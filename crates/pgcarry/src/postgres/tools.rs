//! PostgreSQL's client tools on this machine (`pg_dump`, `pg_restore`): found on `PATH` or under
//! `/usr/lib/postgresql/*/bin`, each with its major version, so a command can choose one that
//! understands the server (or the archive) before running it. Runs nothing but `--version`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One installed tool and its version.
#[derive(Debug, Clone)]
pub struct Tool {
    pub path: PathBuf,
    pub major: u32,
    /// As the tool prints it: `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`.
    pub version: String,
}

/// Why no usable tool was found.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error(
        "{name} not found on PATH nor under /usr/lib/postgresql/*/bin: install PostgreSQL's \
         client tools, version {need} or newer (Debian/Ubuntu: postgresql-client-{need})"
    )]
    Missing { name: String, need: u32 },
    #[error(
        "{name} {found} cannot read a version {need} {what}: install {name} {need} or newer \
         (Debian/Ubuntu: postgresql-client-{need}; found: {list})"
    )]
    TooOld {
        name: String,
        need: u32,
        found: u32,
        what: &'static str,
        list: String,
    },
    #[error("{0}: not a runnable PostgreSQL tool (`--version` failed)")]
    Broken(PathBuf),
}

/// The `major` of a tool's `--version` line (`pg_dump (PostgreSQL) 15.18 ...` gives 15).
pub fn parse_major(version: &str) -> Option<u32> {
    let number = version.split(')').nth(1)?.split_whitespace().next()?;
    number.split(['.', 'b', 'r', 'd']).next()?.parse().ok()
}

/// The tool at `path`, with its version.
pub fn probe(path: &Path) -> Result<Tool, ToolError> {
    let out = Command::new(path)
        .arg("--version")
        .output()
        .map_err(|_| ToolError::Broken(path.to_path_buf()))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    match parse_major(&version) {
        Some(major) if out.status.success() => Ok(Tool {
            path: path.to_path_buf(),
            major,
            version,
        }),
        _ => Err(ToolError::Broken(path.to_path_buf())),
    }
}

/// Every installed copy of `name`, PATH's first.
fn candidates(name: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = entries.flatten().map(|e| e.path().join("bin")).collect();
        versions.sort();
        dirs.extend(versions);
    }
    let mut found: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        let path = dir.join(name);
        if path.is_file() {
            let real = std::fs::canonicalize(&path).unwrap_or(path);
            if !found.contains(&real) {
                found.push(real);
            }
        }
    }
    found
}

/// `explicit` if given, else the newest installed `name`; either way its major version must
/// be at least `need` (the server's for `pg_dump`, the archive's for `pg_restore`).
pub fn find(
    name: &str,
    explicit: Option<&Path>,
    need: u32,
    what: &'static str,
) -> Result<Tool, ToolError> {
    let tools: Vec<Tool> = match explicit {
        Some(path) => vec![probe(path)?],
        None => candidates(name)
            .iter()
            .filter_map(|p| probe(p).ok())
            .collect(),
    };
    let best = tools
        .iter()
        .max_by_key(|t| t.major)
        .ok_or(ToolError::Missing {
            name: name.to_string(),
            need,
        })?;
    if best.major >= need {
        return Ok(best.clone());
    }
    Err(ToolError::TooOld {
        name: name.to_string(),
        need,
        found: best.major,
        what,
        list: tools
            .iter()
            .map(|t| format!("{} {}", t.path.display(), t.major))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::parse_major;

    #[test]
    fn majors_of_version_lines() {
        assert_eq!(
            parse_major("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"),
            Some(15)
        );
        assert_eq!(parse_major("pg_restore (PostgreSQL) 17beta2"), Some(17));
        assert_eq!(parse_major("pg_dump (PostgreSQL) 9.6.24"), Some(9));
        assert_eq!(parse_major("nonsense"), None);
    }
}
