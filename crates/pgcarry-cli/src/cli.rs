//! The command line: every command and flag, defined once, with its help text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "pgcarry",
    version = crate::package::VERSION,
    about = "Carry an application's data into PostgreSQL, and prove that nothing was lost",
    after_help = "Examples:\n  \
        pgcarry plan data/app.db\n  \
        pgcarry rehearse data/app.db\n  \
        pgcarry migrate data/app.db --to postgresql://app@db.internal/app --report migration.json\n  \
        pgcarry rehearse --sample\n\n\
        Exit codes: 0 migrated and verified; 1 failed; 2 usage or configuration error;\n\
        3 finished, but rows were rejected or something differs (the report says which)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Show what a migration would do: tables, every type decision and why, keys, indexes,
    /// warnings and rows that would be rejected. Writes nothing.
    #[command(
        after_help = "Examples:\n  pgcarry plan data/app.db\n  pgcarry plan data/app.db --sql\n  \
                      pgcarry plan --from \"$DATABASE_URL\" --to-sqlite dev.db   # an export's plan"
    )]
    Plan(PlanArgs),
    /// Migrate a source into PostgreSQL: create tables, load with binary COPY, build keys,
    /// indexes and foreign keys, set sequences, check the result.
    #[command(after_help = "Examples:\n  \
        pgcarry migrate data/app.db --to postgresql://app@localhost/app\n  \
        DATABASE_URL=postgresql://app@localhost/app pgcarry migrate data/app.db --schema legacy\n  \
        pgcarry migrate data/app.db --to \"$DATABASE_URL\" --if-exists drop --report migration.json\n  \
        pgcarry migrate data/app.db --to \"$DATABASE_URL\" --orphans reject --strip-nul\n  \
        pgcarry migrate data/ --to \"$DATABASE_URL\" --backup data-before.tar.gz   # a JSON store\n  \
        pgcarry migrate data/app.db --to \"$DATABASE_URL\" --lock-wait 10m   # another run may be going\n\n\
        The target comes from --to, else DATABASE_URL (also from a .env file in the current\n\
        directory), else the libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE,\n\
        PGSSLMODE; it is printed (`target: user@host:port/database, schema NAME`) before\n\
        anything is written. Passwords are never printed. One run at a time migrates into a\n\
        database's schema: another one is refused (exit 1), or waits with --lock-wait. The\n\
        password may also come from ~/.pgpass (PGPASSFILE) and the connection from a service\n\
        in pg_service.conf (PGSERVICE), as libpq reads them.\n\n\
        Exit codes: 0 migrated and verified; 3 finished, but rows were rejected or something\n\
        differs (the report says which); 1 failed (run the same command again to resume);\n\
        2 usage or configuration error (nothing written).")]
    Migrate(MigrateArgs),
    /// The whole migration into a throw-away local PostgreSQL, report printed, cluster removed.
    /// Needs only PostgreSQL's server binaries (initdb, pg_ctl).
    #[command(after_help = "Examples:\n  \
        pgcarry rehearse data/app.db\n  \
        pgcarry rehearse --sample\n  \
        pgcarry rehearse --sample --sample-scale 20   # about 527 MB, 500,000 rows\n  \
        pgcarry rehearse data/app.db --keep           # leave the server running to look around")]
    Rehearse(RehearseArgs),
    /// Verify an existing migration against its source: every row's content checksum on both
    /// sides, row counts, keys, indexes, NOT NULL, foreign keys and sequences. Writes nothing.
    #[command(after_help = "Examples:\n  \
        pgcarry verify data/app.db --to \"$DATABASE_URL\"\n  \
        pgcarry verify data/app.db --to postgresql://app@localhost/app --schema legacy --report v.json\n\n\
        Exit codes: 0 identical; 3 something differs (the tables, keys and columns are listed);\n\
        1 the check itself failed; 2 usage error.",
        mut_arg("schema", |a| a.help("PostgreSQL schema holding the migrated tables")),
        mut_arg("jobs", |a| a.help("Tables compared at once (default: the number of cores)")),
        mut_arg("chunk_rows", |a| a.hide(true))
    )]
    Verify(VerifyArgs),
    /// The way back: a PostgreSQL schema into a new SQLite file, from one snapshot, every table
    /// compared with PostgreSQL before the file is put in place.
    #[command(after_help = "Examples:\n  \
        pgcarry export --from \"$DATABASE_URL\" rollback.db\n  \
        pgcarry export --from postgresql://app@localhost/app --schema app --tables users,orders dev.db\n  \
        pgcarry export --from \"$DATABASE_URL\" dev.db --force --report export.json\n  \
        pgcarry plan --from \"$DATABASE_URL\" --to-sqlite dev.db   # the plan alone\n  \
        pgcarry export --from \"$DATABASE_URL\" --to-json store/   # a JSON store pgcarry migrated\n\n\
        The file is built as OUT.partial and renamed to OUT only once every table's rows and\n\
        content checksum match PostgreSQL's snapshot and SQLite's integrity_check and\n\
        foreign_key_check pass. An existing OUT is replaced only with --force. Tables that\n\
        pgcarry migrated come back as their SQLite source had them (its CREATE statements,\n\
        triggers, FTS tables and views, each value in the form it was written).\n\n\
        --to-json DIR writes a JSON store that pgcarry migrated back as files: the store's\n\
        tables are exported and proven as above, each document is reassembled from them and\n\
        written at its path (one file per document, or its array, NDJSON or dump file), and\n\
        every leaf value of every written document is compared with the rows before\n\
        DIR.partial is renamed to DIR.\n\n\
        Exit codes: 0 exported and verified; 3 the file differs (it stays as OUT.partial);\n\
        1 the export failed; 2 usage error (nothing written).")]
    Export(ExportArgs),
    /// Back up a database: the installed pg_dump -Fc from an exported snapshot, with a
    /// manifest computed from the same snapshot (rows and content checksum per table,
    /// sequences, extensions, versions, the dump's SHA-256); then retention. Also
    /// `backup verify FILE` and `backup list DIR`.
    #[command(
        args_conflicts_with_subcommands = true,
        subcommand_negates_reqs = true,
        after_help = "Examples:\n  \
        pgcarry backup --from \"$DATABASE_URL\" --dir backups/ --keep-days 30 --keep 7\n  \
        pgcarry backup list backups/\n  \
        pgcarry backup verify backups/app-20261204T030000Z.dump\n  \
        pgcarry backup verify backups/app-20261204T030000Z.dump --scratch postgresql://localhost/scratch\n  \
        pgcarry backup keygen --out backup-key.txt       # prints the public key (age1…)\n  \
        pgcarry backup --from \"$DATABASE_URL\" --dir backups/ --encrypt-to age1…\n  \
        pgcarry backup verify backups/app-20261204T030000Z.dump.age --identity backup-key.txt\n\n\
        Writes DIR/NAME.dump and DIR/NAME.manifest.json (NAME = DATABASE-YYYYMMDDTHHMMSSZ), each\n\
        as a .partial file made durable and renamed, the manifest last: a dump without its\n\
        manifest is not a backup. One backup into a directory at a time (DIR/.pgcarry-backup.lock).\n\
        Retention runs only after the new backup is in place, and touches only backups with a\n\
        pgcarry manifest; --keep N is a floor no age removes. With --encrypt-to the dump is\n\
        NAME.dump.age (age format), encrypted as pg_dump writes it; the manifest stays plain JSON\n\
        (it holds checksums and names, no data) and records the recipients' public keys.\n\n\
        Exit codes: 0 done (verify: identical); 3 verify found tables that differ (named);\n\
        1 failed (nothing that looks like a backup is left); 2 usage error."
    )]
    Backup(BackupArgs),
    /// Restore a pgcarry backup into a database with pg_restore, set its sequences as
    /// recorded, and verify every table against the backup's manifest.
    #[command(after_help = "Examples:\n  \
        pgcarry restore backups/app-20261204T030000Z.dump --to postgresql://app@localhost/app_restored\n  \
        pgcarry restore backups/app-20261204T030000Z.dump --to \"$DATABASE_URL\" --clean --jobs 4\n  \
        pgcarry restore backups/app-20261204T030000Z.dump.age --identity backup-key.txt --to \"$DATABASE_URL\"\n\n\
        A target that holds tables is refused (exit 2) unless --clean (pg_restore --clean\n\
        --if-exists: drops the objects of the backup's names first). An encrypted dump (.dump.age)\n\
        needs --identity FILE or PGCARRY_AGE_IDENTITY; it is decrypted into pg_restore's stdin,\n\
        so pg_restore runs with one job.\n\n\
        Exit codes: 0 restored and identical to the manifest; 3 restored, but tables differ\n\
        (named); 1 failed (an age identity that does not match: nothing restored); 2 usage error\n\
        (an encrypted dump without --identity).")]
    Restore(RestoreArgs),
    /// Block until the server accepts a real query, with exponential backoff and jitter; for
    /// container entrypoints and deploy scripts. Exits non-zero with the last error at the
    /// timeout.
    #[command(after_help = "Examples:\n  \
        pgcarry wait \"$DATABASE_URL\" --timeout 60s && exec ./app\n  \
        pgcarry wait --timeout 2m          # DATABASE_URL, .env or PGHOST/PGPORT/...")]
    Wait(WaitArgs),
    /// Health and post-migration checks: sequences behind their keys, keys running out of
    /// range, missing and broken indexes and constraints, maintenance, sessions, security;
    /// each finding with what to run or change. Read-only unless --fix --apply.
    #[command(after_help = crate::doctor::AFTER_HELP)]
    Doctor(crate::doctor::DoctorArgs),
    /// Shell completions, generated from the same definitions as the help.
    #[command(after_help = "Examples:\n  \
        pgcarry completions bash > ~/.local/share/bash-completion/completions/pgcarry\n  \
        pgcarry completions zsh > \"${fpath[1]}/_pgcarry\"\n  \
        pgcarry completions fish > ~/.config/fish/completions/pgcarry.fish")]
    Completions(crate::package::CompletionsArgs),
    /// The manual pages (roff), generated from the same definitions as the help.
    #[command(after_help = "Examples:\n  \
        pgcarry man | man -l -\n  \
        pgcarry man --out /usr/local/share/man/man1   # pgcarry.1 and pgcarry-COMMAND.1")]
    Man(crate::package::ManArgs),
    /// Write the built-in sample application database (an IELTS practice bot's SQLite file,
    /// as SQLAlchemy writes it) — the demo and the benchmark workload.
    #[command(
        after_help = "Examples:\n  pgcarry sample app.db\n  pgcarry sample big.db --scale 20"
    )]
    Sample(SampleArgs),
    /// Versioned SQL migrations for SQLite and PostgreSQL alike: one directory of
    /// VERSION_name.sql files (up/down sections, dialect blocks), recorded with checksums,
    /// applied under a lock. Subcommands: new, status, up, down, baseline, repair.
    #[command(after_help = "Examples:\n  \
        pgcarry schema new add_search\n  \
        pgcarry schema status --db sqlite:dev.db\n  \
        pgcarry schema up --db \"$DATABASE_URL\" --wait 60s\n  \
        pgcarry schema up --db sqlite:dev.db --dry-run\n  \
        pgcarry schema down --db \"$DATABASE_URL\" --steps 1\n  \
        pgcarry schema baseline 20261201000000 --db \"$DATABASE_URL\"\n\n\
        Exit codes: 0 done; 1 refused or failed; 2 usage error; 3 `status` found something that\n\
        needs a person (modified, missing, unfinished, out of order, files that do not parse,\n\
        tables without a baseline).")]
    Schema(crate::schema::SchemaArgs),
}

