//! The UI's view of a run: fed by engine events and by periodic status snapshots, so
//! every view can be drawn (and snapshot-tested) without an engine.

use super::views::evidence::EvidenceModel;
use crate::vocab::Hazard;
use crate::vocab::{ApprovalNeed, Decision, EngineEvent, Progress, StepState};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

/// A step as planned (from the runbook), before anything ran.
#[derive(Debug, Clone)]
pub struct StepPlan {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub targets: Vec<String>,
    /// What the step will do, one line each.
    pub plan: Vec<String>,
    /// Checkpoints: what the approver should look at.
    pub instructions: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PhasePlan {
    pub id: String,
    pub title: String,
    pub rollback: bool,
    pub steps: Vec<StepPlan>,
}

#[derive(Debug, Clone)]
pub struct StepView {
    pub plan: StepPlan,
    pub state: StepState,
    pub elapsed_ms: Option<u64>,
    /// When a running step started (live elapsed time).
    pub started_at: Option<Instant>,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub evidence_hash: Option<String>,
    pub progress: Option<Progress>,
    pub evidence: Option<Arc<EvidenceModel>>,
    pub hazards: Vec<Hazard>,
    /// Passed, but not cleanly: shown `⚠` instead of `✓`, with this line.
    pub warning: Option<String>,
}

impl StepView {
    fn new(plan: StepPlan) -> Self {
        StepView {
            plan,
            state: StepState::Pending,
            elapsed_ms: None,
            started_at: None,
            summary: None,
            error: None,
            evidence_hash: None,
            progress: None,
            evidence: None,
            hazards: Vec::new(),
            warning: None,
        }
    }
    pub fn id(&self) -> &str {
        &self.plan.id
    }
}

#[derive(Debug, Clone)]
pub struct PhaseView {
    pub id: String,
    pub title: String,
    pub rollback: bool,
    pub steps: Vec<StepView>,
}

/// One approval or rejection as recorded in the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRow {
    pub checkpoint: String,
    pub approver: String,
    pub role: String,
    pub decision: Decision,
    pub comment: Option<String>,
    pub evidence_hash: Option<String>,
    /// The runbook or evidence changed since: it no longer counts.
    pub stale: bool,
}

/// Where the run stands, as the status query reports it (polled off the UI thread).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusView {
    pub run_id: Option<String>,
    pub operator: Option<String>,
    /// (step id, state, summary)
    pub steps: Vec<(String, StepState, Option<String>)>,
    pub approvals: Vec<ApprovalRow>,
    pub waiting: Option<ApprovalNeed>,
    pub allow_self_approval: Option<bool>,
}

