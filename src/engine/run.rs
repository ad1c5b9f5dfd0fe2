//! The run state machine.

use crate::db::Targets;
use crate::error::{Error, ErrorKind, Result, exit};
use crate::ledger::{
    Entry, Ledger, RunAbandoned, RunCompleted, RunResumed, RunStarted, RunState, RunStopped,
    Status, StepDone, StepFailed, StepStarted,
};
use crate::runbook::sha256_hex;
use crate::steps::{Phase, PriorStep, Runbook, StepContext, StepDef};
use crate::vocab::{EngineEvent, EventSink};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Who started the run (cannot approve its checkpoints unless the policy allows).
    pub operator: String,
    /// Wait at a checkpoint until approvals arrive instead of stopping with exit 4.
    pub wait: bool,
    /// Give up waiting after this long (exit 4).
    pub wait_timeout: Option<Duration>,
    /// Record each checkpoint's approval as this (name, role), marked as given on the command line.
    pub approve_as: Vec<(String, String)>,
    /// Start a new run even if the last one completed.
    pub new_run: bool,
    /// With `new_run`: the reason for giving up the last run when it is unfinished
    /// (recorded in its ledger); without it, `new_run` refuses to leave it behind.
    pub abandon: Option<String>,
    /// How the runbook was named on the command line, for the commands we print.
    pub runbook_arg: String,
    /// `cutover demo` only: at a checklist, tick every open item pass in the name of
    /// the first `approve_as` identity whose role may tick it (recorded via "demo",
    /// with a note saying the demo did it: it has no application to test).
    pub demo_ticks: bool,
}

#[derive(Debug, Clone)]
pub enum RunOutcome {
    Completed {
        run_id: String,
    },
    AlreadyComplete {
        run_id: String,
    },
    AwaitingApproval {
        run_id: String,
        need: Box<crate::vocab::ApprovalNeed>,
    },
    CheckFailed {
        run_id: String,
        step: String,
        message: String,
    },
    Rejected {
        run_id: String,
        checkpoint: String,
        by: String,
        comment: Option<String>,
    },
    Failed {
        run_id: String,
        step: String,
        error: Error,
    },
    RolledBack {
        run_id: String,
    },
    /// Stopped at a checklist whose items are not all ticked: (id, text) of each open one.
    AwaitingChecklist {
        run_id: String,
        step: String,
        pending: Vec<(String, String)>,
    },
}

/// How a front-end's session with the engine ended.
#[derive(Debug)]
pub enum SessionEnd {
    /// The engine returned an outcome (a person who quits at a checkpoint leaves the
    /// run awaiting approval).
    Finished(RunOutcome),
    /// Stopped mid-step by the person; the run is recorded and resumable.
    Interrupted,
}

impl RunOutcome {
    pub fn exit_code(&self) -> i32 {
        match self {
            RunOutcome::Completed { .. }
            | RunOutcome::AlreadyComplete { .. }
            | RunOutcome::RolledBack { .. } => exit::OK,
            RunOutcome::AwaitingApproval { .. } | RunOutcome::AwaitingChecklist { .. } => {
                exit::AWAITING_APPROVAL
            }
            RunOutcome::CheckFailed { .. } | RunOutcome::Rejected { .. } => exit::CHECK_FAILED,
            RunOutcome::Failed { error, .. } => match error.kind {
                ErrorKind::BadInput => exit::BAD_INPUT,
                _ => exit::RUNTIME,
            },
        }
    }
    pub fn label(&self) -> &'static str {
        match self {
            RunOutcome::Completed { .. } => "completed",
            RunOutcome::AlreadyComplete { .. } => "already complete",
            RunOutcome::AwaitingApproval { .. } => "awaiting approval",
            RunOutcome::CheckFailed { .. } => "check failed",
            RunOutcome::Rejected { .. } => "rejected",
            RunOutcome::Failed { .. } => "failed",
            RunOutcome::RolledBack { .. } => "rolled back",
            RunOutcome::AwaitingChecklist { .. } => "awaiting checklist",
        }
    }
}

