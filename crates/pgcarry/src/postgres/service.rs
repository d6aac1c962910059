//! libpq's connection service file, `pg_service.conf`: named groups of settings chosen with
//! `service=NAME` or `PGSERVICE`.
//!
//! This module finds the files libpq reads (`PGSERVICEFILE`, else `~/.pg_service.conf`; then
//! `PGSYSCONFDIR/pg_service.conf`) and returns the settings of one service as keyword pairs;
//! `conn.rs` decides what they mean and what takes precedence.

use std::path::{Path, PathBuf};

use super::conn_error::ConnError;
use super::conninfo::Params;

/// Where libpq looks for the system-wide file when `PGSYSCONFDIR` is not set (Debian's build).
const SYSCONFDIR: &str = "/etc/postgresql-common";

/// The settings of service `name`, from the first file that defines it.
pub(crate) fn lookup(
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Params, ConnError> {
    let var = |key: &str| env(key).filter(|v| !v.is_empty());
    let user_file = var("PGSERVICEFILE")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| Path::new(&home).join(".pg_service.conf")));
    let system_file = Path::new(&var("PGSYSCONFDIR").unwrap_or_else(|| SYSCONFDIR.into()))
        .join("pg_service.conf");
    let mut looked = Vec::new();
    for file in user_file.into_iter().chain([system_file]) {
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                looked.push(file.display().to_string());
                continue;
            }
            Err(e) => {
                return Err(ConnError::Service {
                    name: name.into(),
                    problem: format!("could not read {}: {e}", file.display()),
                });
            }
        };
        if let Some(params) = section(&text, name).map_err(|problem| ConnError::Service {
            name: name.into(),
            problem: format!("{}: {problem}", file.display()),
        })? {
            return Ok(params);
        }
        looked.push(file.display().to_string());
    }
    Err(ConnError::Service {
        name: name.into(),
        problem: format!("no such service in {}", looked.join(" or ")),
    })
}

/// The `key=value` lines under `[name]`, or `None` if there is no such section.
fn section(text: &str, name: &str) -> Result<Option<Params>, String> {
    let mut inside = false;
    let mut found = None;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            if inside {
                break;
            }
            inside = header.strip_suffix(']').map(str::trim) == Some(name);
            if inside {
                found = Some(Params::new());
            }
            continue;
        }
        if !inside {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {}: expected key=value", index + 1));
        };
        let key = key.trim();
        if key == "service" {
            return Err(format!(
                "line {}: a service cannot name another service",
                index + 1
            ));
        }
        if let Some(params) = found.as_mut() {
            params.push((key.to_string(), value.trim().to_string()));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# comment\n[other]\nhost=nope\n\n[shop]\nhost = db.internal\nport=6432\ndbname=shop\n[last]\nuser=x\n";

    #[test]
    fn reads_one_section() {
        let params = section(FILE, "shop").ok().flatten();
        let expected: Params = [
            ("host", "db.internal"),
            ("port", "6432"),
            ("dbname", "shop"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
        assert_eq!(params, Some(expected));
        assert_eq!(section(FILE, "missing"), Ok(None));
        assert!(section("[a]\nservice=b\n", "a").is_err());
        assert!(section("[a]\njunk\n", "a").is_err());
    }

    #[test]
    fn user_file_before_system_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let user = dir.path().join("mine.conf");
        std::fs::write(&user, "[a]\nhost=from-user\n").expect("write");
        std::fs::write(
            dir.path().join("pg_service.conf"),
            "[a]\nhost=sys\n[b]\nhost=sys-b\n",
        )
        .expect("write");
        let user_s = user.to_string_lossy().into_owned();
        let sys_s = dir.path().to_string_lossy().into_owned();
        let env = move |k: &str| match k {
            "PGSERVICEFILE" => Some(user_s.clone()),
            "PGSYSCONFDIR" => Some(sys_s.clone()),
            _ => None,
        };
        let host = |name| {
            lookup(name, &env)
                .map(|p| p[0].1.clone())
                .map_err(|e| e.to_string())
        };
        assert_eq!(host("a"), Ok("from-user".into()));
        assert_eq!(host("b"), Ok("sys-b".into()));
        let missing = host("c").unwrap_err();
        assert!(
            missing.contains("\"c\"") && missing.contains("mine.conf"),
            "{missing}"
        );
    }
}