#[derive(Args)]
pub struct SourceArgs {
    /// A SQLite file (recognised by its header), a JSON store (a directory of JSON files, an
    /// NDJSON, array or dump file), or `sqlite:PATH` / `json:PATH` to say which.
    pub source: String,
}

/// The PostgreSQL a command writes to or reads from: one flag, one set of fallbacks, for every
/// command that connects.
#[derive(Args, Clone)]
pub struct TargetArgs {
    /// The PostgreSQL: a postgresql:// URL (SQLAlchemy's postgresql+asyncpg://,
    /// +psycopg2://, +psycopg:// too: the driver part is dropped) or a libpq key=value string;
    /// else DATABASE_URL (also from ./.env), else POSTGRES_HOST/_PORT/_DB/_USER/_PASSWORD/
    /// _SSL_MODE, else the service file and PG* variables (see --help).
    #[arg(long, value_name = "URL", long_help = TARGET_LONG_HELP)]
    pub to: Option<String>,
}

/// `--to --help`: the whole order in which the target's settings are looked for.
const TARGET_LONG_HELP: &str = "\
The PostgreSQL to write to: a postgresql:// or postgres:// URL, a SQLAlchemy URL
(postgresql+asyncpg://, postgresql+psycopg2://, postgresql+psycopg://, postgres+DRIVER://:
the driver part is dropped), or a libpq key=value string. Each setting is taken from the
first of these that gives it:
  1. --to
  2. DATABASE_URL from the environment, then from ./.env
  3. POSTGRES_HOST, POSTGRES_PORT, POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD,
     POSTGRES_SSL_MODE (the Docker image's variables), environment then ./.env
  4. the service named by service= or PGSERVICE (pg_service.conf)
  5. PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT,
     PGSSLCERT, PGSSLKEY, PGCONNECT_TIMEOUT, PGAPPNAME, PGOPTIONS
  6. passfile / PGPASSFILE / ~/.pgpass (ignored with a warning if others may read it),
     then libpq's defaults; connect_timeout is 10 s when not given.
A URL (steps 1-2) is completed from steps 4-6, not from step 3.";

#[derive(Args, Clone)]
pub struct CommonArgs {
    /// PostgreSQL schema to create the tables in; not `pgcarry` (pgcarry's own state), nor
    /// PostgreSQL's `pg_*` and `information_schema`.
    #[arg(long, default_value = "public", value_name = "NAME")]
    pub schema: String,
    /// Tables read, loaded and indexed at once (default: the number of cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Rows whose foreign key points at no parent row (SQLite never checked them):
    /// skip-constraint loads every row and leaves that foreign key out (reported, exit 3);
    /// fail refuses before writing anything; reject sends each such row to the rejects file
    /// (exit 3) and creates the foreign key; null sets its referencing columns to NULL
    /// (counted in the report; rows whose column is NOT NULL are rejected) and creates the
    /// foreign key. Give `verify` the same choice.
    #[arg(long, value_enum, default_value_t = OrphansArg::SkipConstraint)]
    pub orphans: OrphansArg,
    /// Tables with more rows than this load in key ranges of about this many rows, each
    /// committed on its own, so an interrupted run resumes after the last range (0: never).
    #[arg(long, value_name = "N", default_value_t = 250_000)]
    pub chunk_rows: u64,
    /// Overrides of the plan in TOML: per table `name`, `skip`; per column `type`, `name`
    /// (see the README).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Remove NUL bytes from text PostgreSQL cannot hold otherwise (every other byte kept);
    /// the report counts the values changed. Without it, such rows go to the rejects file.
    #[arg(long)]
    pub strip_nul: bool,
    /// Replace each invalid UTF-8 sequence in text with U+FFFD; the report counts the values
    /// changed. Without it, such rows go to the rejects file.
    #[arg(long)]
    pub replace_invalid_utf8: bool,
    /// JSON stores: follow every symbolic link, to files and directories, also out of the
    /// store. Without it only links to files inside the store are read; a link leaving the
    /// store is reported as not loaded (its target is never read).
    #[arg(long)]
    pub follow_symlinks: bool,
}

impl CommonArgs {
    pub fn repair(&self) -> pgcarry::Repair {
        pgcarry::Repair {
            strip_nul: self.strip_nul,
            replace_invalid_utf8: self.replace_invalid_utf8,
        }
    }
}

#[derive(Copy, Clone, ValueEnum)]
pub enum OrphansArg {
    SkipConstraint,
    Fail,
    Reject,
    Null,
}

impl OrphansArg {
    pub fn policy(self) -> pgcarry::OrphanPolicy {
        match self {
            OrphansArg::SkipConstraint => pgcarry::OrphanPolicy::SkipConstraint,
            OrphansArg::Fail => pgcarry::OrphanPolicy::Fail,
            OrphansArg::Reject => pgcarry::OrphanPolicy::Reject,
            OrphansArg::Null => pgcarry::OrphanPolicy::Null,
        }
    }
}

#[derive(Args, Clone)]
pub struct LoadArgs {
    /// What to do with tables that already exist in the target schema [default: fail; upsert
    /// for JSON stores, so that a store that grew can be migrated again].
    #[arg(long, value_enum)]
    pub if_exists: Option<IfExistsArg>,
    /// Where rows that cannot be represented exactly are written (NDJSON; created only when
    /// a row is rejected).
    #[arg(long, default_value = "pgcarry-rejects.ndjson", value_name = "FILE")]
    pub rejects: PathBuf,
    /// Also write the report as JSON: per table rows, checksums, time, bytes; every type
    /// decision and warning.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Skip the verification after the load (content checksums of both sides, keys,
    /// sequences); the report then says "not verified".
    #[arg(long)]
    pub no_verify: bool,
}

#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Also write the result as JSON (per table rows and checksums of both sides, differences).
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
}

