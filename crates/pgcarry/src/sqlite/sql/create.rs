//! The `CREATE TABLE`, `CREATE INDEX` and `CREATE VIEW` grammar of SQLite, as far as pgcarry
//! needs it: every clause is recognised (so none is mistaken for another), expressions are kept
//! as source text, and foreign keys are skipped (the pragmas give them).

use super::tokenize::{Cursor, Kind};
use super::{
    ColumnDef, CreateIndex, CreateTable, ForeignKeyDef, GeneratedDef, IndexTerm, NamedExpr,
    SqlError,
};

/// Parses the `sql` of a table in `sqlite_schema`.
pub fn parse_create_table(sql: &str) -> Result<CreateTable, SqlError> {
    let mut c = Cursor::new(sql)?;
    header(&mut c, "TABLE", false)?;
    let name = c.qualified_name("a table name")?;
    let mut table = CreateTable {
        name,
        columns: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        without_rowid: false,
        strict: false,
    };
    c.expect_op("(")?;
    loop {
        if at_table_constraint(&c) {
            table_constraint(&mut c, &mut table)?;
            // SQLite lets table constraints follow each other without a comma.
            if at_table_constraint(&c) {
                continue;
            }
        } else {
            let (column, fks) = column_def(&mut c)?;
            table.columns.push(column);
            table.foreign_keys.extend(fks);
        }
        if c.eat_op(")") {
            break;
        }
        c.expect_op(",")?;
    }
    loop {
        if c.eat_kw("WITHOUT") {
            c.expect_kw("ROWID")?;
            table.without_rowid = true;
        } else if c.eat_kw("STRICT") {
            table.strict = true;
        } else {
            break;
        }
        if !c.eat_op(",") {
            break;
        }
    }
    finish(&mut c)?;
    Ok(table)
}

/// Parses the `sql` of an index in `sqlite_schema`.
pub fn parse_create_index(sql: &str) -> Result<CreateIndex, SqlError> {
    let mut c = Cursor::new(sql)?;
    let unique = header(&mut c, "INDEX", true)?;
    let name = c.qualified_name("an index name")?;
    c.expect_kw("ON")?;
    let table = c.name("a table name")?;
    let (terms, _) = indexed_terms(&mut c)?;
    let where_clause = if c.eat_kw("WHERE") {
        let from = c.pos;
        while !c.at_end() && !c.at_op(";") {
            c.next();
        }
        let text = c.text_since(from);
        if text.is_empty() {
            return Err(c.error("an expression after WHERE"));
        }
        Some(text.to_string())
    } else {
        None
    };
    finish(&mut c)?;
    Ok(CreateIndex {
        name,
        table,
        unique,
        terms,
        where_clause,
    })
}

/// Parses the `sql` of a view in `sqlite_schema`: its name and its SELECT, as written.
pub fn parse_create_view(sql: &str) -> Result<(String, String), SqlError> {
    let mut c = Cursor::new(sql)?;
    header(&mut c, "VIEW", false)?;
    let name = c.qualified_name("a view name")?;
    if c.at_op("(") {
        c.parenthesized()?;
    }
    c.expect_kw("AS")?;
    let from = c.pos;
    while !c.at_end() {
        c.next();
    }
    let select = c.text_since(from).trim_end_matches(';').trim_end();
    if select.is_empty() {
        return Err(c.error("a SELECT"));
    }
    Ok((name, select.to_string()))
}

/// True when a view names its columns: `CREATE VIEW v(a, b) AS …`.
pub fn view_has_column_list(sql: &str) -> Result<bool, SqlError> {
    let mut c = Cursor::new(sql)?;
    header(&mut c, "VIEW", false)?;
    c.qualified_name("a view name")?;
    Ok(c.at_op("("))
}

/// `CREATE [TEMP] [UNIQUE] <object> [IF NOT EXISTS]`; returns whether UNIQUE was there.
fn header(c: &mut Cursor, object: &str, unique_allowed: bool) -> Result<bool, SqlError> {
    c.expect_kw("CREATE")?;
    let _ = c.eat_kw("TEMP") || c.eat_kw("TEMPORARY");
    let unique = unique_allowed && c.eat_kw("UNIQUE");
    c.expect_kw(object)?;
    if c.eat_kw("IF") {
        c.expect_kw("NOT")?;
        c.expect_kw("EXISTS")?;
    }
    Ok(unique)
}

/// Only an optional `;` may follow.
fn finish(c: &mut Cursor) -> Result<(), SqlError> {
    c.eat_op(";");
    if c.at_end() {
        Ok(())
    } else {
        Err(c.error("the end of the statement"))
    }
}

fn at_table_constraint(c: &Cursor) -> bool {
    ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
        .iter()
        .any(|kw| c.at_kw(kw))
}

