//! `backup`: a consistent copy of a SQLite target (`VACUUM INTO`), with its SHA-256
//! and per-table row counts recorded as evidence, so that `restore` can verify it.

use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::Targets;
use crate::db::backup::{BackupRequest, TableHash};
use crate::db::{Db, Dialect, Value};
use crate::error::{Error, Result};
use crate::runbook::Params;
use async_trait::async_trait;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub struct Backup {
    target: String,
    out: Option<String>,
    tables: Option<Vec<String>>,
    schema: Option<String>,
}

impl Backup {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        Ok(Backup {
            target: ctx.target(p, "target")?,
            out: p.str("out")?,
            tables: p.str_list("tables")?,
            schema: p.str("schema")?,
        })
    }

    /// The legacy single-file SQLite backup (`out = "....db"`): the file is also a
    /// database other steps open (the demo compares against it).
    fn legacy_file(&self, dialect: crate::db::Dialect) -> bool {
        dialect.sql().is_file() && self.out.as_deref().is_some_and(|o| o.ends_with(".db"))
    }
}

pub fn file_sha256(path: &Path) -> Result<(String, u64)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = std::fs::File::open(path)
        .map_err(|e| Error::runtime(format!("{}: {e}", path.display())))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Row counts of the user tables of a SQLite database.
pub async fn sqlite_table_counts(
    db: &Db,
    only: Option<&[String]>,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let rows = db
        .query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name", &[])
        .await?;
    let mut out = serde_json::Map::new();
    for r in rows.rows {
        let name = r[0].to_string();
        if let Some(only) = only
            && !only.contains(&name)
        {
            continue;
        }
        let n = db
            .query(
                &format!("SELECT count(*) FROM {}", db.dialect().quote_ident(&name)),
                &[],
            )
            .await?;
        out.insert(name, json!(n.scalar().and_then(Value::as_i64).unwrap_or(0)));
    }
    Ok(out)
}