#[derive(Args)]
pub struct ExportArgs {
    /// The PostgreSQL to read: a URL or key=value string, else DATABASE_URL (also from ./.env),
    /// else the libpq variables, as for `migrate --to`.
    #[arg(long, value_name = "URL")]
    pub from: Option<String>,
    /// The SQLite file to write (must not exist, unless --force).
    #[arg(value_name = "OUT.db", required_unless_present = "to_json")]
    pub out: Option<PathBuf>,
    /// Write the JSON store the schema was migrated from back as files, into this new
    /// directory: each document reassembled from its tables, at its original path.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "tables", "strict"])]
    pub to_json: Option<PathBuf>,
    /// The PostgreSQL schema to export.
    #[arg(long, default_value = "public", value_name = "NAME")]
    pub schema: String,
    /// Only these tables (comma-separated); foreign keys to tables left out are reported.
    #[arg(long, value_delimiter = ',', value_name = "T1,T2")]
    pub tables: Vec<String>,
    /// Replace OUT if it exists (only once the new file is verified).
    #[arg(long)]
    pub force: bool,
    /// Tables read from the snapshot (and proven) at once, each on its own connection
    /// (default: the number of cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Refuse columns of types SQLite has no equivalent for (their values would be text).
    #[arg(long)]
    pub strict: bool,
    /// Also write the result as JSON (the plan, per table rows and checksums of both sides).
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
}

