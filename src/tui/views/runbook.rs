//! The runbook view: phases and their steps with state, duration and target; the
//! current step marked; a live gauge (done/total, rate, ETA) for long steps.

use crate::tui::action::Action;
use crate::tui::component::Component;
use crate::tui::state::{AppState, StepView};
use crate::tui::theme::Theme;
use crate::tui::views::filter::Filter;
use crate::tui::views::{fit, fmt_ms, thousands, truncate};
use crate::vocab::{Progress, StepState};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

#[derive(Debug)]
pub struct RunbookView {
    /// `/`: only the steps whose id, kind, title or targets contain the text.
    pub filter: Filter,
    /// Index into the flattened step list.
    pub selected: usize,
    /// Follow the engine's current step until the user moves the selection.
    pub follow: bool,
    top: usize,
    /// At the last draw: the list's area and, per visible row, the step index on it
    /// (None for a phase title), so a click selects the step under it.
    pub list_area: Rect,
    pub row_steps: Vec<Option<usize>>,
}

impl Default for RunbookView {
    fn default() -> Self {
        RunbookView {
            filter: Filter::default(),
            selected: 0,
            follow: true,
            top: 0,
            list_area: Rect::default(),
            row_steps: Vec::new(),
        }
    }
}

fn shown(s: &StepView, filter: &Filter) -> bool {
    filter.matches(&[
        s.id(),
        &s.plan.kind,
        &s.plan.title,
        &s.plan.targets.join(","),
    ])
}

/// The steps listed (all of them, or those the filter keeps), in order.
fn step_ids<'a>(state: &'a AppState, filter: &Filter) -> Vec<&'a str> {
    state
        .steps()
        .filter(|(_, s)| shown(s, filter))
        .map(|(_, s)| s.id())
        .collect()
}

impl RunbookView {
    pub fn selected_step<'a>(&self, state: &'a AppState) -> Option<&'a str> {
        step_ids(state, &self.filter).get(self.selected).copied()
    }

    pub fn select(&mut self, state: &AppState, id: &str) {
        if let Some(i) = step_ids(state, &self.filter).iter().position(|s| *s == id) {
            self.selected = i;
        }
    }

    /// Keep following the current step.
    pub fn sync(&mut self, state: &AppState) {
        if self.follow
            && let Some(cur) = state.current.clone()
        {
            self.select(state, &cur);
        }
        let n = step_ids(state, &self.filter).len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }
}

fn live_ms(s: &StepView, state: &AppState) -> Option<u64> {
    s.elapsed_ms.or_else(|| {
        if state.live_clock {
            s.started_at.map(|t| t.elapsed().as_millis() as u64)
        } else {
            None
        }
    })
}

/// Three lines: "users-diff 63% · ETA 7.0s", the bar, "630,000/1,000,000 rows · 52,100 rows/s".
pub fn gauge_line(step: &str, p: &Progress, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let pct = match p.total {
        Some(t) if t > 0 => format!(" {:.0}%", (p.done as f64 / t as f64 * 100.0).min(100.0)),
        _ => String::new(),
    };
    let eta = p
        .eta
        .map(|e| format!(" · ETA {}", fmt_ms(e.as_millis() as u64)))
        .unwrap_or_default();
    let count = match p.total {
        Some(t) => format!("{}/{} {}", thousands(p.done), thousands(t), p.unit),
        None => format!("{} {}", thousands(p.done), p.unit),
    };
    let rate = format!("{} {}/s", thousands(p.rate.round() as u64), p.unit);
    let bar_w = width.max(4);
    let filled = match p.total {
        Some(t) if t > 0 => ((p.done.min(t) as f64 / t as f64) * bar_w as f64).round() as usize,
        _ => 0,
    };
    vec![
        Line::from(vec![
            Span::styled(
                truncate(step, width.saturating_sub(pct.len() + eta.len()).max(4)),
                theme.title(),
            ),
            Span::raw(pct),
            Span::styled(eta, theme.dim()),
        ]),
        Line::from(vec![
            Span::styled("█".repeat(filled), theme.ok()),
            Span::styled("░".repeat(bar_w - filled), theme.dim()),
        ]),
        Line::from(vec![
            Span::raw(count),
            Span::styled(format!(" · {rate}"), theme.dim()),
        ]),
    ]
}

