//! PostgreSQL CHECK constraints in SQLite: the common shapes ORMs write (`status = ANY
//! (ARRAY['a', 'b'])` for an enum, comparisons, `IS NOT NULL`, `length(…)`, LIKE as GLOB), casts dropped,
//! when every word of the result means the same in SQLite; anything else is reported. The
//! export loads with CHECKs off and lets `integrity_check` confirm them over every row, so a
//! translation that disagreed with PostgreSQL on the data would be found, not hidden.

use crate::sqlite::quote_sqlite_ident as q;

/// The casts a view may hold: to text, which SQLite's text already is.
const TEXT_CASTS: [&str; 5] = ["text", "character", "varchar", "bpchar", "name"];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Str(String),
    Num(String),
    Op(String),
}

fn tokens(sql: &str) -> Option<Vec<Tok>> {
    let b: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                let ch = *b.get(i)?;
                if ch == c {
                    if b.get(i + 1) == Some(&c) {
                        s.push(c);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                s.push(ch);
                i += 1;
            }
            out.push(if c == '\'' {
                Tok::Str(s)
            } else {
                Tok::Quoted(s)
            });
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num(b[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(Tok::Word(b[start..i].iter().collect()));
        } else {
            let rest: String = b[i..b.len().min(i + 3)].iter().collect();
            let op = ["!~~", "::", "<=", ">=", "<>", "!=", "||", "~~"]
                .iter()
                .find(|o| rest.starts_with(*o))
                .map_or_else(|| c.to_string(), |o| o.to_string());
            if op == "~~*" || rest.starts_with("~~*") {
                return None;
            }
            i += op.chars().count();
            out.push(Tok::Op(op));
        }
    }
    Some(out)
}

fn is_word(t: Option<&Tok>, w: &str) -> bool {
    matches!(t, Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
}

fn is_op(t: Option<&Tok>, o: &str) -> bool {
    matches!(t, Some(Tok::Op(x)) if x == o)
}

/// Drops every `::type` (multi-word names, sizes and `[]` included).
fn drop_casts(toks: Vec<Tok>) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut it = toks.into_iter().peekable();
    while let Some(t) = it.next() {
        if t != Tok::Op("::".into()) {
            out.push(t);
            continue;
        }
        it.next(); // the type's first word
        while let Some(Tok::Word(w)) = it.peek() {
            let w = w.to_ascii_lowercase();
            if ["varying", "precision", "without", "with", "time", "zone"].contains(&w.as_str()) {
                it.next();
            } else {
                break;
            }
        }
        if it.peek() == Some(&Tok::Op("(".into())) {
            for t in it.by_ref() {
                if t == Tok::Op(")".into()) {
                    break;
                }
            }
        }
        if it.peek() == Some(&Tok::Op("[".into())) {
            it.next();
            it.next();
        }
    }
    out
}

/// The SQLite form of a PostgreSQL CHECK (`CHECK (…)` as `pg_get_constraintdef` prints it)
/// over `columns`, when every part of it means the same there.
pub fn translate(definition: &str, columns: &[String]) -> Option<String> {
    let body = definition.trim().strip_prefix("CHECK")?.trim();
    expression(body, columns)
}

/// An expression over `columns` (casts dropped), when every part means the same in SQLite.
fn expression(body: &str, columns: &[String]) -> Option<String> {
    let toks = drop_casts(tokens(body)?);
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        // `= ANY (ARRAY[…])` → `IN (…)`; `<> ALL (ARRAY[…])` → `NOT IN (…)`.
        let list = (is_op(Some(t), "=") && is_word(toks.get(i + 1), "ANY"))
            || (is_op(Some(t), "<>") && is_word(toks.get(i + 1), "ALL"));
        if list {
            let (items, next) = array_items(&toks, i + 2)?;
            out.push(if is_op(Some(t), "=") { "IN" } else { "NOT IN" }.into());
            out.push(format!("({})", items.join(", ")));
            i = next;
            continue;
        }
        // PostgreSQL's LIKE is case-sensitive, SQLite's is not: GLOB with the same pattern.
        if let Some(glob) = like_as_glob(&toks, i) {
            out.extend(glob?);
            i += 2;
            continue;
        }
        out.push(match t {
            Tok::Str(s) => crate::sqlite::quote_sqlite_literal(s),
            Tok::Num(n) => n.clone(),
            Tok::Quoted(n) if columns.contains(n) => q(n),
            Tok::Word(w) if columns.contains(w) => q(w),
            Tok::Word(w) => word(w, is_op(toks.get(i + 1), "("))?,
            Tok::Op(o) => match o.as_str() {
                "=" | "<>" | "!=" | "<" | ">" | "<=" | ">=" | "+" | "-" | "*" | "/" | "%"
                | "||" | "(" | ")" | "," => o.clone(),
                _ => return None,
            },
            Tok::Quoted(_) => return None,
        });
        i += 1;
    }
    Some(out.join(" "))
}

