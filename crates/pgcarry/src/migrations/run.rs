//! The commands that change a database: `up`, `down`, `baseline`, `repair`. Each reads the
//! directory, takes the lock (PostgreSQL: an advisory lock for the whole command; SQLite:
//! `BEGIN IMMEDIATE` per migration), checks the records once more inside each transaction,
//! and runs each migration in a transaction of its own unless the file says
//! `-- pgcarry:no-transaction`, in which case it is recorded as started first and as finished
//! after, so that a crash in between is reported with what to do.

use super::engine::{Engine, Leftover, Record, SqlError, State, now};
use super::file::{Migration, Section, Statement};
use super::status::{Kind, compare, shorten};
use super::{Dialect, Done, Request, SchemaError, lint_refusal, open};
use crate::work::progress::Progress;
use std::fmt::Write as _;
use std::time::Instant;

/// What `up` may do beyond the defaults.
#[derive(Debug, Clone, Copy, Default)]
pub struct UpOptions {
    /// Apply pending migrations older than the newest applied one.
    pub allow_out_of_order: bool,
    /// Apply migrations to a database that holds tables but records none (no baseline).
    pub allow_existing_tables: bool,
    /// Print the SQL; change nothing.
    pub dry_run: bool,
}

/// Applies the pending migrations, in version order, each once.
pub fn up(req: &Request, opts: UpOptions, progress: &dyn Progress) -> Result<Done, SchemaError> {
    let dir = super::file::read_dir(&req.dir)?;
    if dir.has_errors() {
        return Err(lint_refusal(&dir, "apply"));
    }
    let mut engine = open(req, !opts.dry_run, progress)?;
    // Tables first, then records: a migration's tables commit with its record, so another
    // process (SQLite) that applies one in between is seen in the records.
    let tables = engine.user_tables().map_err(SchemaError::Failed)?;
    let records = applied(engine.as_mut())?;
    if records.is_empty() && !opts.allow_existing_tables && !tables.is_empty() {
        return Err(SchemaError::Refused(format!(
            "{} holds {} table(s) ({}) but records no migration: applying the migrations \
             from the first would create what exists. If its schema is what the migrations \
             up to some VERSION create, record them with `pgcarry schema baseline VERSION`; \
             to apply them all anyway, give --allow-existing-tables",
            req.database.location(),
            tables.len(),
            shorten(&tables)
        )));
    }
    let entries = compare(&dir, &records);
    let mut done = Done::default();
    for e in &entries {
        let file = e.file.clone().unwrap_or_default();
        match e.state {
            Kind::Modified => return Err(modified(e.version, &file)),
            Kind::Unfinished => return Err(unfinished(e.version, &e.name, &file)),
            Kind::OutOfOrder if !opts.allow_out_of_order => {
                return Err(SchemaError::Refused(format!(
                    "migration {} ({file}) is pending but older than the newest applied one \
                     ({}): it was probably merged from another branch. Check that it does not \
                     depend on what newer migrations did, then run with --allow-out-of-order",
                    e.version,
                    newest(&records).unwrap_or_default()
                )));
            }
            Kind::Missing => done.warn(
                progress,
                format!(
                    "migration {} ({}) is recorded as applied but no file in {} has its version",
                    e.version,
                    e.name,
                    req.dir.display()
                ),
            ),
            _ => {}
        }
    }
    let pending: Vec<&Migration> = entries
        .iter()
        .filter(|e| matches!(e.state, Kind::Pending | Kind::OutOfOrder))
        .filter_map(|e| dir.find(e.version))
        .collect();
    let dialect = engine.dialect();
    if opts.dry_run {
        for m in &pending {
            dry_run(&mut done.sql, m, &m.up, "up", dialect);
        }
        done.version = newest(&records);
        return Ok(done);
    }
    engine.ensure_records().map_err(SchemaError::Failed)?;
    for m in pending {
        progress.message(&format!("applying {}", m.file_name()));
        let applied = if m.no_transaction {
            apply_without_transaction(engine.as_mut(), m, &mut done, progress)?
        } else {
            apply(engine.as_mut(), m)?
        };
        match applied {
            Some(ms) => done
                .lines
                .push(format!("applied {} {} ({ms} ms)", m.version, m.name)),
            None => done.lines.push(format!(
                "skipped {} {}: another process applied it meanwhile",
                m.version, m.name
            )),
        }
    }
    done.version = newest(&applied(engine.as_mut())?);
    Ok(done)
}

