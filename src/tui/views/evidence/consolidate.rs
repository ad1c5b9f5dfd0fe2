//! A consolidate: per legacy table inserted, updated, unchanged and conflicts; each
//! conflict with both values and how it was resolved; the corrections applied.

use crate::steps::consolidate::ConsolidateEvidence;
use crate::tui::theme::Theme;
use ratatui::text::{Line, Span};

#[derive(Debug)]
pub struct ConsolidateModel {
    pub evidence: ConsolidateEvidence,
}

impl ConsolidateModel {
    pub fn from_evidence(e: &ConsolidateEvidence) -> ConsolidateModel {
        ConsolidateModel {
            evidence: e.clone(),
        }
    }

    pub fn lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let e = &self.evidence;
        let mut out = vec![Line::from(Span::styled(
            format!(
                "Consolidate into {} on {} by {}",
                e.into,
                e.target,
                e.key.join(", ")
            ),
            theme.title(),
        ))];
        for s in &e.sources {
            out.push(Line::from(vec![
                Span::raw(format!(
                    "  {}: {} read, {} inserted, {} updated, {} unchanged, ",
                    s.table, s.rows_read, s.inserted, s.updated, s.unchanged
                )),
                Span::styled(
                    format!("{} conflict(s)", s.conflicts),
                    if s.conflicts > 0 {
                        theme.bad()
                    } else {
                        theme.text()
                    },
                ),
            ]));
            if let Some(k) = &s.resumed_after {
                out.push(Line::from(Span::styled(
                    format!("    resumed after {k}"),
                    theme.dim(),
                )));
            }
        }
        if !e.conflict_rows.is_empty() {
            out.push(Line::from(Span::styled(
                format!(
                    "Conflicts ({} in {}{})",
                    e.conflicts,
                    e.conflicts_table,
                    e.conflicts_csv
                        .as_ref()
                        .map(|c| format!(" and {c}"))
                        .unwrap_or_default()
                ),
                theme.title(),
            )));
            for c in &e.conflict_rows {
                out.push(Line::from(vec![
                    Span::raw(format!("  {} {}.{}: ", c.source, c.key, c.column)),
                    Span::styled(format!("target {}", c.target_value), theme.dim()),
                    Span::raw(" vs "),
                    Span::styled(format!("{} {}", c.source, c.source_value), theme.dim()),
                    Span::raw(" → "),
                    Span::styled(c.resolution.clone(), theme.title()),
                ]));
            }
            if (e.conflict_rows.len() as u64) < e.conflicts {
                out.push(Line::from(Span::styled(
                    format!(
                        "  … {} more in {}",
                        e.conflicts - e.conflict_rows.len() as u64,
                        e.conflicts_table
                    ),
                    theme.dim(),
                )));
            }
        }
        for c in &e.corrections {
            out.push(Line::from(vec![
                Span::styled("Correction ", theme.title()),
                Span::raw(format!(
                    "SET {} WHERE {}: {} row(s)",
                    c.set, c.filter, c.rows
                )),
            ]));
        }
        for n in &e.notes {
            out.push(Line::from(Span::styled(format!("  {n}"), theme.dim())));
        }
        out
    }
}
