//! One file per popup. A popup owns the keyboard while it is open.

pub mod checkpoint;
pub mod help;
pub mod input;
pub mod quit;
pub mod rollback;
pub mod tick;

use ratatui::layout::{Constraint, Flex, Layout, Rect};

/// A centred rectangle of at most `w`×`h`, never larger than `area` minus a margin.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2)).max(1);
    let h = h.min(area.height.saturating_sub(2)).max(1);
    let [v] = Layout::vertical([Constraint::Length(h)])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w)])
        .flex(Flex::Center)
        .areas(v);
    r
}
