//! A sync check: per table, whether it is in step, row counts on both sides, the latest
//! last-updated value on both sides, the filter it was counted under, and why it is
//! out of step.

use crate::steps::sync_check::SyncCheckEvidence;
use crate::tui::theme::Theme;
use crate::tui::views::thousands;
use ratatui::text::{Line, Span};

#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub table: String,
    pub status: String,
    pub source_rows: Option<u64>,
    pub target_rows: Option<u64>,
    /// `column: source latest / target latest`.
    pub latest: Option<String>,
    pub filter: Option<String>,
    pub reasons: Vec<String>,
}

#[derive(Debug)]
pub struct SyncCheckModel {
    pub source: String,
    pub target: String,
    pub tables: Vec<TableRow>,
    pub elapsed_ms: u64,
}

fn cell(v: &Option<serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => "NULL".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

impl SyncCheckModel {
    pub fn from_evidence(e: &SyncCheckEvidence) -> SyncCheckModel {
        let mut tables: Vec<TableRow> = e
            .tables
            .iter()
            .map(|t| TableRow {
                table: t.table.clone(),
                status: t.status.clone(),
                source_rows: t.source_rows,
                target_rows: t.target_rows,
                latest: t.updated_column.as_ref().map(|c| {
                    format!(
                        "{c}: {} / {}",
                        cell(&t.source_latest),
                        cell(&t.target_latest)
                    )
                }),
                filter: t.filter.clone(),
                reasons: t.reasons.clone(),
            })
            .collect();
        // out of step first, then by name: what needs a look comes first
        tables.sort_by(|a, b| {
            (a.status == "in_step")
                .cmp(&(b.status == "in_step"))
                .then_with(|| a.table.cmp(&b.table))
        });
        SyncCheckModel {
            source: e.source.clone(),
            target: e.target.clone(),
            tables,
            elapsed_ms: e.elapsed_ms,
        }
    }

    pub fn lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let out_of_step = self.tables.iter().filter(|t| t.status != "in_step").count();
        let mut out = vec![Line::from(vec![
            Span::styled(
                format!("Sync check {} → {}  ", self.source, self.target),
                theme.title(),
            ),
            if out_of_step == 0 {
                Span::styled(
                    format!("{} table(s) in step", self.tables.len()),
                    theme.ok(),
                )
            } else {
                Span::styled(
                    format!(
                        "{out_of_step} of {} table(s) out of step",
                        self.tables.len()
                    ),
                    theme.warn(),
                )
            },
            Span::styled(format!("  ({} ms)", self.elapsed_ms), theme.dim()),
        ])];
        let n = |x: Option<u64>| x.map(thousands).unwrap_or_else(|| "-".into());
        for t in &self.tables {
            let (mark, st) = if t.status == "in_step" {
                ("✓", theme.ok())
            } else {
                ("⚠", theme.warn())
            };
            let mut spans = vec![
                Span::styled(format!("{mark} "), st),
                Span::styled(t.table.clone(), theme.title()),
                Span::styled(format!("  {}", t.status.replace('_', " ")), st),
                Span::styled("  rows ", theme.dim()),
                Span::raw(format!("{} / {}", n(t.source_rows), n(t.target_rows))),
            ];
            if let Some(l) = &t.latest {
                spans.push(Span::styled("  latest ", theme.dim()));
                spans.push(Span::raw(l.clone()));
            }
            out.push(Line::from(spans));
            if let Some(f) = &t.filter {
                out.push(Line::from(vec![
                    Span::styled("    rows where ", theme.dim()),
                    Span::raw(f.clone()),
                ]));
            }
            for r in &t.reasons {
                out.push(Line::from(Span::styled(format!("    {r}"), theme.text())));
            }
        }
        out
    }
}
