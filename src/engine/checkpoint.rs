//! A checkpoint: wait until the approval policy is met for the evidence so far, then
//! record the decisions that passed it as the checkpoint's evidence.

use super::approval::{self, DecisionRequest, Verdict};
use super::run::{Engine, Flow, RunOptions, RunOutcome};
use crate::error::Result;
use crate::ledger::{CheckpointWaiting, Entry, StepDone};
use crate::runbook::sha256_hex;
use crate::steps::checkpoint::{CheckpointDecision, CheckpointEvidence};
use crate::steps::{Phase, StepDef};
use crate::vocab::EngineEvent;
use serde_json::Value;
use std::time::{Duration, Instant};

impl Engine {
    pub(super) async fn checkpoint(
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
                    decision: a.decision,
                    comment: a.comment.clone(),
                });
            }
            seen_approvals = Some(state.approvals.len());
            let need = approval::need(rb, &state, &def.id, &opts.runbook_arg)?;
            match approval::verdict(rb, &state, &need) {
                Verdict::Approved => {
                    let approvals = state
                        .current_decisions(&def.id, &need.evidence_hash)
                        .into_iter()
                        .filter(|a| need.approved_by.iter().any(|(n, _)| n == &a.approver))
                        .map(|a| CheckpointDecision {
                            approver: a.approver.clone(),
                            role: a.role.clone(),
                            decision: a.decision,
                            comment: a.comment.clone(),
                            via: a.via.clone(),
                            at: a.at.clone(),
                        })
                        .collect();
                    let evidence = CheckpointEvidence {
                        evidence_hash: need.evidence_hash.clone(),
                        approvals,
                        hazards: need.hazards.clone(),
                        hazard_details: need.hazard_details.clone(),
                        files: need.files.clone(),
                        warnings: need.warnings.clone(),
                    };
                    self.record_gate_passed(
                        run_id, &def.id, &phase.id, evidence, &need, "approved", started,
                    )
                    .await?;
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
                    let waiting = CheckpointWaiting {
                        phase: phase.id.clone(),
                        evidence_hash: need.evidence_hash.clone(),
                        required: need.required,
                        roles: need.roles.clone(),
                        hazards: need.hazards.clone(),
                        hazard_details: need.hazard_details.clone(),
                    };
                    self.record::<Value>(run_id, Some(&def.id), Entry::CheckpointWaiting(waiting))
                        .await?;
                }
                self.events
                    .emit(EngineEvent::AwaitingApproval { need: need.clone() });
                announced = Some(need.evidence_hash.clone());
                continue;
            }
            if !opts.approve_as.is_empty() && !auto_tried {
                auto_tried = true;
                for (name, role) in approval::command_line_approvers(&opts.approve_as, &need) {
                    let req = DecisionRequest {
                        checkpoint: &def.id,
                        approver: name,
                        role,
                        decision: approval::Decision::Approve,
                        comment: Some("approved with --approve-as"),
                        via: "command-line flag",
                        runbook_arg: &opts.runbook_arg,
                        sign_with: None,
                    };
                    approval::record_decision(&self.ledger, rb, &req).await?;
                }
                continue;
            }
            let timed_out = opts
                .wait_timeout
                .map(|t| started.elapsed() >= t)
                .unwrap_or(false);
            if !opts.wait || timed_out {
                return Ok(Flow::Stop(RunOutcome::AwaitingApproval {
                    run_id: run_id.into(),
                    need: Box::new(need),
                }));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Record that a gate (a checkpoint, or a rollback's approval gate) passed: its
    /// decisions as the step's evidence, a `step_done` for `step`, and the event.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn record_gate_passed(
        &self,
        run_id: &str,
        step: &str,
        phase: &str,
        evidence: CheckpointEvidence,
        need: &crate::vocab::ApprovalNeed,
        what: &str,
        started: Instant,
    ) -> Result<()> {
        let evidence_hash = sha256_hex(serde_json::to_string(&evidence).expect("json").as_bytes());
        let mut summary = format!(
            "{what} by {}",
            need.approved_by
                .iter()
                .map(|(n, r)| format!("{n} ({r})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !need.warnings.is_empty() {
            summary.push_str(&format!(
                " over {} warning(s): {}",
                need.warnings.len(),
                need.warnings
                    .iter()
                    .map(|w| w.split(" (").next().unwrap_or(w))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        let done = StepDone {
            kind: "checkpoint".into(),
            phase: phase.to_string(),
            summary: summary.clone(),
            evidence,
            evidence_hash: evidence_hash.clone(),
            hazards: None,
            elapsed_ms: 0,
        };
        self.record(run_id, Some(step), Entry::StepDone(done))
            .await?;
        self.events.emit(EngineEvent::StepFinished {
            step: step.to_string(),
            summary,
            evidence_hash,
            elapsed_ms: started.elapsed().as_millis() as u64,
        });
        Ok(())
    }
}
