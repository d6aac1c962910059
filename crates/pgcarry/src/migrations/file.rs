//! One migration file and the directory of them: the name (`VERSION_name.sql`), the sections
//! (`-- pgcarry:up`, `-- pgcarry:down`), dialect blocks (`-- pgcarry:postgres`,
//! `-- pgcarry:sqlite`, closed by `-- pgcarry:end` or the next directive), the
//! `-- pgcarry:no-transaction` flag, and the checksum over the normalised text. What does not
//! parse is a finding with its file and line, never skipped in silence. Nothing here runs SQL.

use super::Dialect;
use super::split::{Piece, statements};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A migration file, parsed.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: i64,
    pub name: String,
    pub path: PathBuf,
    /// SHA-256 (hex) of the normalised text: LF line endings, trailing blanks stripped.
    pub checksum: String,
    pub no_transaction: bool,
    pub up: Section,
    pub down: Option<Section>,
}

impl Migration {
    /// `20261204120000_add_search.sql`.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    }
}

/// A section's lines, each with its file line (1-based) and the dialect it is for (`None`: both).
#[derive(Debug, Clone, Default)]
pub struct Section {
    lines: Vec<(usize, Option<Dialect>, String)>,
}

/// One statement to run, with the line of its file it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub line: usize,
    pub sql: String,
}

impl Section {
    /// The statements this section runs on `dialect`, in order.
    pub fn statements(&self, dialect: Dialect) -> Vec<Statement> {
        let kept: Vec<&(usize, Option<Dialect>, String)> = self
            .lines
            .iter()
            .filter(|(_, d, _)| d.is_none_or(|d| d == dialect))
            .collect();
        let text = kept
            .iter()
            .map(|(_, _, t)| t.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        statements(&text, dialect)
            .into_iter()
            .map(|Piece { line, sql }| Statement {
                line: kept.get(line).map_or(0, |(n, _, _)| *n),
                sql,
            })
            .collect()
    }
}

/// Something in the directory that is not a valid migration, with where it is.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
    /// An error blocks `up` (a migration that cannot be read as meant); a note does not (a
    /// file that is not a `.sql` file).
    pub error: bool,
}

/// The directory's migrations in version order, and what was found wrong in it.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub migrations: Vec<Migration>,
    pub findings: Vec<Finding>,
}

impl Directory {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.error)
    }

    pub fn find(&self, version: i64) -> Option<&Migration> {
        self.migrations.iter().find(|m| m.version == version)
    }
}

/// Why a directory could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    #[error(
        "the migrations directory {0} does not exist: create the first migration with \
         `pgcarry schema new NAME` (or give --dir)"
    )]
    Missing(PathBuf),
    #[error("could not read the migrations directory {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads every entry of `dir`: migrations parsed, everything else reported.
pub fn read_dir(dir: &Path) -> Result<Directory, DirError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DirError::Missing(dir.to_path_buf()));
        }
        Err(source) => {
            return Err(DirError::Read {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut found = Directory::default();
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| DirError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        paths.push(entry.path());
    }
    paths.sort();
    for path in paths {
        read_entry(&path, &mut found);
    }
    found.migrations.sort_by_key(|m| m.version);
    for pair in found.migrations.windows(2) {
        if pair[0].version == pair[1].version {
            found.findings.push(Finding {
                file: pair[1].file_name(),
                line: None,
                message: format!(
                    "version {} is also the version of {}: give one of them a new version \
                     (rename it)",
                    pair[1].version,
                    pair[0].file_name()
                ),
                error: true,
            });
        }
    }
    Ok(found)
}

fn read_entry(path: &Path, found: &mut Directory) {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    if name.starts_with('.') {
        return;
    }
    let finding = |message: String, error: bool| Finding {
        file: name.clone(),
        line: None,
        message,
        error,
    };
    if !path.is_file() || !name.ends_with(".sql") {
        found.findings.push(finding(
            "not a migration (only VERSION_name.sql files are): ignored".into(),
            false,
        ));
        return;
    }
    let Some((version, migration_name)) = parse_name(&name) else {
        found.findings.push(finding(
            "the name does not match VERSION_name.sql (VERSION: up to 18 digits, as `pgcarry \
             schema new` writes them; name: letters, digits, _): rename it"
                .into(),
            true,
        ));
        return;
    };
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                found
                    .findings
                    .push(finding("is not UTF-8 text: save it as UTF-8".into(), true));
                return;
            }
        },
        Err(e) => {
            found
                .findings
                .push(finding(format!("could not be read: {e}"), true));
            return;
        }
    };
    match parse(&text) {
        Ok((up, down, no_transaction)) => found.migrations.push(Migration {
            version,
            name: migration_name,
            path: path.to_path_buf(),
            checksum: checksum(&text),
            no_transaction,
            up,
            down,
        }),
        Err(problems) => found
            .findings
            .extend(problems.into_iter().map(|(line, message)| Finding {
                file: name.clone(),
                line: Some(line),
                message,
                error: true,
            })),
    }
}

