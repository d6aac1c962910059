//! Cuts a section's SQL into statements, each with the line it starts on, so that an error names
//! its file and line. Knows what hides a `;`: quotes, identifiers in quotes, comments, dollar
//! quoting (PostgreSQL), `[…]` and `` `…` `` (SQLite), and the `BEGIN … END` bodies of SQLite
//! triggers and PostgreSQL's `BEGIN ATOMIC` functions (a `CASE … END` inside them included).
//! It does not parse SQL beyond that.

use super::Dialect;

/// One statement of a section: its text and the 0-based line of the section's text it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub line: usize,
    pub sql: String,
}

/// The statements of `text`, in order; comments-only pieces are left out.
pub fn statements(text: &str, dialect: Dialect) -> Vec<Piece> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut scan = Scan::default();
    let mut start = 0usize;
    let mut i = 0usize;
    while i < chars.len() {
        let (_, c) = chars[i];
        let next = chars.get(i + 1).map(|&(_, c)| c);
        i = match (c, next) {
            ('-', Some('-')) => skip_until(&chars, i, |_, c| c == '\n'),
            ('/', Some('*')) => skip_block_comment(&chars, i, dialect),
            ('\'', _) => skip_quoted(&chars, i, '\'', backslash_escapes(&chars, i, dialect)),
            ('"', _) => skip_quoted(&chars, i, '"', false),
            ('`', _) if dialect == Dialect::Sqlite => skip_quoted(&chars, i, '`', false),
            ('[', _) if dialect == Dialect::Sqlite => skip_until(&chars, i, |_, c| c == ']') + 1,
            ('$', _) if dialect == Dialect::Postgres => skip_dollar(&chars, i),
            (';', _) if scan.depth == 0 => {
                let end = chars[i].0;
                push(&mut out, text, start, end);
                start = end + 1;
                scan = Scan::default();
                i + 1
            }
            (c, _) if c.is_alphabetic() || c == '_' => {
                let end = skip_while(&chars, i, |c| c.is_alphanumeric() || c == '_' || c == '$');
                let word: String = chars[i..end].iter().map(|&(_, c)| c).collect();
                scan.word(&word);
                end
            }
            _ => i + 1,
        };
    }
    push(&mut out, text, start, text.len());
    out
}

/// Where a statement stands: its first word, and how deep in `BEGIN … END` / `CASE … END`.
#[derive(Default)]
struct Scan {
    first: Option<String>,
    depth: usize,
    cases: usize,
}

impl Scan {
    fn word(&mut self, word: &str) {
        let upper = word.to_ascii_uppercase();
        let first = self.first.get_or_insert_with(|| upper.clone());
        if first != "CREATE" {
            return;
        }
        match upper.as_str() {
            "BEGIN" => self.depth += 1,
            "CASE" if self.depth > 0 => self.cases += 1,
            "END" if self.cases > 0 => self.cases -= 1,
            "END" if self.depth > 0 => self.depth -= 1,
            _ => {}
        }
    }
}

fn push(out: &mut Vec<Piece>, text: &str, start: usize, end: usize) {
    let piece = &text[start..end.min(text.len())];
    let Some(code) = code_offset(piece) else {
        return;
    };
    let line = text[..start + code].matches('\n').count();
    out.push(Piece {
        line,
        sql: piece[code..].trim_end().to_string(),
    });
}

/// Where the code of `piece` starts, after blanks and comments; `None` if it has none.
fn code_offset(piece: &str) -> Option<usize> {
    let mut at = 0;
    loop {
        let rest = &piece[at..];
        let trimmed = rest.trim_start();
        at += rest.len() - trimmed.len();
        if let Some(r) = trimmed.strip_prefix("--") {
            at += 2 + r.find('\n').unwrap_or(r.len());
        } else if let Some(r) = trimmed.strip_prefix("/*") {
            at += 2 + r.find("*/").map_or(r.len(), |n| n + 2);
        } else if trimmed.is_empty() {
            return None;
        } else {
            return Some(at);
        }
    }
}

fn skip_while(chars: &[(usize, char)], from: usize, keep: impl Fn(char) -> bool) -> usize {
    let mut i = from;
    while i < chars.len() && keep(chars[i].1) {
        i += 1;
    }
    i
}

