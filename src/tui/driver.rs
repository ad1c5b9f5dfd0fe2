//! Running a cutover in the terminal UI. The engine runs on a tokio task; a worker
//! task polls the ledger (status, approvals made elsewhere, history, chain) every
//! 500 ms, tails this run's log file, loads and parses evidence, and carries out
//! the UI's requests (record a decision, roll back). The UI thread only draws.

use super::action::{Action, Decision, Request};
use super::app::App;
use super::state::{AppState, ApprovalRow, ChainStatus, LedgerRow, Level, LogLine, StatusView};
use super::terminal;
use super::theme::Theme;
use super::views::evidence::EvidenceModel;
use crate::engine::approval::{self, DecisionRequest};
use crate::engine::status::RunStatus;
use crate::engine::{Engine, RunOptions, RunOutcome, SessionEnd};
use crate::error::{Error, Result};
use crate::steps::Runbook;
use crate::vocab::{EventSink, StepState};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

/// How often the ledger is polled: approvals made with `cutover approve` elsewhere
/// show within a second.
pub const POLL: Duration = Duration::from_millis(500);

type RunSlot = Arc<Mutex<Option<JoinHandle<Result<RunOutcome>>>>>;
type OutcomeSlot = Arc<Mutex<Option<Result<RunOutcome>>>>;

/// How a terminal-UI session ended; the CLI reports it (the TUI prints nothing).
pub struct TuiEnd {
    pub end: SessionEnd,
    /// The ledger's URL, redacted.
    pub ledger_url: String,
}

/// Run (or resume) `rb` with the terminal UI.
pub async fn run(rb: Runbook, ledger: Option<&str>, mut opts: RunOptions) -> Result<TuiEnd> {
    let mut state = AppState::new(rb.name.clone(), AppState::plan_of(&rb));
    state.path = Some(opts.runbook_arg.clone());
    state.allow_self_approval = Some(rb.policy.allow_self_approval);
    // The UI waits at checkpoints: approvals come from the dialog or another terminal.
    opts.wait = true;

    let (tx_ev, mut rx_ev) = unbounded_channel();
    let engine = Arc::new(Engine::open(rb, ledger, EventSink::new(tx_ev)).await?);
    let (tx_a, mut rx_a) = unbounded_channel::<Action>();
    let (tx_r, rx_r) = unbounded_channel::<Request>();

    // Engine events become actions.
    let fwd = {
        let tx = tx_a.clone();
        tokio::spawn(async move {
            while let Some(ev) = rx_ev.recv().await {
                if tx.send(Action::Engine(ev)).is_err() {
                    break;
                }
            }
        })
    };

    let outcome: OutcomeSlot = Arc::new(Mutex::new(None));
    let run_slot: RunSlot = Arc::new(Mutex::new(Some(spawn_run(
        engine.clone(),
        opts.clone(),
        outcome.clone(),
        tx_a.clone(),
    ))));

    let log_start = crate::logging::log_file()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .unwrap_or(0);
    let worker = tokio::spawn(worker(
        engine.clone(),
        opts.clone(),
        run_slot.clone(),
        outcome.clone(),
        tx_a.clone(),
        rx_r,
        log_start,
    ));
    terminal::spawn_signals(tx_a.clone());

    let theme = Theme::from_env();
    let input_tx = tx_a.clone();
    drop(tx_a);
    let ui = tokio::task::spawn_blocking(move || -> std::io::Result<AppState> {
        let (mut term, guard) = terminal::init()?;
        let stop = Arc::new(AtomicBool::new(false));
        let input = terminal::spawn_input(input_tx, stop.clone());
        let mut app = App::new(state, theme).with_requests(tx_r);
        let r = terminal::run_loop(&mut term, &mut app, &mut rx_a);
        stop.store(true, Ordering::Relaxed);
        drop(guard);
        let _ = input.join();
        r.map(|_| app.state)
    });
    // A panic on the UI thread has already restored the terminal (panic hook); the
    // run is still stopped cleanly below so it stays resumable.
    let ui_result = ui
        .await
        .map_err(|e| Error::runtime(format!("terminal UI thread: {e}")));

    worker.abort();
    let handle = run_slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    let mut interrupted = false;
    if let Some(h) = handle {
        if h.is_finished() {
            if let Ok(r) = h.await {
                *outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            }
        } else {
            // Quit mid-run: stop here, leave it resumable.
            h.abort();
            let _ = h.await;
            engine.interrupted(&opts).await;
            interrupted = true;
        }
    }
    let ledger_url = engine.ledger.redacted_url().to_string();
    engine.close().await;
    fwd.abort();
    let final_state = ui_result?.map_err(|e| Error::runtime(format!("terminal: {e}")))?;
    let result = outcome.lock().unwrap_or_else(|e| e.into_inner()).take();
    let end = match result {
        Some(Ok(o)) if !interrupted => SessionEnd::Finished(o),
        Some(Err(e)) if !interrupted => return Err(e),
        _ => match final_state.need {
            Some(need) => SessionEnd::Finished(RunOutcome::AwaitingApproval {
                run_id: final_state.run_id.clone().unwrap_or_default(),
                need,
            }),
            None => SessionEnd::Interrupted,
        },
    };
    Ok(TuiEnd { end, ledger_url })
}

