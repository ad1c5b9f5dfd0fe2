//! Approvals: the evidence a checkpoint binds to, what the policy requires, and
//! recording a decision with the rules that cannot be bypassed: no self-approval
//! (names compared normalized) unless the policy allows it, only the policy's roles,
//! only people the roster gives that role, signatures when the policy requires them,
//! never a stale or premature approval, and a rejection stands until it is withdrawn
//! or the evidence changes.
//!
//! What an approval binds to (its evidence hash): the runbook's content, every earlier
//! step's recorded result, and the content of every file the steps it lets run (up to
//! the next checkpoint) will read, plus the roster file. Editing any of them makes the
//! approval stale; [`why_stale`] names what changed.

use crate::error::{Error, ErrorKind, Result};
use crate::ledger::{Approval, ApprovalGiven, Entry, Ledger, RunState};
use crate::steps::Runbook;
use crate::vocab::Hazard;
use crate::vocab::identity::{normalize_name, same_person};
use crate::vocab::{ApprovalNeed, StandingRejection};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use crate::ledger::Decision;

pub use super::signatures::{
    SIGNATURE_NAMESPACE, invalid_because, sign, signature_problems, signed_message,
    verify_signature,
};

/// The evidence a checkpoint's decisions bind to.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundEvidence {
    pub hash: String,
    /// Files read by the steps the checkpoint lets run: (path relative to the runbook, sha256).
    pub files: Vec<(String, String)>,
}

