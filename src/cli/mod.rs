//! The command line: one file per command, each with an `Args` struct and a `run`.

pub mod diff;
pub mod diff_schema;
pub mod snapshot;
pub mod validate;

use clap::{Parser, Subcommand};

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  run complete / no differences
  1  a check failed, differences found, or a checkpoint was rejected
  2  bad input or usage (malformed runbook, unknown option, missing file, bad URL)
  3  runtime error (connection, SQL, lock held by another run)
  4  stopped at a checkpoint awaiting approval";

#[derive(Parser, Debug)]
#[command(
    name = "cutover",
    version,
    about = "Run staging-to-production database cutovers: runbooks of phases with checkpoints, schema and data diffs, and recorded approvals.",
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a runbook (syntax, step kinds, files, ${env:...} variables) without touching any database.
    Validate(validate::Args),
    /// Compare two databases or snapshots (`diff schema`).
    Diff {
        #[command(subcommand)]
        command: diff::DiffCommand,
    },
    /// Capture a database's schema, row counts and fingerprints, or compare with one (drift).
    Snapshot {
        #[command(subcommand)]
        command: snapshot::SnapshotCommand,
    },
}

/// Run a parsed command; returns the process exit code.
pub async fn dispatch(cli: Cli) -> crate::Result<i32> {
    match cli.command {
        Command::Validate(a) => validate::run(a).await,
        Command::Diff { command } => diff::run(command).await,
        Command::Snapshot { command } => snapshot::run(command).await,
    }
}
