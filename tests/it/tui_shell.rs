//! The app shell around the views (issue 14): a waiting checkpoint's pane led by what
//! the approver weighs, focus that follows the tab keys, a footer per focused view,
//! `/` filters, scrolling clamped at the end, help and dialogs that fit 80x24.

use crate::tui_support::*;
use cutover::tui::state::{ApprovalRow, StatusView};
use cutover::tui::{Action, App, Theme};
use cutover::vocab::Decision;
use insta::assert_snapshot;

/// Waiting at plan-approved with a hazard from the schema diff, a warning from a data
/// diff, one approval that counts and one gone stale.
fn waiting_with_hazards_and_approvals() -> App {
    let mut a = at_first_checkpoint(Theme::plain(), &["H001-drop-table"]);
    let mut n = need(&["H001-drop-table"], &[("bob", "dba")], 2, &["dba", "lead"]);
    n.warnings = vec!["users-diff: 10 differing rows in profiles (4 changed, 6 missing)".into()];
    n.stale = vec!["carol's approval: lerg/migrations/V2__drop.sql changed since".into()];
    a.update(Action::Status(StatusView {
        run_id: Some("3f2a9c1be0d4".into()),
        operator: Some("alice".into()),
        steps: vec![],
        approvals: vec![
            ApprovalRow {
                checkpoint: "plan-approved".into(),
                approver: "carol".into(),
                role: "dba".into(),
                decision: Decision::Approve,
                comment: Some("before the edit".into()),
                evidence_hash: Some("00ff".into()),
                stale: true,
            },
            ApprovalRow {
                checkpoint: "plan-approved".into(),
                approver: "bob".into(),
                role: "dba".into(),
                decision: Decision::Approve,
                comment: Some("diff reviewed".into()),
                evidence_hash: Some("9b1c".into()),
                stale: false,
            },
        ],
        waiting: Some(n),
        allow_self_approval: Some(false),
    }));
    a.select_step("plan-approved");
    a
}

#[test]
fn waiting_checkpoint_pane_leads_with_hazards_findings_and_approvals() {
    let mut a = waiting_with_hazards_and_approvals();
    let big = render(&mut a, 120, 40);
    // No dialog open: the pane itself says it.
    assert!(a.popup.is_none());
    for want in [
        "Awaiting approval 1/2 (dba or lead)",
        "still needs 1 more approval, from role lead",
        "H001-drop-table",
        "H001-drop-table from schema-diff: dropping table lerg_codes",
        "users-diff: 10 differing rows in profiles",
        "✓ bob (dba)",
        "stale carol (dba)",
        "stale: carol's approval: lerg/migrations/V2__drop.sql changed since",
    ] {
        assert!(big.contains(want), "missing {want:?}:\n{big}");
    }
    // The hazards come before the step's own plan and instructions.
    let hz = big.find("H001-drop-table").unwrap();
    let look = big.find("look at:").unwrap();
    assert!(hz < look, "{big}");
    assert_snapshot!("checkpoint_pane_120x40", big);
    let small = render(&mut a, 80, 24);
    assert!(small.contains("Awaiting approval 1/2"), "{small}");
    assert!(small.contains("H001-drop-table"), "{small}");
    assert_snapshot!("checkpoint_pane_80x24", small);
}

#[test]
fn a_checkpoint_not_waiting_shows_no_approval_summary() {
    let mut a = waiting_with_hazards_and_approvals();
    a.select_step("cleanup-approved");
    let out = render(&mut a, 120, 40);
    assert!(!out.contains("Awaiting approval"), "{out}");
}

#[test]
fn each_event_is_logged_once() {
    use cutover::tui::driver::{echoes_an_event, parse_log_line};
    let echoes = [
        r#"2026-11-28T22:00:00.000001Z DEBUG cutover::event: StepStarted { phase: "prepare", step: "backup" }"#,
        r#"2026-11-28T22:00:00.000002Z  INFO cutover::engine::run: step started step="backup" kind="backup""#,
        r#"2026-11-28T22:00:00.000003Z  INFO cutover::engine::run: step done: 2 tables step="backup""#,
        r#"2026-11-28T22:00:00.000004Z  INFO cutover::steps: copied 440 rows step="copy""#,
    ];
    for l in echoes {
        let line = parse_log_line(l).unwrap();
        assert!(
            echoes_an_event(&line),
            "{l} is shown from its event already"
        );
    }
    let own = r#"2026-11-28T22:00:00.000005Z  WARN cutover::db::postgres: slow statement 3.2s"#;
    assert!(!echoes_an_event(&parse_log_line(own).unwrap()));
}

