//! Connection settings the way libpq users expect them, and connecting with them.
//!
//! This module owns where the target comes from (see [`ConnSettings::resolve`]), libpq's defaults, the
//! printable form of a target (`redacted()`: the password is never shown), connecting within a
//! deadline and turning connection failures into errors a user can act on. The text formats
//! live in `conninfo.rs`, service files in `service.rs`, TLS in `tls.rs`.
//! Nothing here may print, log or put into an error the password.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

pub use super::conn_error::ConnError;
use super::conn_error::{Attempt, classify};
pub use super::sslmode::SslMode;
use super::{conninfo, service, tls};

/// The `.env`/environment variables of step 3 of the order of [`ConnSettings::resolve`] and the keyword each sets.
const DOCKER_VARS: [(&str, &str); 6] = [
    ("POSTGRES_HOST", "host"),
    ("POSTGRES_PORT", "port"),
    ("POSTGRES_DB", "dbname"),
    ("POSTGRES_USER", "user"),
    ("POSTGRES_PASSWORD", "password"),
    ("POSTGRES_SSL_MODE", "sslmode"),
];

/// How long a connection may take when `connect_timeout` is not given.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Keepalives, so that a server lost in the middle of a query is noticed (the kernel answers
/// them even while the server is busy): idle 30 s, then 3 probes 10 s apart; unacknowledged
/// writes give up after 2 minutes.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEPALIVE_RETRIES: u32 = 3;
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(120);

/// Opens a new connection to the target (a thread of a pool calls it for its own connection).
pub type Connect<'a> = &'a (dyn Fn() -> Result<postgres::Client, String> + Sync);

/// One server address: a TCP host name or IP, or the directory of a Unix socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Tcp(String),
    Unix(PathBuf),
}

/// A complete, resolved connection target. The password is only reachable through
/// [`ConnSettings::password`]; `Display` and `Debug` hide it.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnSettings {
    hosts: Vec<Host>,
    /// One port per host.
    ports: Vec<u16>,
    user: String,
    password: Option<String>,
    dbname: String,
    sslmode: SslMode,
    sslrootcert: Option<PathBuf>,
    /// The client certificate and its key, to log in with.
    sslcert: Option<(PathBuf, PathBuf)>,
    /// As given; `Some(ZERO)` is libpq's `0`, wait forever.
    connect_timeout: Option<Duration>,
    application_name: Option<String>,
    options: Option<String>,
    /// What libpq would warn about (an unsafe password file); the caller shows them.
    warnings: Vec<String>,
}

/// What a connection string may leave out; filled from `PG*` variables, then defaults.
#[derive(Default)]
struct Given {
    host: Option<String>,
    port: Option<String>,
    user: Option<String>,
    password: Option<String>,
    dbname: Option<String>,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
    sslcert: Option<String>,
    sslkey: Option<String>,
    passfile: Option<String>,
    service: Option<String>,
    connect_timeout: Option<String>,
    application_name: Option<String>,
    fallback_application_name: Option<String>,
    options: Option<String>,
}

impl Given {
    fn from_params(params: conninfo::Params) -> Result<Given, ConnError> {
        let mut given = Given::default();
        let mut after_password = false;
        for (key, value) in params {
            let slot = match key.as_str() {
                "host" => &mut given.host,
                "port" => &mut given.port,
                "user" => &mut given.user,
                "password" => &mut given.password,
                "dbname" => &mut given.dbname,
                "sslmode" => &mut given.sslmode,
                "sslrootcert" => &mut given.sslrootcert,
                "sslcert" => &mut given.sslcert,
                "sslkey" => &mut given.sslkey,
                "passfile" => &mut given.passfile,
                "service" => &mut given.service,
                "connect_timeout" => &mut given.connect_timeout,
                "application_name" => &mut given.application_name,
                "fallback_application_name" => &mut given.fallback_application_name,
                "options" => &mut given.options,
                "hostaddr"
                | "sslpassword"
                | "sslcrl"
                | "sslcrldir"
                | "sslsni"
                | "gssencmode"
                | "krbsrvname"
                | "requirepeer"
                | "target_session_attrs"
                | "load_balance_hosts"
                | "channel_binding"
                | "require_auth"
                | "keepalives"
                | "keepalives_idle"
                | "keepalives_interval"
                | "keepalives_count"
                | "tcp_user_timeout"
                | "sslcompression"
                | "ssl_min_protocol_version"
                | "ssl_max_protocol_version"
                | "sslnegotiation"
                | "sslcertmode"
                | "replication" => {
                    return Err(ConnError::Unsupported {
                        what: format!(
                            "the connection option {key:?} is not supported yet: remove it"
                        ),
                    });
                }
                // An unquoted password with a space would put part of it here: don't echo it.
                _ if after_password => {
                    return Err(ConnError::InvalidConninfo {
                        problem: "unknown option right after the password; if the password \
                                  contains spaces, quote it: password='...'"
                            .into(),
                    });
                }
                _ => return Err(ConnError::UnknownOption { key }),
            };
            after_password = key == "password";
            // As in libpq, an empty value means "not given".
            *slot = Some(value).filter(|v| !v.is_empty());
        }
        Ok(given)
    }

