//! Hazards: destructive or risky changes with stable codes.

use serde::Serialize;

/// A hazard found by a step: a destructive or risky change with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct Hazard {
    pub code: String,
    pub message: String,
    /// Where the statement that raises it is: `file:line` (relative to the runbook),
    /// when it comes from SQL a step will run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

impl Hazard {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Hazard {
        Hazard {
            code: code.into(),
            message: message.into(),
            at: None,
        }
    }

    /// `code at file:line: message` (or without the place when it has none).
    pub fn line(&self) -> String {
        match &self.at {
            Some(at) => format!("{} at {at}: {}", self.code, self.message),
            None if self.message.is_empty() => self.code.clone(),
            None => format!("{}: {}", self.code, self.message),
        }
    }
}
