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
    ("runbook", "j k ↑ ↓", "select a step"),
    ("runbook", "g G", "first / last step"),
    ("runbook", "c", "follow the current step again"),
    ("runbook", "Enter l →", "read the selected step's evidence"),
    ("evidence", "j k ↑ ↓", "scroll (data diff: select a row)"),
    ("evidence", "PgUp PgDn Space", "scroll a page"),
    ("evidence", "g G", "top / bottom"),
    ("evidence", "h l ← →", "data diff: scroll columns"),
    ("evidence", "v", "schema diff: unified / side by side"),
    ("log", "f", "cycle the lowest level shown (TRACE..ERROR)"),
    ("log", "j k PgUp PgDn g G", "scroll; G follows the tail"),
    ("history", "j k PgUp PgDn g G", "select a ledger record"),
    ("dialog", "Tab Shift-Tab", "next / previous field"),
    ("dialog", "Enter", "next field; on a button: press it"),
    ("dialog", "Esc", "close without doing anything"),
];

pub fn draw(f: &mut Frame, area: Rect, theme: &Theme, scroll: u16) {
    let r = centered(area, 76, KEYMAP.len() as u16 + 4);
    let mut lines = Vec::new();
    let mut last = "";
    for (scope, keys, what) in KEYMAP {
        let scope_txt = if *scope == last { "" } else { scope };
        last = scope;
        lines.push(Line::from(vec![
            Span::styled(format!("{scope_txt:<9}"), theme.dim()),
            Span::styled(format!("{keys:<18}"), theme.key()),
            Span::raw(*what),
        ]));
    }
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).scroll((scroll, 0)).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(true))
                .title(Span::styled(
                    " Keys (Esc or ? to close, j/k scroll) ",
                    theme.title(),
                )),
        ),
        r,
    );
}
