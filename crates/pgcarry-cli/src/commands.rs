//! Each command: turn flags into library options, call the library, print the result.

use crate::cli::{
    BackupAction, BackupArgs, BackupKeygenArgs, BackupListArgs, BackupVerifyArgs, Cli, Command,
    CommonArgs, ExportArgs, IfExistsArg, LoadArgs, MigrateArgs, PlanArgs, RehearseArgs,
    RestoreArgs, SampleArgs, VerifyArgs, WaitArgs,
};
use crate::progress::Terminal;
use anyhow::Context;
use pgcarry::{
    ConnSettings, ExitStatus, IfExists, MigrateRequest, Prepared, Progress, Report, RunError,
};

pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Plan(a) => plan(a),
        Command::Migrate(a) => migrate(a),
        Command::Rehearse(a) => rehearse(a),
        Command::Sample(a) => sample(a),
        Command::Verify(a) => verify(a),
        Command::Export(a) => export(a),
        Command::Wait(a) => wait(a),
        Command::Backup(a) => match a.action {
            Some(BackupAction::Verify(v)) => backup_verify(v),
            Some(BackupAction::List(l)) => backup_list(&l),
            Some(BackupAction::Keygen(k)) => backup_keygen(&k),
            None => backup(a),
        },
        Command::Restore(a) => restore(a),
        Command::Doctor(a) => crate::doctor::run(a),
        Command::Completions(a) => {
            crate::package::completions(&a);
            Ok(ExitStatus::Success)
        }
        Command::Man(a) => crate::package::man(&a).map(|()| ExitStatus::Success),
        Command::Schema(a) => crate::schema::run(a),
    }
}

/// The options every command that reads a source shares; `--schema` is checked here, before
/// anything is read or written.
pub(crate) fn prepare_options(c: &CommonArgs) -> Result<pgcarry::PrepareOptions, RunError> {
    pgcarry::check_schema(&c.schema)?;
    Ok(pgcarry::PrepareOptions {
        schema: c.schema.clone(),
        jobs: jobs(c),
        orphans: c.orphans.policy(),
        config: c.config.clone(),
        repair: c.repair(),
        chunk_rows: c.chunk_rows,
        follow_symlinks: c.follow_symlinks,
    })
}

/// The source's header, then the rejects file and the report, proven writable before the
/// source is read in full.
fn check_outputs(source: &str, load: &LoadArgs) -> Result<(), RunError> {
    pgcarry::check_source(source)?;
    pgcarry::check_output(&load.rejects, "rejects file")?;
    if let Some(report) = &load.report {
        pgcarry::check_output(report, "report")?;
    }
    Ok(())
}

/// Writes a report serialised as JSON.
fn write_json(path: &std::path::Path, json: serde_json::Result<String>) -> anyhow::Result<()> {
    std::fs::write(path, json?)
        .with_context(|| format!("could not write the report {}", path.display()))
}

fn jobs(c: &CommonArgs) -> usize {
    c.jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1)
}

fn plan(a: PlanArgs) -> anyhow::Result<ExitStatus> {
    if let (Some(from), Some(out)) = (&a.from, &a.to_sqlite) {
        let source = resolve_target(Some(from))?;
        let request = pgcarry::ExportRequest {
            schema: a.common.schema.clone(),
            tables: a.tables.clone(),
            out: out.clone(),
            force: true,
            strict: false,
            jobs: 1,
            json_store: false,
        };
        let plan = pgcarry::plan_export(&source, &request).map_err(export_error)?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&plan)?);
        } else {
            print!("{}", pgcarry::render_export_plan(&plan));
        }
        return Ok(ExitStatus::Success);
    }
    let options = prepare_options(&a.common)?;
    let progress = Terminal::new(a.json);
    let source = a.source.as_deref().unwrap_or_default();
    let prepared = pgcarry::prepare(source, &options, &progress)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&prepared.plan)?);
    } else {
        print!("{}", pgcarry::render_plan(&prepared.plan, a.sql));
    }
    Ok(ExitStatus::Success)
}

