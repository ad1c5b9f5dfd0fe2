//! What a waiting checkpoint's evidence pane leads with: its hazards (and which step
//! raised each), the warnings of the steps since the previous checkpoint, a standing
//! rejection, and the approvals so far (stale ones marked, with why) against what the
//! policy still requires. The same facts the checkpoint dialog (`a`) shows, so a DBA
//! reads them before deciding to open it.

use crate::tui::popups::checkpoint::still_required;
use crate::tui::state::AppState;
use crate::tui::theme::Theme;
use crate::vocab::{ApprovalNeed, Decision, Hazard};
use ratatui::text::{Line, Span};

/// The checkpoint's hazard codes with the message and the step that raised each, where
/// a step's evidence recorded them (a code no loaded evidence explains keeps its code).
pub fn hazards_of(state: &AppState, need: &ApprovalNeed) -> Vec<(Hazard, Option<String>)> {
    // Hazards read from the SQL the checkpoint lets run come with their file and line.
    let mut out: Vec<(Hazard, Option<String>)> = need
        .hazard_details
        .iter()
        .map(|h| (h.clone(), None))
        .collect();
    let located: Vec<String> = need.hazard_details.iter().map(|h| h.code.clone()).collect();
    out.extend(
        need.hazards
            .iter()
            .filter(|code| !located.contains(code))
            .map(|code| {
                state
                    .steps()
                    .filter(|(_, s)| s.id() != need.checkpoint)
                    .find_map(|(_, s)| {
                        let hs = s
                            .evidence
                            .as_ref()
                            .map(|e| &e.hazards)
                            .unwrap_or(&s.hazards);
                        hs.iter()
                            .find(|h| &h.code == code)
                            .map(|h| (h.clone(), Some(s.id().to_string())))
                    })
                    .unwrap_or_else(|| (Hazard::new(code.clone(), ""), None))
            }),
    );
    out
}

/// The lines leading a waiting checkpoint's pane.
pub fn lines(state: &AppState, need: &ApprovalNeed, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let roles = if need.roles.is_empty() {
        "any role".to_string()
    } else {
        need.roles.join(" or ")
    };
    out.push(Line::from(Span::styled(
        format!(
            "⏸ Awaiting approval {}/{} ({roles})",
            need.approved_by.len(),
            need.required
        ),
        theme.warn(),
    )));
    out.push(Line::from(Span::styled(
        format!("  {}", still_required(need)),
        theme.warn(),
    )));
    let hz = hazards_of(state, need);
    if !hz.is_empty() {
        out.push(Line::from(Span::styled(
            format!("⚠ Hazards ({})", hz.len()),
            theme.bad(),
        )));
        for (h, from) in &hz {
            let mut spans = vec![Span::raw("  "), Span::styled(h.code.clone(), theme.warn())];
            if let Some(at) = &h.at {
                spans.push(Span::styled(format!(" at {at}"), theme.dim()));
            }
            if let Some(step) = from {
                spans.push(Span::styled(format!(" from {step}"), theme.dim()));
            }
            if !h.message.is_empty() {
                spans.push(Span::raw(format!(": {}", h.message)));
            }
            out.push(Line::from(spans));
        }
    }
    if !need.warnings.is_empty() {
        out.push(Line::from(Span::styled(
            format!(
                "⚠ Found since the last checkpoint ({})",
                need.warnings.len()
            ),
            theme.warn(),
        )));
        for w in &need.warnings {
            out.push(Line::from(Span::styled(format!("  {w}"), theme.text())));
        }
    }
    if let Some(r) = &need.rejection {
        out.push(Line::from(Span::styled(
            format!(
                "✗ Rejected by {} ({}){} — the rejection stands",
                r.by,
                r.role,
                r.comment
                    .as_ref()
                    .map(|c| format!(": “{c}”"))
                    .unwrap_or_default()
            ),
            theme.bad(),
        )));
        for m in &r.remedies {
            out.push(Line::from(Span::styled(format!("  {m}"), theme.text())));
        }
    }
    let rows: Vec<_> = state
        .approvals
        .iter()
        .filter(|a| a.checkpoint == need.checkpoint)
        .collect();
    if rows.is_empty() && need.approved_by.is_empty() {
        out.push(Line::from(Span::styled("No approvals yet", theme.dim())));
    } else {
        out.push(Line::from(Span::styled("Approvals so far", theme.title())));
        for a in &rows {
            let (mark, st) = match (a.decision, a.stale) {
                (_, true) => ("stale", theme.dim()),
                (Decision::Approve, _) => ("✓", theme.ok()),
                (Decision::Withdraw, _) => ("withdrew", theme.dim()),
                (Decision::Reject, _) => ("✗", theme.bad()),
            };
            let mut spans = vec![
                Span::styled(format!("  {mark} "), st),
                Span::raw(format!("{} ({})", a.approver, a.role)),
            ];
            if let Some(c) = &a.comment {
                spans.push(Span::styled(format!(" “{c}”"), theme.dim()));
            }
            out.push(Line::from(spans));
        }
        // Approvals the engine counts that the ledger poll has not shown yet.
        for (who, role) in &need.approved_by {
            if !rows.iter().any(|a| &a.approver == who && !a.stale) {
                out.push(Line::from(vec![
                    Span::styled("  ✓ ", theme.ok()),
                    Span::raw(format!("{who} ({role})")),
                ]));
            }
        }
    }
    for why in &need.stale {
        out.push(Line::from(Span::styled(
            format!("  stale: {why}"),
            theme.warn(),
        )));
    }
    out.push(Line::from(vec![
        Span::styled("a", theme.key()),
        Span::styled(" to approve or reject · elsewhere: ", theme.dim()),
        Span::raw(need.approve_command.clone()),
    ]));
    out.push(Line::from(""));
    out
}
