//! cutover: run staging-to-production database cutovers as runbooks of phases with
//! checkpoints, prove each with evidence, and record who approved what.

pub mod crash;
pub mod data;
pub mod db;
pub mod engine;
pub mod error;
pub mod redact;

pub use error::{Error, ErrorKind, Result};
pub mod checks;
pub mod cli;
pub mod ledger;
pub mod logging;
pub mod runbook;
pub mod schema;
pub mod steps;
/// Real test databases (used by integration tests and benchmarks); only with the
/// `testkit` feature, so a release build does not carry it.
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod tui;
pub mod vocab;
