//! What a ledger record says: one type for every record kind, used both to write a
//! record and to replay it. The kind is stored in its own column and the rest as the
//! JSON payload; field names and order are those the ledger has always stored, so
//! records written by earlier releases replay through the same type and their hashes
//! (which cover the stored bytes, see `chain.rs`) are untouched.
//!
//! A step's evidence is opaque at this layer (the ledger sits below the steps): the
//! engine writes `Entry<E>` with its typed evidence, replay reads it back as JSON.

use crate::vocab::Hazard;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Where a run stands, as recorded. Snake case in JSON, exactly the strings stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Running,
    AwaitingApproval,
    CheckFailed,
    Failed,
    Rejected,
    Interrupted,
    Completed,
    RolledBack,
    /// Given up with `cutover run --new --abandon REASON`; a later run replaced it.
    Abandoned,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::AwaitingApproval => "awaiting_approval",
            Status::CheckFailed => "check_failed",
            Status::Failed => "failed",
            Status::Rejected => "rejected",
            Status::Interrupted => "interrupted",
            Status::Completed => "completed",
            Status::RolledBack => "rolled_back",
            Status::Abandoned => "abandoned",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An approver's decision at a checkpoint (shared vocabulary: engine events carry it).
pub use crate::vocab::Decision;

/// Every kind of record a run writes. `E` is the step evidence: typed when written by
/// the engine, JSON when replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum Entry<E = serde_json::Value> {
    RunStarted(RunStarted),
    RunResumed(RunResumed),
    StepStarted(StepStarted),
    StepDone(StepDone<E>),
    StepFailed(StepFailed<E>),
    /// Replayed (the step shows as rolled back); the engine does not write it yet.
    StepRolledBack(StepRolledBack),
    CheckpointWaiting(CheckpointWaiting),
    Approval(ApprovalGiven),
    RollbackStarted(RollbackStarted),
    /// The run was given up so that a new one could start (`--new --abandon REASON`).
    RunAbandoned(RunAbandoned),
    RunStopped(RunStopped),
    RunCompleted(RunCompleted),
    /// `cutover unlock`: a lock whose holder is gone was released by a person.
    LockReleased(LockReleased),
    /// `cutover diff data --apply` outside a runbook: what it changed, for the audit
    /// trail (a run of its own; replay ignores it).
    DataApplied(DataApplied),
    /// A batched step (backfill, consolidate) committed a batch in its target: its
    /// high-water mark, so a resume continues after it (replay ignores it).
    BatchCommitted(BatchCommitted),
    /// A person marked a checklist item pass or fail (`cutover checklist`, the TUI).
    ChecklistTick(ChecklistTicked),
    /// The run reached a checklist and stopped to wait for its items to be ticked.
    ChecklistWaiting(ChecklistWaiting),
}

