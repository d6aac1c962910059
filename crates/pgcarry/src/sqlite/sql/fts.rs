//! `CREATE VIRTUAL TABLE … USING module(…)`: which module a virtual table uses, and for the
//! full-text modules (FTS3, FTS4, FTS5) the indexed columns and where the text lives (`content=`
//! an external table, `''` contentless, or the FTS table itself).

use super::SqlError;
use super::tokenize::{Cursor, Kind, Token};

/// A virtual table's name and module (lower-cased: SQLite matches module names ignoring case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualDef {
    pub name: String,
    pub module: String,
}

/// A full-text table's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtsDef {
    pub name: String,
    /// `fts3`, `fts4` or `fts5`.
    pub module: String,
    /// Indexed columns (FTS5's UNINDEXED and FTS4's `notindexed=` ones left out), in order.
    pub columns: Vec<String>,
    /// `content='t'`: `Some("t")`; `content=''`: `Some("")` (contentless); `None`: the FTS
    /// table keeps its own copy.
    pub content: Option<String>,
    /// `content_rowid='id'` (FTS5): the content table's key; `None` means its rowid.
    pub content_rowid: Option<String>,
}

/// The name and module of a `CREATE VIRTUAL TABLE` statement; the cursor is left on what
/// follows the module name.
fn virtual_head(c: &mut Cursor<'_>) -> Result<VirtualDef, SqlError> {
    c.expect_kw("CREATE")?;
    c.expect_kw("VIRTUAL")?;
    c.expect_kw("TABLE")?;
    if c.eat_kw("IF") {
        c.expect_kw("NOT")?;
        c.expect_kw("EXISTS")?;
    }
    let name = c.qualified_name("a table name")?;
    c.expect_kw("USING")?;
    let module = c.name("a module name")?.to_ascii_lowercase();
    Ok(VirtualDef { name, module })
}

/// A virtual table's name and module.
pub fn parse_virtual(sql: &str) -> Result<VirtualDef, SqlError> {
    virtual_head(&mut Cursor::new(sql)?)
}

/// `None` when `sql` is not an FTS3, FTS4 or FTS5 table.
pub fn parse_fts(sql: &str) -> Result<Option<FtsDef>, SqlError> {
    let mut c = Cursor::new(sql)?;
    let head = virtual_head(&mut c)?;
    if !matches!(head.module.as_str(), "fts3" | "fts4" | "fts5") {
        return Ok(None);
    }
    let mut fts = FtsDef {
        name: head.name,
        module: head.module,
        columns: Vec::new(),
        content: None,
        content_rowid: None,
    };
    let mut not_indexed = Vec::new();
    for arg in arguments(&mut c)? {
        match classify(&arg, &fts.module) {
            Arg::Option(key, value) => match key.as_str() {
                "content" => fts.content = Some(value),
                "content_rowid" => fts.content_rowid = Some(value),
                "notindexed" => not_indexed.push(value),
                _ => {}
            },
            Arg::Column(name, unindexed) => {
                if !unindexed {
                    fts.columns.push(name);
                }
            }
            Arg::Other => {}
        }
    }
    fts.columns
        .retain(|col| !not_indexed.iter().any(|n| n.eq_ignore_ascii_case(col)));
    Ok(Some(fts))
}

/// The module arguments: the tokens of each, split at the commas outside parentheses.
fn arguments(c: &mut Cursor<'_>) -> Result<Vec<Vec<Token>>, SqlError> {
    let mut args = Vec::new();
    if !c.eat_op("(") {
        return Ok(args);
    }
    let (mut arg, mut depth) = (Vec::new(), 0usize);
    loop {
        let Some(token) = c.next() else {
            return Err(c.error("`)`"));
        };
        match () {
            _ if token.is_op(")") && depth == 0 => break,
            _ if token.is_op(",") && depth == 0 => {
                args.push(std::mem::take(&mut arg));
                continue;
            }
            _ if token.is_op("(") => depth += 1,
            _ if token.is_op(")") => depth -= 1,
            _ => {}
        }
        arg.push(token);
    }
    args.push(arg);
    args.retain(|a| !a.is_empty());
    Ok(args)
}

enum Arg {
    /// `key = value`, the key lower-cased.
    Option(String, String),
    /// A column and whether it is UNINDEXED.
    Column(String, bool),
    Other,
}

fn classify(arg: &[Token], module: &str) -> Arg {
    let first = &arg[0];
    if arg.get(1).is_some_and(|t| t.is_op("=")) {
        let value = arg
            .get(2)
            .filter(|v| matches!(v.kind, Kind::Str | Kind::Word | Kind::Quoted | Kind::Number));
        return match value {
            Some(v) => Arg::Option(first.text.to_ascii_lowercase(), v.text.clone()),
            None => Arg::Other,
        };
    }
    // FTS3 and FTS4 also take `tokenize porter`, without `=`.
    if module != "fts5" && first.is_kw("tokenize") {
        return Arg::Other;
    }
    match first.name() {
        Some(name) => Arg::Column(
            name.to_string(),
            module == "fts5" && arg[1..].iter().any(|t| t.is_kw("UNINDEXED")),
        ),
        None => Arg::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fts(sql: &str) -> FtsDef {
        parse_fts(sql).unwrap().unwrap()
    }

    #[test]
    fn reads_fts5_columns_and_content() {
        let f = fts(
            "CREATE VIRTUAL TABLE posts_fts USING fts5(title, body, tag UNINDEXED, \
             content='posts', content_rowid='id', tokenize = 'porter unicode61')",
        );
        assert_eq!(f.columns, ["title", "body"]);
        assert_eq!(f.content.as_deref(), Some("posts"));
        assert_eq!(f.content_rowid.as_deref(), Some("id"));
        let own = fts("CREATE VIRTUAL TABLE n USING fts5(x)");
        assert_eq!((own.content, own.module.as_str()), (None, "fts5"));
        let none = fts("CREATE VIRTUAL TABLE n USING fts5(x, content='')");
        assert_eq!(none.content.as_deref(), Some(""));
    }

    #[test]
    fn reads_fts3_and_fts4_columns_with_types_and_options() {
        let f = fts(
            "create virtual table \"main\".\"notes\" using FTS4(title TEXT, body, tokenize=porter, \
             languageid=\"lid\", notindexed=body, prefix=\"2,3\")",
        );
        assert_eq!((f.name.as_str(), f.module.as_str()), ("notes", "fts4"));
        assert_eq!(f.columns, ["title"]);
        assert_eq!(f.content, None);
        let ext = fts("CREATE VIRTUAL TABLE d USING fts4(content=\"docs\", a, b)");
        assert_eq!(ext.columns, ["a", "b"]);
        assert_eq!(ext.content.as_deref(), Some("docs"));
        let old = fts("CREATE VIRTUAL TABLE o USING fts3(a, b, tokenize simple)");
        assert_eq!(old.columns, ["a", "b"]);
        let bare = fts("CREATE VIRTUAL TABLE e USING fts3");
        assert!(bare.columns.is_empty());
    }

    #[test]
    fn other_modules_are_named_not_parsed() {
        let sql = "CREATE VIRTUAL TABLE r USING rtree(id, a, b)";
        assert!(parse_fts(sql).unwrap().is_none());
        assert_eq!(
            parse_virtual("CREATE VIRTUAL TABLE IF NOT EXISTS w USING Spellfix1").unwrap(),
            VirtualDef {
                name: "w".into(),
                module: "spellfix1".into()
            }
        );
    }
}