    /// Fills what is still missing from `other` (a service, the Docker variables).
    fn fill_from(&mut self, other: Given) {
        let pairs = [
            (&mut self.host, other.host),
            (&mut self.port, other.port),
            (&mut self.user, other.user),
            (&mut self.password, other.password),
            (&mut self.dbname, other.dbname),
            (&mut self.sslmode, other.sslmode),
            (&mut self.sslrootcert, other.sslrootcert),
            (&mut self.sslcert, other.sslcert),
            (&mut self.sslkey, other.sslkey),
            (&mut self.passfile, other.passfile),
            (&mut self.connect_timeout, other.connect_timeout),
            (&mut self.application_name, other.application_name),
            (
                &mut self.fallback_application_name,
                other.fallback_application_name,
            ),
            (&mut self.options, other.options),
        ];
        for (slot, value) in pairs {
            if slot.is_none() {
                *slot = value;
            }
        }
    }

    /// libpq's order: what the string gave, else its service's settings, else the `PG*`
    /// variable, else the default.
    fn resolve(mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<ConnSettings, ConnError> {
        let var = |name: &str| env(name).filter(|v| !v.is_empty());
        if let Some(name) = self.service.take().or_else(|| var("PGSERVICE")) {
            self.fill_from(Given::from_params(service::lookup(&name, env)?)?);
        }
        let mut warnings = Vec::new();
        let host = self.host.or_else(|| var("PGHOST"));
        let port = self.port.or_else(|| var("PGPORT"));
        let user = self
            .user
            .or_else(|| var("PGUSER"))
            .or_else(|| var("USER"))
            .or_else(|| var("LOGNAME"))
            .unwrap_or_else(|| "postgres".to_string());
        let hosts: Vec<Host> = match host {
            None => vec![default_host()],
            Some(list) => list.split(',').map(host_from).collect(),
        };
        let ports = parse_ports(port.as_deref(), hosts.len())?;
        let sslmode = match self.sslmode.or_else(|| var("PGSSLMODE")) {
            Some(mode) => SslMode::parse(&mode).ok_or(ConnError::UnknownSslMode { value: mode })?,
            None => SslMode::Prefer,
        };
        let connect_timeout = match self.connect_timeout.or_else(|| var("PGCONNECT_TIMEOUT")) {
            None => None,
            Some(text) => parse_timeout(&text)?,
        };
        let dbname = self
            .dbname
            .or_else(|| var("PGDATABASE"))
            .unwrap_or_else(|| user.clone());
        let password = self.password.or_else(|| var("PGPASSWORD")).or_else(|| {
            let file = self
                .passfile
                .or_else(|| var("PGPASSFILE"))
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|home| Path::new(&home).join(".pgpass")))?;
            if conninfo::pgpass_insecure(&file) {
                warnings.push(format!(
                    "password file {} has group or world access and is ignored (as libpq \
                     does); permissions should be u=rw (chmod 0600 {})",
                    file.display(),
                    file.display()
                ));
                return None;
            }
            hosts.iter().zip(&ports).find_map(|(host, &port)| {
                let name = match host {
                    Host::Unix(dir) if dir == Path::new(SOCKET_DIR) => "localhost".into(),
                    Host::Unix(dir) => dir.to_string_lossy(),
                    Host::Tcp(name) => name.as_str().into(),
                };
                conninfo::pgpass_password(&file, &name, port, &dbname, &user)
            })
        });
        let sslcert = client_cert(
            self.sslcert.or_else(|| var("PGSSLCERT")),
            self.sslkey.or_else(|| var("PGSSLKEY")),
            var("HOME"),
        )?;
        Ok(ConnSettings {
            hosts,
            ports,
            password,
            dbname,
            user,
            sslmode,
            sslrootcert: self
                .sslrootcert
                .or_else(|| var("PGSSLROOTCERT"))
                .map(PathBuf::from),
            sslcert,
            connect_timeout,
            application_name: self
                .application_name
                .or_else(|| var("PGAPPNAME"))
                .or(self.fallback_application_name),
            options: self.options.or_else(|| var("PGOPTIONS")),
            warnings,
        })
    }
}

/// The client certificate and key: as given, else libpq's defaults
/// `~/.postgresql/postgresql.crt` and `.key` when the certificate file exists. A certificate
/// without a key is an error, as in libpq.
fn client_cert(
    cert: Option<String>,
    key: Option<String>,
    home: Option<String>,
) -> Result<Option<(PathBuf, PathBuf)>, ConnError> {
    let default = |name: &str| {
        home.as_ref()
            .map(|h| Path::new(h).join(".postgresql").join(name))
    };
    let cert = match cert.map(PathBuf::from) {
        Some(cert) => cert,
        None => match default("postgresql.crt").filter(|p| p.is_file()) {
            Some(cert) => cert,
            None => return Ok(None),
        },
    };
    let key = key
        .map(PathBuf::from)
        .or_else(|| default("postgresql.key"))
        .filter(|p| p.is_file())
        .ok_or_else(|| ConnError::ClientCert {
            path: cert.clone(),
            problem: "there is no private key file for it: set sslkey or PGSSLKEY".into(),
        })?;
    Ok(Some((cert, key)))
}

