//! Check results: what was expected, what was found, pass or fail.

use crate::steps::check::CheckEvidence;
use crate::tui::theme::Theme;
use ratatui::text::{Line, Span};

#[derive(Debug, Clone, PartialEq)]
pub struct CheckItem {
    pub name: String,
    pub query: Option<String>,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub passed: Option<bool>,
    pub message: Option<String>,
}

#[derive(Debug)]
pub struct CheckModel {
    pub items: Vec<CheckItem>,
}

impl CheckModel {
    /// From the evidence a `check` step records: one assertion, or each check of a suite.
    pub fn from_evidence(e: &CheckEvidence) -> CheckModel {
        if !e.results.is_empty() {
            return CheckModel {
                items: e
                    .results
                    .iter()
                    .map(|r| CheckItem {
                        name: format!("{} ({})", r.title(), r.verdict()),
                        query: None,
                        expected: Some(r.expected.clone()),
                        actual: Some(r.actual.clone()),
                        // a warning neither passed nor failed the step: shown unmarked
                        passed: (!r.is_warning())
                            .then_some(r.status == crate::checks::Status::Passed),
                        message: (r.status != crate::checks::Status::Passed)
                            .then(|| r.message.clone()),
                    })
                    .collect(),
            };
        }
        CheckModel {
            items: vec![CheckItem {
                name: e.description.clone().unwrap_or_else(|| "check".into()),
                query: Some(e.query.clone()),
                expected: Some(e.expected.clone()),
                actual: Some(e.actual.clone()),
                passed: Some(e.passed),
                message: None,
            }],
        }
    }

    pub fn lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let passed = self.items.iter().filter(|i| i.passed == Some(true)).count();
        let failed = self
            .items
            .iter()
            .filter(|i| i.passed == Some(false))
            .count();
        let mut out = vec![Line::from(vec![
            Span::styled("Checks: ", theme.title()),
            Span::styled(format!("{passed} passed"), theme.ok()),
            Span::raw(", "),
            Span::styled(
                format!("{failed} failed"),
                if failed > 0 { theme.bad() } else { theme.dim() },
            ),
        ])];
        for i in &self.items {
            let (mark, style) = match i.passed {
                Some(true) => ("PASS", theme.ok()),
                Some(false) => ("FAIL", theme.bad()),
                None => ("----", theme.dim()),
            };
            out.push(Line::from(vec![
                Span::styled(format!("{mark} "), style),
                Span::styled(i.name.clone(), theme.title()),
            ]));
            if let Some(q) = &i.query {
                out.push(Line::from(vec![
                    Span::styled("     query    ", theme.dim()),
                    Span::raw(q.replace('\n', " ")),
                ]));
            }
            if let Some(e) = &i.expected {
                out.push(Line::from(vec![
                    Span::styled("     expected ", theme.dim()),
                    Span::raw(e.clone()),
                ]));
            }
            if let Some(a) = &i.actual {
                let st = if i.passed == Some(false) {
                    theme.bad()
                } else {
                    theme.text()
                };
                out.push(Line::from(vec![
                    Span::styled("     actual   ", theme.dim()),
                    Span::styled(a.clone(), st),
                ]));
            }
            if let Some(m) = &i.message {
                out.push(Line::from(vec![
                    Span::styled("     ", theme.dim()),
                    Span::styled(m.clone(), theme.dim()),
                ]));
            }
        }
        out
    }
}