#[test]
fn focus_follows_the_tab_keys_and_the_footer_lists_the_focused_views_keys() {
    use crossterm::event::KeyCode;
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    let out = render(&mut a, 80, 24);
    let footer = out.lines().last().unwrap().to_string();
    assert!(
        footer.contains("Runbook") && footer.contains("j/k select"),
        "{footer}"
    );
    // The focused pane has the thick border.
    assert!(out.contains("┏ Runbook"), "{out}");
    key(&mut a, KeyCode::Char('2'));
    // `f` works at once: no Tab needed after `2`.
    key(&mut a, KeyCode::Char('f'));
    let out = render(&mut a, 80, 24);
    assert!(out.contains("Log ≥WARN"), "{out}");
    assert!(out.contains("┏ Log"), "{out}");
    assert!(out.contains("┌ Runbook"), "{out}");
    let footer = out.lines().last().unwrap().to_string();
    assert!(
        footer.contains("Log") && footer.contains("f level"),
        "{footer}"
    );
    assert_snapshot!("log_focused_80x24", out);
}

#[test]
fn help_fits_and_scrolls_to_its_last_line_and_no_further() {
    use crossterm::event::KeyCode;
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    key(&mut a, KeyCode::Char('?'));
    let big = render(&mut a, 120, 40);
    // Every binding fits on screen, none cut.
    assert!(
        big.contains("quit (asks while the run is going; the run stays resumable)"),
        "{big}"
    );
    assert!(big.contains("close without doing anything"), "{big}");
    assert_snapshot!("help_120x40", big);
    let small = render(&mut a, 80, 24);
    assert!(
        small.contains("of "),
        "the title says where in the list: {small}"
    );
    assert_snapshot!("help_top_80x24", small);
    key(&mut a, KeyCode::End);
    let end = render(&mut a, 80, 24);
    assert!(end.contains("close without doing anything"), "{end}");
    // Scrolling on does not move past the end.
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('j'));
    assert_eq!(render(&mut a, 80, 24), end);
    assert_snapshot!("help_end_80x24", end);
}

#[test]
fn checkpoint_dialog_leaves_status_banner_and_footer_visible_at_80x24() {
    let mut a = waiting_with_hazards_and_approvals();
    a.update(Action::OpenCheckpoint);
    let out = render(&mut a, 80, 24);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("awaiting approval"), "{out}");
    assert!(lines[22].contains("plan-approved awaits approval"), "{out}");
    assert!(lines[23].contains("? help"), "{out}");
    assert!(out.contains("Checkpoint plan-approved"), "{out}");
    assert_snapshot!("checkpoint_dialog_80x24", out);
}

#[test]
fn evidence_end_key_never_scrolls_to_a_blank_page() {
    use crossterm::event::KeyCode;
    let mut a = waiting_with_hazards_and_approvals();
    key(&mut a, KeyCode::Tab);
    // A pane shorter than its text: 80x24 shows 19 of its rows.
    let top = render(&mut a, 80, 24);
    assert!(!top.contains("plan wait for approval"), "{top}");
    key(&mut a, KeyCode::End);
    let end = render(&mut a, 80, 24);
    // The last line is on the pane's last row, and the page above it is full.
    let rows: Vec<&str> = end.lines().collect();
    assert!(
        rows[20].contains("plan wait for approval: plan approved"),
        "{end}"
    );
    assert!(rows[21].contains("┗"), "{end}");
    assert!(rows[3].contains("dropping table lerg_codes"), "{end}");
    // More End or j presses do not move past the end.
    key(&mut a, KeyCode::End);
    key(&mut a, KeyCode::Char('j'));
    assert_eq!(render(&mut a, 80, 24), end);
    assert_snapshot!("evidence_end_80x24", end);
}

fn press(a: &mut App, code: crossterm::event::KeyCode) {
    key(a, code);
}

