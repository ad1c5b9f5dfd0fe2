//! Evidence views: one file per kind of evidence, chosen by the evidence kind the step
//! registry (`steps::KINDS`) gives the step's kind. A new kind of evidence adds one
//! file here and one arm in [`EvidenceModel::parse`]; evidence a view cannot read (or
//! of a kind this release does not know) is shown as JSON.
//!
//! Models are built off the UI thread (a million-row data diff takes a while to
//! parse); views only ever build what is visible.

pub mod backup;
pub mod check;
pub mod checkpoint;
pub mod data_diff;
pub mod hazards;
pub mod json;
pub mod pane;
pub mod schema_diff;

use crate::steps::{Evidence, EvidenceKind};
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
}

/// A step's evidence, ready to draw.
#[derive(Debug)]
pub struct EvidenceModel {
    pub kind: String,
    pub hazards: Vec<Hazard>,
    pub body: Body,
}

impl EvidenceModel {
    /// Choose the view for a step's evidence by its kind. Never fails: evidence the
    /// kind's view cannot read is shown as JSON.
    pub fn parse(kind: &str, evidence: &Value) -> EvidenceModel {
        let hazards = hazards::parse(evidence);
        let body = match crate::steps::read_evidence(kind, evidence) {
            Some(typed) => Self::typed(&typed, evidence),
            None => Self::by_view(kind, evidence),
        }
        .unwrap_or_else(|| Body::Json(json::JsonModel::new(evidence)));
        EvidenceModel {
            kind: kind.to_string(),
            hazards,
            body,
        }
    }

    /// The view for evidence read as its kind's struct.
    fn typed(typed: &Evidence, evidence: &Value) -> Option<Body> {
        match typed {
            Evidence::Backup(e) => Some(Body::Backup(backup::BackupModel::from_backup(e))),
            Evidence::Restore(e) => Some(Body::Backup(backup::BackupModel::from_restore(e))),
            Evidence::Check(e) => Some(Body::Check(check::CheckModel::from_evidence(e))),
            Evidence::Checkpoint(e) => Some(Body::Checkpoint(
                checkpoint::CheckpointModel::from_evidence(e),
            )),
            // The diff views read the diff reports' JSON themselves (`schema::report`,
            // `data::diff` and `data::reconcile` write it).
            Evidence::DiffSchema(_) | Evidence::DriftCheck(_) => {
                schema_diff::SchemaDiffModel::parse(evidence).map(Body::SchemaDiff)
            }
            Evidence::DiffData(_) | Evidence::Sync(_) => {
                data_diff::DataDiffModel::parse(evidence).map(Body::DataDiff)
            }
            Evidence::Copy(_)
            | Evidence::Migrate(_)
            | Evidence::Snapshot(_)
            | Evidence::Sql(_)
            | Evidence::None => None,
        }
    }

    /// Evidence that does not read as its kind's struct (written by hand, by another
    /// tool or by a later release): the view the registry names for the kind, if it
    /// can read it.
    fn by_view(kind: &str, evidence: &Value) -> Option<Body> {
        let view = crate::steps::kind(kind).map_or(EvidenceKind::Plain, |k| k.evidence);
        match view {
            EvidenceKind::SchemaDiff => {
                schema_diff::SchemaDiffModel::parse(evidence).map(Body::SchemaDiff)
            }
            EvidenceKind::DataDiff => data_diff::DataDiffModel::parse(evidence).map(Body::DataDiff),
            EvidenceKind::Check => check::CheckModel::parse(evidence).map(Body::Check),
            EvidenceKind::Backup => backup::BackupModel::parse(evidence).map(Body::Backup),
            // A checkpoint's evidence is the engine's own: it reads or it is shown as JSON.
            EvidenceKind::Checkpoint | EvidenceKind::Plain => None,
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
        }
    }
}

/// Look up the first present key among `names`.
pub(crate) fn pick<'a>(v: &'a Value, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .find_map(|n| v.get(*n))
        .filter(|x| !x.is_null())
}

/// A value as one line of text; `None` for JSON null.
pub(crate) fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

pub(crate) fn u64_of(v: &Value, names: &[&str]) -> Option<u64> {
    pick(v, names).and_then(|x| {
        x.as_u64()
            .or_else(|| x.as_i64().map(|i| i.max(0) as u64))
            .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
    })
}

pub(crate) fn str_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(scalar).collect(),
        Some(Value::String(s)) => s.lines().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}