/// The load options, as given (the library resolves the defaults).
fn request(common: &CommonArgs, load: &LoadArgs) -> MigrateRequest {
    MigrateRequest {
        jobs: jobs(common),
        if_exists: load.if_exists.map(|a| match a {
            IfExistsArg::Fail => IfExists::Fail,
            IfExistsArg::Truncate => IfExists::Truncate,
            IfExistsArg::Drop => IfExists::Drop,
            IfExistsArg::Upsert => IfExists::Upsert,
        }),
        rejects: load.rejects.clone(),
        verify: !load.no_verify,
        adopt: Vec::new(),
        cascade: false,
        lock_wait: std::time::Duration::ZERO,
    }
}

/// Prints the report, writes it as JSON when asked, and returns the exit code.
fn finish(report: &Report, load: &LoadArgs) -> anyhow::Result<ExitStatus> {
    print!("{}", report.render());
    if let Some(path) = &load.report {
        write_json(path, serde_json::to_string_pretty(report))?;
    }
    Ok(report.outcome().into())
}

/// The target's settings (a usage error if they are wrong), after showing libpq's warnings.
pub(crate) fn resolve_target(explicit: Option<&str>) -> Result<ConnSettings, RunError> {
    let target = ConnSettings::resolve(explicit).map_err(|e| RunError::Usage(e.to_string()))?;
    for warning in target.warnings() {
        eprintln!("warning: {warning}");
    }
    Ok(target)
}

fn migrate(a: MigrateArgs) -> anyhow::Result<ExitStatus> {
    let options = prepare_options(&a.common)?;
    let lock_wait = match &a.lock_wait {
        Some(text) => pgcarry::parse_duration(text)
            .map_err(|e| RunError::Usage(format!("--lock-wait: {e}")))?,
        None => std::time::Duration::ZERO,
    };
    let target = resolve_target(a.target.to.as_deref())?;
    let progress = Terminal::new(false);
    check_outputs(&a.source.source, &a.load)?;
    let backup = a
        .backup
        .as_deref()
        .map(|out| pgcarry::check_backup(&a.source.source, out))
        .transpose()?;
    let prepared = pgcarry::prepare(&a.source.source, &options, &progress)?;
    if let Some(dest) = &backup {
        // The target too is checked before the first write, the backup's included.
        pgcarry::check_target(&target)?;
        let bytes = pgcarry::backup(&prepared, dest)?;
        progress.message(&format!(
            "backup: {} written ({:.1} MB)",
            dest.path().display(),
            bytes as f64 / 1e6
        ));
    }
    let request = MigrateRequest {
        adopt: a.adopt.clone(),
        cascade: a.cascade,
        lock_wait,
        ..request(&a.common, &a.load)
    };
    let report = pgcarry::migrate(&prepared, &target, &request, &progress)?;
    finish(&report, &a.load)
}

fn verify(a: VerifyArgs) -> anyhow::Result<ExitStatus> {
    let options = prepare_options(&a.common)?;
    let target = resolve_target(a.target.to.as_deref())?;
    let progress = Terminal::new(false);
    pgcarry::check_source(&a.source.source)?;
    if let Some(report) = &a.report {
        pgcarry::check_output(report, "report")?;
    }
    let jobs = jobs(&a.common);
    let prepared = pgcarry::prepare(&a.source.source, &options, &progress)?;
    let report = pgcarry::verify(&prepared, &target, jobs, &progress)?;
    print!("{}", pgcarry::render_verification(&report));
    if let Some(path) = &a.report {
        write_json(path, serde_json::to_string_pretty(&report))?;
    }
    Ok(report.outcome().into())
}

