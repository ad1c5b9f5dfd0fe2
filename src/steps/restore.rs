//! `restore`: put a SQLite target back from a backup taken earlier in the run, after
//! verifying the backup's SHA-256. Whole database, or only `tables` (table-level restore).

use super::Evidence;
use super::backup::{file_sha256, row_counts, sealed_manifest, sqlite_table_counts, verify_files};
use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::Dialect;
use crate::db::Targets;
use crate::db::backup::{ExtrasRequest, RestoreRequest};
use crate::db::{self, ConnectOptions};
use crate::error::{Error, Result};
use crate::runbook::Params;
use async_trait::async_trait;

pub struct Restore {
    target: String,
    from: String,
    tables: Option<Vec<String>>,
    drop_extra: bool,
}

impl Restore {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let target = ctx.target(p, "target")?;
        let from = p.req_str("from")?;
        let v = p.raw("from").expect("present");
        match ctx.earlier_kind(&from) {
            Some("backup") => {}
            Some(kind) => {
                return Err(p.value_error(
                    v,
                    format!("`from` names step \"{from}\", a {kind} step, not a backup"),
                ));
            }
            None => {
                return Err(p.value_error(
                    v,
                    format!(
                        "`from` names \"{from}\", but no backup step with that id comes before this restore"
                    ),
                ));
            }
        }
        Ok(Restore {
            target,
            from,
            tables: p.str_list("tables")?,
            drop_extra: p.bool("drop_extra")?.unwrap_or(false),
        })
    }
}

#[async_trait]
impl Step for Restore {
    fn kind(&self) -> &'static str {
        "restore"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn writes(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        match &self.tables {
            Some(t) => vec![format!(
                "restore tables {} of {} from backup step {} (SHA-256 verified first)",
                t.join(", "),
                self.target,
                self.from
            )],
            None => vec![format!(
                "restore {} from backup step {} (SHA-256 verified first)",
                self.target, self.from
            )],
        }
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let spec = ctx.targets.spec(&self.target)?.clone();
        if let Some(Evidence::Backup(m)) = ctx.prior(&self.from).and_then(|p| p.evidence.as_ref())
            && m.manifest.is_some()
        {
            let dir = ctx.dir.join(&m.file);
            if spec.dialect.sql().is_file() {
                ctx.targets.close(&self.target).await;
            }
            let log = |msg: String| ctx.log(msg);
            let proof = restore_backup(
                &spec.url,
                &spec.redacted,
                &dir,
                self.tables.as_deref(),
                self.drop_extra,
                &log,
            )
            .await?;
            let failure = proof.failure();
            let mut outcome = StepOutcome::ok(
                format!(
                    "{} restored from {}: {}",
                    self.target,
                    m.file,
                    proof.summary()
                ),
                RestoreEvidence {
                    target: self.target.clone(),
                    from: self.from.clone(),
                    file: m.file.clone(),
                    sha256: proof.manifest_sha256.clone(),
                    tables: proof
                        .tables
                        .iter()
                        .map(|t| (t.table.clone(), t.rows_found as i64))
                        .collect(),
                    proof: Some(proof),
                },
            );
            outcome.failure = failure;
            return Ok(outcome);
        }
        let target_file = spec.sqlite_file().ok_or_else(|| {
            Error::bad_input(format!(
                "restore supports SQLite targets; \"{}\" is {}",
                self.target,
                spec.dialect.name()
            ))
        })?;
        let backup = ctx.prior(&self.from).ok_or_else(|| {
            Error::runtime(format!("backup step \"{}\" has not completed in this run, so there is nothing to restore from", self.from))
        })?;
        let Some(Evidence::Backup(manifest)) = &backup.evidence else {
            return Err(Error::runtime(format!(
                "step \"{}\" recorded no backup manifest to restore from",
                self.from
            )));
        };
        let (rel, expected) = (manifest.file.clone(), manifest.sha256.clone());
        let file = ctx.dir.join(&rel);
        if !file.exists() {
            return Err(Error::runtime(format!(
                "backup file {} (from step \"{}\") is missing",
                file.display(),
                self.from
            )));
        }
        let (actual, bytes) = file_sha256(&file)?;
        if actual != expected {
            return Err(Error::runtime(format!(
                "backup file {} does not match its recorded SHA-256 (recorded {expected}, found {actual}); refusing to restore",
                file.display()
            )));
        }
        ctx.log(format!(
            "backup {} verified (sha256 {})",
            rel,
            &actual[..12]
        ));
        match &self.tables {
            None => {
                ctx.targets.close(&self.target).await;
                let tmp = target_file.with_extension("restore.partial");
                std::fs::copy(&file, &tmp)?;
                std::fs::File::open(&tmp)?.sync_all()?;
                // The old file's WAL and shared-memory files must not outlive it.
                for side in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{side}", target_file.display()));
                }
                std::fs::rename(&tmp, &target_file)?;
                let db = ctx.targets.get(&self.target).await?;
                let tables = sqlite_table_counts(&db, None).await?;
                Ok(StepOutcome::ok(
                    format!(
                        "{} restored from {rel} ({bytes} bytes, sha256 verified)",
                        self.target
                    ),
                    RestoreEvidence {
                        target: self.target.clone(),
                        from: self.from.clone(),
                        file: rel,
                        sha256: actual,
                        tables: row_counts(&tables),
                        proof: None,
                    },
                ))
            }
            Some(tables) => {
                // ATTACH is per connection and not allowed inside a transaction: use one connection.
                let db = db::connect_with(
                    &spec.url,
                    ConnectOptions {
                        max_connections: 1,
                        ..Default::default()
                    },
                )
                .await?;
                let res = db::sqlite_restore_tables(&db, &file, tables).await;
                let counts = sqlite_table_counts(&db, Some(tables)).await;
                db.close().await;
                res?;
                Ok(StepOutcome::ok(
                    format!(
                        "restored table(s) {} of {} from {rel}",
                        tables.join(", "),
                        self.target
                    ),
                    RestoreEvidence {
                        target: self.target.clone(),
                        from: self.from.clone(),
                        file: rel,
                        sha256: actual,
                        tables: row_counts(&counts?),
                        proof: None,
                    },
                ))
            }
        }
    }
}

