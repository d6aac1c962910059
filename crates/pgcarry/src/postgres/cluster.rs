//! A throw-away local PostgreSQL cluster: `initdb` into a temporary directory, start it on a
//! free port of 127.0.0.1 with trust authentication, stop it and remove the directory at the
//! end.
//!
//! `pgcarry rehearse` migrates into one, and the test suite runs against one. It needs only
//! PostgreSQL's server binaries (`initdb`, `pg_ctl`, `postgres`), found on `PATH` or under
//! `/usr/lib/postgresql/*/bin`. PostgreSQL refuses to run as root, so when we are root the
//! directory is handed to the `postgres` system user (the one Debian's package creates) and the
//! binaries run through `runuser -u postgres --`.
//!
//! Cleanup happens on [`LocalCluster::stop`], on drop, through a [`CleanupHandle`] (for a
//! Ctrl-C handler), and — with [`ClusterOptions::watch_parent`] — from a detached watchdog
//! that notices when our process is gone, so that a cluster that is never dropped (a
//! `static`) does not outlive the process. This module never touches any other server and
//! never uses a fixed port.

mod host;

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};

use host::{
    combined, create_temp_dir, free_port, is_root, log_tail, lookup_user, percent_encode,
    postmaster_pid, shell_quote, tail,
};

/// The system user that owns the cluster when we run as root.
const SERVER_USER: &str = "postgres";
/// How many times a start is retried when the chosen port was taken in the meantime.
const PORT_ATTEMPTS: usize = 5;
/// Lines of the server log quoted in error messages.
const LOG_TAIL_LINES: usize = 25;

/// How the throw-away cluster is configured.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// `fsync`, `full_page_writes` and `synchronous_commit` stay on when true; tests turn
    /// them off: a crash loses a cluster that was going to be thrown away anyway.
    pub fsync: bool,
    /// Start a detached watchdog that stops the cluster and removes its directory once this
    /// process has exited, whether or not the [`LocalCluster`] was dropped.
    pub watch_parent: bool,
    /// More `postgresql.conf` settings, `(name, value)`; values are quoted for you.
    pub extra_settings: Vec<(String, String)>,
    /// Listen on this port (refused when it is taken) instead of one the kernel hands out.
    pub port: Option<u16>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            fsync: true,
            watch_parent: false,
            extra_settings: Vec::new(),
            port: None,
        }
    }
}

impl ClusterOptions {
    /// The settings for a test run: no fsync, watched by a watchdog.
    pub fn for_tests() -> Self {
        ClusterOptions {
            fsync: false,
            watch_parent: true,
            extra_settings: Vec::new(),
            port: None,
        }
    }
}