pub struct Engine {
    pub runbook: Arc<Runbook>,
    pub ledger: Arc<Ledger>,
    pub targets: Arc<Targets>,
    pub events: EventSink,
}

pub(super) enum Flow {
    Continue,
    Stop(RunOutcome),
}

impl Engine {
    /// Which ledger a runbook uses: `--ledger` beats the runbook's `[ledger] url`,
    /// which beats `.cutover/ledger.db` next to the runbook.
    pub fn ledger_url(runbook: &Runbook, override_url: Option<&str>) -> String {
        override_url
            .map(str::to_string)
            .or_else(|| runbook.ledger_url.clone())
            .unwrap_or_else(|| Ledger::default_url(&runbook.dir))
    }

    pub async fn open(
        runbook: Runbook,
        ledger_override: Option<&str>,
        events: EventSink,
    ) -> Result<Engine> {
        let url = Self::ledger_url(&runbook, ledger_override);
        let ledger = Ledger::open(&url).await?;
        let targets = Targets::new(runbook.targets.clone());
        Ok(Engine {
            runbook: Arc::new(runbook),
            ledger: Arc::new(ledger),
            targets: Arc::new(targets),
            events,
        })
    }

    pub(super) fn lock_keys(&self) -> Vec<(String, String)> {
        self.targets
            .specs()
            .map(|t| {
                let identity = match t.sqlite_file() {
                    Some(p) => format!(
                        "sqlite:{}",
                        std::fs::canonicalize(&p).unwrap_or(p).display()
                    ),
                    None => t.redacted.split('?').next().unwrap_or("").to_string(),
                };
                (
                    format!("target:{identity}"),
                    format!("target \"{}\" ({})", t.name, t.redacted),
                )
            })
            .collect()
    }

    pub(super) async fn state(&self, run_id: &str) -> Result<RunState> {
        Ok(RunState::from_records(
            &self.ledger.run_records(&self.runbook.name, run_id).await?,
        ))
    }

    pub(super) async fn record<E: serde::Serialize>(
        &self,
        run_id: &str,
        step: Option<&str>,
        entry: Entry<E>,
    ) -> Result<()> {
        self.ledger
            .append_entry(&self.runbook.name, run_id, step, &entry)
            .await
            .map(|_| ())
    }

