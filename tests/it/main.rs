//! One integration test binary (faster to build than one per file).

mod cli_demo;
mod cli_ledger;
mod cli_resume;
mod data_cli;
mod data_diff;
mod data_runbook;
mod db_engines;
mod support;
