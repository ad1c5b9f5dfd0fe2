//! Check results: what was expected, what was found, pass or fail.

use super::{pick, scalar};
use crate::steps::check::CheckEvidence;
use crate::tui::theme::Theme;
use ratatui::text::{Line, Span};
use serde_json::Value;

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

fn text_of(v: Option<&Value>) -> Option<String> {
    v.map(|x| match x {
        Value::Null => "NULL".to_string(),
        other => scalar(other).unwrap_or_default(),
    })
}

fn item(v: &Value, fallback_name: &str) -> Option<CheckItem> {
    let expected = text_of(pick(v, &["expected", "expect", "want"]));
    let actual = text_of(pick(v, &["actual", "got", "found", "value"]));
    let passed = pick(v, &["passed", "ok", "pass", "success"])
        .and_then(Value::as_bool)
        .or_else(|| {
            pick(v, &["status", "result"])
                .and_then(Value::as_str)
                .map(|s| matches!(s, "pass" | "passed" | "ok"))
        });
    if expected.is_none() && actual.is_none() && passed.is_none() {
        return None;
    }
    Some(CheckItem {
        name: pick(v, &["name", "description", "id", "item", "title", "check"])
            .and_then(scalar)
            .unwrap_or_else(|| fallback_name.to_string()),
        query: pick(v, &["query", "sql"]).and_then(scalar),
        expected,
        actual,
        passed,
        message: pick(v, &["message", "reason", "note"]).and_then(scalar),
    })
}

impl CheckModel {
    /// From the evidence a `check` step records: one assertion.
    pub fn from_evidence(e: &CheckEvidence) -> CheckModel {
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

    /// From evidence of another shape (a list of checks, other key names).
    pub fn parse(v: &Value) -> Option<CheckModel> {
        let items: Vec<CheckItem> = match pick(v, &["checks", "results", "items"]) {
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .filter_map(|(i, x)| item(x, &format!("#{}", i + 1)))
                .collect(),
            _ => item(v, "check").into_iter().collect(),
        };
        (!items.is_empty()).then_some(CheckModel { items })
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
