//! `CREATE VIRTUAL TABLE … USING fts5(…)`: the indexed columns and where the text lives
//! (`content=` an external table, `''` contentless, or the FTS table itself).

use super::SqlError;
use super::tokenize::{Cursor, Kind};

/// An FTS5 table's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fts5 {
    pub name: String,
    /// Indexed columns (UNINDEXED ones left out), in order.
    pub columns: Vec<String>,
    /// `content='t'`: `Some("t")`; `content=''`: `Some("")` (contentless); `None`: the FTS
    /// table keeps its own copy.
    pub content: Option<String>,
    /// `content_rowid='id'`: the content table's key; `None` means its rowid.
    pub content_rowid: Option<String>,
}

/// `None` when `sql` is not an FTS5 table.
pub fn parse_fts5(sql: &str) -> Result<Option<Fts5>, SqlError> {
    let mut c = Cursor::new(sql)?;
    c.expect_kw("CREATE")?;
    c.expect_kw("VIRTUAL")?;
    c.expect_kw("TABLE")?;
    if c.eat_kw("IF") {
        c.expect_kw("NOT")?;
        c.expect_kw("EXISTS")?;
    }
    let name = c.qualified_name("a table name")?;
    c.expect_kw("USING")?;
    if !c.eat_kw("fts5") {
        return Ok(None);
    }
    let mut fts = Fts5 {
        name,
        columns: Vec::new(),
        content: None,
        content_rowid: None,
    };
    if !c.eat_op("(") {
        return Ok(Some(fts));
    }
    loop {
        let Some(first) = c.next() else {
            return Err(c.error("`)`"));
        };
        if first.is_op(")") {
            break;
        }
        if c.eat_op("=") {
            let value = c.next().ok_or_else(|| c.error("an option value"))?;
            let value = match value.kind {
                Kind::Str | Kind::Word | Kind::Quoted | Kind::Number => value.text,
                _ => return Err(c.error("an option value")),
            };
            match first.text.to_ascii_lowercase().as_str() {
                "content" => fts.content = Some(value),
                "content_rowid" => fts.content_rowid = Some(value),
                _ => {}
            }
        } else {
            let name = first
                .name()
                .ok_or_else(|| c.error("a column name"))?
                .to_string();
            let unindexed = c.eat_kw("UNINDEXED");
            if !unindexed {
                fts.columns.push(name);
            }
        }
        if c.eat_op(")") {
            break;
        }
        c.expect_op(",")?;
    }
    Ok(Some(fts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_and_content() {
        let f = parse_fts5(
            "CREATE VIRTUAL TABLE posts_fts USING fts5(title, body, tag UNINDEXED, \
             content='posts', content_rowid='id', tokenize = 'porter unicode61')",
        )
        .unwrap()
        .unwrap();
        assert_eq!(f.columns, ["title", "body"]);
        assert_eq!(f.content.as_deref(), Some("posts"));
        assert_eq!(f.content_rowid.as_deref(), Some("id"));
        let own = parse_fts5("CREATE VIRTUAL TABLE n USING fts5(x)")
            .unwrap()
            .unwrap();
        assert_eq!(own.content, None);
        let none = parse_fts5("CREATE VIRTUAL TABLE n USING fts5(x, content='')")
            .unwrap()
            .unwrap();
        assert_eq!(none.content.as_deref(), Some(""));
        assert!(
            parse_fts5("CREATE VIRTUAL TABLE r USING rtree(id, a, b)")
                .unwrap()
                .is_none()
        );
    }
}
