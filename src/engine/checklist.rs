//! A checklist: the run waits at it until people have ticked every item pass (the
//! step completes with the items as its evidence) or one item fail (the step fails
//! like a check, exit 1). Ticks are ledger records of the run, bound to the item's
//! wording; who may tick follows the policy (roles, roster, signatures) and is checked
//! both when a tick is recorded and when the run counts it.

use super::approval::{short, sign, verify_signature};
use super::run::{Engine, Flow, RunOptions, RunOutcome};
use crate::error::{Error, ErrorKind, Result};
use crate::ledger::{
    ChecklistTick, ChecklistTicked, ChecklistWaiting, Entry, Ledger, RunState, StepDone, StepFailed,
};
use crate::runbook::sha256_hex;
use crate::steps::checklist::{ChecklistEvidence, ChecklistSpec};
use crate::steps::{Evidence, Phase, Runbook, StepDef};
use crate::vocab::identity::normalize_name;
use crate::vocab::{EngineEvent, StepState};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// The roles whose ticks count on `spec`: its own `roles`, else the policy's
/// `checklist_roles`, else the policy's `roles` (empty: any role).
pub fn roles(runbook: &Runbook, spec: &ChecklistSpec) -> Vec<String> {
    let policy = &runbook.policy;
    spec.roles.clone().unwrap_or_else(|| {
        if policy.checklist_roles.is_empty() {
            policy.roles.clone()
        } else {
            policy.checklist_roles.clone()
        }
    })
}

/// The text a tick's SSH signature covers.
pub fn tick_message(run_id: &str, step: &str, t: &ChecklistTicked) -> String {
    format!(
        "cutover checklist v1\nrun: {run_id}\nchecklist: {step}\nitem: {}\nitem-hash: {}\noutcome: {}\nby: {}\nrole: {}\n",
        t.item,
        t.item_hash,
        if t.passed { "pass" } else { "fail" },
        t.by,
        t.role
    )
}

/// Why a recorded tick does not count under the policy, if so: a role the checklist
/// does not take, someone the roster does not list in that role, a missing or bad
/// signature.
pub fn tick_invalid_because(
    runbook: &Runbook,
    run_id: &str,
    spec: &ChecklistSpec,
    t: &ChecklistTick,
) -> Option<String> {
    let allowed = roles(runbook, spec);
    if !allowed.is_empty() && !allowed.contains(&t.role) {
        return Some(format!("role {} may not tick this checklist", t.role));
    }
    let policy = &runbook.policy;
    let entry = match &policy.roster {
        Some(r) => match r.find(&t.by) {
            None => return Some(format!("{} is not on the roster", t.by)),
            Some(e) if !e.roles.contains(&t.role) => {
                return Some(format!(
                    "the roster does not give {} the role {}",
                    t.by, t.role
                ));
            }
            Some(e) => Some(e),
        },
        None => None,
    };
    if policy.require_signatures || t.signature.is_some() {
        let Some(sig) = &t.signature else {
            return Some("unsigned, and the policy requires signatures".into());
        };
        let Some(key) = entry.and_then(|e| e.key.as_deref()) else {
            return Some(format!("signed, but the roster has no key for {}", t.by));
        };
        let msg = tick_message(run_id, &t.step, &as_recorded(t));
        if let Err(e) = verify_signature(key, &msg, sig) {
            return Some(e);
        }
    }
    None
}

fn as_recorded(t: &ChecklistTick) -> ChecklistTicked {
    ChecklistTicked {
        item: t.item.clone(),
        item_hash: t.item_hash.clone(),
        passed: t.passed,
        by: t.by.clone(),
        role: t.role.clone(),
        note: t.note.clone(),
        via: t.via.clone(),
        runbook_hash: String::new(),
        signature: t.signature.clone(),
    }
}

/// Where the checklist `step` stands in the run: its items with the ticks that count.
pub fn standing(
    runbook: &Runbook,
    state: &RunState,
    step: &str,
    spec: &ChecklistSpec,
) -> ChecklistEvidence {
    let ticks: Vec<&ChecklistTick> = state
        .ticks_of(step)
        .into_iter()
        .filter(|t| tick_invalid_because(runbook, &state.run_id, spec, t).is_none())
        .collect();
    spec.evaluate(&ticks)
}

/// The command that ticks an item, for messages.
pub fn tick_command(runbook_arg: &str, step: &str, item: &str) -> String {
    format!(
        "cutover checklist {runbook_arg} --step {step} --item {item} --pass --as NAME [--note \"...\"]"
    )
}

