//! A checklist: every item with pass, fail or not yet, who ticked it, when, and the
//! note they left. Shown while the run waits at the checklist (live from the ledger)
//! and afterwards (the step's evidence).

use crate::steps::checklist::{ChecklistEvidence, ItemOutcome};
use crate::tui::theme::Theme;
use ratatui::text::{Line, Span};

#[derive(Debug)]
pub struct ChecklistModel {
    pub evidence: ChecklistEvidence,
}

impl ChecklistModel {
    pub fn from_evidence(e: &ChecklistEvidence) -> ChecklistModel {
        ChecklistModel {
            evidence: e.clone(),
        }
    }

    pub fn lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        self.lines_ticking(theme, None).0
    }

    /// The lines, with `selected` marked when items can be ticked here (the run waits
    /// at the checklist), and for each item the range of lines it takes (for scrolling
    /// to it and for mouse clicks).
    pub fn lines_ticking(
        &self,
        theme: &Theme,
        selected: Option<usize>,
    ) -> (Vec<Line<'static>>, Vec<std::ops::Range<usize>>) {
        let e = &self.evidence;
        let mut spans = Vec::new();
        let mut out = vec![Line::from(vec![
            Span::styled(format!("{}: ", e.title), theme.title()),
            Span::styled(format!("{} passed", e.passed), theme.ok()),
            Span::raw(", "),
            Span::styled(
                format!("{} failed", e.failed),
                if e.failed > 0 {
                    theme.bad()
                } else {
                    theme.dim()
                },
            ),
            Span::raw(", "),
            Span::styled(
                format!("{} open", e.pending),
                if e.pending > 0 {
                    theme.warn()
                } else {
                    theme.dim()
                },
            ),
        ])];
        for (n, i) in e.items.iter().enumerate() {
            let start = out.len();
            let style = match i.outcome {
                ItemOutcome::Pass => theme.ok(),
                ItemOutcome::Fail => theme.bad(),
                ItemOutcome::Pending => theme.dim(),
            };
            let mut first = Vec::new();
            if let Some(sel) = selected {
                first.push(if sel == n {
                    Span::styled("› ", theme.key())
                } else {
                    Span::raw("  ")
                });
            }
            let id_style = if selected == Some(n) {
                theme.selected().patch(theme.title())
            } else {
                theme.title()
            };
            first.extend([
                Span::styled(format!("{} ", i.outcome.label()), style),
                Span::styled(format!("{:<14}", i.id), id_style),
                Span::raw(" "),
                Span::raw(i.text.clone()),
            ]);
            out.push(Line::from(first));
            if let Some(by) = &i.by {
                out.push(Line::from(vec![
                    Span::styled("     by ", theme.dim()),
                    Span::raw(format!(
                        "{by} ({}) {}",
                        i.role.clone().unwrap_or_default(),
                        i.at.clone().unwrap_or_default()
                    )),
                ]));
            }
            if let Some(n) = &i.note {
                out.push(Line::from(vec![
                    Span::styled("     note ", theme.dim()),
                    Span::styled(n.clone(), style),
                ]));
            }
            spans.push(start..out.len());
        }
        if selected.is_some() {
            out.push(Line::from(vec![
                Span::styled("j/k", theme.key()),
                Span::styled(" choose an item · ", theme.dim()),
                Span::styled("p", theme.key()),
                Span::styled(" pass · ", theme.dim()),
                Span::styled("f", theme.key()),
                Span::styled(" fail (with a note) · or click it", theme.dim()),
            ]));
            out.push(Line::from(Span::styled(
                "or from a shell: cutover checklist RUNBOOK --item ID --pass|--fail --as NAME [--note ...]",
                theme.dim(),
            )));
        } else if e.pending > 0 {
            out.push(Line::from(Span::styled(
                "tick with: cutover checklist RUNBOOK --item ID --pass|--fail --as NAME [--note ...]",
                theme.dim(),
            )));
        }
        (out, spans)
    }
}
