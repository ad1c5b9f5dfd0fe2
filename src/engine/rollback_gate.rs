//! The approval gate in front of a rollback (`policy.rollback_requires_approval`): a
//! checkpoint named `rollback:PHASE` that every rollback attempt waits at until the
//! policy's approvals are recorded (`cutover approve RUNBOOK --checkpoint rollback:PHASE`).
//!
//! The approval binds to the runbook's content, the run, the phase, the attempt number
//! and every step result recorded so far, so approving one attempt never approves the
//! next. The rules are those of checkpoints: the policy's roles and count, no
//! self-approval unless allowed, a rejection stops the rollback (exit 1).

use super::approval::{self, Decision, DecisionRequest, Verdict};
use super::run::{Engine, Flow, RunOptions, RunOutcome};
use crate::error::{Error, Result};
use crate::ledger::{ApprovalGiven, CheckpointWaiting, Entry, Ledger, RunState};
use crate::steps::checkpoint::{CheckpointDecision, CheckpointEvidence};
use crate::steps::{Phase, Runbook};
use crate::vocab::{ApprovalNeed, EngineEvent};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

pub const PREFIX: &str = "rollback:";

/// The gate's checkpoint name for a rollback phase.
pub fn gate_id(phase: &str) -> String {
    format!("{PREFIX}{phase}")
}

/// SHA-256 of what a rollback approval covers: the runbook, the run, the phase, the
/// attempt and every step result recorded in the run so far.
fn gate_hash(runbook: &Runbook, state: &RunState, phase: &str, attempt: u32) -> String {
    let mut h = Sha256::new();
    h.update(b"cutover-rollback-gate-v1\n");
    h.update(runbook.content_hash.as_bytes());
    h.update(format!("\nrun={}\nphase={phase}\nattempt={attempt}\n", state.run_id).as_bytes());
    for (id, s) in &state.steps {
        if id.starts_with(PREFIX) {
            continue;
        }
        let eh = s.evidence_hash.as_deref().unwrap_or("not-done");
        h.update(format!("{id}={eh}\n").as_bytes());
    }
    hex::encode(h.finalize())
}

/// What the gate of the run's current rollback attempt requires, and who approved it.
pub fn need(runbook: &Runbook, state: &RunState, runbook_arg: &str) -> Option<ApprovalNeed> {
    let attempt = state.rollback.as_ref().filter(|a| !a.finished)?;
    let phase = attempt.phases.first()?;
    let gate = gate_id(phase);
    let title = runbook
        .rollback
        .iter()
        .find(|p| &p.id == phase)
        .map(|p| format!("Roll back: {}", p.title))
        .unwrap_or_else(|| format!("Roll back: {phase}"));
    let policy = &runbook.policy;
    let evidence_hash = gate_hash(runbook, state, phase, attempt.attempt);
    let roles = policy.roles.clone();
    let approved_by = state
        .current_decisions(&gate, &evidence_hash)
        .into_iter()
        .filter(|a| a.decision == Decision::Approve)
        .filter(|a| roles.is_empty() || roles.contains(&a.role))
        .filter(|a| {
            policy.allow_self_approval
                || !crate::vocab::identity::same_person(&a.approver, &state.operator)
        })
        .map(|a| (a.approver.clone(), a.role.clone()))
        .collect();
    let role_hint = roles.first().cloned().unwrap_or_else(|| "ROLE".into());
    Some(ApprovalNeed {
        checkpoint: gate.clone(),
        title,
        evidence_hash,
        required: policy.approvals,
        roles,
        approved_by,
        hazards: Vec::new(),
        hazard_details: Vec::new(),
        approve_command: format!(
            "cutover approve {runbook_arg} --checkpoint {gate} --as NAME --role {role_hint} --comment \"...\""
        ),
        files: Vec::new(),
        stale: Vec::new(),
        rejection: None,
        warnings: Vec::new(),
    })
}

