//! `cutover diff ...`: compare two databases (or snapshots).

use super::diff_schema;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum DiffCommand {
    /// Compare two schemas object by object; print a summary and a unified diff of
    /// normalized DDL, stable JSON, or the migration SQL that makes the target match.
    Schema(diff_schema::Args),
}

pub async fn run(cmd: DiffCommand) -> crate::Result<i32> {
    match cmd {
        DiffCommand::Schema(a) => diff_schema::run(a).await,
    }
}
