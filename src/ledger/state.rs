//! Where a run stands, derived by replaying its ledger records.

use super::Record;
use super::entry::{Decision, Entry, Status};
use crate::vocab::Hazard;
use crate::vocab::StepState;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct Approval {
    pub seq: i64,
    pub checkpoint: String,
    pub approver: String,
    pub role: String,
    pub decision: Decision,
    pub comment: Option<String>,
    /// The evidence hash the approver saw; the approval counts only while it is current.
    pub evidence_hash: String,
    /// How it was given: "cli" (cutover approve), "tui", "command-line flag" (--approve-as).
    pub via: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub step_id: String,
    pub kind: String,
    pub phase: String,
    pub state: StepState,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub evidence: serde_json::Value,
    pub evidence_hash: Option<String>,
    pub hazards: Vec<Hazard>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub elapsed_ms: Option<u64>,
}

impl StepRecord {
    fn new(step: &str, kind: String, phase: String, state: StepState, at: &str) -> StepRecord {
        StepRecord {
            step_id: step.to_string(),
            kind,
            phase,
            state,
            summary: None,
            error: None,
            evidence: serde_json::Value::Null,
            evidence_hash: None,
            hazards: Vec::new(),
            started_at: Some(at.to_string()),
            finished_at: None,
            elapsed_ms: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct RunState {
    pub run_id: String,
    pub runbook: String,
    pub operator: String,
    pub started_at: String,
    pub runbook_hash: String,
    pub status: Status,
    pub finished: bool,
    pub steps: BTreeMap<String, StepRecord>,
    pub approvals: Vec<Approval>,
    /// The checkpoint the run last stopped at, with the evidence hash shown then.
    pub waiting_at: Option<(String, String)>,
}

impl RunState {
    pub fn from_records(records: &[Record]) -> RunState {
        let mut st = RunState::default();
        for r in records {
            let Some(entry) = r.entry() else {
                continue;
            };
            let step = r.step_id.clone().unwrap_or_default();
            st.apply(r, &step, entry);
        }
        st
    }

    fn apply(&mut self, r: &Record, step: &str, entry: Entry) {
        let at = &r.created_at;
        let new_step = |kind: &str, phase: &str, state| {
            StepRecord::new(step, kind.to_string(), phase.to_string(), state, at)
        };
        match entry {
            Entry::RunStarted(e) => {
                self.run_id = r.run_id.clone();
                self.runbook = r.runbook.clone();
                self.operator = e.operator;
                self.started_at = at.clone();
                self.runbook_hash = e.runbook_hash;
            }
            Entry::RunResumed(_) => self.status = Status::Running,
            Entry::StepStarted(e) => {
                let s = self
                    .steps
                    .entry(step.to_string())
                    .or_insert_with(|| new_step(&e.kind, &e.phase, StepState::Running));
                s.state = StepState::Running;
                s.error = None;
                s.started_at = Some(at.clone());
                self.status = Status::Running;
            }
            Entry::StepDone(e) => {
                let s = self
                    .steps
                    .entry(step.to_string())
                    .or_insert_with(|| new_step(&e.kind, &e.phase, StepState::Running));
                s.state = StepState::Done;
                s.summary = Some(e.summary);
                s.error = None;
                s.evidence = e.evidence;
                s.evidence_hash = Some(e.evidence_hash);
                s.hazards = e.hazards.unwrap_or_default();
                s.finished_at = Some(at.clone());
                s.elapsed_ms = Some(e.elapsed_ms);
                self.leave_checkpoint(step);
            }
            Entry::StepFailed(e) => {
                let s = self
                    .steps
                    .entry(step.to_string())
                    .or_insert_with(|| new_step(&e.kind, &e.phase, StepState::Running));
                s.state = StepState::Failed;
                s.summary = e.summary;
                s.error = Some(e.error);
                s.evidence = e.evidence.unwrap_or(serde_json::Value::Null);
                s.evidence_hash = None;
                s.hazards = Vec::new();
                s.finished_at = Some(at.clone());
                s.elapsed_ms = Some(e.elapsed_ms);
                self.status = if e.check_failed {
                    Status::CheckFailed
                } else {
                    Status::Failed
                };
                self.leave_checkpoint(step);
            }
            Entry::StepRolledBack(_) => {
                if let Some(s) = self.steps.get_mut(step) {
                    s.state = StepState::RolledBack;
                }
            }
            Entry::CheckpointWaiting(e) => {
                self.status = Status::AwaitingApproval;
                self.waiting_at = Some((step.to_string(), e.evidence_hash));
                let s = self.steps.entry(step.to_string()).or_insert_with(|| {
                    new_step("checkpoint", &e.phase, StepState::AwaitingApproval)
                });
                s.state = StepState::AwaitingApproval;
            }
            Entry::Approval(e) => self.approvals.push(Approval {
                seq: r.seq,
                checkpoint: step.to_string(),
                approver: e.approver,
                role: e.role,
                decision: e.decision,
                comment: e.comment,
                evidence_hash: e.evidence_hash,
                via: e.via,
                at: at.clone(),
            }),
            Entry::RollbackStarted(_) | Entry::LockReleased(_) => {}
            Entry::RunStopped(e) => self.status = e.status,
            Entry::RunCompleted(e) => {
                self.status = e.status;
                self.finished = true;
            }
        }
    }

    /// A checkpoint the run waited at is no longer waited at once its step ends.
    fn leave_checkpoint(&mut self, step: &str) {
        if self.waiting_at.as_ref().is_some_and(|(c, _)| c == step) {
            self.waiting_at = None;
        }
    }

    pub fn is_done(&self, step: &str) -> bool {
        self.steps
            .get(step)
            .map(|s| s.state == StepState::Done)
            .unwrap_or(false)
    }

    /// Approvals of a checkpoint that are still valid for `evidence_hash`, one per approver.
    pub fn current_decisions(&self, checkpoint: &str, evidence_hash: &str) -> Vec<&Approval> {
        let mut by_approver: BTreeMap<&str, &Approval> = BTreeMap::new();
        for a in self
            .approvals
            .iter()
            .filter(|a| a.checkpoint == checkpoint && a.evidence_hash == evidence_hash)
        {
            by_approver.insert(a.approver.as_str(), a); // the latest decision of each person counts
        }
        let mut v: Vec<&Approval> = by_approver.into_values().collect();
        v.sort_by_key(|a| a.seq);
        v
    }
}
