//! The run state machine.

use super::approval::{self, DecisionRequest, Verdict};
use crate::db::Targets;
use crate::error::{Error, ErrorKind, Result, exit};
use crate::ledger::{Ledger, LockGuard, RunState};
use crate::runbook::sha256_hex;
use crate::steps::{Phase, PriorStep, Runbook, StepContext, StepDef};
use crate::vocab::{EngineEvent, EventSink};
use serde_json::json;
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
    pub approve_as: Option<(String, String)>,
    /// Start a new run even if the last one completed.
    pub new_run: bool,
    /// How the runbook was named on the command line, for the commands we print.
    pub runbook_arg: String,
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
        need: crate::vocab::ApprovalNeed,
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
            RunOutcome::AwaitingApproval { .. } => exit::AWAITING_APPROVAL,
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
        }
    }
}

pub struct Engine {
    pub runbook: Arc<Runbook>,
    pub ledger: Arc<Ledger>,
    pub targets: Arc<Targets>,
    pub events: EventSink,
}

enum Flow {
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

    fn lock_keys(&self) -> Vec<(String, String)> {
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

    async fn state(&self, run_id: &str) -> Result<RunState> {
        Ok(RunState::from_records(
            &self.ledger.run_records(&self.runbook.name, run_id).await?,
        ))
    }

    async fn record(
        &self,
        run_id: &str,
        kind: &str,
        step: Option<&str>,
        payload: serde_json::Value,
    ) -> Result<()> {
        self.ledger
            .append(&self.runbook.name, run_id, kind, step, &payload)
            .await
            .map(|_| ())
    }

    /// Run (or resume) the runbook's phases.
    pub async fn run(&self, opts: &RunOptions) -> Result<RunOutcome> {
        let rb = self.runbook.clone();
        let latest = self.ledger.latest_run(&rb.name).await?;
        let (run_id, resumed) = match latest {
            Some(s) if !s.finished && !opts.new_run => (s.run_id.clone(), true),
            Some(s) if s.finished && s.status == "completed" && !opts.new_run => {
                self.events.emit(EngineEvent::RunFinished {
                    run_id: s.run_id.clone(),
                    outcome: "already complete".into(),
                    exit_code: exit::OK,
                });
                return Ok(RunOutcome::AlreadyComplete { run_id: s.run_id });
            }
            _ => (uuid::Uuid::new_v4().simple().to_string(), false),
        };
        let guard = self
            .ledger
            .acquire_locks(&self.lock_keys(), &rb.name, &run_id, &opts.operator)
            .await?;
        let result = self.run_locked(&run_id, resumed, opts).await;
        self.ledger.release(&guard).await;
        let outcome = result?;
        if let RunOutcome::CheckFailed { .. } | RunOutcome::Failed { .. } = outcome
            && rb.policy.rollback_on_failure
            && !rb.rollback.is_empty()
        {
            self.events.emit(EngineEvent::StepLog {
                step: String::new(),
                message: "policy rollback_on_failure: running the rollback phases".into(),
            });
            let _ = self.rollback(None, opts).await?;
        }
        Ok(outcome)
    }

    async fn run_locked(
        &self,
        run_id: &str,
        resumed: bool,
        opts: &RunOptions,
    ) -> Result<RunOutcome> {
        let rb = self.runbook.clone();
        if resumed {
            self.record(
                run_id,
                "run_resumed",
                None,
                json!({"operator": opts.operator, "runbook_hash": rb.content_hash}),
            )
            .await?;
        } else {
            let targets: serde_json::Map<String, serde_json::Value> = rb
                .targets
                .values()
                .map(|t| (t.name.clone(), json!(t.redacted)))
                .collect();
            self.record(
                run_id,
                "run_started",
                None,
                json!({
                    "operator": opts.operator,
                    "runbook_path": rb.path.display().to_string(),
                    "runbook_hash": rb.content_hash,
                    "targets": targets,
                }),
            )
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
                self.record(
                    run_id,
                    "run_completed",
                    None,
                    json!({"status": "completed"}),
                )
                .await?;
                RunOutcome::Completed {
                    run_id: run_id.to_string(),
                }
            }
        };
        self.finish(&outcome).await?;
        Ok(outcome)
    }

