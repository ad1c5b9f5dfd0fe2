//! The tick dialog: mark one checklist item pass or fail with a note, as the person
//! named (prefilled with $CUTOVER_APPROVER, else the run's operator) in a role the
//! policy lets tick. The ledger has the last word (`engine::checklist::record_tick`,
//! the function `cutover checklist` records through); its refusal is shown here.

use super::centered;
use crate::steps::checklist::ItemOutcome;
use crate::tui::action::{Action, Tick};
use crate::tui::component::Component;
use crate::tui::state::AppState;
use crate::tui::theme::Theme;
use crate::tui::views::truncate;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Role,
    Note,
    Pass,
    Fail,
}

const ORDER: [Field; 5] = [
    Field::Name,
    Field::Role,
    Field::Note,
    Field::Pass,
    Field::Fail,
];

#[derive(Debug)]
pub struct TickDialog {
    pub step: String,
    pub item: String,
    pub name: String,
    pub role: String,
    pub note: String,
    pub focus: Field,
    /// The verdict offered (`p`: pass, `f`: fail): Enter on the note lands on it.
    pub verdict: Field,
    /// A verdict was offered (`p` or `f`), not left to choose (Enter, a click).
    offered: bool,
    pub cursor: usize,
    /// Why the last attempt was refused (the form, or the ledger's answer).
    pub error: Option<String>,
    /// A tick was sent and no answer came yet.
    pub pending: bool,
    /// Where the buttons were last drawn (for clicks).
    pass_at: Rect,
    fail_at: Rect,
}

impl TickDialog {
    pub fn new(state: &AppState, step: &str, item: &str, passed: Option<bool>) -> Self {
        let name = std::env::var("CUTOVER_APPROVER")
            .ok()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| state.operator.clone())
            .unwrap_or_default();
        // The one role the policy lets tick; with a roster it gives the person theirs.
        let roles = state.checklist_roles.get(step);
        let role = match roles.map(Vec::as_slice) {
            Some([one, ..]) if !state.roster => one.clone(),
            _ => String::new(),
        };
        let verdict = if passed == Some(false) {
            Field::Fail
        } else {
            Field::Pass
        };
        // With a name, the note is what is left to type.
        let focus = if name.is_empty() {
            Field::Name
        } else {
            Field::Note
        };
        let mut d = TickDialog {
            step: step.to_string(),
            item: item.to_string(),
            name,
            role,
            note: String::new(),
            focus,
            verdict,
            offered: passed.is_some(),
            cursor: 0,
            error: None,
            pending: false,
            pass_at: Rect::default(),
            fail_at: Rect::default(),
        };
        d.cursor = d.text_mut().map_or(0, |t| t.chars().count());
        d
    }

    fn text_mut(&mut self) -> Option<&mut String> {
        match self.focus {
            Field::Name => Some(&mut self.name),
            Field::Role => Some(&mut self.role),
            Field::Note => Some(&mut self.note),
            _ => None,
        }
    }

    fn move_to(&mut self, f: Field) {
        self.focus = f;
        self.cursor = self.text_mut().map_or(0, |t| t.chars().count());
    }

    fn step_focus(&mut self, forward: bool) {
        let i = ORDER.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = ORDER.len();
        self.move_to(
            ORDER[if forward {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            }],
        );
    }

    /// Check the form; Err(reason) is shown in the dialog.
    pub fn tick(&self, state: &AppState, passed: bool) -> Result<Tick, String> {
        let name = self.name.trim();
        let role = self.role.trim();
        if name.is_empty() {
            return Err("enter your name: the ledger records who ticked".into());
        }
        let allowed = state
            .checklist_roles
            .get(&self.step)
            .cloned()
            .unwrap_or_default();
        if role.is_empty() && !state.roster {
            return Err(if allowed.is_empty() {
                "enter your role".to_string()
            } else {
                format!(
                    "enter your role: checklist {} takes {}",
                    self.step,
                    allowed.join(" or ")
                )
            });
        }
        if !role.is_empty() && !allowed.is_empty() && !allowed.iter().any(|r| r == role) {
            return Err(format!(
                "role {role} may not tick checklist {}; the policy allows: {}",
                self.step,
                allowed.join(", ")
            ));
        }
        Ok(Tick {
            step: self.step.clone(),
            item: self.item.clone(),
            passed,
            by: name.to_string(),
            role: Some(role.to_string()).filter(|r| !r.is_empty()),
            note: Some(self.note.trim().to_string()).filter(|n| !n.is_empty()),
        })
    }

    fn submit(&mut self, state: &AppState, passed: bool) -> Option<Action> {
        if self.pending {
            return Some(Action::Tick);
        }
        match self.tick(state, passed) {
            Ok(t) => {
                self.error = None;
                self.pending = true;
                Some(Action::SubmitTick(t))
            }
            Err(e) => {
                self.error = Some(e);
                Some(Action::Tick)
            }
        }
    }

    /// A left click: on a button presses it; elsewhere nothing.
    pub fn click(&mut self, state: &AppState, x: u16, y: u16) -> Option<Action> {
        let at = Position::new(x, y);
        if self.pass_at.contains(at) {
            self.move_to(Field::Pass);
            return self.submit(state, true);
        }
        if self.fail_at.contains(at) {
            self.move_to(Field::Fail);
            return self.submit(state, false);
        }
        None
    }

    fn info_lines(&self, state: &AppState, theme: &Theme) -> Vec<Line<'static>> {
        let mut out = Vec::new();
        let item =
            state
                .step(&self.step)
                .and_then(|s| match s.evidence.as_deref().map(|m| &m.body) {
                    Some(crate::tui::views::evidence::Body::Checklist(m)) => {
                        m.evidence.items.iter().find(|i| i.id == self.item).cloned()
                    }
                    _ => None,
                });
        let title = state
            .step(&self.step)
            .map(|s| s.plan.title.clone())
            .unwrap_or_default();
        let on = if title.is_empty() || title == self.step {
            format!("  on checklist {}", self.step)
        } else {
            format!("  on {title} ({})", self.step)
        };
        out.push(Line::from(vec![
            Span::styled(self.item.clone(), theme.title()),
            Span::styled(on, theme.dim()),
        ]));
        if let Some(i) = &item {
            out.push(Line::from(Span::styled(i.text.clone(), theme.text())));
            if let Some(by) = &i.by {
                let st = match i.outcome {
                    ItemOutcome::Pass => theme.ok(),
                    ItemOutcome::Fail => theme.bad(),
                    ItemOutcome::Pending => theme.dim(),
                };
                out.push(Line::from(vec![
                    Span::styled("now ", theme.dim()),
                    Span::styled(i.outcome.label().to_string(), st),
                    Span::raw(format!(
                        " by {by} ({}){}",
                        i.role.clone().unwrap_or_default(),
                        i.note
                            .as_ref()
                            .map(|n| format!(": {n}"))
                            .unwrap_or_default()
                    )),
                    Span::styled(" — the latest tick counts", theme.dim()),
                ]));
            }
        }
        let roles = match state.checklist_roles.get(&self.step) {
            Some(r) if !r.is_empty() => r.join(" or "),
            _ => "any role".to_string(),
        };
        let mut who = format!("ticked by role {roles}");
        if state.roster {
            who.push_str("; the roster gives your role when you leave it empty");
        }
        out.push(Line::from(Span::styled(who, theme.dim())));
        out
    }
}

