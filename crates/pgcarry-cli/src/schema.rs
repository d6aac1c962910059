//! `pgcarry schema`: its flags (defined once, in `DbArgs`, for every subcommand that opens a
//! database) and the thin calls into the library's `migrations`.

use crate::commands::duration_flag;
use crate::progress::Terminal;
use clap::{Args, Subcommand, ValueEnum};
use pgcarry::{
    ExitStatus, RunError, SchemaDatabase, SchemaDone, SchemaError, SchemaRequest, UpOptions,
};
use std::path::PathBuf;

#[derive(Args)]
pub struct SchemaArgs {
    #[command(subcommand)]
    pub action: SchemaAction,
}

#[derive(Subcommand)]
pub enum SchemaAction {
    /// Write migrations/VERSION_NAME.sql (VERSION: now, UTC, YYYYMMDDHHMMSS) with empty up
    /// and down sections.
    #[command(after_help = "Examples:\n  \
        pgcarry schema new add_search\n  \
        pgcarry schema new initial --dir db/migrations\n\n\
        Exit codes: 0 written; 1 could not write; 2 a name that is not letters, digits and _.")]
    New(NewArgs),
    /// Each migration applied, pending, modified, missing, unfinished or out of order; files
    /// that do not parse; a database with tables that needs a baseline. Writes nothing.
    #[command(after_help = "Examples:\n  \
        pgcarry schema status --db sqlite:dev.db\n  \
        pgcarry schema status --db \"$DATABASE_URL\" --json\n\n\
        Exit codes: 0 nothing needs a person (pending migrations are fine); 3 a migration is\n\
        modified, missing, unfinished or out of order, a file does not parse, or the database\n\
        has tables but records no migration (it needs `schema baseline`); 1 could not read;\n\
        2 usage error.")]
    Status(StatusArgs),
    /// Apply the pending migrations in version order, each in its own transaction (unless
    /// the file says -- pgcarry:no-transaction), under a lock: two processes starting at once
    /// apply each migration once.
    #[command(after_help = "Examples:\n  \
        pgcarry schema up --db sqlite:dev.db\n  \
        pgcarry schema up --db \"$DATABASE_URL\" --wait 60s     # a container's entrypoint\n  \
        pgcarry schema up --db sqlite:///dev.db --dry-run      # print the SQL, change nothing\n\n\
        Refused (exit 1, nothing run): files that do not parse, an applied migration whose file\n\
        was modified since, an unfinished no-transaction migration, a pending migration older\n\
        than the newest applied (unless --allow-out-of-order), a database with tables but no\n\
        record (run `schema baseline VERSION`). A failing migration is rolled back and named\n\
        with its file and line; the ones before it stay applied.\n\n\
        Exit codes: 0 applied (or nothing to apply); 1 refused or failed; 2 usage error.")]
    Up(UpArgs),
    /// Revert the newest applied migrations (their `-- pgcarry:down` sections), newest first.
    #[command(after_help = "Examples:\n  \
        pgcarry schema down --db \"$DATABASE_URL\"\n  \
        pgcarry schema down --db sqlite:dev.db --steps 3 --dry-run\n\n\
        Exit codes: 0 reverted; 1 refused (no down section, a missing or modified file) or failed;\n\
        2 usage error.")]
    Down(DownArgs),
    /// Record every migration up to VERSION as applied without running it: for a database
    /// whose schema already exists (made by `pgcarry migrate`, or by the application).
    #[command(after_help = "Examples:\n  \
        pgcarry migrate data/app.db --to \"$DATABASE_URL\"\n  \
        pgcarry schema baseline 20261201000000 --db \"$DATABASE_URL\"\n  \
        pgcarry schema baseline 20261201000000 --db sqlite:data/app.db\n\n\
        Exit codes: 0 recorded; 1 the database already records migrations; 2 no migration has\n\
        that version.")]
    Baseline(BaselineArgs),
    /// Record the files as they are now: re-stamp the checksums of applied migrations that
    /// were changed on purpose; with --unfinished, settle a no-transaction migration that did
    /// not finish.
    #[command(after_help = "Examples:\n  \
        pgcarry schema repair --db \"$DATABASE_URL\"\n  \
        pgcarry schema repair --db sqlite:dev.db --unfinished rerun     # `up` runs it again\n  \
        pgcarry schema repair --db sqlite:dev.db --unfinished applied   # completed by hand\n\n\
        Exit codes: 0 repaired (or nothing to repair); 1 refused or failed; 2 usage error.")]
    Repair(RepairArgs),
}

/// The database and the directory: one definition for every subcommand that opens a database.
#[derive(Args, Clone)]
pub struct DbArgs {
    /// The database: a PostgreSQL URL or key=value string, `sqlite:PATH`, SQLAlchemy's
    /// `sqlite:///relative/path` or `sqlite:////absolute/path` (`sqlite+aiosqlite:` too), or
    /// the path of a SQLite file. Else DATABASE_URL (environment, then ./.env; a sqlite: URL
    /// there too), else the libpq variables, as for `migrate --to`.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// The migrations directory.
    #[arg(long, default_value = "migrations", value_name = "DIR")]
    pub dir: PathBuf,
    /// How long to wait for another process that migrates the same database (PostgreSQL: the
    /// advisory lock, whose holder is named; SQLite: the busy timeout).
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub lock_wait: String,
    /// PostgreSQL: first wait up to DURATION for the server to accept a query, as `pgcarry
    /// wait` does (for container entrypoints).
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<String>,
}