/// Words that end a type name and start a column constraint.
const COLUMN_CONSTRAINT_WORDS: [&str; 11] = [
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "GENERATED",
    "AS",
];

/// A column definition, and the `REFERENCES` clauses on it.
fn column_def(c: &mut Cursor) -> Result<(ColumnDef, Vec<ForeignKeyDef>), SqlError> {
    let mut fks = Vec::new();
    let mut column = ColumnDef {
        name: c.name("a column name or table constraint")?,
        ..ColumnDef::default()
    };
    let from = c.pos;
    while let Some(t) = c.peek() {
        let is_type_word = matches!(t.kind, Kind::Word | Kind::Quoted | Kind::Str)
            && !COLUMN_CONSTRAINT_WORDS.iter().any(|kw| t.is_kw(kw));
        if !is_type_word {
            break;
        }
        c.next();
    }
    if c.pos > from && c.at_op("(") {
        c.parenthesized()?;
    }
    column.type_name = c
        .text_since(from)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");

    let mut constraint_name = None;
    while !c.at_op(",") && !c.at_op(")") {
        if c.eat_kw("CONSTRAINT") {
            constraint_name = Some(c.name("a constraint name")?);
            continue;
        }
        if c.eat_kw("PRIMARY") {
            c.expect_kw("KEY")?;
            let _ = c.eat_kw("ASC") || c.eat_kw("DESC");
            conflict_clause(c)?;
            column.primary_key = true;
            column.autoincrement = c.eat_kw("AUTOINCREMENT");
        } else if c.eat_kw("NOT") {
            c.expect_kw("NULL")?;
            conflict_clause(c)?;
            column.not_null = true;
        } else if c.eat_kw("NULL") || c.eat_kw("UNIQUE") {
            conflict_clause(c)?;
        } else if c.eat_kw("CHECK") {
            let expr = c.parenthesized()?.to_string();
            column.checks.push(NamedExpr {
                name: constraint_name.take(),
                expr,
            });
        } else if c.eat_kw("DEFAULT") {
            column.default = Some(default_value(c)?);
        } else if c.eat_kw("COLLATE") {
            column.collation = Some(c.name("a collation name")?);
        } else if c.eat_kw("REFERENCES") {
            let mut fk = references_clause(c)?;
            fk.columns = vec![column.name.clone()];
            fks.push(fk);
        } else if c.at_kw("GENERATED") || c.at_kw("AS") {
            if c.eat_kw("GENERATED") {
                c.expect_kw("ALWAYS")?;
            }
            c.expect_kw("AS")?;
            let expr = c.parenthesized()?.to_string();
            let stored = c.eat_kw("STORED");
            if !stored {
                c.eat_kw("VIRTUAL");
            }
            column.generated = Some(GeneratedDef { expr, stored });
        } else {
            return Err(c.error("a column constraint, `,` or `)`"));
        }
        constraint_name = None;
    }
    Ok((column, fks))
}

/// The value after DEFAULT, as written: `(expr)`, a signed number, a literal or a word.
fn default_value(c: &mut Cursor) -> Result<String, SqlError> {
    let from = c.pos;
    if c.at_op("(") {
        c.parenthesized()?;
    } else {
        let signed = c.eat_op("-") || c.eat_op("+");
        let literal = c.peek().is_some_and(|t| {
            t.kind == Kind::Number
                || (!signed && matches!(t.kind, Kind::Str | Kind::Blob | Kind::Word | Kind::Quoted))
        });
        if !literal {
            return Err(c.error("a default value"));
        }
        c.next();
    }
    Ok(c.text_since(from).to_string())
}

/// `ON CONFLICT ROLLBACK|ABORT|FAIL|IGNORE|REPLACE`, if present.
fn conflict_clause(c: &mut Cursor) -> Result<(), SqlError> {
    if c.at_kw("ON") && c.peek_at(1).is_some_and(|t| t.is_kw("CONFLICT")) {
        c.pos += 2;
        c.name("ROLLBACK, ABORT, FAIL, IGNORE or REPLACE")?;
    }
    Ok(())
}