pub struct TickRequest<'a> {
    /// The checklist step; `None`: the one checklist the run is at (or the runbook's only one).
    pub step: Option<&'a str>,
    pub item: &'a str,
    pub passed: bool,
    pub by: &'a str,
    /// The role ticked in; with a roster it may be left out when the person holds one
    /// allowed role.
    pub role: Option<&'a str>,
    pub note: Option<&'a str>,
    /// "cli" or "tui".
    pub via: &'a str,
    pub runbook_arg: &'a str,
    pub sign_with: Option<&'a Path>,
}

/// What a recorded tick leaves: the checklist step, the role recorded, and where the
/// checklist stands now.
#[derive(Debug, Clone)]
pub struct Ticked {
    pub step: String,
    pub role: String,
    pub checklist: ChecklistEvidence,
}

/// Record a tick for the run in progress, enforcing the rules: the run has reached the
/// checklist and not finished it, the item exists, the role is one the checklist
/// takes, the roster lists the person in it, a signature when the policy requires one.
pub async fn record_tick(
    ledger: &Ledger,
    runbook: &Runbook,
    req: &TickRequest<'_>,
) -> Result<Ticked> {
    let refuse = |msg: String| Err(Error::new(ErrorKind::BadInput, msg));
    ledger.verify_before_acting(&runbook.name).await?;
    let state = ledger
        .latest_run(&runbook.name)
        .await?
        .filter(|s| !s.finished)
        .ok_or_else(|| {
            Error::bad_input(format!(
                "no run of runbook \"{}\" is in progress in the ledger {}: a tick belongs to a run (start it with `cutover run {}`)",
                runbook.name,
                ledger.redacted_url(),
                req.runbook_arg
            ))
        })?;
    let run = short(&state.run_id);
    let checklists: Vec<&StepDef> = runbook
        .steps()
        .map(|(_, s)| s)
        .filter(|s| s.step.checklist().is_some())
        .collect();
    let def = match req.step {
        Some(id) => match runbook.find_step(id) {
            None => return refuse(format!("runbook \"{}\" has no step \"{id}\"", runbook.name)),
            Some((_, d)) if d.step.checklist().is_none() => {
                return refuse(format!(
                    "step \"{id}\" is a {} step, not a checklist",
                    d.step.kind()
                ));
            }
            Some((_, d)) => d,
        },
        None => {
            let waiting: Vec<&StepDef> = checklists
                .iter()
                .copied()
                .filter(|d| {
                    state
                        .steps
                        .get(&d.id)
                        .is_some_and(|r| r.state != StepState::Done)
                })
                .collect();
            match (waiting.as_slice(), checklists.as_slice()) {
                ([d], _) | ([], [d]) => *d,
                (_, []) => {
                    return refuse(format!(
                        "runbook \"{}\" has no checklist step",
                        runbook.name
                    ));
                }
                _ => {
                    let ids: Vec<&str> = checklists.iter().map(|d| d.id.as_str()).collect();
                    return refuse(format!(
                        "runbook \"{}\" has several checklists ({}): name one with --step ID",
                        runbook.name,
                        ids.join(", ")
                    ));
                }
            }
        }
    };
    let spec = def.step.checklist().expect("a checklist");
    let Some(item) = spec.item(req.item) else {
        let ids: Vec<&str> = spec.items.iter().map(|i| i.id.as_str()).collect();
        return refuse(format!(
            "checklist \"{}\" has no item \"{}\"; its items are: {}",
            def.id,
            req.item,
            ids.join(", ")
        ));
    };
    if normalize_name(req.by).is_empty() {
        return refuse("a name is required (--as NAME)".into());
    }
    if state.is_done(&def.id) {
        return refuse(format!(
            "checklist \"{}\" is already complete in run {run}; its ticks are final",
            def.id
        ));
    }
    if !state.steps.contains_key(&def.id) {
        return refuse(format!(
            "run {run} has not reached checklist \"{}\" yet: a tick confirms what was checked after the steps before it ran",
            def.id
        ));
    }
    let allowed = roles(runbook, spec);
    let policy = &runbook.policy;
    let roster_entry = policy.roster.as_ref().map(|r| (r, r.find(req.by)));
    let role: String = match (req.role, &roster_entry) {
        (Some(r), _) => r.to_string(),
        (None, Some((_, Some(e)))) => {
            let fits: Vec<&String> = e
                .roles
                .iter()
                .filter(|r| allowed.is_empty() || allowed.contains(r))
                .collect();
            match fits.as_slice() {
                [one] => one.to_string(),
                [] => String::new(),
                _ => {
                    return refuse(format!(
                        "the roster gives {} several roles that may tick ({}): choose one with --role",
                        e.name,
                        fits.iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        (None, Some((_, None))) => String::new(),
        (None, None) => {
            return refuse(format!(
                "say in which role you tick with --role ROLE{}",
                if allowed.is_empty() {
                    String::new()
                } else {
                    format!(" (checklist \"{}\" takes {})", def.id, allowed.join(" or "))
                }
            ));
        }
    };
    if let Some((roster, found)) = &roster_entry {
        match found {
            None => {
                return refuse(format!(
                    "{} is not on the roster ({}): only the people it lists may tick checklist items",
                    req.by, roster.source
                ));
            }
            Some(e) if !e.roles.contains(&role) => {
                return refuse(format!(
                    "the roster ({}, {}) gives {} the role(s) {}, none of which may tick checklist \"{}\"{}",
                    roster.source,
                    e.location,
                    e.name,
                    e.roles.join(", "),
                    def.id,
                    if allowed.is_empty() {
                        String::new()
                    } else {
                        format!(" (it takes {})", allowed.join(" or "))
                    }
                ));
            }
            Some(_) => {}
        }
    }
    if !allowed.is_empty() && !allowed.contains(&role) {
        return refuse(format!(
            "role \"{role}\" may not tick checklist \"{}\"; the policy allows: {}",
            def.id,
            allowed.join(", ")
        ));
    }
    let mut tick = ChecklistTicked {
        item: item.id.clone(),
        item_hash: item.hash(),
        passed: req.passed,
        by: req.by.trim().to_string(),
        role: role.clone(),
        note: req
            .note
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string),
        via: req.via.to_string(),
        runbook_hash: runbook.content_hash.clone(),
        signature: None,
    };
    let message = tick_message(&state.run_id, &def.id, &tick);
    if let Some(path) = req.sign_with {
        let sig = sign(path, &message)?;
        let key = roster_entry
            .as_ref()
            .and_then(|(_, e)| e.and_then(|e| e.key.as_deref()));
        let Some(key) = key else {
            return refuse(format!(
                "cannot check your signature: the policy's roster lists no key for {}",
                req.by
            ));
        };
        if let Err(why) = verify_signature(key, &message, &sig) {
            return refuse(format!(
                "signature refused for {}: {why}; sign with the private key of the public key on the roster",
                req.by
            ));
        }
        tick.signature = Some(sig);
    } else if policy.require_signatures {
        return refuse(format!(
            "the policy requires signed ticks: add --sign-with PATH (the ed25519 private key whose public key the roster lists for {})",
            req.by
        ));
    }
    ledger
        .append_entry::<Value>(
            &runbook.name,
            &state.run_id,
            Some(&def.id),
            &Entry::ChecklistTick(tick),
        )
        .await?;
    let state = ledger.latest_run(&runbook.name).await?.unwrap_or(state);
    Ok(Ticked {
        step: def.id.clone(),
        role,
        checklist: standing(runbook, &state, &def.id, spec),
    })
}

impl Engine {
    /// Wait at a checklist until every item passed (continue) or one failed (stop,
    /// exit 1); without `--wait`, stop with exit 4 naming the items still open.
    pub(super) async fn checklist(
        &self,
        run_id: &str,
        phase: &Phase,
        def: &StepDef,
        opts: &RunOptions,
    ) -> Result<Flow> {
        let spec = def.step.checklist().expect("a checklist");
        let started = Instant::now();
        let mut seen: Option<usize> = None;
        let mut announced = false;
        let mut demo_ticked = false;
        loop {
            let state = self.state(run_id).await?;
            let ticks = state.ticks_of(&def.id);
            for t in ticks.iter().skip(seen.unwrap_or(ticks.len())) {
                self.events.emit(EngineEvent::StepLog {
                    step: def.id.clone(),
                    message: format!(
                        "{} ({}) ticked {} {}{}",
                        t.by,
                        t.role,
                        t.item,
                        if t.passed { "pass" } else { "fail" },
                        t.note
                            .as_ref()
                            .map(|n| format!(": {n}"))
                            .unwrap_or_default()
                    ),
                });
            }
            seen = Some(ticks.len());
            let ev = standing(&self.runbook, &state, &def.id, spec);
            if ev.failed > 0 || ev.pending == 0 {
                return self.checklist_ended(run_id, phase, def, ev, started).await;
            }
            if !announced {
                announced = true;
                let step_waiting = state
                    .steps
                    .get(&def.id)
                    .is_some_and(|r| r.state == StepState::AwaitingApproval);
                self.events.emit(EngineEvent::StepStarted {
                    phase: phase.id.clone(),
                    step: def.id.clone(),
                    kind: "checklist".into(),
                    targets: Vec::new(),
                    title: def.title.clone(),
                });
                let pending: Vec<String> = ev
                    .items
                    .iter()
                    .filter(|i| i.outcome == crate::steps::checklist::ItemOutcome::Pending)
                    .map(|i| i.id.clone())
                    .collect();
                if !step_waiting {
                    let waiting = ChecklistWaiting {
                        phase: phase.id.clone(),
                        pending: pending.clone(),
                    };
                    self.record::<Value>(run_id, Some(&def.id), Entry::ChecklistWaiting(waiting))
                        .await?;
                }
                self.events.emit(EngineEvent::StepLog {
                    step: def.id.clone(),
                    message: format!(
                        "checklist \"{}\": {} of {} item(s) passed; waiting for {}",
                        spec.title,
                        ev.passed,
                        ev.items.len(),
                        pending.join(", ")
                    ),
                });
            }
            if opts.demo_ticks && !demo_ticked {
                demo_ticked = true;
                if self.demo_tick(def, spec, &ev, opts).await? {
                    continue;
                }
            }
            let timed_out = opts
                .wait_timeout
                .map(|t| started.elapsed() >= t)
                .unwrap_or(false);
            if !opts.wait || timed_out {
                let pending = ev
                    .items
                    .iter()
                    .filter(|i| i.outcome == crate::steps::checklist::ItemOutcome::Pending)
                    .map(|i| (i.id.clone(), i.text.clone()))
                    .collect();
                return Ok(Flow::Stop(RunOutcome::AwaitingChecklist {
                    run_id: run_id.into(),
                    step: def.id.clone(),
                    pending,
                }));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// `cutover demo`: tick every open item of the checklist pass in the name of the
    /// first `--approve-as` identity whose role may tick it, through the same rules as
    /// `cutover checklist`. False when no identity fits (the run stops there as usual).
    async fn demo_tick(
        &self,
        def: &StepDef,
        spec: &ChecklistSpec,
        ev: &ChecklistEvidence,
        opts: &RunOptions,
    ) -> Result<bool> {
        let allowed = roles(&self.runbook, spec);
        let Some((name, role)) = opts
            .approve_as
            .iter()
            .find(|(_, r)| allowed.is_empty() || allowed.contains(r))
        else {
            return Ok(false);
        };
        let note =
            format!("ticked by `cutover demo` for {name}: the demo has no application to test");
        // An empty step: the headless output prints it too, under the checklist's line.
        self.events.emit(EngineEvent::StepLog {
            step: String::new(),
            message: format!(
                "     the demo has no application to test: {name} ({role}) ticks the {} open item(s) of {} pass, recorded as ticked via the demo",
                ev.pending, def.id
            ),
        });
        for item in ev
            .items
            .iter()
            .filter(|i| i.outcome == crate::steps::checklist::ItemOutcome::Pending)
        {
            let req = TickRequest {
                step: Some(&def.id),
                item: &item.id,
                passed: true,
                by: name,
                role: Some(role),
                note: Some(&note),
                via: "demo",
                runbook_arg: &opts.runbook_arg,
                sign_with: None,
            };
            record_tick(&self.ledger, &self.runbook, &req).await?;
        }
        Ok(true)
    }

    async fn checklist_ended(
        &self,
        run_id: &str,
        phase: &Phase,
        def: &StepDef,
        ev: ChecklistEvidence,
        started: Instant,
    ) -> Result<Flow> {
        let summary = ev.summary();
        let evidence = Evidence::Checklist(ev.clone());
        let elapsed_ms = started.elapsed().as_millis() as u64;
        if ev.failed > 0 {
            let failed = StepFailed {
                kind: "checklist".into(),
                phase: phase.id.clone(),
                summary: Some(summary.clone()),
                evidence: Some(&evidence),
                error: summary.clone(),
                check_failed: true,
                elapsed_ms,
            };
            self.record(run_id, Some(&def.id), Entry::StepFailed(failed))
                .await?;
            self.events.emit(EngineEvent::StepFailed {
                step: def.id.clone(),
                error: summary.clone(),
                check_failed: true,
                elapsed_ms,
            });
            return Ok(Flow::Stop(RunOutcome::CheckFailed {
                run_id: run_id.into(),
                step: def.id.clone(),
                message: summary,
            }));
        }
        let evidence_hash = sha256_hex(serde_json::to_string(&evidence).expect("json").as_bytes());
        let done = StepDone {
            kind: "checklist".into(),
            phase: phase.id.clone(),
            summary: summary.clone(),
            evidence: &evidence,
            evidence_hash: evidence_hash.clone(),
            hazards: Some(Vec::new()),
            elapsed_ms,
        };
        self.record(run_id, Some(&def.id), Entry::StepDone(done))
            .await?;
        self.events.emit(EngineEvent::StepFinished {
            step: def.id.clone(),
            summary,
            evidence_hash,
            elapsed_ms,
        });
        Ok(Flow::Continue)
    }
}
