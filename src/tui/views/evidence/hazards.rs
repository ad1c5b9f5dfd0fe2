//! Hazards: destructive or risky changes with stable codes, shown wherever a step
//! raised them and in the checkpoint dialog.

use super::{pick, scalar};
use crate::tui::theme::Theme;
use crate::vocab::Hazard;
use ratatui::text::{Line, Span};
use serde_json::Value;

/// Hazards recorded in evidence: `hazards: [{code, message}]` (or plain codes).
pub fn parse(evidence: &Value) -> Vec<Hazard> {
    let Some(Value::Array(items)) = pick(evidence, &["hazards"]) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|h| match h {
            Value::String(code) => Some(Hazard {
                code: code.clone(),
                message: String::new(),
            }),
            Value::Object(_) => Some(Hazard {
                code: pick(h, &["code", "id"]).and_then(scalar)?,
                message: pick(h, &["message", "description", "reason"])
                    .and_then(scalar)
                    .unwrap_or_default(),
            }),
            _ => None,
        })
        .collect()
}

/// "⚠ HAZARDS (n)" followed by one line per hazard: code, then what it means.
pub fn lines(hazards: &[Hazard], theme: &Theme) -> Vec<Line<'static>> {
    if hazards.is_empty() {
        return Vec::new();
    }
    let mut out = vec![Line::from(Span::styled(
        format!("⚠ Hazards ({})", hazards.len()),
        theme.bad(),
    ))];
    for h in hazards {
        let mut spans = vec![Span::raw("  "), Span::styled(h.code.clone(), theme.warn())];
        if !h.message.is_empty() {
            spans.push(Span::raw(format!("  {}", h.message)));
        }
        out.push(Line::from(spans));
    }
    out
}