#[test]
fn slash_filters_the_steps_and_esc_clears_it() {
    use crossterm::event::KeyCode;
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    press(&mut a, KeyCode::Char('/'));
    type_text(&mut a, "diff");
    let typing = render(&mut a, 80, 24);
    assert!(
        typing.lines().last().unwrap().contains("/diff▏"),
        "{typing}"
    );
    press(&mut a, KeyCode::Enter);
    let big = render(&mut a, 120, 40);
    assert!(
        big.contains("schema-diff") && big.contains("users-diff"),
        "{big}"
    );
    for gone in [
        "backup-production",
        "plan-approved ",
        "drop-lerg-codes",
        "Verify",
    ] {
        assert!(
            !big.lines().any(|l| l.starts_with("┃") && l.contains(gone)),
            "{gone} still listed:\n{big}"
        );
    }
    assert!(big.contains("/diff (2 of 9)"), "{big}");
    assert_snapshot!("filtered_steps_120x40", big);
    let small = render(&mut a, 80, 24);
    assert_snapshot!("filtered_steps_80x24", small);
    // j moves within what is kept: the second match, and its evidence.
    press(&mut a, KeyCode::Char('j'));
    let moved = render(&mut a, 120, 40);
    assert_eq!(a.evidence.step.as_deref(), Some("users-diff"), "{moved}");
    press(&mut a, KeyCode::Esc);
    let all = render(&mut a, 120, 40);
    assert!(
        all.contains("backup-production") && all.contains("drop-lerg-codes"),
        "{all}"
    );
    assert!(!all.contains("/diff"), "{all}");
}

#[test]
fn slash_filters_log_lines_and_history_records() {
    use crossterm::event::KeyCode;
    use cutover::tui::state::{ChainStatus, LedgerRow};
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    press(&mut a, KeyCode::Char('2'));
    press(&mut a, KeyCode::Char('/'));
    type_text(&mut a, "schema");
    press(&mut a, KeyCode::Enter);
    let out = render(&mut a, 80, 24);
    assert!(out.contains("schema-diff started"), "{out}");
    assert!(!out.contains("backup-production started"), "{out}");
    assert!(out.contains("Log ≥INFO /schema (2 of "), "{out}");
    assert_snapshot!("filtered_log_80x24", out);
    press(&mut a, KeyCode::Char('3'));
    let rows = [
        ("run_started", None, "run by alice"),
        ("step_finished", Some("backup-production"), "backed up"),
        ("step_finished", Some("schema-diff"), "3 differences"),
        ("approval", Some("plan-approved"), "approve by bob (dba)"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (k, s, d))| LedgerRow {
        seq: i as i64 + 1,
        run_id: "3f2a9c1be0d4".into(),
        created_at: "02:10:00".into(),
        kind: k.to_string(),
        step_id: s.map(str::to_string),
        hash: format!("{:0>64}", format!("a{i}")),
        detail: d.to_string(),
    })
    .collect();
    a.update(Action::History(rows, ChainStatus::Verified { records: 4 }));
    press(&mut a, KeyCode::Char('/'));
    type_text(&mut a, "bob");
    press(&mut a, KeyCode::Enter);
    let out = render(&mut a, 120, 40);
    assert!(out.contains("/bob (1 of 4)"), "{out}");
    assert!(out.contains("approve by bob"), "{out}");
    assert!(!out.contains("backed up"), "{out}");
    assert_snapshot!("filtered_history_120x40", out);
}

#[test]
fn slash_filters_data_diff_rows_and_summaries_wrap_at_80x24() {
    use crossterm::event::KeyCode;
    let mut a = app(state(), Theme::plain());
    started(&mut a);
    start(&mut a, "migrate", "users-diff", "diff-data");
    finish(&mut a, "users-diff", "5 differing rows", 310);
    evidence(&mut a, "users-diff", "diff-data", data_evidence());
    press(&mut a, KeyCode::Char('1'));
    let all = render(&mut a, 80, 24);
    // The warning line is wrapped, not cut.
    assert!(all.contains("only in source"), "{all}");
    assert!(all.contains("Old Test") && all.contains("Cy Diaz"), "{all}");
    press(&mut a, KeyCode::Char('/'));
    type_text(&mut a, "diaz");
    press(&mut a, KeyCode::Enter);
    let small = render(&mut a, 80, 24);
    assert!(small.contains("/diaz (1 of 5)"), "{small}");
    assert!(small.contains("+ 12  Cy Diaz"), "{small}");
    assert!(!small.contains("Old Test"), "{small}");
    assert!(small.contains("row 1/1"), "{small}");
    assert_snapshot!("filtered_data_diff_80x24", small);
    assert_snapshot!("filtered_data_diff_120x40", render(&mut a, 120, 40));
    press(&mut a, KeyCode::Esc);
    assert!(render(&mut a, 80, 24).contains("Old Test"));
}

