//! Where a run stands, for `cutover status` (text or JSON) and the TUI.

use super::approval;
use crate::error::Result;
use crate::ledger::{Ledger, RunState, Status};
use crate::steps::{Evidence, Runbook, read_evidence};
use crate::vocab::{ApprovalNeed, StepState};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct StepStatus {
    pub phase: String,
    pub rollback: bool,
    pub id: String,
    pub kind: String,
    pub title: String,
    pub targets: Vec<String>,
    pub state: StepState,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub evidence_hash: Option<String>,
    pub evidence: serde_json::Value,
    pub hazards: Vec<crate::vocab::Hazard>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub elapsed_ms: Option<u64>,
    /// Done, but not cleanly (`steps::Evidence::warning`: a data diff that found
    /// differences without failing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApprovalStatus {
    pub checkpoint: String,
    pub approver: String,
    pub role: String,
    pub decision: crate::vocab::Decision,
    pub comment: Option<String>,
    pub evidence_hash: String,
    pub via: String,
    pub at: String,
    /// True when the runbook or the evidence changed after this decision: it no longer counts.
    pub stale: bool,
    /// What changed, when stale (e.g. "lerg/migrations/V2__profiles_billing.sql changed since it was given").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_because: Option<String>,
    /// The SSH signature (armored SSHSIG), when the decision was signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Whose rejections a withdrawal withdrew.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withdraws: Vec<String>,
}

/// Where the latest run of a runbook stands: "not started", or its recorded status
/// ("running", "awaiting_approval", "check_failed", ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    NotStarted,
    Run(Status),
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::NotStarted => "not started",
            Standing::Run(s) => s.as_str(),
        }
    }
}

/// In words, for text: "not started", "awaiting approval", "rolled back".
impl std::fmt::Display for Standing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_str().replace('_', " "))
    }
}

/// JSON has the snake_case value (`not_started`, `awaiting_approval`); text the words.
impl Serialize for Standing {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Standing::NotStarted => "not_started",
            Standing::Run(st) => st.as_str(),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunStatus {
    pub runbook: String,
    pub runbook_path: String,
    pub ledger: String,
    pub run_id: Option<String>,
    pub status: Standing,
    pub operator: Option<String>,
    pub started_at: Option<String>,
    pub steps: Vec<StepStatus>,
    pub approvals: Vec<ApprovalStatus>,
    pub waiting_for: Option<ApprovalNeed>,
    /// Every checklist the run reached: its items and who ticked each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checklists: Vec<ChecklistStatus>,
}

/// A checklist the run reached: live from the ticks while it waits, as recorded once
/// its step ended.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistStatus {
    pub step: String,
    pub state: StepState,
    /// The roles whose ticks count (empty: any).
    pub roles: Vec<String>,
    pub checklist: crate::steps::checklist::ChecklistEvidence,
}

impl RunStatus {
    pub async fn load(runbook: &Runbook, ledger: &Ledger, runbook_arg: &str) -> Result<RunStatus> {
        Self::load_run(runbook, ledger, None, runbook_arg).await
    }

    /// Where run `run` (an id or its first characters) stands, or the latest run's
    /// standing when `run` is None. An id no run has is bad input, naming the runbook.
    pub async fn load_run(
        runbook: &Runbook,
        ledger: &Ledger,
        run: Option<&str>,
        runbook_arg: &str,
    ) -> Result<RunStatus> {
        let state = match run {
            None => ledger.latest_run(&runbook.name).await?,
            Some(id) => Some(ledger.run_by_id(&runbook.name, id).await?.ok_or_else(|| {
                crate::error::Error::bad_input(format!(
                    "no run \"{id}\" of runbook \"{}\" in the ledger {} (`cutover runs {runbook_arg}` lists them)",
                    runbook.name,
                    ledger.redacted_url()
                ))
            })?),
        };
        Ok(Self::from_state(
            runbook,
            ledger.redacted_url(),
            state.as_ref(),
            runbook_arg,
        ))
    }

