//! A checklist tick from the TUI: recorded through the same function as `cutover
//! checklist RUNBOOK --item ID --pass|--fail --as NAME [--role R] [--note …]`, so the
//! same rules hold (the run is at the checklist, the item exists, the role is one the
//! policy lets tick, the roster lists the person). The engine waiting at the checklist
//! sees the tick on its next look and completes or fails the step as it does headless.

use crate::engine::checklist::{self, TickRequest};
use crate::ledger::Ledger;
use crate::steps::Runbook;
use crate::tui::action::Tick;

/// Record `t` for the run in progress; Ok: what happened and where the checklist
/// stands, Err: why the ledger refused it (shown in the dialog).
pub async fn record(
    ledger: &Ledger,
    runbook: &Runbook,
    runbook_arg: &str,
    t: &Tick,
) -> std::result::Result<String, String> {
    let req = TickRequest {
        step: Some(&t.step),
        item: &t.item,
        passed: t.passed,
        by: &t.by,
        role: t.role.as_deref(),
        note: t.note.as_deref(),
        via: "tui",
        runbook_arg,
        sign_with: None,
    };
    let ticked = checklist::record_tick(ledger, runbook, &req)
        .await
        .map_err(|e| e.message.clone())?;
    let c = &ticked.checklist;
    let now = if c.failed > 0 {
        "the checklist fails".to_string()
    } else if c.pending == 0 {
        "every item passed: the run goes on".to_string()
    } else {
        format!("{} open", c.pending)
    };
    Ok(format!(
        "{} ({}) ticked {} {}; {} of {} passed, {} failed — {now}",
        t.by.trim(),
        ticked.role,
        t.item,
        if t.passed { "pass" } else { "fail" },
        c.passed,
        c.items.len(),
        c.failed
    ))
}
