//! Faults and bad input: each yields its exit code and a message that names the thing and says
//! what to do, and leaves the target untouched where nothing could be done; faults that can
//! pass (a restart, a lost connection) end verified after a retry or a plain re-run.
//!
//! `source` covers the SQLite file (locked, unreadable, WAL in a read-only directory,
//! encrypted), `server` the target (wrong password, disk full), `interrupted` a run cut off by
//! the server (restart mid-load, connection lost while verifying). Tests that restart or break a server use a private
//! [`LocalCluster`], never the shared one.

mod interrupted;
mod server;
mod source;

use crate::support::TestDb;
use pgcarry::LocalCluster;
use std::process::Command;

use crate::support::output;

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

/// `pg_ctl ARGS -D DATA` on a private cluster, as the `postgres` user when we are root.
fn pg_ctl(cluster: &LocalCluster, args: &[&str]) {
    let pg_ctl = LocalCluster::find_bin_dir().unwrap().join("pg_ctl");
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(pg_ctl);
        c
    } else {
        Command::new(pg_ctl)
    };
    // The server's output goes to its log, or pg_ctl would keep our pipe open.
    cmd.args(args)
        .arg("-D")
        .arg(cluster.data_dir())
        .arg("-l")
        .arg(cluster.log_path())
        .current_dir(cluster.dir());
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "pg_ctl {args:?}: {}{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        cluster.log_tail()
    );
}