    /// Run (or resume) the runbook's phases. A run whose rollback was interrupted (or
    /// waits for its approval) continues that rollback instead.
    pub async fn run(&self, opts: &RunOptions) -> Result<RunOutcome> {
        let rb = self.runbook.clone();
        if !opts.approve_as.is_empty() && !rb.policy.allow_command_line_approvals {
            let msg = super::approval::command_line_refusal(rb.policy.require_signatures);
            return Err(Error::bad_input(msg));
        }
        self.verify_ledger().await?;
        let latest = self.ledger.latest_run(&rb.name).await?;
        if let Some(s) = &latest
            && !s.finished
            && !opts.new_run
            && let Some(a) = s.rollback.as_ref().filter(|a| !a.finished)
            && let Some(phase) = a
                .phases
                .first()
                .and_then(|id| rb.rollback.iter().find(|p| &p.id == id))
        {
            self.events.emit(EngineEvent::StepLog {
                step: String::new(),
                message: format!(
                    "run {} was rolling back ({}); continuing the rollback",
                    short(&s.run_id),
                    phase.id
                ),
            });
            let trigger = a.trigger.clone().unwrap_or_else(|| "on demand".into());
            return self.rollback_run(&s.run_id, phase, &trigger, opts).await;
        }
        let new_id = uuid::Uuid::new_v4().simple().to_string();
        if opts.new_run
            && let Some(s) = latest.as_ref().filter(|s| !s.finished)
        {
            self.abandon(s, &new_id, opts).await?;
        }
        let (run_id, resumed) = match latest {
            Some(s) if !s.finished && !opts.new_run => (s.run_id.clone(), true),
            Some(s) if s.finished && s.status == Status::Completed && !opts.new_run => {
                self.events.emit(EngineEvent::RunFinished {
                    run_id: s.run_id.clone(),
                    outcome: "already complete".into(),
                    exit_code: exit::OK,
                });
                return Ok(RunOutcome::AlreadyComplete { run_id: s.run_id });
            }
            _ => (new_id, false),
        };
        if resumed {
            self.check_same_targets(&run_id).await?;
        }
        let locks = self.take_locks(&run_id, &opts.operator).await?;
        if let Err(e) = self.check_anchors().await {
            self.release_locks(locks).await;
            return Err(e);
        }
        let result = self.run_locked(&run_id, resumed, opts).await;
        self.release_locks(locks).await;
        let outcome = result?;
        let failed_step = match &outcome {
            RunOutcome::CheckFailed { step, .. } | RunOutcome::Failed { step, .. } => step,
            _ => return Ok(outcome),
        };
        let Some(phase) = rb
            .find_step(failed_step)
            .and_then(|(p, _)| super::rollback::on_failure_phase(&rb, &p.id))
        else {
            return Ok(outcome);
        };
        self.events.emit(EngineEvent::StepLog {
            step: String::new(),
            message: format!(
                "step \"{failed_step}\" failed: running rollback phase \"{}\" (on_failure)",
                phase.id
            ),
        });
        let trigger = format!("on failure of step {failed_step}");
        match self.rollback_run(&run_id, phase, &trigger, opts).await? {
            // Rolled back: the run still failed, and says so with its own exit code.
            RunOutcome::RolledBack { .. } => Ok(outcome),
            // Waiting for the rollback's approval, or the rollback itself failed.
            other => Ok(other),
        }
    }

    /// Give up the unfinished run `s` so that a new one can start: only with a reason,
    /// which is recorded in its ledger. Its backups stay where they are (a run's
    /// backups live in a directory of their own).
    async fn abandon(&self, s: &RunState, new_id: &str, opts: &RunOptions) -> Result<()> {
        let Some(reason) = opts
            .abandon
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        else {
            return Err(Error::bad_input(format!(
                "run {} of runbook \"{}\" is unfinished ({}); starting a new run would leave it behind with its backups and its way back",
                short(&s.run_id),
                self.runbook.name,
                s.status
            ))
            .with_hint(format!(
                "resume it with `cutover run {}`, roll it back with `cutover rollback {} --yes`, or give it up with `--new --abandon \"REASON\"` (recorded in the ledger)",
                opts.runbook_arg, opts.runbook_arg
            )));
        };
        let abandoned = RunAbandoned {
            operator: opts.operator.clone(),
            reason: reason.to_string(),
            next_run: new_id.to_string(),
        };
        self.record::<Value>(&s.run_id, None, Entry::RunAbandoned(abandoned))
            .await?;
        self.events.emit(EngineEvent::StepLog {
            step: String::new(),
            message: format!(
                "run {} ({}) abandoned by {}: {reason}",
                short(&s.run_id),
                s.status,
                opts.operator
            ),
        });
        Ok(())
    }

    /// Refuse to resume or roll back run `run_id` against other databases than it
    /// started with: a resume without the run's `--target` overrides would otherwise
    /// act on the runbook file's own targets.
    pub(super) async fn check_same_targets(&self, run_id: &str) -> Result<()> {
        let state = self.state(run_id).await?;
        if state.targets.is_empty() {
            return Ok(());
        }
        let differ: Vec<String> = self
            .runbook
            .targets
            .values()
            .filter_map(|t| {
                let then = state.targets.get(&t.name)?;
                (*then != t.redacted)
                    .then(|| format!("{}: started on {then}, now {}", t.name, t.redacted))
            })
            .collect();
        if differ.is_empty() {
            return Ok(());
        }
        Err(Error::bad_input(format!(
            "run {} started on other databases than this command names ({}); pass the same --target NAME=URL options the run started with, or start a new run with --new --abandon \"REASON\"",
            short(run_id),
            differ.join("; ")
        )))
    }