fn spawn_run(
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
async fn worker(
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

/// The ledger's view of the run, plus evidence of steps not loaded yet.
async fn poll_status(
    engine: &Engine,
    opts: &RunOptions,
    tx: &UnboundedSender<Action>,
    loaded: &mut HashMap<String, String>,
) {
    let st = match RunStatus::load(&engine.runbook, &engine.ledger, &opts.runbook_arg).await {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Action::Log(LogLine {
                time: chrono::Local::now().format("%H:%M:%S").to_string(),
                level: Level::Warn,
                target: "status".into(),
                message: format!("status poll failed: {e}"),
            }));
            return;
        }
    };
    for s in &st.steps {
        if s.evidence.is_null() || !matches!(s.state, StepState::Done | StepState::Failed) {
            continue;
        }
        let key = s
            .evidence_hash
            .clone()
            .or_else(|| s.finished_at.clone())
            .unwrap_or_default();
        if loaded.get(&s.id) == Some(&key) {
            continue;
        }
        loaded.insert(s.id.clone(), key);
        let (kind, ev, id) = (s.kind.clone(), s.evidence.clone(), s.id.clone());
        // Parsing a large diff takes a while: not on the runtime's async threads.
        if let Ok(model) =
            tokio::task::spawn_blocking(move || EvidenceModel::parse(&kind, &ev)).await
        {
            let _ = tx.send(Action::Evidence {
                step: id,
                model: Arc::new(model),
            });
        }
    }
    let _ = tx.send(Action::Status(status_view(&st, engine)));
}

pub fn status_view(st: &RunStatus, engine: &Engine) -> StatusView {
    StatusView {
        run_id: st.run_id.clone(),
        operator: st.operator.clone(),
        steps: st
            .steps
            .iter()
            .map(|s| (s.id.clone(), s.state, s.summary.clone()))
            .collect(),
        approvals: st
            .approvals
            .iter()
            .map(|a| ApprovalRow {
                checkpoint: a.checkpoint.clone(),
                approver: a.approver.clone(),
                role: a.role.clone(),
                decision: a.decision.clone(),
                comment: a.comment.clone(),
                evidence_hash: Some(a.evidence_hash.clone()),
                stale: a.stale,
            })
            .collect(),
        waiting: st.waiting_for.clone(),
        allow_self_approval: Some(engine.runbook.policy.allow_self_approval),
    }
}