/// `~~ 'pattern'` (LIKE) or `!~~` at `i`, as SQLite's GLOB with the same meaning: `None` when
/// there is no LIKE there, `Some(None)` when it cannot be translated.
fn like_as_glob(toks: &[Tok], i: usize) -> Option<Option<[String; 2]>> {
    let op = match toks.get(i) {
        Some(t) if is_op(Some(t), "~~") => "GLOB",
        Some(t) if is_op(Some(t), "!~~") => "NOT GLOB",
        _ => return None,
    };
    let Some(Tok::Str(pattern)) = toks.get(i + 1) else {
        return Some(None);
    };
    Some(glob(pattern).map(|g| [op.to_string(), crate::sqlite::quote_sqlite_literal(&g)]))
}

/// A LIKE pattern as a GLOB pattern (`%` → `*`, `_` → `?`); `None` when it holds GLOB's own
/// special characters or LIKE's escape.
fn glob(pattern: &str) -> Option<String> {
    if pattern.contains(['*', '?', '[', ']', '\\']) {
        return None;
    }
    Some(pattern.replace('%', "*").replace('_', "?"))
}

/// A keyword or function that means the same in SQLite.
fn word(w: &str, call: bool) -> Option<String> {
    let l = w.to_ascii_lowercase();
    let keyword = [
        "and", "or", "not", "is", "null", "in", "between", "true", "false",
    ];
    let function = ["lower", "upper", "length", "abs", "coalesce", "trim"];
    if keyword.contains(&l.as_str()) {
        return Some(match l.as_str() {
            "true" => "1".into(),
            "false" => "0".into(),
            _ => l.to_ascii_uppercase(),
        });
    }
    if call {
        if function.contains(&l.as_str()) {
            return Some(l);
        }
        if l == "char_length" || l == "character_length" {
            return Some("length".into());
        }
    }
    None
}

