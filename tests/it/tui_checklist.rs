//! The checklist's evidence view: every item with PASS, FAIL or not yet, who ticked
//! it (role, when) and their note, drawn from the step kind's evidence struct.

use crate::tui_support::*;
use crossterm::event::{KeyCode, KeyModifiers};
use cutover::steps::checklist::{ChecklistEvidence, ItemOutcome, ItemResult};
use cutover::tui::{Action, Request, Tab, Theme, Tick};
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

/// The run waits at a checklist: one item passed, two open; QA may tick.
pub fn waiting_at_checklist() -> cutover::tui::App {
    let mut s = state();
    s.checklist_roles
        .insert("geographic-npas".into(), vec!["qa".into()]);
    let mut a = app(s, Theme::plain());
    started(&mut a);
    start(&mut a, "verify", "geographic-npas", "checklist");
    let e = ChecklistEvidence {
        title: "Go-live checklist".into(),
        passed: 1,
        failed: 0,
        pending: 2,
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
                ItemOutcome::Pending,
                None,
                None,
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
    a
}

fn press(a: &mut cutover::tui::App, code: KeyCode) {
    key(a, code);
}

#[test]
fn a_waiting_checklist_lists_its_items_with_one_selected_and_the_keys_to_tick() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = waiting_at_checklist();
        press(&mut a, KeyCode::Char('j'));
        let out = render(&mut a, w, h);
        assert!(out.contains("› ---- scanner"), "{w}x{h}: {out}");
        assert!(out.contains("  PASS tech-login"), "{w}x{h}: {out}");
        assert!(out.contains("p pass"), "{w}x{h}: {out}");
        assert_snapshot!(format!("checklist_ticking_{w}x{h}"), out);
    }
}

#[test]
fn the_tick_dialog_shows_the_item_who_ticks_and_the_verdict_buttons() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = waiting_at_checklist();
        // The item already ticked: the dialog says who ticked it and that the latest tick counts.
        press(&mut a, KeyCode::Char('f'));
        let out = render(&mut a, w, h);
        assert!(out.contains("Tick tech-login"), "{w}x{h}: {out}");
        assert!(out.contains("A technician can log in"), "{w}x{h}: {out}");
        assert!(
            out.contains("now PASS by dana (qa): from the depot"),
            "{w}x{h}: {out}"
        );
        assert!(out.contains("[ Pass ]  [ Fail ]"), "{w}x{h}: {out}");
        assert_snapshot!(format!("tick_dialog_{w}x{h}"), out);
    }
}

