//! Rollback: run one of the runbook's rollback phases for the latest run, on demand
//! (`cutover rollback`) or when a step fails (the phase named by `on_failure`).
//!
//! Each execution is its own attempt in the ledger (`rollback_started` with its number);
//! an attempt killed part way resumes with the steps it already did, and a completed
//! one can be run again as a new attempt. Steps of a rollback see the run id
//! `RUN.rollback-N`, so what they mark as applied in a target (`cutover_marks`) or write
//! to disk belongs to that attempt and never makes a later attempt skip its work.
//! With `policy.rollback_requires_approval` every attempt first waits at an approval
//! gate (`rollback:PHASE`, see `rollback_gate.rs`).

use super::run::{Engine, Flow, RunOptions, RunOutcome};
use crate::error::{Error, Result};
use crate::ledger::{Entry, RollbackStarted, RunCompleted, Status};
use crate::steps::{Phase, Runbook};
use crate::vocab::EngineEvent;
use serde_json::Value;

/// The rollback phase a runbook names for a failure in `phase`: the phase's own
/// `on_failure`, else the policy's, else the only rollback phase when the policy rolls
/// back on failure. `None` when nothing rolls back on failure.
pub fn on_failure_phase<'a>(rb: &'a Runbook, phase: &str) -> Option<&'a Phase> {
    let own = rb
        .phases
        .iter()
        .find(|p| p.id == phase)
        .and_then(|p| p.on_failure.as_deref());
    let name = match own {
        Some(n) => Some(n),
        None if rb.policy.rollback_on_failure => match &rb.policy.on_failure {
            Some(n) => Some(n.as_str()),
            None if rb.rollback.len() == 1 => Some(rb.rollback[0].id.as_str()),
            None => None,
        },
        None => None,
    }?;
    rb.rollback.iter().find(|p| p.id == name)
}

/// The id the steps of rollback attempt `n` see as their run id.
pub(super) fn attempt_run_id(run_id: &str, attempt: u32) -> String {
    format!("{run_id}.rollback-{attempt}")
}

impl Engine {
    /// Which rollback phase `cutover rollback [--phase ID]` runs: the one named, else
    /// the policy's `on_failure`, else the only one.
    fn chosen_phase(&self, phase: Option<&str>) -> Result<&Phase> {
        let rb = &self.runbook;
        if rb.rollback.is_empty() {
            return Err(Error::bad_input(format!(
                "runbook \"{}\" has no rollback phases ([[rollback]])",
                rb.name
            )));
        }
        let list = || {
            rb.rollback
                .iter()
                .map(|p| format!("{} ({})", p.id, p.title))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let id = match phase.or(rb.policy.on_failure.as_deref()) {
            Some(id) => id,
            None if rb.rollback.len() == 1 => return Ok(&rb.rollback[0]),
            None => {
                return Err(Error::bad_input(format!(
                    "runbook \"{}\" has {} rollback phases and its policy names none (`on_failure`); choose one with --phase: {}",
                    rb.name,
                    rb.rollback.len(),
                    list()
                )));
            }
        };
        rb.rollback.iter().find(|p| p.id == id).ok_or_else(|| {
            Error::bad_input(format!(
                "no rollback phase \"{id}\"; the runbook has {}",
                list()
            ))
        })
    }

    /// Run a rollback phase (the one named, or the runbook's default) for the latest run.
    /// Without a phase, an unfinished rollback attempt of the run is resumed.
    pub async fn rollback(&self, phase: Option<&str>, opts: &RunOptions) -> Result<RunOutcome> {
        let rb = self.runbook.clone();
        self.verify_ledger().await?;
        let latest = self.ledger.latest_run(&rb.name).await?;
        let unfinished = latest
            .as_ref()
            .and_then(|s| s.rollback.as_ref())
            .filter(|a| !a.finished)
            .and_then(|a| a.phases.first().cloned());
        let chosen = self.chosen_phase(phase.or(unfinished.as_deref()))?;
        let state = latest.ok_or_else(|| {
            Error::bad_input(format!("runbook \"{}\" has no run to roll back", rb.name))
        })?;
        self.rollback_run(&state.run_id, chosen, "on demand", opts)
            .await
    }

    /// Verify the ledger, take the run's locks (in the ledger and in every target the
    /// runbook changes), check the targets' anchors, and run rollback phase `phase`
    /// (resuming its unfinished attempt, or starting a new one).
    pub(super) async fn rollback_run(
        &self,
        run_id: &str,
        phase: &Phase,
        trigger: &str,
        opts: &RunOptions,
    ) -> Result<RunOutcome> {
        self.verify_ledger().await?;
        self.check_same_targets(run_id).await?;
        let locks = self.take_locks(run_id, &opts.operator).await?;
        if let Err(e) = self.check_anchors().await {
            self.release_locks(locks).await;
            return Err(e);
        }
        let result = self.rollback_locked(run_id, phase, trigger, opts).await;
        self.release_locks(locks).await;
        result
    }

    async fn rollback_locked(
        &self,
        run_id: &str,
        phase: &Phase,
        trigger: &str,
        opts: &RunOptions,
    ) -> Result<RunOutcome> {
        let state = self.state(run_id).await?;
        let resumable = state
            .rollback
            .as_ref()
            .filter(|a| !a.finished && a.phases == [phase.id.clone()])
            .map(|a| a.attempt);
        let attempt = match resumable {
            Some(n) => {
                self.events.emit(EngineEvent::StepLog {
                    step: String::new(),
                    message: format!(
                        "resuming rollback attempt {n} ({}) of run {}",
                        phase.id,
                        short(run_id)
                    ),
                });
                n
            }
            None => {
                let n = state.rollback.as_ref().map(|a| a.attempt).unwrap_or(0) + 1;
                let started = RollbackStarted {
                    operator: opts.operator.clone(),
                    phases: vec![phase.id.clone()],
                    attempt: Some(n),
                    trigger: Some(trigger.to_string()),
                };
                self.record::<Value>(run_id, None, Entry::RollbackStarted(started))
                    .await?;
                self.events.emit(EngineEvent::StepLog {
                    step: String::new(),
                    message: format!(
                        "rollback attempt {n} ({}) of run {} ({trigger})",
                        phase.id,
                        short(run_id)
                    ),
                });
                n
            }
        };
        self.events.emit(EngineEvent::PhaseStarted {
            phase: phase.id.clone(),
            title: phase.title.clone(),
            rollback: true,
        });
        if self.runbook.policy.rollback_requires_approval
            && let Flow::Stop(o) = self.rollback_gate(run_id, phase, opts).await?
        {
            self.finish(&o).await?;
            return Ok(o);
        }
        let steps_run_id = attempt_run_id(run_id, attempt);
        let mut state = self.state(run_id).await?;
        for def in &phase.steps {
            let done_here = state
                .rollback
                .as_ref()
                .is_some_and(|a| a.done.contains(&def.id));
            if done_here && self.already_done(phase, def, &state) {
                continue;
            }
            if let Flow::Stop(o) = self
                .step_as(run_id, &steps_run_id, phase, def, &state)
                .await?
            {
                self.finish(&o).await?;
                return Ok(o);
            }
            // Anchored under the run (whose lock this holds), not the attempt's id.
            self.anchor_done(run_id, def).await?;
            state = self.state(run_id).await?;
        }
        let completed = RunCompleted {
            status: Status::RolledBack,
        };
        self.record::<Value>(run_id, None, Entry::RunCompleted(completed))
            .await?;
        let o = RunOutcome::RolledBack {
            run_id: run_id.to_string(),
        };
        self.finish(&o).await?;
        Ok(o)
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}