/// What a restore put back: from which backup step and file, verified against which
/// checksum, and the rows of each table restored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RestoreEvidence {
    pub target: String,
    /// The backup step restored from.
    pub from: String,
    pub file: String,
    pub sha256: String,
    pub tables: std::collections::BTreeMap<String, i64>,
    /// Table by table: the manifest's count and content hash against the restored
    /// database's (a backup directory; absent for a single SQLite file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<RestoreProof>,
}

/// One restored table checked against the backup's manifest.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TableProof {
    pub table: String,
    pub rows_expected: u64,
    pub rows_found: u64,
    pub hash_expected: String,
    /// None when the table is not in the target after the restore.
    pub hash_found: Option<String>,
    pub equal: bool,
}

/// What a restore from a backup directory proved.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RestoreProof {
    pub engine: Dialect,
    pub tool: String,
    pub manifest_sha256: String,
    pub tables: Vec<TableProof>,
    /// Tables in the target that the backup does not have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_tables: Vec<String>,
    /// Whether those were dropped (`drop_extra`) or kept.
    #[serde(default)]
    pub extra_dropped: bool,
    /// Objects other than tables that the target had and the backup does not (views,
    /// functions, triggers, foreign keys, policies... created after it), dropped before
    /// the load (`drop_extra`; without it the restore refuses and touches nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_objects: Vec<String>,
}

impl RestoreProof {
    pub fn all_equal(&self) -> bool {
        self.tables.iter().all(|t| t.equal)
    }

    /// The restore's assertion failing: which tables do not match the manifest.
    pub fn failure(&self) -> Option<String> {
        let bad: Vec<String> = self
            .tables
            .iter()
            .filter(|t| !t.equal)
            .map(|t| match &t.hash_found {
                None => format!("{} is missing", t.table),
                Some(_) if t.rows_found != t.rows_expected => {
                    format!(
                        "{} has {} rows, the backup {}",
                        t.table, t.rows_found, t.rows_expected
                    )
                }
                Some(_) => format!(
                    "{} has different content (same {} rows)",
                    t.table, t.rows_found
                ),
            })
            .collect();
        (!bad.is_empty()).then(|| {
            format!(
                "restored tables do not match the backup: {}",
                bad.join("; ")
            )
        })
    }

