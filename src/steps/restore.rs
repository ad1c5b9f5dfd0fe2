//! `restore`: put a SQLite target back from a backup taken earlier in the run, after
//! verifying the backup's SHA-256. Whole database, or only `tables` (table-level restore).

use super::Evidence;
use super::backup::{file_sha256, row_counts, sqlite_table_counts};
use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::Targets;
use crate::db::{self, ConnectOptions, Statement};
use crate::error::{Error, Result};
use crate::runbook::Params;
use async_trait::async_trait;

pub struct Restore {
    target: String,
    from: String,
    tables: Option<Vec<String>>,
}

impl Restore {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        Ok(Restore {
            target: ctx.target(p, "target")?,
            from: p.req_str("from")?,
            tables: p.str_list("tables")?,
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
                let d = db.dialect();
                let path = file
                    .to_str()
                    .ok_or_else(|| Error::bad_input("backup path is not valid UTF-8"))?;
                db.execute(&format!(
                    "ATTACH DATABASE {} AS cutover_backup",
                    d.quote_literal(path)
                ))
                .await?;
                let mut stmts = Vec::new();
                for t in tables {
                    let def = db
                        .query("SELECT sql FROM cutover_backup.sqlite_master WHERE type = 'table' AND name = ?", &[t.as_str().into()])
                        .await?;
                    let Some(create) = def.scalar().map(|v| v.to_string()) else {
                        db.close().await;
                        return Err(Error::runtime(format!(
                            "table \"{t}\" is not in backup {rel}"
                        )));
                    };
                    let q = d.quote_ident(t);
                    stmts.push(Statement::new(format!("DROP TABLE IF EXISTS main.{q}")));
                    stmts.push(Statement::new(create));
                    stmts.push(Statement::new(format!(
                        "INSERT INTO main.{q} SELECT * FROM cutover_backup.{q}"
                    )));
                    let idx = db
                        .query("SELECT sql FROM cutover_backup.sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", &[t.as_str().into()])
                        .await?;
                    for r in idx.rows {
                        stmts.push(Statement::new(r[0].to_string()));
                    }
                }
                let res = db.execute_in_transaction(&stmts).await;
                let _ = db.execute("DETACH DATABASE cutover_backup").await;
                let counts = sqlite_table_counts(&db, Some(tables)).await;
                db.close().await;
                res.map_err(|e| {
                    Error::runtime(format!(
                        "table restore failed at statement {}: {} (rolled back)",
                        e.index + 1,
                        e.message
                    ))
                })?;
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
}