/// `20261204120000_add_search.sql` → `(20261204120000, "add_search")`.
pub fn parse_name(file: &str) -> Option<(i64, String)> {
    let stem = file.strip_suffix(".sql")?;
    let (digits, name) = stem.split_once('_')?;
    let valid = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return None;
    }
    Some((digits.parse().ok()?, name.to_string()))
}

/// SHA-256 (hex) of the text with CRLF (and lone CR) read as LF, each line's trailing blanks
/// stripped, a byte-order mark and trailing empty lines dropped: a checkout with other line
/// endings is the same migration.
pub fn checksum(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = unified.lines().map(str::trim_end).collect();
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    let normalised = lines[..end].join("\n");
    Sha256::digest(normalised.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a `-- pgcarry:WORD` line says.
enum Directive {
    Up,
    Down,
    Dialect(Dialect),
    End,
    NoTransaction,
}

/// The directive on `line`, if it is one (`Err`: a `-- pgcarry:` line with an unknown word).
fn directive(line: &str) -> Option<Result<Directive, String>> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let word = rest.strip_prefix("pgcarry:")?.trim();
    Some(match word {
        "up" => Ok(Directive::Up),
        "down" => Ok(Directive::Down),
        "postgres" | "postgresql" => Ok(Directive::Dialect(Dialect::Postgres)),
        "sqlite" => Ok(Directive::Dialect(Dialect::Sqlite)),
        "end" => Ok(Directive::End),
        "no-transaction" => Ok(Directive::NoTransaction),
        other => Err(format!(
            "unknown directive `-- pgcarry:{other}` (known: up, down, postgres, sqlite, end, \
             no-transaction)"
        )),
    })
}

type Parsed = (Section, Option<Section>, bool);

/// The sections of a migration's text, or every problem with its line.
fn parse(text: &str) -> Result<Parsed, Vec<(usize, String)>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut problems = Vec::new();
    let mut up: Option<Section> = None;
    let mut down: Option<Section> = None;
    let mut current: Option<bool> = None; // Some(true): up, Some(false): down
    let mut dialect: Option<Dialect> = None;
    let mut no_transaction = false;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        match directive(line) {
            Some(Err(message)) => problems.push((number, message)),
            Some(Ok(Directive::NoTransaction)) => no_transaction = true,
            Some(Ok(d @ (Directive::Up | Directive::Down))) => {
                let is_up = matches!(d, Directive::Up);
                let slot = if is_up { &mut up } else { &mut down };
                if slot.is_some() {
                    let which = if is_up { "up" } else { "down" };
                    problems.push((number, format!("a second `-- pgcarry:{which}` section")));
                }
                *slot = Some(Section::default());
                current = Some(is_up);
                dialect = None;
            }
            Some(Ok(Directive::Dialect(d))) if current.is_none() => {
                let _ = d;
                problems.push((
                    number,
                    "a dialect block outside a section: put it after `-- pgcarry:up` or \
                     `-- pgcarry:down`"
                        .into(),
                ));
            }
            Some(Ok(Directive::Dialect(d))) => dialect = Some(d),
            Some(Ok(Directive::End)) => dialect = None,
            None => {
                let section = match current {
                    Some(true) => up.as_mut(),
                    Some(false) => down.as_mut(),
                    None => None,
                };
                match section {
                    Some(s) => s.lines.push((number, dialect, line.to_string())),
                    None if has_sql(line) => problems.push((
                        number,
                        "SQL before the first section: start the file with `-- pgcarry:up`".into(),
                    )),
                    None => {}
                }
            }
        }
    }
    if !no_transaction {
        for section in up.iter().chain(down.iter()) {
            problems.extend(transaction_control(section));
        }
    }
    problems.sort();
    match up {
        Some(up) if problems.is_empty() => Ok((up, down, no_transaction)),
        None if problems.is_empty() => Err(vec![(
            1,
            "no `-- pgcarry:up` section: a migration needs one (`pgcarry schema new` writes \
             the skeleton)"
                .into(),
        )]),
        _ => Err(problems),
    }
}