#[async_trait]
impl Step for Backup {
    fn kind(&self) -> &'static str {
        "backup"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn writes(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn plan(&self, targets: &Targets) -> Vec<String> {
        if let Ok(spec) = targets.spec(&self.target)
            && !self.legacy_file(spec.dialect)
        {
            let dir = match &self.out {
                Some(o) => format!("{o}/RUN/STEP"),
                None => ".cutover/backups/RUN/STEP".into(),
            };
            let what = match &self.tables {
                Some(t) => format!("tables {} of {}", t.join(", "), self.target),
                None => self.target.clone(),
            };
            return vec![
                format!(
                    "back up {what} to {dir} (manifest with per-table row counts and content hashes, SHA-256 of every file, completion marker last)"
                ),
                spec.dialect.sql().backup().tool_plan(self.tables.is_none()),
            ];
        }
        let what = match &self.tables {
            Some(t) => format!(" (for tables {})", t.join(", ")),
            None => String::new(),
        };
        vec![format!(
            "consistent copy of {}{what} to {} with SHA-256",
            self.target,
            super::backup_path::destination(self.out.as_deref(), "RUN", "STEP").file("STEP.db")
        )]
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let spec = ctx.targets.spec(&self.target)?.clone();
        if !self.legacy_file(spec.dialect) {
            let rel = match &self.out {
                Some(o) => format!("{o}/{}/{}", ctx.run_id, ctx.step_id),
                None => format!(".cutover/backups/{}/{}", ctx.run_id, ctx.step_id),
            };
            let dir = ctx.dir.join(&rel);
            let log = |m: String| ctx.log(m);
            // this run's and step's own directory: a backup completed before an
            // interruption (ledger not yet told) is verified and kept, never retaken
            let (manifest, sha) = match verify_backup(&dir) {
                Ok(done) => {
                    ctx.log(format!(
                        "{rel}: backup already complete (taken before an interruption); kept"
                    ));
                    done
                }
                Err(_) => {
                    take_backup(
                        &spec.url,
                        &spec.redacted,
                        &dir,
                        self.tables.as_deref(),
                        self.schema.as_deref(),
                        ctx.anchor,
                        &log,
                    )
                    .await?
                }
            };
            let rows: u64 = manifest.tables.values().map(|t| t.rows).sum();
            let bytes: u64 = manifest.files.values().map(|f| f.bytes).sum();
            return Ok(StepOutcome::ok(
                format!(
                    "{} table(s), {rows} row(s), {bytes} bytes → {rel} ({}; manifest sha256 {})",
                    manifest.tables.len(),
                    manifest.tool,
                    &sha[..12]
                ),
                BackupEvidence {
                    target: self.target.clone(),
                    file: rel,
                    bytes,
                    sha256: sha,
                    tables: manifest
                        .tables
                        .iter()
                        .map(|(t, h)| (t.clone(), h.rows as i64))
                        .collect(),
                    focus_tables: self.tables.clone(),
                    manifest: Some(manifest),
                },
            ));
        }
        let rel = super::backup_path::destination(self.out.as_deref(), ctx.run_id, ctx.step_id)
            .file(&format!("{}.db", ctx.step_id));
        let out: PathBuf = ctx.dir.join(&rel);
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = out.with_extension("db.partial");
        let _ = std::fs::remove_file(&tmp);
        let db = ctx.targets.get(&self.target).await?;
        let path = tmp
            .to_str()
            .ok_or_else(|| Error::bad_input("backup path is not valid UTF-8"))?;
        ctx.log(format!("VACUUM INTO {}", out.display()));
        db.execute(&format!("VACUUM INTO {}", db.dialect().quote_literal(path)))
            .await?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &out)?;
        let (sha256, bytes) = file_sha256(&out)?;
        let tables = sqlite_table_counts(&db, self.tables.as_deref()).await?;
        let rows: i64 = tables.values().filter_map(|v| v.as_i64()).sum();
        Ok(StepOutcome::ok(
            format!(
                "{} table(s), {rows} row(s), {bytes} bytes → {rel} (sha256 {})",
                tables.len(),
                &sha256[..12]
            ),
            BackupEvidence {
                target: self.target.clone(),
                file: rel,
                bytes,
                sha256,
                tables: row_counts(&tables),
                focus_tables: self.tables.clone(),
                manifest: None,
            },
        ))
    }
}

/// A backup's manifest: where the copy is (relative to the runbook), its checksum and
/// size, and the rows of each table in it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BackupEvidence {
    pub target: String,
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    /// Rows per table, by table name.
    pub tables: std::collections::BTreeMap<String, i64>,
    /// The tables the backup is for, when the step names some.
    #[serde(default)]
    pub focus_tables: Option<Vec<String>>,
    /// The backup's manifest (a backup directory; absent for a single SQLite file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<BackupManifest>,
}

/// [`sqlite_table_counts`]' rows per table (sorted by name there and here).
pub fn row_counts(
    tables: &serde_json::Map<String, serde_json::Value>,
) -> std::collections::BTreeMap<String, i64> {
    tables
        .iter()
        .map(|(t, n)| (t.clone(), n.as_i64().unwrap_or(0)))
        .collect()
}

pub const MANIFEST: &str = "manifest.json";
/// Written last: its presence says the backup is complete; it holds the manifest's SHA-256.
pub const COMPLETE: &str = "COMPLETE";
/// Written first: the directory is a backup being taken (so an interrupted one may be
/// cleared by the next attempt, and nothing else ever is).
pub const IN_PROGRESS: &str = ".cutover-backup-in-progress";
pub const FORMAT: &str = "cutover-backup";
/// 2: a whole PostgreSQL database is `database.dump.zst` (`pg_dump -Fc -Z0` compressed
/// by cutover with zstd), where version 1 had `database.dump` (pg_dump's own gzip).
/// Both are read; a cutover that reads version 1 only refuses a version 2 backup by
/// its version rather than by a missing archive.
pub const VERSION: u32 = 2;

