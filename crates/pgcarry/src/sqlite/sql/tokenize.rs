//! SQLite's lexical rules: tokens with their byte spans, comments skipped, the four identifier
//! quotings undone. Knows nothing about statements; the parsers walk the tokens with a `Cursor`.

use super::SqlError;

/// What a token is. Words are bare identifiers and keywords alike: SQLite lets most keywords
/// serve as names, so the parsers decide from the position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A bare word: keyword or identifier, as written.
    Word,
    /// `"a"`, `[a]` or `` `a` ``: an identifier, quotes removed.
    Quoted,
    /// `'a'`: a string literal, quotes removed (SQLite also accepts it as a name in places).
    Str,
    /// A numeric literal, as written.
    Number,
    /// `X'0a'`: the hex digits.
    Blob,
    /// `?`, `?1`, `:name`, `@name`, `$name`.
    Variable,
    /// An operator or punctuation, as written.
    Op,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    /// The value: unquoted for names and strings, as written otherwise.
    pub text: String,
    /// Byte span in the source.
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// True for a bare word equal to `kw`, ignoring ASCII case.
    pub fn is_kw(&self, kw: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(kw)
    }

    pub fn is_op(&self, op: &str) -> bool {
        self.kind == Kind::Op && self.text == op
    }

    /// The name this token spells when used as an identifier.
    pub fn name(&self) -> Option<&str> {
        matches!(self.kind, Kind::Word | Kind::Quoted | Kind::Str).then_some(self.text.as_str())
    }
}

/// Splits `sql` into tokens, skipping whitespace and comments.
pub(crate) fn tokenize(sql: &str) -> Result<Vec<Token>, SqlError> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let next = bytes.get(i + 1).copied();
        let (kind, text, end) = match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'-' if next == Some(b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
                continue;
            }
            b'/' if next == Some(b'*') => {
                // SQLite accepts a comment left open at the end of the text.
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
                continue;
            }
            b'\'' => {
                let (text, end) = quoted(sql, i, '\'', '\'', "string literal")?;
                (Kind::Str, text, end)
            }
            b'"' => {
                let (text, end) = quoted(sql, i, '"', '"', "quoted identifier")?;
                (Kind::Quoted, text, end)
            }
            b'`' => {
                let (text, end) = quoted(sql, i, '`', '`', "quoted identifier")?;
                (Kind::Quoted, text, end)
            }
            b'[' => {
                let close = sql[i..].find(']').ok_or(SqlError::Unterminated {
                    what: "[identifier]",
                    offset: i,
                })?;
                (
                    Kind::Quoted,
                    sql[i + 1..i + close].to_string(),
                    i + close + 1,
                )
            }
            b'x' | b'X' if next == Some(b'\'') => {
                let (text, end) = quoted(sql, i + 1, '\'', '\'', "blob literal")?;
                let valid = text.len() % 2 == 0 && text.bytes().all(|b| b.is_ascii_hexdigit());
                if !valid {
                    return Err(SqlError::Expected {
                        expected: "an even number of hex digits in a blob literal".into(),
                        found: format!("`{}`", &sql[i..end]),
                        offset: i,
                    });
                }
                (Kind::Blob, text, end)
            }
            b'0'..=b'9' => {
                let end = number_end(bytes, i);
                (Kind::Number, sql[i..end].to_string(), end)
            }
            b'.' if next.is_some_and(|n| n.is_ascii_digit()) => {
                let end = number_end(bytes, i);
                (Kind::Number, sql[i..end].to_string(), end)
            }
            b'?' | b':' | b'@' | b'$' => {
                let end = word_end(bytes, i + 1);
                (Kind::Variable, sql[i..end].to_string(), end)
            }
            c if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => {
                let end = word_end(bytes, i);
                (Kind::Word, sql[i..end].to_string(), end)
            }
            _ => {
                let op = [
                    "->>", "||", "==", "!=", "<>", "<=", ">=", "<<", ">>", "->", "(", ")", ",",
                    ";", ".", "+", "-", "*", "/", "%", "<", ">", "=", "&", "|", "~",
                ]
                .into_iter()
                .find(|op| sql[i..].starts_with(op));
                match op {
                    Some(op) => (Kind::Op, op.to_string(), i + op.len()),
                    None => {
                        let ch = sql[i..].chars().next().unwrap_or('\0');
                        return Err(SqlError::UnexpectedChar { ch, offset: i });
                    }
                }
            }
        };
        tokens.push(Token {
            kind,
            text,
            start,
            end,
        });
        i = end;
    }
    Ok(tokens)
}