#[derive(Args)]
pub struct PlanArgs {
    /// A SQLite file or JSON store to plan a migration of (not with --from).
    #[arg(required_unless_present = "from")]
    pub source: Option<String>,
    /// Plan an export instead: the PostgreSQL to read (with --to-sqlite).
    #[arg(
        long,
        value_name = "URL",
        requires = "to_sqlite",
        conflicts_with = "source"
    )]
    pub from: Option<String>,
    /// The SQLite file the export would write.
    #[arg(long, value_name = "OUT.db", requires = "from")]
    pub to_sqlite: Option<PathBuf>,
    /// With --from: only these tables (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "T1,T2", requires = "from")]
    pub tables: Vec<String>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Also print every SQL statement the migration would run.
    #[arg(long)]
    pub sql: bool,
    /// Print the plan as JSON instead.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Let --if-exists act on TABLE although pgcarry did not create it (repeat for each
    /// table). pgcarry never writes into, empties or drops a table it did not create; an
    /// adopted table is recorded as adopted and treated as pgcarry's from then on.
    #[arg(long, value_name = "TABLE")]
    pub adopt: Vec<String>,
    /// With --if-exists drop: also drop the objects pgcarry did not create that depend on the
    /// tables (views, other tables' foreign keys, triggers, policies, indexes, grants). Without
    /// it such a drop is refused with the list; with it each dropped object is named in the
    /// summary and the report.
    #[arg(long)]
    pub cascade: bool,
    /// When another pgcarry run is migrating into the same database and schema, wait up to
    /// DURATION (30s, 10m, 1h) for it to finish, saying every few seconds who holds the lock,
    /// instead of failing at once (exit 1, nothing written). Either way the run then waits for
    /// the sessions a killed run left behind (at most 10 minutes).
    #[arg(long, value_name = "DURATION")]
    pub lock_wait: Option<String>,
    /// Archive exactly what is migrated into FILE.tar.gz before anything is written: a SQLite
    /// file as a consistent copy of the snapshot read (WAL included), a JSON store as the files
    /// read from its tree. Never overwrites a file, never writes through a symbolic link.
    #[arg(long, value_name = "FILE.tar.gz")]
    pub backup: Option<std::path::PathBuf>,
}

