//! Step kinds. Every kind implements [`Step`]; the engine knows nothing of kinds.
//! Adding a kind is one new file here plus one line in [`KINDS`] and [`build`].

use crate::db::Targets;
use crate::error::Result;
use crate::runbook::Params;
use crate::vocab::{EngineEvent, EventSink, Progress};
use async_trait::async_trait;
use std::path::Path;

pub use crate::runbook::BuildContext;
pub use crate::vocab::Hazard;

/// What a step produced.
#[derive(Debug, Clone, Default)]
pub struct StepOutcome {
    /// One line for progress output and the TUI.
    pub summary: String,
    /// The evidence a person or CI judges by; stored in the ledger and hashed.
    pub evidence: serde_json::Value,
    /// Set when the step ran but its assertion does not hold (check failed, diff not
    /// equal): the run stops with exit code 1 and the evidence is still recorded.
    pub failure: Option<String>,
    /// Hazards raise what the next checkpoint requires.
    pub hazards: Vec<Hazard>,
}

impl StepOutcome {
    pub fn ok(summary: impl Into<String>, evidence: serde_json::Value) -> Self {
        StepOutcome {
            summary: summary.into(),
            evidence,
            ..Default::default()
        }
    }
}

/// A step completed earlier in the same run, with its recorded evidence.
#[derive(Debug, Clone)]
pub struct PriorStep {
    pub id: String,
    pub kind: String,
    pub evidence: serde_json::Value,
}

/// What a step may use while running.
pub struct StepContext<'a> {
    pub run_id: &'a str,
    pub phase: &'a str,
    pub step_id: &'a str,
    /// The runbook's directory: relative paths resolve from here.
    pub dir: &'a Path,
    pub targets: &'a Targets,
    pub events: &'a EventSink,
    /// Steps completed earlier in this run (in runbook order), e.g. a backup to restore.
    pub prior: &'a [PriorStep],
}

impl StepContext<'_> {
    pub fn progress(&self, progress: Progress) {
        self.events.emit(EngineEvent::StepProgress {
            step: self.step_id.to_string(),
            progress,
        });
    }
    pub fn log(&self, message: impl Into<String>) {
        let message = crate::redact::scrub(&message.into());
        tracing::info!(step = self.step_id, "{message}");
        self.events.emit(EngineEvent::StepLog {
            step: self.step_id.to_string(),
            message,
        });
    }
    pub fn prior(&self, id: &str) -> Option<&PriorStep> {
        self.prior.iter().rev().find(|p| p.id == id)
    }
}

#[async_trait]
pub trait Step: Send + Sync {
    /// The kind as written in runbooks (`sql`, `backup`, ...).
    fn kind(&self) -> &'static str;
    /// Names of the targets this step touches.
    fn targets(&self) -> Vec<String>;
    /// Lines describing what the step will do, for `validate` and the plan.
    fn plan(&self, targets: &Targets) -> Vec<String>;
    /// Checkpoints are the one kind the engine treats specially.
    fn checkpoint(&self) -> Option<&crate::steps::checkpoint::CheckpointSpec> {
        None
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome>;
}

pub mod backup;
pub mod check;
pub mod checkpoint;
pub mod copy;
pub mod diff_data;
pub mod diff_schema;
pub mod drift_check;
pub mod migrate;
pub mod once;
pub mod restore;
pub mod snapshot;
pub mod sql;
pub mod sync;

/// Every step kind, for validation messages.
pub const KINDS: &[&str] = &[
    "backup",
    "check",
    "checkpoint",
    "copy",
    "diff-schema",
    "drift-check",
    "diff-data",
    "migrate",
    "restore",
    "snapshot",
    "sql",
    "sync",
];

/// A runbook whose steps are built: what the engine runs.
pub type Runbook = crate::runbook::Runbook<Box<dyn Step>>;
pub type Phase = crate::runbook::Phase<Box<dyn Step>>;
pub type StepDef = crate::runbook::StepDef<Box<dyn Step>>;

/// Builds runbook steps from their tables (the runbook parser calls it per step).
pub struct Registry;

impl crate::runbook::StepFactory for Registry {
    type Step = Box<dyn Step>;
    fn kinds(&self) -> &'static [&'static str] {
        KINDS
    }
    fn build(&self, kind: &str, p: &Params, ctx: &BuildContext) -> Result<Box<dyn Step>> {
        build(kind, p, ctx)
    }
}

impl Runbook {
    /// Read, parse and validate a runbook file, building every step.
    pub fn load(path: &Path) -> Result<Runbook> {
        crate::runbook::load(path, &Registry)
    }
}

/// Build a step of `kind` from its table in the runbook.
pub fn build(kind: &str, p: &Params, ctx: &BuildContext) -> Result<Box<dyn Step>> {
    Ok(match kind {
        "backup" => Box::new(backup::Backup::build(p, ctx)?),
        "check" => Box::new(check::Check::build(p, ctx)?),
        "checkpoint" => Box::new(checkpoint::Checkpoint::build(p, ctx)?),
        "diff-schema" => Box::new(diff_schema::DiffSchema::build(p, ctx)?),
        "drift-check" => Box::new(drift_check::DriftCheck::build(p, ctx)?),
        "snapshot" => Box::new(snapshot::SnapshotStep::build(p, ctx)?),
        "copy" => Box::new(copy::Copy::build(p, ctx)?),
        "migrate" => Box::new(migrate::Migrate::build(p, ctx)?),
        "restore" => Box::new(restore::Restore::build(p, ctx)?),
        "sql" => Box::new(sql::Sql::build(p, ctx)?),
        "diff-data" => Box::new(diff_data::DiffData::build(p, ctx)?),
        "sync" => Box::new(sync::Sync::build(p, ctx)?),
        other => {
            return Err(p.error_at(
                "kind",
                format!(
                    "unknown step kind \"{other}\"; expected one of {}",
                    KINDS.join(", ")
                ),
            ));
        }
    })
}
