//! Which database `--db` names: a SQLite file (`sqlite:PATH`, SQLAlchemy's `sqlite:///rel`
//! and `sqlite:////abs`, with or without a `+driver`, or the path of an existing SQLite file)
//! or a PostgreSQL (anything else, with the fallbacks every command has: `DATABASE_URL` from
//! the environment or `.env`, `POSTGRES_*`, the libpq variables).

use crate::postgres::conn::ConnSettings;
use std::path::{Path, PathBuf};

/// The database a `schema` command works on.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(Box<ConnSettings>),
}

impl Database {
    /// `--db` if given, else `DATABASE_URL` (a `sqlite:` one included), else the libpq
    /// settings. `Err`: a usage error, said in a sentence.
    pub fn resolve(explicit: Option<&str>) -> Result<Database, String> {
        let given = match explicit.filter(|s| !s.trim().is_empty()) {
            Some(text) => Some(text.to_string()),
            None => ConnSettings::database_url().map_err(|e| e.to_string())?,
        };
        if let Some(text) = &given
            && let Some(path) = sqlite_path(text)?
        {
            return Ok(Database::Sqlite(path));
        }
        ConnSettings::resolve(given.as_deref())
            .map(|s| Database::Postgres(Box::new(s)))
            .map_err(|e| e.to_string())
    }

    /// For messages: the file, or `user@host:port/database` (never a password).
    pub fn location(&self) -> String {
        match self {
            Database::Sqlite(path) => format!("sqlite:{}", path.display()),
            Database::Postgres(settings) => settings.location(),
        }
    }
}

/// The file a `sqlite:` URL (or a plain path to a SQLite file) names; `None` if `text` is not
/// one.
fn sqlite_path(text: &str) -> Result<Option<PathBuf>, String> {
    let text = text.trim();
    let Some(rest) = text.strip_prefix("sqlite") else {
        return Ok(is_sqlite_file(Path::new(text)).then(|| PathBuf::from(text)));
    };
    let Some((driver, rest)) = rest.split_once(':') else {
        return Ok(None);
    };
    if !(driver.is_empty() || driver.starts_with('+')) {
        return Ok(None);
    }
    // SQLAlchemy's query (`?check_same_thread=false`) says nothing about where the file is.
    let rest = rest.split_once('?').map_or(rest, |(path, _)| path);
    let path = match rest.strip_prefix("//") {
        // sqlite:///relative and sqlite:////absolute: three slashes, then the path.
        Some(after) => after.strip_prefix('/').ok_or_else(|| {
            format!(
                "{text:?}: a SQLite URL has no host: write sqlite:///relative/path or \
                 sqlite:////absolute/path (or sqlite:PATH)"
            )
        })?,
        None => rest,
    };
    if path.is_empty() || path == ":memory:" {
        return Err(format!(
            "{text:?} names no file (an in-memory database is gone when the command ends): give \
             sqlite:PATH"
        ));
    }
    Ok(Some(PathBuf::from(path)))
}

/// True for an existing file that starts with SQLite's header.
fn is_sqlite_file(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok_and(|()| &header == b"SQLite format 3\0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        let path = |t: &str| sqlite_path(t).unwrap().map(|p| p.display().to_string());
        assert_eq!(path("sqlite:dev.db").as_deref(), Some("dev.db"));
        assert_eq!(path("sqlite:/srv/dev.db").as_deref(), Some("/srv/dev.db"));
        assert_eq!(path("sqlite:///dev.db").as_deref(), Some("dev.db"));
        assert_eq!(
            path("sqlite:///./data/dev.db").as_deref(),
            Some("./data/dev.db")
        );
        assert_eq!(
            path("sqlite:////srv/dev.db").as_deref(),
            Some("/srv/dev.db")
        );
        assert_eq!(
            path("sqlite+aiosqlite:///app.db?check_same_thread=false").as_deref(),
            Some("app.db")
        );
        assert_eq!(path("postgresql://u@h/d"), None);
        assert_eq!(path("sqlitex://u@h/d"), None);
        assert!(sqlite_path("sqlite://host/dev.db").is_err());
        assert!(sqlite_path("sqlite:///:memory:").is_err());
        assert!(sqlite_path("sqlite:").is_err());
    }
}
