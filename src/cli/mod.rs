//! The command line: one file per command, each with an `Args` struct and a `run`.

/// `println!` for command output: the line is scrubbed of registered secrets (a
/// target's password inside a query, a check's result) and a closed pipe ends the
/// process quietly. Every command prints through it.
macro_rules! say {
    () => {
        $crate::cli::common::say_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::cli::common::say_line(format_args!($($arg)*))
    };
}

pub mod approve;
pub mod audit;
pub mod backup;
pub mod checklist;
pub mod common;
pub mod completions;
pub mod copy;
pub mod demo;
pub mod diff;
pub mod diff_data;
pub mod diff_schema;
pub mod examples;
pub mod init;
pub mod lint;
pub mod plain;
pub mod restore;
pub mod rollback;
pub mod run;
pub mod runs;
pub mod snapshot;
pub mod status;
pub mod style;
pub mod sync_check;
pub mod unlock;
pub mod validate;
pub mod verify;

use clap::{Parser, Subcommand};

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  run complete / no differences
  1  a check failed, differences found, or a checkpoint was rejected
  2  bad input or usage (malformed runbook, unknown option, missing file, bad URL)
  3  runtime error (connection, SQL, lock held by another run)
  4  stopped at a checkpoint awaiting approval

Start with `cutover demo` (a complete cutover on SQLite), then `cutover run --help`.";

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
    /// Seconds to wait for a database server to accept a connection before saying it
    /// did not answer (a refused connection is reported at once).
    #[arg(
        long,
        global = true,
        value_name = "SECS",
        default_value_t = 5.0,
        env = "CUTOVER_CONNECT_TIMEOUT"
    )]
    pub connect_timeout: f64,
    /// Colour in the output: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: style::ColorChoice,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run (or resume) a runbook.
    Run(run::Args),
    /// Approve a checkpoint of the run waiting on it (from any terminal).
    Approve(approve::Args),
    /// Reject a checkpoint: the run stops there.
    Reject(approve::Args),
    /// Show where the latest run (or --run ID) stands and what it waits for.
    Status(status::Args),
    /// List every run of a runbook: start, operator, outcome, duration.
    Runs(runs::Args),
    /// Run the runbook's rollback phases (all, or one with --phase).
    Rollback(rollback::Args),
    /// Release a run lock whose holder is gone (recorded in the ledger with --reason).
    Unlock(unlock::Args),
    /// Verify or export the ledger's hash-chained audit trail.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Back up a database into a new directory: manifest with row counts and content hashes, SHA-256 of every file.
    Backup(backup::Args),
    /// Restore a database from a backup directory, verified first and proven equal after.
    Restore(restore::Args),
    /// Check a runbook (syntax, step kinds, files, ${env:...} variables) without touching any database.
    Validate(validate::Args),
    /// Compare two databases or snapshots: `diff schema` (objects, DDL, generated migration) or `diff data` (rows of a table).
    Diff {
        #[command(subcommand)]
        command: diff::DiffCommand,
    },
    /// Copy tables between databases (binary COPY between PostgreSQL databases, batched INSERTs otherwise); resumable.
    Copy(copy::Args),
    /// Cheap first look: row counts and latest last-updated value per table on both sides.
    SyncCheck(sync_check::Args),
    /// Write the LERG area-code cutover example (SQLite) into a directory and run it.
    Demo(demo::Args),
    /// Capture a database's schema, row counts and fingerprints, or compare with one (drift).
    Snapshot {
        #[command(subcommand)]
        command: snapshot::SnapshotCommand,
    },
    /// Run checks (files under checks/) against databases: every result with expected and actual, as text, JSON, JUnit, GitHub annotations or Markdown.
    Verify(verify::Args),
    /// Start a new runbook: a commented cutover.toml, migrations/, checks/ and a .gitignore.
    Init(init::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(completions::CompletionsArgs),
    /// Print the man page (or write one page per command with --out DIR).
    Man(completions::ManArgs),
    /// Report the hazards of SQL and migration files (drop-table, truncate, delete without WHERE, ...) for CI; exit 1 on an unacknowledged error.
    Lint(lint::Args),
    /// Tick a checklist item pass or fail for the run waiting at it (from any terminal).
    Checklist(checklist::Args),
}

/// The command line with every command's examples in its `--help`.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    examples::with_examples(Cli::command())
}

/// Parse the process's arguments (the examples shown in `--help`).
pub fn try_parse() -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    Cli::from_arg_matches(&command().try_get_matches()?)
}

/// Run a parsed command; returns the process exit code.
pub async fn dispatch(cli: Cli) -> crate::Result<i32> {
    use crate::engine::approval::Decision;
    if !(cli.connect_timeout.is_finite() && cli.connect_timeout > 0.0) {
        return Err(crate::Error::bad_input(format!(
            "--connect-timeout must be a positive number of seconds, not {}",
            cli.connect_timeout
        )));
    }
    crate::db::set_connect_timeout(std::time::Duration::from_secs_f64(cli.connect_timeout));
    style::init(cli.color);
    match cli.command {
        Command::Run(a) => run::run(a).await,
        Command::Approve(a) => approve::run(a, Decision::Approve).await,
        Command::Reject(a) => approve::run(a, Decision::Reject).await,
        Command::Status(a) => status::run(a).await,
        Command::Runs(a) => runs::run(a).await,
        Command::Rollback(a) => rollback::run(a).await,
        Command::Unlock(a) => unlock::run(a).await,
        Command::Audit(c) => audit::run(c).await,
        Command::Backup(a) => backup::run(a).await,
        Command::Restore(a) => restore::run(a).await,
        Command::Validate(a) => validate::run(a).await,
        Command::Diff { command } => diff::run(command).await,
        Command::Copy(a) => copy::run(a).await,
        Command::SyncCheck(a) => sync_check::run(a).await,
        Command::Demo(a) => demo::run(a).await,
        Command::Snapshot { command } => snapshot::run(command).await,
        Command::Verify(a) => verify::run(a).await,
        Command::Init(a) => init::run(a),
        Command::Completions(a) => completions::completions(a),
        Command::Man(a) => completions::man(a),
        Command::Lint(a) => lint::run(a).await,
        Command::Checklist(a) => checklist::run(a).await,
    }
}
