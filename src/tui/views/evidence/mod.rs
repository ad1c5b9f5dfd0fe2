//! Evidence views: one file per kind of evidence, each built from its step kind's
//! evidence struct (read back through the step registry, `steps::read_evidence`). A
//! new kind of evidence adds one file here and one arm in [`EvidenceModel::typed`]
//! (the match over `steps::Evidence` is exhaustive); evidence that does not read as its
//! kind's struct (or of a kind this release does not know) is shown as JSON.
//!
//! Models are built off the UI thread (a million-row data diff takes a while to
//! parse); views only ever build what is visible.

pub mod backfill;
pub mod backup;
pub mod check;
pub mod checklist;
pub mod checkpoint;
pub mod command;
pub mod consolidate;
pub mod data_diff;
pub mod hazards;
pub mod json;
pub mod pane;
pub mod schema_diff;
pub mod sync_check;

use crate::steps::Evidence;
use crate::vocab::Hazard;
use serde_json::Value;

#[derive(Debug)]
pub enum Body {
    SchemaDiff(schema_diff::SchemaDiffModel),
    DataDiff(data_diff::DataDiffModel),
    Check(check::CheckModel),
    Checkpoint(checkpoint::CheckpointModel),
    Backup(backup::BackupModel),
    Json(json::JsonModel),
    SyncCheck(sync_check::SyncCheckModel),
    Checklist(checklist::ChecklistModel),
    Backfill(backfill::BackfillModel),
    Consolidate(consolidate::ConsolidateModel),
    Command(command::CommandModel),
}

/// A step's evidence, ready to draw.
#[derive(Debug)]
pub struct EvidenceModel {
    pub kind: String,
    pub hazards: Vec<Hazard>,
    pub body: Body,
    /// The step passed, but not cleanly (`steps::Evidence::warning`).
    pub warning: Option<String>,
}

impl EvidenceModel {
    /// Choose the view for a step's evidence: it is read as its kind's struct (the
    /// step registry, `steps::KINDS`, knows which) and shown by that struct's view.
    /// Never fails: evidence that does not read (written by hand, by another tool or
    /// by a later release) and kinds without a view of their own are shown as JSON.
    pub fn parse(kind: &str, evidence: &Value) -> EvidenceModel {
        let (hazards, body, warning) = match crate::steps::read_evidence(kind, evidence) {
            Some(typed) => (hazards::of(&typed), Self::typed(&typed), typed.warning()),
            None => (hazards::recorded(evidence), None, None),
        };
        EvidenceModel {
            kind: kind.to_string(),
            hazards,
            body: body.unwrap_or_else(|| Body::Json(json::JsonModel::new(evidence))),
            warning,
        }
    }

    /// The view of evidence read as its kind's struct; `None` for the JSON view.
    fn typed(typed: &Evidence) -> Option<Body> {
        match typed {
            Evidence::Backup(e) => Some(Body::Backup(backup::BackupModel::from_backup(e))),
            Evidence::Restore(e) => Some(Body::Backup(backup::BackupModel::from_restore(e))),
            Evidence::Check(e) => Some(Body::Check(check::CheckModel::from_evidence(e))),
            Evidence::Checkpoint(e) => Some(Body::Checkpoint(
                checkpoint::CheckpointModel::from_evidence(e),
            )),
            Evidence::DiffSchema(e) => {
                Some(Body::SchemaDiff(schema_diff::SchemaDiffModel::from_diff(e)))
            }
            Evidence::DriftCheck(e) => Some(Body::SchemaDiff(
                schema_diff::SchemaDiffModel::from_drift(e),
            )),
            Evidence::DiffData(e) => Some(Body::DataDiff(data_diff::DataDiffModel::from_diff(e))),
            Evidence::Sync(e) => data_diff::DataDiffModel::from_sync(e).map(Body::DataDiff),
            Evidence::SyncCheck(e) => Some(Body::SyncCheck(
                sync_check::SyncCheckModel::from_evidence(e),
            )),
            Evidence::Checklist(e) => {
                Some(Body::Checklist(checklist::ChecklistModel::from_evidence(e)))
            }
            Evidence::Command(e) => Some(Body::Command(command::CommandModel::from_evidence(e))),
            // Counts and file names read well as JSON.
            Evidence::ImportCsv(_) | Evidence::ExportCsv(_) => None,
            Evidence::Copy(_)
            | Evidence::Migrate(_)
            | Evidence::Snapshot(_)
            | Evidence::Sql(_)
            | Evidence::None => None,
            Evidence::Backfill(e) => {
                Some(Body::Backfill(backfill::BackfillModel::from_evidence(e)))
            }
            Evidence::Consolidate(e) => Some(Body::Consolidate(
                consolidate::ConsolidateModel::from_evidence(e),
            )),
        }
    }

    pub fn view_name(&self) -> &'static str {
        match self.body {
            Body::SchemaDiff(_) => "schema diff",
            Body::DataDiff(_) => "data diff",
            Body::Check(_) => "check results",
            Body::Checkpoint(_) => "checkpoint decisions",
            Body::Backup(_) => "backup manifest",
            Body::Json(_) => "evidence",
            Body::SyncCheck(_) => "sync check",
            Body::Checklist(_) => "checklist",
            Body::Backfill(_) => "backfill",
            Body::Consolidate(_) => "consolidate",
            Body::Command(_) => "command output",
        }
    }
}
