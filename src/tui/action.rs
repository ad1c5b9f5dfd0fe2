//! Everything that changes the UI is an [`Action`], sent over one channel: keys turned
//! into intents, engine events, status polls, evidence loaded off the UI thread.
//! Requests the UI makes of the world (approve, roll back) go the other way as
//! [`Request`]s, handled off the UI thread by the worker.

use super::state::{ChainStatus, LedgerRow, LogLine, StatusView};
use super::views::evidence::EvidenceModel;
use crate::vocab::EngineEvent;
use crossterm::event::KeyEvent;
use std::sync::Arc;

/// The right-hand pane's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Evidence,
    Log,
    History,
}

impl Tab {
    pub const ALL: [Tab; 3] = [Tab::Evidence, Tab::Log, Tab::History];
    pub fn label(self) -> &'static str {
        match self {
            Tab::Evidence => "Evidence",
            Tab::Log => "Log",
            Tab::History => "History",
        }
    }
}

/// An approve or reject decision entered in the checkpoint dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub checkpoint: String,
    pub approve: bool,
    pub approver: String,
    pub role: String,
    pub comment: Option<String>,
    /// The evidence hash the person saw: the approval binds to it.
    pub evidence_hash: String,
}

/// A checklist item ticked pass or fail in the tick dialog, recorded in the ledger as
/// `cutover checklist RUNBOOK --item ID --pass|--fail --as NAME` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub step: String,
    pub item: String,
    pub passed: bool,
    pub by: String,
    /// `None`: the roster gives the person their one role that may tick.
    pub role: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Tick,
    Resize(u16, u16),
    Quit,
    /// Quit, asking first when the run is still going.
    RequestQuit,
    FocusNext,
    ShowTab(Tab),
    ToggleHelp,
    OpenCheckpoint,
    OpenRollback,
    ClosePopup,
    Engine(EngineEvent),
    Status(StatusView),
    History(Vec<LedgerRow>, ChainStatus),
    Evidence {
        step: String,
        model: Arc<EvidenceModel>,
    },
    Log(LogLine),
    SubmitDecision(Decision),
    /// The ledger's answer to a decision: Ok(message) or Err(reason, e.g. self-approval).
    DecisionResult(Result<String, String>),
    StartRollback {
        phase: String,
    },
    RollbackResult(Result<String, String>),
    Flash(String),
    /// Open the tick dialog for a checklist item (`passed`: the verdict offered first).
    OpenTick {
        step: String,
        item: String,
        passed: Option<bool>,
    },
    SubmitTick(Tick),
    /// The ledger's answer to a tick: Ok(message) or Err(reason, e.g. a role it does not take).
    TickResult(Result<String, String>),
    /// A click or wheel turn: selects, focuses and scrolls what is under it.
    Mouse(crossterm::event::MouseEvent),
}

/// What the UI asks the worker (engine and ledger side) to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Decide(Decision),
    /// Record a checklist tick (the engine waiting at the checklist picks it up).
    Tick(Tick),
    Rollback {
        phase: String,
    },
    /// Evidence of a finished step is needed (loaded and parsed off the UI thread).
    LoadEvidence {
        step: String,
    },
    /// Refresh status, history and chain verification now.
    Refresh,
}
