//! `/` filters: the text typed after `/` keeps the steps, log lines or history records
//! that contain it (case-insensitive); Enter keeps the filter, Esc clears it.

use ratatui::text::Span;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Filter {
    pub text: String,
    /// The text is being typed (keys go to the filter).
    pub editing: bool,
}

impl Filter {
    pub fn active(&self) -> bool {
        !self.text.is_empty()
    }

    /// Does any of `fields` contain the text (case-insensitive)? Everything matches an
    /// empty filter.
    pub fn matches(&self, fields: &[&str]) -> bool {
        if self.text.is_empty() {
            return true;
        }
        let needle = self.text.to_lowercase();
        fields.iter().any(|f| f.to_lowercase().contains(&needle))
    }

    /// " /text (3 of 12)" for a pane's title; empty without a filter.
    pub fn title(&self, shown: usize, total: usize) -> String {
        if !self.active() && !self.editing {
            return String::new();
        }
        let cursor = if self.editing { "▏" } else { "" };
        format!(" /{}{cursor} ({shown} of {total})", self.text)
    }

    pub fn title_span(
        &self,
        shown: usize,
        total: usize,
        theme: &crate::tui::theme::Theme,
    ) -> Span<'static> {
        Span::styled(self.title(shown, total), theme.key())
    }
}
