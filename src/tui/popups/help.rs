//! The help overlay: every key binding, from the one table the key handlers follow.

use super::centered;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// (where, keys, what) — the documentation of every binding (docs/tui.md mirrors it).
pub const KEYMAP: &[(&str, &str, &str)] = &[
    ("anywhere", "?", "show or hide this help"),
    (
        "anywhere",
        "q",
        "quit (asks while the run is going; the run stays resumable)",
    ),
    (
        "anywhere",
        "Ctrl-C",
        "quit at once (the run stays resumable)",
    ),
    (
        "anywhere",
        "Tab",
        "move focus between the runbook and the right pane",
    ),
    ("anywhere", "1 2 3", "show Evidence, Log or History"),
    (
        "anywhere",
        "a",
        "open the checkpoint dialog (approve or reject)",
    ),
    ("anywhere", "R", "roll back (asks for a typed confirmation)"),
    (
        "anywhere",
        "/",
        "filter the focused list (steps, log, history, data-diff rows); Enter keeps, Esc clears",
    ),
    ("runbook", "j k ↑ ↓", "select a step"),
    ("runbook", "g G", "first / last step"),
    ("runbook", "c", "follow the current step again"),
    ("runbook", "Enter l →", "read the selected step's evidence"),
    (
        "runbook",
        "p f",
        "checklist waiting: tick its selected item pass / fail",
    ),
    ("evidence", "j k ↑ ↓", "scroll (data diff: select a row)"),
    ("evidence", "PgUp PgDn Space", "scroll a page"),
    ("evidence", "g G", "top / bottom"),
    ("evidence", "h l ← →", "data diff: scroll columns"),
    ("evidence", "v", "schema diff: unified / side by side"),
    (
        "evidence",
        "p f Enter",
        "checklist: tick the selected item pass / fail, or choose in a dialog",
    ),
    ("log", "f", "cycle the lowest level shown (TRACE..ERROR)"),
    ("log", "j k PgUp PgDn g G", "scroll; G follows the tail"),
    ("history", "j k PgUp PgDn g G", "select a ledger record"),
    (
        "history",
        "[ ]",
        "list the previous / next run's records (or every run's)",
    ),
    (
        "mouse",
        "click, wheel",
        "select a step, tab, row, record or checklist item (again: tick it); wheel scrolls",
    ),
    ("dialog", "Tab Shift-Tab", "next / previous field"),
    ("dialog", "Enter", "next field; on a button: press it"),
    ("dialog", "Esc", "close without doing anything"),
    (
        "dialog",
        "← → Home End",
        "move the cursor in a text field (also Ctrl-A, Ctrl-E)",
    ),
    (
        "dialog",
        "Ctrl-W/U/K",
        "erase a word back, to the start, to the end (Backspace, Delete: a character)",
    ),
];

/// Words of `s` in lines of at most `width` columns (a word longer than that is cut).
fn wrap_words(s: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for w in s.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + w.chars().count() > width {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}

/// The help popup, as wide as the text needs (at most the screen), as tall as the
/// screen allows; `scroll` is clamped so the last page is the last one shown.
pub fn draw(f: &mut Frame, area: Rect, theme: &Theme, scroll: &mut u16) {
    const LEAD: usize = 9 + 18;
    let widest = KEYMAP
        .iter()
        .map(|(_, _, what)| what.chars().count())
        .max()
        .unwrap_or(0);
    let want_w = (LEAD + widest + 2) as u16;
    let w = want_w
        .min(area.width.saturating_sub(2))
        .max(LEAD as u16 + 12);
    let text_w = (w as usize).saturating_sub(2 + LEAD).max(10);
    let mut lines = Vec::new();
    let mut last = "";
    for (scope, keys, what) in KEYMAP {
        let scope_txt = if *scope == last { "" } else { scope };
        last = scope;
        for (i, part) in wrap_words(what, text_w).into_iter().enumerate() {
            let (sc, k) = if i == 0 { (scope_txt, *keys) } else { ("", "") };
            lines.push(Line::from(vec![
                Span::styled(format!("{sc:<9}"), theme.dim()),
                Span::styled(format!("{k:<18}"), theme.key()),
                Span::raw(part),
            ]));
        }
    }
    let r = centered(area, w, lines.len() as u16 + 2);
    let inner_h = r.height.saturating_sub(2) as usize;
    let max = lines.len().saturating_sub(inner_h) as u16;
    *scroll = (*scroll).min(max);
    let title = if max == 0 {
        " Keys (Esc or ? to close) ".to_string()
    } else {
        format!(
            " Keys {}-{} of {} (j/k PgUp/PgDn scroll, Esc close) ",
            *scroll as usize + 1,
            (*scroll as usize + inner_h).min(lines.len()),
            lines.len()
        )
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).scroll((*scroll, 0)).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(true))
                .title(Span::styled(title, theme.title())),
        ),
        r,
    );
}
