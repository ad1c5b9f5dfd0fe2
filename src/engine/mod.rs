//! The run state machine: runs steps in order, records every state change in the
//! ledger before moving on, resumes after a crash, and stops at checkpoints.

pub mod approval;
pub mod events;
mod run;
pub mod status;
pub mod targets;

pub use events::{ApprovalNeed, EngineEvent, EventSink, Progress, ProgressMeter, StepState};
pub use run::{Engine, RunOptions, RunOutcome};
