//! PostgreSQL's errors, told apart and described: a lost connection (worth retrying) from a
//! refusal (final), and a server error with its detail, its place (`COPY t, line N`) and, for a
//! full disk, what to do.

/// True when `e` means the connection is gone rather than that the data was refused.
pub fn is_connection_error(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        // 08P01 (protocol violation) is the server refusing what was sent — binary COPY data
        // that does not fit the column's type — over a connection that is still there.
        return (code.starts_with("08") && code != "08P01")
            || matches!(code, "57P01" | "57P02" | "57P03");
    }
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        if inner.is::<std::io::Error>() {
            return true;
        }
        src = inner.source();
    }
    false
}

/// Describes a server error with its detail and where (COPY line) it happened.
pub fn describe_pg_error(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = db.message().to_string();
            if let Some(d) = db.detail() {
                s.push_str(&format!(" ({d})"));
            }
            if let Some(w) = db.where_() {
                s.push_str(&format!(" [{w}]"));
            }
            if *db.code() == postgres::error::SqlState::DISK_FULL {
                s.push_str(
                    " — the PostgreSQL server's disk is full (SQLSTATE 53100): free space on the \
                     server or give the database a larger disk, then run the same command again \
                     (tables already loaded are kept)",
                );
            }
            s
        }
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s.push_str(&format!(": {inner}"));
                src = inner.source();
            }
            s
        }
    }
}