    async fn run_locked(
        &self,
        run_id: &str,
        resumed: bool,
        opts: &RunOptions,
    ) -> Result<RunOutcome> {
        let rb = self.runbook.clone();
        if resumed {
            let resumed = RunResumed {
                operator: opts.operator.clone(),
                runbook_hash: rb.content_hash.clone(),
            };
            self.record::<Value>(run_id, None, Entry::RunResumed(resumed))
                .await?;
        } else {
            let started = RunStarted {
                operator: opts.operator.clone(),
                runbook_path: rb.path.display().to_string(),
                runbook_hash: rb.content_hash.clone(),
                targets: rb
                    .targets
                    .values()
                    .map(|t| (t.name.clone(), t.redacted.clone()))
                    .collect(),
            };
            self.record::<Value>(run_id, None, Entry::RunStarted(started))
                .await?;
        }
        let state = self.state(run_id).await?;
        self.events.emit(EngineEvent::RunStarted {
            run_id: run_id.to_string(),
            runbook: rb.name.clone(),
            resumed,
            operator: state.operator.clone(),
        });
        let outcome = self.run_phases(run_id, &rb.phases, state, opts).await?;
        let outcome = match outcome {
            Some(o) => o,
            None => {
                let completed = RunCompleted {
                    status: Status::Completed,
                };
                self.record::<Value>(run_id, None, Entry::RunCompleted(completed))
                    .await?;
                RunOutcome::Completed {
                    run_id: run_id.to_string(),
                }
            }
        };
        self.finish(&outcome).await?;
        Ok(outcome)
    }

    pub(super) async fn finish(&self, outcome: &RunOutcome) -> Result<()> {
        let run_id = match outcome {
            RunOutcome::Completed { run_id }
            | RunOutcome::AlreadyComplete { run_id }
            | RunOutcome::AwaitingApproval { run_id, .. }
            | RunOutcome::CheckFailed { run_id, .. }
            | RunOutcome::Rejected { run_id, .. }
            | RunOutcome::Failed { run_id, .. }
            | RunOutcome::RolledBack { run_id }
            | RunOutcome::AwaitingChecklist { run_id, .. } => run_id.clone(),
        };
        let status = match outcome {
            RunOutcome::AwaitingApproval { .. } | RunOutcome::AwaitingChecklist { .. } => {
                Some(Status::AwaitingApproval)
            }
            RunOutcome::CheckFailed { .. } => Some(Status::CheckFailed),
            RunOutcome::Rejected { .. } => Some(Status::Rejected),
            RunOutcome::Failed { .. } => Some(Status::Failed),
            _ => None,
        };
        if let Some(status) = status {
            let stopped = RunStopped {
                status,
                exit_code: Some(outcome.exit_code()),
                operator: None,
            };
            self.record::<Value>(&run_id, None, Entry::RunStopped(stopped))
                .await?;
        }
        self.events.emit(EngineEvent::RunFinished {
            run_id,
            outcome: outcome.label().into(),
            exit_code: outcome.exit_code(),
        });
        Ok(())
    }

    /// Evidence of steps done so far, in runbook order (main phases then rollback phases).
    fn prior(&self, state: &RunState) -> Vec<PriorStep> {
        self.runbook
            .phases
            .iter()
            .chain(self.runbook.rollback.iter())
            .flat_map(|p| p.steps.iter())
            .filter_map(|s| {
                state
                    .steps
                    .get(&s.id)
                    .filter(|r| r.state == crate::vocab::StepState::Done)
                    .map(|r| PriorStep {
                        id: s.id.clone(),
                        kind: s.step.kind().to_string(),
                        evidence: crate::steps::read_evidence(s.step.kind(), &r.evidence),
                    })
            })
            .collect()
    }