impl Component for RunbookView {
    fn handle_key(&mut self, key: KeyEvent, state: &AppState) -> Option<Action> {
        let n = step_ids(state, &self.filter).len();
        match key.code {
            KeyCode::Char('j') | KeyCode::Down => {
                self.selected = (self.selected + 1).min(n.saturating_sub(1));
                self.follow = false;
            }
            KeyCode::Char('k') | KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                self.follow = false;
            }
            KeyCode::Char('g') | KeyCode::Home => {
                self.selected = 0;
                self.follow = false;
            }
            KeyCode::Char('G') | KeyCode::End => {
                self.selected = n.saturating_sub(1);
                self.follow = false;
            }
            KeyCode::Char('c') => {
                self.follow = true;
                self.sync(state);
            }
            KeyCode::Enter | KeyCode::Char('l') | KeyCode::Right => return Some(Action::FocusNext),
            _ => return None,
        }
        Some(Action::Tick)
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool) {
        let (done, total) = state.overall();
        let title = format!(" Runbook {done}/{total} ");
        let all = state.steps().count();
        let kept = step_ids(state, &self.filter).len();
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border(focused))
            .border_type(theme.border_type(focused))
            .title(Line::from(vec![
                Span::styled(title, theme.title()),
                self.filter.title_span(kept, all, theme),
            ]));
        let inner = block.inner(area);
        f.render_widget(block, area);

        let progress = state
            .current
            .as_deref()
            .and_then(|c| state.step(c))
            .and_then(|s| s.progress.as_ref().map(|p| (s.id().to_string(), p.clone())));
        let gauge_h = if progress.is_some() { 3 } else { 0 };
        let [list_area, gauge_area] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(gauge_h)]).areas(inner);

        let w = list_area.width as usize;
        let show_target = w >= 44;
        let dur_w = 7;
        let target_w = if show_target { (w / 4).clamp(6, 14) } else { 0 };
        let id_w = w.saturating_sub(4 + dur_w + target_w + usize::from(show_target));

        let mut lines: Vec<Line> = Vec::new();
        let mut line_steps: Vec<Option<usize>> = Vec::new();
        let mut selected_line = 0usize;
        let mut idx = 0usize;
        for phase in &state.phases {
            if !phase.steps.iter().any(|s| shown(s, &self.filter)) {
                continue;
            }
            let tag = if phase.rollback { "↺ " } else { "" };
            line_steps.push(None);
            lines.push(Line::from(Span::styled(
                truncate(&format!("{tag}{}", phase.title), w),
                if phase.rollback {
                    theme.dim()
                } else {
                    theme.title()
                },
            )));
            for s in phase.steps.iter().filter(|s| shown(s, &self.filter)) {
                let is_current = state.current.as_deref() == Some(s.id());
                let dur = live_ms(s, state).map(fmt_ms).unwrap_or_default();
                let marker = if is_current { "▸" } else { " " };
                let mut spans = vec![
                    Span::styled(marker, theme.key()),
                    if s.state == StepState::Done && s.warning.is_some() {
                        Span::styled("⚠ ", theme.warn())
                    } else {
                        Span::styled(
                            format!("{} ", Theme::state_icon(s.state)),
                            theme.state(s.state),
                        )
                    },
                    Span::styled(
                        format!("{} ", fit(s.id(), id_w)),
                        if is_current {
                            theme.state(s.state).add_modifier(Modifier::BOLD)
                        } else if s.state == StepState::Pending {
                            theme.dim()
                        } else {
                            theme.text()
                        },
                    ),
                ];
                if show_target {
                    spans.push(Span::styled(
                        format!("{} ", fit(&s.plan.targets.join(","), target_w)),
                        theme.dim(),
                    ));
                }
                spans.push(Span::styled(format!("{dur:>dur_w$}"), theme.dim()));
                let mut line = Line::from(spans);
                if idx == self.selected {
                    line = line.style(theme.selected());
                    selected_line = lines.len();
                }
                line_steps.push(Some(idx));
                lines.push(line);
                idx += 1;
            }
        }
        let h = list_area.height as usize;
        if selected_line < self.top {
            self.top = selected_line.saturating_sub(1);
        } else if h > 0 && selected_line >= self.top + h {
            self.top = selected_line + 1 - h;
        }
        self.top = self.top.min(lines.len().saturating_sub(h));
        let visible: Vec<Line> = lines.into_iter().skip(self.top).take(h).collect();
        self.list_area = list_area;
        self.row_steps = line_steps.into_iter().skip(self.top).take(h).collect();
        f.render_widget(Paragraph::new(visible), list_area);
        if let Some((id, p)) = progress {
            f.render_widget(
                Paragraph::new(gauge_line(&id, &p, gauge_area.width as usize, theme)),
                gauge_area,
            );
        }
    }
}
