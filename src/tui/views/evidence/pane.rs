//! The evidence pane: what the selected step is, did and produced, drawn by the view
//! for its kind of evidence.

use super::{Body, EvidenceModel};
use crate::tui::action::Action;
use crate::tui::component::Component;
use crate::tui::state::{AppState, StepView};
use crate::tui::theme::Theme;
use crate::tui::views::filter::Filter;
use crate::tui::views::{fmt_ms, short_hash};
use crate::vocab::StepState;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

#[derive(Debug, Default)]
pub struct EvidencePane {
    /// The step shown (follows the runbook view's selection).
    pub step: Option<String>,
    pub scroll: usize,
    pub hscroll: usize,
    pub side_by_side: bool,
    /// Data diff: first visible row and selected row.
    pub top: usize,
    pub row: usize,
    /// Body height at the last draw (page size).
    page: usize,
    /// Lines at the last draw (for clamping scroll).
    lines: usize,
    /// `/` on a data diff: only the rows containing the text.
    pub filter: Filter,
    /// (step, filter text, rows kept): computed once per filter, not per frame.
    kept: Option<(String, String, Vec<usize>)>,
    /// A checklist open for ticks: the selected item.
    pub item: usize,
    /// The item last scrolled into view (scroll follows the selection once per move).
    item_shown: Option<usize>,
    /// Each item's rows in the content (as drawn, wrapped), for scrolling and clicks.
    item_rows: Vec<std::ops::Range<usize>>,
    /// Where the content was drawn (inside the border), and a data diff's rows.
    content: Rect,
    diff_rows: Rect,
}

impl EvidencePane {
    pub fn show(&mut self, step: Option<String>) {
        if self.step != step {
            self.step = step;
            self.scroll = 0;
            self.hscroll = 0;
            self.top = 0;
            self.row = 0;
            self.filter = Filter::default();
            self.kept = None;
            self.item = 0;
            self.item_shown = None;
            self.item_rows.clear();
        }
    }

    /// The checklist shown, when its items can be ticked here: the run has reached it
    /// and it has not completed (a failed checklist can be ticked again).
    pub fn tickable<'a>(
        &self,
        state: &'a AppState,
    ) -> Option<&'a super::checklist::ChecklistModel> {
        let step = state.step(self.step.as_deref()?)?;
        let Some(Body::Checklist(m)) = step.evidence.as_deref().map(|m| &m.body) else {
            return None;
        };
        let open = matches!(
            step.state,
            StepState::Running | StepState::AwaitingApproval | StepState::Failed
        );
        (open && state.run_id.is_some() && !m.evidence.items.is_empty()).then_some(m)
    }

    /// The tick dialog's request for the selected item.
    pub fn open_tick(&self, state: &AppState, passed: Option<bool>) -> Option<Action> {
        let m = self.tickable(state)?;
        let item = m.evidence.items.get(self.item)?;
        Some(Action::OpenTick {
            step: self.step.clone()?,
            item: item.id.clone(),
            passed,
        })
    }

    /// A left click at (x, y): selects the data-diff row or the checklist item under it;
    /// a click on the item already selected opens its tick dialog.
    pub fn click(&mut self, state: &AppState, x: u16, y: u16) -> Option<Action> {
        let at = ratatui::layout::Position::new(x, y);
        if self.shows_rows(state) {
            if !self.diff_rows.contains(at) {
                return None;
            }
            let total = match self.kept_rows(state) {
                Some(k) => k.len(),
                None => match self.model(state).map(|m| &m.body) {
                    Some(Body::DataDiff(d)) => d.rows.len(),
                    _ => 0,
                },
            };
            let row = self.top + (y - self.diff_rows.y) as usize;
            if row < total {
                self.row = row;
            }
            return Some(Action::Tick);
        }
        if self.tickable(state).is_some() && self.content.contains(at) {
            let row = self.scroll + (y - self.content.y) as usize;
            let hit = self.item_rows.iter().position(|r| r.contains(&row))?;
            if hit == self.item {
                return self.open_tick(state, None);
            }
            self.item = hit;
            return Some(Action::Tick);
        }
        None
    }

    /// Does the pane show a schema diff (the evidence `v` lays out side by side)?
    pub fn shows_schema_diff(&self, state: &AppState) -> bool {
        matches!(
            self.model(state).map(|m| &m.body),
            Some(Body::SchemaDiff(_))
        )
    }

    /// Does the pane show a data diff (the evidence with rows to filter)?
    pub fn shows_rows(&self, state: &AppState) -> bool {
        matches!(self.model(state).map(|m| &m.body), Some(Body::DataDiff(_)))
    }

    /// The data-diff rows the filter keeps (None: no filter, every row).
    fn kept_rows(&mut self, state: &AppState) -> Option<&[usize]> {
        if !self.filter.active() {
            self.kept = None;
            return None;
        }
        let step = self.step.clone()?;
        let fresh = self
            .kept
            .as_ref()
            .is_some_and(|(s, t, _)| *s == step && *t == self.filter.text);
        if !fresh {
            let Some(Body::DataDiff(d)) = self.model(state).map(|m| &m.body) else {
                return None;
            };
            let rows = d.rows_matching(&self.filter.text);
            self.kept = Some((step, self.filter.text.clone(), rows));
        }
        self.kept.as_ref().map(|(_, _, r)| r.as_slice())
    }

    fn model<'a>(&self, state: &'a AppState) -> Option<&'a EvidenceModel> {
        state
            .step(self.step.as_deref()?)
            .and_then(|s| s.evidence.as_deref())
    }
}

