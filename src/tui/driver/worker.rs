//! The worker task: runs the engine, carries out the UI's requests (record a
//! decision, roll back) and drives the polls every [`POLL`].

use super::log_tail::tail_log;
use super::polls::{poll_history, poll_status};
use super::{OutcomeSlot, POLL, RunSlot};
use crate::engine::approval::{self, DecisionRequest};
use crate::engine::{Engine, RunOptions, RunOutcome};
use crate::error::Result;
use crate::tui::action::{Action, Decision, Request};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

pub(super) fn spawn_run(
    engine: Arc<Engine>,
    opts: RunOptions,
    outcome: OutcomeSlot,
    tx: UnboundedSender<Action>,
) -> JoinHandle<Result<RunOutcome>> {
    tokio::spawn(async move {
        let r = engine.run(&opts).await;
        let msg = match &r {
            Ok(o) => format!("run {}: press q to quit", o.label()),
            Err(e) => {
                // The engine could not run at all (lock held, target unreachable): the
                // header says so and quitting does not ask.
                let _ = tx.send(Action::Engine(crate::vocab::EngineEvent::RunFinished {
                    run_id: String::new(),
                    outcome: format!("error: {}", e.message),
                    exit_code: e.exit_code(),
                }));
                format!("run stopped: {e}")
            }
        };
        let _ = tx.send(Action::Flash(msg));
        *outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(r.clone());
        r
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn worker(
    engine: Arc<Engine>,
    opts: RunOptions,
    run_slot: RunSlot,
    outcome: OutcomeSlot,
    tx: UnboundedSender<Action>,
    mut rx: UnboundedReceiver<Request>,
    log_start: u64,
) {
    let mut loaded: HashMap<String, String> = HashMap::new();
    let mut log_pos = log_start;
    let mut last_history: Option<Instant> = None;
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut history_now = false;
        tokio::select! {
            _ = tick.tick() => {}
            req = rx.recv() => match req {
                None => return,
                Some(Request::Decide(d)) => {
                    let r = decide(&engine, &opts, &d).await;
                    let _ = tx.send(Action::DecisionResult(r));
                    history_now = true;
                }
                Some(Request::Tick(t)) => {
                    let r = super::tick::record(&engine.ledger, &engine.runbook, &opts.runbook_arg, &t).await;
                    let _ = tx.send(Action::TickResult(r));
                    history_now = true;
                }
                Some(Request::Rollback { phase }) => {
                    let r = rollback(&engine, &opts, &run_slot, &outcome, &phase, &tx).await;
                    let _ = tx.send(Action::RollbackResult(r));
                    history_now = true;
                }
                Some(Request::LoadEvidence { step }) => {
                    loaded.remove(&step);
                }
                Some(Request::Refresh) => history_now = true,
            }
        }
        poll_status(&engine, &opts, &tx, &mut loaded).await;
        tail_log(&tx, &mut log_pos);
        if history_now || last_history.is_none_or(|t| t.elapsed() >= Duration::from_secs(2)) {
            poll_history(&engine, &tx).await;
            last_history = Some(Instant::now());
        }
    }
}

async fn decide(
    engine: &Engine,
    opts: &RunOptions,
    d: &Decision,
) -> std::result::Result<String, String> {
    let rb = &engine.runbook;
    // The approval binds to what the person saw: refuse if the evidence moved on.
    let state = engine
        .ledger
        .latest_run(&rb.name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "no run in progress".to_string())?;
    let need =
        approval::need(rb, &state, &d.checkpoint, &opts.runbook_arg).map_err(|e| e.to_string())?;
    if need.evidence_hash != d.evidence_hash {
        return Err(format!(
            "the evidence changed since the dialog opened (now {}): read it again",
            &need.evidence_hash[..need.evidence_hash.len().min(12)]
        ));
    }
    let req = DecisionRequest {
        checkpoint: &d.checkpoint,
        approver: &d.approver,
        role: &d.role,
        decision: if d.approve {
            approval::Decision::Approve
        } else {
            approval::Decision::Reject
        },
        comment: d.comment.as_deref(),
        via: "tui",
        runbook_arg: &opts.runbook_arg,
        sign_with: None,
    };
    let after = approval::record_decision(&engine.ledger, rb, &req)
        .await
        .map_err(|e| e.message.clone())?;
    let verb = if d.approve { "approval" } else { "rejection" };
    Ok(format!(
        "{verb} of {} recorded as {} ({}); {}/{} approvals",
        d.checkpoint,
        d.approver,
        d.role,
        after.approved_by.len(),
        after.required
    ))
}

async fn rollback(
    engine: &Arc<Engine>,
    opts: &RunOptions,
    run_slot: &RunSlot,
    outcome: &OutcomeSlot,
    phase: &str,
    tx: &UnboundedSender<Action>,
) -> std::result::Result<String, String> {
    // Stop the forward run first: it holds the target locks.
    let handle = run_slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(h) = handle {
        if h.is_finished() {
            let _ = h.await;
        } else {
            h.abort();
            let _ = h.await;
            engine.interrupted(opts).await;
        }
    }
    let _ = tx.send(Action::Flash(format!("rolling back: {phase}")));
    let r = engine.rollback(Some(phase), opts).await;
    let msg = match &r {
        Ok(o) => Ok(format!("rollback {phase}: {} — press q to quit", o.label())),
        Err(e) => Err(e.to_string()),
    };
    *outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
    msg
}
