//! Stand-ins for the collations an application registers on its own connections (a flashcard
//! app's `unicase`). SQLite stores only their names: a connection without them refuses every
//! statement that needs one ("no such collation sequence"), which stopped `plan`, `migrate`
//! and `verify` on such files. Every connection reading the source registers a stand-in for
//! each name SQLite asks for; this module also finds the unique keys whose rows the stand-in
//! says PostgreSQL could not keep case-insensitive. It never writes to the source.

use rusqlite::Connection;
use std::cmp::Ordering;

use crate::model::schema::{Index, Table};
use crate::sqlite::quote_sqlite_ident;

/// The collations SQLite defines itself; any other name was the application's.
const BUILT_IN: [&str; 3] = ["BINARY", "NOCASE", "RTRIM"];

/// True when `name` is a collation SQLite does not define, so the application registered it
/// and pgcarry reads it through [`stand_in_order`].
pub fn is_application_defined(name: &str) -> bool {
    !BUILT_IN.iter().any(|b| b.eq_ignore_ascii_case(name))
}

/// Makes `conn` register [`stand_in_order`] under any collation name SQLite does not know,
/// the moment a statement needs it.
pub(crate) fn register_stand_ins(conn: &Connection) -> rusqlite::Result<()> {
    conn.collation_needed(|conn, name| conn.create_collation(name, stand_in_order))
}

/// The stand-in for an unknown collation: text compared by its Unicode lowercase, character
/// by character, so two values are equal exactly when they differ only in case. Chosen
/// because the collations applications register are, in practice, case-insensitive
/// (`unicase`), and because it is a deterministic total order, which SQLite needs to read an
/// index. pgcarry cannot know the application's exact order: the stand-in only lets every
/// table be read, orphan checks compare keys, and the plan decide whether a unique key can be
/// kept case-insensitive ([`folded_duplicates`]).
pub fn stand_in_order(a: &str, b: &str) -> Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

/// True when some term of the index uses an application-defined collation.
pub fn uses_application_collation(idx: &Index) -> bool {
    idx.columns
        .iter()
        .filter_map(|c| c.collation.as_deref())
        .any(is_application_defined)
}

/// The unique keys of `table` over an application-defined collation whose rows hold two
/// values the stand-in calls equal (`Alice` next to `alice`): by index name, `None` for the
/// primary key. PostgreSQL's index on `lower()` would refuse those rows, so the plan leaves
/// such a key case-sensitive. A key whose check fails to run counts as holding them.
pub(crate) fn folded_duplicates(conn: &Connection, table: &Table) -> Vec<Option<String>> {
    let mut found = Vec::new();
    if primary_key_collations(table)
        .iter()
        .any(|c| is_application_defined(c))
    {
        let terms: Vec<String> = table
            .primary_key
            .iter()
            .zip(primary_key_collations(table))
            .map(|(col, coll)| unindexed(&quote_sqlite_ident(col), &coll))
            .collect();
        if has_duplicates(conn, table, &terms, None) {
            found.push(None);
        }
    }
    for idx in table
        .indexes
        .iter()
        .filter(|i| i.unique && uses_application_collation(i))
    {
        let terms: Vec<String> = idx
            .columns
            .iter()
            .map(|c| {
                let term = match (&c.column, &c.expr) {
                    (Some(col), _) => quote_sqlite_ident(col),
                    (None, expr) => format!("({})", expr.as_deref().unwrap_or("NULL")),
                };
                unindexed(&term, c.collation.as_deref().unwrap_or("BINARY"))
            })
            .collect();
        if has_duplicates(conn, table, &terms, idx.partial_where.as_deref()) {
            found.push(Some(idx.name.clone()));
        }
    }
    found
}

/// The collation of each primary-key column (its declared one, else BINARY).
fn primary_key_collations(table: &Table) -> Vec<String> {
    table
        .primary_key
        .iter()
        .map(|k| {
            table
                .columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(k))
                .and_then(|c| c.collation.clone())
                .unwrap_or_else(|| "BINARY".into())
        })
        .collect()
}

/// A term compared under `collation` that SQLite cannot answer from an index: an index (or a
/// WITHOUT ROWID table) is ordered by the application's collation, not by the stand-in, so
/// grouping along it could miss equal values.
fn unindexed(term: &str, collation: &str) -> String {
    format!("(+{term}) COLLATE {}", quote_sqlite_ident(collation))
}

/// True when two rows with every term non-NULL (NULLs never collide in a unique key) group
/// together, or when the query fails.
fn has_duplicates(
    conn: &Connection,
    table: &Table,
    terms: &[String],
    partial: Option<&str>,
) -> bool {
    let mut conditions: Vec<String> = terms.iter().map(|t| format!("{t} IS NOT NULL")).collect();
    conditions.extend(partial.map(|w| format!("({w})")));
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM {} WHERE {} GROUP BY {} HAVING count(*) > 1)",
        quote_sqlite_ident(&table.name),
        conditions.join(" AND "),
        terms.join(", ")
    );
    conn.query_row(&sql, [], |r| r.get::<_, bool>(0))
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stand_in_ignores_case_and_orders_by_the_lowercase() {
        assert_eq!(stand_in_order("Apple", "apple"), Ordering::Equal);
        assert_eq!(stand_in_order("ÉMILE", "émile"), Ordering::Equal);
        assert_eq!(stand_in_order("apple", "Banana"), Ordering::Less);
        assert_eq!(stand_in_order("b", "A"), Ordering::Greater);
        assert!(is_application_defined("unicase"));
        assert!(!is_application_defined("nocase"));
    }

    #[test]
    fn a_file_naming_an_unknown_collation_is_read_through_the_stand_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let app = Connection::open(&path).unwrap();
        app.create_collation("unicase", stand_in_order).unwrap();
        app.execute_batch(
            "CREATE TABLE tags (tag TEXT PRIMARY KEY COLLATE unicase, n INT) WITHOUT ROWID;
             INSERT INTO tags VALUES ('Verbs', 1), ('nouns', 2);",
        )
        .unwrap();
        drop(app);
        let conn = Connection::open(&path).unwrap();
        assert!(
            conn.prepare("SELECT * FROM tags").is_err(),
            "SQLite refuses"
        );
        register_stand_ins(&conn).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM tags WHERE tag = 'VERBS'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn only_rows_a_unique_key_holds_count_as_folded_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let app = Connection::open(&path).unwrap();
        app.create_collation("exact", str::cmp).unwrap();
        app.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT COLLATE exact, live INT);
             CREATE UNIQUE INDEX live_a ON t (a) WHERE live;
             CREATE UNIQUE INDEX every_a ON t (a);
             INSERT INTO t VALUES (1, 'X', 1), (2, 'x', 0), (3, NULL, 1), (4, NULL, 1);",
        )
        .unwrap();
        drop(app);
        let conn = super::super::snapshot::open_read_only(&path).unwrap();
        let schema = super::super::introspect::introspect(&conn, &path).unwrap();
        let found = folded_duplicates(&conn, &schema.tables[0]);
        assert_eq!(found, [Some("every_a".to_string())]);
    }
}
