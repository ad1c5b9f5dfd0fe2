//! The TUI lists a checkpoint's hazards one by one with their file and line: in the
//! evidence pane while it waits, in the approval dialog, and in a passed checkpoint's
//! evidence (issue 11).

use crate::tui_support::*;
use cutover::tui::{Action, Theme};
use cutover::vocab::{EngineEvent, Hazard};

fn drop_hazard() -> Hazard {
    Hazard {
        code: "drop-table".into(),
        message: "drops table lerg_codes and every row in it".into(),
        at: Some("lerg/sql/drop_lerg_codes.sql:1".into()),
    }
}

#[test]
fn a_waiting_checkpoint_lists_its_hazards_with_file_and_line() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    let mut n = need(&["drop-table"], &[], 2, &["dba"]);
    n.hazard_details = vec![drop_hazard()];
    ev(&mut a, EngineEvent::AwaitingApproval { need: n });
    let pane = render(&mut a, 120, 30);
    assert!(
        pane.contains("drop-table  lerg/sql/drop_lerg_codes.sql:1  drops table lerg_codes"),
        "{pane}"
    );
    a.update(Action::OpenCheckpoint);
    let dialog = render(&mut a, 120, 34);
    assert!(
        dialog.contains("lerg/sql/drop_lerg_codes.sql:1"),
        "the dialog names the file and line: {dialog}"
    );
}

#[test]
fn a_passed_checkpoint_evidence_lists_the_hazards_it_covered() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    evidence(
        &mut a,
        "plan-approved",
        "checkpoint",
        serde_json::json!({
            "evidence_hash": "9b1c0f6e2a7d4c3b",
            "approvals": [],
            "hazards": ["drop-table"],
            "hazard_details": [serde_json::to_value(drop_hazard()).unwrap()],
        }),
    );
    let out = render(&mut a, 120, 30);
    assert!(
        out.contains("drop-table  lerg/sql/drop_lerg_codes.sql:1"),
        "{out}"
    );
}