/// Why a local cluster could not be found, started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL's server binaries (initdb, pg_ctl) were found neither on PATH nor under \
         /usr/lib/postgresql/*/bin; install them (Debian/Ubuntu: `apt-get install postgresql`, \
         or run scripts/ensure-postgres) or put their directory on PATH"
    )]
    BinariesNotFound,
    #[error(
        "running as root, the throw-away cluster must belong to the `{0}` system user, which does \
         not exist; install Debian's `postgresql` package (it creates the user) or run as a \
         non-root user"
    )]
    NoServerUser(String),
    #[error("could not {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("initdb failed ({status}) in {dir}:\n{output}")]
    Initdb {
        dir: PathBuf,
        status: String,
        output: String,
    },
    #[error(
        "the PostgreSQL server in {dir} did not start on port {port} ({attempts} attempt(s)): \
         {output}\n--- tail of {log} ---\n{log_tail}"
    )]
    Start {
        dir: PathBuf,
        port: u16,
        attempts: usize,
        output: String,
        log: PathBuf,
        log_tail: String,
    },
    #[error(
        "the PostgreSQL server in {dir} did not stop: {output}\n--- tail of {log} ---\n{log_tail}"
    )]
    Stop {
        dir: PathBuf,
        output: String,
        log: PathBuf,
        log_tail: String,
    },
}

fn io_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}

/// A running throw-away cluster. Dropping it stops the server and removes its directory,
/// unless it was [kept](LocalCluster::keep).
#[derive(Debug)]
pub struct LocalCluster {
    inner: Arc<Inner>,
    port: u16,
    kept: bool,
}

/// What [`LocalCluster::keep`] leaves behind: a running server and how to get rid of it.
#[derive(Debug, Clone)]
pub struct KeptCluster {
    pub url: String,
    pub port: u16,
    /// The PostgreSQL data directory.
    pub data_dir: PathBuf,
    /// The temporary directory holding the data directory and the server log.
    pub dir: PathBuf,
    /// A shell command that stops the server and removes `dir`.
    pub stop_command: String,
}

/// Stops the cluster and removes its directory from anywhere, e.g. a Ctrl-C handler thread.
#[derive(Debug, Clone)]
pub struct CleanupHandle {
    inner: Arc<Inner>,
}

impl CleanupHandle {
    /// Stops the server (fast, then immediate) and removes the directory. Idempotent; a second
    /// call, or a call racing with the owner's drop, waits for the first and returns `Ok`.
    pub fn cleanup(&self) -> Result<(), ClusterError> {
        self.inner.cleanup()
    }
}

#[derive(Debug)]
struct Inner {
    bin_dir: PathBuf,
    /// The temporary directory: `data/` and `server.log` inside.
    dir: PathBuf,
    data_dir: PathBuf,
    log: PathBuf,
    /// Run the binaries through `runuser -u postgres --` (we are root).
    as_server_user: bool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Stopped and removed (or deliberately left running by `keep`): nothing more to do.
    done: bool,
    watchdog: Option<Child>,
}

impl LocalCluster {
    /// The directory holding `initdb` and `pg_ctl`: the one on `PATH` first (symlinks
    /// resolved), else the newest `/usr/lib/postgresql/<version>/bin`.
    pub fn find_bin_dir() -> Result<PathBuf, ClusterError> {
        let usable = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                let initdb = dir.join("initdb");
                if !initdb.is_file() {
                    continue;
                }
                let real = fs::canonicalize(&initdb).unwrap_or(initdb);
                if let Some(real_dir) = real.parent().filter(|d| usable(d)) {
                    return Ok(real_dir.to_path_buf());
                }
                if usable(&dir) {
                    return Ok(dir);
                }
            }
        }
        let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
                Some((version, entry.path().join("bin")))
            })
            .filter(|(_, bin)| usable(bin))
            .collect();
        versions.sort();
        versions
            .pop()
            .map(|(_, bin)| bin)
            .ok_or(ClusterError::BinariesNotFound)
    }

    /// Creates a temporary directory, runs `initdb` and starts the server on a free port.
    /// Anything already created is removed again when this fails.
    pub fn start(opts: &ClusterOptions) -> Result<LocalCluster, ClusterError> {
        let bin_dir = Self::find_bin_dir()?;
        let as_server_user = is_root();
        let owner = if as_server_user {
            Some(lookup_user(SERVER_USER)?)
        } else {
            None
        };
        let dir = create_temp_dir()?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(io_error(format!(
                "hand {} to the `{SERVER_USER}` user",
                dir.display()
            )))?;
        }
        let inner = Arc::new(Inner {
            bin_dir,
            data_dir: dir.join("data"),
            log: dir.join("server.log"),
            dir,
            as_server_user,
            state: Mutex::new(State::default()),
        });
        // From here on, dropping `cluster` (an early return) stops and removes everything.
        let mut cluster = LocalCluster {
            inner,
            port: 0,
            kept: false,
        };
        let inner = Arc::clone(&cluster.inner);
        inner.initdb()?;
        inner.write_settings(opts)?;
        if opts.watch_parent {
            let watchdog = inner.spawn_watchdog(std::process::id())?;
            inner.lock().watchdog = Some(watchdog);
        }
        cluster.port = inner.start_on_free_port(opts.port)?;
        Ok(cluster)
    }

    /// `postgresql://postgres@127.0.0.1:PORT/postgres` (trust authentication, no password).
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// The URL of database `dbname` on this cluster.
    pub fn url_for(&self, dbname: &str) -> String {
        format!(
            "postgresql://{SERVER_USER}@127.0.0.1:{}/{}",
            self.port,
            percent_encode(dbname)
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The PostgreSQL data directory (inside [`LocalCluster::dir`]).
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// The temporary directory that holds everything: the data directory and the server log.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The server's log file.
    pub fn log_path(&self) -> &Path {
        &self.inner.log
    }

    /// The last lines of the server log, for error messages.
    pub fn log_tail(&self) -> String {
        log_tail(&self.inner.log, 0)
    }

    /// Stops the server (`-m fast`, falling back to `-m immediate`) and removes the directory.
    pub fn stop(self) -> Result<(), ClusterError> {
        self.inner.cleanup()
    }

    /// Leaves the server running after this process ends; says how to stop and remove it.
    pub fn keep(mut self) -> KeptCluster {
        self.kept = true;
        {
            let mut state = self.inner.lock();
            state.done = true;
            if let Some(mut watchdog) = state.watchdog.take() {
                let _ = watchdog.kill();
                let _ = watchdog.wait();
            }
        }
        let mut stop_command = self
            .inner
            .pg_ctl_prefix()
            .iter()
            .map(|arg| shell_quote(arg))
            .collect::<Vec<_>>()
            .join(" ");
        let _ = write!(
            stop_command,
            " stop -D {} -m fast && rm -rf {}",
            shell_quote(self.inner.data_dir.as_os_str()),
            shell_quote(self.inner.dir.as_os_str())
        );
        KeptCluster {
            url: self.url(),
            port: self.port,
            data_dir: self.inner.data_dir.clone(),
            dir: self.inner.dir.clone(),
            stop_command,
        }
    }

    /// A handle that can stop and remove the cluster from another thread (a Ctrl-C handler).
    pub fn cleanup_handle(&self) -> CleanupHandle {
        CleanupHandle {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if !self.kept {
            // Nothing to report to in a destructor; `stop()` returns the error instead.
            let _ = self.inner.cleanup();
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The program and leading arguments that run `pg_ctl` as the right user.
    fn pg_ctl_prefix(&self) -> Vec<OsString> {
        self.tool_prefix("pg_ctl")
    }

    fn tool_prefix(&self, tool: &str) -> Vec<OsString> {
        let mut prefix: Vec<OsString> = Vec::new();
        if self.as_server_user {
            prefix.extend(["runuser", "-u", SERVER_USER, "--"].map(OsString::from));
        }
        prefix.push(self.bin_dir.join(tool).into_os_string());
        prefix
    }

    /// A command running `tool` from the bin dir as the user owning the cluster, with the
    /// libpq/server environment variables that could redirect it removed.
    fn tool(&self, tool: &str) -> Command {
        let prefix = self.tool_prefix(tool);
        let mut cmd = Command::new(&prefix[0]);
        cmd.args(&prefix[1..])
            // The server user may not be allowed into our current directory.
            .current_dir(&self.dir)
            .stdin(Stdio::null());
        for var in [
            "PGDATA",
            "PGPORT",
            "PGHOST",
            "PGUSER",
            "PGDATABASE",
            "PGOPTIONS",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    fn run(&self, mut cmd: Command, what: &str) -> Result<Output, ClusterError> {
        cmd.output().map_err(io_error(format!("run {what}")))
    }

    fn initdb(&self) -> Result<(), ClusterError> {
        let mut cmd = self.tool("initdb");
        cmd.args([
            "-A",
            "trust",
            "-U",
            SERVER_USER,
            "-E",
            "UTF8",
            "--locale=C",
            "-N",
            "-D",
        ])
        .arg(&self.data_dir);
        let out = self.run(cmd, "initdb")?;
        if out.status.success() {
            return Ok(());
        }
        Err(ClusterError::Initdb {
            dir: self.data_dir.clone(),
            status: out.status.to_string(),
            output: tail(&combined(&out), LOG_TAIL_LINES),
        })
    }

    /// Appends our settings to `postgresql.conf`; the port is given at each start instead.
    fn write_settings(&self, opts: &ClusterOptions) -> Result<(), ClusterError> {
        let socket_dir = self.data_dir.to_string_lossy().into_owned();
        // A Unix socket path is limited to 107 bytes; without one we still listen on TCP.
        let socket_dir = if socket_dir.len() + ".s.PGSQL.65535".len() + 1 < 100 {
            socket_dir
        } else {
            String::new()
        };
        let mut settings: Vec<(String, String)> = vec![
            ("listen_addresses".into(), "127.0.0.1".into()),
            ("unix_socket_directories".into(), socket_dir),
        ];
        if !opts.fsync {
            for name in ["fsync", "full_page_writes", "synchronous_commit"] {
                settings.push((name.into(), "off".into()));
            }
        }
        settings.extend(opts.extra_settings.iter().cloned());
        let mut text = String::from("\n# Added by pgcarry for a throw-away cluster.\n");
        for (name, value) in &settings {
            let _ = writeln!(text, "{name} = '{}'", value.replace('\'', "''"));
        }
        let conf = self.data_dir.join("postgresql.conf");
        OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut file| file.write_all(text.as_bytes()))
            .map_err(io_error(format!("write {}", conf.display())))
    }

    /// Starts the server on a port the kernel just handed out; when the port was taken by
    /// someone else before the server bound it, tries again with another. A `fixed` port is
    /// tried once.
    fn start_on_free_port(&self, fixed: Option<u16>) -> Result<u16, ClusterError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = match fixed {
                Some(port) => port,
                None => free_port()?,
            };
            let log_offset = fs::metadata(&self.log).map_or(0, |m| m.len());
            let mut cmd = self.tool("pg_ctl");
            cmd.args(["start", "-w", "-t", "60", "-D"])
                .arg(&self.data_dir)
                .arg("-l")
                .arg(&self.log)
                .args(["-o", &format!("-p {port}")]);
            let out = self.run(cmd, "pg_ctl start")?;
            if out.status.success() {
                return Ok(port);
            }
            // It may have come up after pg_ctl gave up waiting: never leave it behind.
            self.stop_server();
            let log_tail = log_tail(&self.log, log_offset);
            let port_taken =
                log_tail.contains("could not bind") || log_tail.contains("Address already in use");
            if port_taken && fixed.is_none() && attempt < PORT_ATTEMPTS {
                continue;
            }
            return Err(ClusterError::Start {
                dir: self.data_dir.clone(),
                port,
                attempts: attempt,
                output: tail(&combined(&out), LOG_TAIL_LINES),
                log: self.log.clone(),
                log_tail,
            });
        }
    }

    /// A detached `sh` loop that, once process `pid` is gone, stops the server and removes
    /// the directory. It exits by itself when the directory disappears first. Its stdio is
    /// `/dev/null` and it runs in its own process group, so it holds no test harness pipe open
    /// and a Ctrl-C on the terminal does not reach it.
    fn spawn_watchdog(&self, pid: u32) -> Result<Child, ClusterError> {
        const SCRIPT: &str = r#"
            pid=$1 dir=$2 data=$3; shift 3
            while kill -0 "$pid" 2>/dev/null && [ -d "$data" ]; do sleep 1; done
            if [ -d "$data" ]; then
                "$@" stop -D "$data" -m immediate -w -t 30 >/dev/null 2>&1
                rm -rf "$dir"
            fi
        "#;
        Command::new("sh")
            .arg("-c")
            .arg(SCRIPT)
            .arg("pgcarry-cluster-watchdog")
            .arg(pid.to_string())
            .arg(&self.dir)
            .arg(&self.data_dir)
            .args(self.pg_ctl_prefix())
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(io_error("start the cluster watchdog (sh)"))
    }

    /// Best-effort stop, used on failure paths: immediate shutdown, then SIGQUIT to the
    /// postmaster if pg_ctl could not do it.
    fn stop_server(&self) {
        let pid_file = self.data_dir.join("postmaster.pid");
        if !pid_file.exists() {
            return;
        }
        let mut cmd = self.tool("pg_ctl");
        cmd.args(["stop", "-m", "immediate", "-w", "-t", "30", "-D"])
            .arg(&self.data_dir);
        if self
            .run(cmd, "pg_ctl stop")
            .is_ok_and(|out| out.status.success())
        {
            return;
        }
        if let Some(pid) = postmaster_pid(&pid_file) {
            // SAFETY: kill(2) with a pid read from our own cluster's postmaster.pid.
            unsafe {
                libc::kill(pid, libc::SIGQUIT);
            }
        }
    }

    /// Stops the server (fast, falling back to immediate) and removes the directory, once.
    fn cleanup(&self) -> Result<(), ClusterError> {
        let mut state = self.lock();
        if state.done {
            return Ok(());
        }
        if let Some(mut watchdog) = state.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        let stopped = self.stop_fast();
        if stopped.is_err() {
            self.stop_server();
        }
        let removed = match fs::remove_dir_all(&self.dir) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => {
                Err(io_error(format!("remove {}", self.dir.display()))(err))
            }
            _ => Ok(()),
        };
        state.done = true;
        stopped.and(removed)
    }

    fn stop_fast(&self) -> Result<(), ClusterError> {
        if !self.data_dir.join("postmaster.pid").exists() {
            return Ok(());
        }
        let mut cmd = self.tool("pg_ctl");
        cmd.args(["stop", "-m", "fast", "-w", "-t", "30", "-D"])
            .arg(&self.data_dir);
        let out = self.run(cmd, "pg_ctl stop")?;
        if out.status.success() {
            return Ok(());
        }
        Err(ClusterError::Stop {
            dir: self.data_dir.clone(),
            output: tail(&combined(&out), LOG_TAIL_LINES),
            log: self.log.clone(),
            log_tail: log_tail(&self.log, 0),
        })
    }
}

#[cfg(test)]
mod tests;