/// The records (none when there is no record table yet).
pub fn applied(engine: &mut dyn Engine) -> Result<Vec<Record>, SchemaError> {
    Ok(engine
        .records()
        .map_err(SchemaError::Failed)?
        .unwrap_or_default())
}

/// The newest finished version.
pub fn newest(records: &[Record]) -> Option<i64> {
    records
        .iter()
        .filter(|r| r.state == State::Finished)
        .map(|r| r.version)
        .max()
}

fn modified(version: i64, file: &str) -> SchemaError {
    SchemaError::Refused(format!(
        "migration {version} was applied but has been modified since: {file}. Undo the change \
         (a new migration is the way to change an applied one); if the change is on purpose and \
         the database already matches it, record the file as it is now with `pgcarry schema \
         repair`"
    ))
}

fn unfinished(version: i64, name: &str, file: &str) -> SchemaError {
    SchemaError::Refused(format!(
        "migration {version} ({name}, {file}) runs without a transaction and did not finish: \
         some of its statements may have taken effect, others not. Look at the database (an \
         INVALID index left by CREATE INDEX CONCURRENTLY must be dropped), then either undo what \
         took effect and run `pgcarry schema repair --unfinished rerun` (`schema up` runs it \
         again), or complete it by hand and run `pgcarry schema repair --unfinished applied`"
    ))
}

fn record(m: &Migration, state: State, duration_ms: i64, baseline: bool) -> Record {
    Record {
        version: m.version,
        name: m.name.clone(),
        checksum: m.checksum.clone(),
        applied_at: now(),
        duration_ms,
        state,
        baseline,
    }
}