/// The index of the first character after `from` for which `stop` holds (or the end).
fn skip_until(chars: &[(usize, char)], from: usize, stop: impl Fn(usize, char) -> bool) -> usize {
    let mut i = from + 1;
    while i < chars.len() && !stop(i, chars[i].1) {
        i += 1;
    }
    i
}

/// `/* … */`, nested in PostgreSQL.
fn skip_block_comment(chars: &[(usize, char)], from: usize, dialect: Dialect) -> usize {
    let mut depth = 0usize;
    let mut i = from;
    while i + 1 < chars.len() {
        match (chars[i].1, chars[i + 1].1) {
            ('/', '*') if depth == 0 || dialect == Dialect::Postgres => {
                depth += 1;
                i += 2;
            }
            ('*', '/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    chars.len()
}

/// PostgreSQL's `E'…'`: a backslash escapes the next character.
fn backslash_escapes(chars: &[(usize, char)], at: usize, dialect: Dialect) -> bool {
    dialect == Dialect::Postgres
        && at >= 1
        && matches!(chars[at - 1].1, 'E' | 'e')
        && (at < 2 || !(chars[at - 2].1.is_alphanumeric() || chars[at - 2].1 == '_'))
}

/// A quoted string or identifier from its opening `quote`; a doubled quote stays inside.
fn skip_quoted(chars: &[(usize, char)], from: usize, quote: char, backslash: bool) -> usize {
    let mut i = from + 1;
    while i < chars.len() {
        let c = chars[i].1;
        if backslash && c == '\\' {
            i += 2;
            continue;
        }
        if c == quote {
            if chars.get(i + 1).map(|&(_, c)| c) == Some(quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    chars.len()
}

/// `$tag$ … $tag$` from its first `$`; a `$` that opens no such quote (`$1`) is one character.
fn skip_dollar(chars: &[(usize, char)], from: usize) -> usize {
    if from > 0 && (chars[from - 1].1.is_alphanumeric() || chars[from - 1].1 == '_') {
        return from + 1;
    }
    let tag_end = skip_while(chars, from + 1, |c| c.is_alphanumeric() || c == '_');
    let tag_ok = chars.get(tag_end).map(|&(_, c)| c) == Some('$')
        && chars
            .get(from + 1)
            .is_none_or(|&(_, c)| !c.is_ascii_digit() || tag_end == from + 1);
    if !tag_ok {
        return from + 1;
    }
    let tag: Vec<char> = chars[from..=tag_end].iter().map(|&(_, c)| c).collect();
    let mut i = tag_end + 1;
    while i + tag.len() <= chars.len() {
        if chars[i..i + tag.len()]
            .iter()
            .map(|&(_, c)| c)
            .eq(tag.iter().copied())
        {
            return i + tag.len();
        }
        i += 1;
    }
    chars.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str, dialect: Dialect) -> Vec<(usize, String)> {
        statements(text, dialect)
            .into_iter()
            .map(|p| (p.line, p.sql))
            .collect()
    }

    #[test]
    fn statements_start_on_their_own_lines() {
        let text = "-- a comment; not a statement\nCREATE TABLE a (x int);\n\n  INSERT INTO a VALUES (1);\nSELECT 'x;y'";
        assert_eq!(
            cut(text, Dialect::Postgres),
            vec![
                (1, "CREATE TABLE a (x int)".into()),
                (3, "INSERT INTO a VALUES (1)".into()),
                (4, "SELECT 'x;y'".into()),
            ]
        );
    }

    #[test]
    fn dollar_quotes_and_e_strings_hide_semicolons() {
        let text = "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\
                    SELECT E'it\\'s; fine', $1, $$;$$;";
        let got = cut(text, Dialect::Postgres);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[1].0, 1);
    }

    #[test]
    fn sqlite_triggers_end_at_their_end() {
        let text = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = CASE WHEN x > 1 THEN 1 ELSE 0 END;\n  DELETE FROM b;\nEND;\nCREATE TABLE [x;y] (`a;b` int);";
        let got = cut(text, Dialect::Sqlite);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].1.ends_with("END"));
        assert_eq!(got[1].0, 4);
    }

    #[test]
    fn comments_alone_are_no_statement() {
        assert!(cut("-- nothing\n/* ; */\n", Dialect::Sqlite).is_empty());
    }
}