fn rehearse(a: RehearseArgs) -> anyhow::Result<ExitStatus> {
    let options = prepare_options(&a.common)?;
    let progress = Terminal::new(false);
    let workdir = tempfile::tempdir().context("could not create a temporary directory")?;
    let source = match (&a.source, a.sample) {
        (_, true) => {
            progress.phase(&format!(
                "generate the sample database (scale {})",
                a.sample_scale
            ));
            let path = pgcarry::generate_sample(workdir.path(), a.sample_scale)?;
            path.display().to_string()
        }
        (Some(s), false) => s.clone(),
        (None, false) => return Err(RunError::Usage("give a SOURCE or --sample".into()).into()),
    };
    check_outputs(&source, &a.load)?;
    let prepared: Prepared = pgcarry::prepare(&source, &options, &progress)?;
    progress.phase("start a throw-away PostgreSQL");
    let cluster = pgcarry::start_cluster(a.port)?;
    let handle = cluster.cleanup_handle();
    let keep = a.keep;
    // Ctrl-C removes the throw-away server too (unless --keep).
    let _ = ctrlc::set_handler(move || {
        if !keep {
            let _ = handle.cleanup();
        }
        std::process::exit(130);
    });
    let target = ConnSettings::parse(&cluster.url()).map_err(|e| RunError::Other(e.to_string()))?;
    let result = pgcarry::migrate(&prepared, &target, &request(&a.common, &a.load), &progress);
    let code = match &result {
        Ok(report) => finish(report, &a.load),
        Err(_) => Ok(ExitStatus::Failure),
    };
    if a.keep {
        let kept = cluster.keep();
        println!("\nThe rehearsal server is still running: {}", kept.url);
        println!("Stop and remove it with: {}", kept.stop_command);
    } else {
        cluster.stop().map_err(RunError::from)?;
    }
    result?;
    code
}

fn sample(a: SampleArgs) -> anyhow::Result<ExitStatus> {
    let opts = pgcarry::SampleOptions {
        scale: a.scale,
        seed: a.seed,
    };
    let summary =
        pgcarry::write_sample(&a.out, &opts).map_err(|e| RunError::Other(e.to_string()))?;
    for (table, rows) in &summary.tables {
        println!("{table:12} {rows:>9} rows");
    }
    println!(
        "{}: {:.1} MB",
        summary.path.display(),
        summary.bytes as f64 / 1e6
    );
    Ok(ExitStatus::Success)
}

fn wait(a: WaitArgs) -> anyhow::Result<ExitStatus> {
    let timeout = pgcarry::parse_duration(&a.timeout).map_err(RunError::Usage)?;
    let target = resolve_target(a.url.as_deref())?;
    let quiet = a.quiet;
    let mut report = |n: u32, error: &str, delay: std::time::Duration| {
        if !quiet {
            eprintln!("attempt {n}: {error}; next in {:.1} s", delay.as_secs_f64());
        }
    };
    let ready = pgcarry::wait(&target, timeout, &mut report)?;
    if !a.quiet {
        eprintln!(
            "{} is ready after {} attempt(s), {:.1} s: {}",
            target.redacted(),
            ready.attempts,
            ready.elapsed.as_secs_f64(),
            ready.server_version
        );
    }
    Ok(ExitStatus::Success)
}

fn export(a: ExportArgs) -> anyhow::Result<ExitStatus> {
    let source = resolve_target(a.from.as_deref())?;
    if let Some(report) = &a.report {
        pgcarry::check_output(report, "report")?;
    }
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    eprintln!("source: {}, schema {}", source.location(), a.schema);
    let progress = Terminal::new(false);
    if let Some(dir) = a.to_json {
        let request = pgcarry::JsonExportRequest {
            schema: a.schema,
            dir,
            force: a.force,
            jobs,
        };
        let report = pgcarry::export_json(&source, &request, &progress).map_err(export_error)?;
        print!("{}", report.render());
        if let Some(path) = &a.report {
            write_json(path, serde_json::to_string_pretty(&report))?;
        }
        return Ok(report.outcome().into());
    }
    let request = pgcarry::ExportRequest {
        schema: a.schema,
        tables: a.tables,
        out: a.out.unwrap_or_default(),
        force: a.force,
        strict: a.strict,
        jobs,
        json_store: false,
    };
    let report = pgcarry::export(&source, &request, &progress).map_err(export_error)?;
    print!("{}", report.render());
    if let Some(path) = &a.report {
        write_json(path, serde_json::to_string_pretty(&report))?;
    }
    Ok(report.outcome().into())
}