    pub fn summary(&self) -> String {
        let rows: u64 = self.tables.iter().map(|t| t.rows_found).sum();
        let equal = self.tables.iter().filter(|t| t.equal).count();
        let mut s = format!(
            "{equal} of {} table(s) proven equal to the backup (rows and content hashes), {rows} row(s)",
            self.tables.len()
        );
        if !self.extra_objects.is_empty() {
            s.push_str(&format!(
                "; {} object(s) not in the backup dropped before the load: {}",
                self.extra_objects.len(),
                self.extra_objects.join(", ")
            ));
        }
        if !self.extra_tables.is_empty() {
            s.push_str(&format!(
                "; {} table(s) not in the backup {}: {}",
                self.extra_tables.len(),
                if self.extra_dropped {
                    "dropped"
                } else {
                    "kept (drop them with drop_extra / --drop-extra)"
                },
                self.extra_tables.join(", ")
            ));
        }
        s
    }
}

/// Restore the database at `url` from the backup directory `dir`: the backup is
/// verified first (nothing touched when it is damaged, incomplete or of another
/// engine), then restored, then every restored table is re-hashed and compared with
/// the manifest.
pub async fn restore_backup(
    url: &str,
    redacted: &str,
    dir: &std::path::Path,
    tables: Option<&[String]>,
    drop_extra: bool,
    log: &(dyn Fn(String) + Send + Sync),
) -> Result<RestoreProof> {
    let (manifest, sha) = sealed_manifest(dir)?;
    // every file's SHA-256 (all the backup's bytes read) beside the read-only look at
    // the target below: nothing is touched before both have passed, and a damaged
    // file is the refusal given whatever else the look found
    let files_checked = {
        let (dir, files) = (dir.to_path_buf(), manifest.files.clone());
        tokio::task::spawn_blocking(move || verify_files(&dir, &files))
    };
    let looked = look_before_restore(url, redacted, dir, tables, drop_extra, &manifest).await;
    files_checked
        .await
        .map_err(|e| Error::runtime(format!("checking the backup's files: {e}")))??;
    log(format!(
        "backup {} verified: manifest sha256 {}, {} file(s) match their SHA-256",
        dir.display(),
        &sha[..12],
        manifest.files.len()
    ));
    // crash points (testkit builds only): backup verified, nothing touched yet
    crate::crash::point("restore:verified");
    let Looked {
        dialect,
        chosen,
        extra,
        objects,
    } = looked?;
    let engine = dialect.sql().backup();
    if !objects.is_empty() {
        for o in &objects {
            log(format!("dropping {o} (not in the backup; drop_extra)"));
        }
        engine.drop_objects(url, redacted, &objects).await?;
        // objects not in the backup dropped, nothing loaded yet
        crate::crash::point("restore:objects-dropped");
    }
    engine
        .restore(RestoreRequest {
            url,
            redacted,
            dir,
            files: &manifest.files.keys().cloned().collect::<Vec<_>>(),
            table_backup: manifest.table_backup,
            tables: tables.map(|_| chosen.as_slice()),
            sequences: &manifest.sequences,
            log,
        })
        .await?;
    // the tables are back, extra tables not dropped yet, nothing proven
    crate::crash::point("restore:restored");
    if !extra.is_empty() {
        if drop_extra {
            for (n, t) in extra.iter().enumerate() {
                log(format!("dropping {t} (not in the backup; drop_extra)"));
                engine.drop_table(url, redacted, t).await?;
                // part of the extra tables dropped
                crate::crash::point(&format!("restore:dropped:{}", n + 1));
            }
        } else {
            log(format!(
                "kept {} table(s) the backup does not have: {}",
                extra.len(),
                extra.join(", ")
            ));
        }
    }
    let now = engine
        .content_hashes(url, redacted, &chosen, &manifest.tables)
        .await?;
    let proofs = chosen
        .iter()
        .map(|t| {
            let want = &manifest.tables[t];
            let got = now.get(t);
            TableProof {
                table: t.clone(),
                rows_expected: want.rows,
                rows_found: got.map(|g| g.rows).unwrap_or(0),
                hash_expected: want.hash.clone(),
                hash_found: got.map(|g| g.hash.clone()),
                equal: got == Some(want),
            }
        })
        .collect();
    Ok(RestoreProof {
        engine: dialect,
        tool: manifest.tool,
        manifest_sha256: sha,
        tables: proofs,
        extra_tables: extra,
        extra_dropped: drop_extra,
        extra_objects: objects.iter().map(|o| o.to_string()).collect(),
    })
}