/// The files a checkpoint's approval covers: those read by the steps after it up to
/// the next checkpoint (directories expanded into their files, sorted), and the
/// roster file when the policy names one.
pub fn bound_files(runbook: &Runbook, checkpoint: &str) -> Vec<(String, String)> {
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut after = false;
    for (_, s) in runbook.steps() {
        if s.id == checkpoint {
            after = true;
            continue;
        }
        if !after {
            continue;
        }
        if s.step.checkpoint().is_some() {
            break;
        }
        paths.extend(s.step.files_read());
    }
    if let Some(f) = runbook.policy.roster.as_ref().and_then(|r| r.file.clone()) {
        paths.push(f);
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for p in paths {
        for f in expand(&p) {
            let label = label(&runbook.dir, &f);
            if !out.iter().any(|(l, _)| *l == label) {
                out.push((label, file_sha256(&f)));
            }
        }
    }
    out
}

/// A directory's regular files (sorted by name), or the path itself.
fn expand(p: &Path) -> Vec<PathBuf> {
    if !p.is_dir() {
        return vec![p.to_path_buf()];
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn label(dir: &Path, f: &Path) -> String {
    f.strip_prefix(dir).unwrap_or(f).display().to_string()
}

/// The file's SHA-256, or a marker saying it could not be read (which differs from
/// any hash, so a deleted file also makes an approval stale).
fn file_sha256(p: &Path) -> String {
    match std::fs::read(p) {
        Ok(bytes) => hex::encode(Sha256::digest(&bytes)),
        Err(e) => format!("unreadable ({})", e.kind()),
    }
}

/// SHA-256 of the runbook's content, every earlier step's recorded result, and the
/// files the checkpoint's approval covers, with those files.
pub fn checkpoint_evidence(runbook: &Runbook, state: &RunState, checkpoint: &str) -> BoundEvidence {
    let files = bound_files(runbook, checkpoint);
    let mut h = Sha256::new();
    h.update(b"cutover-evidence-v2\n");
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
    for (path, sha) in &files {
        h.update(format!("file {path}={sha}\n").as_bytes());
    }
    BoundEvidence {
        hash: hex::encode(h.finalize()),
        files,
    }
}

/// The evidence hash a checkpoint's decisions bind to (see [`checkpoint_evidence`]).
pub fn checkpoint_evidence_hash(runbook: &Runbook, state: &RunState, checkpoint: &str) -> String {
    checkpoint_evidence(runbook, state, checkpoint).hash
}

/// Why a decision no longer counts: what changed between what it covered and `now`.
pub fn why_stale(runbook: &Runbook, a: &Approval, now: &[(String, String)]) -> String {
    let mut why: Vec<String> = Vec::new();
    if !a.runbook_hash.is_empty() && a.runbook_hash != runbook.content_hash {
        why.push(format!("the runbook {} changed", runbook.path.display()));
    }
    if a.files.is_empty() && !now.is_empty() {
        why.push("it was given before approvals covered the files steps read".into());
    } else {
        for (path, sha) in now {
            match a.files.get(path) {
                Some(old) if old == sha => {}
                Some(_) => why.push(format!("{path} changed")),
                None => why.push(format!("{path} is new")),
            }
        }
        for path in a.files.keys() {
            if !now.iter().any(|(p, _)| p == path) {
                why.push(format!("{path} is no longer read"));
            }
        }
    }
    if why.is_empty() {
        why.push("the evidence of earlier steps changed".into());
    }
    format!("{} since it was given", why.join(", "))
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

/// Steps since the previous checkpoint, up to `checkpoint`, that passed with a
/// warning (`steps::Evidence::warning`), as `step: warning`.
pub fn warnings_before(runbook: &Runbook, state: &RunState, checkpoint: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (_, s) in runbook.steps() {
        if s.id == checkpoint {
            break;
        }
        if s.step.checkpoint().is_some() {
            out.clear();
            continue;
        }
        let Some(r) = state.steps.get(&s.id) else {
            continue;
        };
        if r.state != crate::vocab::StepState::Done {
            continue;
        }
        if let Some(w) = crate::steps::read_evidence(&r.kind, &r.evidence).and_then(|e| e.warning())
        {
            out.push(format!("{}: {w}", s.id));
        }
    }
    out
}

/// Hazards foreseen in the SQL that the steps a checkpoint lets run (up to the next
/// checkpoint) will execute, at `file:line`. The first checkpoint also carries those of
/// the steps before it, which ran with no checkpoint ahead of them.
pub fn foreseen_hazards(runbook: &Runbook, checkpoint: &str) -> Vec<Hazard> {
    let steps: Vec<_> = runbook.steps().map(|(_, s)| s).collect();
    let Some(at) = steps.iter().position(|s| s.id == checkpoint) else {
        return Vec::new();
    };
    let first = !steps[..at].iter().any(|s| s.step.checkpoint().is_some());
    let before = if first { &steps[..at] } else { &[][..] };
    let after = steps[at + 1..]
        .iter()
        .take_while(|s| s.step.checkpoint().is_none());
    before
        .iter()
        .chain(after)
        .flat_map(|s| s.step.foreseen_hazards())
        .collect()
}

/// What a checkpoint requires now, who has validly approved it, and whether a
/// rejection stands.
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
    let mut hazards = hazards_before(runbook, state, checkpoint);
    for h in foreseen_hazards(runbook, checkpoint) {
        if !hazards.contains(&h) {
            hazards.push(h);
        }
    }
    let mut codes: Vec<String> = Vec::new();
    for h in &hazards {
        if !codes.contains(&h.code) {
            codes.push(h.code.clone());
        }
    }
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
    let bound = checkpoint_evidence(runbook, state, checkpoint);
    let decisions = counted(runbook, state, checkpoint, &bound.hash);
    let approved_by = decisions
        .iter()
        .filter(|a| a.decision == Decision::Approve)
        .filter(|a| roles.is_empty() || roles.contains(&a.role))
        .filter(|a| policy.allow_self_approval || !same_person(&a.approver, &state.operator))
        .map(|a| (a.approver.clone(), a.role.clone()))
        .collect();
    let role_hint = roles.first().cloned().unwrap_or_else(|| "ROLE".into());
    let sign = if policy.require_signatures {
        " --sign-with ~/.ssh/id_ed25519"
    } else {
        ""
    };
    let rejection = decisions
        .iter()
        .find(|a| a.decision == Decision::Reject)
        .map(|r| {
            Box::new(StandingRejection {
                by: r.approver.clone(),
                role: r.role.clone(),
                comment: r.comment.clone(),
                remedies: remedies(runbook, checkpoint, runbook_arg, r, sign),
            })
        });
    let stale = state
        .approvals
        .iter()
        .filter(|a| a.checkpoint == checkpoint && a.evidence_hash != bound.hash)
        .filter(|a| a.decision != Decision::Withdraw)
        .map(|a| {
            format!(
                "{}'s {} no longer counts: {}",
                a.approver,
                a.decision,
                why_stale(runbook, a, &bound.files)
            )
        })
        .collect();
    Ok(ApprovalNeed {
        checkpoint: checkpoint.to_string(),
        title: spec.title.clone(),
        evidence_hash: bound.hash,
        required,
        roles,
        approved_by,
        hazards: codes,
        hazard_details: hazards,
        approve_command: format!(
            "cutover approve {runbook_arg} --checkpoint {checkpoint} --as NAME --role {role_hint}{sign} --comment \"...\""
        ),
        files: bound.files,
        stale,
        rejection,
        warnings: warnings_before(runbook, state, checkpoint),
    })
}

/// The ways past a standing rejection.
fn remedies(
    runbook: &Runbook,
    checkpoint: &str,
    runbook_arg: &str,
    r: &Approval,
    sign: &str,
) -> Vec<String> {
    let others = &runbook.policy.withdraw_rejection_roles;
    let who = if others.is_empty() {
        r.approver.clone()
    } else {
        format!(
            "{} (or someone with role {})",
            r.approver,
            others.join(" or ")
        )
    };
    vec![
        format!(
            "{who} withdraws it: cutover approve {runbook_arg} --checkpoint {checkpoint} --as {} --role {}{sign} --withdraw-rejection",
            r.approver, r.role
        ),
        "or fix what was rejected: a change to the evidence (a step's result, the runbook, a file it reads) voids the rejection, and approvals are asked for afresh".into(),
        format!("or start a new run, leaving this one behind: cutover run {runbook_arg} --new --abandon \"REASON\""),
    ]
}

/// The decisions at a checkpoint that stand for `evidence_hash` and are valid under
/// the policy's roster and signature rules (one per person; withdrawals applied).
fn counted<'a>(
    runbook: &Runbook,
    state: &'a RunState,
    checkpoint: &str,
    evidence_hash: &str,
) -> Vec<&'a Approval> {
    state
        .current_decisions(checkpoint, evidence_hash)
        .into_iter()
        .filter(|a| invalid_because(runbook, &state.run_id, a).is_none())
        .collect()
}

pub enum Verdict {
    Approved,
    Rejected { by: String, comment: Option<String> },
    Pending,
}

/// Whether the policy is met for the checkpoint as `need` describes it.
pub fn verdict(runbook: &Runbook, state: &RunState, need: &ApprovalNeed) -> Verdict {
    if let Some(r) = &need.rejection {
        return Verdict::Rejected {
            by: r.by.clone(),
            comment: r.comment.clone(),
        };
    }
    let decisions = counted(runbook, state, &need.checkpoint, &need.evidence_hash);
    let hazard_roles = &runbook.policy.hazard_roles;
    let hazard_ok = need.hazards.is_empty()
        || hazard_roles.is_empty()
        || decisions.iter().any(|a| {
            a.decision == Decision::Approve
                && hazard_roles.contains(&a.role)
                && need.approved_by.iter().any(|(n, _)| n == &a.approver)
        });
    if need.approved_by.len() as u32 >= need.required && hazard_ok {
        Verdict::Approved
    } else {
        Verdict::Pending
    }
}

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
    /// Sign the decision with this OpenSSH private key (ed25519).
    pub sign_with: Option<&'a Path>,
}

