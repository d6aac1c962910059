//! Connection errors: what went wrong and what to do about it, never the password.
//!
//! This module owns [`ConnError`] (re-exported as `conn::ConnError`) and the classification of
//! a failed `connect` — wrong password, no server listening, missing database, no TLS on the
//! server — from the server's SQLSTATE or the I/O error underneath. The `postgres` error is
//! kept as the source, wrapped in [`ConnCause`], whose text has the password scrubbed out
//! (PostgreSQL does not echo passwords, but a chain printed with `{:#}` must not depend on it).

use std::error::Error as _;
use std::fmt;
use std::path::PathBuf;

use postgres::error::SqlState;

use super::sslmode::SslMode;

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("invalid connection URL: {problem}")]
    InvalidUrl { problem: String },
    #[error("invalid connection string: {problem}")]
    InvalidConninfo { problem: String },
    #[error(
        "unknown connection option {key:?}: pgcarry understands host, port, user, password, \
         passfile, dbname, service, sslmode, sslrootcert, sslcert, sslkey, connect_timeout, \
         application_name and options"
    )]
    UnknownOption { key: String },
    #[error("{what}")]
    Unsupported { what: String },
    #[error(
        "unknown sslmode {value:?}: expected disable, allow, prefer, require, verify-ca or verify-full"
    )]
    UnknownSslMode { value: String },
    #[error("invalid {key} {value:?}: expected {expected}")]
    InvalidValue {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("{ports} ports given for {hosts} hosts: give one port for all, or one per host")]
    PortCount { ports: usize, hosts: usize },
    #[error("could not read {}", path.display())]
    DotEnvRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}, line {line}: {key}: {problem}", path.display())]
    DotEnv {
        path: PathBuf,
        line: usize,
        key: String,
        problem: String,
    },
    #[error("service {name:?} (service= or PGSERVICE): {problem}")]
    Service { name: String, problem: String },
    #[error("client certificate (sslcert/sslkey) {}: {problem}", path.display())]
    ClientCert { path: PathBuf, problem: String },
    #[error(
        "sslmode={mode} needs the certificate of the CA that signed the server's: set \
         sslrootcert=/path/to/root.crt (libpq's default ~/.postgresql/root.crt does not exist)"
    )]
    NoRootCert { mode: SslMode },
    #[error("sslrootcert {}: {problem}", path.display())]
    RootCert { path: PathBuf, problem: String },
    #[error("could not set up TLS")]
    TlsSetup {
        #[source]
        source: rustls::Error,
    },
    #[error(
        "password authentication failed for user {user:?} at {target}: check the password in \
         --to, DATABASE_URL or PGPASSWORD"
    )]
    PasswordFailed {
        user: String,
        target: String,
        #[source]
        source: ConnCause,
    },
    #[error(
        "the server at {target} asks for a password for user {user:?} and none was given: put \
         it in the URL (postgresql://user:password@host/db) or set PGPASSWORD"
    )]
    PasswordMissing {
        user: String,
        target: String,
        #[source]
        source: ConnCause,
    },
    #[error(
        "the server at {target} refused user {user:?}: check that the role exists and that \
         pg_hba.conf lets it in from here"
    )]
    AuthRejected {
        user: String,
        target: String,
        #[source]
        source: ConnCause,
    },
    #[error(
        "database {dbname:?} does not exist at {target}: create it first (createdb {dbname:?}) \
         or fix the database name"
    )]
    DatabaseMissing {
        dbname: String,
        target: String,
        #[source]
        source: ConnCause,
    },
    #[error(
        "no answer from {addr} within {} s (connect_timeout): something accepts connections \
         there but does not speak for a PostgreSQL server (a stuck proxy or load balancer?); \
         raise connect_timeout if the server is only slow",
        after.as_secs()
    )]
    Timeout {
        addr: String,
        after: std::time::Duration,
    },
    #[error("could not connect to {addr}: {reason} — {hint}")]
    Unreachable {
        addr: String,
        reason: String,
        hint: &'static str,
        #[source]
        source: ConnCause,
    },
    #[error(
        "sslmode={mode} requires TLS, but the server at {target} does not offer it: enable ssl \
         on the server, or choose sslmode=prefer or disable if an unencrypted connection is acceptable"
    )]
    TlsUnavailable {
        mode: SslMode,
        target: String,
        #[source]
        source: ConnCause,
    },
    #[error(
        "TLS handshake with {target} failed (sslmode={mode}): for verify-ca/verify-full, check \
         sslrootcert and the host name in the server's certificate"
    )]
    TlsHandshake {
        mode: SslMode,
        target: String,
        #[source]
        source: ConnCause,
    },
    #[error("the server at {target} refused the connection")]
    ServerRefused {
        target: String,
        #[source]
        source: ConnCause,
    },
    #[error("could not connect to {target}")]
    Connect {
        target: String,
        #[source]
        source: ConnCause,
    },
}

