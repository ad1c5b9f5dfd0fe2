//! One integration test binary (faster to build than one per file).

mod architecture;
mod cli_demo;
mod cli_ledger;
mod cli_resume;
mod cli_rollback;
mod cli_runbook_errors;
mod cli_secrets;
mod cli_small_truths;
mod data_cli;
mod data_diff;
mod data_runbook;
mod db_engines;
mod engines_steps;
mod ledger_typed;
mod schema_cli;
mod schema_hazards;
mod schema_introspect;
mod schema_roundtrip;
mod schema_snapshot;
mod schema_steps;
mod schema_support;
mod support;
mod tui_e2e;
mod tui_flow;
mod tui_support;
mod tui_views;