/// An export that could not run: a usage error (exit 2) or a failure (exit 1).
fn export_error(e: pgcarry::ExportError) -> RunError {
    match e {
        pgcarry::ExportError::Usage(m) => RunError::Usage(m),
        pgcarry::ExportError::Failed(m) => RunError::Other(m),
    }
}

/// A backup command that could not run: a usage error (exit 2) or a failure (exit 1).
fn dump_error(e: pgcarry::DumpError) -> RunError {
    match e {
        pgcarry::DumpError::Usage(m) => RunError::Usage(m),
        pgcarry::DumpError::Failed(m) => RunError::Other(m),
    }
}

pub(crate) fn duration_flag(
    flag: &str,
    value: Option<&String>,
) -> Result<std::time::Duration, RunError> {
    value.map_or(Ok(std::time::Duration::ZERO), |text| {
        pgcarry::parse_duration(text).map_err(|e| RunError::Usage(format!("{flag}: {e}")))
    })
}

fn backup(a: BackupArgs) -> anyhow::Result<ExitStatus> {
    let dir = a.dir.clone().unwrap_or_default();
    let retention = pgcarry::Retention {
        keep: a.keep,
        keep_days: a.keep_days,
        keep_daily: a.keep_daily,
        keep_weekly: a.keep_weekly,
        keep_monthly: a.keep_monthly,
        dry_run: a.dry_run,
    };
    let progress = Terminal::new(a.json);
    if a.dry_run {
        let going = pgcarry::retention_plan(&dir, &retention, jiff_now()).map_err(dump_error)?;
        if a.json {
            let dumps: Vec<_> = going.iter().map(|b| &b.dump).collect();
            let value = serde_json::json!({ "dry_run": true, "would_delete": dumps });
            println!("{}", serde_json::to_string_pretty(&value)?);
            return Ok(ExitStatus::Success);
        }
        for b in &going {
            println!("would delete {}", b.dump.display());
        }
        println!(
            "{} backup(s) would be deleted; no backup taken (--dry-run)",
            going.len()
        );
        return Ok(ExitStatus::Success);
    }
    let request = pgcarry::BackupRequest {
        dir,
        schemas: a.schema.clone(),
        jobs: a.jobs.max(1),
        lock_wait: duration_flag("--lock-wait", a.lock_wait.as_ref())?,
        lock_wait_timeout: a.lock_wait_timeout.clone(),
        pg_dump: a.pg_dump.clone(),
        retention,
        encrypt_to: a.encrypt_to.clone(),
    };
    let source = resolve_target(a.from.as_deref())?;
    eprintln!("source: {}", source.location());
    let done = pgcarry::backup_database(&source, &request, &progress).map_err(dump_error)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&done.manifest)?);
        return Ok(ExitStatus::Success);
    }
    let m = &done.manifest;
    println!(
        "backup: {} ({:.1} MB, {} tables, {} rows, {} sequences) in {:.1} s",
        done.dump.display(),
        m.dump_bytes as f64 / 1e6,
        m.tables.len(),
        m.tables.iter().map(|t| t.rows).sum::<u64>(),
        m.sequences.len(),
        m.seconds
    );
    println!(
        "manifest: {} (SHA-256 {})",
        done.manifest_path.display(),
        m.dump_sha256
    );
    if let Some(e) = &m.encryption {
        println!("encrypted (age) to {}", e.recipients.join(", "));
    }
    Ok(ExitStatus::Success)
}

/// Now, for retention's dry run.
fn jiff_now() -> pgcarry::Timestamp {
    pgcarry::Timestamp::now()
}