fn ctrl(a: &mut App, c: char) {
    let k = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char(c),
        crossterm::event::KeyModifiers::CONTROL,
    );
    let mut next = a.handle_key(k);
    while let Some(x) = next.take() {
        next = a.update(x);
    }
}

#[test]
fn dialog_fields_edit_at_a_cursor() {
    use crossterm::event::KeyCode;
    use cutover::tui::app::Popup;
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    a.update(Action::OpenCheckpoint);
    let name = |a: &App| match &a.popup {
        Some(Popup::Checkpoint(d)) => d.name.clone(),
        _ => panic!("dialog closed"),
    };
    type_text(&mut a, "bo");
    // ← then type: inserted before the cursor, not appended.
    press(&mut a, KeyCode::Left);
    type_text(&mut a, "x");
    assert_eq!(name(&a), "bxo");
    press(&mut a, KeyCode::Delete);
    assert_eq!(name(&a), "bx");
    press(&mut a, KeyCode::Home);
    type_text(&mut a, "a ");
    assert_eq!(name(&a), "a bx");
    press(&mut a, KeyCode::End);
    press(&mut a, KeyCode::Backspace);
    assert_eq!(name(&a), "a b");
    ctrl(&mut a, 'w');
    assert_eq!(name(&a), "a ");
    ctrl(&mut a, 'u');
    assert_eq!(name(&a), "");
    type_text(&mut a, "bob");
    let out = render(&mut a, 80, 24);
    assert!(out.contains("Name      › bob"), "{out}");
    // Left/Right on the buttons still move between them (not into a field).
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Right);
    match &a.popup {
        Some(Popup::Checkpoint(d)) => {
            assert_eq!(d.focus, cutover::tui::popups::checkpoint::Field::Reject)
        }
        _ => panic!("dialog closed"),
    }
}

fn mouse(a: &mut App, kind: crossterm::event::MouseEventKind, column: u16, row: u16) {
    let m = crossterm::event::MouseEvent {
        kind,
        column,
        row,
        modifiers: crossterm::event::KeyModifiers::NONE,
    };
    let mut next = a.update(Action::Mouse(m));
    while let Some(x) = next.take() {
        next = a.update(x);
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
fn a_click_selects_a_step_and_the_wheel_scrolls() {
    use crossterm::event::{MouseButton, MouseEventKind};
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    let out = render(&mut a, 80, 24);
    let (x, y) = find(&out, "users-diff");
    mouse(&mut a, MouseEventKind::Down(MouseButton::Left), x, y);
    let out = render(&mut a, 80, 24);
    assert_eq!(a.evidence.step.as_deref(), Some("users-diff"), "{out}");
    assert!(out.contains("users-diff diff-data pending"), "{out}");
    // A click on a tab shows it and focuses it.
    let (x, y) = find(&out, "2 Log");
    mouse(&mut a, MouseEventKind::Down(MouseButton::Left), x, y);
    let out = render(&mut a, 80, 24);
    assert!(out.contains("┏ Log"), "{out}");
    // The wheel over the runbook moves the selection three steps, and focuses it.
    let (x, y) = find(&out, "Migrate");
    mouse(&mut a, MouseEventKind::ScrollUp, x, y);
    let out = render(&mut a, 80, 24);
    assert!(out.contains("┏ Runbook"), "{out}");
    assert_eq!(a.evidence.step.as_deref(), Some("schema-diff"), "{out}");
}

#[test]
fn the_rollback_word_can_be_corrected_in_place() {
    use crossterm::event::KeyCode;
    use cutover::tui::app::Popup;
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    a.update(Action::OpenRollback);
    type_text(&mut a, "rollbak");
    press(&mut a, KeyCode::Left);
    type_text(&mut a, "c");
    match &a.popup {
        Some(Popup::Rollback(d)) => assert_eq!(d.typed, "rollback"),
        _ => panic!("dialog closed"),
    }
    press(&mut a, KeyCode::Enter);
    // Accepted: the rollback starts (the dialog waits for its result).
    match &a.popup {
        Some(Popup::Rollback(d)) => assert!(d.pending && d.error.is_none()),
        _ => panic!("dialog closed"),
    }
}
