//! The log pane: this run's log (engine events and tracing output), filterable by
//! level, following the tail unless scrolled back.

use crate::tui::action::Action;
use crate::tui::component::Component;
use crate::tui::state::{AppState, Level, LogLine};
use crate::tui::theme::Theme;
use crate::tui::views::filter::Filter;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

#[derive(Debug)]
pub struct LogView {
    /// Lowest level shown.
    pub min_level: Level,
    /// `/`: only the lines whose message or source contain the text.
    pub filter: Filter,
    /// Lines scrolled back from the end (0: follow the tail).
    pub back: usize,
    page: usize,
}

impl Default for LogView {
    fn default() -> Self {
        LogView {
            min_level: Level::Info,
            filter: Filter::default(),
            back: 0,
            page: 10,
        }
    }
}

impl LogView {
    fn visible<'a>(&self, state: &'a AppState) -> Vec<&'a LogLine> {
        state
            .logs
            .iter()
            .filter(|l| l.level >= self.min_level)
            .filter(|l| self.filter.matches(&[&l.message, &l.target]))
            .collect()
    }
    fn cycle_level(&mut self) {
        self.min_level = match self.min_level {
            Level::Trace => Level::Debug,
            Level::Debug => Level::Info,
            Level::Info => Level::Warn,
            Level::Warn => Level::Error,
            Level::Error => Level::Trace,
        };
        self.back = 0;
    }
}

fn level_style(l: Level, theme: &Theme) -> ratatui::style::Style {
    match l {
        Level::Error => theme.bad(),
        Level::Warn => theme.warn(),
        Level::Info => theme.ok(),
        _ => theme.dim(),
    }
}

impl Component for LogView {
    fn handle_key(&mut self, key: KeyEvent, state: &AppState) -> Option<Action> {
        let n = self.visible(state).len();
        let max = n.saturating_sub(self.page.max(1));
        match key.code {
            KeyCode::Char('f') => self.cycle_level(),
            KeyCode::Char('k') | KeyCode::Up => self.back = (self.back + 1).min(max),
            KeyCode::Char('j') | KeyCode::Down => self.back = self.back.saturating_sub(1),
            KeyCode::PageUp => self.back = (self.back + self.page).min(max),
            KeyCode::PageDown | KeyCode::Char(' ') => {
                self.back = self.back.saturating_sub(self.page)
            }
            KeyCode::Char('g') | KeyCode::Home => self.back = max,
            KeyCode::Char('G') | KeyCode::End => self.back = 0,
            _ => return None,
        }
        Some(Action::Tick)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool) {
        let lines = self.visible(state);
        let follow = if self.back == 0 {
            "following"
        } else {
            "scrolled"
        };
        // The filter (and what it keeps) first: the title is cut on narrow panes.
        let title = if self.filter.active() || self.filter.editing {
            format!(
                " Log ≥{}{} {follow} ",
                self.min_level.label(),
                self.filter.title(lines.len(), state.logs.len())
            )
        } else {
            format!(
                " Log ≥{} ({}) {follow} · f: level ",
                self.min_level.label(),
                lines.len()
            )
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused))
            .border_type(theme.border_type(focused))
            .title(Span::styled(title, theme.title()));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let h = inner.height as usize;
        let w = (inner.width as usize).max(1);
        self.page = h.max(1);
        let end = lines.len().saturating_sub(self.back);
        // Walk back from the end until the wrapped lines fill the pane.
        let mut start = end;
        let mut used = 0usize;
        while start > 0 {
            let l = lines[start - 1];
            let len = l.time.len() + 7 + l.target.chars().count() + 1 + l.message.chars().count();
            let rows = len.div_ceil(w).max(1);
            if used + rows > h {
                break;
            }
            used += rows;
            start -= 1;
        }
        let out: Vec<Line> = lines[start..end]
            .iter()
            .map(|l| {
                Line::from(vec![
                    Span::styled(format!("{} ", l.time), theme.dim()),
                    Span::styled(
                        format!("{:<5} ", l.level.label()),
                        level_style(l.level, theme),
                    ),
                    Span::styled(format!("{} ", l.target), theme.title()),
                    Span::raw(l.message.clone()),
                ])
            })
            .collect();
        if out.is_empty() {
            f.render_widget(
                Paragraph::new(Span::styled(
                    if self.filter.active() {
                        format!("no log lines at this level match /{}", self.filter.text)
                    } else {
                        "no log lines at this level yet".to_string()
                    },
                    theme.dim(),
                )),
                inner,
            );
        } else {
            f.render_widget(Paragraph::new(out).wrap(Wrap { trim: false }), inner);
        }
    }
}
