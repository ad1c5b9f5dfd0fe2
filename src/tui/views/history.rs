//! The history/audit view: the ledger's records for this runbook, newest last, and
//! whether the hash chain verifies.

use crate::tui::action::Action;
use crate::tui::component::Component;
use crate::tui::state::{AppState, ChainStatus, LedgerRow};
use crate::tui::theme::Theme;
use crate::tui::views::filter::Filter;
use crate::tui::views::truncate;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Wrap};

#[derive(Debug, Default)]
pub struct HistoryView {
    /// `/`: only the records whose kind, step, detail or hash contain the text.
    pub filter: Filter,
    /// Selected record (index); None: follow the newest.
    pub selected: Option<usize>,
    /// The run whose records are listed (`[` `]` step through); None: every run.
    pub run: Option<String>,
    top: usize,
    page: usize,
    /// Where the records' rows were last drawn (below the table's header), for clicks.
    rows_area: Rect,
}

impl HistoryView {
    /// The runs the ledger holds for this runbook, oldest first.
    pub fn runs(state: &AppState) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &state.history {
            if !r.run_id.is_empty() && !out.contains(&r.run_id.as_str()) {
                out.push(&r.run_id);
            }
        }
        out
    }

    /// Show the next (or previous) run's records, passing through "every run".
    pub fn step_run(&mut self, state: &AppState, forward: bool) {
        let runs = Self::runs(state);
        // Positions: 0 = every run, 1..=n = the runs.
        let n = runs.len() + 1;
        let at = self
            .run
            .as_deref()
            .and_then(|id| runs.iter().position(|r| *r == id))
            .map_or(0, |i| i + 1);
        let next = if forward {
            (at + 1) % n
        } else {
            (at + n - 1) % n
        };
        self.run = (next > 0).then(|| runs[next - 1].to_string());
        self.selected = None;
        self.top = 0;
    }

    /// The records listed (the chosen run's or all, and those the filter keeps),
    /// oldest first.
    pub fn records<'a>(&self, state: &'a AppState) -> Vec<&'a LedgerRow> {
        state
            .history
            .iter()
            .filter(|r| self.run.as_ref().is_none_or(|id| *id == r.run_id))
            .filter(|r| {
                self.filter.matches(&[
                    &r.kind,
                    r.step_id.as_deref().unwrap_or(""),
                    &r.detail,
                    &r.hash,
                ])
            })
            .collect()
    }

    /// A left click on a record's row selects it.
    pub fn click(&mut self, state: &AppState, x: u16, y: u16) -> Option<Action> {
        if !self
            .rows_area
            .contains(ratatui::layout::Position::new(x, y))
        {
            return None;
        }
        let i = self.top + (y - self.rows_area.y) as usize;
        if i < self.records(state).len() {
            self.selected = Some(i);
        }
        Some(Action::Tick)
    }
}

impl HistoryView {
    /// The title: how many records, and which run is listed ("run 3f2a9c1b (2 of 3)")
    /// or how many runs there are.
    fn title_span(&self, state: &AppState, theme: &Theme) -> Span<'static> {
        let runs = Self::runs(state);
        let all = state.history.len();
        match &self.run {
            Some(id) => {
                let i = runs.iter().position(|r| r == id).map_or(0, |i| i + 1);
                let mine = state.history.iter().filter(|r| &r.run_id == id).count();
                Span::styled(
                    format!(
                        " History run {} ({i} of {}): {mine} records ",
                        &id[..id.len().min(8)],
                        runs.len()
                    ),
                    theme.title(),
                )
            }
            None if runs.len() > 1 => Span::styled(
                format!(" History ({all} records, {} runs) ", runs.len()),
                theme.title(),
            ),
            None => Span::styled(format!(" History ({all} records) "), theme.title()),
        }
    }
}

