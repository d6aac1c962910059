//! The plan holds every statement a migration runs: the server's own statement log of a
//! `migrate` is compared with the plan's list (`plan --json`, listed as `plan --sql` prints it).
//!
//! The rule for what is not in the plan: reads. A logged statement that starts with `SELECT`
//! and calls neither `setval`, an advisory-lock function (`pg_try_advisory_lock`, …) nor
//! `set_config` (catalog look-ups, who holds the run lock, the resume state read back, row
//! counts and checksums of the verification), a `COPY … TO STDOUT` (verification reading rows
//! back) and transaction control (`BEGIN`, `START TRANSACTION`, `COMMIT`, `ROLLBACK`) change
//! nothing and are left out. Every other statement the server saw must be one of the plan's (a
//! statement with a `{name}` placeholder matches whatever the run put there), and every
//! statement the plan says runs in that situation must have been seen: the run lock's
//! included.

use crate::support::{
    log_statements, logged_statements, migrate_cmd, pgcarry, sample_db, sqlite_fixture, test_db,
};
use pgcarry::{IfExists, Plan};
use pgcarry::{Runs, plan_statements as phases};
use std::path::Path;

/// Whitespace collapsed, trailing `;` dropped.
fn normalise(sql: &str) -> String {
    let one = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    one.trim_end_matches(';').trim_end().to_string()
}

/// True for what the rule above leaves out: reads and transaction control.
fn is_read(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    let changes = ["SETVAL(", "_ADVISORY_", "SET_CONFIG("];
    (upper.starts_with("SELECT") && !changes.iter().any(|c| upper.contains(c)))
        || (upper.starts_with("COPY") && upper.contains(" TO STDOUT"))
        || matches!(
            upper.as_str(),
            "BEGIN" | "START TRANSACTION" | "COMMIT" | "ROLLBACK"
        )
}

/// True when `sql` is `template` with each `{name}` placeholder filled in.
fn fills(template: &str, sql: &str) -> bool {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        match rest[open..].find('}') {
            Some(close)
                if rest[open + 1..open + close]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase()) =>
            {
                pieces.push(&rest[..open]);
                rest = &rest[open + close + 1..];
            }
            _ => break,
        }
    }
    if pieces.is_empty() {
        return template == sql;
    }
    pieces.push(rest);
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if !sql.starts_with(first) || !sql.ends_with(last) || sql.len() < first.len() + last.len() {
        return false;
    }
    let mut at = first.len();
    for p in &pieces[1..pieces.len() - 1] {
        match sql[at..sql.len() - last.len()].find(p) {
            Some(i) => at += i + p.len(),
            None => return false,
        }
    }
    true
}

/// The plan of `src` as `plan --json` gives it, with `args` added.
fn plan_of(dir: &Path, src: &Path, args: &[&str]) -> Plan {
    let out = pgcarry()
        .current_dir(dir)
        .arg("plan")
        .arg(src)
        .arg("--json")
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).expect("plan --json is a Plan")
}

/// `plan --sql`, whitespace collapsed.
fn plan_sql_text(dir: &Path, src: &Path, args: &[&str]) -> String {
    let out = pgcarry()
        .current_dir(dir)
        .arg("plan")
        .arg(src)
        .arg("--sql")
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    normalise(&String::from_utf8(out).unwrap())
}

/// The plan's statements with when they run, normalised, in order.
fn planned(plan: &Plan) -> Vec<(String, Runs)> {
    phases(plan)
        .into_iter()
        .flat_map(|p| p.statements)
        .map(|s| (normalise(&s.sql), s.runs))
        .collect()
}

/// Every statement the server saw that changes something is one of the plan's; returns them.
fn assert_all_planned(seen: &[String], plan: &[(String, Runs)]) -> Vec<String> {
    let writes: Vec<String> = seen
        .iter()
        .map(|s| normalise(s))
        .filter(|s| !is_read(s))
        .collect();
    for s in &writes {
        assert!(
            plan.iter().any(|(p, _)| fills(p, s)),
            "the server ran a statement the plan does not hold:\n{s}\n\nplan:\n{:#?}",
            plan.iter().map(|(p, _)| p).collect::<Vec<_>>()
        );
    }
    assert!(!writes.is_empty(), "no statement was logged");
    writes
}

