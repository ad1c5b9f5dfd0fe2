//! `checkpoint`: a gate. The engine stops here until the approval policy is met.

use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::Targets;
use crate::error::{Error, Result};
use crate::runbook::Params;
use async_trait::async_trait;

#[derive(Debug, Clone)]
pub struct CheckpointSpec {
    pub title: String,
    /// Overrides of the runbook policy for this checkpoint.
    pub approvals: Option<u32>,
    pub roles: Option<Vec<String>>,
    /// Free text telling the approver what to look at.
    pub instructions: Option<String>,
}

pub struct Checkpoint {
    pub spec: CheckpointSpec,
}

impl Checkpoint {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        if ctx.rollback {
            let v = p.raw("kind").expect("a step has a kind");
            return Err(p.value_error(
                v,
                format!(
                    "{} is a checkpoint inside a rollback phase; a rollback runs when the cutover already failed and must not stop to wait there: move the checkpoint before the step whose failure it guards",
                    p.what
                ),
            ));
        }
        let approvals = match p.int("approvals")? {
            Some(n) if n < 1 => {
                return Err(p.error_at("approvals", "`approvals` must be at least 1"));
            }
            Some(n) => Some(n as u32),
            None => None,
        };
        Ok(Checkpoint {
            spec: CheckpointSpec {
                title: p.str("title")?.unwrap_or_else(|| "checkpoint".into()),
                approvals,
                roles: p.str_list("roles")?,
                instructions: p.str("instructions")?,
            },
        })
    }
}

#[async_trait]
impl Step for Checkpoint {
    fn kind(&self) -> &'static str {
        "checkpoint"
    }
    fn targets(&self) -> Vec<String> {
        Vec::new()
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        vec![format!("wait for approval: {}", self.spec.title)]
    }
    fn checkpoint(&self) -> Option<&CheckpointSpec> {
        Some(&self.spec)
    }
    async fn run(&self, _ctx: &StepContext<'_>) -> Result<StepOutcome> {
        Err(Error::runtime(
            "a checkpoint is handled by the engine, not run",
        ))
    }
}

/// A passed checkpoint's evidence: the decisions that passed it and what they bound to.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckpointEvidence {
    /// The hash of the evidence before the checkpoint that the approvers saw.
    pub evidence_hash: String,
    pub approvals: Vec<CheckpointDecision>,
    /// Hazard codes the approval covered: those of the SQL the steps after the
    /// checkpoint run, and those earlier steps raised.
    #[serde(default)]
    pub hazards: Vec<String>,
    /// The same hazards one by one, with their messages and `file:line`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hazard_details: Vec<crate::vocab::Hazard>,
    /// The files the approvals covered (path relative to the runbook, sha256): the
    /// steps after the checkpoint refuse to run if one changed since.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<(String, String)>,
    /// Steps since the previous checkpoint that passed with a warning (a data diff that
    /// found differences), one line each: what the approvers were shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One approver's current decision at a checkpoint.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckpointDecision {
    pub approver: String,
    pub role: String,
    pub decision: crate::ledger::Decision,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub via: String,
    #[serde(default)]
    pub at: String,
}
