//! What the operating system provides to the cluster: the effective user, system users,
//! temporary directories, free ports, the server's pid and log, and the quoting of URLs and
//! shell commands. No PostgreSQL logic here.

use std::ffi::{CString, OsStr};
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{ClusterError, LOG_TAIL_LINES, io_error};

pub(super) fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The uid and gid of a system user, via the thread-safe getpwnam_r(3).
pub(super) fn lookup_user(name: &str) -> Result<(u32, u32), ClusterError> {
    let missing = || ClusterError::NoServerUser(name.to_owned());
    let c_name = CString::new(name).map_err(|_| missing())?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: an all-zero passwd is a valid value for getpwnam_r to overwrite.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer refers to live, correctly sized storage owned by this frame.
    let rc = unsafe {
        libc::getpwnam_r(
            c_name.as_ptr(),
            &raw mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &raw mut result,
        )
    };
    if rc != 0 || result.is_null() {
        return Err(missing());
    }
    Ok((pwd.pw_uid, pwd.pw_gid))
}

/// `<temp>/pgcarry-pg-<pid>-<n>-<nanos>`, created with mode 0700 (fails if it exists).
pub(super) fn create_temp_dir() -> Result<PathBuf, ClusterError> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let base = std::env::temp_dir();
    let mut last_error = None;
    for _ in 0..10 {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("pgcarry-pg-{}-{n}-{nanos:x}", std::process::id()));
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => last_error = Some(err),
            Err(err) => {
                return Err(io_error(format!(
                    "create a temporary directory in {}",
                    base.display()
                ))(err));
            }
        }
    }
    Err(io_error(format!(
        "create a temporary directory in {}",
        base.display()
    ))(
        last_error.unwrap_or_else(|| io::Error::other("no free name")),
    ))
}

/// A port on 127.0.0.1 that was free a moment ago.
pub(super) fn free_port() -> Result<u16, ClusterError> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(io_error("find a free port on 127.0.0.1"))
}

pub(super) fn postmaster_pid(pid_file: &Path) -> Option<libc::pid_t> {
    let text = fs::read_to_string(pid_file).ok()?;
    let pid = text.lines().next()?.trim().parse::<libc::pid_t>().ok()?;
    (pid > 0).then_some(pid)
}

/// The last lines of `path` from byte `offset` on.
pub(super) fn log_tail(path: &Path, offset: u64) -> String {
    let mut text = Vec::new();
    let read = fs::File::open(path).and_then(|mut file| {
        file.seek(SeekFrom::Start(offset))?;
        file.read_to_end(&mut text)
    });
    match read {
        Ok(_) => tail(&String::from_utf8_lossy(&text), LOG_TAIL_LINES),
        Err(err) => format!("(could not read the log: {err})"),
    }
}

pub(super) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub(super) fn combined(out: &Output) -> String {
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(super) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Quotes an argument for a POSIX shell.
pub(super) fn shell_quote(arg: &OsStr) -> String {
    let text = arg.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:@".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