/// What [`restore_backup`] found before touching anything.
struct Looked {
    dialect: crate::db::Dialect,
    /// The tables to restore, as the manifest names them.
    chosen: Vec<String>,
    /// Tables the target has and the backup lacks.
    extra: Vec<String>,
    /// Other objects the target has and the backup lacks.
    objects: Vec<crate::db::backup::ExtraObject>,
}

/// The checks of a restore that only read: the target's engine is the backup's, the
/// tables asked for are in it, and what the target has that the backup lacks (a
/// refusal when objects would block the restore and `drop_extra` is not given).
async fn look_before_restore(
    url: &str,
    redacted: &str,
    dir: &std::path::Path,
    tables: Option<&[String]>,
    drop_extra: bool,
    manifest: &super::backup::BackupManifest,
) -> Result<Looked> {
    let dialect = crate::db::dialect_of(url)?;
    if dialect != manifest.engine {
        return Err(Error::bad_input(format!(
            "{} is a backup of a {} database ({}); the target {redacted} is {}",
            dir.display(),
            manifest.engine.name(),
            manifest.server_version,
            dialect.name()
        )));
    }
    let engine = dialect.sql().backup();
    if tables.is_some() && !manifest.table_backup && !dialect.sql().is_file() {
        // pg_restore -t / a dump's table section would bring back the rows without the
        // table's indexes, constraints and triggers: refuse rather than half-restore
        return Err(Error::bad_input(format!(
            "{} is a whole-database backup; restoring single tables needs a table backup of them",
            dir.display()
        ))
        .with_hint("take one with `cutover backup --tables a,b` (or a backup step with tables = [...]), or restore the whole database"));
    }
    // the tables to restore, as the manifest names them
    let chosen: Vec<String> = match tables {
        None => manifest.tables.keys().cloned().collect(),
        Some(want) => {
            let mut out = Vec::new();
            for w in want {
                let hit = manifest
                    .tables
                    .keys()
                    .find(|k| *k == w || k.rsplit_once('.').is_some_and(|(_, n)| n == w));
                match hit {
                    Some(k) => out.push(k.clone()),
                    None => {
                        return Err(Error::bad_input(format!(
                            "table \"{w}\" is not in the backup {} (it has: {})",
                            dir.display(),
                            manifest
                                .tables
                                .keys()
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                }
            }
            out
        }
    };
    let mut extra = Vec::new();
    let mut objects = Vec::new();
    if tables.is_none() && !manifest.table_backup {
        let present = engine
            .tables(url, redacted, manifest.schema.as_deref())
            .await?;
        // cutover's own bookkeeping (marks, copy progress, anchors, run locks) is not
        // the application's tables: not "extra".
        // (`schema.table` on PostgreSQL: the bare name decides).
        let ours = [
            crate::steps::once::MARKS_TABLE,
            crate::steps::copy::PROGRESS_TABLE,
            crate::db::bookkeeping::ANCHORS_TABLE,
            crate::db::bookkeeping::LOCKS_TABLE,
        ];
        extra = present
            .into_iter()
            .filter(|t| !manifest.tables.contains_key(t))
            .filter(|t| !ours.contains(&t.rsplit_once('.').map_or(t.as_str(), |(_, b)| b)))
            .collect();
        // views, functions, triggers, foreign keys... created after the backup: the
        // restore would fail on them (pg_restore --clean cannot drop a table they
        // depend on) or leave them behind, so they are said before anything is touched
        objects = engine
            .objects_not_in_backup(ExtrasRequest {
                url,
                redacted,
                dir,
                files: &manifest.files.keys().cloned().collect::<Vec<_>>(),
                schema: manifest.schema.as_deref(),
                extra_tables: &extra,
            })
            .await?;
        if !objects.is_empty() && !drop_extra {
            let names: Vec<String> = objects.iter().map(|o| o.to_string()).collect();
            return Err(Error::bad_input(format!(
                "{redacted} has {} object(s) that the backup {} does not have (created after it), which the restore would fail on or leave behind: {}; nothing was restored or dropped",
                objects.len(),
                dir.display(),
                names.join(", ")
            ))
            .with_hint("restore with drop_extra = true (--drop-extra) to drop them, and the tables the backup lacks, so the database is the backup's again"));
        }
    }
    Ok(Looked {
        dialect,
        chosen,
        extra,
        objects,
    })
}