impl Component for HistoryView {
    fn handle_key(&mut self, key: KeyEvent, state: &AppState) -> Option<Action> {
        if let KeyCode::Char(c @ ('[' | ']')) = key.code {
            self.step_run(state, c == ']');
            return Some(Action::Tick);
        }
        let n = self.records(state).len();
        if n == 0 {
            return None;
        }
        let last = n - 1;
        let cur = self.selected.unwrap_or(last);
        let page = self.page.max(1);
        let next = match key.code {
            KeyCode::Char('j') | KeyCode::Down => (cur + 1).min(last),
            KeyCode::Char('k') | KeyCode::Up => cur.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => (cur + page).min(last),
            KeyCode::PageUp => cur.saturating_sub(page),
            KeyCode::Char('g') | KeyCode::Home => 0,
            KeyCode::Char('G') | KeyCode::End => {
                self.selected = None;
                return Some(Action::Tick);
            }
            _ => return None,
        };
        self.selected = Some(next);
        Some(Action::Tick)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool) {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused))
            .border_type(theme.border_type(focused))
            .title(Line::from(vec![
                self.title_span(state, theme),
                self.filter
                    .title_span(self.records(state).len(), state.history.len(), theme),
            ]));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let cw = inner.width as usize;
        let chain = match &state.chain {
            ChainStatus::Unknown => Span::styled("chain: not verified yet", theme.dim()),
            ChainStatus::Verified { records } => {
                let long = format!(
                    "✓ chain verified: {records} records, no edits, deletions or reordering"
                );
                // Narrow panes say the same in fewer words rather than cut it.
                let text = if long.chars().count() <= cw {
                    long
                } else {
                    format!("✓ chain verified: {records} records, none changed")
                };
                Span::styled(truncate(&text, cw), theme.ok())
            }
            // Why the chain broke is read in full: up to two lines.
            ChainStatus::Broken { seq, reason } => Span::styled(
                truncate(&format!("✗ chain BROKEN at record {seq}: {reason}"), cw * 2),
                theme.bad(),
            ),
        };
        let chain_h = if chain.width() > cw { 2 } else { 1 };
        let [chain_area, detail_area, table_area] = Layout::vertical([
            Constraint::Length(chain_h),
            Constraint::Length(3),
            Constraint::Min(0),
        ])
        .areas(inner);
        f.render_widget(
            Paragraph::new(Line::from(chain)).wrap(Wrap { trim: false }),
            chain_area,
        );

        let records = self.records(state);
        let n = records.len();
        let sel = self
            .selected
            .unwrap_or(n.saturating_sub(1))
            .min(n.saturating_sub(1));
        // The selected record in full: what it says, and its hash.
        if let Some(r) = records.get(sel) {
            let head = vec![
                Span::styled(format!("#{} {} ", r.seq, r.kind), theme.title()),
                Span::styled(
                    format!("{} {} ", r.step_id.as_deref().unwrap_or(""), r.created_at),
                    theme.dim(),
                ),
                Span::raw(r.detail.clone()),
            ];
            let [d, hline] =
                Layout::vertical([Constraint::Length(2), Constraint::Length(1)]).areas(detail_area);
            f.render_widget(
                Paragraph::new(Line::from(head)).wrap(Wrap { trim: false }),
                d,
            );
            f.render_widget(
                Paragraph::new(Span::styled(
                    truncate(&format!("hash {}", r.hash), hline.width as usize),
                    theme.dim(),
                )),
                hline,
            );
        }
        let h = table_area.height.saturating_sub(1) as usize;
        self.page = h.max(1);
        if sel < self.top {
            self.top = sel;
        } else if h > 0 && sel >= self.top + h {
            self.top = sel + 1 - h;
        }
        self.top = self.top.min(n.saturating_sub(h.max(1)));
        let end = (self.top + h).min(n);
        self.rows_area = Rect {
            y: table_area.y + 1,
            height: (end - self.top) as u16,
            ..table_area
        };
        let w = table_area.width as usize;
        // Narrow panes drop the time column (the selected record above still shows it).
        let show_time = w >= 80;
        let fixed = 4 + 15 + 13 + 3 + if show_time { 9 } else { 0 };
        let detail_w = w.saturating_sub(fixed).max(8);
        let rows = records[self.top..end].iter().enumerate().map(|(i, r)| {
            let mut cells = vec![Line::from(r.seq.to_string())];
            if show_time {
                cells.push(Line::from(Span::styled(r.created_at.clone(), theme.dim())));
            }
            cells.extend([
                Line::from(truncate(&r.kind, 15)),
                Line::from(truncate(r.step_id.as_deref().unwrap_or(""), 13)),
                Line::from(truncate(&r.detail, detail_w)),
            ]);
            let row = Row::new(cells);
            if self.top + i == sel && self.selected.is_some() {
                row.style(theme.selected())
            } else {
                row
            }
        });
        let mut widths = vec![Constraint::Length(4)];
        let mut names = vec!["seq"];
        if show_time {
            widths.push(Constraint::Length(8));
            names.push("time");
        }
        widths.extend([
            Constraint::Length(15),
            Constraint::Length(13),
            Constraint::Min(8),
        ]);
        names.extend(["kind", "step", "detail"]);
        let header = Row::new(names).style(theme.title());
        f.render_widget(
            Table::new(rows, widths).header(header).column_spacing(1),
            table_area,
        );
    }
}