    async fn finish(&self, outcome: &RunOutcome) -> Result<()> {
        let run_id = match outcome {
            RunOutcome::Completed { run_id }
            | RunOutcome::AlreadyComplete { run_id }
            | RunOutcome::AwaitingApproval { run_id, .. }
            | RunOutcome::CheckFailed { run_id, .. }
            | RunOutcome::Rejected { run_id, .. }
            | RunOutcome::Failed { run_id, .. }
            | RunOutcome::RolledBack { run_id } => run_id.clone(),
        };
        let status = match outcome {
            RunOutcome::AwaitingApproval { .. } => Some("awaiting_approval"),
            RunOutcome::CheckFailed { .. } => Some("check_failed"),
            RunOutcome::Rejected { .. } => Some("rejected"),
            RunOutcome::Failed { .. } => Some("failed"),
            _ => None,
        };
        if let Some(status) = status {
            self.record(
                &run_id,
                "run_stopped",
                None,
                json!({"status": status, "exit_code": outcome.exit_code()}),
            )
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
                        evidence: r.evidence.clone(),
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
                if state.is_done(&def.id) {
                    let summary = state
                        .steps
                        .get(&def.id)
                        .and_then(|s| s.summary.clone())
                        .unwrap_or_default();
                    self.events.emit(EngineEvent::StepAlreadyDone {
                        phase: phase.id.clone(),
                        step: def.id.clone(),
                        kind: def.step.kind().into(),
                        summary,
                    });
                    continue;
                }
                let flow = if def.step.checkpoint().is_some() {
                    self.checkpoint(run_id, phase, def, opts).await?
                } else {
                    self.step(run_id, phase, def, &state).await?
                };
                if let Flow::Stop(o) = flow {
                    return Ok(Some(o));
                }
                state = self.state(run_id).await?;
            }
        }
        Ok(None)
    }

    async fn step(
        &self,
        run_id: &str,
        phase: &Phase,
        def: &StepDef,
        state: &RunState,
    ) -> Result<Flow> {
        let kind = def.step.kind();
        self.record(
            run_id,
            "step_started",
            Some(&def.id),
            json!({"kind": kind, "phase": phase.id}),
        )
        .await?;
        self.events.emit(EngineEvent::StepStarted {
            phase: phase.id.clone(),
            step: def.id.clone(),
            kind: kind.into(),
            targets: def.step.targets(),
            title: def.title.clone(),
        });
        tracing::info!(step = def.id, kind, "step started");
        let prior = self.prior(state);
        let ctx = StepContext {
            run_id,
            phase: &phase.id,
            step_id: &def.id,
            dir: &self.runbook.dir,
            targets: &self.targets,
            events: &self.events,
            prior: &prior,
        };
        let started = Instant::now();
        crate::crash::point(&format!("before:{}", def.id));
        let result = def.step.run(&ctx).await;
        crate::crash::point(&format!("after:{}", def.id));
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(out) if out.failure.is_none() => {
                let evidence_hash = sha256_hex(
                    serde_json::to_string(&out.evidence)
                        .expect("json")
                        .as_bytes(),
                );
                self.record(
                    run_id,
                    "step_done",
                    Some(&def.id),
                    json!({
                        "kind": kind, "phase": phase.id, "summary": out.summary, "evidence": out.evidence,
                        "evidence_hash": evidence_hash, "hazards": out.hazards, "elapsed_ms": elapsed_ms,
                    }),
                )
                .await?;
                tracing::info!(step = def.id, "step done: {}", out.summary);
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
                self.record(
                    run_id,
                    "step_failed",
                    Some(&def.id),
                    json!({
                        "kind": kind, "phase": phase.id, "summary": out.summary, "evidence": out.evidence,
                        "error": message, "check_failed": true, "elapsed_ms": elapsed_ms,
                    }),
                )
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
                self.record(
                    run_id,
                    "step_failed",
                    Some(&def.id),
                    json!({"kind": kind, "phase": phase.id, "error": e.to_string(), "check_failed": false, "elapsed_ms": elapsed_ms}),
                )
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

    async fn checkpoint(
        &self,
        run_id: &str,
        phase: &Phase,
        def: &StepDef,
        opts: &RunOptions,
    ) -> Result<Flow> {
        let rb = &self.runbook;
        let started = Instant::now();
        let mut announced: Option<String> = None;
        let mut auto_tried = false;
        // Approvals already in the ledger when we got here; later ones are announced.
        let mut seen_approvals: Option<usize> = None;
        loop {
            let state = self.state(run_id).await?;
            for a in state
                .approvals
                .iter()
                .skip(seen_approvals.unwrap_or(state.approvals.len()))
            {
                self.events.emit(EngineEvent::ApprovalRecorded {
                    checkpoint: a.checkpoint.clone(),
                    approver: a.approver.clone(),
                    role: a.role.clone(),
                    decision: a.decision.clone(),
                    comment: a.comment.clone(),
                });
            }
            seen_approvals = Some(state.approvals.len());
            let need = approval::need(rb, &state, &def.id, &opts.runbook_arg)?;
            match approval::verdict(rb, &state, &need) {
                Verdict::Approved => {
                    let decisions: Vec<_> = state
                        .current_decisions(&def.id, &need.evidence_hash)
                        .into_iter()
                        .map(|a| json!({"approver": a.approver, "role": a.role, "decision": a.decision, "comment": a.comment, "via": a.via, "at": a.at}))
                        .collect();
                    let evidence = json!({"evidence_hash": need.evidence_hash, "approvals": decisions, "hazards": need.hazards});
                    let evidence_hash =
                        sha256_hex(serde_json::to_string(&evidence).expect("json").as_bytes());
                    let summary = format!(
                        "approved by {}",
                        need.approved_by
                            .iter()
                            .map(|(n, r)| format!("{n} ({r})"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    self.record(
                        run_id,
                        "step_done",
                        Some(&def.id),
                        json!({"kind": "checkpoint", "phase": phase.id, "summary": summary, "evidence": evidence, "evidence_hash": evidence_hash, "elapsed_ms": 0}),
                    )
                    .await?;
                    self.events.emit(EngineEvent::StepFinished {
                        step: def.id.clone(),
                        summary,
                        evidence_hash,
                        elapsed_ms: started.elapsed().as_millis() as u64,
                    });
                    return Ok(Flow::Continue);
                }
                Verdict::Rejected { by, comment } => {
                    self.events.emit(EngineEvent::StepFailed {
                        step: def.id.clone(),
                        error: format!(
                            "rejected by {by}{}",
                            comment
                                .as_ref()
                                .map(|c| format!(": {c}"))
                                .unwrap_or_default()
                        ),
                        check_failed: true,
                        elapsed_ms: 0,
                    });
                    return Ok(Flow::Stop(RunOutcome::Rejected {
                        run_id: run_id.into(),
                        checkpoint: def.id.clone(),
                        by,
                        comment,
                    }));
                }
                Verdict::Pending => {}
            }
            if announced.as_deref() != Some(need.evidence_hash.as_str()) {
                let waiting_recorded = state
                    .waiting_at
                    .as_ref()
                    .map(|(c, h)| c == &def.id && h == &need.evidence_hash)
                    .unwrap_or(false);
                if !waiting_recorded {
                    self.record(
                        run_id,
                        "checkpoint_waiting",
                        Some(&def.id),
                        json!({"phase": phase.id, "evidence_hash": need.evidence_hash, "required": need.required, "roles": need.roles, "hazards": need.hazards}),
                    )
                    .await?;
                }
                self.events
                    .emit(EngineEvent::AwaitingApproval { need: need.clone() });
                announced = Some(need.evidence_hash.clone());
                continue;
            }
            if let (Some((name, role)), false) = (&opts.approve_as, auto_tried) {
                auto_tried = true;
                let req = DecisionRequest {
                    checkpoint: &def.id,
                    approver: name,
                    role,
                    decision: approval::Decision::Approve,
                    comment: Some("approved with --approve-as"),
                    via: "command-line flag",
                    runbook_arg: &opts.runbook_arg,
                };
                approval::record_decision(&self.ledger, rb, &req).await?;
                continue;
            }
            let timed_out = opts
                .wait_timeout
                .map(|t| started.elapsed() >= t)
                .unwrap_or(false);
            if !opts.wait || timed_out {
                return Ok(Flow::Stop(RunOutcome::AwaitingApproval {
                    run_id: run_id.into(),
                    need,
                }));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Run the rollback phases (all, or the one named) for the latest run.
    pub async fn rollback(&self, phase: Option<&str>, opts: &RunOptions) -> Result<RunOutcome> {
        let rb = self.runbook.clone();
        if rb.rollback.is_empty() {
            return Err(Error::bad_input(format!(
                "runbook \"{}\" has no rollback phases ([[rollback]])",
                rb.name
            )));
        }
        let phases: Vec<&Phase> = match phase {
            Some(id) => {
                let p = rb.rollback.iter().find(|p| p.id == id).ok_or_else(|| {
                    Error::bad_input(format!(
                        "no rollback phase \"{id}\"; the runbook has {}",
                        rb.rollback
                            .iter()
                            .map(|p| p.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
                vec![p]
            }
            None if rb.rollback.len() == 1 => rb.rollback.iter().collect(),
            None => {
                return Err(Error::bad_input(format!(
                    "runbook \"{}\" has {} rollback phases; choose one with --phase: {}",
                    rb.name,
                    rb.rollback.len(),
                    rb.rollback
                        .iter()
                        .map(|p| format!("{} ({})", p.id, p.title))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        };
        let state = self.ledger.latest_run(&rb.name).await?.ok_or_else(|| {
            Error::bad_input(format!("runbook \"{}\" has no run to roll back", rb.name))
        })?;
        let run_id = state.run_id.clone();
        let guard: LockGuard = self
            .ledger
            .acquire_locks(&self.lock_keys(), &rb.name, &run_id, &opts.operator)
            .await?;
        let result = async {
            self.record(
                &run_id,
                "rollback_started",
                None,
                json!({"operator": opts.operator, "phases": phases.iter().map(|p| p.id.clone()).collect::<Vec<_>>()}),
            )
            .await?;
            let mut state = self.state(&run_id).await?;
            for p in &phases {
                self.events.emit(EngineEvent::PhaseStarted { phase: p.id.clone(), title: p.title.clone(), rollback: true });
                for def in &p.steps {
                    if state.is_done(&def.id) {
                        self.events.emit(EngineEvent::StepAlreadyDone {
                            phase: p.id.clone(),
                            step: def.id.clone(),
                            kind: def.step.kind().into(),
                            summary: state.steps.get(&def.id).and_then(|s| s.summary.clone()).unwrap_or_default(),
                        });
                        continue;
                    }
                    if let Flow::Stop(o) = self.step(&run_id, p, def, &state).await? {
                        self.finish(&o).await?;
                        return Ok(o);
                    }
                    state = self.state(&run_id).await?;
                }
            }
            self.record(&run_id, "run_completed", None, json!({"status": "rolled_back"})).await?;
            let o = RunOutcome::RolledBack { run_id: run_id.clone() };
            self.finish(&o).await?;
            Ok(o)
        }
        .await;
        self.ledger.release(&guard).await;
        result
    }

    pub async fn close(&self) {
        self.targets.close_all().await;
        self.ledger.close().await;
    }
}

impl Engine {
    /// Called when the run is interrupted (Ctrl-C): record it and give back the locks.
    pub async fn interrupted(&self, opts: &RunOptions) {
        if let Ok(Some(state)) = self.ledger.latest_run(&self.runbook.name).await
            && !state.finished
        {
            let _ = self
                .record(
                    &state.run_id,
                    "run_stopped",
                    None,
                    json!({"status": "interrupted", "operator": opts.operator}),
                )
                .await;
            let keys = self.lock_keys().into_iter().map(|(k, _)| k).collect();
            self.ledger
                .release(&LockGuard {
                    run_id: state.run_id.clone(),
                    keys,
                })
                .await;
        }
    }
}
