//! The text forms of a connection setting: `postgresql://` URLs, libpq `key=value` conninfo
//! strings and `DATABASE_URL` lines of a `.env` file.
//!
//! This module only turns text into ordered `(keyword, value)` pairs with libpq's keyword
//! names (`host`, `port`, `user`, `password`, `dbname`, `sslmode`, ...); `conn.rs` decides what
//! they mean. Error messages must never echo a password, so they name the part that is wrong
//! and quote only values that come after the user information (ports, options).

use std::path::Path;

use super::conn_error::ConnError;
use super::sslmode::SslMode;

/// `(keyword, value)` pairs in the order written; a later pair overrides an earlier one.
pub(crate) type Params = Vec<(String, String)>;

/// A URL (`postgresql://` or `postgres://`, also SQLAlchemy's `postgresql+DRIVER://`, whose
/// driver part is dropped) or a conninfo string, told apart by the scheme.
pub(crate) fn parse(s: &str) -> Result<Params, ConnError> {
    let trimmed = s.trim();
    for scheme in ["postgresql", "postgres"] {
        if let Some(rest) = strip_prefix_ignore_case(trimmed, scheme)
            && let Some(rest) = strip_driver(rest).strip_prefix("://")
        {
            return parse_url(rest);
        }
    }
    if trimmed.contains('=') || trimmed.is_empty() {
        return parse_conninfo(trimmed);
    }
    let shown = match trimmed.find("://") {
        Some(end) => format!("a {}:// URL", &trimmed[..end]),
        None => "neither a URL nor key=value pairs".to_string(),
    };
    Err(ConnError::InvalidUrl {
        problem: format!(
            "expected postgresql://user@host:port/dbname or host=... port=... (got {shown})"
        ),
    })
}

/// SQLAlchemy's `+asyncpg`, `+psycopg2`, `+psycopg`, ... after the scheme name.
fn strip_driver(rest: &str) -> &str {
    let Some(driver) = rest.strip_prefix('+') else {
        return rest;
    };
    let end = driver
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(driver.len());
    if end == 0 { rest } else { &driver[end..] }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn url_error(problem: impl Into<String>) -> ConnError {
    ConnError::InvalidUrl {
        problem: problem.into(),
    }
}

/// `[user[:password]@][host][:port][,host[:port]...][/dbname][?key=value&...]`, after the scheme.
fn parse_url(rest: &str) -> Result<Params, ConnError> {
    let mut params = Params::new();
    // The user information ends at the last `@` before the query, so a raw `@`, `/` or `:` in
    // a password still works; a raw `?` must be written `%3F`.
    let query_start = rest.find('?').unwrap_or(rest.len());
    let (userinfo, after) = match rest[..query_start].rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    if userinfo.is_none() && rest[query_start..].contains('@') {
        // Most likely `user:pa?ss@host`: parsing on would quote the password in an error.
        return Err(url_error(
            "there is an '@' after the '?'; if the password contains '?', write it as %3F \
             (and an '@' in a query value as %40)",
        ));
    }
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        let user = decode(user, "the user name")?;
        if !user.is_empty() {
            params.push(("user".into(), user));
        }
        if let Some(password) = password {
            params.push(("password".into(), decode(password, "the password")?));
        }
    }
    let (before_query, query) = match after.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (after, None),
    };
    let (netloc, path) = match before_query.split_once('/') {
        Some((netloc, path)) => (netloc, Some(path)),
        None => (before_query, None),
    };
    parse_netloc(netloc, &mut params)?;
    if let Some(path) = path.filter(|p| !p.is_empty()) {
        params.push(("dbname".into(), decode(path, "the database name")?));
    }
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(url_error(format!(
                "query parameter {:?} has no value (expected key=value)",
                decode(pair, "a query parameter")?
            )));
        };
        let key = decode(key, "a query parameter name")?;
        let value = decode(value, &format!("the value of {key:?}"))?;
        // JDBC-style `ssl=true`, accepted by libpq too; asyncpg's `ssl=require` (and the other
        // sslmode words) in SQLAlchemy URLs.
        if key == "ssl" && value == "true" {
            params.push(("sslmode".into(), "require".into()));
        } else if key == "ssl" && SslMode::parse(&value).is_some() {
            params.push(("sslmode".into(), value));
        } else {
            params.push((key, value));
        }
    }
    Ok(params)
}

