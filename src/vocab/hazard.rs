//! Hazards: destructive or risky changes with stable codes.

use serde::Serialize;

/// A hazard found by a step: a destructive or risky change with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Hazard {
    pub code: String,
    pub message: String,
}
