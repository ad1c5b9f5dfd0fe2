//! `drift-check`: compare a target with its latest snapshot (the most recent `snapshot`
//! step of this run for that target, or `snapshot = "FILE"`), and fail, naming what
//! changed, when someone altered the database in between.
//!
//! ```toml
//! [[phases.steps]]
//! kind = "drift-check"
//! target = "prod"
//! # snapshot = "snapshots/prod-approved.json"   # optional; default: the last snapshot step
//! ```

use super::{BuildContext, Evidence, Step, StepContext, StepOutcome};
use crate::db::Targets;
use crate::error::{Error, Result};
use crate::runbook::Params;
use crate::schema::snapshot::{self, Snapshot};
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

pub struct DriftCheck {
    target: String,
    snapshot: Option<String>,
    /// The snapshot file resolved against the runbook's directory.
    snapshot_path: Option<PathBuf>,
}

impl DriftCheck {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let snapshot = p.str("snapshot")?;
        Ok(DriftCheck {
            target: ctx.target(p, "target")?,
            snapshot_path: snapshot.as_ref().map(|f| ctx.dir.join(f)),
            snapshot,
        })
    }
}

#[async_trait]
impl Step for DriftCheck {
    fn kind(&self) -> &'static str {
        "drift-check"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn files_read(&self) -> Vec<PathBuf> {
        self.snapshot_path.iter().cloned().collect()
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        vec![match &self.snapshot {
            Some(f) => format!("check {} has not drifted from {f}", self.target),
            None => format!(
                "check {} has not drifted from its last snapshot in this run",
                self.target
            ),
        }]
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        // which snapshot, and the hash it had when taken (if a step took it)
        let (path, expected_hash, from) = match &self.snapshot {
            Some(f) => (ctx.dir.join(f), None, f.clone()),
            None => {
                let prior = ctx
                    .prior
                    .iter()
                    .rev()
                    .find_map(|p| match &p.evidence {
                        Some(Evidence::Snapshot(s)) if s.target == self.target => Some((p, s)),
                        _ => None,
                    })
                    .ok_or_else(|| {
                        Error::bad_input(format!(
                            "drift-check of {}: no earlier snapshot step for this target in the run",
                            self.target
                        ))
                        .with_hint("add a `snapshot` step before it, or set `snapshot = \"FILE\"`")
                    })?;
                let (prior, snap) = prior;
                (
                    PathBuf::from(&snap.path),
                    Some(snap.sha256.clone()),
                    format!("snapshot step {}", prior.id),
                )
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::bad_input(format!("cannot read snapshot {}: {e}", path.display()))
        })?;
        if let Some(h) = &expected_hash {
            let now = hex::encode(Sha256::digest(text.as_bytes()));
            if &now != h {
                return Ok(StepOutcome {
                    summary: format!("snapshot file {} was modified", path.display()),
                    evidence: DriftCheckEvidence {
                        target: self.target.clone(),
                        snapshot: path.display().to_string(),
                        expected_sha256: Some(h.clone()),
                        sha256: Some(now.clone()),
                        drift: None,
                        differences: None,
                    }
                    .into(),
                    failure: Some(format!(
                        "the snapshot file {} changed after {from} wrote it (sha256 {h}, now {now})",
                        path.display()
                    )),
                    hazards: vec![],
                });
            }
        }
        let then = Snapshot::parse(&text, &path.display().to_string())?;
        let db = ctx.targets.get(&self.target).await?;
        let now = Snapshot::capture(&db, &then.filter()).await?;
        let drift = snapshot::drift(&then, &now);
        let lines = drift.lines();
        for l in &lines {
            ctx.log(l.clone());
        }
        let evidence = DriftCheckEvidence {
            target: self.target.clone(),
            snapshot: path.display().to_string(),
            expected_sha256: None,
            sha256: None,
            drift: Some(!drift.is_empty()),
            differences: Some(lines.clone()),
        };
        if drift.is_empty() {
            Ok(StepOutcome::ok(
                format!("{}: no drift since {from}", self.target),
                evidence,
            ))
        } else {
            Ok(StepOutcome {
                summary: format!("{}: drifted since {from}", self.target),
                evidence: evidence.into(),
                failure: Some(format!(
                    "{} changed since {from}: {}",
                    self.target,
                    lines.join("; ")
                )),
                hazards: vec![],
            })
        }
    }
}

/// A drift check: the target's schema against a snapshot. Either the snapshot file
/// itself changed (its two checksums), or whether the schema drifted and how.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DriftCheckEvidence {
    pub target: String,
    pub snapshot: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differences: Option<Vec<String>>,
}
