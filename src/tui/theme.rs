//! Colours and emphasis. With `NO_COLOR` set (any value, per no-color.org) every
//! style keeps only modifiers (bold, reversed, underline), so state stays readable.

use crate::vocab::StepState;
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to a non-empty value.
    pub fn from_env() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { color: !no_color }
    }
    pub fn plain() -> Self {
        Theme { color: false }
    }
    pub fn colored() -> Self {
        Theme { color: true }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn text(&self) -> Style {
        Style::default()
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default().add_modifier(Modifier::DIM)
        }
    }
    pub fn title(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            self.dim()
        }
    }
    /// The focused pane has a thick border, so focus shows without colour too.
    pub fn border_type(&self, focused: bool) -> ratatui::widgets::BorderType {
        if focused {
            ratatui::widgets::BorderType::Thick
        } else {
            ratatui::widgets::BorderType::Plain
        }
    }
    /// The selected row in a list or table.
    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn bad(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn added(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn removed(&self) -> Style {
        self.fg(Color::Red)
    }
    /// A changed word inside a changed line, or a changed cell.
    pub fn changed_word(&self, added: bool) -> Style {
        let base = if added { self.added() } else { self.removed() };
        base.add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }
    pub fn state(&self, s: StepState) -> Style {
        match s {
            StepState::Pending => self.dim(),
            StepState::Running => self.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            StepState::Done => self.ok(),
            StepState::Failed => self.bad(),
            StepState::Skipped => self.dim(),
            StepState::AwaitingApproval => self.warn(),
            StepState::RolledBack => self.fg(Color::Magenta),
        }
    }
    /// A one-cell marker for a state, readable without colour.
    pub fn state_icon(s: StepState) -> &'static str {
        match s {
            StepState::Pending => "·",
            StepState::Running => "▶",
            StepState::Done => "✓",
            StepState::Failed => "✗",
            StepState::Skipped => "-",
            StepState::AwaitingApproval => "?",
            StepState::RolledBack => "↺",
        }
    }
}