/// The literal items of `( ARRAY[ … ] )` starting at `at`, and the index after it.
fn array_items(toks: &[Tok], at: usize) -> Option<(Vec<String>, usize)> {
    let mut i = at;
    let mut opened = 0;
    while is_op(toks.get(i), "(") {
        opened += 1;
        i += 1;
    }
    if !is_word(toks.get(i), "ARRAY") || !is_op(toks.get(i + 1), "[") {
        return None;
    }
    i += 2;
    let mut items = Vec::new();
    loop {
        match toks.get(i)? {
            Tok::Str(s) => items.push(crate::sqlite::quote_sqlite_literal(s)),
            Tok::Num(n) => items.push(n.clone()),
            Tok::Op(o) if o == "-" => {
                let Tok::Num(n) = toks.get(i + 1)? else {
                    return None;
                };
                items.push(format!("-{n}"));
                i += 1;
            }
            _ => return None,
        }
        i += 1;
        match toks.get(i)? {
            Tok::Op(o) if o == "," => i += 1,
            Tok::Op(o) if o == "]" => {
                i += 1;
                break;
            }
            _ => return None,
        }
    }
    for _ in 0..opened {
        if !is_op(toks.get(i), ")") {
            return None;
        }
        i += 1;
    }
    Some((items, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Vec<String> {
        ["status", "price", "name", "Qty"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn enum_checks_comparisons_and_functions() {
        assert_eq!(
            translate(
                "CHECK (((status)::text = ANY ((ARRAY['PENDING'::character varying, \
                 'it''s'::character varying])::text[])))",
                &cols()
            )
            .as_deref(),
            Some("( ( ( \"status\" ) IN ('PENDING', 'it''s') ) )")
        );
        assert_eq!(
            translate("CHECK ((price >= (0)::numeric))", &cols()).as_deref(),
            Some("( ( \"price\" >= ( 0 ) ) )")
        );
        assert_eq!(
            translate(
                "CHECK ((char_length((name)::text) <= 64) AND (\"Qty\" <> ALL (ARRAY[-1, 0])))",
                &cols()
            )
            .as_deref(),
            Some("( ( length ( ( \"name\" ) ) <= 64 ) AND ( \"Qty\" NOT IN (-1, 0) ) )")
        );
        assert_eq!(
            translate("CHECK ((name ~~ 'a%_'::text))", &cols()).as_deref(),
            Some("( ( \"name\" GLOB 'a*?' ) )")
        );
    }

    #[test]
    fn what_sqlite_would_read_differently_is_refused() {
        for def in [
            "CHECK ((name ~* '^a'::text))",
            "CHECK ((name ~~* 'a%'::text))",
            "CHECK ((created_at > now()))",
            "CHECK ((other_column > 0))",
            "CHECK ((price > ANY (ARRAY[1, 2])))",
        ] {
            assert_eq!(translate(def, &cols()), None, "{def}");
        }
    }
}

/// The keys and condition of a btree index (`pg_get_indexdef`) in SQLite: each key a column or
/// an expression that translates (with ASC/DESC), the WHERE of a partial index likewise.
pub fn translate_index(definition: &str, columns: &[String]) -> Option<(String, Option<String>)> {
    let at = definition.find(" USING btree (")? + " USING btree ".len();
    let rest = &definition[at..];
    let mut depth = 0usize;
    let mut close = None;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    let keys = split_top_level(&rest[1..close])
        .into_iter()
        .map(|k| {
            let k = k.trim();
            let (k, order) = match k.rsplit_once(' ') {
                Some((e, o)) if o == "DESC" || o == "ASC" => (e, format!(" {o}")),
                _ => (k, String::new()),
            };
            expression(k, columns).map(|e| format!("{e}{order}"))
        })
        .collect::<Option<Vec<_>>>()?;
    let after = rest[close + 1..].trim();
    let condition = match after {
        "" => None,
        _ => Some(expression(after.strip_prefix("WHERE ")?, columns)?),
    };
    Some((keys.join(", "), condition))
}

/// `text` split at the commas outside parentheses and quotes.
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start, mut quote) = (Vec::new(), 0i32, 0, None);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A PostgreSQL view's query (`pg_get_viewdef`) in SQLite, when every word of it means the same
/// there: SELECT, joins, WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, UNION, CASE, EXISTS, IN,
/// the aggregate and string functions both have, casts to text, LIKE as GLOB. No division
/// (integer or not depends on types SQLite does not have), no other casts or functions.
pub fn translate_view(definition: &str) -> Option<String> {
    let body = definition.trim().trim_end_matches(';');
    let raw = tokens(body)?;
    for (i, t) in raw.iter().enumerate() {
        if is_op(Some(t), "::") {
            match raw.get(i + 1) {
                Some(Tok::Word(w)) if TEXT_CASTS.contains(&w.to_ascii_lowercase().as_str()) => {}
                _ => return None,
            }
        }
    }
    let toks = drop_casts(raw);
    let keyword = [
        "select", "from", "where", "and", "or", "not", "as", "join", "left", "inner", "outer",
        "cross", "on", "group", "by", "order", "asc", "desc", "having", "limit", "offset",
        "distinct", "in", "is", "null", "between", "case", "when", "then", "else", "end", "union",
        "all", "exists", "nulls", "first", "last", "using",
    ];
    let function = [
        "count", "sum", "avg", "min", "max", "lower", "upper", "length", "abs", "coalesce",
        "nullif",
    ];
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if let Some(glob) = like_as_glob(&toks, i) {
            out.extend(glob?);
            i += 2;
            continue;
        }
        let call = is_op(toks.get(i + 1), "(");
        out.push(match t {
            Tok::Str(s) => crate::sqlite::quote_sqlite_literal(s),
            Tok::Num(n) => n.clone(),
            Tok::Quoted(n) => q(n),
            Tok::Word(w) => {
                let l = w.to_ascii_lowercase();
                match l.as_str() {
                    "true" => "1".into(),
                    "false" => "0".into(),
                    _ if call && function.contains(&l.as_str()) => l,
                    // A keyword that is followed by a parenthesis: IN (…), EXISTS (…), AND (…).
                    _ if keyword.contains(&l.as_str()) => l.to_ascii_uppercase(),
                    _ if call => return None,
                    _ => q(w),
                }
            }
            Tok::Op(o) => match o.as_str() {
                "=" | "<>" | "!=" | "<" | ">" | "<=" | ">=" | "+" | "-" | "*" | "%" | "||"
                | "(" | ")" | "," | "." => o.clone(),
                _ => return None,
            },
        });
        i += 1;
    }
    Some(out.join(" "))
}

#[cfg(test)]
mod view_tests {
    use super::translate_view;

    #[test]
    fn views_that_mean_the_same_translate() {
        let sql = translate_view(
            " SELECT u.id,\n    u.email,\n    count(o.id) AS orders\n   FROM users u\n     \
             LEFT JOIN orders o ON o.user_id = u.id\n  WHERE u.active = true AND \
             (u.email)::text ~~ '%@x.org'::text\n  GROUP BY u.id, u.email;",
        )
        .unwrap();
        assert_eq!(
            sql,
            "SELECT \"u\" . \"id\" , \"u\" . \"email\" , count ( \"o\" . \"id\" ) AS \"orders\" \
             FROM \"users\" \"u\" LEFT JOIN \"orders\" \"o\" ON \"o\" . \"user_id\" = \"u\" . \"id\" \
             WHERE \"u\" . \"active\" = 1 AND ( \"u\" . \"email\" ) GLOB '*@x.org' \
             GROUP BY \"u\" . \"id\" , \"u\" . \"email\""
        );
    }

    #[test]
    fn what_could_mean_otherwise_is_refused() {
        for def in [
            "SELECT a / b AS r FROM t;",
            "SELECT (created_at)::date AS d FROM t;",
            "SELECT now() AS n;",
            "SELECT date_trunc('day'::text, created_at) AS d FROM t;",
            "SELECT x FROM t WHERE name ~~* 'a%'::text;",
        ] {
            assert_eq!(translate_view(def), None, "{def}");
        }
    }
}

#[cfg(test)]
mod index_tests {
    use super::translate_index;

    #[test]
    fn expression_partial_and_descending_indexes_translate() {
        let cols: Vec<String> = ["email", "created_at", "deleted"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            translate_index(
                "CREATE UNIQUE INDEX u ON public.users USING btree (lower((email)::text))",
                &cols
            ),
            Some(("lower ( ( \"email\" ) )".to_string(), None))
        );
        assert_eq!(
            translate_index(
                "CREATE INDEX r ON public.users USING btree (created_at DESC) WHERE (deleted IS NULL)",
                &cols
            ),
            Some((
                "\"created_at\" DESC".to_string(),
                Some("( \"deleted\" IS NULL )".to_string())
            ))
        );
        for def in [
            "CREATE INDEX g ON public.users USING gin (email)",
            "CREATE INDEX c ON public.users USING btree (email COLLATE \"C\")",
            "CREATE INDEX p ON public.users USING btree (email text_pattern_ops)",
            "CREATE INDEX n ON public.users USING btree (email NULLS FIRST)",
            "CREATE INDEX i ON public.users USING btree (email) INCLUDE (created_at)",
        ] {
            assert_eq!(translate_index(def, &cols), None, "{def}");
        }
    }
}