/// Record an approval or rejection of the rollback gate the latest run waits at.
pub async fn record_decision(
    ledger: &Ledger,
    runbook: &Runbook,
    req: &DecisionRequest<'_>,
) -> Result<ApprovalNeed> {
    let refuse = |msg: String| Err(Error::bad_input(msg));
    let Some(state) = ledger.latest_run(&runbook.name).await? else {
        return refuse(format!(
            "runbook \"{}\" has no run in the ledger {}",
            runbook.name,
            ledger.redacted_url()
        ));
    };
    let Some(need) = need(runbook, &state, req.runbook_arg) else {
        return refuse(format!(
            "no rollback of run {} is waiting for approval",
            approval::short(&state.run_id)
        ));
    };
    if need.checkpoint != req.checkpoint {
        return refuse(format!(
            "run {} is rolling back with gate \"{}\", not \"{}\"",
            approval::short(&state.run_id),
            need.checkpoint,
            req.checkpoint
        ));
    }
    if req.approver.trim().is_empty() {
        return refuse("an approver name is required (--as NAME)".into());
    }
    match &state.waiting_at {
        Some((cp, hash)) if *cp == need.checkpoint && *hash == need.evidence_hash => {}
        _ => {
            return refuse(format!(
                "run {} is not waiting at \"{}\" for the evidence you would approve (hash {}): run the rollback first, or your copy of the runbook differs from the run's",
                approval::short(&state.run_id),
                need.checkpoint,
                approval::short(&need.evidence_hash)
            ));
        }
    }
    let policy = &runbook.policy;
    if let Some(why) = approval::identity_refusal(
        policy,
        &state.operator,
        req,
        &need.roles,
        approval::short(&state.run_id),
    ) {
        return refuse(why);
    }
    if req.decision == Decision::Withdraw {
        return refuse("a rollback gate has no standing rejections to withdraw: a rejection stops the rollback; start it again with `cutover rollback`".into());
    }
    if policy.require_signatures {
        return refuse(format!(
            "the policy requires signed approvals, and a rollback gate cannot take a signature yet: set rollback_requires_approval = false or decide \"{}\" without require_signatures",
            need.checkpoint
        ));
    }
    let given = ApprovalGiven {
        approver: req.approver.to_string(),
        role: req.role.to_string(),
        decision: req.decision,
        comment: req.comment.map(str::to_string),
        evidence_hash: need.evidence_hash.clone(),
        runbook_hash: runbook.content_hash.clone(),
        via: req.via.to_string(),
        files: Default::default(),
        signature: None,
        withdraws: Vec::new(),
    };
    ledger
        .append_entry::<Value>(
            &runbook.name,
            &state.run_id,
            Some(&need.checkpoint),
            &Entry::Approval(given),
        )
        .await?;
    let state = ledger.latest_run(&runbook.name).await?.unwrap_or(state);
    self::need(runbook, &state, req.runbook_arg).ok_or_else(|| Error::runtime("rollback ended"))
}

impl Engine {
    /// Wait at the rollback gate of the run's current attempt until it is approved.
    pub(super) async fn rollback_gate(
        &self,
        run_id: &str,
        phase: &Phase,
        opts: &RunOptions,
    ) -> Result<Flow> {
        let rb = &self.runbook;
        let gate = gate_id(&phase.id);
        let started = Instant::now();
        let mut announced: Option<String> = None;
        let mut auto_tried = false;
        loop {
            let state = self.state(run_id).await?;
            if state
                .rollback
                .as_ref()
                .is_some_and(|a| a.done.contains(&gate))
            {
                return Ok(Flow::Continue);
            }
            let need = need(rb, &state, &opts.runbook_arg)
                .ok_or_else(|| Error::runtime("the rollback attempt ended while waiting"))?;
            match approval::verdict(rb, &state, &need) {
                Verdict::Approved => {
                    let approvals = state
                        .current_decisions(&gate, &need.evidence_hash)
                        .into_iter()
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
                        hazards: Vec::new(),
                        hazard_details: Vec::new(),
                        files: Vec::new(),
                        warnings: Vec::new(),
                    };
                    self.record_gate_passed(
                        run_id,
                        &gate,
                        &phase.id,
                        evidence,
                        &need,
                        "rollback approved",
                        started,
                    )
                    .await?;
                    return Ok(Flow::Continue);
                }
                Verdict::Rejected { by, comment } => {
                    self.events.emit(EngineEvent::StepFailed {
                        step: gate.clone(),
                        error: format!(
                            "rollback rejected by {by}{}",
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
                        checkpoint: gate,
                        by,
                        comment,
                    }));
                }
                Verdict::Pending => {}
            }
            if announced.as_deref() != Some(need.evidence_hash.as_str()) {
                let recorded = state
                    .waiting_at
                    .as_ref()
                    .is_some_and(|(c, h)| *c == gate && *h == need.evidence_hash);
                if !recorded {
                    let waiting = CheckpointWaiting {
                        phase: phase.id.clone(),
                        evidence_hash: need.evidence_hash.clone(),
                        required: need.required,
                        roles: need.roles.clone(),
                        hazards: Vec::new(),
                        hazard_details: Vec::new(),
                    };
                    self.record::<Value>(run_id, Some(&gate), Entry::CheckpointWaiting(waiting))
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
                        checkpoint: &gate,
                        approver: name,
                        role,
                        decision: Decision::Approve,
                        comment: Some("approved with --approve-as"),
                        via: "command-line flag",
                        runbook_arg: &opts.runbook_arg,
                        sign_with: None,
                    };
                    record_decision(&self.ledger, rb, &req).await?;
                }
                continue;
            }
            let timed_out = opts.wait_timeout.is_some_and(|t| started.elapsed() >= t);
            if !opts.wait || timed_out {
                return Ok(Flow::Stop(RunOutcome::AwaitingApproval {
                    run_id: run_id.into(),
                    need: Box::new(need),
                }));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}
