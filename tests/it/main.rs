//! One integration test binary (faster to build than one per file).

mod cli_demo;
mod db_engines;
mod support;
