//! Hazards: destructive or risky changes with stable codes, shown wherever a step
//! raised them and in the checkpoint dialog.

use crate::steps::Evidence;
use crate::tui::theme::Theme;
use crate::vocab::Hazard;
use ratatui::text::{Line, Span};
use serde::Deserialize;
use serde_json::Value;

/// The hazards a step's typed evidence carries (a schema diff's, those a checkpoint
/// covered).
pub fn of(evidence: &Evidence) -> Vec<Hazard> {
    match evidence {
        Evidence::DiffSchema(e) => e
            .hazards
            .iter()
            .map(|h| Hazard::new(h.code.clone(), h.message.clone()))
            .collect(),
        Evidence::Checkpoint(e) if !e.hazard_details.is_empty() => e.hazard_details.clone(),
        Evidence::Checkpoint(e) => e
            .hazards
            .iter()
            .map(|code| Hazard::new(code.clone(), String::new()))
            .collect(),
        _ => Vec::new(),
    }
}

/// Evidence that does not read as its kind's struct may still record hazards the way
/// steps do: `hazards: [{code, message}]` or `hazards: [code]`.
pub fn recorded(evidence: &Value) -> Vec<Hazard> {
    #[derive(serde::Deserialize)]
    struct Recorded {
        #[serde(default)]
        hazards: Vec<One>,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum One {
        Code(String),
        Full {
            code: String,
            #[serde(default)]
            message: String,
        },
    }
    let Ok(r) = Recorded::deserialize(evidence) else {
        return Vec::new();
    };
    r.hazards
        .into_iter()
        .map(|h| match h {
            One::Code(code) => Hazard::new(code, String::new()),
            One::Full { code, message } => Hazard::new(code, message),
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
        if let Some(at) = &h.at {
            spans.push(Span::styled(format!("  {at}"), theme.dim()));
        }
        if !h.message.is_empty() {
            spans.push(Span::raw(format!("  {}", h.message)));
        }
        out.push(Line::from(spans));
    }
    out
}