/// Statements that begin or end a transaction, in either dialect: pgcarry runs each migration
/// in a transaction of its own, and a COMMIT inside would split it.
fn transaction_control(section: &Section) -> Vec<(usize, String)> {
    let mut lines = std::collections::BTreeSet::new();
    for dialect in [Dialect::Postgres, Dialect::Sqlite] {
        for s in section.statements(dialect) {
            let words: Vec<String> = s
                .sql
                .split_whitespace()
                .take(2)
                .map(str::to_ascii_uppercase)
                .collect();
            let controls = match words.first().map(String::as_str) {
                Some("BEGIN" | "COMMIT" | "END" | "ABORT") => true,
                Some("ROLLBACK") => words.get(1).is_none_or(|w| w != "TO"),
                Some("START") => words.get(1).is_some_and(|w| w == "TRANSACTION"),
                _ => false,
            };
            if controls {
                lines.insert(s.line);
            }
        }
    }
    lines
        .into_iter()
        .map(|line| {
            (
                line,
                "a statement that begins or ends a transaction: pgcarry runs each migration in a \
                 transaction of its own; remove it, or mark the file `-- pgcarry:no-transaction`"
                    .to_string(),
            )
        })
        .collect()
}

/// True for a line that is neither blank nor a comment.
fn has_sql(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with("--")
}

/// The skeleton `schema new` writes.
pub const SKELETON: &str = "-- pgcarry:up\n\n\n-- pgcarry:down\n\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_version_underscore_name() {
        assert_eq!(
            parse_name("20261204120000_add_search.sql"),
            Some((20261204120000, "add_search".into()))
        );
        assert_eq!(parse_name("1_init.sql"), Some((1, "init".into())));
        for bad in [
            "add.sql",
            "x1_a.sql",
            "1_.sql",
            "1-a.sql",
            "1_a-b.sql",
            "1_a.txt",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn line_endings_and_trailing_blanks_do_not_change_the_checksum() {
        let lf = "-- pgcarry:up\nCREATE TABLE a (x int);\n\n-- pgcarry:down\nDROP TABLE a;\n";
        let crlf = "-- pgcarry:up  \r\nCREATE TABLE a (x int);\t\r\n\r\n-- pgcarry:down\r\nDROP TABLE a;\r\n\r\n";
        assert_eq!(checksum(lf), checksum(crlf));
        assert_ne!(checksum(lf), checksum(&lf.replace("x int", "y int")));
    }

    #[test]
    fn dialect_blocks_give_each_engine_its_sql_with_file_lines() {
        let text = "-- pgcarry:up\nCREATE TABLE a (id int);\n-- pgcarry:postgres\nALTER TABLE a ADD doc jsonb;\n-- pgcarry:sqlite\nALTER TABLE a ADD doc text;\n-- pgcarry:end\nCREATE INDEX a_id ON a (id);\n-- pgcarry:down\nDROP TABLE a;\n";
        let (up, down, no_tx) = parse(text).unwrap();
        assert!(!no_tx);
        let pg = up.statements(Dialect::Postgres);
        let lite = up.statements(Dialect::Sqlite);
        assert_eq!(pg.iter().map(|s| s.line).collect::<Vec<_>>(), vec![2, 4, 8]);
        assert_eq!(lite[1].sql, "ALTER TABLE a ADD doc text");
        assert_eq!(lite[1].line, 6);
        assert_eq!(down.unwrap().statements(Dialect::Sqlite)[0].line, 10);
    }

    #[test]
    fn what_does_not_parse_is_named_with_its_line() {
        let problems =
            parse("CREATE TABLE a (x int);\n-- pgcarry:up\n-- pgcarry:upp\n").unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].0, 1);
        assert!(problems[1].1.contains("unknown directive"), "{problems:?}");
        assert!(
            parse("-- only a comment\n").unwrap_err()[0]
                .1
                .contains("no `-- pgcarry:up`")
        );
        let inner = parse("-- pgcarry:up\nBEGIN;\nSELECT 1;\nCOMMIT;\n").unwrap_err();
        assert_eq!(inner.iter().map(|p| p.0).collect::<Vec<_>>(), vec![2, 4]);
        let (_, _, no_tx) = parse("-- pgcarry:no-transaction\n-- pgcarry:up\nSELECT 1;\n").unwrap();
        assert!(no_tx);
    }
}
