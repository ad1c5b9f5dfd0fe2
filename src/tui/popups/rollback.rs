//! Rollback, behind a typed confirmation: shows what the rollback phase will do and
//! starts it only after the word `rollback` is typed.

use super::centered;
use crate::tui::action::Action;
use crate::tui::component::Component;
use crate::tui::state::AppState;
use crate::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub const CONFIRM_WORD: &str = "rollback";

#[derive(Debug, Default)]
pub struct RollbackDialog {
    /// Index among the rollback phases.
    pub selected: usize,
    pub typed: String,
    /// Cursor (char index) in `typed`.
    pub cursor: usize,
    pub error: Option<String>,
    pub pending: bool,
}

impl RollbackDialog {}

impl Component for RollbackDialog {
    fn handle_key(&mut self, key: KeyEvent, state: &AppState) -> Option<Action> {
        let phases = state.rollback_phases();
        match key.code {
            KeyCode::Esc => return Some(Action::ClosePopup),
            KeyCode::Down | KeyCode::Tab => {
                self.selected = (self.selected + 1).min(phases.len().saturating_sub(1))
            }
            KeyCode::Up | KeyCode::BackTab => self.selected = self.selected.saturating_sub(1),
            KeyCode::Enter => {
                let Some(p) = phases.get(self.selected) else {
                    self.error = Some("this runbook has no rollback phase".into());
                    return Some(Action::Tick);
                };
                if self.typed.trim() != CONFIRM_WORD {
                    self.error = Some(format!("type {CONFIRM_WORD} and press Enter to start"));
                    return Some(Action::Tick);
                }
                self.error = None;
                self.pending = true;
                return Some(Action::StartRollback {
                    phase: p.id.clone(),
                });
            }
            _ => {
                if !super::input::edit(&mut self.typed, &mut self.cursor, key) {
                    return None;
                }
            }
        }
        Some(Action::Tick)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, state: &AppState, theme: &Theme, _focused: bool) {
        let phases = state.rollback_phases();
        let r = centered(area, 72, 18);
        let mut lines = vec![Line::from(Span::styled(
            "Roll back: runs the rollback phase now, stopping the forward run.",
            theme.warn(),
        ))];
        if phases.is_empty() {
            lines.push(Line::from(Span::styled(
                "This runbook declares no rollback phase.",
                theme.bad(),
            )));
        }
        for (i, p) in phases.iter().enumerate() {
            let sel = i == self.selected;
            let head = Line::from(vec![
                Span::styled(if sel { "› " } else { "  " }, theme.key()),
                Span::styled(format!("{} ", p.id), theme.title()),
                Span::raw(p.title.clone()),
            ]);
            lines.push(if sel {
                head.style(theme.selected())
            } else {
                head
            });
            for s in &p.steps {
                let plan = s.plan.plan.first().cloned().unwrap_or_default();
                lines.push(Line::from(vec![
                    Span::raw(format!("    {} ", s.id())),
                    Span::styled(plan, theme.dim()),
                ]));
            }
        }
        lines.push(Line::from(""));
        let mut typed = vec![Span::raw(format!("Type {CONFIRM_WORD} to confirm: "))];
        typed.extend(super::input::spans(&self.typed, self.cursor, 30, theme));
        lines.push(Line::from(typed));
        lines.push(Line::from(Span::styled(
            "Enter start · ↑/↓ choose phase · Esc cancel",
            theme.dim(),
        )));
        if self.pending {
            lines.push(Line::from(Span::styled("starting rollback…", theme.warn())));
        }
        if let Some(e) = &self.error {
            lines.push(Line::from(Span::styled(e.clone(), theme.bad())));
        }
        f.render_widget(Clear, r);
        f.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: false }).block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.bad())
                    .title(Span::styled(" Roll back ", theme.bad())),
            ),
            r,
        );
    }
}
