//! The checkpoint dialog: what is being approved (evidence hash, hazards, what the
//! next phases will do), who approved so far and what the policy still requires;
//! approve or reject with a comment; a typed confirmation when hazards were raised;
//! self-approval refused with the reason.

use super::centered;
use crate::tui::action::{Action, Decision};
use crate::tui::component::Component;
use crate::tui::state::AppState;
use crate::tui::theme::Theme;
use crate::tui::views::evidence::hazards;
use crate::tui::views::truncate;
use crate::vocab::ApprovalNeed;
use crate::vocab::Hazard;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Role,
    Comment,
    Confirm,
    Approve,
    Reject,
}

#[derive(Debug)]
pub struct CheckpointDialog {
    pub checkpoint: String,
    pub name: String,
    pub role: String,
    pub comment: String,
    pub confirm: String,
    pub focus: Field,
    /// Why the last attempt was refused (validation or the ledger's answer).
    pub error: Option<String>,
    /// A decision was sent and no answer came yet.
    pub pending: bool,
    scroll: u16,
    /// Cursor (char index) in the focused text field; at its end when focus moves.
    pub cursor: usize,
}

/// What the policy still requires, in words.
pub fn still_required(need: &ApprovalNeed) -> String {
    let have = need.approved_by.len() as u32;
    if have >= need.required {
        return "policy met: the run continues".to_string();
    }
    let more = need.required - have;
    let missing_roles: Vec<&String> = need
        .roles
        .iter()
        .filter(|r| !need.approved_by.iter().any(|(_, role)| role == *r))
        .collect();
    let s = if more == 1 { "" } else { "s" };
    if missing_roles.is_empty() {
        format!("still needs {more} more approval{s}")
    } else {
        format!(
            "still needs {more} more approval{s}, from role {}",
            missing_roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        )
    }
}

impl CheckpointDialog {
    pub fn new(need: &ApprovalNeed) -> Self {
        let role = need
            .roles
            .iter()
            .find(|r| !need.approved_by.iter().any(|(_, x)| x == *r))
            .or(need.roles.first())
            .cloned()
            .unwrap_or_default();
        CheckpointDialog {
            checkpoint: need.checkpoint.clone(),
            name: std::env::var("CUTOVER_APPROVER").unwrap_or_default(),
            role,
            comment: String::new(),
            confirm: String::new(),
            focus: Field::Name,
            error: None,
            pending: false,
            scroll: 0,
            cursor: std::env::var("CUTOVER_APPROVER")
                .map(|n| n.chars().count())
                .unwrap_or(0),
        }
    }

    fn hazardous(state: &AppState) -> bool {
        state.need.as_ref().is_some_and(|n| !n.hazards.is_empty())
    }

    fn order(state: &AppState) -> Vec<Field> {
        let mut v = vec![Field::Name, Field::Role, Field::Comment];
        if Self::hazardous(state) {
            v.push(Field::Confirm);
        }
        v.extend([Field::Approve, Field::Reject]);
        v
    }

    fn text_mut(&mut self) -> Option<&mut String> {
        match self.focus {
            Field::Name => Some(&mut self.name),
            Field::Role => Some(&mut self.role),
            Field::Comment => Some(&mut self.comment),
            Field::Confirm => Some(&mut self.confirm),
            _ => None,
        }
    }

