//! Asked before quitting while a run is going: the run stops here and stays resumable.

use super::centered;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub fn draw(f: &mut Frame, area: Rect, theme: &Theme, runbook: &str) {
    let r = centered(area, 60, 8);
    let lines = vec![
        Line::from(Span::styled("The run is still going.", theme.warn())),
        Line::from("Quitting stops the run here; it stays resumable:"),
        Line::from(format!("  cutover run {runbook}")),
        Line::from("continues at the first step not completed."),
        Line::from(vec![
            Span::styled("y", theme.key()),
            Span::raw(" quit   "),
            Span::styled("n/Esc", theme.key()),
            Span::raw(" stay"),
        ]),
    ];
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(true))
                .title(Span::styled(" Quit? ", theme.title())),
        ),
        r,
    );
}
