//! One integration test binary (faster to build than one per file).

mod db_engines;
mod schema_cli;
mod schema_hazards;
mod schema_introspect;
mod schema_roundtrip;
mod schema_snapshot;
mod schema_steps;
mod schema_support;
