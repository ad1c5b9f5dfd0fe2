//! A passed checkpoint: the evidence hash it was approved on, who decided, and the
//! hazards the approval covered.

use crate::steps::checkpoint::CheckpointEvidence;
use crate::tui::theme::Theme;
use crate::tui::views::short_hash;
use ratatui::text::{Line, Span};

#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub approver: String,
    pub role: String,
    pub decision: String,
    pub comment: Option<String>,
    pub via: Option<String>,
    pub at: Option<String>,
}

#[derive(Debug)]
pub struct CheckpointModel {
    pub evidence_hash: Option<String>,
    pub decisions: Vec<Decided>,
    pub hazards: Vec<String>,
    /// Steps that passed with a warning before the checkpoint (what approvers saw).
    pub warnings: Vec<String>,
}

impl CheckpointModel {
    /// From the evidence a passed checkpoint records.
    pub fn from_evidence(e: &CheckpointEvidence) -> CheckpointModel {
        CheckpointModel {
            evidence_hash: Some(e.evidence_hash.clone()),
            decisions: e
                .approvals
                .iter()
                .map(|d| Decided {
                    approver: d.approver.clone(),
                    role: d.role.clone(),
                    decision: d.decision.to_string(),
                    comment: d.comment.clone(),
                    via: Some(d.via.clone()),
                    at: Some(d.at.clone()),
                })
                .collect(),
            hazards: e.hazards.clone(),
            warnings: e.warnings.clone(),
        }
    }

    pub fn lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let mut out = vec![Line::from(Span::styled(
            format!("Decisions ({})", self.decisions.len()),
            theme.title(),
        ))];
        if let Some(h) = &self.evidence_hash {
            out.push(Line::from(vec![
                Span::styled("approved on evidence ", theme.dim()),
                Span::raw(short_hash(h).to_string()),
            ]));
        }
        for d in &self.decisions {
            let (mark, st) = if d.decision == "approve" {
                ("✓", theme.ok())
            } else {
                ("✗", theme.bad())
            };
            let mut spans = vec![
                Span::styled(format!("{mark} {} ", d.decision), st),
                Span::styled(format!("{} ({})", d.approver, d.role), theme.title()),
            ];
            if let Some(via) = &d.via {
                spans.push(Span::styled(format!(" via {via}"), theme.dim()));
            }
            if let Some(at) = &d.at {
                spans.push(Span::styled(format!(" at {at}"), theme.dim()));
            }
            out.push(Line::from(spans));
            if let Some(c) = &d.comment {
                out.push(Line::from(Span::raw(format!("    “{c}”"))));
            }
        }
        for w in &self.warnings {
            out.push(Line::from(vec![
                Span::styled("approved over ⚠ ", theme.warn()),
                Span::raw(w.clone()),
            ]));
        }
        if !self.hazards.is_empty() {
            out.push(Line::from(vec![
                Span::styled("covered hazards ", theme.dim()),
                Span::styled(self.hazards.join(", "), theme.warn()),
            ]));
        }
        out
    }
}
