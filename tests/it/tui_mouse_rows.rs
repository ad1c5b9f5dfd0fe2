//! The mouse in the data diff's rows and the history's records: a click selects the
//! row under the pointer (what the footer and the record's detail then show), and the
//! wheel moves through them three at a time, at 80×24 and at 120×40.

use crate::tui_support::*;
use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use cutover::tui::state::{ChainStatus, LedgerRow};
use cutover::tui::{Action, App, Tab, Theme};

fn mouse(a: &mut App, kind: MouseEventKind, (column, row): (u16, u16)) {
    let mut next = a.update(Action::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }));
    while let Some(n) = next.take() {
        next = a.update(n);
    }
}

fn click(a: &mut App, at: (u16, u16)) {
    mouse(a, MouseEventKind::Down(MouseButton::Left), at);
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

fn with_data_diff() -> App {
    let mut a = app(state(), Theme::plain());
    started(&mut a);
    start(&mut a, "migrate", "users-diff", "diff-data");
    finish(&mut a, "users-diff", "5 differing rows", 310);
    evidence(&mut a, "users-diff", "diff-data", data_evidence());
    a.update(Action::ShowTab(Tab::Evidence));
    a
}

#[test]
fn a_click_selects_a_data_diff_row_and_the_wheel_moves_the_selection() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = with_data_diff();
        let out = render(&mut a, w, h);
        let before = out.clone();
        assert!(out.contains("row 1/5"), "{w}x{h}: {out}");
        // The row only in staging (id 12) is the fourth.
        click(&mut a, find(&out, "Cy Diaz"));
        let out = render(&mut a, w, h);
        assert_eq!(a.evidence.row, 3, "{w}x{h}: {before}\n{out}");
        assert!(out.contains("row 4/5"), "{w}x{h}: {out}");
        // A click on the columns' header selects nothing new.
        click(&mut a, find(&out, "name"));
        assert_eq!(a.evidence.row, 3, "{w}x{h}");
        let (x, y) = find(&out, "row 4/5");
        // The wheel: three rows a notch, stopping at the ends.
        mouse(&mut a, MouseEventKind::ScrollUp, (x, y - 2));
        assert_eq!(a.evidence.row, 0, "{w}x{h}");
        mouse(&mut a, MouseEventKind::ScrollDown, (x, y - 2));
        mouse(&mut a, MouseEventKind::ScrollDown, (x, y - 2));
        let out = render(&mut a, w, h);
        assert!(out.contains("row 5/5"), "{w}x{h}: {out}");
    }
}

#[test]
fn a_click_selects_a_data_diff_row_among_the_filtered_ones() {
    let mut a = with_data_diff();
    a.update(Action::ShowTab(Tab::Evidence));
    key(&mut a, crossterm::event::KeyCode::Char('/'));
    type_text(&mut a, "example");
    key(&mut a, crossterm::event::KeyCode::Enter);
    let out = render(&mut a, 80, 24);
    assert!(out.contains("/example (3 of 5)"), "{out}");
    click(&mut a, find(&out, "Cy Diaz"));
    let out = render(&mut a, 80, 24);
    assert!(out.contains("row 3/3"), "{out}");
}

fn records() -> Vec<LedgerRow> {
    (1..=12)
        .map(|i| LedgerRow {
            seq: i,
            run_id: "3f2a9c1be0d4".into(),
            created_at: format!("02:{i:02}:00"),
            kind: if i == 1 {
                "run_started"
            } else {
                "step_finished"
            }
            .into(),
            step_id: (i > 1).then(|| format!("step-{i}")),
            hash: format!("{:0>64}", format!("b{i}")),
            detail: format!("record number {i}"),
        })
        .collect()
}

#[test]
fn a_click_selects_a_history_record_and_the_wheel_moves_the_selection() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = at_first_checkpoint(Theme::plain(), &[]);
        a.update(Action::History(
            records(),
            ChainStatus::Verified { records: 12 },
        ));
        a.update(Action::ShowTab(Tab::History));
        let out = render(&mut a, w, h);
        // Newest followed: its detail is shown above the table.
        assert!(out.contains("#12 step_finished"), "{w}x{h}: {out}");
        click(&mut a, find(&out, "step-9 "));
        let out = render(&mut a, w, h);
        assert_eq!(a.history.selected, Some(8), "{w}x{h}: {out}");
        assert!(out.contains("#9 step_finished step-9"), "{w}x{h}: {out}");
        if w >= 120 {
            assert!(
                out.contains(&format!("hash {:0>64}", "b9")),
                "{w}x{h}: {out}"
            );
        }
        let at = find(&out, "step-9 ");
        mouse(&mut a, MouseEventKind::ScrollUp, at);
        assert_eq!(a.history.selected, Some(5), "{w}x{h}");
        mouse(&mut a, MouseEventKind::ScrollDown, at);
        mouse(&mut a, MouseEventKind::ScrollDown, at);
        assert_eq!(a.history.selected, Some(11), "{w}x{h}");
        // A click on the header line selects nothing.
        let out = render(&mut a, w, h);
        click(&mut a, find(&out, "seq"));
        assert_eq!(a.history.selected, Some(11), "{w}x{h}");
    }
}
