//! One integration test binary (faster to build than one per file).

mod data_cli;
mod data_diff;
mod db_engines;
