//! Where a run stands, derived by replaying its ledger records.

use super::Record;
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
    /// "approve" or "reject".
    pub decision: String,
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
    /// "running", "awaiting_approval", "failed", "rejected", "interrupted", "completed", "rolled_back"
    pub status: String,
    pub finished: bool,
    pub steps: BTreeMap<String, StepRecord>,
    pub approvals: Vec<Approval>,
    /// The checkpoint the run last stopped at, with the evidence hash shown then.
    pub waiting_at: Option<(String, String)>,
}

impl RunState {
    pub fn from_records(records: &[Record]) -> RunState {
        let mut st = RunState {
            status: "running".into(),
            ..Default::default()
        };
        for r in records {
            let p = r.payload_json();
            let gs = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let step = r.step_id.clone().unwrap_or_default();
            match r.kind.as_str() {
                "run_started" => {
                    st.run_id = r.run_id.clone();
                    st.runbook = r.runbook.clone();
                    st.operator = gs("operator");
                    st.started_at = r.created_at.clone();
                    st.runbook_hash = gs("runbook_hash");
                }
                "run_resumed" => {
                    st.status = "running".into();
                }
                "step_started" => {
                    let e = st.steps.entry(step.clone()).or_insert_with(|| {
                        StepRecord::new(
                            &step,
                            gs("kind"),
                            gs("phase"),
                            StepState::Running,
                            &r.created_at,
                        )
                    });
                    e.state = StepState::Running;
                    e.error = None;
                    e.started_at = Some(r.created_at.clone());
                    st.status = "running".into();
                }
                "step_done" | "step_failed" => {
                    let e = st.steps.entry(step.clone()).or_insert_with(|| {
                        StepRecord::new(
                            &step,
                            gs("kind"),
                            gs("phase"),
                            StepState::Running,
                            &r.created_at,
                        )
                    });
                    e.state = if r.kind == "step_done" {
                        StepState::Done
                    } else {
                        StepState::Failed
                    };
                    e.summary = p
                        .get("summary")
                        .and_then(|v| v.as_str())
                        .map(str::to_string);
                    e.error = p.get("error").and_then(|v| v.as_str()).map(str::to_string);
                    e.evidence = p
                        .get("evidence")
                        .cloned()
                        .unwrap_or(serde_json::Value::Null);
                    e.evidence_hash = p
                        .get("evidence_hash")
                        .and_then(|v| v.as_str())
                        .map(str::to_string);
                    e.hazards = p
                        .get("hazards")
                        .and_then(|v| serde_json::from_value(v.clone()).ok())
                        .unwrap_or_default();
                    e.finished_at = Some(r.created_at.clone());
                    e.elapsed_ms = p.get("elapsed_ms").and_then(|v| v.as_u64());
                    if r.kind == "step_failed" {
                        st.status = if p
                            .get("check_failed")
                            .and_then(|v| v.as_bool())
                            .unwrap_or(false)
                        {
                            "check_failed".into()
                        } else {
                            "failed".into()
                        };
                    }
                    if st
                        .waiting_at
                        .as_ref()
                        .map(|(c, _)| c == &step)
                        .unwrap_or(false)
                    {
                        st.waiting_at = None;
                    }
                }
                "step_rolled_back" => {
                    if let Some(e) = st.steps.get_mut(&step) {
                        e.state = StepState::RolledBack;
                    }
                }
                "checkpoint_waiting" => {
                    st.status = "awaiting_approval".into();
                    st.waiting_at = Some((step.clone(), gs("evidence_hash")));
                    let e = st.steps.entry(step.clone()).or_insert_with(|| {
                        StepRecord::new(
                            &step,
                            "checkpoint".into(),
                            gs("phase"),
                            StepState::AwaitingApproval,
                            &r.created_at,
                        )
                    });
                    e.state = StepState::AwaitingApproval;
                }
                "approval" => st.approvals.push(Approval {
                    seq: r.seq,
                    checkpoint: step.clone(),
                    approver: gs("approver"),
                    role: gs("role"),
                    decision: gs("decision"),
                    comment: p
                        .get("comment")
                        .and_then(|v| v.as_str())
                        .map(str::to_string),
                    evidence_hash: gs("evidence_hash"),
                    via: gs("via"),
                    at: r.created_at.clone(),
                }),
                "run_stopped" => {
                    st.status = gs("status");
                }
                "run_completed" => {
                    st.status = p
                        .get("status")
                        .and_then(|v| v.as_str())
                        .unwrap_or("completed")
                        .to_string();
                    st.finished = true;
                }
                _ => {}
            }
        }
        st
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
