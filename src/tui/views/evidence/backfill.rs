//! A backfill: rows filled and left NULL, the success rate against its minimum, the
//! batches and the longest one, where the unfilled rows are.

use crate::steps::backfill::BackfillEvidence;
use crate::tui::theme::Theme;
use ratatui::text::{Line, Span};

#[derive(Debug)]
pub struct BackfillModel {
    pub evidence: BackfillEvidence,
}

fn percent(r: f64) -> String {
    format!("{:.1}%", r * 100.0)
}

impl BackfillModel {
    pub fn from_evidence(e: &BackfillEvidence) -> BackfillModel {
        BackfillModel {
            evidence: e.clone(),
        }
    }

    pub fn lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let e = &self.evidence;
        let row = |label: &str, value: String| {
            Line::from(vec![
                Span::styled(format!("  {label:<14}"), theme.dim()),
                Span::raw(value),
            ])
        };
        let below = matches!((e.success_rate, e.min_success_rate), (Some(r), Some(m)) if r < m);
        let mut out = vec![
            Line::from(Span::styled(
                format!("Backfill of {}.{} on {}", e.table, e.column, e.target),
                theme.title(),
            )),
            row("from", e.source.clone()),
            Line::from(vec![
                Span::styled(format!("  {:<14}", "filled"), theme.dim()),
                Span::styled(e.rows_filled.to_string(), theme.ok()),
                Span::raw(" of "),
                Span::raw((e.rows_filled + e.rows_unfilled).to_string()),
            ]),
            Line::from(vec![
                Span::styled(format!("  {:<14}", "left NULL"), theme.dim()),
                Span::styled(
                    e.rows_unfilled.to_string(),
                    if e.rows_unfilled > 0 {
                        theme.bad()
                    } else {
                        theme.text()
                    },
                ),
                Span::raw(format!(" → {}", e.errors_table)),
                Span::raw(
                    e.errors_csv
                        .as_ref()
                        .map(|c| format!(" and {c}"))
                        .unwrap_or_default(),
                ),
            ]),
            Line::from(vec![
                Span::styled(format!("  {:<14}", "success rate"), theme.dim()),
                Span::styled(
                    e.success_rate
                        .map(percent)
                        .unwrap_or_else(|| "— (nothing to fill)".into()),
                    if below { theme.bad() } else { theme.ok() },
                ),
                Span::raw(
                    e.min_success_rate
                        .map(|m| format!(" (minimum {})", percent(m)))
                        .unwrap_or_default(),
                ),
            ]),
            row(
                "batches",
                format!(
                    "{} of up to {} rows{}",
                    e.batches,
                    e.batch_size,
                    e.longest_batch_ms
                        .map(|ms| format!(", longest {ms} ms"))
                        .unwrap_or_default()
                ),
            ),
        ];
        if let Some(k) = &e.resumed_after {
            out.push(row("resumed after", k.clone()));
        }
        if e.already_done == Some(true) {
            out.push(row("", "already done earlier in this run".into()));
        }
        for n in &e.notes {
            out.push(Line::from(Span::styled(format!("  {n}"), theme.dim())));
        }
        out
    }
}
