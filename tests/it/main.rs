//! One integration test binary (faster to build than one per file).

mod db_engines;
mod tui_flow;
mod tui_support;
mod tui_views;