    async fn run_phases(
        &self,
        run_id: &str,
        phases: &[Phase],
        mut state: RunState,
        opts: &RunOptions,
    ) -> Result<Option<RunOutcome>> {
        for phase in phases {
            self.events.emit(EngineEvent::PhaseStarted {
                phase: phase.id.clone(),
                title: phase.title.clone(),
                rollback: phase.rollback,
            });
            for def in &phase.steps {
                if self.already_done(phase, def, &state) {
                    continue;
                }
                let flow = if def.step.checkpoint().is_some() {
                    self.checkpoint(run_id, phase, def, opts).await?
                } else if def.step.checklist().is_some() {
                    self.checklist(run_id, phase, def, opts).await?
                } else {
                    self.step(run_id, phase, def, &state).await?
                };
                if let Flow::Stop(o) = flow {
                    return Ok(Some(o));
                }
                self.anchor_done(run_id, def).await?;
                state = self.state(run_id).await?;
            }
        }
        Ok(None)
    }

    /// Whether a step was done earlier in the run (a resume, or a rollback of a run
    /// that already rolled back part way); if so, say so and move on.
    pub(super) fn already_done(&self, phase: &Phase, def: &StepDef, state: &RunState) -> bool {
        if !state.is_done(&def.id) {
            return false;
        }
        let summary = state
            .steps
            .get(&def.id)
            .and_then(|s| s.summary.clone())
            .unwrap_or_default();
        if let Some(message) = state.steps.get(&def.id).and_then(|r| {
            crate::steps::read_evidence(&r.kind, &r.evidence).and_then(|e| e.warning())
        }) {
            self.events.emit(EngineEvent::StepWarning {
                step: def.id.clone(),
                message,
            });
        }
        self.events.emit(EngineEvent::StepAlreadyDone {
            phase: phase.id.clone(),
            step: def.id.clone(),
            kind: def.step.kind().into(),
            summary,
        });
        true
    }

    pub(super) async fn step(
        &self,
        run_id: &str,
        phase: &Phase,
        def: &StepDef,
        state: &RunState,
    ) -> Result<Flow> {
        self.step_as(run_id, run_id, phase, def, state).await
    }