#[derive(Args)]
pub struct RehearseArgs {
    /// A SQLite file, a JSON store, or `sqlite:PATH` / `json:PATH`. Not with --sample.
    #[arg(required_unless_present = "sample", conflicts_with = "sample")]
    pub source: Option<String>,
    /// Rehearse on the built-in sample application database instead.
    #[arg(long)]
    pub sample: bool,
    /// Size of the sample: 1 is about 26 MB (25,000 rows), 20 about 527 MB (500,000 rows).
    #[arg(long, default_value_t = 1, value_name = "N", requires = "sample")]
    pub sample_scale: u32,
    /// Leave the throw-away server running and print its URL.
    #[arg(long)]
    pub keep: bool,
    /// Start the throw-away server on this port (refused when it is taken), for example to
    /// reach a kept server from a fixed URL; default: a free port the kernel hands out.
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Args)]
pub struct WaitArgs {
    /// The server: a postgresql:// URL or key=value string (else DATABASE_URL, .env,
    /// POSTGRES_*, PG*: the order of `migrate --help`).
    pub url: Option<String>,
    /// How long to keep trying, a hard deadline for the whole command: 60s, 2m, 500ms. A
    /// refused password, user or pg_hba line, or a certificate that does not verify, ends it
    /// at once.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub timeout: String,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args)]
pub struct SampleArgs {
    /// The SQLite file to create (must not exist).
    pub out: PathBuf,
    /// 1 is about 26 MB (25,000 rows); 20 about 527 MB (500,000 rows).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub scale: u32,
    /// Seed of the generator; the same seed and scale give the same data (the default is the
    /// seed of the published benchmark figures).
    #[arg(long, value_name = "N", default_value_t = pgcarry::SAMPLE_SEED)]
    pub seed: u64,
}

#[derive(Copy, Clone, ValueEnum)]
pub enum IfExistsArg {
    /// Refuse and write nothing.
    Fail,
    /// Keep their definition (it must match), empty them and reload.
    Truncate,
    /// Drop and recreate them.
    Drop,
    /// Keep their definition (it must match) and their rows; insert the source's rows,
    /// replacing those with the same primary key.
    Upsert,
}

#[derive(Args)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub action: Option<BackupAction>,
    /// The PostgreSQL to back up: a URL or key=value string, else DATABASE_URL (also from
    /// ./.env), else the libpq variables, as for `migrate --to`.
    #[arg(long, value_name = "URL")]
    pub from: Option<String>,
    /// The directory of backups (created if missing).
    #[arg(long, value_name = "DIR", required = true)]
    pub dir: Option<PathBuf>,
    /// Only this schema (repeat for more); default: every user schema.
    #[arg(long, value_name = "NAME")]
    pub schema: Vec<String>,
    /// Connections computing the manifest's checksums while pg_dump runs.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 2)]
    pub jobs: usize,
    /// Keep at least the newest N complete backups, whatever their age.
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
    /// After the new backup succeeded, delete backups older than D days (never the newest
    /// --keep, default 1).
    #[arg(long, value_name = "D")]
    pub keep_days: Option<u64>,
    /// Also keep the newest backup of each of the last N days (UTC) that have one.
    #[arg(long, value_name = "N")]
    pub keep_daily: Option<usize>,
    /// Also keep the newest backup of each of the last N ISO weeks that have one.
    #[arg(long, value_name = "N")]
    pub keep_weekly: Option<usize>,
    /// Also keep the newest backup of each of the last N months that have one.
    #[arg(long, value_name = "N")]
    pub keep_monthly: Option<usize>,
    /// Take no backup: print what retention would delete now.
    #[arg(long)]
    pub dry_run: bool,
    /// When another backup into DIR is running, wait up to DURATION (30s, 10m) for it instead
    /// of failing at once (exit 1).
    #[arg(long, value_name = "DURATION")]
    pub lock_wait: Option<String>,
    /// Encrypt the dump with age to this public key (age1…), or to every key in this file
    /// (one a line, # comments); repeat for more. The dump is then NAME.dump.age; any one
    /// recipient's identity decrypts it.
    #[arg(long, value_name = "RECIPIENT")]
    pub encrypt_to: Vec<String>,
    /// pg_dump's --lock-wait-timeout: give up when a table lock is not granted in time.
    #[arg(long, value_name = "DURATION")]
    pub lock_wait_timeout: Option<String>,
    /// Use this pg_dump (default: the newest installed one, on PATH or under
    /// /usr/lib/postgresql/*/bin; its major version must be at least the server's).
    #[arg(long, value_name = "PATH")]
    pub pg_dump: Option<PathBuf>,
    /// Print the manifest as JSON (with --dry-run: {"would_delete": [dumps]}).
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum BackupAction {
    /// Check a backup: SHA-256 against its manifest, pg_restore --list, a full restore into a
    /// scratch database, every table's checksum compared with the manifest. Records
    /// "verified_at" in the manifest when identical.
    #[command(after_help = "Examples:\n  \
        pgcarry backup verify backups/app-20261204T030000Z.dump   # into a throw-away local server\n  \
        pgcarry backup verify backups/app-20261204T030000Z.dump --scratch postgresql://localhost/scratch\n  \
        pgcarry backup verify backups/app-20261204T030000Z.dump --scratch \"$RESTORED_URL\" --already-restored\n\n\
        Exit codes: 0 identical to the manifest; 3 tables differ (named); 1 failed (a dump that is\n\
        not the one its manifest describes, pg_restore errors, an age identity that does not match);\n\
        2 usage error (a scratch database that is the source, or not empty; an encrypted dump\n\
        without --identity).")]
    Verify(BackupVerifyArgs),
    /// The backups in a directory: time, size, server version, verified or not.
    #[command(
        after_help = "Examples:\n  pgcarry backup list backups/\n  pgcarry backup list backups/ --json"
    )]
    List(BackupListArgs),
    /// Write a new age identity (secret key) for encrypted backups, and print its public key
    /// for `backup --encrypt-to`. Keep the file away from the database server.
    #[command(after_help = "Examples:\n  \
        pgcarry backup keygen --out ~/keys/app-backup.txt    # on a machine that is not the server\n  \
        pgcarry backup keygen --out key.txt --json\n\n\
        The file is age-keygen's format (AGE-SECRET-KEY-1…, mode 0600) and is never overwritten;\n\
        age and rage read it too. Exit codes: 0 written; 1 failed; 2 the file exists.")]
    Keygen(BackupKeygenArgs),
}

