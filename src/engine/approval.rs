//! Approvals: the evidence hash a checkpoint binds to, what the policy requires, and
//! recording a decision with the rules that cannot be bypassed (no self-approval unless
//! the policy allows it, only the policy's roles, never a stale or premature approval).

use crate::error::{Error, ErrorKind, Result};
use crate::ledger::{ApprovalGiven, Entry, Ledger, RunState};
use crate::steps::Runbook;
use crate::vocab::ApprovalNeed;
use crate::vocab::Hazard;
use sha2::{Digest, Sha256};

/// SHA-256 of the runbook's content and every earlier step's recorded result.
pub fn checkpoint_evidence_hash(runbook: &Runbook, state: &RunState, checkpoint: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"cutover-evidence-v1\n");
    h.update(runbook.content_hash.as_bytes());
    h.update(b"\n");
    for (_, s) in runbook.steps() {
        if s.id == checkpoint {
            break;
        }
        let eh = state
            .steps
            .get(&s.id)
            .and_then(|r| r.evidence_hash.clone())
            .unwrap_or_else(|| "not-done".into());
        h.update(format!("{}={}\n", s.id, eh).as_bytes());
    }
    hex::encode(h.finalize())
}

/// Hazards raised by steps since the previous checkpoint, up to `checkpoint`.
pub fn hazards_before(runbook: &Runbook, state: &RunState, checkpoint: &str) -> Vec<Hazard> {
    let mut out: Vec<Hazard> = Vec::new();
    for (_, s) in runbook.steps() {
        if s.id == checkpoint {
            break;
        }
        if s.step.checkpoint().is_some() {
            out.clear();
            continue;
        }
        if let Some(r) = state.steps.get(&s.id) {
            for hz in &r.hazards {
                if !out.contains(hz) {
                    out.push(hz.clone());
                }
            }
        }
    }
    out
}

/// What a checkpoint requires now, and who has validly approved it.
pub fn need(
    runbook: &Runbook,
    state: &RunState,
    checkpoint: &str,
    runbook_arg: &str,
) -> Result<ApprovalNeed> {
    let (_, def) = runbook.find_step(checkpoint).ok_or_else(|| {
        Error::bad_input(format!(
            "runbook \"{}\" has no step \"{checkpoint}\"",
            runbook.name
        ))
    })?;
    let spec = def.step.checkpoint().ok_or_else(|| {
        Error::bad_input(format!(
            "step \"{checkpoint}\" is a {} step, not a checkpoint",
            def.step.kind()
        ))
    })?;
    let policy = &runbook.policy;
    let hazards = hazards_before(runbook, state, checkpoint);
    let mut required = spec.approvals.unwrap_or(policy.approvals);
    let mut roles = spec.roles.clone().unwrap_or_else(|| policy.roles.clone());
    if !hazards.is_empty() {
        required += policy.hazard_extra_approvals;
        for r in &policy.hazard_roles {
            if !roles.is_empty() && !roles.contains(r) {
                roles.push(r.clone());
            }
        }
    }
    let evidence_hash = checkpoint_evidence_hash(runbook, state, checkpoint);
    let approved_by = valid_approvals(runbook, state, checkpoint, &evidence_hash, &roles)
        .into_iter()
        .map(|a| (a.approver.clone(), a.role.clone()))
        .collect();
    let role_hint = roles.first().cloned().unwrap_or_else(|| "ROLE".into());
    Ok(ApprovalNeed {
        checkpoint: checkpoint.to_string(),
        title: spec.title.clone(),
        evidence_hash,
        required,
        roles,
        approved_by,
        hazards: hazards.iter().map(|h| h.code.clone()).collect(),
        approve_command: format!(
            "cutover approve {runbook_arg} --checkpoint {checkpoint} --as NAME --role {role_hint} --comment \"...\""
        ),
    })
}

fn valid_approvals<'a>(
    runbook: &Runbook,
    state: &'a RunState,
    checkpoint: &str,
    evidence_hash: &str,
    roles: &[String],
) -> Vec<&'a crate::ledger::Approval> {
    state
        .current_decisions(checkpoint, evidence_hash)
        .into_iter()
        .filter(|a| a.decision == Decision::Approve)
        .filter(|a| roles.is_empty() || roles.contains(&a.role))
        .filter(|a| runbook.policy.allow_self_approval || a.approver != state.operator)
        .collect()
}

pub enum Verdict {
    Approved,
    Rejected { by: String, comment: Option<String> },
    Pending,
}

