//! Any other evidence: pretty-printed JSON, scrollable.

use crate::tui::theme::Theme;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use serde_json::Value;

#[derive(Debug)]
pub struct JsonModel {
    pub lines: Vec<String>,
}

impl JsonModel {
    pub fn new(v: &Value) -> Self {
        let text = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
        JsonModel {
            lines: text.lines().map(str::to_string).collect(),
        }
    }

    pub fn lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        self.lines
            .iter()
            .map(|l| {
                // Keys dim, values plain: readable with and without colour.
                match l.split_once("\": ") {
                    Some((k, v)) => Line::from(vec![
                        Span::styled(format!("{k}\": "), theme.dim()),
                        Span::styled(v.to_string(), Style::default()),
                    ]),
                    None => Line::from(l.clone()),
                }
            })
            .collect()
    }
}