#[test]
fn keys_tick_the_selected_item_with_a_note_and_refuse_a_role_the_policy_does_not_take() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut a = waiting_at_checklist().with_requests(tx);
    press(&mut a, KeyCode::Char('j'));
    press(&mut a, KeyCode::Char('f'));
    // Focus starts on the note (the name is the run's operator, the role the policy's).
    type_text(&mut a, "camera denied on iOS");
    press(&mut a, KeyCode::BackTab); // role
    assert!(render(&mut a, 80, 24).contains("Role      › qa"));
    key_ctrl(&mut a, 'u');
    type_text(&mut a, "dba");
    press(&mut a, KeyCode::Tab); // note
    press(&mut a, KeyCode::Enter); // -> the verdict offered: Fail
    press(&mut a, KeyCode::Enter);
    let out = render(&mut a, 80, 24);
    assert!(
        out.contains("role dba may not tick checklist geographic-npas; the policy allows: qa"),
        "{out}"
    );
    assert!(std::iter::from_fn(|| rx.try_recv().ok()).all(|r| !matches!(r, Request::Tick(_))));
    // Back to qa: the tick goes to the ledger with the name, role and note.
    press(&mut a, KeyCode::BackTab);
    press(&mut a, KeyCode::BackTab);
    press(&mut a, KeyCode::BackTab); // role
    key_ctrl(&mut a, 'u');
    type_text(&mut a, "qa");
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Tab); // Fail
    press(&mut a, KeyCode::Enter);
    let sent: Vec<Tick> = std::iter::from_fn(|| rx.try_recv().ok())
        .filter_map(|r| match r {
            Request::Tick(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(
        sent,
        vec![Tick {
            step: "geographic-npas".into(),
            item: "scanner".into(),
            passed: false,
            by: "alice".into(),
            role: Some("qa".into()),
            note: Some("camera denied on iOS".into()),
        }]
    );
    // The ledger's refusal stays in the dialog; its acceptance closes it and says so.
    a.update(Action::TickResult(Err("alice is not on the roster".into())));
    assert!(render(&mut a, 80, 24).contains("alice is not on the roster"));
    a.update(Action::TickResult(Ok(
        "alice (qa) ticked scanner fail".into()
    )));
    assert!(a.popup.is_none());
    assert!(render(&mut a, 80, 24).contains("alice (qa) ticked scanner fail"));
}

#[test]
fn clicks_select_an_item_and_a_second_click_opens_the_dialog_whose_buttons_tick() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut a = waiting_at_checklist().with_requests(tx);
    let click = |a: &mut cutover::tui::App, (x, y): (u16, u16)| {
        let mut next = a.update(Action::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }));
        while let Some(n) = next.take() {
            next = a.update(n);
        }
    };
    let out = render(&mut a, 120, 40);
    click(&mut a, find(&out, "invoices"));
    assert_eq!(a.evidence.item, 2);
    let out = render(&mut a, 120, 40);
    assert!(out.contains("› ---- invoices"), "{out}");
    click(&mut a, find(&out, "invoices"));
    let out = render(&mut a, 120, 40);
    assert!(out.contains("Tick invoices"), "{out}");
    click(&mut a, find(&out, "[ Pass ]"));
    let sent: Vec<Tick> = std::iter::from_fn(|| rx.try_recv().ok())
        .filter_map(|r| match r {
            Request::Tick(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].passed && sent[0].item == "invoices", "{sent:?}");
}

#[test]
fn a_completed_checklist_cannot_be_ticked_from_the_tui() {
    let mut a = waiting_at_checklist();
    finish(&mut a, "geographic-npas", "3 of 3 item(s) passed", 1000);
    press(&mut a, KeyCode::Char('p'));
    assert!(a.popup.is_none());
    let out = render(&mut a, 80, 24);
    assert!(!out.contains("› "), "{out}");
    assert!(!out.contains("p pass"), "{out}");
}

fn key_ctrl(a: &mut cutover::tui::App, c: char) {
    let mut next = a.handle_key(crossterm::event::KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    ));
    while let Some(n) = next.take() {
        next = a.update(n);
    }
}

/// (column, row) of the first cell of `needle` on the screen.
fn find(screen: &str, needle: &str) -> (u16, u16) {
    for (y, l) in screen.lines().enumerate() {
        let l = l.trim_matches('"');
        if let Some(b) = l.find(needle) {
            return (l[..b].chars().count() as u16, y as u16);
        }
    }
    panic!("{needle} not on screen:\n{screen}");
}

#[test]
fn p_and_f_tick_from_the_runbook_too_and_the_footer_says_so() {
    let mut a = waiting_at_checklist();
    press(&mut a, KeyCode::Char('j'));
    press(&mut a, KeyCode::Tab); // back to the runbook
    let out = render(&mut a, 120, 40);
    assert!(out.contains("┏ Runbook"), "{out}");
    assert!(out.contains("p/f tick item pass/fail"), "{out}");
    press(&mut a, KeyCode::Char('p'));
    match &a.popup {
        Some(cutover::tui::app::Popup::Tick(d)) => assert_eq!(d.item, "scanner"),
        _ => panic!("no tick dialog:\n{}", render(&mut a, 120, 40)),
    }
    assert!(render(&mut a, 120, 40).contains("Tick scanner pass"));
}
