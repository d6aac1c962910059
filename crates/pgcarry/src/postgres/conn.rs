//! Connection settings the way libpq users expect them, and connecting with them.
//!
//! This module owns where the target comes from (`--to`, then `DATABASE_URL` from the
//! environment, then from `.env`, then the `PG*` variables), libpq's defaults, the printable
//! form of a target (`redacted()`: the password is never shown) and turning connection failures
//! into errors a user can act on. The text formats live in `conninfo.rs`, TLS in `tls.rs`.
//! Nothing here may print, log or put into an error the password.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use super::conn_error::ConnError;
use super::conn_error::{Attempt, classify};
pub use super::sslmode::SslMode;
use super::{conninfo, tls};

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
    connect_timeout: Option<Duration>,
    application_name: Option<String>,
    options: Option<String>,
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
                "connect_timeout" => &mut given.connect_timeout,
                "application_name" => &mut given.application_name,
                "fallback_application_name" => &mut given.fallback_application_name,
                "options" => &mut given.options,
                "hostaddr"
                | "passfile"
                | "sslcert"
                | "sslkey"
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
                | "service"
                | "replication" => {
                    return Err(ConnError::Unsupported {
                        what: format!("the connection option {key:?} is not supported yet"),
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

    /// libpq's order: what the string gave, else the `PG*` variable, else the default.
    fn resolve(self, env: &dyn Fn(&str) -> Option<String>) -> Result<ConnSettings, ConnError> {
        let var = |name: &str| env(name).filter(|v| !v.is_empty());
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
            let file = var("PGPASSFILE")
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|home| Path::new(&home).join(".pgpass")))?;
            hosts.iter().zip(&ports).find_map(|(host, &port)| {
                let name = match host {
                    Host::Unix(dir) if dir == Path::new(SOCKET_DIR) => "localhost".into(),
                    Host::Unix(dir) => dir.to_string_lossy(),
                    Host::Tcp(name) => name.as_str().into(),
                };
                conninfo::pgpass_password(&file, &name, port, &dbname, &user)
            })
        });
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
            connect_timeout,
            application_name: self
                .application_name
                .or_else(|| var("PGAPPNAME"))
                .or(self.fallback_application_name),
            options: self.options.or_else(|| var("PGOPTIONS")),
        })
    }
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

/// Seconds; `0` means wait forever, and libpq raises anything below 2 to 2.
fn parse_timeout(text: &str) -> Result<Option<Duration>, ConnError> {
    let seconds = text
        .trim()
        .parse::<u64>()
        .map_err(|_| ConnError::InvalidValue {
            key: "connect_timeout",
            value: text.to_string(),
            expected: "a whole number of seconds",
        })?;
    Ok((seconds > 0).then(|| Duration::from_secs(seconds.max(2))))
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

    /// The precedence the product promises: `explicit` (the --to flag) if given; else
    /// `DATABASE_URL` from the environment; else `DATABASE_URL` from a `.env` file in the current
    /// directory; else the libpq variables `PGHOST`, `PGPORT`, `PGUSER`, ... An empty value
    /// counts as not given (`--to "$DATABASE_URL"` with the variable unset).
    pub fn resolve(explicit: Option<&str>) -> Result<ConnSettings, ConnError> {
        let cwd = std::env::current_dir().ok();
        Self::resolve_with(explicit, &process_env, cwd.as_deref())
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
        if let Some(dir) = dotenv_dir
            && let Some(text) = conninfo::dotenv_database_url(dir)?.filter(|s| non_empty(s))
        {
            return Self::parse_with(&text, env);
        }
        Given::default().resolve(env)
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
        if let Some(timeout) = self.connect_timeout {
            out.push_str(&format!("&connect_timeout={}", timeout.as_secs()));
        }
        out
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
    pub fn connect(&self) -> Result<postgres::Client, ConnError> {
        use postgres::config::SslMode as PgSslMode;
        let mut config = postgres::Config::new();
        for host in &self.hosts {
            match host {
                Host::Tcp(name) => config.host(name),
                Host::Unix(dir) => config.host_path(dir),
            };
        }
        for &port in &self.ports {
            config.port(port);
        }
        config
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name(self.app_name());
        if let Some(password) = &self.password {
            config.password(password);
        }
        if let Some(options) = &self.options {
            config.options(options);
        }
        if let Some(timeout) = self.connect_timeout {
            config.connect_timeout(timeout);
        }
        // PostgreSQL has no TLS on Unix sockets; libpq ignores sslmode there.
        let only_sockets = self.hosts.iter().all(|h| matches!(h, Host::Unix(_)));
        let mode = self.effective_sslmode();
        let result = if mode == SslMode::Disable || only_sockets {
            config.ssl_mode(PgSslMode::Disable).connect(postgres::NoTls)
        } else {
            let tls = tls::connector(mode, self.sslrootcert.as_deref())?;
            let pg_mode = if mode == SslMode::Prefer {
                PgSslMode::Prefer
            } else {
                PgSslMode::Require
            };
            config.ssl_mode(pg_mode).connect(tls)
        };
        result.map_err(|error| {
            let attempt = Attempt {
                target: self.redacted(),
                user: self.user(),
                dbname: self.dbname(),
                password: self.password(),
                addresses: self.addresses(),
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
            .map(|(host, port)| match host {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(dir) => format!("{}/.s.PGSQL.{port}", dir.display()),
            })
            .collect();
        all.join(", ")
    }
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
}