fn millis(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// True when `version` is recorded (read inside the transaction that holds the lock).
fn recorded(engine: &mut dyn Engine, version: i64) -> Result<bool, SchemaError> {
    Ok(applied(engine)?.iter().any(|r| r.version == version))
}

/// Runs `statements`; the first that fails, as the error to report.
fn run_all(engine: &mut dyn Engine, statements: &[Statement]) -> Result<(), (Statement, SqlError)> {
    for s in statements {
        engine.execute(&s.sql).map_err(|e| (s.clone(), e))?;
    }
    Ok(())
}

/// `migration V failed at FILE:LINE: message`.
fn failed_at(m: &Migration, what: &str, s: &Statement, e: &SqlError) -> String {
    let line = s.line + e.line_in_statement.unwrap_or(0);
    let hint = if !m.no_transaction
        && (e.message.contains("cannot run inside a transaction block")
            || e.message.contains("from within a transaction"))
    {
        " (a statement that cannot run in a transaction: mark the file \
         `-- pgcarry:no-transaction`)"
    } else {
        ""
    };
    format!(
        "migration {} ({what}) failed at {}:{line}: {}{hint}",
        m.version,
        m.path.display(),
        e.message
    )
}

/// One migration in one transaction; `None` if another process applied it first.
fn apply(engine: &mut dyn Engine, m: &Migration) -> Result<Option<i64>, SchemaError> {
    let statements = m.up.statements(engine.dialect());
    engine.begin().map_err(SchemaError::Failed)?;
    if recorded(engine, m.version)? {
        engine.rollback();
        return Ok(None);
    }
    let started = Instant::now();
    if let Err((s, e)) = run_all(engine, &statements) {
        engine.rollback();
        let version = newest(&engine.records().unwrap_or_default().unwrap_or_default());
        return Err(SchemaError::Failed(format!(
            "{}. It was rolled back: the database {} (migrations before it stay applied). Fix \
             the file and run `pgcarry schema up` again",
            failed_at(m, "up", &s, &e),
            version.map_or("records no applied migration".to_string(), |v| format!(
                "is at version {v}"
            ))
        )));
    }
    let ms = millis(started);
    let written = engine
        .write_record(&record(m, State::Finished, ms, false))
        .and_then(|()| engine.commit());
    if let Err(e) = written {
        engine.rollback();
        return Err(SchemaError::Failed(e));
    }
    Ok(Some(ms))
}

/// A `-- pgcarry:no-transaction` migration: recorded as started, run statement by statement,
/// checked for what it left half-built, recorded as finished.
fn apply_without_transaction(
    engine: &mut dyn Engine,
    m: &Migration,
    done: &mut Done,
    progress: &dyn Progress,
) -> Result<Option<i64>, SchemaError> {
    engine.begin().map_err(SchemaError::Failed)?;
    if recorded(engine, m.version)? {
        engine.rollback();
        return Ok(None);
    }
    let marked = engine
        .write_record(&record(m, State::Started, 0, false))
        .and_then(|()| engine.commit());
    if let Err(e) = marked {
        engine.rollback();
        return Err(SchemaError::Failed(e));
    }
    let before = engine.leftovers().map_err(SchemaError::Failed)?;
    let started = Instant::now();
    let statements = m.up.statements(engine.dialect());
    let ran = run_all(engine, &statements);
    let left: Vec<Leftover> = engine
        .leftovers()
        .map_err(SchemaError::Failed)?
        .into_iter()
        .filter(|l| !before.contains(l))
        .collect();
    let invalid: Vec<&str> = left
        .iter()
        .filter(|l| l.invalid_index)
        .map(|l| l.what.as_str())
        .collect();
    let what_to_do = |problem: String| {
        let mut s = format!(
            "{problem}. The migration runs without a transaction (-- pgcarry:no-transaction): \
             the statements before this one took effect, and it stays recorded as started"
        );
        if !invalid.is_empty() {
            let _ = write!(
                s,
                "; it left {}: drop it (DROP INDEX CONCURRENTLY …)",
                invalid.join(", ")
            );
        }
        s.push_str(
            ". Then `pgcarry schema repair --unfinished rerun` and `pgcarry schema up` to run it \
             again",
        );
        s
    };
    if let Err((s, e)) = ran {
        return Err(SchemaError::Failed(what_to_do(failed_at(m, "up", &s, &e))));
    }
    if !invalid.is_empty() {
        return Err(SchemaError::Failed(what_to_do(format!(
            "migration {} ({}) ran, but left an INVALID index",
            m.version,
            m.path.display()
        ))));
    }
    for l in left.iter().filter(|l| !l.invalid_index) {
        done.warn(
            progress,
            format!(
                "migration {} left {}: validate it (ALTER TABLE … VALIDATE CONSTRAINT) in a later \
                 migration if that was not the plan",
                m.version, l.what
            ),
        );
    }
    let ms = millis(started);
    engine
        .write_record(&record(m, State::Finished, ms, false))
        .map_err(SchemaError::Failed)?;
    Ok(Some(ms))
}

/// Appends a section's SQL for `dialect`, as `--dry-run` prints it.
fn dry_run(out: &mut String, m: &Migration, section: &Section, what: &str, dialect: Dialect) {
    let _ = writeln!(
        out,
        "-- {} ({what}, {}{})",
        m.path.display(),
        dialect.name(),
        if m.no_transaction {
            ", no transaction"
        } else {
            ""
        }
    );
    for s in section.statements(dialect) {
        let _ = writeln!(out, "{};", s.sql);
    }
    out.push('\n');
}

/// Reverts the newest `steps` applied migrations, newest first, each in its transaction.
pub fn down(
    req: &Request,
    steps: usize,
    dry: bool,
    progress: &dyn Progress,
) -> Result<Done, SchemaError> {
    let dir = super::file::read_dir(&req.dir)?;
    if dir.has_errors() {
        return Err(lint_refusal(&dir, "revert"));
    }
    let mut engine = open(req, !dry, progress)?;
    let records = applied(engine.as_mut())?;
    if let Some(r) = records.iter().find(|r| r.state == State::Started) {
        let file = dir.find(r.version).map(|m| m.path.display().to_string());
        return Err(unfinished(r.version, &r.name, &file.unwrap_or_default()));
    }
    let mut targets: Vec<&Record> = records.iter().collect();
    targets.sort_by_key(|r| std::cmp::Reverse(r.version));
    targets.truncate(steps);
    let mut plan = Vec::new();
    for r in &targets {
        let Some(m) = dir.find(r.version) else {
            return Err(SchemaError::Refused(format!(
                "migration {} ({}) is applied but no file in {} has its version: its down \
                 section cannot be run. Put the file back (git) and run this again",
                r.version,
                r.name,
                req.dir.display()
            )));
        };
        if m.checksum != r.checksum {
            return Err(modified(m.version, &m.path.display().to_string()));
        }
        let Some(section) = &m.down else {
            return Err(SchemaError::Refused(format!(
                "migration {} ({}) has no `-- pgcarry:down` section: it cannot be reverted. Add \
                 one (then `pgcarry schema repair`, since the file changes), or write a new \
                 migration that undoes it",
                m.version,
                m.path.display()
            )));
        };
        plan.push((m, section));
    }
    let mut done = Done::default();
    let dialect = engine.dialect();
    if dry {
        for (m, section) in &plan {
            dry_run(&mut done.sql, m, section, "down", dialect);
        }
        done.version = newest(&records);
        return Ok(done);
    }
    for (m, section) in plan {
        progress.message(&format!("reverting {}", m.file_name()));
        let started = Instant::now();
        revert(engine.as_mut(), m, section)?;
        done.lines.push(format!(
            "reverted {} {} ({} ms)",
            m.version,
            m.name,
            millis(started)
        ));
    }
    done.version = newest(&applied(engine.as_mut())?);
    Ok(done)
}

fn revert(engine: &mut dyn Engine, m: &Migration, section: &Section) -> Result<(), SchemaError> {
    let statements = section.statements(engine.dialect());
    if m.no_transaction {
        if let Err((s, e)) = run_all(engine, &statements) {
            return Err(SchemaError::Failed(format!(
                "{}. It runs without a transaction: the statements before this one took effect \
                 and it stays recorded as applied. Complete or undo them by hand, then run \
                 `pgcarry schema down` again",
                failed_at(m, "down", &s, &e)
            )));
        }
        return engine.delete_record(m.version).map_err(SchemaError::Failed);
    }
    engine.begin().map_err(SchemaError::Failed)?;
    if !recorded(engine, m.version)? {
        engine.rollback();
        return Ok(());
    }
    if let Err((s, e)) = run_all(engine, &statements) {
        engine.rollback();
        return Err(SchemaError::Failed(format!(
            "{}. It was rolled back: the migration stays applied",
            failed_at(m, "down", &s, &e)
        )));
    }
    let deleted = engine
        .delete_record(m.version)
        .and_then(|()| engine.commit());
    deleted.map_err(|e| {
        engine.rollback();
        SchemaError::Failed(e)
    })
}

/// Records every migration up to `version` as applied without running it.
pub fn baseline(req: &Request, version: i64, progress: &dyn Progress) -> Result<Done, SchemaError> {
    let dir = super::file::read_dir(&req.dir)?;
    if dir.has_errors() {
        return Err(lint_refusal(&dir, "baseline"));
    }
    if dir.find(version).is_none() {
        let versions: Vec<String> = dir
            .migrations
            .iter()
            .map(|m| m.version.to_string())
            .collect();
        return Err(SchemaError::Usage(format!(
            "no migration in {} has version {version} (the versions there: {}): baseline at \
             the version of the migration whose schema the database has",
            req.dir.display(),
            if versions.is_empty() {
                "none".into()
            } else {
                shorten(&versions)
            }
        )));
    }
    let mut engine = open(req, true, progress)?;
    engine.ensure_records().map_err(SchemaError::Failed)?;
    engine.begin().map_err(SchemaError::Failed)?;
    let records = applied(engine.as_mut())?;
    if !records.is_empty() {
        engine.rollback();
        return Err(SchemaError::Refused(format!(
            "{} already records {} migration(s) (the newest {}): a baseline is for a database \
             that records none. `pgcarry schema status` shows them",
            req.database.location(),
            records.len(),
            records.iter().map(|r| r.version).max().unwrap_or_default()
        )));
    }
    let mut done = Done::default();
    for m in dir.migrations.iter().filter(|m| m.version <= version) {
        if let Err(e) = engine.write_record(&record(m, State::Finished, 0, true)) {
            engine.rollback();
            return Err(SchemaError::Failed(e));
        }
        done.lines
            .push(format!("baseline {} {} (not run)", m.version, m.name));
    }
    engine.commit().map_err(SchemaError::Failed)?;
    done.version = Some(version);
    Ok(done)
}

/// What `repair` does with records of no-transaction migrations that did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unfinished {
    /// Forget the record: `up` runs the migration again.
    Rerun,
    /// Record it as finished (it was completed by hand).
    Applied,
}