    fn step(&mut self, state: &AppState, forward: bool) {
        let order = Self::order(state);
        let i = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = order.len();
        self.focus = order[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }];
        self.cursor = self.text_mut().map_or(0, |t| t.chars().count());
    }

    /// Check the form; Err(reason) is shown in the dialog.
    pub fn decision(&self, state: &AppState, approve: bool) -> Result<Decision, String> {
        let need = state
            .need
            .as_ref()
            .filter(|n| n.checkpoint == self.checkpoint)
            .ok_or_else(|| format!("checkpoint {} is no longer waiting", self.checkpoint))?;
        let name = self.name.trim();
        let role = self.role.trim();
        if name.is_empty() {
            return Err("enter your name: the ledger records who decided".into());
        }
        if role.is_empty() {
            return Err("enter your role".into());
        }
        if !need.roles.is_empty() && !need.roles.iter().any(|r| r == role) && approve {
            return Err(format!(
                "role {role} does not count here; the policy wants {}",
                need.roles.join(" or ")
            ));
        }
        if approve
            && state
                .operator
                .as_deref()
                .is_some_and(|op| crate::vocab::identity::same_person(op, name))
            && state.allow_self_approval != Some(true)
        {
            return Err(format!(
                "self-approval refused: {name} started this run, and the policy requires someone else to approve"
            ));
        }
        if !approve && self.comment.trim().is_empty() {
            return Err("a rejection needs a comment saying why".into());
        }
        if approve && !need.hazards.is_empty() && self.confirm.trim() != self.checkpoint {
            return Err(format!(
                "hazards were raised: type {} in the confirmation field to approve",
                self.checkpoint
            ));
        }
        Ok(Decision {
            checkpoint: self.checkpoint.clone(),
            approve,
            approver: name.to_string(),
            role: role.to_string(),
            comment: Some(self.comment.trim().to_string()).filter(|c| !c.is_empty()),
            evidence_hash: need.evidence_hash.clone(),
        })
    }

    fn submit(&mut self, state: &AppState, approve: bool) -> Option<Action> {
        match self.decision(state, approve) {
            Ok(d) => {
                self.error = None;
                self.pending = true;
                Some(Action::SubmitDecision(d))
            }
            Err(e) => {
                self.error = Some(e);
                Some(Action::Tick)
            }
        }
    }

    fn info_lines(&self, state: &AppState, theme: &Theme, width: usize) -> Vec<Line<'static>> {
        let mut out = Vec::new();
        let Some(need) = state
            .need
            .as_ref()
            .filter(|n| n.checkpoint == self.checkpoint)
        else {
            out.push(Line::from(Span::styled(
                format!("{} is no longer waiting for approval.", self.checkpoint),
                theme.dim(),
            )));
            return out;
        };
        out.push(Line::from(vec![
            Span::styled(need.title.clone(), theme.title()),
            Span::styled(format!("  ({})", need.checkpoint), theme.dim()),
        ]));
        if let Some(i) = state
            .step(&need.checkpoint)
            .and_then(|s| s.plan.instructions.clone())
        {
            out.push(Line::from(Span::styled(i, theme.text())));
        }
        out.push(Line::from(vec![
            Span::styled("evidence ", theme.dim()),
            Span::raw(truncate(&need.evidence_hash, width.saturating_sub(9))),
        ]));
        // Hazards with their messages where a step recorded them.
        let known: Vec<Hazard> = state
            .steps()
            .flat_map(|(_, s)| {
                s.evidence
                    .as_ref()
                    .map(|e| e.hazards.clone())
                    .unwrap_or_else(|| s.hazards.clone())
            })
            .collect();
        let hz: Vec<Hazard> = if !need.hazard_details.is_empty() {
            need.hazard_details.clone()
        } else {
            need.hazards
                .iter()
                .map(|code| {
                    known
                        .iter()
                        .find(|h| &h.code == code)
                        .cloned()
                        .unwrap_or(Hazard::new(code.clone(), String::new()))
                })
                .collect()
        };
        out.extend(hazards::lines(&hz, theme));
        if !need.warnings.is_empty() {
            out.push(Line::from(Span::styled(
                format!(
                    "⚠ Warnings since the last checkpoint ({})",
                    need.warnings.len()
                ),
                theme.warn(),
            )));
            for w in &need.warnings {
                out.push(Line::from(Span::styled(format!("  {w}"), theme.text())));
            }
        }
        if let Some(r) = &need.rejection {
            out.push(Line::from(Span::styled(
                format!(
                    "Rejected by {} ({}){} — the rejection stands; approving does not let the run go on.",
                    r.by,
                    r.role,
                    r.comment
                        .as_ref()
                        .map(|c| format!(": “{c}”"))
                        .unwrap_or_default()
                ),
                theme.bad(),
            )));
            for m in &r.remedies {
                out.push(Line::from(Span::styled(format!("  {m}"), theme.text())));
            }
        }
        for why in &need.stale {
            out.push(Line::from(Span::styled(
                format!("stale: {why}"),
                theme.warn(),
            )));
        }
        if !need.files.is_empty() {
            out.push(Line::from(vec![
                Span::styled("covers the files ", theme.dim()),
                Span::raw(
                    need.files
                        .iter()
                        .map(|(p, _)| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ]));
        }
        let next = state.phases_after(&need.checkpoint);
        if !next.is_empty() {
            out.push(Line::from(Span::styled(
                "Approving lets these run:",
                theme.title(),
            )));
            for p in next {
                let steps: Vec<String> = p
                    .steps
                    .iter()
                    .filter(|s| s.id() != need.checkpoint)
                    .filter(|s| s.state == crate::vocab::StepState::Pending)
                    .map(|s| s.id().to_string())
                    .collect();
                if steps.is_empty() {
                    continue;
                }
                out.push(Line::from(vec![
                    Span::raw(format!("  {}: ", p.title)),
                    Span::styled(steps.join(", "), theme.dim()),
                ]));
            }
        }
        let have = need.approved_by.len();
        let roles = if need.roles.is_empty() {
            "any role".to_string()
        } else {
            need.roles.join(" or ")
        };
        out.push(Line::from(vec![
            Span::styled(
                format!("Approvals {have}/{} ({roles}) ", need.required),
                theme.title(),
            ),
            Span::styled(still_required(need), theme.warn()),
        ]));
        let rows: Vec<_> = state
            .approvals
            .iter()
            .filter(|a| a.checkpoint == need.checkpoint)
            .collect();
        for a in rows {
            let (mark, st) = match (a.decision.as_str(), a.stale) {
                (_, true) => ("stale", theme.dim()),
                ("approve", _) => ("✓", theme.ok()),
                _ => ("✗", theme.bad()),
            };
            let mut spans = vec![
                Span::styled(format!("  {mark} "), st),
                Span::raw(format!("{} ({})", a.approver, a.role)),
            ];
            if let Some(c) = &a.comment {
                spans.push(Span::styled(format!(" “{c}”"), theme.dim()));
            }
            out.push(Line::from(spans));
        }
        out.push(Line::from(vec![
            Span::styled("or from another terminal: ", theme.dim()),
            Span::raw(need.approve_command.clone()),
        ]));
        out
    }
}