/// A literal quoted by `open`..`close`, a doubled `close` standing for one.
fn quoted(
    sql: &str,
    at: usize,
    open: char,
    close: char,
    what: &'static str,
) -> Result<(String, usize), SqlError> {
    let mut text = String::new();
    let mut chars = sql[at + open.len_utf8()..].char_indices().peekable();
    while let Some((n, c)) = chars.next() {
        if c == close {
            if chars.peek().is_some_and(|&(_, d)| d == close) {
                chars.next();
                text.push(close);
                continue;
            }
            return Ok((text, at + open.len_utf8() + n + close.len_utf8()));
        }
        text.push(c);
    }
    Err(SqlError::Unterminated { what, offset: at })
}

fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len()
        && (bytes[i] == b'_'
            || bytes[i] == b'$'
            || bytes[i].is_ascii_alphanumeric()
            || bytes[i] >= 0x80)
    {
        i += 1;
    }
    i
}

fn number_end(bytes: &[u8], mut i: usize) -> usize {
    let digits = |i: &mut usize, hex: bool| {
        while *i < bytes.len()
            && (bytes[*i].is_ascii_digit() || (hex && bytes[*i].is_ascii_hexdigit()))
        {
            *i += 1;
        }
    };
    if bytes[i] == b'0' && matches!(bytes.get(i + 1), Some(b'x' | b'X')) {
        i += 2;
        digits(&mut i, true);
        return i;
    }
    digits(&mut i, false);
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        digits(&mut i, false);
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_digit) {
            i = j;
            digits(&mut i, false);
        }
    }
    i
}

/// Walks a token list for a recursive-descent parser, with errors that say where.
pub(crate) struct Cursor<'s> {
    pub sql: &'s str,
    pub tokens: Vec<Token>,
    pub pos: usize,
    /// How deeply the expression parser has recursed (bounded, like SQLite's own parser).
    pub depth: usize,
    /// Keep `table.column` qualifiers as `Expr::Qualified` (in SELECTs, where they matter).
    pub keep_qualifiers: bool,
}

impl<'s> Cursor<'s> {
    pub fn new(sql: &'s str) -> Result<Self, SqlError> {
        Ok(Cursor {
            sql,
            tokens: tokenize(sql)?,
            pos: 0,
            depth: 0,
            keep_qualifiers: false,
        })
    }

    pub fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    pub fn peek_at(&self, ahead: usize) -> Option<&Token> {
        self.tokens.get(self.pos + ahead)
    }

    pub fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        if token.is_some() {
            self.pos += 1;
        }
        token
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    pub fn at_kw(&self, kw: &str) -> bool {
        self.peek().is_some_and(|t| t.is_kw(kw))
    }

    pub fn at_op(&self, op: &str) -> bool {
        self.peek().is_some_and(|t| t.is_op(op))
    }

    /// Consumes the keyword if it is next.
    pub fn eat_kw(&mut self, kw: &str) -> bool {
        let hit = self.at_kw(kw);
        if hit {
            self.pos += 1;
        }
        hit
    }

    pub fn eat_op(&mut self, op: &str) -> bool {
        let hit = self.at_op(op);
        if hit {
            self.pos += 1;
        }
        hit
    }