/// One file of a backup: its size and SHA-256.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FileSum {
    pub bytes: u64,
    pub sha256: String,
}

/// A backup directory's manifest (`manifest.json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BackupManifest {
    pub format: String,
    pub version: u32,
    pub engine: Dialect,
    pub server_version: String,
    /// The tool used (`pg_dump 15.20 -Fc`, `mariadb-dump 10.11 --single-transaction`, ...).
    pub tool: String,
    /// How the hashes were made to be of the same instant as the data.
    pub consistency: String,
    /// The database backed up (password redacted).
    pub source: String,
    /// Some tables only (restored table by table), not the whole database.
    pub table_backup: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub created_at: String,
    /// Per table: row count and content hash, taken in the same snapshot as the data.
    pub tables: BTreeMap<String, TableHash>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sequences: BTreeMap<String, String>,
    /// Every data file, by name: bytes and SHA-256.
    pub files: BTreeMap<String, FileSum>,
    /// The ledger's head when a runbook step took the backup (none for `cutover
    /// backup`): which run and record the backup belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger_anchor: Option<crate::db::bookkeeping::Anchor>,
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)
        .map_err(|e| Error::runtime(format!("cannot write {}: {e}", path.display())))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Take a backup of the database at `url` into `dir` (created; refused when it holds
/// anything but an interrupted backup). Returns the manifest and its SHA-256.
pub async fn take_backup(
    url: &str,
    redacted: &str,
    dir: &Path,
    tables: Option<&[String]>,
    schema: Option<&str>,
    anchor: Option<&crate::db::bookkeeping::Anchor>,
    log: &(dyn Fn(String) + Send + Sync),
) -> Result<(BackupManifest, String)> {
    let dialect = crate::db::dialect_of(url)?;
    if dir.join(COMPLETE).exists() {
        return Err(Error::bad_input(format!(
            "{} already holds a complete backup; backups are never overwritten",
            dir.display()
        ))
        .with_hint("choose a new directory"));
    }
    if dir.exists() {
        let entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(|e| e.ok()).collect();
        if !entries.is_empty() {
            if !dir.join(IN_PROGRESS).exists() {
                return Err(Error::bad_input(format!(
                    "{} is not empty and is not a backup being taken; refusing to write into it",
                    dir.display()
                ))
                .with_hint("choose a new or empty directory"));
            }
            log(format!("{}: clearing an interrupted backup", dir.display()));
            for e in entries {
                let p = e.path();
                if p.is_dir() {
                    std::fs::remove_dir_all(&p)?;
                } else {
                    std::fs::remove_file(&p)?;
                }
            }
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::runtime(format!("cannot create {}: {e}", dir.display())))?;
    write_synced(
        &dir.join(IN_PROGRESS),
        b"a cutover backup is being taken here\n",
    )?;
    let result = dialect
        .sql()
        .backup()
        .backup(BackupRequest {
            url,
            redacted,
            dir,
            tables,
            schema,
            log,
        })
        .await?;
    crate::crash::point("backup:before-manifest");
    let mut files = BTreeMap::new();
    for f in &result.files {
        // taken as the engine wrote it, or read now
        let (sha256, bytes) = match result.digests.get(f) {
            Some(d) => (d.sha256.clone(), d.bytes),
            None => file_sha256(&dir.join(f))?,
        };
        files.insert(f.clone(), FileSum { bytes, sha256 });
    }
    let manifest = BackupManifest {
        format: FORMAT.into(),
        version: VERSION,
        engine: dialect,
        server_version: result.server_version,
        tool: result.tool,
        consistency: result.consistency,
        source: redacted.to_string(),
        table_backup: tables.is_some(),
        schema: schema.map(str::to_string),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        tables: result.tables,
        sequences: result.sequences,
        files,
        ledger_anchor: anchor.cloned(),
    };
    let mut text = serde_json::to_string_pretty(&manifest).expect("manifest serializes");
    text.push('\n');
    write_synced(&dir.join(MANIFEST), text.as_bytes())?;
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
    crate::crash::point("backup:before-complete");
    write_synced(
        &dir.join(COMPLETE),
        format!("{FORMAT} complete\nmanifest sha256 {sha}\n").as_bytes(),
    )?;
    let _ = std::fs::remove_file(dir.join(IN_PROGRESS));
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok((manifest, sha))
}

/// Check a backup directory before anything is touched: complete, its manifest intact
/// and readable, every file present with its recorded size and SHA-256. Each refusal
/// names the file.
pub fn verify_backup(dir: &Path) -> Result<(BackupManifest, String)> {
    let (manifest, sha) = sealed_manifest(dir)?;
    verify_files(dir, &manifest.files)?;
    Ok((manifest, sha))
}

/// The first half of [`verify_backup`]: the backup is complete and its manifest intact
/// (its SHA-256 the one sealed in `COMPLETE`) and readable; the files not read yet.
pub fn sealed_manifest(dir: &Path) -> Result<(BackupManifest, String)> {
    if !dir.is_dir() {
        return Err(Error::bad_input(format!(
            "no backup at {} (not a directory)",
            dir.display()
        )));
    }
    let mpath = dir.join(MANIFEST);
    let cpath = dir.join(COMPLETE);
    if !mpath.exists() {
        let why = if dir.join(IN_PROGRESS).exists() {
            "the backup was interrupted before it finished"
        } else {
            "not a cutover backup, or its manifest was removed"
        };
        return Err(Error::bad_input(format!(
            "{} is missing: {why}; refusing to restore",
            mpath.display()
        )));
    }
    if !cpath.exists() {
        return Err(Error::bad_input(format!(
            "{} is missing: the backup was interrupted before it was sealed; refusing to restore",
            cpath.display()
        )));
    }
    let text = std::fs::read(&mpath)?;
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&text));
    let sealed = std::fs::read_to_string(&cpath)?;
    if !sealed.contains(&format!("manifest sha256 {sha}")) {
        return Err(Error::bad_input(format!(
            "{} does not match the SHA-256 sealed in {}: the manifest was changed or damaged; refusing to restore",
            mpath.display(),
            cpath.display()
        )));
    }
    let manifest: BackupManifest = serde_json::from_slice(&text).map_err(|e| {
        Error::bad_input(format!(
            "{}:{}:{}: corrupt manifest: {e}",
            mpath.display(),
            e.line(),
            e.column()
        ))
    })?;
    if manifest.format != FORMAT || manifest.version > VERSION {
        return Err(Error::bad_input(format!(
            "{}: format {} version {} is not one this cutover reads ({FORMAT} version {VERSION})",
            mpath.display(),
            manifest.format,
            manifest.version
        )));
    }
    Ok((manifest, sha))
}

/// The second half of [`verify_backup`]: every file present with its recorded size and
/// SHA-256 (the long part: every byte of the backup is read).
pub fn verify_files(dir: &Path, files: &BTreeMap<String, FileSum>) -> Result<()> {
    for (name, want) in files {
        let path = dir.join(name);
        if !path.exists() {
            return Err(Error::bad_input(format!(
                "{} is missing from the backup; refusing to restore",
                path.display()
            )));
        }
        let (actual, bytes) = file_sha256(&path)?;
        if bytes != want.bytes {
            return Err(Error::bad_input(format!(
                "{} is {bytes} bytes, the manifest says {} (truncated or damaged); refusing to restore",
                path.display(),
                want.bytes
            )));
        }
        if actual != want.sha256 {
            return Err(Error::bad_input(format!(
                "{} does not match its SHA-256 in the manifest (recorded {}, found {actual}); refusing to restore",
                path.display(),
                want.sha256
            )));
        }
    }
    Ok(())
}
