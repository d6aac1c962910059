//! Faults and bad input: each yields its exit code and a message that names the thing and says
//! what to do, and leaves the target untouched where nothing could be done; faults that can
//! pass (a restart, a lost connection) end verified after a retry or a plain re-run.
//!
//! `source` covers the SQLite file (locked, unreadable, encrypted).

mod source;

use crate::support::TestDb;
use std::process::Command;

/// Everything the command printed, stdout then stderr.
fn output(out: &assert_cmd::assert::Assert) -> String {
    let o = out.get_output();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Asserts that nothing was written: no table outside the system schemas, no `pgcarry` schema.
fn assert_untouched(client: &mut postgres::Client) {
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM pg_tables \
                     WHERE schemaname NOT IN ('pg_catalog', 'information_schema')), \
                    (SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcarry')",
            &[],
        )
        .unwrap();
    let (tables, state): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!(
        (tables, state),
        (0, 0),
        "tables and pgcarry schema in the target"
    );
}

fn assert_db_untouched(db: &TestDb) {
    assert_untouched(&mut db.client());
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}