/// Record an approval, rejection or withdrawal for the run in progress, enforcing the
/// rules. Returns what the checkpoint needs after this decision.
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
    let policy = &runbook.policy;
    let run = short(&state.run_id);
    if normalize_name(req.approver).is_empty() {
        return refuse("an approver name is required (--as NAME)".into());
    }
    if state.is_done(req.checkpoint) {
        return refuse(format!(
            "checkpoint \"{}\" has already been passed in run {run}",
            req.checkpoint
        ));
    }
    match &state.waiting_at {
        Some((cp, hash)) if cp == req.checkpoint => {
            if *hash != need.evidence_hash {
                let changed = if need.stale.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", need.stale.join("; "))
                };
                return refuse(format!(
                    "the evidence you would approve (hash {}) is not what run {run} is waiting on (hash {}): your copy of the runbook or of the files its steps read differs from the run's, or the evidence changed{changed}; run `cutover run {}` to show the run the current evidence, then decide on that",
                    short(&need.evidence_hash),
                    short(hash),
                    req.runbook_arg
                ));
            }
        }
        Some((cp, _)) => {
            return refuse(format!(
                "run {run} is waiting at checkpoint \"{cp}\", not \"{}\"",
                req.checkpoint
            ));
        }
        None => {
            return refuse(format!(
                "run {run} has not reached checkpoint \"{}\" yet: approvals bind to the evidence before it, which does not exist yet",
                req.checkpoint
            ));
        }
    }
    if let Some(why) = identity_refusal(policy, &state.operator, req, &need.roles, run) {
        return refuse(why);
    }
    let entry = policy.roster.as_ref().and_then(|r| r.find(req.approver));
    let standing: Vec<&Approval> = state
        .current_decisions(req.checkpoint, &need.evidence_hash)
        .into_iter()
        .filter(|a| a.decision == Decision::Reject)
        .collect();
    let withdraws: Vec<String> = match req.decision {
        Decision::Withdraw => {
            if standing.is_empty() {
                return refuse(format!(
                    "no rejection stands at checkpoint \"{}\" of run {run}: nothing to withdraw",
                    req.checkpoint
                ));
            }
            if standing
                .iter()
                .any(|a| same_person(&a.approver, req.approver))
            {
                vec![req.approver.to_string()]
            } else if policy
                .withdraw_rejection_roles
                .iter()
                .any(|r| r == req.role)
            {
                standing.iter().map(|a| a.approver.clone()).collect()
            } else {
                let by: Vec<&str> = standing.iter().map(|a| a.approver.as_str()).collect();
                return refuse(format!(
                    "only {} (who rejected){} may withdraw the rejection at checkpoint \"{}\"",
                    by.join(", "),
                    if policy.withdraw_rejection_roles.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " or someone with role {}",
                            policy.withdraw_rejection_roles.join(" or ")
                        )
                    },
                    req.checkpoint
                ));
            }
        }
        Decision::Approve => {
            if let Some(own) = standing
                .iter()
                .find(|a| same_person(&a.approver, req.approver))
            {
                return refuse(format!(
                    "your rejection of checkpoint \"{}\" ({}) stands; withdraw it first: cutover approve {} --checkpoint {} --as {} --role {} --withdraw-rejection",
                    req.checkpoint, own.at, req.runbook_arg, req.checkpoint, req.approver, own.role
                ));
            }
            Vec::new()
        }
        Decision::Reject => Vec::new(),
    };
    let message = signed_message(
        &state.run_id,
        req.checkpoint,
        &need.evidence_hash,
        req.decision,
        req.approver,
        req.role,
    );
    let signature = match req.sign_with {
        Some(path) => Some(sign(path, &message)?),
        None => None,
    };
    if policy.require_signatures && signature.is_none() {
        return refuse(format!(
            "the policy requires signed decisions: add --sign-with PATH (the ed25519 private key whose public key the roster lists for {})",
            req.approver
        ));
    }
    if let Some(sig) = &signature {
        let Some(key) = entry.and_then(|e| e.key.as_deref()) else {
            return refuse(format!(
                "cannot check your signature: the policy's roster lists no key for {}",
                req.approver
            ));
        };
        if let Err(why) = verify_signature(key, &message, sig) {
            return refuse(format!(
                "signature refused for {}: {why} ({}); sign with the private key of the public key on the roster",
                req.approver,
                entry.map(|e| e.location.as_str()).unwrap_or_default()
            ));
        }
    }
    let given = ApprovalGiven {
        approver: req.approver.trim().to_string(),
        role: req.role.to_string(),
        decision: req.decision,
        comment: req.comment.map(str::to_string),
        evidence_hash: need.evidence_hash.clone(),
        runbook_hash: runbook.content_hash.clone(),
        via: req.via.to_string(),
        files: need.files.iter().cloned().collect::<BTreeMap<_, _>>(),
        signature,
        withdraws,
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

/// Which `--approve-as` identities to record at a gate, in the order given: those that
/// have not approved yet and hold a role the gate accepts, up to the approvals still
/// missing. When none fits, the first identity is returned alone so the usual refusal
/// (wrong role, the operator approving their own run…) names what is wrong.
pub fn command_line_approvers<'a>(
    ids: &'a [(String, String)],
    need: &ApprovalNeed,
) -> Vec<&'a (String, String)> {
    let missing = (need.required as usize)
        .saturating_sub(need.approved_by.len())
        .max(1);
    let already = |n: &str| {
        need.approved_by
            .iter()
            .any(|(a, _)| normalize_name(a) == normalize_name(n))
    };
    let fits = |r: &str| need.roles.is_empty() || need.roles.iter().any(|x| x == r);
    let mut picked: Vec<&(String, String)> = Vec::new();
    for id in ids {
        if picked.len() == missing {
            break;
        }
        let dup = picked
            .iter()
            .any(|(n, _)| normalize_name(n) == normalize_name(&id.0));
        if fits(&id.1) && !already(&id.0) && !dup {
            picked.push(id);
        }
    }
    if picked.is_empty()
        && let Some(first) = ids.first()
    {
        picked.push(first);
    }
    picked
}