    pub fn expect_kw(&mut self, kw: &str) -> Result<(), SqlError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.error(kw))
        }
    }

    pub fn expect_op(&mut self, op: &str) -> Result<(), SqlError> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(self.error(&format!("`{op}`")))
        }
    }

    /// A name in any quoting (a keyword used as a name included).
    pub fn name(&mut self, what: &str) -> Result<String, SqlError> {
        match self.peek().and_then(Token::name) {
            Some(name) => {
                let name = name.to_string();
                self.pos += 1;
                Ok(name)
            }
            None => Err(self.error(what)),
        }
    }

    /// `name` or `schema.name`: the name without its schema.
    pub fn qualified_name(&mut self, what: &str) -> Result<String, SqlError> {
        let name = self.name(what)?;
        if self.eat_op(".") {
            self.name(what)
        } else {
            Ok(name)
        }
    }

    /// Skips a balanced `( … )`, the cursor on the `(`; returns the source text inside, trimmed.
    pub fn parenthesized(&mut self) -> Result<&'s str, SqlError> {
        let open = self.peek().map(|t| t.end);
        self.expect_op("(")?;
        let inner_start = open.unwrap_or(0);
        let mut depth = 1usize;
        while let Some(token) = self.next() {
            if token.is_op("(") {
                depth += 1;
            } else if token.is_op(")") {
                depth -= 1;
                if depth == 0 {
                    return Ok(self.sql[inner_start..token.start].trim());
                }
            }
        }
        Err(self.error("`)`"))
    }

    /// Source text from the token at `from` up to (not including) the current one.
    pub fn text_since(&self, from: usize) -> &'s str {
        let Some(first) = self.tokens.get(from) else {
            return "";
        };
        let end = self.tokens[..self.pos]
            .last()
            .map_or(first.start, |t| t.end);
        self.sql[first.start..end.max(first.start)].trim()
    }

    /// An error at the current token saying what was expected.
    pub fn error(&self, expected: &str) -> SqlError {
        match self.peek() {
            Some(t) => SqlError::Expected {
                expected: expected.to_string(),
                found: format!("`{}`", &self.sql[t.start..t.end]),
                offset: t.start,
            },
            None => SqlError::Expected {
                expected: expected.to_string(),
                found: "the end of the statement".into(),
                offset: self.sql.len(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<(Kind, String)> {
        tokenize(sql)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn unquotes_all_four_quotings() {
        assert_eq!(
            kinds(r#""a ""b""" [a b] `c``d` 'e''f'"#),
            vec![
                (Kind::Quoted, "a \"b\"".into()),
                (Kind::Quoted, "a b".into()),
                (Kind::Quoted, "c`d".into()),
                (Kind::Str, "e'f".into()),
            ]
        );
    }

    #[test]
    fn skips_comments() {
        assert_eq!(
            kinds("a -- one\n/* two\n */ b /* open at the end"),
            vec![(Kind::Word, "a".into()), (Kind::Word, "b".into())]
        );
    }

    #[test]
    fn numbers_blobs_operators() {
        assert_eq!(
            kinds("1.5e-3 .5 0x1F X'0a' a>=-2||b"),
            vec![
                (Kind::Number, "1.5e-3".into()),
                (Kind::Number, ".5".into()),
                (Kind::Number, "0x1F".into()),
                (Kind::Blob, "0a".into()),
                (Kind::Word, "a".into()),
                (Kind::Op, ">=".into()),
                (Kind::Op, "-".into()),
                (Kind::Number, "2".into()),
                (Kind::Op, "||".into()),
                (Kind::Word, "b".into()),
            ]
        );
    }

    #[test]
    fn reports_where_it_fails() {
        let err = tokenize("a 'open").unwrap_err();
        assert!(err.to_string().contains("byte 2"), "{err}");
        assert!(tokenize("X'0g'").is_err());
        assert!(tokenize("a # b").is_err());
    }

    #[test]
    fn cursor_takes_balanced_parentheses() {
        let mut c = Cursor::new("(a (b) (c, (d))) e").unwrap();
        assert_eq!(c.parenthesized().unwrap(), "a (b) (c, (d))");
        assert!(c.at_kw("E"));
    }
}
