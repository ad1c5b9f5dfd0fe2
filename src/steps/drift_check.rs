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

use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::Targets;
use crate::error::{Error, Result};
use crate::runbook::Params;
use crate::schema::snapshot::{self, Snapshot};
use async_trait::async_trait;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

pub struct DriftCheck {
    target: String,
    snapshot: Option<String>,
}

impl DriftCheck {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        Ok(DriftCheck {
            target: ctx.target(p, "target")?,
            snapshot: p.str("snapshot")?,
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
                    .find(|p| {
                        p.kind == "snapshot"
                            && p.evidence.get("target").and_then(|t| t.as_str())
                                == Some(self.target.as_str())
                    })
                    .ok_or_else(|| {
                        Error::bad_input(format!(
                            "drift-check of {}: no earlier snapshot step for this target in the run",
                            self.target
                        ))
                        .with_hint("add a `snapshot` step before it, or set `snapshot = \"FILE\"`")
                    })?;
                let path = prior
                    .evidence
                    .get("path")
                    .and_then(|p| p.as_str())
                    .map(PathBuf::from)
                    .ok_or_else(|| {
                        Error::runtime(format!("snapshot step {} recorded no path", prior.id))
                    })?;
                let hash = prior
                    .evidence
                    .get("sha256")
                    .and_then(|p| p.as_str())
                    .map(str::to_string);
                (path, hash, format!("snapshot step {}", prior.id))
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
                    evidence: json!({"target": self.target, "snapshot": path.display().to_string(), "expected_sha256": h, "sha256": now}),
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
        let evidence = json!({
            "target": self.target,
            "snapshot": path.display().to_string(),
            "drift": !drift.is_empty(),
            "differences": lines,
        });
        if drift.is_empty() {
            Ok(StepOutcome::ok(
                format!("{}: no drift since {from}", self.target),
                evidence,
            ))
        } else {
            Ok(StepOutcome {
                summary: format!("{}: drifted since {from}", self.target),
                evidence,
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