/// Why `--approve-as` is refused under this policy.
/// Why `req` may not decide at all, whatever the evidence: approvals on the command
/// line when the policy forbids them, self-approval (names compared after Unicode,
/// case and space normalization), a role the checkpoint does not take, someone not on
/// the roster or not holding that role there. Shared by checkpoints and rollback gates.
pub fn identity_refusal(
    policy: &crate::runbook::ApprovalPolicy,
    operator: &str,
    req: &DecisionRequest<'_>,
    roles: &[String],
    run: &str,
) -> Option<String> {
    if req.via == "command-line flag" && !policy.allow_command_line_approvals {
        return Some(command_line_refusal(policy.require_signatures));
    }
    if req.decision == Decision::Approve
        && !policy.allow_self_approval
        && same_person(req.approver, operator)
    {
        return Some(format!(
            "self-approval refused: \"{}\" is {}, who started run {run}, and cannot approve its checkpoints (names compare ignoring case, spaces and Unicode forms; the policy does not set allow_self_approval)",
            req.approver, operator
        ));
    }
    if req.decision != Decision::Withdraw
        && !roles.is_empty()
        && !roles.iter().any(|r| r == req.role)
    {
        return Some(format!(
            "role \"{}\" cannot decide checkpoint \"{}\"; the policy requires one of: {}",
            req.role,
            req.checkpoint,
            roles.join(", ")
        ));
    }
    if let Some(roster) = &policy.roster {
        match roster.find(req.approver) {
            None => {
                return Some(format!(
                    "{} is not on the roster ({}): only the people it lists may decide checkpoints",
                    req.approver, roster.source
                ));
            }
            Some(e) if !e.roles.iter().any(|r| r == req.role) => {
                return Some(format!(
                    "the roster ({}, {}) gives {} the role(s) {}, not \"{}\"",
                    roster.source,
                    e.location,
                    e.name,
                    e.roles.join(", "),
                    req.role
                ));
            }
            Some(_) => {}
        }
    }
    None
}

