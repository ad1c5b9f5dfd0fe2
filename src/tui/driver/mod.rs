//! Running a cutover in the terminal UI. The engine runs on a tokio task; a worker
//! task polls the ledger (status, approvals made elsewhere, history, chain) every
//! 500 ms, tails this run's log file, loads and parses evidence, and carries out
//! the UI's requests (record a decision, roll back). The UI thread only draws.
//!
//! This file starts a session and ends it; `worker` runs the engine and the UI's
//! requests, `polls` reads the ledger, `log_tail` follows the log file.

mod log_tail;
mod polls;
pub mod tick;
mod worker;

pub use log_tail::{echoes_an_event, parse_log_line};
pub use polls::status_view;

use super::action::{Action, Request};
use super::app::App;
use super::state::AppState;
use super::terminal;
use super::theme::Theme;
use crate::engine::{Engine, RunOptions, RunOutcome, SessionEnd};
use crate::error::{Error, Result};
use crate::steps::Runbook;
use crate::vocab::EventSink;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::unbounded_channel;
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
    let mut state =
        AppState::new(rb.name.clone(), AppState::plan_of(&rb)).with_checklist_policy_of(&rb);
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
    let run_slot: RunSlot = Arc::new(Mutex::new(Some(worker::spawn_run(
        engine.clone(),
        opts.clone(),
        outcome.clone(),
        tx_a.clone(),
    ))));

    let log_start = crate::logging::log_file()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .unwrap_or(0);
    let worker = tokio::spawn(worker::worker(
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
        .map_err(|e| Error::runtime(format!("terminal UI thread: {e}")).with_source(e));

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
    let final_state =
        ui_result?.map_err(|e| Error::runtime(format!("terminal: {e}")).with_source(e))?;
    let result = outcome.lock().unwrap_or_else(|e| e.into_inner()).take();
    let end = match result {
        Some(Ok(o)) if !interrupted => SessionEnd::Finished(o),
        Some(Err(e)) if !interrupted => return Err(e),
        _ => match final_state.need {
            Some(need) => SessionEnd::Finished(RunOutcome::AwaitingApproval {
                run_id: final_state.run_id.clone().unwrap_or_default(),
                need: Box::new(need),
            }),
            None => SessionEnd::Interrupted,
        },
    };
    Ok(TuiEnd { end, ledger_url })
}