/// A step's state in words; a checklist waits for its items to be ticked, not for an
/// approval.
pub fn state_label(s: &StepView) -> &'static str {
    if s.state == StepState::AwaitingApproval && s.plan.kind == "checklist" {
        "awaiting ticks"
    } else {
        s.state.label()
    }
}

/// The header every evidence view starts with: kind, state, time, targets, summary.
pub fn header_lines(s: &StepView, theme: &Theme) -> Vec<Line<'static>> {
    let mut first = vec![
        Span::styled(s.plan.id.clone(), theme.title()),
        Span::styled(format!(" {} ", s.plan.kind), theme.dim()),
        Span::styled(state_label(s).to_string(), theme.state(s.state)),
    ];
    if let Some(ms) = s.elapsed_ms {
        first.push(Span::styled(format!(" {}", fmt_ms(ms)), theme.dim()));
    }
    if !s.plan.targets.is_empty() {
        first.push(Span::styled(
            format!(" → {}", s.plan.targets.join(", ")),
            theme.dim(),
        ));
    }
    let mut out = vec![Line::from(first)];
    if s.plan.title != s.plan.id && !s.plan.title.is_empty() {
        out.push(Line::from(s.plan.title.clone()));
    }
    if let Some(sum) = &s.summary {
        out.push(Line::from(Span::styled(sum.clone(), theme.text())));
    }
    if let (StepState::Running, Some(p)) = (s.state, &s.progress) {
        out.extend(crate::tui::views::runbook::gauge_line(
            &s.plan.id, p, 40, theme,
        ));
    }
    if let Some(e) = &s.error {
        out.push(Line::from(Span::styled(format!("error: {e}"), theme.bad())));
    }
    if let Some(i) = &s.plan.instructions {
        out.push(Line::from(vec![
            Span::styled("look at: ", theme.dim()),
            Span::raw(i.clone()),
        ]));
    }
    if let Some(h) = &s.evidence_hash {
        out.push(Line::from(vec![
            Span::styled("evidence ", theme.dim()),
            Span::raw(short_hash(h).to_string()),
        ]));
    }
    if matches!(s.state, StepState::Pending | StepState::Running) || s.evidence.is_none() {
        for p in &s.plan.plan {
            out.push(Line::from(vec![
                Span::styled("plan ", theme.dim()),
                Span::raw(p.clone()),
            ]));
        }
    }
    out
}