const SOCKET_DIR: &str = "/var/run/postgresql";

fn default_host() -> Host {
    if Path::new(SOCKET_DIR).is_dir() {
        Host::Unix(PathBuf::from(SOCKET_DIR))
    } else {
        Host::Tcp("localhost".to_string())
    }
}

fn host_from(text: &str) -> Host {
    let text = text.trim();
    if text.is_empty() {
        default_host()
    } else if text.starts_with('/') {
        Host::Unix(PathBuf::from(text))
    } else {
        Host::Tcp(text.to_string())
    }
}

fn parse_ports(text: Option<&str>, hosts: usize) -> Result<Vec<u16>, ConnError> {
    let ports = text.unwrap_or("").split(',').map(|p| match p.trim() {
        "" => Ok(5432),
        p => p
            .parse::<u16>()
            .ok()
            .filter(|&n| n != 0)
            .ok_or_else(|| ConnError::InvalidValue {
                key: "port",
                value: p.to_string(),
                expected: "a number from 1 to 65535",
            }),
    });
    let ports = ports.collect::<Result<Vec<u16>, ConnError>>()?;
    match ports.len() {
        1 => Ok(vec![ports[0]; hosts]),
        n if n == hosts => Ok(ports),
        n => Err(ConnError::PortCount { ports: n, hosts }),
    }
}