/// Comma-separated `host[:port]`, where a host may be `[v6 address]` or a `%2F`-encoded socket dir.
fn parse_netloc(netloc: &str, params: &mut Params) -> Result<(), ConnError> {
    if netloc.is_empty() {
        return Ok(());
    }
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    for spec in netloc.split(',') {
        let (host, port) = if let Some(bracketed) = spec.strip_prefix('[') {
            let Some((addr, tail)) = bracketed.split_once(']') else {
                return Err(url_error(format!("IPv6 host {spec:?} has no closing ']'")));
            };
            let port = match tail {
                "" => None,
                _ => Some(tail.strip_prefix(':').ok_or_else(|| {
                    url_error(format!("unexpected {tail:?} after IPv6 host [{addr}]"))
                })?),
            };
            (decode(addr, "an IPv6 host")?, port)
        } else {
            match spec.rsplit_once(':') {
                Some((host, port)) => (decode(host, "a host name")?, Some(port)),
                None => (decode(spec, "a host name")?, None),
            }
        };
        hosts.push(host);
        ports.push(port.unwrap_or("").to_string());
    }
    if hosts.iter().any(|h| !h.is_empty()) {
        params.push(("host".into(), hosts.join(",")));
    }
    if ports.iter().any(|p| !p.is_empty()) {
        params.push(("port".into(), ports.join(",")));
    }
    Ok(())
}

/// Percent-decoding that refuses broken escapes, NUL and non-UTF-8 results, naming `what`.
pub(crate) fn decode(s: &str, what: &str) -> Result<String, ConnError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).unwrap_or("");
            let byte = u8::from_str_radix(hex, 16)
                .ok()
                .filter(|_| hex.len() == 2)
                .ok_or_else(|| {
                    url_error(format!("invalid percent-encoding in {what} (expected %XX)"))
                })?;
            if byte == 0 {
                return Err(url_error(format!("{what} contains %00")));
            }
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| url_error(format!("{what} is not UTF-8 after percent-decoding")))
}

/// libpq conninfo: `key = value` pairs separated by spaces; values may be single-quoted, and
/// `\'` and `\\` escape inside or outside quotes.
fn parse_conninfo(s: &str) -> Result<Params, ConnError> {
    let bad = |problem: String| ConnError::InvalidConninfo { problem };
    let mut params = Params::new();
    let mut chars = s.chars().peekable();
    let mut after_bare_password = false;
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(params);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            if after_bare_password {
                // Part of a password with a space in it: don't echo it.
                return Err(bad(
                    "missing \"=\" after the password; if it contains spaces, \
                                quote it: password='...'"
                        .into(),
                ));
            }
            return Err(bad(format!("missing \"=\" after {key:?}")));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        let quoted = chars.next_if_eq(&'\'').is_some();
        after_bare_password = key == "password" && !quoted;
        if quoted {
            loop {
                match chars.next() {
                    Some('\'') => break,
                    Some('\\') => value.extend(chars.next()),
                    Some(c) => value.push(c),
                    None => return Err(bad(format!("unterminated quoted value for {key:?}"))),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        params.push((key, value));
    }
}

/// The values of `keys` set by the `.env` file in `dir` (none if there is no such file).
///
/// Reads `KEY=VALUE` lines with an optional `export ` prefix, `#` comments, and single- or
/// double-quoted values (double quotes understand `\"`, `\\` and `\n`); the last setting wins.
/// Lines of other keys are not looked at.
pub(crate) fn dotenv_values(dir: &Path, keys: &[&str]) -> Result<Vec<(String, String)>, ConnError> {
    let path = dir.join(".env");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(ConnError::DotEnvRead { path, source }),
    };
    let mut found: Vec<(String, String)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if !keys.contains(&key) {
            continue;
        }
        let value = dotenv_value(value.trim()).map_err(|problem| ConnError::DotEnv {
            path: path.clone(),
            line: index + 1,
            key: key.to_string(),
            problem,
        })?;
        found.retain(|(k, _)| k != key);
        found.push((key.to_string(), value));
    }
    Ok(found)
}