/// `REFERENCES t [(cols)] [ON DELETE|UPDATE action] [MATCH name] [[NOT] DEFERRABLE [INITIALLY …]]`:
/// only the deferral is kept (the rest comes from `pragma foreign_key_list`); the caller fills
/// in the referencing columns.
fn references_clause(c: &mut Cursor) -> Result<ForeignKeyDef, SqlError> {
    let mut fk = ForeignKeyDef::default();
    c.qualified_name("a referenced table name")?;
    if c.at_op("(") {
        c.parenthesized()?;
    }
    loop {
        if c.at_kw("ON") && !c.peek_at(1).is_some_and(|t| t.is_kw("CONFLICT")) {
            c.pos += 1;
            if !(c.eat_kw("DELETE") || c.eat_kw("UPDATE")) {
                return Err(c.error("DELETE or UPDATE"));
            }
            if c.eat_kw("SET") {
                if !(c.eat_kw("NULL") || c.eat_kw("DEFAULT")) {
                    return Err(c.error("NULL or DEFAULT"));
                }
            } else if c.eat_kw("NO") {
                c.expect_kw("ACTION")?;
            } else if !(c.eat_kw("CASCADE") || c.eat_kw("RESTRICT")) {
                return Err(c.error("SET NULL, SET DEFAULT, CASCADE, RESTRICT or NO ACTION"));
            }
        } else if c.eat_kw("MATCH") {
            c.name("a match type")?;
        } else if c.at_kw("DEFERRABLE")
            || (c.at_kw("NOT") && c.peek_at(1).is_some_and(|t| t.is_kw("DEFERRABLE")))
        {
            fk.deferrable = !c.eat_kw("NOT");
            c.pos += 1;
            if c.eat_kw("INITIALLY") {
                if c.eat_kw("DEFERRED") {
                    fk.initially_deferred = fk.deferrable;
                } else if !c.eat_kw("IMMEDIATE") {
                    return Err(c.error("DEFERRED or IMMEDIATE"));
                }
            }
        } else {
            return Ok(fk);
        }
    }
}

fn table_constraint(c: &mut Cursor, table: &mut CreateTable) -> Result<(), SqlError> {
    let name = if c.eat_kw("CONSTRAINT") {
        Some(c.name("a constraint name")?)
    } else {
        None
    };
    if c.eat_kw("PRIMARY") {
        c.expect_kw("KEY")?;
        let (terms, autoincrement) = indexed_terms(c)?;
        conflict_clause(c)?;
        for term in &terms {
            let key = term.column.as_deref().unwrap_or(&term.expr);
            for column in &mut table.columns {
                if column.name.eq_ignore_ascii_case(key) {
                    column.primary_key = true;
                    column.autoincrement |= autoincrement;
                }
            }
        }
    } else if c.eat_kw("UNIQUE") {
        indexed_terms(c)?;
        conflict_clause(c)?;
    } else if c.eat_kw("CHECK") {
        let expr = c.parenthesized()?.to_string();
        conflict_clause(c)?;
        table.checks.push(NamedExpr { name, expr });
    } else if c.eat_kw("FOREIGN") {
        c.expect_kw("KEY")?;
        let (terms, _) = indexed_terms(c)?;
        c.expect_kw("REFERENCES")?;
        let mut fk = references_clause(c)?;
        fk.columns = terms
            .into_iter()
            .map(|t| t.column.unwrap_or(t.expr))
            .collect();
        table.foreign_keys.push(fk);
    } else {
        return Err(c.error("PRIMARY KEY, UNIQUE, CHECK or FOREIGN KEY"));
    }
    Ok(())
}

/// `( term [COLLATE c] [ASC|DESC], … [AUTOINCREMENT] )`; returns the terms and whether
/// AUTOINCREMENT closed the list.
fn indexed_terms(c: &mut Cursor) -> Result<(Vec<IndexTerm>, bool), SqlError> {
    c.expect_op("(")?;
    let mut terms = Vec::new();
    let mut autoincrement = false;
    loop {
        let first = c.pos;
        let mut depth = 0usize;
        loop {
            match c.peek() {
                None => return Err(c.error("`)`")),
                Some(t) if depth == 0 && (t.is_op(",") || t.is_op(")")) => break,
                Some(t) if t.is_op("(") => depth += 1,
                Some(t) if t.is_op(")") => depth -= 1,
                Some(_) => {}
            }
            c.next();
        }
        let mut last = c.pos;
        if last > first && c.tokens[last - 1].is_kw("AUTOINCREMENT") {
            autoincrement = true;
            last -= 1;
        }
        let descending = last > first && c.tokens[last - 1].is_kw("DESC");
        if last > first && (descending || c.tokens[last - 1].is_kw("ASC")) {
            last -= 1;
        }
        let mut collation = None;
        if last >= first + 3 && c.tokens[last - 2].is_kw("COLLATE") {
            collation = c.tokens[last - 1].name().map(str::to_string);
            last -= 2;
        }
        if last == first {
            return Err(c.error("an indexed column or expression"));
        }
        let expr = c.sql[c.tokens[first].start..c.tokens[last - 1].end]
            .trim()
            .to_string();
        let column = (last == first + 1)
            .then(|| c.tokens[first].name().map(str::to_string))
            .flatten();
        terms.push(IndexTerm {
            expr,
            column,
            collation,
            descending,
        });
        if c.eat_op(")") {
            return Ok((terms, autoincrement));
        }
        c.expect_op(",")?;
    }
}

#[cfg(test)]
#[path = "create_tests.rs"]
mod tests;
