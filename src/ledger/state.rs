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
    /// The runbook's hash and the files the decision covered, when it was given.
    pub runbook_hash: String,
    pub files: BTreeMap<String, String>,
    pub signature: Option<String>,
    /// For a withdrawal: whose rejections it withdraws.
    pub withdraws: Vec<String>,
}

/// A checklist item ticked pass or fail, as replayed.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistTick {
    pub seq: i64,
    /// The checklist step.
    pub step: String,
    pub item: String,
    pub item_hash: String,
    pub passed: bool,
    pub by: String,
    pub role: String,
    pub note: Option<String>,
    pub via: String,
    pub at: String,
    pub signature: Option<String>,
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

/// The latest execution of a rollback in a run: each `cutover rollback` (or rollback on
/// failure) is its own attempt; a killed one resumes with the steps it already did.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RollbackAttempt {
    pub attempt: u32,
    pub phases: Vec<String>,
    pub trigger: Option<String>,
    /// Steps (and the approval gate) completed in this attempt.
    pub done: std::collections::BTreeSet<String>,
    pub finished: bool,
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
    /// Checklist items ticked, in ledger order.
    pub ticks: Vec<ChecklistTick>,
    /// The checkpoint the run last stopped at, with the evidence hash shown then.
    pub waiting_at: Option<(String, String)>,
    /// The latest rollback attempt, if the run was ever rolled back.
    pub rollback: Option<RollbackAttempt>,
    /// The targets the run started with: name to redacted URL (`--target` overrides
    /// included), so a resume or rollback can refuse to act on other databases.
    #[serde(skip)]
    pub targets: BTreeMap<String, String>,
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
                self.targets = e.targets;
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
                if let Some(a) = self.rollback.as_mut().filter(|a| !a.finished) {
                    a.done.insert(step.to_string());
                }
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
                runbook_hash: e.runbook_hash,
                files: e.files,
                signature: e.signature,
                withdraws: e.withdraws,
            }),
            // A rollback in progress is not finished, even of a run that had completed.
            Entry::RollbackStarted(e) => {
                self.finished = false;
                self.status = Status::Running;
                let prev = self.rollback.as_ref().map(|a| a.attempt).unwrap_or(0);
                self.rollback = Some(RollbackAttempt {
                    attempt: e.attempt.unwrap_or(prev + 1),
                    phases: e.phases,
                    trigger: e.trigger,
                    done: Default::default(),
                    finished: false,
                });
            }
            Entry::RunAbandoned(_) => {
                self.status = Status::Abandoned;
                self.finished = true;
            }
            Entry::ChecklistTick(e) => self.ticks.push(ChecklistTick {
                seq: r.seq,
                step: step.to_string(),
                item: e.item,
                item_hash: e.item_hash,
                passed: e.passed,
                by: e.by,
                role: e.role,
                note: e.note,
                via: e.via,
                at: at.clone(),
                signature: e.signature,
            }),
            Entry::ChecklistWaiting(e) => {
                self.status = Status::AwaitingApproval;
                let s = self.steps.entry(step.to_string()).or_insert_with(|| {
                    new_step("checklist", &e.phase, StepState::AwaitingApproval)
                });
                s.state = StepState::AwaitingApproval;
            }
            // A record of `cutover diff data --apply` outside any run: nothing to replay.
            Entry::DataApplied(_) => {}
            // `cutover unlock`: a lock released by a person; the run's state is unchanged.
            Entry::LockReleased(_) => {}
            // A batched step's high-water mark: read by the step itself when it resumes.
            Entry::BatchCommitted(_) => {}
            Entry::RunStopped(e) => self.status = e.status,
            Entry::RunCompleted(e) => {
                self.status = e.status;
                self.finished = true;
                if let Some(a) = self.rollback.as_mut() {
                    a.finished = true;
                }
            }
        }
    }

    /// A checkpoint the run waited at is no longer waited at once its step ends.
    fn leave_checkpoint(&mut self, step: &str) {
        if self.waiting_at.as_ref().is_some_and(|(c, _)| c == step) {
            self.waiting_at = None;
        }
    }

    /// The ticks recorded for checklist step `step`, in ledger order.
    pub fn ticks_of(&self, step: &str) -> Vec<&ChecklistTick> {
        self.ticks.iter().filter(|t| t.step == step).collect()
    }

    pub fn is_done(&self, step: &str) -> bool {
        self.steps
            .get(step)
            .map(|s| s.state == StepState::Done)
            .unwrap_or(false)
    }

    /// Decisions at a checkpoint that are still valid for `evidence_hash`, one per
    /// approver (names compared normalized). The latest decision of each person counts,
    /// except that a rejection stands until it is withdrawn: a later approval by the
    /// rejecter does not replace it. Withdrawals themselves are not returned.
    pub fn current_decisions(&self, checkpoint: &str, evidence_hash: &str) -> Vec<&Approval> {
        use crate::vocab::identity::normalize_name;
        let mut by_approver: BTreeMap<String, &Approval> = BTreeMap::new();
        for a in self
            .approvals
            .iter()
            .filter(|a| a.checkpoint == checkpoint && a.evidence_hash == evidence_hash)
        {
            let who = normalize_name(&a.approver);
            match a.decision {
                Decision::Withdraw => {
                    for w in &a.withdraws {
                        let w = normalize_name(w);
                        if by_approver
                            .get(&w)
                            .is_some_and(|d| d.decision == Decision::Reject)
                        {
                            by_approver.remove(&w);
                        }
                    }
                }
                _ if by_approver
                    .get(&who)
                    .is_some_and(|d| d.decision == Decision::Reject) => {}
                _ => {
                    by_approver.insert(who, a);
                }
            }
        }
        let mut v: Vec<&Approval> = by_approver.into_values().collect();
        v.sort_by_key(|a| a.seq);
        v
    }
}