/// Whether the policy is met for the checkpoint as `need` describes it.
pub fn verdict(runbook: &Runbook, state: &RunState, need: &ApprovalNeed) -> Verdict {
    let decisions = state.current_decisions(&need.checkpoint, &need.evidence_hash);
    if let Some(r) = decisions.iter().find(|a| a.decision == Decision::Reject) {
        return Verdict::Rejected {
            by: r.approver.clone(),
            comment: r.comment.clone(),
        };
    }
    let valid = valid_approvals(
        runbook,
        state,
        &need.checkpoint,
        &need.evidence_hash,
        &need.roles,
    );
    let hazard_roles = &runbook.policy.hazard_roles;
    let hazard_ok = need.hazards.is_empty()
        || hazard_roles.is_empty()
        || valid.iter().any(|a| hazard_roles.contains(&a.role));
    if valid.len() as u32 >= need.required && hazard_ok {
        Verdict::Approved
    } else {
        Verdict::Pending
    }
}

pub use crate::ledger::Decision;

pub struct DecisionRequest<'a> {
    pub checkpoint: &'a str,
    pub approver: &'a str,
    pub role: &'a str,
    pub decision: Decision,
    pub comment: Option<&'a str>,
    /// "cli", "tui" or "command-line flag".
    pub via: &'a str,
    /// How the runbook was named on the command line (for messages).
    pub runbook_arg: &'a str,
}

/// Record an approval or rejection for the run in progress, enforcing the rules.
/// Returns what the checkpoint needs after this decision.
pub async fn record_decision(
    ledger: &Ledger,
    runbook: &Runbook,
    req: &DecisionRequest<'_>,
) -> Result<ApprovalNeed> {
    ledger.verify_before_acting(&runbook.name).await?;
    let state = ledger
        .latest_run(&runbook.name)
        .await?
        .filter(|s| !s.finished)
        .ok_or_else(|| {
            Error::bad_input(format!(
                "no run of runbook \"{}\" is in progress in the ledger {}",
                runbook.name,
                ledger.redacted_url()
            ))
        })?;
    let need = need(runbook, &state, req.checkpoint, req.runbook_arg)?;
    let refuse = |msg: String| Err(Error::new(ErrorKind::BadInput, msg));
    if req.approver.trim().is_empty() {
        return refuse("an approver name is required (--as NAME)".into());
    }
    if state.is_done(req.checkpoint) {
        return refuse(format!(
            "checkpoint \"{}\" has already been passed in run {}",
            req.checkpoint,
            short(&state.run_id)
        ));
    }
    match &state.waiting_at {
        Some((cp, hash)) if cp == req.checkpoint => {
            if *hash != need.evidence_hash {
                return refuse(format!(
                    "the evidence you would approve (hash {}) is not what run {} is waiting on (hash {}): your copy of the runbook differs from the run's, or the evidence changed",
                    short(&need.evidence_hash),
                    short(&state.run_id),
                    short(hash)
                ));
            }
        }
        Some((cp, _)) => {
            return refuse(format!(
                "run {} is waiting at checkpoint \"{cp}\", not \"{}\"",
                short(&state.run_id),
                req.checkpoint
            ));
        }
        None => {
            return refuse(format!(
                "run {} has not reached checkpoint \"{}\" yet: approvals bind to the evidence before it, which does not exist yet",
                short(&state.run_id),
                req.checkpoint
            ));
        }
    }
    if req.decision == Decision::Approve
        && !runbook.policy.allow_self_approval
        && req.approver == state.operator
    {
        return refuse(format!(
            "self-approval refused: {} started run {} and cannot approve its checkpoints (the policy does not set allow_self_approval)",
            req.approver,
            short(&state.run_id)
        ));
    }
    if !need.roles.is_empty() && !need.roles.iter().any(|r| r == req.role) {
        return refuse(format!(
            "role \"{}\" cannot decide checkpoint \"{}\"; the policy requires one of: {}",
            req.role,
            req.checkpoint,
            need.roles.join(", ")
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
    };
    ledger
        .append_entry::<serde_json::Value>(
            &runbook.name,
            &state.run_id,
            Some(req.checkpoint),
            &Entry::Approval(given),
        )
        .await?;
    let state = ledger.latest_run(&runbook.name).await?.unwrap_or(state);
    self::need(runbook, &state, req.checkpoint, req.runbook_arg)
}

pub fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}