impl ConnError {
    /// Whether trying again later cannot help: the settings are wrong, the server refused the
    /// user or the password, or the certificate does not verify. (A server that is starting,
    /// unreachable or silent, or a database not created yet, may still come.)
    pub fn is_permanent(&self) -> bool {
        match self {
            ConnError::Unreachable { .. }
            | ConnError::Timeout { .. }
            | ConnError::DatabaseMissing { .. }
            | ConnError::ServerRefused { .. }
            | ConnError::Connect { .. } => false,
            ConnError::TlsHandshake { mode, .. } => {
                matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull)
            }
            _ => true,
        }
    }

    /// The server itself turned the connection down (pg_hba, a startup check): under
    /// `sslmode=allow` that is when libpq tries again with TLS.
    pub(crate) fn refused_by_server(&self) -> bool {
        matches!(
            self,
            ConnError::AuthRejected { .. } | ConnError::ServerRefused { .. }
        )
    }
}

/// The `postgres` error behind a failed connection. Its text is the whole chain of the
/// original, with the password replaced by `***`; it reports no further source.
pub struct ConnCause {
    text: String,
    error: postgres::Error,
}

impl ConnCause {
    fn new(error: postgres::Error, password: Option<&str>) -> ConnCause {
        let mut text = Self::chain_text(&error);
        if let Some(password) = password.filter(|p| !p.is_empty()) {
            text = text.replace(password, "***");
        }
        ConnCause { text, error }
    }

    /// The whole chain of `error`, password and all: for classifying, never for showing.
    fn chain_text(error: &postgres::Error) -> String {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }

    /// The original error, e.g. for its SQLSTATE. Its own `Display` is not scrubbed.
    pub fn postgres_error(&self) -> &postgres::Error {
        &self.error
    }
}

impl fmt::Display for ConnCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for ConnCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ConnCause").field(&self.text).finish()
    }
}

impl std::error::Error for ConnCause {}

/// What a failed connection attempt was made with, as its error tells it (the password only to
/// scrub it from the server's words).
pub(crate) struct Attempt<'a> {
    /// The target, password redacted.
    pub target: String,
    pub user: &'a str,
    pub dbname: &'a str,
    pub password: Option<&'a str>,
    /// Every address tried, `host:port` or a socket path.
    pub addresses: String,
    pub mode: SslMode,
}