/// Seconds; `0` means wait forever (kept as zero), and libpq raises anything below 2 to 2.
fn parse_timeout(text: &str) -> Result<Option<Duration>, ConnError> {
    let seconds = text
        .trim()
        .parse::<u64>()
        .map_err(|_| ConnError::InvalidValue {
            key: "connect_timeout",
            value: text.to_string(),
            expected: "a whole number of seconds",
        })?;
    Ok(Some(match seconds {
        0 => Duration::ZERO,
        n => Duration::from_secs(n.max(2)),
    }))
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl ConnSettings {
    /// A `postgresql://` or `postgres://` URL (percent-decoding, `?sslmode=...&host=...` query
    /// params, IPv6 `[::1]`, socket dirs via `host=/path` or `%2F` host), or a libpq key=value
    /// conninfo string (`host=x port=5432 user='a b'`). As libpq does, what the string leaves
    /// out comes from the `PG*` variables of the process environment, then the defaults.
    pub fn parse(s: &str) -> Result<ConnSettings, ConnError> {
        Self::parse_with(s, &process_env)
    }

    /// [`ConnSettings::parse`] with the environment injected.
    pub fn parse_with(
        s: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ConnSettings, ConnError> {
        Given::from_params(conninfo::parse(s)?)?.resolve(env)
    }

    /// The precedence the product promises (the CLI's `--to --help` shows it): `explicit` (the --to flag) if
    /// given; else `DATABASE_URL` from the environment; else `DATABASE_URL` from a `.env` file
    /// in the current directory; else the Docker image's `POSTGRES_*` variables (environment,
    /// then `.env`) filled up by the libpq variables `PGHOST`, `PGPORT`, `PGUSER`, ... An
    /// empty value counts as not given (`--to "$DATABASE_URL"` with the variable unset).
    pub fn resolve(explicit: Option<&str>) -> Result<ConnSettings, ConnError> {
        let cwd = std::env::current_dir().ok();
        Self::resolve_with(explicit, &process_env, cwd.as_deref())
    }

    /// `DATABASE_URL` as [`ConnSettings::resolve`] would read it (the environment, then `.env`
    /// in the current directory), unparsed: `schema` takes a `sqlite:` URL there too.
    pub fn database_url() -> Result<Option<String>, ConnError> {
        if let Some(text) = process_env("DATABASE_URL").filter(|s| !s.trim().is_empty()) {
            return Ok(Some(text));
        }
        let Ok(cwd) = std::env::current_dir() else {
            return Ok(None);
        };
        Ok(conninfo::dotenv_values(&cwd, &["DATABASE_URL"])?
            .into_iter()
            .map(|(_, v)| v)
            .rfind(|v| !v.trim().is_empty()))
    }

    /// [`ConnSettings::resolve`] with the environment and the `.env` directory injected.
    pub fn resolve_with(
        explicit: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
        dotenv_dir: Option<&Path>,
    ) -> Result<ConnSettings, ConnError> {
        let non_empty = |s: &str| !s.trim().is_empty();
        if let Some(text) = explicit.filter(|s| non_empty(s)) {
            return Self::parse_with(text, env);
        }
        if let Some(text) = env("DATABASE_URL").filter(|s| non_empty(s)) {
            return Self::parse_with(&text, env);
        }
        let mut keys = vec!["DATABASE_URL"];
        keys.extend(DOCKER_VARS.iter().map(|(var, _)| *var));
        let dotenv = match dotenv_dir {
            Some(dir) => conninfo::dotenv_values(dir, &keys)?,
            None => Vec::new(),
        };
        let from_dotenv = |key: &str| {
            dotenv
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .filter(|v| non_empty(v))
        };
        if let Some(text) = from_dotenv("DATABASE_URL") {
            return Self::parse_with(&text, env);
        }
        let docker: conninfo::Params = DOCKER_VARS
            .iter()
            .filter_map(|(var, key)| {
                let value = env(var)
                    .filter(|v| non_empty(v))
                    .or_else(|| from_dotenv(var))?;
                Some(((*key).to_string(), value))
            })
            .collect();
        Given::from_params(docker)?.resolve(env)
    }

    /// A URL form for logs and reports: never contains the password (`***` stands in for one).
    pub fn redacted(&self) -> String {
        let mut out = String::from("postgresql://");
        out.push_str(&encode(&self.user));
        if self.password.is_some() {
            out.push_str(":***");
        }
        out.push('@');
        let netloc: Vec<String> = self
            .hosts
            .iter()
            .zip(&self.ports)
            .map(|(host, port)| match host {
                Host::Tcp(name) if name.contains(':') => {
                    format!("[{}]:{port}", name.replace('%', "%25"))
                }
                Host::Tcp(name) => format!("{}:{port}", encode(name)),
                Host::Unix(dir) => format!("{}:{port}", encode(&dir.to_string_lossy())),
            })
            .collect();
        out.push_str(&netloc.join(","));
        out.push('/');
        out.push_str(&encode(&self.dbname));
        out.push_str("?sslmode=");
        out.push_str(self.sslmode.as_str());
        if let Some(path) = &self.sslrootcert {
            out.push_str("&sslrootcert=");
            out.push_str(&encode(&path.to_string_lossy()));
        }
        if let Some((cert, key)) = &self.sslcert {
            out.push_str("&sslcert=");
            out.push_str(&encode(&cert.to_string_lossy()));
            out.push_str("&sslkey=");
            out.push_str(&encode(&key.to_string_lossy()));
        }
        if let Some(timeout) = self.connect_timeout {
            out.push_str(&format!("&connect_timeout={}", timeout.as_secs()));
        }
        out
    }

    /// Where a run writes, for the line a person reads before the first write:
    /// `user@host:port/dbname` (every host, in order; a Unix socket as its directory), and
    /// nothing else: never the password.
    pub fn location(&self) -> String {
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .zip(&self.ports)
            .map(|(host, port)| match host {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(dir) => format!("{}:{port}", dir.display()),
            })
            .collect();
        format!("{}@{}/{}", self.user, hosts.join(","), self.dbname)
    }

    /// What libpq would have warned about while reading the settings (a password file that
    /// others may read): for the caller to show.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn dbname(&self) -> &str {
        &self.dbname
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// The password, for handing to a child process (see [`ConnSettings::libpq_env`]); never print it.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// One port per host.
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    pub fn sslmode(&self) -> SslMode {
        self.sslmode
    }

    pub fn sslrootcert(&self) -> Option<&Path> {
        self.sslrootcert.as_deref()
    }

    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// The client certificate and key files, if one is used to log in.
    pub fn sslcert(&self) -> Option<(&Path, &Path)> {
        self.sslcert
            .as_ref()
            .map(|(c, k)| (c.as_path(), k.as_path()))
    }

    /// How long one connection attempt to one host may take; `None`: no limit (libpq's
    /// `connect_timeout=0`).
    fn attempt_limit(&self) -> Option<Duration> {
        match self.connect_timeout {
            None => Some(DEFAULT_CONNECT_TIMEOUT),
            Some(Duration::ZERO) => None,
            Some(limit) => Some(limit),
        }
    }

    /// The same settings with a connect timeout (for `wait`, which bounds every attempt).
    pub fn with_connect_timeout(&self, timeout: Duration) -> ConnSettings {
        let mut s = self.clone();
        s.connect_timeout = Some(timeout);
        s
    }

    pub fn with_dbname(&self, dbname: &str) -> ConnSettings {
        ConnSettings {
            dbname: dbname.to_string(),
            ..self.clone()
        }
    }

    /// The same target as libpq environment variables, for running `pg_dump`, `psql`, ... with
    /// `Command::envs` (the password stays out of the command line and out of `ps`).
    pub fn libpq_env(&self) -> Vec<(&'static str, String)> {
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(dir) => dir.to_string_lossy().into_owned(),
            })
            .collect();
        let ports: Vec<String> = self.ports.iter().map(u16::to_string).collect();
        let mut vars = vec![
            ("PGHOST", hosts.join(",")),
            ("PGPORT", ports.join(",")),
            ("PGUSER", self.user.clone()),
            ("PGDATABASE", self.dbname.clone()),
            ("PGSSLMODE", self.sslmode.as_str().to_string()),
            ("PGAPPNAME", self.app_name().to_string()),
        ];
        let optional = [
            ("PGPASSWORD", self.password.clone()),
            (
                "PGSSLROOTCERT",
                self.sslrootcert
                    .as_ref()
                    .map(|p| p.to_string_lossy().into()),
            ),
            (
                "PGCONNECT_TIMEOUT",
                self.connect_timeout.map(|t| t.as_secs().to_string()),
            ),
            ("PGOPTIONS", self.options.clone()),
            (
                "PGSSLCERT",
                self.sslcert
                    .as_ref()
                    .map(|(c, _)| c.to_string_lossy().into()),
            ),
            (
                "PGSSLKEY",
                self.sslcert
                    .as_ref()
                    .map(|(_, k)| k.to_string_lossy().into()),
            ),
        ];
        vars.extend(optional.into_iter().filter_map(|(k, v)| Some((k, v?))));
        vars
    }

    fn app_name(&self) -> &str {
        self.application_name.as_deref().unwrap_or("pgcarry")
    }

    /// libpq: with a root certificate given, `require` verifies the chain like `verify-ca`.
    fn effective_sslmode(&self) -> SslMode {
        match self.sslmode {
            SslMode::Require if self.sslrootcert.is_some() => SslMode::VerifyCa,
            mode => mode,
        }
    }

    /// Connect with the right TLS setup; `application_name` defaults to "pgcarry".
    ///
    /// The whole connection (TCP, TLS, authentication) ends within `connect_timeout` per host
    /// (10 s when not given): a server that accepts and never answers is a [`ConnError::Timeout`],
    /// not a hang. Under `sslmode=allow` a connection without TLS is tried first, and one with
    /// TLS only if the server refuses it (libpq's meaning).
    pub fn connect(&self) -> Result<postgres::Client, ConnError> {
        // PostgreSQL has no TLS on Unix sockets; libpq ignores sslmode there.
        let only_sockets = self.hosts.iter().all(|h| matches!(h, Host::Unix(_)));
        match self.effective_sslmode() {
            _ if only_sockets => self.connect_as(SslMode::Disable),
            SslMode::Allow => match self.connect_as(SslMode::Disable) {
                Err(e) if e.refused_by_server() => self.connect_as(SslMode::Require),
                other => other,
            },
            mode => self.connect_as(mode),
        }
    }

    /// Each host in turn, as libpq does, each within the attempt limit; the last error if
    /// none answers.
    fn connect_as(&self, mode: SslMode) -> Result<postgres::Client, ConnError> {
        let tls = match mode {
            SslMode::Disable => None,
            _ => {
                let client = self
                    .sslcert
                    .as_ref()
                    .map(|(c, k)| (c.as_path(), k.as_path()));
                Some(tls::connector(mode, self.sslrootcert.as_deref(), client)?)
            }
        };
        let mut last = None;
        for (host, &port) in self.hosts.iter().zip(&self.ports) {
            match self.connect_host(host, port, mode, tls.clone()) {
                Ok(client) => return Ok(client),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| ConnError::Unsupported {
            what: "no host to connect to".into(),
        }))
    }

    fn connect_host(
        &self,
        host: &Host,
        port: u16,
        mode: SslMode,
        tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    ) -> Result<postgres::Client, ConnError> {
        use postgres::config::SslMode as PgSslMode;
        let mut config = postgres::Config::new();
        match host {
            Host::Tcp(name) => config.host(name),
            Host::Unix(dir) => config.host_path(dir),
        };
        config
            .port(port)
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name(self.app_name())
            .keepalives(true)
            .keepalives_idle(KEEPALIVE_IDLE)
            .keepalives_interval(KEEPALIVE_INTERVAL)
            .keepalives_retries(KEEPALIVE_RETRIES)
            .tcp_user_timeout(TCP_USER_TIMEOUT);
        if let Some(password) = &self.password {
            config.password(password);
        }
        if let Some(options) = &self.options {
            config.options(options);
        }
        let limit = self.attempt_limit();
        if let Some(limit) = limit {
            config.connect_timeout(limit);
        }
        let addr = address(host, port);
        // PostgreSQL has no TLS on Unix sockets; libpq ignores sslmode there.
        let connecting = match tls {
            Some(tls) if matches!(host, Host::Tcp(_)) => {
                config.ssl_mode(if mode == SslMode::Prefer {
                    PgSslMode::Prefer
                } else {
                    PgSslMode::Require
                });
                within(limit, move || config.connect(tls))
            }
            _ => {
                config.ssl_mode(PgSslMode::Disable);
                within(limit, move || config.connect(postgres::NoTls))
            }
        };
        let Some(result) = connecting else {
            return Err(ConnError::Timeout {
                addr,
                after: limit.unwrap_or_default(),
            });
        };
        result.map_err(|error| {
            let attempt = Attempt {
                target: self.redacted(),
                user: self.user(),
                dbname: self.dbname(),
                password: self.password(),
                addresses: addr,
                mode,
            };
            classify(&attempt, error)
        })
    }

    /// Where the server was looked for, for "could not connect to ..." messages.
    pub(crate) fn addresses(&self) -> String {
        let all: Vec<String> = self
            .hosts
            .iter()
            .zip(&self.ports)
            .map(|(host, &port)| address(host, port))
            .collect();
        all.join(", ")
    }
}

