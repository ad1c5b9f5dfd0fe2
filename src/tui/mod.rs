//! The terminal UI (ratatui + crossterm). It renders the same engine events as the
//! headless output, from a view-model ([`state::AppState`]) so every view can be
//! drawn and snapshot-tested without an engine. All database work (engine, ledger,
//! status polls, evidence parsing) runs off the UI thread; the UI thread only
//! turns actions into state and draws.
//!
//! Layout: `action` (the Action enum over one channel), `component` (the trait),
//! `app` (focus, popups, layout), `views/` (one file per view, `views/evidence/`
//! one per kind of evidence), `popups/` (one file per dialog), `terminal` (raw
//! mode, restore on exit/panic/Ctrl-C, the event loop), `driver/` (a session: its
//! startup and shutdown in `mod.rs`, the engine and request `worker`, the ledger
//! `polls`, the `log_tail`).

pub mod action;
pub mod app;
pub mod component;
pub mod driver;
pub mod popups;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod views;

pub use action::{Action, Decision, Request, Tab, Tick};
pub use app::App;
pub use state::{AppState, PhasePlan, StepPlan};
pub use theme::Theme;
