//! One integration test binary (faster to build than one per file).

mod cli_demo;
mod cli_ledger;
mod cli_resume;
mod db_engines;
mod support;
mod tui_e2e;
mod tui_flow;
mod tui_support;
mod tui_views;
