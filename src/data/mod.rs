//! Data reconciliation: exact row diffs across SQLite, PostgreSQL and MySQL/MariaDB,
//! a cheap sync check, and the statements that bring a target in line with its source.

pub mod apply;
pub mod csv_quoted;
pub mod diff;
pub mod introspect;
pub mod normalize;
pub mod output;
pub mod plan;
pub mod reconcile;
pub mod spool;
pub mod sql;
pub mod sync_check;
pub mod sync_many;
pub mod sync_record;
mod timestamp_text;

pub use diff::{Collect, DiffSink, Difference, Summary, diff};
pub use plan::{DiffOptions, Plan, Strategy, build_plan};