/// Re-stamps the checksums of applied migrations whose files changed on purpose; with
/// `unfinished`, settles the records of migrations that did not finish.
pub fn repair(
    req: &Request,
    unfinished_as: Option<Unfinished>,
    progress: &dyn Progress,
) -> Result<Done, SchemaError> {
    let dir = super::file::read_dir(&req.dir)?;
    if dir.has_errors() {
        return Err(lint_refusal(&dir, "repair"));
    }
    let mut engine = open(req, true, progress)?;
    engine.ensure_records().map_err(SchemaError::Failed)?;
    engine.begin().map_err(SchemaError::Failed)?;
    let result = restamp(engine.as_mut(), &dir, unfinished_as);
    match result {
        Ok(mut done) => {
            engine.commit().map_err(SchemaError::Failed)?;
            done.version = newest(&applied(engine.as_mut())?);
            Ok(done)
        }
        Err(e) => {
            engine.rollback();
            Err(e)
        }
    }
}

fn restamp(
    engine: &mut dyn Engine,
    dir: &super::file::Directory,
    unfinished_as: Option<Unfinished>,
) -> Result<Done, SchemaError> {
    let mut done = Done::default();
    let records = applied(engine)?;
    for r in records {
        let file = dir.find(r.version);
        match (r.state, unfinished_as, file) {
            (State::Started, None, _) => {
                let path = file
                    .map(|m| m.path.display().to_string())
                    .unwrap_or_default();
                return Err(unfinished(r.version, &r.name, &path));
            }
            (State::Started, Some(Unfinished::Rerun), _) => {
                engine
                    .delete_record(r.version)
                    .map_err(SchemaError::Failed)?;
                done.lines.push(format!(
                    "forgot unfinished {} {}: `schema up` runs it again",
                    r.version, r.name
                ));
            }
            (State::Started, Some(Unfinished::Applied), Some(m)) => {
                let fixed = Record {
                    state: State::Finished,
                    checksum: m.checksum.clone(),
                    ..r.clone()
                };
                engine.write_record(&fixed).map_err(SchemaError::Failed)?;
                done.lines
                    .push(format!("recorded {} {} as applied", r.version, r.name));
            }
            (State::Started, Some(Unfinished::Applied), None) => {
                return Err(SchemaError::Refused(format!(
                    "migration {} ({}) did not finish and no file has its version: put the file \
                     back to record it as applied",
                    r.version, r.name
                )));
            }
            (State::Finished, _, Some(m)) if m.checksum != r.checksum => {
                let fixed = Record {
                    checksum: m.checksum.clone(),
                    name: m.name.clone(),
                    ..r.clone()
                };
                engine.write_record(&fixed).map_err(SchemaError::Failed)?;
                done.lines.push(format!(
                    "re-stamped {} {}: checksum {} (was {})",
                    r.version,
                    m.name,
                    &m.checksum[..12],
                    r.checksum.get(..12).unwrap_or(&r.checksum)
                ));
            }
            _ => {}
        }
    }
    if done.lines.is_empty() {
        done.lines
            .push("nothing to repair: every applied migration matches its file".into());
    }
    Ok(done)
}
