//! The stream of engine events that every front-end (headless CLI, TUI) renders.
//! Nothing in a step knows which front-end is watching.

use serde::Serialize;
use std::time::Duration;

/// An approver's decision at a checkpoint. Snake case in JSON: `approve`, `reject`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
    /// Withdraws standing rejections (the withdrawer's own, or those named when the
    /// policy gives the withdrawer's role that right).
    Withdraw,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            Decision::Withdraw => "withdraw",
        }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// State of a step as shown to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    Running,
    Done,
    Failed,
    Skipped,
    AwaitingApproval,
    RolledBack,
}

impl StepState {
    pub fn label(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Done => "done",
            StepState::Failed => "failed",
            StepState::Skipped => "skipped",
            StepState::AwaitingApproval => "awaiting approval",
            StepState::RolledBack => "rolled back",
        }
    }
}

/// Progress of a long step (diff, copy, backfill, backup).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub done: u64,
    /// None when the total is unknown.
    pub total: Option<u64>,
    /// What is counted: "rows", "segments", "statements", "bytes", "migrations".
    pub unit: String,
    /// Units per second so far.
    pub rate: f64,
    pub eta: Option<Duration>,
}

/// What the approval policy still needs at a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalNeed {
    pub checkpoint: String,
    pub title: String,
    pub evidence_hash: String,
    /// Approvals required in total, and from which roles (empty: any role).
    pub required: u32,
    pub roles: Vec<String>,
    /// Valid (non-stale) approvals so far: (approver, role).
    pub approved_by: Vec<(String, String)>,
    /// Hazard codes this checkpoint covers (each once): those of the SQL the steps it
    /// lets run will execute, and those earlier steps raised.
    pub hazards: Vec<String>,
    /// The same hazards one by one, with their messages and `file:line`.
    pub hazard_details: Vec<crate::vocab::Hazard>,
    /// The command another person runs to approve.
    pub approve_command: String,
    /// The files the approval binds to, read by the steps it lets run before the next
    /// checkpoint: (path relative to the runbook, sha256). Editing one makes it stale.
    pub files: Vec<(String, String)>,
    /// Why earlier decisions at this checkpoint no longer count, one line each (e.g.
    /// `dana's approval: lerg/migrations/V2__profiles_billing.sql changed since`).
    pub stale: Vec<String>,
    /// A rejection that stands for this evidence, and what to do about it.
    pub rejection: Option<Box<StandingRejection>>,
    /// Steps since the previous checkpoint that passed with a warning, one line each
    /// (`drift-customers: 6 differences in customers (...)`).
    pub warnings: Vec<String>,
}

/// A rejection that stops the run until it is withdrawn or the evidence changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandingRejection {
    pub by: String,
    pub role: String,
    pub comment: Option<String>,
    /// The ways out, as commands or actions, one per line.
    pub remedies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EngineEvent {
    RunStarted {
        run_id: String,
        runbook: String,
        resumed: bool,
        operator: String,
    },
    PhaseStarted {
        phase: String,
        title: String,
        rollback: bool,
    },
    StepStarted {
        phase: String,
        step: String,
        kind: String,
        targets: Vec<String>,
        title: String,
    },
    StepProgress {
        step: String,
        progress: Progress,
    },
    StepLog {
        step: String,
        message: String,
    },
    /// A step that had completed before (resume): not run again.
    StepAlreadyDone {
        phase: String,
        step: String,
        kind: String,
        summary: String,
    },
    StepFinished {
        step: String,
        summary: String,
        evidence_hash: String,
        elapsed_ms: u64,
    },
    StepFailed {
        step: String,
        error: String,
        check_failed: bool,
        elapsed_ms: u64,
    },
    AwaitingApproval {
        need: ApprovalNeed,
    },
    ApprovalRecorded {
        checkpoint: String,
        approver: String,
        role: String,
        decision: Decision,
        comment: Option<String>,
    },
    RunFinished {
        run_id: String,
        outcome: String,
        exit_code: i32,
    },
    /// A step passed, but not cleanly (a data diff that found differences and was only
    /// reporting them). Sent just before the step's `StepFinished` or `StepAlreadyDone`.
    StepWarning {
        step: String,
        message: String,
    },
}

/// Where a step or the engine sends events. Cheap to clone.
#[derive(Clone)]
pub struct EventSink {
    tx: Option<tokio::sync::mpsc::UnboundedSender<EngineEvent>>,
}

impl EventSink {
    pub fn new(tx: tokio::sync::mpsc::UnboundedSender<EngineEvent>) -> Self {
        EventSink { tx: Some(tx) }
    }
    /// A sink that drops every event (library use, tests).
    pub fn discard() -> Self {
        EventSink { tx: None }
    }
    pub fn emit(&self, ev: EngineEvent) {
        tracing::debug!(target: "cutover::event", "{}", crate::redact::scrub(&format!("{ev:?}")));
        if let Some(tx) = &self.tx {
            let _ = tx.send(ev);
        }
    }
}

/// Builds `Progress` events with rate and ETA from a start time.
pub struct ProgressMeter {
    started: std::time::Instant,
    unit: String,
    total: Option<u64>,
    last_emit: Option<std::time::Instant>,
}

impl ProgressMeter {
    pub fn new(unit: impl Into<String>, total: Option<u64>) -> Self {
        ProgressMeter {
            started: std::time::Instant::now(),
            unit: unit.into(),
            total,
            last_emit: None,
        }
    }
    /// Progress at `done`; `None` if less than 100 ms passed since the last one
    /// (unless `force`), so callers can call it on every row cheaply.
    pub fn tick(&mut self, done: u64, force: bool) -> Option<Progress> {
        let now = std::time::Instant::now();
        if !force
            && let Some(l) = self.last_emit
            && now.duration_since(l) < Duration::from_millis(100)
        {
            return None;
        }
        self.last_emit = Some(now);
        let secs = now.duration_since(self.started).as_secs_f64().max(1e-6);
        let rate = done as f64 / secs;
        let eta = match self.total {
            Some(t) if rate > 0.0 && t >= done => {
                Some(Duration::from_secs_f64((t - done) as f64 / rate))
            }
            _ => None,
        };
        Some(Progress {
            done,
            total: self.total,
            unit: self.unit.clone(),
            rate,
            eta,
        })
    }
}