impl Component for TickDialog {
    fn handle_key(&mut self, key: KeyEvent, state: &AppState) -> Option<Action> {
        match key.code {
            KeyCode::Esc => return Some(Action::ClosePopup),
            KeyCode::Tab | KeyCode::Down => self.step_focus(true),
            KeyCode::BackTab | KeyCode::Up => self.step_focus(false),
            KeyCode::Enter => match self.focus {
                Field::Pass => return self.submit(state, true),
                Field::Fail => return self.submit(state, false),
                // The note is the last thing typed: Enter lands on the verdict offered.
                Field::Note => self.move_to(self.verdict),
                _ => self.step_focus(true),
            },
            KeyCode::Left | KeyCode::Right if matches!(self.focus, Field::Pass | Field::Fail) => {
                self.focus = if self.focus == Field::Pass {
                    Field::Fail
                } else {
                    Field::Pass
                };
            }
            _ => {
                let mut cursor = self.cursor;
                let edited = self
                    .text_mut()
                    .is_some_and(|t| super::input::edit(t, &mut cursor, key));
                self.cursor = cursor;
                if !edited {
                    return None;
                }
            }
        }
        Some(Action::Tick)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, state: &AppState, theme: &Theme, _focused: bool) {
        let r = centered(area, 76, 14);
        f.render_widget(Clear, r);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(true))
            .title(Span::styled(
                match (self.offered, self.verdict) {
                    (false, _) => format!(" Tick {} ", self.item),
                    (true, Field::Fail) => format!(" Tick {} fail ", self.item),
                    (true, _) => format!(" Tick {} pass ", self.item),
                },
                theme.title(),
            ));
        let inner = block.inner(r);
        f.render_widget(block, r);
        let [info, form] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(6)]).areas(inner);
        f.render_widget(
            Paragraph::new(self.info_lines(state, theme)).wrap(Wrap { trim: false }),
            info,
        );
        let fw = (form.width as usize).saturating_sub(12);
        let field = |label: &str, value: &str, me: Field, hint: &str| -> Line<'static> {
            let focused = self.focus == me;
            let shown = if value.is_empty() && !focused {
                vec![Span::styled(hint.to_string(), theme.dim())]
            } else if focused {
                super::input::spans(value, self.cursor, fw, theme)
            } else {
                vec![Span::raw(truncate(value, fw))]
            };
            let mut spans = vec![
                Span::styled(
                    format!("{label:<10}"),
                    if focused { theme.key() } else { theme.dim() },
                ),
                Span::raw(if focused { "› " } else { "  " }),
            ];
            spans.extend(shown);
            Line::from(spans)
        };
        let role_hint = if state.roster {
            "from the roster"
        } else {
            "e.g. qa"
        };
        let button = |label: &str, me: Field, st: ratatui::style::Style| {
            if self.focus == me {
                Span::styled(format!("[ {label} ]"), st.patch(theme.selected()))
            } else {
                Span::styled(format!("[ {label} ]"), st)
            }
        };
        let mut buttons = vec![
            button("Pass", Field::Pass, theme.ok()),
            Span::raw("  "),
            button("Fail", Field::Fail, theme.bad()),
            Span::styled("   Tab next · Enter press · Esc close", theme.dim()),
        ];
        if self.pending {
            buttons.push(Span::styled("  recording…", theme.warn()));
        }
        let lines = vec![
            field("Name", &self.name, Field::Name, "who you are (recorded)"),
            field("Role", &self.role, Field::Role, role_hint),
            field("Note", &self.note, Field::Note, "what you saw"),
            Line::from(buttons),
            match &self.error {
                Some(e) => Line::from(Span::styled(e.clone(), theme.bad())),
                None => Line::from(""),
            },
        ];
        // "[ Pass ]" starts the button line; "[ Fail ]" after two spaces.
        let by = form.y + 3;
        self.pass_at = Rect::new(form.x, by, 8.min(form.width), 1);
        self.fail_at = Rect::new(form.x + 10, by, 8.min(form.width.saturating_sub(10)), 1);
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), form);
    }
}
