//! The application: owns the view-model and the components, turns keys into actions,
//! applies actions, and draws the frame. It never touches a database: requests go
//! to the worker over a channel.

use super::action::{Action, Request, Tab};
use super::component::Component;
use super::popups::{
    self, checkpoint::CheckpointDialog, rollback::RollbackDialog, tick::TickDialog,
};
use super::state::AppState;
use super::theme::Theme;
use super::views::evidence::pane::EvidencePane;
use super::views::filter::Filter;
use super::views::history::HistoryView;
use super::views::log::LogView;
use super::views::runbook::RunbookView;
use super::views::{short_hash, truncate};
use crate::vocab::StepState;
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use tokio::sync::mpsc::UnboundedSender;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Runbook,
    Right,
}

pub enum Popup {
    Help { scroll: u16 },
    Checkpoint(CheckpointDialog),
    Rollback(RollbackDialog),
    Tick(TickDialog),
    Quit,
}

pub struct App {
    pub state: AppState,
    pub theme: Theme,
    pub focus: Focus,
    pub tab: Tab,
    pub runbook: RunbookView,
    pub evidence: EvidencePane,
    pub log: LogView,
    pub history: HistoryView,
    pub popup: Option<Popup>,
    pub should_quit: bool,
    /// A one-line message at the bottom (what just happened).
    pub flash: Option<String>,
    requests: Option<UnboundedSender<Request>>,
    /// Checkpoint we already opened the dialog for (so it opens once, not on every poll).
    offered: Option<String>,
    /// Open the checkpoint dialog by itself when a checkpoint starts waiting.
    pub auto_open: bool,
    /// Where the runbook and the right pane (tab bar included) were last drawn.
    runbook_area: Rect,
    right_area: Rect,
}

impl App {
    pub fn new(state: AppState, theme: Theme) -> Self {
        let mut app = App {
            state,
            theme,
            focus: Focus::Runbook,
            tab: Tab::Evidence,
            runbook: RunbookView::default(),
            evidence: EvidencePane::default(),
            log: LogView::default(),
            history: HistoryView::default(),
            popup: None,
            should_quit: false,
            flash: None,
            requests: None,
            offered: None,
            auto_open: false,
            runbook_area: Rect::default(),
            right_area: Rect::default(),
        };
        app.sync_selection();
        app
    }

    pub fn with_requests(mut self, tx: UnboundedSender<Request>) -> Self {
        self.requests = Some(tx);
        self
    }

    fn request(&self, r: Request) {
        if let Some(tx) = &self.requests {
            let _ = tx.send(r);
        }
    }

    /// Select a step (as if the user moved there) and show its evidence.
    pub fn select_step(&mut self, id: &str) {
        self.runbook.select(&self.state, id);
        self.runbook.follow = false;
        self.sync_selection();
    }

    fn sync_selection(&mut self) {
        self.runbook.sync(&self.state);
        let sel = self.runbook.selected_step(&self.state).map(str::to_string);
        self.evidence.show(sel);
    }

