//! What every integration test stands on: one real PostgreSQL per test process (started on a
//! free port by [`pgcarry::LocalCluster`], removed by its watchdog when the process
//! exits), a fresh database per test, the real `pgcarry` binary, and SQLite files built from
//! SQL. Nothing here is mocked: if PostgreSQL cannot start, every test that needs it fails
//! with the reason.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use pgcarry::{ClusterOptions, LocalCluster};

/// The PostgreSQL server shared by all tests of this process.
pub struct TestCluster {
    cluster: LocalCluster,
}

impl TestCluster {
    /// The URL of the `postgres` database, as the `postgres` superuser (trust, no password).
    pub fn url(&self) -> String {
        self.cluster.url()
    }

    /// The URL of database `dbname`.
    pub fn url_for(&self, dbname: &str) -> String {
        self.cluster.url_for(dbname)
    }

    pub fn port(&self) -> u16 {
        self.cluster.port()
    }

    /// The server's log file (`log_line_prefix` names the database: `db=NAME`).
    pub fn log_path(&self) -> &Path {
        self.cluster.log_path()
    }

    /// A connection to the `postgres` database, for administrative statements.
    pub fn admin(&self) -> postgres::Client {
        connect(&self.url())
    }
}

/// The shared cluster, started on first use (fsync off, watched by a watchdog because a
/// `static` is never dropped). Panics with the cluster's error, server log included, when
/// it cannot start; a failed start is not retried by every later test.
pub fn pg() -> &'static TestCluster {
    static CLUSTER: OnceLock<Result<TestCluster, String>> = OnceLock::new();
    let started = CLUSTER.get_or_init(|| {
        // The database in each log line, so a test can read the statements of its own
        // database (`log_statement` is set per database by the tests that need it).
        let opts = ClusterOptions {
            extra_settings: vec![("log_line_prefix".into(), "%m [%p] db=%d ".into())],
            ..ClusterOptions::for_tests()
        };
        LocalCluster::start(&opts)
            .map(|cluster| TestCluster { cluster })
            .map_err(|err| err.to_string())
    });
    match started {
        Ok(cluster) => cluster,
        Err(err) => panic!(
            "could not start the test PostgreSQL (run scripts/ensure-postgres to install it):\n{err}"
        ),
    }
}

/// A database of its own for one test, on the shared cluster.
#[derive(Debug, Clone)]
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn client(&self) -> postgres::Client {
        connect(&self.url)
    }
}

/// Creates a database named after `prefix`, unique within the run (`prefix_N_PID`).
pub fn test_db(prefix: &str) -> TestDb {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let cluster = pg();
    let mut stem: String = prefix
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '_' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '_',
        })
        .collect();
    stem.truncate(40);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = format!("{stem}_{n}_{}", std::process::id());
    cluster
        .admin()
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .unwrap_or_else(|err| panic!("CREATE DATABASE {name}: {err}"));
    TestDb {
        url: cluster.url_for(&name),
        name,
    }
}

/// Logs every statement sent to database `db` from now on (sessions opened later).
pub fn log_statements(db: &TestDb) {
    pg().admin()
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET log_statement = 'all'",
            db.name
        ))
        .unwrap_or_else(|err| panic!("log statements of {}: {err}", db.name));
}

/// The statements the server logged for database `db`, in order, each as sent (simple
/// queries and executed prepared statements alike; their parameters are not included).
pub fn logged_statements(db: &TestDb) -> Vec<String> {
    let log = std::fs::read_to_string(pg().log_path())
        .unwrap_or_else(|err| panic!("read the server log: {err}"));
    let mine = format!(" db={} ", db.name);
    let mut out: Vec<String> = Vec::new();
    // A log entry starts with its timestamp; the lines of a multi-line statement follow it.
    let mut current: Option<String> = None;
    for line in log.lines() {
        let starts_entry = line.len() > 4 && line[..4].bytes().all(|b| b.is_ascii_digit());
        if !starts_entry {
            if let Some(sql) = current.as_mut() {
                sql.push('\n');
                sql.push_str(line);
            }
            continue;
        }
        out.extend(current.take());
        let Some((_, rest)) = line.split_once(&mine) else {
            continue;
        };
        let Some(message) = rest.strip_prefix("LOG:  ") else {
            continue;
        };
        if let Some(sql) = message.strip_prefix("statement: ") {
            current = Some(sql.to_string());
        } else if let Some((_, sql)) = message
            .strip_prefix("execute ")
            .and_then(|m| m.split_once(": "))
        {
            current = Some(sql.to_string());
        }
    }
    out.extend(current);
    out
}

/// What could point the binary at another server than a test means.
pub const TARGET_VARS: &[&str] = &[
    "DATABASE_URL",
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGDATABASE",
    "PGSERVICE",
    "PGSSLMODE",
    "PGSSLROOTCERT",
    "PGSSLCERT",
    "PGSSLKEY",
    "PGSERVICEFILE",
    "PGSYSCONFDIR",
    "PGCONNECT_TIMEOUT",
    "PGAPPNAME",
    "PGOPTIONS",
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_DB",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_SSL_MODE",
];

/// The real `pgcarry` binary, with the environment that could point it at another server
/// (`DATABASE_URL`, `PG*`) removed; tests set what they mean to test.
pub fn pgcarry() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_pgcarry"));
    for var in TARGET_VARS {
        cmd.env_remove(var);
    }
    cmd
}

