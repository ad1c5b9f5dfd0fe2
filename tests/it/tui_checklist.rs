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

/// The command step's view (same file: the views of the step kinds in docs/steps.md).
#[test]
fn command_output_shows_how_it_ended_and_its_streams() {
    let mut a = app(state(), Theme::plain());
    started(&mut a);
    start(&mut a, "verify", "geographic-npas", "command");
    let e = cutover::steps::command::CommandEvidence {
        command: "php artisan migrate --force".into(),
        shell: false,
        cwd: "app".into(),
        env: vec!["DATABASE_URL=${env:PROD_DATABASE_URL}".into()],
        exit_code: Some(1),
        signal: None,
        success_codes: vec![0],
        elapsed_ms: 840,
        stdout: "Migrating: 2026_11_01_add_billing\n".into(),
        stdout_bytes: 34,
        stdout_truncated: false,
        stderr: "SQLSTATE[42S01]: table already exists\n".into(),
        stderr_bytes: 70_000,
        stderr_truncated: true,
    };
    evidence(
        &mut a,
        "geographic-npas",
        "command",
        cutover::steps::Evidence::from(e).to_json(),
    );
    a.update(Action::ShowTab(Tab::Evidence));
    let out = render(&mut a, 100, 30);
    assert!(
        out.contains("exit 1 after 840 ms (success: exit 0)"),
        "{out}"
    );
    assert!(
        out.contains("DATABASE_URL=${env:PROD_DATABASE_URL}"),
        "{out}"
    );
    assert!(
        out.contains("stderr (70000 byte(s), last part kept)"),
        "{out}"
    );
    assert!(
        out.contains("SQLSTATE[42S01]: table already exists"),
        "{out}"
    );
    assert_snapshot!("command_output_100x30", out);
}