    pub fn from_state(
        runbook: &Runbook,
        ledger: &str,
        state: Option<&RunState>,
        runbook_arg: &str,
    ) -> RunStatus {
        let empty = RunState::default();
        let st = state.unwrap_or(&empty);
        let steps = runbook
            .phases
            .iter()
            .chain(runbook.rollback.iter())
            .flat_map(|p| p.steps.iter().map(move |s| (p, s)))
            .map(|(p, s)| {
                let r = st.steps.get(&s.id);
                let live = s
                    .step
                    .checklist()
                    .filter(|_| r.is_some_and(|r| r.state == StepState::AwaitingApproval))
                    .map(|spec| {
                        Evidence::Checklist(super::checklist::standing(runbook, st, &s.id, spec))
                            .to_json()
                    });
                StepStatus {
                    phase: p.id.clone(),
                    rollback: p.rollback,
                    id: s.id.clone(),
                    kind: s.step.kind().into(),
                    title: s.title.clone(),
                    targets: s.step.targets(),
                    state: r.map(|r| r.state).unwrap_or(StepState::Pending),
                    summary: r.and_then(|r| r.summary.clone()),
                    error: r.and_then(|r| r.error.clone()),
                    evidence_hash: r.and_then(|r| r.evidence_hash.clone()),
                    evidence: live.unwrap_or_else(|| {
                        r.map(|r| stored_evidence(s.step.kind(), &r.evidence))
                            .unwrap_or(serde_json::Value::Null)
                    }),
                    hazards: r.map(|r| r.hazards.clone()).unwrap_or_default(),
                    started_at: r.and_then(|r| r.started_at.clone()),
                    finished_at: r.and_then(|r| r.finished_at.clone()),
                    elapsed_ms: r.and_then(|r| r.elapsed_ms),
                    warning: r
                        .filter(|r| r.state == StepState::Done)
                        .and_then(|r| crate::steps::read_evidence(&r.kind, &r.evidence))
                        .and_then(|e| e.warning()),
                }
            })
            .collect();
        // The files each checkpoint binds to now, read once per checkpoint.
        let mut bound: std::collections::BTreeMap<&str, Vec<(String, String)>> = Default::default();
        let approvals = st
            .approvals
            .iter()
            .map(|a| {
                let current = if st.is_done(&a.checkpoint) {
                    // A passed checkpoint keeps the hash it was passed with.
                    match st
                        .steps
                        .get(&a.checkpoint)
                        .and_then(|r| read_evidence("checkpoint", &r.evidence))
                    {
                        Some(Evidence::Checkpoint(e)) => e.evidence_hash,
                        _ => String::new(),
                    }
                } else {
                    approval::checkpoint_evidence_hash(runbook, st, &a.checkpoint)
                };
                let stale = a.evidence_hash != current;
                let stale_because = stale.then(|| {
                    let files = bound
                        .entry(a.checkpoint.as_str())
                        .or_insert_with(|| approval::bound_files(runbook, &a.checkpoint));
                    approval::why_stale(runbook, a, files)
                });
                ApprovalStatus {
                    checkpoint: a.checkpoint.clone(),
                    approver: a.approver.clone(),
                    role: a.role.clone(),
                    decision: a.decision,
                    comment: a.comment.clone(),
                    evidence_hash: a.evidence_hash.clone(),
                    via: a.via.clone(),
                    at: a.at.clone(),
                    stale,
                    stale_because,
                    signature: a.signature.clone(),
                    withdraws: a.withdraws.clone(),
                }
            })
            .collect();
        let waiting_for = match (&st.waiting_at, st.status) {
            (Some((cp, _)), Status::AwaitingApproval)
                if cp.starts_with(super::rollback_gate::PREFIX) =>
            {
                super::rollback_gate::need(runbook, st, runbook_arg)
            }
            (Some((cp, _)), Status::AwaitingApproval | Status::Rejected) => {
                approval::need(runbook, st, cp, runbook_arg).ok()
            }
            _ => None,
        };
        let checklists = runbook
            .steps()
            .filter_map(|(_, s)| Some((s, s.step.checklist()?, st.steps.get(&s.id)?)))
            .map(|(s, spec, r)| ChecklistStatus {
                step: s.id.clone(),
                state: r.state,
                roles: super::checklist::roles(runbook, spec),
                checklist: match read_evidence("checklist", &r.evidence) {
                    Some(Evidence::Checklist(e)) if r.state == StepState::Done => e,
                    _ => super::checklist::standing(runbook, st, &s.id, spec),
                },
            })
            .collect();
        RunStatus {
            checklists,
            runbook: runbook.name.clone(),
            runbook_path: runbook.path.display().to_string(),
            ledger: ledger.to_string(),
            run_id: state.map(|s| s.run_id.clone()),
            // A rejection that stands is how the run ended (until withdrawn), though
            // the ledger's last status record says it was waiting.
            status: match state {
                None => Standing::NotStarted,
                Some(_) if waiting_for.as_ref().is_some_and(|w| w.rejection.is_some()) => {
                    Standing::Run(Status::Rejected)
                }
                Some(s) => Standing::Run(s.status),
            },
            operator: state.map(|s| s.operator.clone()),
            started_at: state.map(|s| s.started_at.clone()),
            steps,
            approvals,
            waiting_for,
        }
    }
}

/// A step's evidence for the status report: read as its kind's struct and written
/// back, or as stored when it does not read (e.g. a record of a later release).
fn stored_evidence(kind: &str, evidence: &serde_json::Value) -> serde_json::Value {
    read_evidence(kind, evidence).map_or_else(|| evidence.clone(), |e| e.to_json())
}
