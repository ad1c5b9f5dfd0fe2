//! The run state machine: runs steps in order, records every state change in the
//! ledger before moving on, resumes after a crash, and stops at checkpoints.

pub mod approval;
mod batches;
pub mod checklist;
mod checkpoint;
mod rollback;
pub mod rollback_gate;
mod run;
mod signatures;
pub mod status;
mod trust;

pub use run::{Engine, RunOptions, RunOutcome, SessionEnd};
pub use trust::UnlockReport;