/// Turn a failed `connect` into the error that says what to do.
pub(crate) fn classify(attempt: &Attempt<'_>, error: postgres::Error) -> ConnError {
    let target = attempt.target.clone();
    let user = attempt.user.to_string();
    let mode = attempt.mode;
    let code = error.code().cloned();
    let io_kind = io_error(&error).map(std::io::Error::kind);
    // Classify on the original text: scrubbing a short password could break the words we look for.
    let text = ConnCause::chain_text(&error);
    let source = ConnCause::new(error, attempt.password);
    if let Some(code) = code {
        return match code {
            SqlState::INVALID_PASSWORD => ConnError::PasswordFailed {
                user,
                target,
                source,
            },
            SqlState::INVALID_AUTHORIZATION_SPECIFICATION => ConnError::AuthRejected {
                user,
                target,
                source,
            },
            SqlState::INVALID_CATALOG_NAME => ConnError::DatabaseMissing {
                dbname: attempt.dbname.to_string(),
                target,
                source,
            },
            _ => ConnError::ServerRefused { target, source },
        };
    }
    if text.contains("server does not support TLS") {
        return ConnError::TlsUnavailable {
            mode,
            target,
            source,
        };
    }
    if text.starts_with("error performing TLS handshake") {
        return ConnError::TlsHandshake {
            mode,
            target,
            source,
        };
    }
    if text.contains("password missing") {
        return ConnError::PasswordMissing {
            user,
            target,
            source,
        };
    }
    let addr = attempt.addresses.clone();
    use std::io::ErrorKind;
    let (reason, hint) = match io_kind {
        Some(ErrorKind::ConnectionRefused) => (
            "connection refused",
            "is the server running, and listening on that address and port?",
        ),
        Some(ErrorKind::NotFound) => (
            "no such socket",
            "is the server running, and is that its socket directory (host=/path)?",
        ),
        Some(ErrorKind::TimedOut) => (
            "timed out",
            "is the host reachable, and the port open in its firewall?",
        ),
        _ if text.contains("lookup address") => (
            "could not resolve the host name",
            "check the host in --to, DATABASE_URL or PGHOST",
        ),
        Some(ErrorKind::PermissionDenied) => (
            "permission denied",
            "can this user open the socket (host=/path)?",
        ),
        Some(_) if text.starts_with("error connecting to server") => (
            "network error",
            "is the server running and reachable from here?",
        ),
        _ => return ConnError::Connect { target, source },
    };
    ConnError::Unreachable {
        addr,
        reason: reason.to_string(),
        hint,
        source,
    }
}