async fn poll_history(engine: &Engine, tx: &UnboundedSender<Action>) {
    let Ok(records) = engine.ledger.records(Some(&engine.runbook.name)).await else {
        return;
    };
    let rows = records
        .iter()
        .map(|r| LedgerRow {
            seq: r.seq,
            created_at: r
                .created_at
                .get(11..19)
                .unwrap_or(&r.created_at)
                .to_string(),
            kind: r.kind.clone(),
            step_id: r.step_id.clone(),
            hash: r.hash.clone(),
            detail: detail(&r.kind, &r.payload_json()),
        })
        .collect();
    let chain = match engine.ledger.verify().await {
        Ok(rep) if rep.ok => ChainStatus::Verified {
            records: rep.records as u64,
        },
        Ok(rep) => match rep.problems.first() {
            Some(p) => ChainStatus::Broken {
                seq: p.seq,
                reason: p.problem.clone(),
            },
            None => ChainStatus::Broken {
                seq: 0,
                reason: "head hash does not match".into(),
            },
        },
        Err(e) => ChainStatus::Broken {
            seq: 0,
            reason: format!("could not verify: {e}"),
        },
    };
    let _ = tx.send(Action::History(rows, chain));
}

/// One line about a record's payload.
fn detail(kind: &str, p: &serde_json::Value) -> String {
    let s = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    match kind {
        "approval" => {
            let mut out = format!("{} by {} ({})", s("decision"), s("approver"), s("role"));
            if let Some(c) = p.get("comment").and_then(|v| v.as_str()) {
                out.push_str(&format!(": {c}"));
            }
            out
        }
        _ if p.get("summary").is_some() => s("summary"),
        _ if p.get("error").is_some() => format!("error: {}", s("error")),
        _ => {
            let t = p.to_string();
            if t == "null" || t == "{}" {
                String::new()
            } else {
                t
            }
        }
    }
}

/// New lines of this run's log file (the tracing output), as log actions.
fn tail_log(tx: &UnboundedSender<Action>, pos: &mut u64) {
    use std::io::{Read, Seek, SeekFrom};
    let Some(path) = crate::logging::log_file() else {
        return;
    };
    let Ok(mut f) = std::fs::File::open(path) else {
        return;
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len < *pos {
        *pos = 0; // rotated or truncated
    }
    if len == *pos || f.seek(SeekFrom::Start(*pos)).is_err() {
        return;
    }
    let mut buf = Vec::new();
    if f.take(4 << 20).read_to_end(&mut buf).is_err() {
        return;
    }
    // Only whole lines; the rest is read next time.
    let Some(last_nl) = buf.iter().rposition(|b| *b == b'\n') else {
        return;
    };
    *pos += last_nl as u64 + 1;
    for line in String::from_utf8_lossy(&buf[..=last_nl]).lines() {
        if let Some(l) = parse_log_line(line) {
            let _ = tx.send(Action::Log(l));
        }
    }
}

/// `2026-11-21T08:16:10.123456Z  INFO cutover::engine: message` -> LogLine.
pub fn parse_log_line(line: &str) -> Option<LogLine> {
    let line = line.trim_end();
    if line.is_empty() {
        return None;
    }
    let mut it = line
        .splitn(3, char::is_whitespace)
        .filter(|s| !s.is_empty());
    let ts = it.next()?;
    let rest = line[ts.len()..].trim_start();
    let (lvl, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if !matches!(lvl, "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR") {
        return Some(LogLine {
            time: String::new(),
            level: Level::Info,
            target: String::new(),
            message: line.to_string(),
        });
    }
    let rest = rest.trim_start();
    let (target, message) = match rest.split_once(": ") {
        Some((t, m)) if !t.contains(' ') || t.contains('{') => (t.to_string(), m.to_string()),
        _ => (String::new(), rest.to_string()),
    };
    Some(LogLine {
        time: ts.get(11..19).unwrap_or(ts).to_string(),
        level: Level::parse(lvl),
        target,
        message,
    })
}
