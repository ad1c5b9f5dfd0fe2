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
        let e = &self.evidence;
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
        for i in &e.items {
            let style = match i.outcome {
                ItemOutcome::Pass => theme.ok(),
                ItemOutcome::Fail => theme.bad(),
                ItemOutcome::Pending => theme.dim(),
            };
            out.push(Line::from(vec![
                Span::styled(format!("{} ", i.outcome.label()), style),
                Span::styled(format!("{:<14} ", i.id), theme.title()),
                Span::raw(i.text.clone()),
            ]));
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
        }
        if e.pending > 0 {
            out.push(Line::from(Span::styled(
                "tick with: cutover checklist RUNBOOK --item ID --pass|--fail --as NAME [--note ...]",
                theme.dim(),
            )));
        }
        out
    }
}