/// Creates `dir/name` as a SQLite database by running `sql` in it; returns its path.
pub fn sqlite_fixture(dir: &Path, name: &str, sql: &str) -> PathBuf {
    let path = dir.join(name);
    let conn = rusqlite::Connection::open(&path)
        .unwrap_or_else(|err| panic!("open {}: {err}", path.display()));
    conn.execute_batch(sql)
        .unwrap_or_else(|err| panic!("build {}: {err}\n{sql}", path.display()));
    path
}

fn connect(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls)
        .unwrap_or_else(|err| panic!("connect to {url}: {err}"))
}

/// Everything the command printed, stdout then stderr.
pub fn output(out: &assert_cmd::assert::Assert) -> String {
    let o = out.get_output();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `pgcarry migrate SRC --to URL`, run in `dir` (where the default rejects file goes).
pub fn migrate_cmd(dir: &Path, src: &Path, url: &str) -> assert_cmd::Command {
    source_to_target("migrate", dir, src, url)
}

/// `pgcarry verify SRC --to URL`, run in `dir`.
pub fn verify_cmd(dir: &Path, src: &Path, url: &str) -> assert_cmd::Command {
    source_to_target("verify", dir, src, url)
}

fn source_to_target(command: &str, dir: &Path, src: &Path, url: &str) -> assert_cmd::Command {
    let mut cmd = pgcarry();
    cmd.current_dir(dir)
        .arg(command)
        .arg(src)
        .args(["--to", url]);
    cmd
}

/// Rows in a table, counted in PostgreSQL (`table` as it goes into SQL, quoted if needed).
pub fn count_rows(client: &mut postgres::Client, table: &str) -> i64 {
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap_or_else(|err| panic!("count {table}: {err}"))
        .get(0)
}

/// The built-in sample database at `scale` in `dir`, with the rows of each of its tables.
pub fn sample_db(dir: &Path, scale: u32) -> (PathBuf, Vec<(String, i64)>) {
    let src = dir.join(format!("sample-x{scale}.db"));
    pgcarry()
        .args(["sample", "--scale", &scale.to_string()])
        .arg(&src)
        .assert()
        .success();
    let sqlite = rusqlite::Connection::open(&src)
        .unwrap_or_else(|err| panic!("open {}: {err}", src.display()));
    let counts = ["users", "submissions", "assessments", "rate_limits"]
        .iter()
        .map(|t| {
            let n: i64 = sqlite
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .unwrap_or_else(|err| panic!("count {t} in the sample: {err}"));
            (t.to_string(), n)
        })
        .collect();
    (src, counts)
}

/// Asserts that each table of `expected` holds exactly its rows, none twice (by `id`);
/// `when` says which run in the messages.
pub fn assert_rows_once(client: &mut postgres::Client, expected: &[(String, i64)], when: &str) {
    for (table, n) in expected {
        let row = client
            .query_one(
                &format!("SELECT count(*), count(DISTINCT id) FROM {table}"),
                &[],
            )
            .unwrap_or_else(|err| panic!("count {table}: {err}"));
        let (rows, distinct): (i64, i64) = (row.get(0), row.get(1));
        assert_eq!(
            (rows, distinct),
            (*n, *n),
            "rows, distinct ids of {table} {when}"
        );
    }
}

/// Foreign keys created and validated in the target.
pub fn valid_foreign_keys(client: &mut postgres::Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated",
            &[],
        )
        .unwrap_or_else(|err| panic!("count foreign keys: {err}"))
        .get(0)
}

/// The entries of a `.tar.gz` archive, in order: each name (its exact bytes) and content.
pub fn archive_entries(path: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let file =
        std::fs::File::open(path).unwrap_or_else(|err| panic!("open {}: {err}", path.display()));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    archive
        .entries()
        .unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
        .map(|entry| {
            let mut entry = entry.unwrap_or_else(|err| panic!("an entry: {err}"));
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .unwrap_or_else(|err| panic!("an entry's content: {err}"));
            let name = entry.path().expect("an entry's name").into_owned();
            (name, bytes)
        })
        .collect()
}

/// A `pgcarry` process started with `args` in a directory, its stderr read as it comes (to
/// act while it runs), the environment that could point it elsewhere removed.
pub struct Running {
    pub child: Child,
    stderr: Arc<Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
    started: Instant,
}

impl Running {
    pub fn spawn(dir: &Path, args: &[&str]) -> Running {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pgcarry"));
        for var in TARGET_VARS {
            cmd.env_remove(var);
        }
        let mut child = cmd
            .current_dir(dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut pipe = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let text = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                text.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Running {
            child,
            stderr,
            reader,
            started: Instant::now(),
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stderr holds `needle`; false after `within`.
    pub fn says(&self, needle: &str, within: Duration) -> bool {
        wait_until(within, || self.stderr().contains(needle))
    }

    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Exit code, stdout and stderr, and how long it ran.
    pub fn finish(self) -> (Option<i32>, String, Duration) {
        let out = self.child.wait_with_output().unwrap();
        let elapsed = self.started.elapsed();
        self.reader.join().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            self.stderr.lock().unwrap()
        );
        (out.status.code(), text, elapsed)
    }
}

/// Calls `done` every 20 ms until it is true; false after `within`.
pub fn wait_until(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < within {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
