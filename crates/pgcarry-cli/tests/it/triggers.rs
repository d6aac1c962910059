//! SQLite triggers become PostgreSQL triggers with the same effect: the same statements run on
//! both sides after the migration leave the same rows.

use crate::support::{migrate_cmd, sqlite_fixture, test_db};

const LIBRARY: &str = "
    CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL, books INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors(id),
        title TEXT NOT NULL, price REAL NOT NULL, edits INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE audit (id INTEGER PRIMARY KEY, book_id INTEGER, action TEXT NOT NULL,
        old_price REAL, new_price REAL);
    CREATE TABLE tags (name TEXT PRIMARY KEY, note TEXT NOT NULL);
    INSERT INTO tags VALUES ('ann', 'seed');
    INSERT INTO authors VALUES (1, 'ann', 2), (2, 'bob', 1);
    INSERT INTO books VALUES (1, 1, 'a', 5.0, 0), (2, 1, 'b', 7.5, 0), (3, 2, 'c', 3.25, 0);
    INSERT INTO audit VALUES (1, 1, 'import', NULL, 5.0);

    -- An audit INSERT, and a counter kept on another table.
    CREATE TRIGGER books_added AFTER INSERT ON books BEGIN
        INSERT INTO audit (book_id, action, new_price) VALUES (NEW.id, 'insert', NEW.price);
        UPDATE authors SET books = books + 1 WHERE id = NEW.author_id;
    END;
    -- A cascading DELETE.
    CREATE TRIGGER authors_gone BEFORE DELETE ON authors BEGIN
        DELETE FROM books WHERE author_id = OLD.id;
    END;
    -- A RAISE(ABORT) check.
    CREATE TRIGGER books_price_check BEFORE INSERT ON books WHEN NEW.price < 0 BEGIN
        SELECT RAISE(ABORT, 'price must not be negative');
    END;
    CREATE TRIGGER books_title_check BEFORE UPDATE OF title ON books BEGIN
        SELECT CASE WHEN NEW.title = '' THEN RAISE(ABORT, 'a title is required') END;
    END;
    -- UPDATE OF a column, with WHEN.
    CREATE TRIGGER books_repriced AFTER UPDATE OF price ON books WHEN NEW.price <> OLD.price BEGIN
        INSERT INTO audit (book_id, action, old_price, new_price)
            VALUES (NEW.id, 'price', OLD.price, NEW.price);
    END;
    -- It updates its own table: SQLite does not fire it again from itself.
    CREATE TRIGGER books_edited AFTER UPDATE ON books BEGIN
        UPDATE books SET edits = edits + 1 WHERE id = NEW.id;
    END;
    -- A correlated subquery.
    CREATE TRIGGER books_gone AFTER DELETE ON books BEGIN
        DELETE FROM audit WHERE book_id = OLD.id
            AND NOT EXISTS (SELECT 1 FROM books b WHERE b.id = audit.book_id);
    END;
    -- INSERT … SELECT reading the trigger's row.
    CREATE TRIGGER books_retitled AFTER UPDATE OF title ON books BEGIN
        INSERT INTO audit (book_id, action, new_price)
            SELECT b.id, 'sibling', b.price FROM books b
            WHERE b.author_id = NEW.author_id AND b.id <> NEW.id ORDER BY b.id;
    END;
    -- INSERT OR IGNORE: a duplicate key and a NULL in a NOT NULL column are skipped, row by row.
    CREATE TRIGGER authors_renamed AFTER UPDATE OF name ON authors BEGIN
        INSERT OR IGNORE INTO tags (name, note)
            VALUES ('ann', 'dup'), (NEW.name, 'renamed'), ('x', NULL);
    END;
    -- Not translated: OR REPLACE (never fired by the steps below).
    CREATE TRIGGER books_moved AFTER UPDATE OF author_id ON books BEGIN
        INSERT OR REPLACE INTO audit (id, book_id, action) VALUES (NEW.id, NEW.id, 'moved');
    END;
";

/// What the application does after the move, in both databases.
const STEPS: &[&str] = &[
    "INSERT INTO books (author_id, title, price) VALUES (1, 'new', 9.5)",
    "UPDATE books SET price = 12.0 WHERE id = 4",
    "UPDATE books SET title = 'renamed' WHERE id = 4",
    "UPDATE books SET price = 12.0 WHERE id = 4",
    "INSERT INTO books (author_id, title, price) VALUES (2, 'bad', -1)",
    "UPDATE books SET title = '' WHERE id = 1",
    "UPDATE authors SET name = 'ann2' WHERE id = 1",
    "DELETE FROM authors WHERE id = 2",
];

