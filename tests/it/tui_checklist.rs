//! The checklist's evidence view: every item with PASS, FAIL or not yet, who ticked
//! it (role, when) and their note, drawn from the step kind's evidence struct.

use crate::tui_support::*;
use cutover::steps::checklist::{ChecklistEvidence, ItemOutcome, ItemResult};
use cutover::tui::{Action, Tab, Theme};
use insta::assert_snapshot;

fn item(
    id: &str,
    text: &str,
    outcome: ItemOutcome,
    by: Option<(&str, &str)>,
    note: Option<&str>,
) -> ItemResult {
    ItemResult {
        id: id.into(),
        text: text.into(),
        outcome,
        by: by.map(|(n, _)| n.into()),
        role: by.map(|(_, r)| r.into()),
        note: note.map(str::to_string),
        at: by.map(|_| "2026-11-28T21:40:00Z".into()),
        via: by.map(|_| "cli".into()),
    }
}

#[test]
fn checklist_lists_items_with_pass_fail_and_notes() {
    let mut a = app(state(), Theme::plain());
    started(&mut a);
    start(&mut a, "verify", "geographic-npas", "checklist");
    let e = ChecklistEvidence {
        title: "Go-live checklist".into(),
        passed: 1,
        failed: 1,
        pending: 1,
        items: vec![
            item(
                "tech-login",
                "A technician can log in",
                ItemOutcome::Pass,
                Some(("dana", "qa")),
                Some("from the depot"),
            ),
            item(
                "scanner",
                "The scanner works on mobile",
                ItemOutcome::Fail,
                Some(("bob", "qa")),
                Some("camera denied on iOS"),
            ),
            item(
                "invoices",
                "Invoices print",
                ItemOutcome::Pending,
                None,
                None,
            ),
        ],
    };
    evidence(
        &mut a,
        "geographic-npas",
        "checklist",
        cutover::steps::Evidence::from(e).to_json(),
    );
    a.update(Action::ShowTab(Tab::Evidence));
    let out = render(&mut a, 100, 30);
    assert!(
        out.contains("Go-live checklist: 1 passed, 1 failed, 1 open"),
        "{out}"
    );
    assert!(out.contains("PASS tech-login"), "{out}");
    assert!(out.contains("FAIL scanner"), "{out}");
    assert!(out.contains("---- invoices"), "{out}");
    assert!(out.contains("bob (qa) 2026-11-28T21:40:00Z"), "{out}");
    assert!(out.contains("note camera denied on iOS"), "{out}");
    assert_snapshot!("checklist_items_100x30", out);
}