/// `DATABASE_URL` from the `.env` file in `dir`, if the file exists and sets it.
#[cfg(test)]
pub(crate) fn dotenv_database_url(dir: &Path) -> Result<Option<String>, ConnError> {
    let values = dotenv_values(dir, &["DATABASE_URL"])?;
    Ok(values.into_iter().next().map(|(_, v)| v))
}

fn dotenv_value(raw: &str) -> Result<String, String> {
    if let Some(body) = raw.strip_prefix('\'') {
        return body
            .split_once('\'')
            .map(|(value, _)| value.to_string())
            .ok_or_else(|| "the single quote is not closed".to_string());
    }
    if let Some(body) = raw.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Ok(value),
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => break,
                },
                c => value.push(c),
            }
        }
        return Err("the double quote is not closed".to_string());
    }
    // Unquoted: a `#` after whitespace starts a comment.
    let end = raw
        .char_indices()
        .find(|&(i, c)| c == '#' && (i == 0 || raw[..i].ends_with(char::is_whitespace)))
        .map_or(raw.len(), |(i, _)| i);
    Ok(raw[..end].trim_end().to_string())
}

/// The password for this server from a libpq password file (`~/.pgpass`, `PGPASSFILE`):
/// lines of `host:port:database:user:password`, `*` matching anything, `\:` and `\\` escapes.
///
/// As libpq: a missing or unreadable file, or one that group or others may read, is ignored;
/// the default socket directory is matched as `localhost`.
pub(crate) fn pgpass_password(
    file: &Path,
    host: &str,
    port: u16,
    dbname: &str,
    user: &str,
) -> Option<String> {
    if !std::fs::metadata(file).is_ok_and(|m| m.is_file()) || pgpass_insecure(file) {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let port = port.to_string();
    let wanted = [host, port.as_str(), dbname, user];
    text.lines().find_map(|line| {
        if line.starts_with('#') {
            return None;
        }
        let fields = pgpass_fields(line);
        let [h, p, d, u, password] = fields.as_slice() else {
            return None;
        };
        let matches = [h, p, d, u]
            .iter()
            .zip(wanted)
            .all(|(f, w)| f.as_str() == "*" || f.as_str() == w);
        matches.then(|| password.clone())
    })
}

/// Split at unescaped `:` into at most five fields; the fifth keeps any further `:`.
/// libpq ignores a password file that group or others may read (with a warning).
pub(crate) fn pgpass_insecure(file: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(file).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        false
    }
}

fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields
                .last_mut()
                .into_iter()
                .for_each(|f| f.extend(chars.next())),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().into_iter().for_each(|f| f.push(c)),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::super::conn::{ConnSettings, Host, SslMode};
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parse(s: &str) -> ConnSettings {
        match ConnSettings::parse_with(s, &no_env) {
            Ok(settings) => settings,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn error(s: &str) -> String {
        match ConnSettings::parse_with(s, &no_env) {
            Ok(settings) => panic!("{s} parsed as {settings:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn tcp(name: &str) -> Host {
        Host::Tcp(name.to_string())
    }

    #[test]
    fn url_with_everything() {
        let s = parse("postgresql://alice:secret@db.example.com:6543/shop?sslmode=require");
        assert_eq!(s.hosts(), [tcp("db.example.com")]);
        assert_eq!(s.ports(), [6543]);
        assert_eq!(
            (s.user(), s.password(), s.dbname()),
            ("alice", Some("secret"), "shop")
        );
        assert_eq!(s.sslmode(), SslMode::Require);
    }

    #[test]
    fn url_percent_decodes_user_password_and_dbname() {
        let s = parse("postgres://us%40er:p%40ss%3Aw%2Fo%3Frd%25@h/my%20db");
        assert_eq!(
            (s.user(), s.password(), s.dbname()),
            ("us@er", Some("p@ss:w/o?rd%"), "my db")
        );
    }

    #[test]
    fn url_password_with_raw_at_slash_and_colon() {
        let s = parse("postgresql://bob:a@b/c:d@host:5433/db");
        assert_eq!((s.user(), s.password()), ("bob", Some("a@b/c:d")));
        assert_eq!(
            (s.hosts(), s.ports(), s.dbname()),
            (&[tcp("host")][..], &[5433][..], "db")
        );
    }

    #[test]
    fn url_ipv6_hosts_and_several_hosts() {
        let s = parse("postgresql://u@[::1]:5433,[fe80::1%25eth0],other:7/db");
        assert_eq!(s.hosts(), [tcp("::1"), tcp("fe80::1%eth0"), tcp("other")]);
        assert_eq!(s.ports(), [5433, 5432, 7]);
    }

    #[test]
    fn url_socket_dirs() {
        let encoded = parse("postgresql://u@%2Fvar%2Frun%2Fpostgresql:5433/db");
        assert_eq!(encoded.hosts(), [Host::Unix("/var/run/postgresql".into())]);
        assert_eq!(encoded.ports(), [5433]);
        let query = parse("postgresql:///db?host=/tmp/sock&port=6000&user=me");
        assert_eq!(query.hosts(), [Host::Unix("/tmp/sock".into())]);
        assert_eq!(
            (query.ports(), query.user(), query.dbname()),
            (&[6000][..], "me", "db")
        );
    }

    #[test]
    fn url_query_params() {
        let s = parse(
            "postgres://u@h/db?sslmode=verify-full&sslrootcert=%2Fca.pem&connect_timeout=10\
             &application_name=my%20app&options=-c%20search_path%3Dx",
        );
        assert_eq!(s.sslmode(), SslMode::VerifyFull);
        assert_eq!(s.sslrootcert(), Some(Path::new("/ca.pem")));
        assert_eq!(
            s.connect_timeout(),
            Some(std::time::Duration::from_secs(10))
        );
        let env = s.libpq_env();
        assert!(env.contains(&("PGAPPNAME", "my app".into())));
        assert!(env.contains(&("PGOPTIONS", "-c search_path=x".into())));
        assert_eq!(
            parse("postgres://u@h/db?ssl=true").sslmode(),
            SslMode::Require
        );
        assert_eq!(parse("POSTGRESQL://u@h/db").dbname(), "db");
    }

    #[test]
    fn conninfo_with_quotes_and_escapes() {
        let s = parse(
            r"host=db.local port = 5434 user='a b' password='it\'s \\ \'x\'' dbname=x\ y sslmode=disable",
        );
        assert_eq!(s.hosts(), [tcp("db.local")]);
        assert_eq!(s.ports(), [5434]);
        assert_eq!(
            (s.user(), s.password(), s.dbname()),
            ("a b", Some(r"it's \ 'x'"), "x y")
        );
        assert_eq!(s.sslmode(), SslMode::Disable);
        assert_eq!(
            parse("host=/tmp dbname=d").hosts(),
            [Host::Unix("/tmp".into())]
        );
        assert_eq!(parse("user=u password='' dbname=d").password(), None);
    }

    #[test]
    fn invalid_inputs_say_which_part() {
        let cases = [
            ("postgresql://u@h:54x2/db", "invalid port \"54x2\""),
            ("postgresql://u@h:70000/db", "from 1 to 65535"),
            ("postgresql://u@[::1/db", "no closing ']'"),
            (
                "postgresql://u%zz@h/db",
                "percent-encoding in the user name",
            ),
            (
                "postgresql://u@h/d%G1",
                "percent-encoding in the database name",
            ),
            (
                "postgresql://u@h/db?sslmode=strict",
                "unknown sslmode \"strict\"",
            ),
            (
                "postgresql://u@h/db?sslmod=require",
                "unknown connection option \"sslmod\"",
            ),
            (
                "postgresql://u@h/db?sslcrl=/c",
                "\"sslcrl\" is not supported",
            ),
            (
                "postgresql://u@h/db?sslcert=/c",
                "/c: there is no private key file",
            ),
            ("mysql+pymysql://u@h/db", "got a mysql+pymysql:// URL"),
            ("postgresql+://u@h/db", "got a postgresql+:// URL"),
            ("postgresql://u@h/db?sslmode", "has no value"),
            ("host=a,b,c port=1,2", "2 ports given for 3 hosts"),
            ("host=h user='unterminated", "unterminated quoted value"),
            ("host=h user", "missing \"=\" after \"user\""),
            ("mysql://u@h/db", "got a mysql:// URL"),
            ("just-a-name", "neither a URL nor key=value"),
            (
                "host=h connect_timeout=soon",
                "invalid connect_timeout \"soon\"",
            ),
        ];
        for (input, expected) in cases {
            let message = error(input);
            assert!(message.contains(expected), "{input}: {message}");
        }
    }

    #[test]
    fn invalid_input_never_echoes_the_password() {
        for input in [
            "postgresql://u:hunter2%zz@h/db",
            "postgresql://u:hunter2@h:bad/db",
            "postgresql://u:hunter2@h/db?sslmode=nope",
            "user=u password=hunter2 sslmode=nope",
            "user=u password='hunter2",
            "postgresql://u:hunt?er2@h:5432/db",
            "user=u password=hunt er2 dbname=d",
            "user=u password=hunt er2=x dbname=d",
        ] {
            let message = error(input);
            for part in ["hunter2", "hunt", "er2"] {
                assert!(!message.contains(part), "{input}: {message}");
            }
        }
    }

    #[test]
    fn pgpass_lookup() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("pgpass");
        let lines = "# comment\n\
                     db.example:5432:shop:app:first\n\
                     *:*:*:app:any\\:thing\\\\:x\n\
                     localhost:6000:*:*:local\n";
        std::fs::write(&file, lines).expect("write");
        let find = |host, port, db| pgpass_password(&file, host, port, db, "app");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            assert_eq!(
                find("db.example", 5432, "shop"),
                None,
                "world-readable: ignored"
            );
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        assert_eq!(find("db.example", 5432, "shop").as_deref(), Some("first"));
        assert_eq!(
            find("other", 5432, "shop").as_deref(),
            Some("any:thing\\:x")
        );
        assert_eq!(
            pgpass_password(&file, "localhost", 6000, "d", "bob").as_deref(),
            Some("local")
        );
        assert_eq!(pgpass_password(&file, "other", 6000, "d", "bob"), None);
        assert_eq!(
            pgpass_password(&dir.path().join("none"), "h", 1, "d", "u"),
            None
        );
    }

    #[test]
    fn dotenv_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |text: &str| std::fs::write(dir.path().join(".env"), text).expect("write");
        assert_eq!(dotenv_database_url(dir.path()).ok(), Some(None));
        write("# comment\nOTHER=1\nexport DATABASE_URL=postgres://a@h/x # note\n");
        assert_eq!(
            dotenv_database_url(dir.path()).ok(),
            Some(Some("postgres://a@h/x".into()))
        );
        write("DATABASE_URL = \"postgres://a:p#\\\"q@h/x\" # note\n");
        assert_eq!(
            dotenv_database_url(dir.path()).ok(),
            Some(Some("postgres://a:p#\"q@h/x".into()))
        );
        write("DATABASE_URL='postgres://a:p#q@h/x'\nDATABASE_URL='postgres://last@h/y'\n");
        assert_eq!(
            dotenv_database_url(dir.path()).ok(),
            Some(Some("postgres://last@h/y".into()))
        );
        write("A=1\nDATABASE_URL=\"postgres://a:secret@h/x\n");
        let message = dotenv_database_url(dir.path()).map_err(|e| e.to_string());
        let message = message.expect_err("unterminated quote");
        assert!(
            message.contains(".env, line 2") && !message.contains("secret"),
            "{message}"
        );
    }
}