/// Prints a restore's or a verification's result; 0 identical, 3 differences.
fn print_restored(
    report: &pgcarry::RestoreReport,
    json: bool,
    what: &str,
) -> anyhow::Result<ExitStatus> {
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    let status = if report.differences.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Differences
    };
    if json {
        let value = serde_json::json!({
            "backup": report.manifest.name,
            "identical": report.differences.is_empty(),
            "differences": report.differences,
            "tables": report.manifest.tables.len(),
            "rows": report.rows,
            "verified_at": report.manifest.verified_at,
            "warnings": report.warnings,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(status);
    }
    for d in &report.differences {
        println!("differs: {d}");
    }
    if report.differences.is_empty() {
        println!(
            "{what}: {} tables, {} rows identical to the manifest of {}",
            report.manifest.tables.len(),
            report.rows,
            report.manifest.name
        );
    } else {
        println!(
            "{what}: {} table(s) differ from the manifest",
            report.differences.len()
        );
    }
    Ok(status)
}

fn backup_verify(a: BackupVerifyArgs) -> anyhow::Result<ExitStatus> {
    let scratch = a
        .scratch
        .as_deref()
        .map(|u| ConnSettings::parse(u).map_err(|e| RunError::Usage(e.to_string())))
        .transpose()?;
    let request = pgcarry::VerifyRequest {
        dump: a.file,
        scratch,
        already_restored: a.already_restored,
        jobs: a.restore.jobs.max(1),
        pg_restore: a.restore.pg_restore,
        identity: a.restore.identity,
    };
    let progress = Terminal::new(a.restore.json);
    let report = pgcarry::verify_backup(&request, &progress).map_err(dump_error)?;
    print_restored(&report, a.restore.json, "verified")
}

fn backup_list(a: &BackupListArgs) -> anyhow::Result<ExitStatus> {
    let all = pgcarry::list_backups(&a.dir).map_err(dump_error)?;
    if a.json {
        let rows: Vec<serde_json::Value> = all
            .iter()
            .map(|b| {
                serde_json::json!({
                    "dump": b.dump,
                    "manifest": b.manifest_path,
                    "created_at": b.manifest.created_at,
                    "bytes": b.manifest.dump_bytes,
                    "server_version": b.manifest.server_version,
                    "complete": b.complete,
                    "verified_at": b.manifest.verified_at,
                    "encrypted_to": b.manifest.encryption.as_ref().map(|e| &e.recipients),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitStatus::Success);
    }
    for b in &all {
        let m = &b.manifest;
        println!(
            "{:40} {:28} {:>10.1} MB  PostgreSQL {:8} {}{}{}",
            m.dump_file,
            m.created_at,
            m.dump_bytes as f64 / 1e6,
            m.server_version
                .split_whitespace()
                .next()
                .unwrap_or_default(),
            m.verified_at
                .as_deref()
                .map_or("not verified".to_string(), |t| format!("verified {t}")),
            if m.encryption.is_some() {
                "  encrypted (age)"
            } else {
                ""
            },
            if b.complete {
                ""
            } else {
                "  INCOMPLETE (dump missing or truncated)"
            }
        );
    }
    println!("{} backup(s) in {}", all.len(), a.dir.display());
    Ok(ExitStatus::Success)
}

fn backup_keygen(a: &BackupKeygenArgs) -> anyhow::Result<ExitStatus> {
    let public = pgcarry::backup_keygen(&a.out).map_err(dump_error)?;
    eprintln!(
        "wrote the secret key to {} (keep it off the database server); public key:",
        a.out.display()
    );
    if a.json {
        let value = serde_json::json!({ "identity": a.out, "public_key": public });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{public}");
    }
    Ok(ExitStatus::Success)
}

fn restore(a: RestoreArgs) -> anyhow::Result<ExitStatus> {
    let target = resolve_target(a.target.to.as_deref())?;
    eprintln!("target: {}", target.location());
    let request = pgcarry::RestoreRequest {
        dump: a.file,
        target,
        clean: a.clean,
        jobs: a.restore.jobs.max(1),
        pg_restore: a.restore.pg_restore,
        identity: a.restore.identity,
    };
    let progress = Terminal::new(a.restore.json);
    let report = pgcarry::restore_backup(&request, &progress).map_err(dump_error)?;
    print_restored(&report, a.restore.json, "restored")
}