/// One committed batch of a batched step, recorded right after the target's commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchCommitted {
    #[serde(default)]
    pub kind: String,
    /// The run whose effects these are (the run itself, or a rollback attempt).
    #[serde(default)]
    pub effects_of: String,
    /// What the batches walk: a table, or `legacy → target` for a consolidate.
    #[serde(default)]
    pub scope: String,
    /// 1-based number of the batch in the step (counting earlier attempts).
    #[serde(default)]
    pub batch: u64,
    /// The last key the batch covered, as text.
    #[serde(default)]
    pub high_water: String,
    /// Rows the step has done (filled, merged) and could not do, after this batch.
    #[serde(default)]
    pub rows_done: u64,
    #[serde(default)]
    pub rows_failed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStarted {
    #[serde(default)]
    pub operator: String,
    #[serde(default)]
    pub runbook_path: String,
    #[serde(default)]
    pub runbook_hash: String,
    /// Target name to its redacted URL.
    #[serde(default)]
    pub targets: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResumed {
    #[serde(default)]
    pub operator: String,
    #[serde(default)]
    pub runbook_hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepStarted {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub phase: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepDone<E = serde_json::Value> {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub phase: String,
    #[serde(default)]
    pub summary: String,
    pub evidence: E,
    #[serde(default)]
    pub evidence_hash: String,
    /// Absent on a checkpoint's record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hazards: Option<Vec<Hazard>>,
    #[serde(default)]
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepFailed<E = serde_json::Value> {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub phase: String,
    /// Present when the step ran but its assertion did not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub evidence: Option<E>,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub check_failed: bool,
    #[serde(default)]
    pub elapsed_ms: u64,
}

fn none<E>() -> Option<E> {
    None
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StepRolledBack {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointWaiting {
    #[serde(default)]
    pub phase: String,
    #[serde(default)]
    pub evidence_hash: String,
    #[serde(default)]
    pub required: u32,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Hazard codes raised since the previous checkpoint.
    #[serde(default)]
    pub hazards: Vec<String>,
    /// The hazards one by one, with their messages and `file:line`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hazard_details: Vec<Hazard>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalGiven {
    #[serde(default)]
    pub approver: String,
    #[serde(default)]
    pub role: String,
    pub decision: Decision,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub evidence_hash: String,
    #[serde(default)]
    pub runbook_hash: String,
    /// "cli" (cutover approve), "tui", "command-line flag" (--approve-as).
    #[serde(default)]
    pub via: String,
    /// The files the decision covered (path relative to the runbook -> sha256), so a
    /// stale approval can name the file that changed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
    /// An SSH signature (armored SSHSIG, namespace "cutover") over the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// For a withdrawal: whose rejections it withdraws.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdraws: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackStarted {
    #[serde(default)]
    pub operator: String,
    #[serde(default)]
    pub phases: Vec<String>,
    /// Which execution of a rollback this is in the run (1, 2, ...); each is its own
    /// attempt. Absent in records of earlier releases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Why it runs: "on demand", or "on failure of step X".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunAbandoned {
    #[serde(default)]
    pub operator: String,
    #[serde(default)]
    pub reason: String,
    /// The run started in its place.
    #[serde(default)]
    pub next_run: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStopped {
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Who interrupted the run (Ctrl-C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockReleased {
    /// Who released it, and why.
    #[serde(default)]
    pub by: String,
    #[serde(default)]
    pub reason: String,
    /// Where the lock was: a target ("target \"production\" (sqlite://…)") or the ledger.
    #[serde(default)]
    pub lock: String,
    /// The run that held it, and its holder as recorded in the lock.
    #[serde(default)]
    pub held_by_run: String,
    #[serde(default)]
    pub holder: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub pid: i64,
    #[serde(default)]
    pub since: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunCompleted {
    #[serde(default = "completed")]
    pub status: Status,
}

/// What `cutover diff data --apply` applied to one table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataApplied {
    /// Redacted URLs.
    pub source: String,
    pub target: String,
    pub table: String,
    pub target_table: String,
    pub inserts: u64,
    pub updates: u64,
    pub deletes: u64,
    pub applied: DataAppliedStatements,
    pub before: DataAppliedBefore,
    pub equal_after: bool,
    pub operator: String,
}

/// How the statements were applied (the fields of `data::apply::Applied`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataAppliedStatements {
    pub statements: u64,
    pub batches: u64,
    pub rows_affected: u64,
    pub batch_commit: bool,
}

/// The differences found before applying.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataAppliedBefore {
    pub only_in_source: u64,
    pub only_in_target: u64,
    pub changed: u64,
}

/// One tick of a checklist item, recorded under the run and the checklist step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistTicked {
    pub item: String,
    /// The item's id and wording the person confirmed (a reworded item needs a new tick).
    pub item_hash: String,
    pub passed: bool,
    pub by: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// "cli" (cutover checklist) or "tui".
    #[serde(default)]
    pub via: String,
    #[serde(default)]
    pub runbook_hash: String,
    /// An SSH signature (armored SSHSIG, namespace "cutover") over the tick.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistWaiting {
    #[serde(default)]
    pub phase: String,
    /// Items not ticked yet when the run stopped.
    #[serde(default)]
    pub pending: Vec<String>,
}

fn completed() -> Status {
    Status::Completed
}

impl<E: Serialize> Entry<E> {
    /// The kind column and the payload JSON, as stored.
    pub fn to_stored(&self) -> (String, serde_json::Value) {
        let mut v = serde_json::to_value(self).expect("ledger entries serialize");
        let kind = v
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or_default()
            .to_string();
        let payload = v
            .get_mut("payload")
            .map(serde_json::Value::take)
            .unwrap_or_else(|| serde_json::json!({}));
        (kind, payload)
    }
}

impl Entry {
    /// Read a stored record back; `None` for a kind this release does not know (one
    /// from a later release) or a payload that does not fit.
    pub fn from_stored(kind: &str, payload: &str) -> Option<Entry> {
        let payload: serde_json::Value = serde_json::from_str(payload).ok()?;
        let mut tagged = serde_json::Map::new();
        tagged.insert("kind".into(), kind.into());
        tagged.insert("payload".into(), payload);
        serde_json::from_value(serde_json::Value::Object(tagged)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_shapes_are_the_historic_ones() {
        let e: Entry = Entry::RunStopped(RunStopped {
            status: Status::Interrupted,
            exit_code: None,
            operator: Some("ana".into()),
        });
        let (kind, payload) = e.to_stored();
        assert_eq!(kind, "run_stopped");
        assert_eq!(
            payload.to_string(),
            r#"{"status":"interrupted","operator":"ana"}"#
        );
        let failed: Entry = Entry::StepFailed(StepFailed {
            kind: "sql".into(),
            phase: "p".into(),
            summary: None,
            evidence: None,
            error: "boom".into(),
            check_failed: false,
            elapsed_ms: 3,
        });
        assert_eq!(
            failed.to_stored().1.to_string(),
            r#"{"kind":"sql","phase":"p","error":"boom","check_failed":false,"elapsed_ms":3}"#
        );
        let back = Entry::from_stored("step_failed", &failed.to_stored().1.to_string());
        assert_eq!(back, Some(failed));
        assert_eq!(Entry::from_stored("data_applied", "{}"), None);
        // What `cutover diff data --apply` has always stored reads and writes back as is.
        let stored = r#"{"source":"sqlite://a.db","target":"sqlite://b.db","table":"t","target_table":"t","inserts":1,"updates":2,"deletes":0,"applied":{"statements":3,"batches":1,"rows_affected":3,"batch_commit":false},"before":{"only_in_source":1,"only_in_target":0,"changed":2},"equal_after":true,"operator":"ana"}"#;
        let e = Entry::from_stored("data_applied", stored).expect("data_applied reads");
        assert!(matches!(e, Entry::DataApplied(_)));
        let (kind, payload) = e.to_stored();
        assert_eq!(
            (kind.as_str(), payload.to_string().as_str()),
            ("data_applied", stored)
        );
        assert_eq!(
            Entry::from_stored("run_completed", "{}"),
            Some(Entry::RunCompleted(RunCompleted {
                status: Status::Completed
            }))
        );
    }
}