fn io_error(error: &postgres::Error) -> Option<&std::io::Error> {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        source = cause.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    use super::*;
    use crate::postgres::conn::ConnSettings;

    /// A one-connection fake server on a free port, playing `script` against the client.
    fn fake_server(script: fn(&mut TcpStream)) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                script(&mut stream);
            }
        });
        port
    }

    fn read_packet(stream: &mut TcpStream) -> Vec<u8> {
        let mut len = [0; 4];
        stream.read_exact(&mut len).expect("length");
        let len = usize::try_from(u32::from_be_bytes(len)).expect("usize") - 4;
        let mut body = vec![0; len];
        stream.read_exact(&mut body).expect("body");
        body
    }

    fn error_response(code: &str, message: &str) -> Vec<u8> {
        let mut body = Vec::new();
        for (field, value) in [
            (b'S', "FATAL"),
            (b'V', "FATAL"),
            (b'C', code),
            (b'M', message),
        ] {
            body.push(field);
            body.extend_from_slice(value.as_bytes());
            body.push(0);
        }
        body.push(0);
        let len = u32::try_from(body.len() + 4).expect("small");
        let mut message = vec![b'E'];
        message.extend_from_slice(&len.to_be_bytes());
        message.extend_from_slice(&body);
        message
    }

    fn reject(stream: &mut TcpStream, code: &str, message: &str) {
        read_packet(stream);
        let _ = stream.write_all(&error_response(code, message));
    }

    fn connect(url: &str) -> ConnError {
        let settings = match ConnSettings::parse_with(url, &|_| None) {
            Ok(settings) => settings,
            Err(e) => panic!("{url}: {e}"),
        };
        match settings.connect() {
            Ok(_) => panic!("{url}: connected"),
            Err(e) => e,
        }
    }

    /// What `anyhow`'s `{:#}` would print: the error and all its sources.
    fn chain(error: &ConnError) -> String {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }

    fn url(port: u16, rest: &str) -> String {
        format!("postgresql://app:hunter2@127.0.0.1:{port}/shop?connect_timeout=5&{rest}")
    }

    #[test]
    fn wrong_password() {
        let port = fake_server(|s| {
            reject(
                s,
                "28P01",
                "password authentication failed for user \"app\" (hunter2)",
            );
        });
        let error = connect(&url(port, "sslmode=disable"));
        assert!(
            matches!(error, ConnError::PasswordFailed { .. }),
            "{error:?}"
        );
        let text = chain(&error);
        assert!(
            text.starts_with(
                "password authentication failed for user \"app\" at postgresql://app:***@127.0.0.1:"
            ),
            "{text}"
        );
        assert!(
            text.contains("check the password in --to, DATABASE_URL or PGPASSWORD"),
            "{text}"
        );
        // Even a server that echoed the password would not get it printed.
        assert!(
            !text.contains("hunter2") && !format!("{error:?}").contains("hunter2"),
            "{text}"
        );
    }

    #[test]
    fn missing_database_and_rejected_role() {
        let port = fake_server(|s| reject(s, "3D000", "database \"shop\" does not exist"));
        let error = connect(&url(port, "sslmode=disable"));
        assert!(
            chain(&error).starts_with("database \"shop\" does not exist at postgresql://"),
            "{error}"
        );
        let port = fake_server(|s| reject(s, "28000", "no pg_hba.conf entry for host"));
        let error = connect(&url(port, "sslmode=disable"));
        assert!(matches!(error, ConnError::AuthRejected { .. }), "{error:?}");
        assert!(chain(&error).contains("no pg_hba.conf entry"), "{error}");
    }

    #[test]
    fn server_asks_for_a_password_none_given() {
        let port = fake_server(|s| {
            read_packet(s);
            // AuthenticationCleartextPassword
            let _ = s.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]);
            let _ = s.read(&mut [0; 64]);
        });
        let error = connect(&format!(
            "postgresql://app@127.0.0.1:{port}/shop?sslmode=disable"
        ));
        assert!(
            matches!(error, ConnError::PasswordMissing { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn tls_required_but_not_offered() {
        let port = fake_server(|s| {
            read_packet(s); // SSLRequest
            let _ = s.write_all(b"N");
        });
        let error = connect(&url(port, "sslmode=require"));
        assert!(
            matches!(error, ConnError::TlsUnavailable { .. }),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("sslmode=require requires TLS, but the server"),
            "{error}"
        );
    }

    #[test]
    fn tls_handshake_failure() {
        let port = fake_server(|s| {
            read_packet(s);
            let _ = s.write_all(b"S");
            let _ = s.read(&mut [0; 512]);
            let _ = s.write_all(b"not a TLS record at all");
        });
        let error = connect(&url(port, "sslmode=require"));
        assert!(matches!(error, ConnError::TlsHandshake { .. }), "{error:?}");
    }

    #[test]
    fn connection_refused() {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let error = connect(&url(port, "sslmode=prefer"));
        let expected = format!(
            "could not connect to 127.0.0.1:{port}: connection refused — is the server running"
        );
        assert!(error.to_string().starts_with(&expected), "{error}");
    }

    /// Accepts and never answers, like a stuck proxy.
    fn silent_server() -> u16 {
        fake_server(|s| {
            let mut byte = [0; 1];
            while s.read(&mut byte).is_ok_and(|n| n > 0) {}
        })
    }

    #[test]
    fn a_silent_server_is_a_timeout_and_the_next_host_is_tried() {
        let silent = silent_server();
        let started = std::time::Instant::now();
        let error = connect(&format!(
            "postgresql://app:hunter2@127.0.0.1:{silent}/shop?connect_timeout=2&sslmode=prefer"
        ));
        assert!(
            matches!(error, ConnError::Timeout { .. }) && !error.is_permanent(),
            "{error}"
        );
        let elapsed = started.elapsed().as_secs_f64();
        assert!((1.9..5.0).contains(&elapsed), "{elapsed}");
        let silent = silent_server();
        let answering = fake_server(|s| reject(s, "28P01", "password authentication failed"));
        let error = connect(&format!(
            "postgresql://app:hunter2@127.0.0.1:{silent},127.0.0.1:{answering}/shop?connect_timeout=2&sslmode=disable"
        ));
        assert!(
            matches!(error, ConnError::PasswordFailed { .. }) && error.is_permanent(),
            "{error}"
        );
    }

    #[test]
    fn no_socket_in_the_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conninfo = format!("host={} port=5999 user=u dbname=d", dir.path().display());
        let error = connect(&conninfo);
        assert!(
            error.to_string().contains(".s.PGSQL.5999: no such socket"),
            "{error}"
        );
    }

    #[test]
    fn verification_needs_a_readable_root_certificate() {
        let error = connect("postgresql://h/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem");
        assert!(
            error
                .to_string()
                .starts_with("sslrootcert /nonexistent/ca.pem:"),
            "{error}"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        let error = connect(&format!(
            "host=h sslmode=verify-ca sslrootcert={}",
            path.display()
        ));
        assert!(error.to_string().contains("no PEM certificate"), "{error}");
    }
}