pub fn command_line_refusal(require_signatures: bool) -> String {
    format!(
        "--approve-as is refused: the policy sets allow_command_line_approvals = false{}; each approver decides with `cutover approve` (or the TUI)",
        if require_signatures {
            " (the default when require_signatures = true)"
        } else {
            ""
        }
    )
}

pub fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// Before a step runs: if a passed checkpoint's approvals covered a file the step
/// reads, and the file changed since, say which (the step must not run under an
/// approval of other content).
pub fn changed_since_approval(runbook: &Runbook, state: &RunState, step: &str) -> Option<String> {
    let mut last_checkpoint: Option<&str> = None;
    let mut def = None;
    for (_, s) in runbook.steps() {
        if s.id == step {
            def = Some(s);
            break;
        }
        if s.step.checkpoint().is_some() {
            last_checkpoint = Some(&s.id);
        }
    }
    let (def, cp) = (def?, last_checkpoint?);
    let rec = state.steps.get(cp)?;
    let Some(crate::steps::Evidence::Checkpoint(ev)) =
        crate::steps::read_evidence("checkpoint", &rec.evidence)
    else {
        return None;
    };
    if ev.files.is_empty() {
        return None;
    }
    for p in def.step.files_read() {
        for f in expand(&p) {
            let label = label(&runbook.dir, &f);
            let now = file_sha256(&f);
            match ev.files.iter().find(|(l, _)| *l == label) {
                Some((_, then)) if *then == now => {}
                Some(_) => {
                    return Some(format!(
                        "{label} changed after checkpoint \"{cp}\" was approved; the approval covered its earlier content"
                    ));
                }
                None => {
                    return Some(format!(
                        "{label} was not among the files checkpoint \"{cp}\" was approved with"
                    ));
                }
            }
        }
    }
    None
}