/// A ledger record as the history view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    pub seq: i64,
    /// The run the record belongs to (the history view shows one run or all).
    pub run_id: String,
    pub created_at: String,
    pub kind: String,
    pub step_id: Option<String>,
    pub hash: String,
    /// One line from the payload.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainStatus {
    Unknown,
    Verified { records: u64 },
    Broken { seq: i64, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
    pub fn parse(s: &str) -> Level {
        match s.trim().to_ascii_uppercase().as_str() {
            "TRACE" => Level::Trace,
            "DEBUG" => Level::Debug,
            "WARN" | "WARNING" => Level::Warn,
            "ERROR" => Level::Error,
            _ => Level::Info,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// HH:MM:SS
    pub time: String,
    pub level: Level,
    pub target: String,
    pub message: String,
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub outcome: String,
    pub exit_code: i32,
}

pub const LOG_CAPACITY: usize = 10_000;

#[derive(Debug, Clone)]
pub struct AppState {
    pub runbook: String,
    /// The runbook file as given on the command line (for resume hints).
    pub path: Option<String>,
    pub run_id: Option<String>,
    pub operator: Option<String>,
    pub resumed: bool,
    pub phases: Vec<PhaseView>,
    /// The step the engine is on (running or waiting).
    pub current: Option<String>,
    pub need: Option<ApprovalNeed>,
    pub approvals: Vec<ApprovalRow>,
    pub allow_self_approval: Option<bool>,
    pub logs: VecDeque<LogLine>,
    pub history: Vec<LedgerRow>,
    pub chain: ChainStatus,
    pub outcome: Option<Outcome>,
    /// Live clocks for running steps; off in snapshot tests so frames are stable.
    pub live_clock: bool,
    /// A rollback was started from the UI and has not finished.
    pub rolling_back: bool,
    /// Checklist step id → the roles that may tick it (empty: any role), from the policy.
    pub checklist_roles: HashMap<String, Vec<String>>,
    /// The policy has a roster: it gives a person their role (the role may be left out).
    pub roster: bool,
}

impl AppState {
    pub fn new(runbook: impl Into<String>, phases: Vec<PhasePlan>) -> Self {
        AppState {
            runbook: runbook.into(),
            path: None,
            run_id: None,
            operator: None,
            resumed: false,
            phases: phases
                .into_iter()
                .map(|p| PhaseView {
                    id: p.id,
                    title: p.title,
                    rollback: p.rollback,
                    steps: p.steps.into_iter().map(StepView::new).collect(),
                })
                .collect(),
            current: None,
            need: None,
            approvals: Vec::new(),
            allow_self_approval: None,
            logs: VecDeque::new(),
            history: Vec::new(),
            chain: ChainStatus::Unknown,
            outcome: None,
            live_clock: true,
            rolling_back: false,
            checklist_roles: HashMap::new(),
            roster: false,
        }
    }

    /// Who may tick the runbook's checklists, as the policy says (`engine::checklist::roles`).
    pub fn with_checklist_policy_of(mut self, rb: &crate::steps::Runbook) -> Self {
        self.checklist_roles = rb
            .steps()
            .filter_map(|(_, s)| {
                let spec = s.step.checklist()?;
                Some((s.id.clone(), crate::engine::checklist::roles(rb, spec)))
            })
            .collect();
        self.roster = rb.policy.roster.is_some();
        self
    }

    /// The plan of a parsed runbook: phases, then rollback phases.
    pub fn plan_of(rb: &crate::steps::Runbook) -> Vec<PhasePlan> {
        let targets = crate::db::Targets::new(rb.targets.clone());
        rb.phases
            .iter()
            .chain(rb.rollback.iter())
            .map(|p| PhasePlan {
                id: p.id.clone(),
                title: p.title.clone(),
                rollback: p.rollback,
                steps: p
                    .steps
                    .iter()
                    .map(|s| StepPlan {
                        id: s.id.clone(),
                        kind: s.step.kind().to_string(),
                        title: s.title.clone(),
                        targets: s.step.targets(),
                        plan: s.step.plan(&targets),
                        instructions: s.step.checkpoint().and_then(|c| c.instructions.clone()),
                    })
                    .collect(),
            })
            .collect()
    }

    pub fn steps(&self) -> impl Iterator<Item = (&PhaseView, &StepView)> {
        self.phases
            .iter()
            .flat_map(|p| p.steps.iter().map(move |s| (p, s)))
    }

    pub fn step(&self, id: &str) -> Option<&StepView> {
        self.steps().map(|(_, s)| s).find(|s| s.id() == id)
    }

    pub fn step_mut(&mut self, id: &str) -> Option<&mut StepView> {
        self.phases
            .iter_mut()
            .flat_map(|p| p.steps.iter_mut())
            .find(|s| s.plan.id == id)
    }

    pub fn phase_of(&self, step: &str) -> Option<&PhaseView> {
        self.phases
            .iter()
            .find(|p| p.steps.iter().any(|s| s.id() == step))
    }

    /// Is the run still going (not finished, not only waiting)?
    pub fn running(&self) -> bool {
        self.run_id.is_some() && self.outcome.is_none()
    }

    /// (done, total) over the non-rollback steps.
    pub fn overall(&self) -> (usize, usize) {
        let steps: Vec<_> = self.steps().filter(|(p, _)| !p.rollback).collect();
        let done = steps
            .iter()
            .filter(|(_, s)| matches!(s.state, StepState::Done | StepState::Skipped))
            .count();
        (done, steps.len())
    }

    /// The phases after the one holding `step` (what approving lets happen).
    pub fn phases_after(&self, step: &str) -> Vec<&PhaseView> {
        let Some(idx) = self
            .phases
            .iter()
            .position(|p| p.steps.iter().any(|s| s.id() == step))
        else {
            return Vec::new();
        };
        let phase = &self.phases[idx];
        let mut out = Vec::new();
        // The rest of this phase counts too: expose it as the phase itself when any
        // step follows the checkpoint.
        let pos = phase.steps.iter().position(|s| s.id() == step).unwrap_or(0);
        if pos + 1 < phase.steps.len() {
            out.push(phase);
        }
        out.extend(self.phases[idx + 1..].iter().filter(|p| !p.rollback));
        out
    }

    pub fn rollback_phases(&self) -> Vec<&PhaseView> {
        self.phases.iter().filter(|p| p.rollback).collect()
    }

    fn ensure_step(&mut self, phase: &str, step: &str, kind: &str) -> &mut StepView {
        if self.step(step).is_none() {
            let idx = match self.phases.iter().position(|p| p.id == phase) {
                Some(i) => i,
                None => {
                    self.phases.push(PhaseView {
                        id: phase.to_string(),
                        title: phase.to_string(),
                        rollback: false,
                        steps: Vec::new(),
                    });
                    self.phases.len() - 1
                }
            };
            self.phases[idx].steps.push(StepView::new(StepPlan {
                id: step.to_string(),
                kind: kind.to_string(),
                title: step.to_string(),
                targets: Vec::new(),
                plan: Vec::new(),
                instructions: None,
            }));
        }
        self.step_mut(step).expect("just ensured")
    }

    pub fn push_log(&mut self, line: LogLine) {
        if self.logs.len() >= LOG_CAPACITY {
            self.logs.pop_front();
        }
        self.logs.push_back(line);
    }

    fn event_log(&mut self, level: Level, target: &str, message: String) {
        self.push_log(LogLine {
            time: if self.live_clock {
                chrono::Local::now().format("%H:%M:%S").to_string()
            } else {
                "12:00:00".to_string()
            },
            level,
            target: target.to_string(),
            message,
        });
    }

    /// Apply one engine event. Returns the id of a step whose evidence is now worth loading.
    pub fn apply(&mut self, ev: &EngineEvent) -> Option<String> {
        match ev {
            EngineEvent::RunStarted {
                run_id,
                runbook,
                resumed,
                operator,
            } => {
                self.run_id = Some(run_id.clone());
                if self.runbook.is_empty() {
                    self.runbook = runbook.clone();
                }
                self.resumed = *resumed;
                self.operator = Some(operator.clone());
                self.outcome = None;
                let verb = if *resumed { "resumed" } else { "started" };
                self.event_log(Level::Info, "run", format!("{run_id} {verb} by {operator}"));
            }
            EngineEvent::PhaseStarted { phase, title, .. } => {
                self.event_log(Level::Info, "phase", format!("{phase}: {title}"));
            }
            EngineEvent::StepStarted {
                phase,
                step,
                kind,
                targets,
                title,
            } => {
                let s = self.ensure_step(phase, step, kind);
                s.state = StepState::Running;
                s.started_at = Some(Instant::now());
                s.progress = None;
                s.error = None;
                s.warning = None;
                if !targets.is_empty() {
                    s.plan.targets = targets.clone();
                }
                if !title.is_empty() {
                    s.plan.title = title.clone();
                }
                self.current = Some(step.clone());
                self.event_log(Level::Info, step, format!("started ({kind})"));
            }
            EngineEvent::StepProgress { step, progress } => {
                if let Some(s) = self.step_mut(step) {
                    s.progress = Some(progress.clone());
                }
            }
            EngineEvent::StepLog { step, message } => {
                self.event_log(Level::Info, step, message.clone());
            }
            EngineEvent::StepAlreadyDone {
                phase,
                step,
                kind,
                summary,
            } => {
                let s = self.ensure_step(phase, step, kind);
                s.state = StepState::Done;
                s.summary = Some(summary.clone());
                return Some(step.clone());
            }
            EngineEvent::StepFinished {
                step,
                summary,
                evidence_hash,
                elapsed_ms,
            } => {
                if let Some(s) = self.step_mut(step) {
                    s.state = StepState::Done;
                    s.summary = Some(summary.clone());
                    s.evidence_hash = Some(evidence_hash.clone());
                    s.elapsed_ms = Some(*elapsed_ms);
                    s.started_at = None;
                    s.progress = None;
                }
                if self.need.as_ref().is_some_and(|n| &n.checkpoint == step) {
                    self.need = None;
                }
                self.event_log(Level::Info, step, format!("done: {summary}"));
                return Some(step.clone());
            }
            EngineEvent::StepFailed {
                step,
                error,
                check_failed,
                elapsed_ms,
            } => {
                if let Some(s) = self.step_mut(step) {
                    s.state = StepState::Failed;
                    s.error = Some(error.clone());
                    s.elapsed_ms = Some(*elapsed_ms);
                    s.started_at = None;
                    s.progress = None;
                }
                let what = if *check_failed {
                    "check failed"
                } else {
                    "failed"
                };
                self.event_log(Level::Error, step, format!("{what}: {error}"));
                return Some(step.clone());
            }
            EngineEvent::AwaitingApproval { need } => {
                if let Some(s) = self.step_mut(&need.checkpoint) {
                    s.state = StepState::AwaitingApproval;
                    s.started_at = None;
                    s.evidence_hash = Some(need.evidence_hash.clone());
                }
                self.current = Some(need.checkpoint.clone());
                self.event_log(
                    Level::Warn,
                    &need.checkpoint,
                    format!(
                        "awaiting approval ({}/{}): {}",
                        need.approved_by.len(),
                        need.required,
                        need.approve_command
                    ),
                );
                self.need = Some(need.clone());
            }
            EngineEvent::ApprovalRecorded {
                checkpoint,
                approver,
                role,
                decision,
                comment,
            } => {
                let row = ApprovalRow {
                    checkpoint: checkpoint.clone(),
                    approver: approver.clone(),
                    role: role.clone(),
                    decision: *decision,
                    comment: comment.clone(),
                    evidence_hash: self.need.as_ref().map(|n| n.evidence_hash.clone()),
                    stale: false,
                };
                if !self.approvals.iter().any(|a| {
                    a.checkpoint == row.checkpoint
                        && a.approver == row.approver
                        && a.decision == row.decision
                        && !a.stale
                }) {
                    self.approvals.push(row);
                }
                if let Some(n) = self.need.as_mut()
                    && &n.checkpoint == checkpoint
                    && *decision == Decision::Approve
                    && !n.approved_by.iter().any(|(a, _)| a == approver)
                {
                    n.approved_by.push((approver.clone(), role.clone()));
                }
                self.event_log(
                    Level::Info,
                    checkpoint,
                    format!("{decision} by {approver} ({role})"),
                );
            }
            EngineEvent::StepWarning { step, message } => {
                if let Some(s) = self.step_mut(step) {
                    s.warning = Some(message.clone());
                }
                self.event_log(Level::Warn, step, format!("warning: {message}"));
            }
            EngineEvent::RunFinished {
                outcome, exit_code, ..
            } => {
                self.outcome = Some(Outcome {
                    outcome: outcome.clone(),
                    exit_code: *exit_code,
                });
                if *exit_code != crate::error::exit::AWAITING_APPROVAL {
                    self.need = None;
                }
                self.rolling_back = false;
                let level = if *exit_code == 0 || *exit_code == 4 {
                    Level::Info
                } else {
                    Level::Error
                };
                self.event_log(
                    level,
                    "run",
                    format!("finished: {outcome} (exit {exit_code})"),
                );
            }
        }
        None
    }

    /// Merge a status snapshot: the ledger is the truth for states and approvals
    /// (including ones recorded by other processes).
    pub fn apply_status(&mut self, st: &StatusView) -> Vec<String> {
        let mut newly_done = Vec::new();
        if st.run_id.is_some() && self.run_id.is_none() {
            self.run_id = st.run_id.clone();
        }
        if st.operator.is_some() && self.operator.is_none() {
            self.operator = st.operator.clone();
        }
        for (id, state, summary) in &st.steps {
            if let Some(s) = self.step_mut(id) {
                // Live events may be ahead of the poll: a poll never moves a step
                // back to pending or running.
                if matches!(state, StepState::Pending | StepState::Running)
                    && s.state != StepState::Pending
                {
                    continue;
                }
                if s.state != *state && *state == StepState::Done {
                    newly_done.push(id.clone());
                }
                if s.state != *state {
                    s.state = *state;
                }
                if summary.is_some() {
                    s.summary = summary.clone();
                }
            }
        }
        self.approvals = st.approvals.clone();
        if st.allow_self_approval.is_some() {
            self.allow_self_approval = st.allow_self_approval;
        }
        match &st.waiting {
            Some(n) => {
                if let Some(s) = self.step_mut(&n.checkpoint) {
                    s.state = StepState::AwaitingApproval;
                }
                self.current = Some(n.checkpoint.clone());
                self.need = Some(n.clone());
            }
            None => {
                // Clear a waiting checkpoint only once the ledger shows it decided, so
                // a poll that raced the engine's event does not close the dialog.
                let decided = self.need.as_ref().is_some_and(|n| {
                    st.steps.iter().any(|(id, state, _)| {
                        id == &n.checkpoint
                            && !matches!(
                                state,
                                StepState::Pending
                                    | StepState::Running
                                    | StepState::AwaitingApproval
                            )
                    })
                });
                if decided {
                    self.need = None;
                }
            }
        }
        newly_done
    }
}