type Rows = Vec<Vec<String>>;

const QUERIES: &[&str] = &[
    "SELECT id, name, books FROM authors ORDER BY id",
    "SELECT id, author_id, title, price, edits FROM books ORDER BY id",
    "SELECT id, book_id, action, old_price, new_price FROM audit ORDER BY id",
    "SELECT name, note FROM tags ORDER BY name",
];

fn sqlite_state(conn: &rusqlite::Connection) -> Vec<Rows> {
    QUERIES
        .iter()
        .map(|q| {
            let mut st = conn.prepare(q).unwrap();
            let n = st.column_count();
            st.query_map([], |r| {
                Ok((0..n)
                    .map(|i| match r.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Null => "NULL".to_string(),
                        rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                        rusqlite::types::ValueRef::Real(v) => format!("{v:?}"),
                        rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into(),
                        rusqlite::types::ValueRef::Blob(_) => "blob".into(),
                    })
                    .collect())
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
        })
        .collect()
}

fn pg_state(client: &mut postgres::Client) -> Vec<Rows> {
    QUERIES
        .iter()
        .map(|q| {
            let rows = client.query(*q, &[]).unwrap();
            rows.iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| {
                            let ty = r.columns()[i].type_().name().to_string();
                            match ty.as_str() {
                                "int2" => opt(r.get::<_, Option<i16>>(i)),
                                "int4" => opt(r.get::<_, Option<i32>>(i)),
                                "int8" => opt(r.get::<_, Option<i64>>(i)),
                                "float8" => r
                                    .get::<_, Option<f64>>(i)
                                    .map_or("NULL".into(), |v| format!("{v:?}")),
                                _ => opt(r.get::<_, Option<String>>(i)),
                            }
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or("NULL".into(), |v| v.to_string())
}

// See: issue #13 item 7 — 39 triggers were "not migrated", one line, exit 0.
#[test]
fn translated_triggers_have_the_same_effect_as_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let src = sqlite_fixture(dir.path(), "library.db", LIBRARY);
    let db = test_db("triggers");
    let report = dir.path().join("report.json");
    let a = migrate_cmd(dir.path(), &src, &db.url)
        .arg("--report")
        .arg(&report)
        .assert()
        .code(0);
    let out = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(
        out.contains("books_moved"),
        "the untranslated trigger is named:\n{out}"
    );
    assert!(
        out.contains("migrated and verified; 1 trigger not migrated"),
        "the last line says what needs attention:\n{out}"
    );
    let json = std::fs::read_to_string(&report).unwrap();
    assert!(
        json.contains("OR REPLACE in a trigger statement is not translated"),
        "with the true reason:\n{json}"
    );

    let sqlite = rusqlite::Connection::open(&src).unwrap();
    let mut client = db.client();
    assert_eq!(
        pg_state(&mut client),
        sqlite_state(&sqlite),
        "after the migration"
    );
    for step in STEPS {
        let lite = sqlite.execute_batch(step).map_err(|e| e.to_string());
        let pg = client.batch_execute(step).map_err(|e| {
            e.as_db_error()
                .map_or(e.to_string(), |d| d.message().to_string())
        });
        match (&lite, &pg) {
            (Ok(()), Ok(())) => {}
            (Err(l), Err(p)) => assert_eq!(l, p, "{step}: both refuse, with the same message"),
            _ => panic!("{step}: SQLite {lite:?}, PostgreSQL {pg:?}"),
        }
        assert_eq!(pg_state(&mut client), sqlite_state(&sqlite), "after {step}");
    }
    // verify still agrees, and sees the translated triggers.
    crate::support::pgcarry()
        .current_dir(dir.path())
        .args(["verify", src.to_str().unwrap(), "--to", &db.url])
        .assert()
        .code(0);
    client
        .batch_execute("DROP TRIGGER books_added ON books")
        .unwrap();
    let a = crate::support::pgcarry()
        .current_dir(dir.path())
        .args(["verify", src.to_str().unwrap(), "--to", &db.url])
        .assert()
        .code(3);
    let out = String::from_utf8_lossy(&a.get_output().stdout).into_owned();
    assert!(out.contains("trigger books_added"), "{out}");
}
