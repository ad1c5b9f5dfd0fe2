//! `backup`: a consistent copy of a SQLite target (`VACUUM INTO`), with its SHA-256
//! and per-table row counts recorded as evidence, so that `restore` can verify it.

use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::Targets;
use crate::db::{Db, Value};
use crate::error::{Error, Result};
use crate::runbook::Params;
use async_trait::async_trait;
use serde_json::json;
use std::path::{Path, PathBuf};

pub struct Backup {
    target: String,
    out: Option<String>,
    tables: Option<Vec<String>>,
}

impl Backup {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        Ok(Backup {
            target: ctx.target(p, "target")?,
            out: p.str("out")?,
            tables: p.str_list("tables")?,
        })
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
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        let what = match &self.tables {
            Some(t) => format!(" (for tables {})", t.join(", ")),
            None => String::new(),
        };
        vec![format!(
            "consistent copy of {}{what} to {} with SHA-256",
            self.target,
            self.out
                .clone()
                .unwrap_or_else(|| ".cutover/backups/RUN/STEP.db".into())
        )]
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let spec = ctx.targets.spec(&self.target)?;
        if !spec.dialect.sql().is_file() {
            return Err(Error::bad_input(format!(
                "backup of {} targets is not supported yet (target \"{}\" is {}); back it up with the engine's own tool",
                spec.dialect.name(),
                self.target,
                spec.redacted
            )));
        }
        let rel = self
            .out
            .clone()
            .unwrap_or_else(|| format!(".cutover/backups/{}/{}.db", ctx.run_id, ctx.step_id));
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