/// `host:port`, `[v6]:port` or the socket's path, for messages.
fn address(host: &Host, port: u16) -> String {
    match host {
        Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
        Host::Tcp(name) => format!("{name}:{port}"),
        Host::Unix(dir) => format!("{}/.s.PGSQL.{port}", dir.display()),
    }
}

/// Runs `connect` on a thread of its own and waits for it at most `limit` (`None`: as long as
/// it takes). The `postgres` crate bounds only the TCP connect, not the startup and TLS
/// exchange after it; on a timeout the thread is left behind, blocked on its socket until the
/// peer closes it or the process ends.
fn within<T: Send + 'static>(
    limit: Option<Duration>,
    connect: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let Some(limit) = limit else {
        return Some(connect());
    };
    let (sender, receiver) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("pgcarry-connect".into())
        .spawn(move || {
            let _ = sender.send(connect());
        });
    if spawned.is_err() {
        return None;
    }
    receiver.recv_timeout(limit).ok()
}

/// Percent-encoding of everything but URL-unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl fmt::Display for ConnSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for ConnSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnSettings")
            .field("hosts", &self.hosts)
            .field("ports", &self.ports)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("dbname", &self.dbname)
            .field("sslmode", &self.sslmode)
            .field("sslrootcert", &self.sslrootcert)
            .field("sslcert", &self.sslcert)
            .field("connect_timeout", &self.connect_timeout)
            .field("application_name", &self.application_name)
            .field("options", &self.options)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn resolve(
        explicit: Option<&str>,
        env: &[(&str, &str)],
        dotenv: Option<&Path>,
    ) -> ConnSettings {
        match ConnSettings::resolve_with(explicit, &env_of(env), dotenv) {
            Ok(settings) => settings,
            Err(e) => panic!("{explicit:?}: {e}"),
        }
    }

    fn dotenv_dir(url: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(".env"), format!("DATABASE_URL={url}\n")).expect("write");
        dir
    }

    #[test]
    fn precedence_explicit_then_env_then_dotenv_then_pg_vars() {
        let dir = dotenv_dir("postgres://u@dotenv/d");
        let env = [("DATABASE_URL", "postgres://u@env/d"), ("PGHOST", "pghost")];
        let host = |s: ConnSettings| s.hosts()[0].clone();
        let tcp = |h: &str| Host::Tcp(h.to_string());
        assert_eq!(
            host(resolve(Some("postgres://u@flag/d"), &env, Some(dir.path()))),
            tcp("flag")
        );
        assert_eq!(host(resolve(None, &env, Some(dir.path()))), tcp("env"));
        assert_eq!(host(resolve(Some(""), &env, Some(dir.path()))), tcp("env"));
        let no_url = [("DATABASE_URL", ""), ("PGHOST", "pghost")];
        assert_eq!(
            host(resolve(None, &no_url, Some(dir.path()))),
            tcp("dotenv")
        );
        assert_eq!(host(resolve(None, &no_url, None)), tcp("pghost"));
        let empty = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            host(resolve(None, &no_url, Some(empty.path()))),
            tcp("pghost")
        );
    }

    #[test]
    fn pg_vars_alone() {
        let s = resolve(
            None,
            &[
                ("PGHOST", "db1,db2"),
                ("PGPORT", "5433"),
                ("PGUSER", "carry"),
                ("PGPASSWORD", "pw"),
                ("PGDATABASE", "shop"),
                ("PGSSLMODE", "verify-ca"),
                ("PGSSLROOTCERT", "/ca.pem"),
                ("PGCONNECT_TIMEOUT", "1"),
                ("PGAPPNAME", "nightly"),
            ],
            None,
        );
        assert_eq!(
            s.hosts(),
            [Host::Tcp("db1".into()), Host::Tcp("db2".into())]
        );
        assert_eq!(s.ports(), [5433, 5433]);
        assert_eq!(
            (s.user(), s.password(), s.dbname()),
            ("carry", Some("pw"), "shop")
        );
        assert_eq!(
            (s.sslmode(), s.sslrootcert()),
            (SslMode::VerifyCa, Some(Path::new("/ca.pem")))
        );
        // libpq raises a timeout below 2 seconds to 2.
        assert_eq!(s.connect_timeout(), Some(Duration::from_secs(2)));
        assert_eq!(s.app_name(), "nightly");
    }

    #[test]
    fn password_from_pgpass_after_pgpassword() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(".pgpass");
        std::fs::write(&file, "h:5432:shop:app:from-file\n").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        let home = dir.path().to_string_lossy().into_owned();
        let url = Some("postgresql://app@h/shop");
        let s = resolve(url, &[("HOME", &home)], None);
        assert_eq!(s.password(), Some("from-file"));
        let s = resolve(url, &[("HOME", &home), ("PGPASSWORD", "env")], None);
        assert_eq!(s.password(), Some("env"));
        let s = resolve(url, &[("PGPASSFILE", &file.to_string_lossy())], None);
        assert_eq!(s.password(), Some("from-file"));
        assert_eq!(
            resolve(Some("postgresql://app@h/other"), &[("HOME", &home)], None).password(),
            None
        );
    }

    #[test]
    fn url_gaps_are_filled_from_pg_vars() {
        let env = [
            ("PGPASSWORD", "from-env"),
            ("PGPORT", "6000"),
            ("PGSSLMODE", "require"),
        ];
        let s = resolve(Some("postgresql://app@db/shop"), &env, None);
        assert_eq!(
            (s.password(), s.ports(), s.sslmode()),
            (Some("from-env"), &[6000][..], SslMode::Require)
        );
        let s = resolve(
            Some("postgresql://app:given@db:7000/shop?sslmode=disable"),
            &env,
            None,
        );
        assert_eq!(
            (s.password(), s.ports(), s.sslmode()),
            (Some("given"), &[7000][..], SslMode::Disable)
        );
    }

    #[test]
    fn defaults_as_libpq() {
        let s = resolve(None, &[("USER", "osuser")], None);
        let expected_host = if Path::new(SOCKET_DIR).is_dir() {
            Host::Unix(SOCKET_DIR.into())
        } else {
            Host::Tcp("localhost".into())
        };
        assert_eq!(s.hosts(), [expected_host]);
        assert_eq!(
            (s.ports(), s.user(), s.dbname()),
            (&[5432][..], "osuser", "osuser")
        );
        assert_eq!(
            (s.password(), s.sslmode(), s.app_name()),
            (None, SslMode::Prefer, "pgcarry")
        );
        assert_eq!(
            resolve(None, &[("LOGNAME", "logname")], None).user(),
            "logname"
        );
        assert_eq!(resolve(None, &[], None).user(), "postgres");
        let s = resolve(Some("postgresql://h/"), &[("PGUSER", "pguser")], None);
        assert_eq!((s.user(), s.dbname()), ("pguser", "pguser"));
    }

    #[test]
    fn password_never_shown() {
        let s = resolve(
            Some("postgresql://app:s3cr%2Ft@[::1]:6000,%2Ftmp/shop%20db"),
            &[],
            None,
        );
        assert_eq!(s.password(), Some("s3cr/t"));
        assert_eq!(
            s.redacted(),
            "postgresql://app:***@[::1]:6000,%2Ftmp:5432/shop%20db?sslmode=prefer"
        );
        for shown in [
            s.redacted(),
            s.to_string(),
            format!("{s:?}"),
            format!("{s:#?}"),
        ] {
            assert!(!shown.contains("s3cr"), "{shown}");
        }
        let no_password = resolve(Some("postgresql://app@h/db"), &[], None);
        assert!(!no_password.redacted().contains("***"));
    }

    #[test]
    fn redacted_parses_back_to_the_same_settings() {
        let s = resolve(
            Some(
                "host=/var/run/x,db.example port=1,2 user='a b' dbname=d/x sslmode=verify-full sslrootcert=/ca.pem connect_timeout=9",
            ),
            &[],
            None,
        );
        assert_eq!(resolve(Some(&s.redacted()), &[], None), s);
    }

    #[test]
    fn location_names_user_hosts_and_database_never_the_password() {
        let s = resolve(
            Some("postgresql://app:s3cret@db.example:6432,[::1]:5433/shop?sslmode=require"),
            &[],
            None,
        );
        assert_eq!(s.location(), "app@db.example:6432,[::1]:5433/shop");
        let s = resolve(
            Some("host=/run/postgresql user=me password=pw dbname=app"),
            &[],
            None,
        );
        assert_eq!(s.location(), "me@/run/postgresql:5432/app");
    }

    #[test]
    fn with_dbname_and_libpq_env() {
        let s = resolve(
            Some("postgresql://app:pw@h:7/shop?sslmode=require"),
            &[],
            None,
        );
        let other = s.with_dbname("scratch");
        assert_eq!(
            (other.dbname(), other.user(), other.password()),
            ("scratch", "app", Some("pw"))
        );
        let env = other.libpq_env();
        for pair in [
            ("PGHOST", "h"),
            ("PGPORT", "7"),
            ("PGDATABASE", "scratch"),
            ("PGPASSWORD", "pw"),
            ("PGSSLMODE", "require"),
        ] {
            assert!(
                env.contains(&(pair.0, pair.1.to_string())),
                "{pair:?} in {env:?}"
            );
        }
    }

    #[test]
    fn require_with_a_root_certificate_verifies_like_libpq() {
        let s = resolve(
            Some("postgresql://h/d?sslmode=require&sslrootcert=/ca.pem"),
            &[],
            None,
        );
        assert_eq!(s.effective_sslmode(), SslMode::VerifyCa);
        let s = resolve(Some("postgresql://h/d?sslmode=require"), &[], None);
        assert_eq!(s.effective_sslmode(), SslMode::Require);
    }

    #[test]
    fn sqlalchemy_urls_drop_the_driver() {
        for scheme in [
            "postgresql+asyncpg",
            "postgresql+psycopg2",
            "postgresql+psycopg",
            "postgres+asyncpg",
            "POSTGRESQL+PG8000",
        ] {
            let s = resolve(Some(&format!("{scheme}://app:pw@db:6000/shop")), &[], None);
            assert_eq!(
                (s.hosts(), s.ports(), s.user(), s.password(), s.dbname()),
                (
                    &[Host::Tcp("db".into())][..],
                    &[6000][..],
                    "app",
                    Some("pw"),
                    "shop"
                ),
                "{scheme}"
            );
        }
        // asyncpg spells sslmode `ssl=`.
        let s = resolve(
            Some("postgresql+asyncpg://app@db/shop?ssl=require"),
            &[],
            None,
        );
        assert_eq!(s.sslmode(), SslMode::Require);
    }

    #[test]
    fn docker_variables_after_database_url_before_pg_vars() {
        let docker = [
            ("POSTGRES_HOST", "dockerhost"),
            ("POSTGRES_PORT", "6001"),
            ("POSTGRES_DB", "dockerdb"),
            ("POSTGRES_USER", "dockeruser"),
            ("POSTGRES_PASSWORD", "dockerpw"),
            ("POSTGRES_SSL_MODE", "require"),
            ("PGHOST", "pghost"),
            ("PGPASSWORD", "pgpw"),
            ("PGCONNECT_TIMEOUT", "7"),
        ];
        let s = resolve(None, &docker, None);
        assert_eq!(s.hosts(), [Host::Tcp("dockerhost".into())]);
        assert_eq!(
            (s.ports(), s.dbname(), s.user(), s.password(), s.sslmode()),
            (
                &[6001][..],
                "dockerdb",
                "dockeruser",
                Some("dockerpw"),
                SslMode::Require
            )
        );
        // What they leave out comes from PG*.
        assert_eq!(s.connect_timeout(), Some(Duration::from_secs(7)));
        let mut with_url = docker.to_vec();
        with_url.push(("DATABASE_URL", "postgresql://u@urlhost/d"));
        let s = resolve(None, &with_url, None);
        assert_eq!(
            (s.hosts()[0].clone(), s.password()),
            (Host::Tcp("urlhost".into()), Some("pgpw"))
        );
        // From .env too, the environment first.
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(".env"),
            "POSTGRES_HOST=envfilehost\nPOSTGRES_DB=envfiledb\n",
        )
        .expect("write");
        let s = resolve(None, &[("POSTGRES_DB", "fromenv")], Some(dir.path()));
        assert_eq!(
            (s.hosts()[0].clone(), s.dbname()),
            (Host::Tcp("envfilehost".into()), "fromenv")
        );
    }

    #[test]
    fn service_file_between_the_string_and_pg_vars() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("services.conf");
        std::fs::write(&file, "[shop]\nhost=svchost\nport=6002\ndbname=svcdb\n").expect("write");
        let file = file.to_string_lossy().into_owned();
        let env = [
            ("PGSERVICEFILE", file.as_str()),
            ("PGPORT", "9"),
            ("PGUSER", "pguser"),
        ];
        let s = resolve(Some("service=shop dbname=given"), &env, None);
        assert_eq!(
            (s.hosts()[0].clone(), s.ports(), s.dbname(), s.user()),
            (Host::Tcp("svchost".into()), &[6002][..], "given", "pguser")
        );
        let mut by_var = env.to_vec();
        by_var.push(("PGSERVICE", "shop"));
        assert_eq!(resolve(None, &by_var, None).dbname(), "svcdb");
        let missing = ConnSettings::resolve_with(Some("service=nope"), &env_of(&env), None);
        assert!(
            matches!(missing, Err(ConnError::Service { .. })),
            "{missing:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn passfile_and_an_unsafe_pgpass() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("pw");
        std::fs::write(&file, "*:*:*:*:from-passfile\n").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let url = format!("host=h user=u passfile={}", file.display());
        let s = resolve(Some(&url), &[], None);
        assert_eq!(
            (s.password(), s.warnings().len()),
            (Some("from-passfile"), 0)
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let s = resolve(Some(&url), &[], None);
        assert_eq!(s.password(), None);
        assert!(
            s.warnings()[0].contains("group or world access"),
            "{:?}",
            s.warnings()
        );
    }

    #[test]
    fn connect_timeout_zero_waits_forever_default_is_ten_seconds() {
        let s = resolve(Some("host=h connect_timeout=0"), &[], None);
        assert_eq!(s.attempt_limit(), None);
        assert_eq!(
            resolve(Some("host=h"), &[], None).attempt_limit(),
            Some(DEFAULT_CONNECT_TIMEOUT)
        );
        assert_eq!(
            resolve(Some("sslmode=allow host=h"), &[], None).sslmode(),
            SslMode::Allow
        );
    }
}