#[derive(Args)]
pub struct BackupKeygenArgs {
    /// The identity file to create (mode 0600; an existing file is refused).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Print {"identity": FILE, "public_key": "age1…"} instead of the bare public key.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct BackupVerifyArgs {
    /// The backup's dump (NAME.dump or NAME.dump.age, its manifest beside it).
    #[arg(value_name = "FILE.dump")]
    pub file: PathBuf,
    /// Restore into this empty database instead of a throw-away local PostgreSQL (refused
    /// when it is the backup's source).
    #[arg(long, value_name = "URL")]
    pub scratch: Option<String>,
    /// The --scratch database already holds this backup restored: only compare it with the
    /// manifest (nothing is recorded in the manifest).
    #[arg(long, requires = "scratch")]
    pub already_restored: bool,
    #[command(flatten)]
    pub restore: RestoreToolArgs,
}

#[derive(Args)]
pub struct BackupListArgs {
    /// The directory of backups.
    pub dir: PathBuf,
    /// Print the list as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The backup's dump (NAME.dump or NAME.dump.age, its manifest beside it).
    #[arg(value_name = "FILE.dump")]
    pub file: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Restore into a database that holds tables: drop the backup's objects first.
    #[arg(long)]
    pub clean: bool,
    #[command(flatten)]
    pub restore: RestoreToolArgs,
}

/// What `backup verify` and `restore` share: pg_restore, its jobs, the output.
#[derive(Args)]
pub struct RestoreToolArgs {
    /// pg_restore's parallel jobs (restore), and connections computing checksums.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 2)]
    pub jobs: usize,
    /// Use this pg_restore (default: the newest installed one, which must read the dump's
    /// archive version).
    #[arg(long, value_name = "PATH")]
    pub pg_restore: Option<PathBuf>,
    /// The age identity file (AGE-SECRET-KEY-1… lines) that decrypts an encrypted dump
    /// (NAME.dump.age); ignored for a plain one.
    #[arg(long, value_name = "FILE", env = pgcarry::AGE_IDENTITY_ENV)]
    pub identity: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}