#[derive(Args)]
pub struct NewArgs {
    /// The migration's name: letters, digits and _ (e.g. add_search).
    pub name: String,
    /// The migrations directory (created if missing).
    #[arg(long, default_value = "migrations", value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Print the status as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Print the SQL each pending migration would run on this database; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply pending migrations older than the newest applied one (merged from a branch).
    #[arg(long)]
    pub allow_out_of_order: bool,
    /// Apply the migrations although the database holds tables and records none (instead
    /// of `schema baseline`).
    #[arg(long)]
    pub allow_existing_tables: bool,
}

#[derive(Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// How many migrations to revert, newest first.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub steps: usize,
    /// Print the SQL that would run; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args)]
pub struct BaselineArgs {
    /// The version of the migration whose schema the database has (it and every older one
    /// are recorded).
    pub version: i64,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Args)]
pub struct RepairArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// A no-transaction migration that did not finish: `rerun` forgets its record (undo what
    /// it did first), `applied` records it as finished (complete it by hand first).
    #[arg(long, value_enum, value_name = "WHAT")]
    pub unfinished: Option<UnfinishedArg>,
}

#[derive(Copy, Clone, ValueEnum)]
pub enum UnfinishedArg {
    Rerun,
    Applied,
}

pub fn run(args: SchemaArgs) -> anyhow::Result<ExitStatus> {
    match args.action {
        SchemaAction::New(a) => {
            let path =
                pgcarry::new_migration(&a.dir, &a.name, pgcarry::Timestamp::now()).map_err(fail)?;
            println!("{}", path.display());
            Ok(ExitStatus::Success)
        }
        SchemaAction::Status(a) => {
            let req = request(&a.db)?;
            let progress = Terminal::new(a.json);
            let status = pgcarry::schema_status(&req, &progress).map_err(fail)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print!("{}", status.render());
            }
            Ok(status.exit_status())
        }
        SchemaAction::Up(a) => {
            let req = request(&a.db)?;
            let options = UpOptions {
                allow_out_of_order: a.allow_out_of_order,
                allow_existing_tables: a.allow_existing_tables,
                dry_run: a.dry_run,
            };
            let done = pgcarry::schema_up(&req, options, &Terminal::new(false)).map_err(fail)?;
            Ok(show(&done, a.dry_run, "nothing to apply"))
        }
        SchemaAction::Down(a) => {
            let req = request(&a.db)?;
            let done = pgcarry::schema_down(&req, a.steps, a.dry_run, &Terminal::new(false))
                .map_err(fail)?;
            Ok(show(&done, a.dry_run, "nothing to revert"))
        }
        SchemaAction::Baseline(a) => {
            let req = request(&a.db)?;
            let done =
                pgcarry::schema_baseline(&req, a.version, &Terminal::new(false)).map_err(fail)?;
            Ok(show(&done, false, "nothing recorded"))
        }
        SchemaAction::Repair(a) => {
            let req = request(&a.db)?;
            let unfinished = a.unfinished.map(|u| match u {
                UnfinishedArg::Rerun => pgcarry::Unfinished::Rerun,
                UnfinishedArg::Applied => pgcarry::Unfinished::Applied,
            });
            let done =
                pgcarry::schema_repair(&req, unfinished, &Terminal::new(false)).map_err(fail)?;
            Ok(show(&done, false, "nothing to repair"))
        }
    }
}

/// The database, the directory and the lock wait, checked; waits for the server if asked.
fn request(a: &DbArgs) -> Result<SchemaRequest, RunError> {
    let lock_wait = duration_flag("--lock-wait", Some(&a.lock_wait))?;
    let database = SchemaDatabase::resolve(a.db.as_deref()).map_err(RunError::Usage)?;
    eprintln!("database: {}", database.location());
    if let SchemaDatabase::Postgres(settings) = &database {
        for warning in settings.warnings() {
            eprintln!("warning: {warning}");
        }
    }
    match (&a.wait, &database) {
        (Some(text), SchemaDatabase::Postgres(settings)) => {
            let timeout = duration_flag("--wait", Some(text))?;
            let mut tell = |n: u32, error: &str, delay: std::time::Duration| {
                eprintln!("attempt {n}: {error}; next in {:.1} s", delay.as_secs_f64());
            };
            pgcarry::wait(settings, timeout, &mut tell)
                .map_err(|e| RunError::Other(e.to_string()))?;
        }
        (Some(_), SchemaDatabase::Sqlite(_)) => {
            eprintln!("note: --wait is for a PostgreSQL server; a SQLite file needs no waiting");
        }
        _ => {}
    }
    Ok(SchemaRequest {
        database,
        dir: a.dir.clone(),
        lock_wait,
    })
}

/// A schema error as the command line reports it (exit 2 for usage, else 1).
fn fail(e: SchemaError) -> RunError {
    match e {
        SchemaError::Usage(m) => RunError::Usage(m),
        SchemaError::Lock(l) => RunError::Lock(l),
        other => RunError::Other(other.to_string()),
    }
}

/// Prints what was done (or the dry run's SQL) and the version the database is at.
fn show(done: &SchemaDone, dry_run: bool, nothing: &str) -> ExitStatus {
    let at = done.version.map_or(
        "the database records no applied migration".to_string(),
        |v| format!("the database is at version {v}"),
    );
    if dry_run {
        print!("{}", done.sql);
        eprintln!("dry run: nothing was changed; {at}");
        return ExitStatus::Success;
    }
    for line in &done.lines {
        println!("{line}");
    }
    if done.lines.is_empty() {
        println!("{nothing}: {at}");
    } else {
        println!("{at}");
    }
    ExitStatus::Success
}
