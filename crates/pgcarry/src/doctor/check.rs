//! What every check stands on: one read-only session under a
//! `statement_timeout`, what the role may see, and a finding for a check that lacks the
//! privilege instead of a failed run.

use super::Options;
use super::finding::{Category, Finding, Level};
use postgres::Client;
use postgres::error::SqlState;

/// What a check reads through, and what it knows about the session.
pub struct Ctx<'a> {
    pub client: &'a mut Client,
    pub options: &'a Options,
    /// The role doctor connected as (`current_user`).
    pub role: String,
    /// The role is a superuser, or a member of `pg_read_all_stats`: it sees every session.
    pub sees_all_sessions: bool,
    /// Findings a check adds besides its own result (an object it could not read).
    pub notes: Vec<Finding>,
}

impl Ctx<'_> {
    /// Notes that `object` could not be read by `check`: for lack of privilege (info), or in
    /// time — a lock held too long, the statement timeout (warning); the check goes on with
    /// the next object. `Err` for any other error, which fails the check.
    pub fn unreadable(
        &mut self,
        check: &str,
        category: Category,
        object: &str,
        error: postgres::Error,
    ) -> Result<(), postgres::Error> {
        if lacks_privilege(&error) {
            self.notes
                .push(no_privilege(check, category, object, &self.role, &error));
            return Ok(());
        }
        let late = [SqlState::LOCK_NOT_AVAILABLE, SqlState::QUERY_CANCELED];
        if !error.code().is_some_and(|c| late.contains(c)) {
            return Err(error);
        }
        let message = error
            .as_db_error()
            .map_or_else(|| error.to_string(), |d| d.message().to_string());
        self.notes.push(
            Finding::new(
                "check_failed",
                Level::Warning,
                category,
                format!("{check}:{object}"),
                format!("check {check} could not read {object} in time: {message}"),
            )
            .advice(
                "run doctor again when the lock is released (see lock_wait findings and \
                 pg_locks), or raise --statement-timeout",
            ),
        );
        Ok(())
    }
}

/// One check: a name (stable, the first part of its findings' keys), its category, and the
/// function that runs it (read-only).
pub struct Check {
    pub name: &'static str,
    pub category: Category,
    pub run: fn(&mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error>,
}

/// True for "permission denied" (42501) and its kin: the role may not read this.
pub fn lacks_privilege(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE)
}

/// The info finding for something `check` could not read as `role`.
pub fn no_privilege(
    check: &str,
    category: Category,
    object: &str,
    role: &str,
    error: &postgres::Error,
) -> Finding {
    let message = error
        .as_db_error()
        .map_or_else(|| error.to_string(), |d| d.message().to_string());
    let (key, what) = if object.is_empty() {
        (check.to_string(), "what it needs".to_string())
    } else {
        (format!("{check}:{object}"), object.to_string())
    };
    Finding::new(
        "no_privilege",
        Level::Info,
        category,
        key,
        format!("check {check} could not read {what} as role {role}: {message}"),
    )
    .advice(
        "run doctor as a role that may read it (SELECT on the object, or pg_read_all_data; \
         pg_monitor for the statistics views), or accept the gap",
    )
}

/// The SQL condition for a namespace `n` holding the application's objects: not the
/// catalogs, TOAST, temporary schemas or pgcarry's own state.
pub const USER_SCHEMA: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgcarry') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// `schema.name` as findings name an object (not quoted: the key stays readable).
pub fn object(schema: &str, name: &str) -> String {
    format!("{schema}.{name}")
}

/// One finding per row of `sql`, a query of `(schema, name)` pairs.
pub fn per_object(
    ctx: &mut Ctx<'_>,
    sql: &str,
    make: impl Fn(&str, &str) -> Finding,
) -> Result<Vec<Finding>, postgres::Error> {
    Ok(ctx
        .client
        .query(sql, &[])?
        .iter()
        .map(|r| make(r.get(0), r.get(1)))
        .collect())
}
