//! `snapshot`: capture a target's schema, row counts and content fingerprints to a
//! file; the evidence holds the file's path and SHA-256, which `drift-check` uses.
//!
//! ```toml
//! [[phases.steps]]
//! kind = "snapshot"
//! target = "prod"
//! out = "snapshots/prod-before.json"   # relative to the runbook
//! ```

use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::Targets;
use crate::error::Result;
use crate::runbook::Params;
use crate::schema::Filter;
use crate::schema::snapshot::Snapshot;
use async_trait::async_trait;

pub struct SnapshotStep {
    target: String,
    out: String,
    filter: Filter,
}

impl SnapshotStep {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        Ok(SnapshotStep {
            target: ctx.target(p, "target")?,
            out: p.req_str("out")?,
            filter: Filter::new(
                p.str_list("include")?.unwrap_or_default(),
                p.str_list("exclude")?.unwrap_or_default(),
            ),
        })
    }
}

#[async_trait]
impl Step for SnapshotStep {
    fn kind(&self) -> &'static str {
        "snapshot"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        vec![format!(
            "snapshot {} (schema, row counts, fingerprints) to {}",
            self.target, self.out
        )]
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let db = ctx.targets.get(&self.target).await?;
        let snap = Snapshot::capture(&db, &self.filter).await?;
        let path = ctx.dir.join(&self.out);
        let sha256 = snap.write(&path)?;
        let rows: u64 = snap.tables.values().map(|t| t.rows).sum();
        Ok(StepOutcome::ok(
            format!(
                "{}: {} tables, {rows} rows -> {}",
                self.target,
                snap.schema.tables.len(),
                self.out
            ),
            SnapshotEvidence {
                target: self.target.clone(),
                path: path.display().to_string(),
                file: self.out.clone(),
                sha256,
                tables: snap.schema.tables.len() as u64,
                rows,
            },
        ))
    }
}

/// A schema snapshot written to a file: where, its checksum, and what it holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotEvidence {
    pub target: String,
    /// The file's full path (a later drift-check reads it).
    pub path: String,
    /// The file as the runbook names it.
    pub file: String,
    pub sha256: String,
    pub tables: u64,
    pub rows: u64,
}