    /// Run a step recorded under `run_id` whose effects are marked as those of
    /// `steps_run_id` (the run itself, or one rollback attempt of it).
    pub(super) async fn step_as(
        &self,
        run_id: &str,
        steps_run_id: &str,
        phase: &Phase,
        def: &StepDef,
        state: &RunState,
    ) -> Result<Flow> {
        let kind = def.step.kind();
        let started = StepStarted {
            kind: kind.into(),
            phase: phase.id.clone(),
        };
        self.record::<Value>(run_id, Some(&def.id), Entry::StepStarted(started))
            .await?;
        self.events.emit(EngineEvent::StepStarted {
            phase: phase.id.clone(),
            step: def.id.clone(),
            kind: kind.into(),
            targets: def.step.targets(),
            title: def.title.clone(),
        });
        tracing::info!(step = def.id, kind, "step started");
        let anchor = self
            .ledger
            .current_anchor(&self.runbook.name, run_id)
            .await?;
        let prior = self.prior(state);
        let ctx = StepContext {
            run_id: steps_run_id,
            phase: &phase.id,
            step_id: &def.id,
            dir: &self.runbook.dir,
            targets: &self.targets,
            events: &self.events,
            prior: &prior,
            anchor: Some(&anchor),
            batches: Some(&super::batches::RunBatches {
                ledger: &self.ledger,
                runbook: &self.runbook.name,
                run_id,
            }),
        };
        let started = Instant::now();
        crate::crash::point(&format!("before:{}", def.id));
        // A file the step reads that changed since the checkpoint before it was approved.
        let changed = super::approval::changed_since_approval(&self.runbook, state, &def.id);
        let result = match changed {
            Some(why) => Err(Error::bad_input(why).with_hint("the approval does not cover this content: restore the file, or start a new run (--new) to have the new content approved")),
            None => def.step.run(&ctx).await,
        };
        crate::crash::point(&format!("after:{}", def.id));
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(out) if out.failure.is_none() => {
                let evidence_hash = sha256_hex(
                    serde_json::to_string(&out.evidence)
                        .expect("json")
                        .as_bytes(),
                );
                let done = StepDone {
                    kind: kind.into(),
                    phase: phase.id.clone(),
                    summary: out.summary.clone(),
                    evidence: &out.evidence,
                    evidence_hash: evidence_hash.clone(),
                    hazards: Some(out.hazards.clone()),
                    elapsed_ms,
                };
                self.record(run_id, Some(&def.id), Entry::StepDone(done))
                    .await?;
                tracing::info!(step = def.id, "step done: {}", out.summary);
                if let Some(message) = out.evidence.warning() {
                    tracing::warn!(step = def.id, "passed with a warning: {message}");
                    self.events.emit(EngineEvent::StepWarning {
                        step: def.id.clone(),
                        message,
                    });
                }
                self.events.emit(EngineEvent::StepFinished {
                    step: def.id.clone(),
                    summary: out.summary,
                    evidence_hash,
                    elapsed_ms,
                });
                Ok(Flow::Continue)
            }
            Ok(out) => {
                let message = out.failure.clone().unwrap_or_default();
                let failed = StepFailed {
                    kind: kind.into(),
                    phase: phase.id.clone(),
                    summary: Some(out.summary.clone()),
                    evidence: Some(&out.evidence),
                    error: message.clone(),
                    check_failed: true,
                    elapsed_ms,
                };
                self.record(run_id, Some(&def.id), Entry::StepFailed(failed))
                    .await?;
                tracing::warn!(step = def.id, "check failed: {message}");
                self.events.emit(EngineEvent::StepFailed {
                    step: def.id.clone(),
                    error: message.clone(),
                    check_failed: true,
                    elapsed_ms,
                });
                Ok(Flow::Stop(RunOutcome::CheckFailed {
                    run_id: run_id.into(),
                    step: def.id.clone(),
                    message,
                }))
            }
            Err(e) => {
                let e = e.context(format!("step \"{}\" ({kind}, {})", def.id, def.location));
                let failed = StepFailed::<Value> {
                    kind: kind.into(),
                    phase: phase.id.clone(),
                    summary: None,
                    evidence: None,
                    error: e.to_string(),
                    check_failed: false,
                    elapsed_ms,
                };
                self.record(run_id, Some(&def.id), Entry::StepFailed(failed))
                    .await?;
                tracing::error!(step = def.id, "step failed: {e}");
                self.events.emit(EngineEvent::StepFailed {
                    step: def.id.clone(),
                    error: e.to_string(),
                    check_failed: false,
                    elapsed_ms,
                });
                Ok(Flow::Stop(RunOutcome::Failed {
                    run_id: run_id.into(),
                    step: def.id.clone(),
                    error: e,
                }))
            }
        }
    }

    pub async fn close(&self) {
        self.targets.close_all().await;
        self.ledger.close().await;
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

impl Engine {
    /// Called when the run is interrupted (Ctrl-C): record it and give back the locks.
    pub async fn interrupted(&self, opts: &RunOptions) {
        if let Ok(Some(state)) = self.ledger.latest_run(&self.runbook.name).await
            && !state.finished
        {
            let stopped = RunStopped {
                status: Status::Interrupted,
                exit_code: None,
                operator: Some(opts.operator.clone()),
            };
            let _ = self
                .record::<Value>(&state.run_id, None, Entry::RunStopped(stopped))
                .await;
            self.release_run_locks(&state.run_id).await;
        }
    }
}
