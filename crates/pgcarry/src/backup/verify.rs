//! `backup verify`: the dump's SHA-256 against its manifest, `pg_restore --list`, a full restore
//! into a scratch database (a throw-away local cluster, or `--scratch URL`, never the backup's
//! own source), every table's checksum recomputed there and compared with the manifest; an
//! identical result is recorded in the manifest (`verified_at`).

use super::BackupError;
use super::archive::Archive;
use super::manifest::{self, Manifest};
use super::restore::{
    RestoreReport, checked_manifest, compare, has_relations, listed_restore_tool, run_pg_restore,
    target_server,
};
use crate::postgres::cluster::{ClusterOptions, LocalCluster};
use crate::postgres::conn::ConnSettings;
use crate::work::progress::Progress;
use std::path::PathBuf;

/// What `backup verify` is asked to do.
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    pub dump: PathBuf,
    /// Restore here instead of into a throw-away local cluster.
    pub scratch: Option<ConnSettings>,
    /// The scratch database already holds the restored backup: only compare.
    pub already_restored: bool,
    pub jobs: usize,
    pub pg_restore: Option<PathBuf>,
    /// The age identity file that decrypts an encrypted dump.
    pub identity: Option<PathBuf>,
}

/// What a verification found.
pub type VerifyReport = RestoreReport;

/// Refuses a scratch database that is the backup's source (same cluster and database name).
fn check_scratch(
    scratch: &ConnSettings,
    manifest: &Manifest,
    warnings: &mut Vec<String>,
    already_restored: bool,
) -> Result<(), BackupError> {
    let server = target_server(scratch, manifest, warnings)?;
    let same_cluster = server.system_identifier == manifest.system_identifier
        || server.system_identifier.is_empty()
        || manifest.system_identifier.is_empty();
    if same_cluster && server.database == manifest.database {
        return Err(BackupError::Usage(format!(
            "{} is the database this backup was taken from: give --scratch an empty database \
             of its own (or leave it out for a throw-away local server)",
            scratch.location()
        )));
    }
    if !already_restored && has_relations(scratch)? {
        return Err(BackupError::Usage(format!(
            "the scratch database {} is not empty: give an empty one",
            scratch.location()
        )));
    }
    Ok(())
}

/// Verifies `request.dump` by restoring it and comparing with its manifest.
pub fn verify(
    request: &VerifyRequest,
    progress: &dyn Progress,
) -> Result<VerifyReport, BackupError> {
    let manifest = checked_manifest(&request.dump)?;
    progress.message(&format!(
        "{}: SHA-256 matches the manifest",
        request.dump.display()
    ));
    let archive = Archive::open(&request.dump, &manifest, request.identity.as_deref())?;
    let tool = listed_restore_tool(&archive, &manifest, request.pg_restore.as_deref())?;
    let mut warnings = Vec::new();
    let mut cluster = None;
    let scratch = match &request.scratch {
        Some(s) => {
            check_scratch(s, &manifest, &mut warnings, request.already_restored)?;
            s.clone()
        }
        None => {
            progress.message("start a throw-away PostgreSQL for the restore");
            let started = LocalCluster::start(&ClusterOptions {
                fsync: false,
                watch_parent: true,
                extra_settings: Vec::new(),
                port: None,
            })
            .map_err(|e| BackupError::Failed(e.to_string()))?;
            let url = started.url();
            cluster = Some(started);
            let s = ConnSettings::parse(&url)?;
            target_server(&s, &manifest, &mut warnings)?;
            s
        }
    };
    if !request.already_restored {
        progress.message(&format!(
            "restore into {} with {}",
            scratch.location(),
            tool.version
        ));
        run_pg_restore(&tool, &archive, &scratch, &["--no-privileges".to_string()])?;
    }
    let (differences, rows) = compare(&scratch, &manifest, request.jobs, &mut warnings)?;
    if let Some(c) = cluster {
        let _ = c.stop();
    }
    let mut manifest = manifest;
    if differences.is_empty() && !request.already_restored {
        manifest.verified_at = Some(jiff::Timestamp::now().to_string());
        manifest::write(&manifest::path_for(&request.dump), &manifest)?;
    }
    Ok(RestoreReport {
        manifest,
        differences,
        warnings,
        rows,
    })
}