// See: issue #11 — `plan --sql` showed the DDL but not the COPY, upsert or setval statements
// the executor composed on its own.
#[test]
fn migrate_runs_exactly_the_statements_of_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = sample_db(dir.path(), 1);
    // Small key ranges, so that a table loads in several, each its own transaction.
    let args = ["--chunk-rows", "200"];
    let db = test_db("plan_statements");
    log_statements(&db);
    pgcarry()
        .current_dir(dir.path())
        .arg("migrate")
        .arg(&src)
        .args(["--to", &db.url])
        .args(args)
        .assert()
        .success();
    let plan = plan_of(dir.path(), &src, &args);
    assert!(
        plan.tables.iter().any(|t| t.chunks.is_some()),
        "a table should load in key ranges"
    );
    let planned = planned(&plan);
    let writes = assert_all_planned(&logged_statements(&db), &planned);
    let text = plan_sql_text(dir.path(), &src, &args);
    for (p, runs) in &planned {
        assert!(text.contains(p.as_str()), "plan --sql lacks:\n{p}");
        if matches!(
            runs,
            Runs::Always
                | Runs::ResumeState
                | Runs::NextRanges
                | Runs::LockSession
                | Runs::EveryConnection
        ) {
            assert!(
                writes.contains(p),
                "the plan says this runs, the server never saw it:\n{p}"
            );
        }
    }
    // The setval of every identity, and the COPY with FREEZE of every table, ran.
    for t in &plan.tables {
        assert!(writes.contains(&normalise(&t.load.copy_new)), "{}", t.name);
        if let Some(s) = &t.sequence {
            assert!(writes.contains(&normalise(&s.sql)), "{}", t.name);
        }
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A chat store: conversations with their messages (a child table owned by its conversation).
fn chat_store(root: &Path, conversations: usize, with_title: bool) {
    for c in 0..conversations {
        let title = if with_title {
            format!(r#""title": "conversation {c}", "#)
        } else {
            String::new()
        };
        write(
            root,
            &format!("data/u1/c{c}.json"),
            &format!(
                r#"{{"id": "c{c}", {title}"created": "2024-05-01T10:00:00Z",
                    "messages": [{{"role": "user", "content": "hi {c}"}},
                                 {{"role": "assistant", "content": "hello"}}]}}"#
            ),
        );
    }
}

#[test]
fn an_upsert_runs_only_the_statements_of_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    chat_store(&store, 2, false);
    let db = test_db("plan_statements_upsert");
    let migrate = || {
        pgcarry()
            .current_dir(dir.path())
            .arg("migrate")
            .arg(&store)
            .args(["--to", &db.url])
            .assert()
            .success();
    };
    migrate();
    // The store grew (a conversation) and its documents gained a field: the second run
    // upserts into the existing tables, and adds the column.
    chat_store(&store, 3, true);
    log_statements(&db);
    migrate();
    let plan = plan_of(dir.path(), &store, &[]);
    let planned = planned(&plan);
    let writes = assert_all_planned(&logged_statements(&db), &planned);
    let upserts: Vec<&String> = planned
        .iter()
        .filter(|(p, runs)| {
            matches!(runs, Runs::Existing(modes) if modes.contains(&IfExists::Upsert))
                && !p.contains('{')
        })
        .map(|(p, _)| p)
        .collect();
    assert!(upserts.iter().any(|p| p.starts_with("INSERT INTO")));
    assert!(upserts.iter().any(|p| p.starts_with("DELETE FROM")));
    for p in upserts {
        assert!(writes.contains(p), "the upsert never ran:\n{p}");
    }
    assert!(
        writes
            .iter()
            .any(|s| s.starts_with("ALTER TABLE") && s.contains(" ADD COLUMN \"title\" ")),
        "the new field's column was not added: {writes:#?}"
    );
    // Nothing was created again: the tables were there.
    for t in &plan.tables {
        assert!(!writes.contains(&normalise(&t.create_sql)), "{}", t.name);
    }
}

// PostgreSQL refuses a table of more than 1600 columns; the load used to find out only at
// CREATE TABLE (and checked a limit of 32767 after its COPY had started). The plan knows.
#[test]
fn a_table_wider_than_postgresql_allows_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cols: Vec<String> = (0..1600).map(|i| format!("c{i} INTEGER")).collect();
    let src = sqlite_fixture(
        dir.path(),
        "wide.db",
        &format!(
            "CREATE TABLE wide (id INTEGER PRIMARY KEY, {});
             INSERT INTO wide (id) VALUES (1);",
            cols.join(", ")
        ),
    );
    let db = test_db("plan_wide");
    let out = migrate_cmd(dir.path(), &src, &db.url).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("wide has 1601 columns") && stderr.contains("at most 1600"),
        "{stderr}"
    );
    let schemas: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcarry'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(schemas, 0, "nothing may be written");
}