/// Line ranges as row ranges once `lines` are drawn `width` wide (wrapped or not).
fn rows_of(
    items: &[std::ops::Range<usize>],
    lines: &[Line<'_>],
    width: u16,
    wrap: bool,
) -> Vec<std::ops::Range<usize>> {
    if items.is_empty() {
        return Vec::new();
    }
    let mut first_row = Vec::with_capacity(lines.len() + 1);
    let mut row = 0;
    for l in lines {
        first_row.push(row);
        row += if wrap {
            Paragraph::new(l.clone())
                .wrap(Wrap { trim: false })
                .line_count(width)
        } else {
            1
        };
    }
    first_row.push(row);
    items
        .iter()
        .map(|r| first_row[r.start]..first_row[r.end])
        .collect()
}

impl Component for EvidencePane {
    fn handle_key(&mut self, key: KeyEvent, state: &AppState) -> Option<Action> {
        let is_data = matches!(self.model(state).map(|m| &m.body), Some(Body::DataDiff(_)));
        let page = self.page.max(1);
        if is_data {
            let Some(Body::DataDiff(d)) = self.model(state).map(|m| &m.body) else {
                return None;
            };
            let ncols = d.columns.len();
            let total = d.rows.len();
            let last = self
                .kept_rows(state)
                .map_or(total, <[usize]>::len)
                .saturating_sub(1);
            match key.code {
                KeyCode::Char('j') | KeyCode::Down => self.row = (self.row + 1).min(last),
                KeyCode::Char('k') | KeyCode::Up => self.row = self.row.saturating_sub(1),
                KeyCode::PageDown | KeyCode::Char(' ') => self.row = (self.row + page).min(last),
                KeyCode::PageUp => self.row = self.row.saturating_sub(page),
                KeyCode::Char('g') | KeyCode::Home => self.row = 0,
                KeyCode::Char('G') | KeyCode::End => self.row = last,
                KeyCode::Char('l') | KeyCode::Right => {
                    self.hscroll = (self.hscroll + 1).min(ncols.saturating_sub(1))
                }
                KeyCode::Char('h') | KeyCode::Left => self.hscroll = self.hscroll.saturating_sub(1),
                _ => return None,
            }
            return Some(Action::Tick);
        }
        if let Some(m) = self.tickable(state) {
            let last = m.evidence.items.len() - 1;
            match key.code {
                KeyCode::Char('j') | KeyCode::Down => self.item = (self.item + 1).min(last),
                KeyCode::Char('k') | KeyCode::Up => self.item = self.item.saturating_sub(1),
                KeyCode::Char('g') | KeyCode::Home => self.item = 0,
                KeyCode::Char('G') | KeyCode::End => self.item = last,
                KeyCode::Char('p') => return self.open_tick(state, Some(true)),
                KeyCode::Char('f') => return self.open_tick(state, Some(false)),
                KeyCode::Enter => return self.open_tick(state, None),
                _ => {}
            }
            if matches!(
                key.code,
                KeyCode::Char('j' | 'k' | 'g' | 'G')
                    | KeyCode::Down
                    | KeyCode::Up
                    | KeyCode::Home
                    | KeyCode::End
            ) {
                return Some(Action::Tick);
            }
        }
        // The last page shows the last line at the bottom, never a blank page.
        let max = self.lines.saturating_sub(page);
        match key.code {
            KeyCode::Char('j') | KeyCode::Down => self.scroll = (self.scroll + 1).min(max),
            KeyCode::Char('k') | KeyCode::Up => self.scroll = self.scroll.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => self.scroll = (self.scroll + page).min(max),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(page),
            KeyCode::Char('g') | KeyCode::Home => self.scroll = 0,
            KeyCode::Char('G') | KeyCode::End => self.scroll = max,
            KeyCode::Char('v') => self.side_by_side = !self.side_by_side,
            _ => return None,
        }
        Some(Action::Tick)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool) {
        let mut title = match self.model(state) {
            Some(m) => format!(" Evidence: {} ", m.view_name()),
            None => " Evidence ".to_string(),
        };
        if let Some(Body::DataDiff(d)) = self.model(state).map(|m| &m.body) {
            let all = d.rows.len();
            let kept = self.kept_rows(state).map_or(all, <[usize]>::len);
            title.push_str(&self.filter.title(kept, all));
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused))
            .border_type(theme.border_type(focused))
            .title(Span::styled(title, theme.title()));
        let inner = block.inner(area);
        f.render_widget(block, area);
        self.content = inner;
        self.diff_rows = Rect::default();
        let Some(step) = self.step.as_deref().and_then(|id| state.step(id)) else {
            f.render_widget(
                Paragraph::new(Span::styled(
                    "Select a step to see its evidence.",
                    theme.dim(),
                )),
                inner,
            );
            return;
        };
        let mut lines = header_lines(step, theme);
        // A waiting checkpoint leads with what the approver must weigh.
        if let Some(need) = state.need.as_ref().filter(|n| n.checkpoint == step.id()) {
            let lead = crate::tui::views::waiting::lines(state, need, theme);
            lines.splice(1..1, lead);
        }
        if let (StepState::Done, Some(w)) = (step.state, &step.warning) {
            lines.push(Line::from(Span::styled(format!("⚠ {w}"), theme.warn())));
        }
        let hazards: Vec<_> = match &step.evidence {
            Some(m) if !m.hazards.is_empty() => m.hazards.clone(),
            // A checkpoint waiting for approval: the hazards it will cover.
            _ => match state.need.as_ref() {
                Some(n) if n.checkpoint == step.id() && step.hazards.is_empty() => {
                    n.hazard_details.clone()
                }
                _ => step.hazards.clone(),
            },
        };
        lines.extend(super::hazards::lines(&hazards, theme));
        match step.evidence.as_deref().map(|m| &m.body) {
            Some(Body::DataDiff(d)) => {
                // The header wraps (summaries are not cut at 80 columns), up to half the pane.
                let head_p = Paragraph::new(lines).wrap(Wrap { trim: false });
                let hh = (head_p.line_count(inner.width) as u16)
                    .min(inner.height / 2)
                    .max(1);
                let [head, body] =
                    Layout::vertical([Constraint::Length(hh), Constraint::Min(0)]).areas(inner);
                f.render_widget(head_p, head);
                self.page = body.height.saturating_sub(6).max(1) as usize;
                self.kept_rows(state);
                let kept = self.kept.as_ref().map(|(_, _, r)| r.as_slice());
                self.diff_rows =
                    d.draw_kept(f, body, theme, &mut self.top, self.row, self.hscroll, kept);
            }
            body => {
                let mut items: Vec<std::ops::Range<usize>> = Vec::new();
                let tickable = self.tickable(state).is_some();
                match body {
                    Some(Body::SchemaDiff(m)) => {
                        lines.extend(m.lines(theme, inner.width, self.side_by_side))
                    }
                    Some(Body::Check(m)) => lines.extend(m.lines(theme)),
                    Some(Body::Checkpoint(m)) => lines.extend(m.lines(theme)),
                    Some(Body::Backup(m)) => lines.extend(m.lines(theme)),
                    Some(Body::Json(m)) => lines.extend(m.lines(theme)),
                    Some(Body::SyncCheck(m)) => lines.extend(m.lines(theme)),
                    Some(Body::Checklist(m)) if tickable => {
                        self.item = self.item.min(m.evidence.items.len().saturating_sub(1));
                        let (more, spans) = m.lines_ticking(theme, Some(self.item));
                        let at = lines.len();
                        items = spans
                            .into_iter()
                            .map(|r| r.start + at..r.end + at)
                            .collect();
                        lines.extend(more);
                    }
                    Some(Body::Checklist(m)) => lines.extend(m.lines(theme)),
                    Some(Body::Backfill(m)) => lines.extend(m.lines(theme)),
                    Some(Body::Consolidate(m)) => lines.extend(m.lines(theme)),
                    Some(Body::Command(m)) => lines.extend(m.lines(theme)),
                    Some(Body::DataDiff(_)) => unreachable!("handled above"),
                    None => {
                        if step.state == StepState::Done && step.evidence_hash.is_some() {
                            lines.push(Line::from(Span::styled("loading evidence…", theme.dim())));
                        }
                    }
                }
                self.page = inner.height.max(1) as usize;
                let wrap = !self.side_by_side;
                let item_rows = rows_of(&items, &lines, inner.width, wrap);
                let mut p = Paragraph::new(lines);
                if wrap {
                    p = p.wrap(Wrap { trim: false });
                }
                // Rows as drawn (wrapped), so the clamp holds for long lines too.
                self.lines = p.line_count(inner.width);
                self.item_rows = item_rows;
                if let Some(r) = self.item_rows.get(self.item).cloned()
                    && self.item_shown != Some(self.item)
                {
                    // Scroll the selected item into view once after it moved.
                    if r.start < self.scroll {
                        self.scroll = r.start;
                    } else if r.end > self.scroll + self.page {
                        self.scroll = (r.end - self.page).min(r.start);
                    }
                    self.item_shown = Some(self.item);
                }
                self.scroll = self.scroll.min(self.lines.saturating_sub(self.page));
                f.render_widget(p.scroll((self.scroll as u16, 0)), inner);
            }
        }
    }
}