    /// Turn a key into an action: the open popup first, then global keys, then the
    /// focused component.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        // A message stays until the next key, then the key hints come back.
        self.flash = None;
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return Some(Action::Quit);
        }
        if let Some(p) = self.popup.as_mut() {
            return match p {
                Popup::Help { scroll } => match key.code {
                    KeyCode::Char('j') | KeyCode::Down => {
                        *scroll = scroll.saturating_add(1);
                        Some(Action::Tick)
                    }
                    KeyCode::Char('k') | KeyCode::Up => {
                        *scroll = scroll.saturating_sub(1);
                        Some(Action::Tick)
                    }
                    KeyCode::PageDown | KeyCode::Char(' ') => {
                        *scroll = scroll.saturating_add(10);
                        Some(Action::Tick)
                    }
                    KeyCode::PageUp => {
                        *scroll = scroll.saturating_sub(10);
                        Some(Action::Tick)
                    }
                    KeyCode::Char('g') | KeyCode::Home => {
                        *scroll = 0;
                        Some(Action::Tick)
                    }
                    KeyCode::Char('G') | KeyCode::End => {
                        *scroll = u16::MAX;
                        Some(Action::Tick)
                    }
                    _ => Some(Action::ClosePopup),
                },
                Popup::Checkpoint(d) => d.handle_key(key, &self.state),
                Popup::Rollback(d) => d.handle_key(key, &self.state),
                Popup::Tick(d) => d.handle_key(key, &self.state),
                Popup::Quit => match key.code {
                    KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Char('q') => {
                        Some(Action::Quit)
                    }
                    _ => Some(Action::ClosePopup),
                },
            };
        }
        if let Some(a) = self.filter_key(key) {
            return Some(a);
        }
        match key.code {
            KeyCode::Char('q') => return Some(Action::RequestQuit),
            KeyCode::Char('?') => return Some(Action::ToggleHelp),
            KeyCode::Tab | KeyCode::BackTab => return Some(Action::FocusNext),
            KeyCode::Char('1') => return Some(Action::ShowTab(Tab::Evidence)),
            KeyCode::Char('2') => return Some(Action::ShowTab(Tab::Log)),
            KeyCode::Char('3') => return Some(Action::ShowTab(Tab::History)),
            KeyCode::Char('a') => return Some(Action::OpenCheckpoint),
            KeyCode::Char('R') => return Some(Action::OpenRollback),
            KeyCode::Esc if self.focus == Focus::Right => return Some(Action::FocusNext),
            // A checklist waiting for ticks: p/f tick its selected item from the runbook too.
            KeyCode::Char(c @ ('p' | 'f')) if self.focus == Focus::Runbook => {
                if let Some(a) = self.evidence.open_tick(&self.state, Some(c == 'p')) {
                    return Some(a);
                }
            }
            _ => {}
        }
        let state = &self.state;
        match self.focus {
            Focus::Runbook => self.runbook.handle_key(key, state),
            Focus::Right => match self.tab {
                Tab::Evidence => self.evidence.handle_key(key, state),
                Tab::Log => self.log.handle_key(key, state),
                Tab::History => self.history.handle_key(key, state),
            },
        }
    }

    /// The `/` filter of the focused view (the evidence pane has none).
    pub fn focused_filter(&mut self) -> Option<&mut Filter> {
        match (self.focus, self.tab) {
            (Focus::Runbook, _) => Some(&mut self.runbook.filter),
            (Focus::Right, Tab::Log) => Some(&mut self.log.filter),
            (Focus::Right, Tab::History) => Some(&mut self.history.filter),
            (Focus::Right, Tab::Evidence) if self.evidence.shows_rows(&self.state) => {
                Some(&mut self.evidence.filter)
            }
            (Focus::Right, Tab::Evidence) => None,
        }
    }

    /// `/` starts typing a filter for the focused view; while typing, keys edit it
    /// (Enter keeps it, Esc clears it); Esc also clears a kept filter.
    fn filter_key(&mut self, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let Some(filter) = self.focused_filter() else {
            if key.code == KeyCode::Char('/') {
                return Some(Action::Flash(
                    "/ filters the steps, the log, the history and a data diff's rows".into(),
                ));
            }
            return None;
        };
        if !filter.editing {
            match key.code {
                KeyCode::Char('/') => filter.editing = true,
                KeyCode::Esc if filter.active() => filter.text.clear(),
                _ => return None,
            }
        } else {
            match key.code {
                KeyCode::Enter => filter.editing = false,
                KeyCode::Esc => {
                    filter.text.clear();
                    filter.editing = false;
                }
                KeyCode::Backspace => {
                    filter.text.pop();
                }
                KeyCode::Char('u') if ctrl => filter.text.clear(),
                KeyCode::Char(c) if !ctrl => filter.text.push(c),
                _ => {}
            }
        }
        // What was selected may be filtered out: start from the top of what is kept.
        match self.focus {
            Focus::Runbook => {
                self.runbook.follow = false;
                self.runbook.selected = 0;
                self.sync_selection();
            }
            Focus::Right => {
                self.log.back = 0;
                self.history.selected = None;
                self.evidence.row = 0;
                self.evidence.top = 0;
            }
        }
        Some(Action::Tick)
    }

    /// Apply an action; may return a follow-up action.
    pub fn update(&mut self, action: Action) -> Option<Action> {
        match action {
            Action::Key(k) => return self.handle_key(k),
            Action::Tick | Action::Resize(..) => {}
            Action::Quit => self.should_quit = true,
            Action::RequestQuit => {
                if self.state.running() {
                    self.popup = Some(Popup::Quit);
                } else {
                    self.should_quit = true;
                }
            }
            Action::FocusNext => {
                self.focus = match self.focus {
                    Focus::Runbook => Focus::Right,
                    Focus::Right => Focus::Runbook,
                }
            }
            Action::ShowTab(t) => {
                self.tab = t;
                self.focus = Focus::Right;
                if t == Tab::History {
                    self.request(Request::Refresh);
                }
            }
            Action::ToggleHelp => {
                self.popup = match self.popup {
                    Some(Popup::Help { .. }) => None,
                    _ => Some(Popup::Help { scroll: 0 }),
                }
            }
            Action::OpenCheckpoint => match self.state.need.clone() {
                Some(need) => {
                    self.runbook.select(&self.state, &need.checkpoint);
                    self.sync_selection();
                    self.popup = Some(Popup::Checkpoint(CheckpointDialog::new(&need)));
                }
                None => self.flash = Some("no checkpoint is waiting for approval".into()),
            },
            Action::OpenRollback => self.popup = Some(Popup::Rollback(RollbackDialog::default())),
            Action::ClosePopup => self.popup = None,
            Action::Engine(ev) => {
                if let Some(step) = self.state.apply(&ev) {
                    self.request(Request::LoadEvidence { step });
                }
                if matches!(
                    ev,
                    crate::vocab::EngineEvent::ApprovalRecorded { .. }
                        | crate::vocab::EngineEvent::RunFinished { .. }
                ) {
                    self.request(Request::Refresh);
                }
                self.after_state_change();
            }
            Action::Status(st) => {
                for step in self.state.apply_status(&st) {
                    self.request(Request::LoadEvidence { step });
                }
                self.after_state_change();
            }
            Action::History(rows, chain) => {
                self.state.history = rows;
                self.state.chain = chain;
            }
            Action::Evidence { step, model } => {
                if let Some(s) = self.state.step_mut(&step) {
                    s.hazards = model.hazards.clone();
                    if model.warning.is_some() {
                        s.warning = model.warning.clone();
                    }
                    s.evidence = Some(model);
                }
            }
            Action::Log(line) => self.state.push_log(line),
            Action::SubmitDecision(d) => {
                let verb = if d.approve { "approval" } else { "rejection" };
                self.flash = Some(format!(
                    "recording {verb} of {} by {}…",
                    d.checkpoint, d.approver
                ));
                self.request(Request::Decide(d));
            }
            Action::DecisionResult(r) => match r {
                Ok(msg) => {
                    if matches!(self.popup, Some(Popup::Checkpoint(_))) {
                        self.popup = None;
                    }
                    self.flash = Some(msg);
                    self.request(Request::Refresh);
                }
                Err(reason) => {
                    if let Some(Popup::Checkpoint(d)) = self.popup.as_mut() {
                        d.pending = false;
                        d.error = Some(reason.clone());
                    }
                    self.flash = Some(format!("refused: {reason}"));
                }
            },
            Action::StartRollback { phase } => {
                self.state.rolling_back = true;
                self.flash = Some(format!("rolling back: {phase}"));
                self.request(Request::Rollback { phase });
            }
            Action::RollbackResult(r) => {
                if matches!(self.popup, Some(Popup::Rollback(_))) {
                    self.popup = None;
                }
                self.state.rolling_back = false;
                // The forward run was stopped for the rollback: nothing waits any more.
                self.state.need = None;
                self.flash = Some(match r {
                    Ok(m) => m,
                    Err(e) => format!("rollback failed: {e}"),
                });
                self.request(Request::Refresh);
            }
            Action::Flash(m) => self.flash = Some(m),
            Action::OpenTick { step, item, passed } => {
                self.popup = Some(Popup::Tick(TickDialog::new(
                    &self.state,
                    &step,
                    &item,
                    passed,
                )));
            }
            Action::SubmitTick(t) => {
                self.flash = Some(format!(
                    "recording {} {} by {}…",
                    t.item,
                    if t.passed { "pass" } else { "fail" },
                    t.by
                ));
                self.request(Request::Tick(t));
            }
            Action::TickResult(r) => match r {
                Ok(msg) => {
                    if matches!(self.popup, Some(Popup::Tick(_))) {
                        self.popup = None;
                    }
                    self.flash = Some(msg);
                    self.request(Request::Refresh);
                }
                Err(reason) => {
                    if let Some(Popup::Tick(d)) = self.popup.as_mut() {
                        d.pending = false;
                        d.error = Some(reason.clone());
                    }
                    self.flash = Some(format!("refused: {reason}"));
                }
            },
            Action::Mouse(m) => return self.mouse(m),
        }
        None
    }

    /// A click selects the step under it (and focuses the runbook) or focuses the right
    /// pane or switches its tab; the wheel scrolls what is under the pointer as j/k do.
    /// A popup takes no mouse input: it is closed or answered with keys.
    fn mouse(&mut self, m: MouseEvent) -> Option<Action> {
        if let Some(Popup::Tick(d)) = self.popup.as_mut() {
            // The tick dialog's buttons answer clicks.
            return match m.kind {
                MouseEventKind::Down(MouseButton::Left) => d.click(&self.state, m.column, m.row),
                _ => None,
            };
        }
        if self.popup.is_some() {
            return None;
        }
        let at = Position::new(m.column, m.row);
        let in_runbook = self.runbook_area.contains(at);
        let in_right = self.right_area.contains(at);
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) if in_runbook => {
                self.focus = Focus::Runbook;
                let a = self.runbook.list_area;
                if a.contains(at)
                    && let Some(Some(i)) = self.runbook.row_steps.get((m.row - a.y) as usize)
                {
                    self.runbook.selected = *i;
                    self.runbook.follow = false;
                    self.sync_selection();
                }
                Some(Action::Tick)
            }
            MouseEventKind::Down(MouseButton::Left) if m.row == self.right_area.y => {
                // The tab bar: " 1 Evidence  2 Log  3 History "
                let mut x = self.right_area.x;
                for (i, tab) in Tab::ALL.iter().enumerate() {
                    let w = format!(" {} {} ", i + 1, tab.label()).len() as u16;
                    if m.column >= x && m.column < x + w {
                        return Some(Action::ShowTab(*tab));
                    }
                    x += w;
                }
                None
            }
            MouseEventKind::Down(MouseButton::Left) if in_right => {
                self.focus = Focus::Right;
                let (x, y) = (m.column, m.row);
                let next = match self.tab {
                    Tab::Evidence => self.evidence.click(&self.state, x, y),
                    Tab::History => self.history.click(&self.state, x, y),
                    Tab::Log => None,
                };
                next.or(Some(Action::Tick))
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp if in_runbook || in_right => {
                self.focus = if in_runbook {
                    Focus::Runbook
                } else {
                    Focus::Right
                };
                let code = if m.kind == MouseEventKind::ScrollDown {
                    KeyCode::Down
                } else {
                    KeyCode::Up
                };
                let mut next = None;
                for _ in 0..3 {
                    next = self.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
                }
                next
            }
            _ => None,
        }
    }

    fn after_state_change(&mut self) {
        self.sync_selection();
        if let Some(need) = self.state.need.clone() {
            if self.auto_open
                && self.popup.is_none()
                && self.offered.as_ref() != Some(&need.checkpoint)
            {
                self.offered = Some(need.checkpoint.clone());
                self.popup = Some(Popup::Checkpoint(CheckpointDialog::new(&need)));
            }
        } else if let Some(Popup::Checkpoint(_)) = self.popup {
            // The policy was met (maybe by someone else): nothing left to decide here.
            self.popup = None;
        }
    }

    fn header(&self, area: Rect) -> Paragraph<'static> {
        let t = &self.theme;
        let mut spans = vec![
            Span::styled(" cutover ", t.key()),
            Span::styled(self.state.runbook.clone(), t.title()),
        ];
        if let Some(r) = &self.state.run_id {
            spans.push(Span::styled(format!(" · run {}", short_hash(r)), t.dim()));
        }
        if let Some(o) = &self.state.operator {
            spans.push(Span::styled(format!(" · {o}"), t.dim()));
        }
        let (status, st) = match (&self.state.outcome, &self.state.need) {
            (Some(o), _) if o.exit_code == 0 => (format!("finished: {}", o.outcome), t.ok()),
            (Some(o), _) if o.exit_code == 4 => (format!("stopped: {}", o.outcome), t.warn()),
            (Some(o), _) => (format!("{} (exit {})", o.outcome, o.exit_code), t.bad()),
            (None, Some(_)) => ("awaiting approval".to_string(), t.warn()),
            (None, None) if self.state.rolling_back => ("rolling back".to_string(), t.bad()),
            (None, None)
                if self.state.steps().any(|(_, s)| {
                    s.state == StepState::AwaitingApproval && s.plan.kind == "checklist"
                }) =>
            {
                ("awaiting ticks".to_string(), t.warn())
            }
            (None, None) if self.state.run_id.is_some() => {
                ("running".to_string(), t.state(StepState::Running))
            }
            _ => ("starting".to_string(), t.dim()),
        };
        let used: usize = spans.iter().map(|s| s.width()).sum();
        let w = area.width as usize;
        let status = format!(" {} ", truncate(&status, (w / 2).max(10)));
        let sw = unicode_width::UnicodeWidthStr::width(status.as_str());
        if used + sw < w {
            spans.push(Span::raw(" ".repeat(w - used - sw)));
        }
        spans.push(Span::styled(status, st));
        Paragraph::new(Line::from(spans))
    }

    fn banner(&self) -> Option<Line<'static>> {
        let t = &self.theme;
        let need = self.state.need.as_ref()?;
        if let Some(r) = &need.rejection {
            return Some(Line::from(vec![
                Span::styled(" ✗ ", t.bad()),
                Span::styled(need.checkpoint.clone(), t.title()),
                Span::raw(format!(
                    " rejected by {} — the rejection stands until withdrawn, the evidence changes, or --new; ",
                    r.by
                )),
                Span::styled("a", t.key()),
                Span::raw(" for how"),
            ]));
        }
        if !need.stale.is_empty() {
            return Some(Line::from(vec![
                Span::styled(" ⏸ ", t.warn()),
                Span::styled(need.checkpoint.clone(), t.title()),
                Span::raw(format!(
                    " awaits approval {}/{} — earlier approval stale: {} — ",
                    need.approved_by.len(),
                    need.required,
                    need.stale[0]
                )),
                Span::styled("a", t.key()),
                Span::raw(" to decide"),
            ]));
        }
        Some(Line::from(vec![
            Span::styled(" ⏸ ", t.warn()),
            Span::styled(need.checkpoint.clone(), t.title()),
            Span::raw(format!(
                " awaits approval {}/{} — ",
                need.approved_by.len(),
                need.required
            )),
            Span::styled("a", t.key()),
            Span::raw(" to decide"),
        ]))
    }

    /// The keys of the focused view first, then the global ones (cut at the width).
    pub fn footer_keys(&self) -> Vec<(&'static str, &'static str)> {
        let mut keys: Vec<(&str, &str)> = match (self.focus, self.tab) {
            (Focus::Runbook, _) if self.evidence.tickable(&self.state).is_some() => vec![
                ("p/f", "tick item pass/fail"),
                ("Enter", "choose item"),
                ("/", "filter"),
                ("j/k", "select"),
                ("c", "follow"),
            ],
            (Focus::Runbook, _) => vec![
                ("/", "filter"),
                ("j/k", "select"),
                ("Enter", "evidence"),
                ("c", "follow"),
                ("g/G", "first/last"),
            ],
            (Focus::Right, Tab::Evidence) if self.evidence.shows_rows(&self.state) => vec![
                ("/", "filter rows"),
                ("j/k", "row"),
                ("h/l", "columns"),
                ("PgUp/PgDn", "page"),
                ("g/G", "first/last"),
                ("Esc", "back"),
            ],
            (Focus::Right, Tab::Evidence) if self.evidence.tickable(&self.state).is_some() => vec![
                ("j/k", "item"),
                ("p", "pass"),
                ("f", "fail"),
                ("PgUp/PgDn", "page"),
                ("Esc", "back"),
            ],
            (Focus::Right, Tab::Evidence) => {
                let mut k = vec![("j/k", "scroll"), ("PgUp/PgDn", "page"), ("g/G", "top/end")];
                if self.evidence.shows_schema_diff(&self.state) {
                    k.push(("v", "side by side"));
                }
                k.push(("Esc", "back"));
                k
            }
            (Focus::Right, Tab::Log) => vec![
                ("f", "level"),
                ("/", "filter"),
                ("j/k", "scroll"),
                ("G", "follow"),
                ("Esc", "back"),
            ],
            (Focus::Right, Tab::History) => vec![
                ("/", "filter"),
                ("j/k", "select"),
                ("[ ]", "run"),
                ("g/G", "first/last"),
                ("Esc", "back"),
            ],
        };
        // While a checkpoint waits, deciding is the key that matters most.
        if self.state.need.is_some() {
            keys.insert(0, ("a", "approve"));
        }
        keys.insert(0, ("?", "help"));
        keys.extend([
            ("Tab", "focus"),
            ("1-3", "tabs"),
            ("q", "quit"),
            ("R", "rollback"),
        ]);
        keys
    }

    fn footer(&self, width: u16) -> Line<'static> {
        let t = &self.theme;
        if let Some(f) = &self.flash {
            return Line::from(Span::styled(
                truncate(&format!(" {f}"), width as usize),
                t.warn(),
            ));
        }
        if let Some(fl) = [
            &self.runbook.filter,
            &self.log.filter,
            &self.history.filter,
            &self.evidence.filter,
        ]
        .into_iter()
        .find(|fl| fl.editing)
        {
            return Line::from(vec![
                Span::styled(format!(" /{}▏", fl.text), t.key()),
                Span::styled("  Enter keep · Esc clear · Ctrl-U erase", t.dim()),
            ]);
        }
        let keys = self.footer_keys();
        let name = match (self.focus, self.tab) {
            (Focus::Runbook, _) => "Runbook",
            (Focus::Right, tab) => tab.label(),
        };
        let mut spans = vec![
            Span::styled(format!(" {name} "), t.selected()),
            Span::raw(" "),
        ];
        let mut used = name.len() + 3;
        for (k, what) in keys {
            let w = k.chars().count() + what.chars().count() + 3;
            if used + w > width as usize {
                break;
            }
            used += w;
            spans.push(Span::styled(k.to_string(), t.key()));
            spans.push(Span::styled(format!(" {what}  "), t.dim()));
        }
        Line::from(spans)
    }

    pub fn draw(&mut self, f: &mut Frame) {
        let area = f.area();
        let banner = self.banner();
        let [head, body, ban, foot] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(u16::from(banner.is_some())),
            Constraint::Length(1),
        ])
        .areas(area);
        f.render_widget(self.header(head), head);
        // The evidence pane always shows the selected step.
        let sel = self.runbook.selected_step(&self.state).map(str::to_string);
        self.evidence.show(sel);
        let left_w = (area.width * 2 / 5).clamp(36.min(area.width), 56);
        let [left, right] =
            Layout::horizontal([Constraint::Length(left_w), Constraint::Min(0)]).areas(body);
        self.runbook_area = left;
        self.right_area = right;
        let theme = self.theme;
        self.runbook
            .draw(f, left, &self.state, &theme, self.focus == Focus::Runbook);
        let right_focused = self.focus == Focus::Right;
        // Tabs as the first line of the right pane's title area.
        let [tabs, pane] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(right);
        let mut spans = Vec::new();
        for (i, tab) in Tab::ALL.iter().enumerate() {
            let label = format!(" {} {} ", i + 1, tab.label());
            spans.push(if *tab == self.tab {
                Span::styled(label, theme.selected().patch(theme.title()))
            } else {
                Span::styled(label, theme.dim())
            });
        }
        f.render_widget(Paragraph::new(Line::from(spans)), tabs);
        match self.tab {
            Tab::Evidence => self
                .evidence
                .draw(f, pane, &self.state, &theme, right_focused),
            Tab::Log => self.log.draw(f, pane, &self.state, &theme, right_focused),
            Tab::History => self
                .history
                .draw(f, pane, &self.state, &theme, right_focused),
        }
        if let Some(b) = banner {
            f.render_widget(Paragraph::new(b), ban);
        }
        f.render_widget(Paragraph::new(self.footer(area.width)), foot);
        match self.popup.as_mut() {
            Some(Popup::Help { scroll }) => popups::help::draw(f, area, &theme, scroll),
            // Dialogs cover the panes, never the status line, the banner or the footer.
            Some(Popup::Checkpoint(d)) => d.draw(f, body, &self.state, &theme, true),
            Some(Popup::Rollback(d)) => d.draw(f, body, &self.state, &theme, true),
            Some(Popup::Tick(d)) => d.draw(f, body, &self.state, &theme, true),
            Some(Popup::Quit) => popups::quit::draw(
                f,
                area,
                &theme,
                self.state.path.as_deref().unwrap_or(&self.state.runbook),
            ),
            None => {}
        }
    }
}
