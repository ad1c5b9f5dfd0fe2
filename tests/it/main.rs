//! One integration test binary (faster to build than one per file).

mod data_cli;
mod data_diff;
mod cli_demo;
mod cli_ledger;
mod cli_resume;
mod db_engines;
mod support;