impl Component for CheckpointDialog {
    fn handle_key(&mut self, key: KeyEvent, state: &AppState) -> Option<Action> {
        match key.code {
            KeyCode::Esc => return Some(Action::ClosePopup),
            KeyCode::Tab | KeyCode::Down => self.step(state, true),
            KeyCode::BackTab | KeyCode::Up => self.step(state, false),
            KeyCode::PageDown => self.scroll = self.scroll.saturating_add(3),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(3),
            KeyCode::Enter => match self.focus {
                Field::Approve => return self.submit(state, true),
                Field::Reject => return self.submit(state, false),
                _ => self.step(state, true),
            },
            KeyCode::Left | KeyCode::Right
                if matches!(self.focus, Field::Approve | Field::Reject) =>
            {
                self.focus = if self.focus == Field::Approve {
                    Field::Reject
                } else {
                    Field::Approve
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
        let r = centered(area, 78, 26);
        f.render_widget(Clear, r);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(true))
            .title(Span::styled(
                format!(" Checkpoint {} ", self.checkpoint),
                theme.title(),
            ));
        let inner = block.inner(r);
        let hazardous = Self::hazardous(state);
        // Fields, the buttons and a line for the error (which may wrap to two).
        let form_h = 3 + u16::from(hazardous) + 1 + 2;
        let [info, form] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(form_h)]).areas(inner);
        let lines = self.info_lines(state, theme, info.width as usize);
        let p = Paragraph::new(lines).wrap(Wrap { trim: false });
        // On a small terminal the information may not fit: the title says how to read on.
        let rows = p.line_count(info.width) as u16;
        self.scroll = self.scroll.min(rows.saturating_sub(info.height));
        let block = if rows > info.height {
            let more = if self.scroll + info.height < rows {
                "PgDn: more"
            } else {
                "PgUp: back"
            };
            block.title_bottom(Span::styled(format!(" {more} "), theme.dim()))
        } else {
            block
        };
        f.render_widget(block, r);
        f.render_widget(p.scroll((self.scroll, 0)), info);

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
        let mut lines = vec![
            field("Name", &self.name, Field::Name, "who you are (recorded)"),
            field("Role", &self.role, Field::Role, "e.g. dba"),
            field(
                "Comment",
                &self.comment,
                Field::Comment,
                "why (required to reject)",
            ),
        ];
        if hazardous {
            lines.push(field(
                "Confirm",
                &self.confirm,
                Field::Confirm,
                &format!("type {} to approve despite hazards", self.checkpoint),
            ));
        }
        let button = |label: &str, me: Field, st: ratatui::style::Style| {
            if self.focus == me {
                Span::styled(format!("[ {label} ]"), st.patch(theme.selected()))
            } else {
                Span::styled(format!("[ {label} ]"), st)
            }
        };
        let mut buttons = vec![
            button("Approve", Field::Approve, theme.ok()),
            Span::raw("  "),
            button("Reject", Field::Reject, theme.bad()),
            Span::styled("   Tab next · Enter press · Esc close", theme.dim()),
        ];
        if self.pending {
            buttons.push(Span::styled("  recording…", theme.warn()));
        }
        lines.push(Line::from(buttons));
        lines.push(match &self.error {
            Some(e) => Line::from(Span::styled(e.clone(), theme.bad())),
            None => Line::from(""),
        });
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), form);
    }
}
