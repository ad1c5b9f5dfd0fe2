//! The shared vocabulary at the bottom of the layers: step state, hazards, progress,
//! engine events and their sink, approval needs. Everything above may use these;
//! nothing here imports from a module above it (see `tests/it/architecture.rs`).

pub mod events;
pub mod hazard;
pub mod identity;

pub use events::{
    ApprovalNeed, Decision, EngineEvent, EventSink, Progress, ProgressMeter, StandingRejection,
    StepState,
};
pub use hazard::Hazard;
