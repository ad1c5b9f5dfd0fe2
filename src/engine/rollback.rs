//! Rollback: run the runbook's rollback phases (all, or one) for the latest run.

use super::run::{Engine, Flow, RunOptions, RunOutcome};
use crate::error::{Error, Result};
use crate::ledger::{Entry, RollbackStarted, RunCompleted, Status};
use crate::steps::Phase;
use crate::vocab::EngineEvent;
use serde_json::Value;

impl Engine {
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
        self.verify_ledger().await?;
        let state = self.ledger.latest_run(&rb.name).await?.ok_or_else(|| {
            Error::bad_input(format!("runbook \"{}\" has no run to roll back", rb.name))
        })?;
        let run_id = state.run_id.clone();
        let locks = self.take_locks(&run_id, &opts.operator).await?;
        if let Err(e) = self.check_anchors().await {
            self.release_locks(locks).await;
            return Err(e);
        }
        let result = async {
            let started = RollbackStarted {
                operator: opts.operator.clone(),
                phases: phases.iter().map(|p| p.id.clone()).collect(),
            };
            self.record::<Value>(&run_id, None, Entry::RollbackStarted(started))
                .await?;
            let mut state = self.state(&run_id).await?;
            for p in &phases {
                self.events.emit(EngineEvent::PhaseStarted {
                    phase: p.id.clone(),
                    title: p.title.clone(),
                    rollback: true,
                });
                for def in &p.steps {
                    if self.already_done(p, def, &state) {
                        continue;
                    }
                    if let Flow::Stop(o) = self.step(&run_id, p, def, &state).await? {
                        self.finish(&o).await?;
                        return Ok(o);
                    }
                    self.anchor_done(&run_id, def).await?;
                    state = self.state(&run_id).await?;
                }
            }
            let completed = RunCompleted {
                status: Status::RolledBack,
            };
            self.record::<Value>(&run_id, None, Entry::RunCompleted(completed))
                .await?;
            let o = RunOutcome::RolledBack {
                run_id: run_id.clone(),
            };
            self.finish(&o).await?;
            Ok(o)
        }
        .await;
        self.release_locks(locks).await;
        result
    }
}
