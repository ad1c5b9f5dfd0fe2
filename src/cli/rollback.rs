use super::common::{self, LedgerArgs, TargetArgs};
use super::plain::PlainRenderer;
use crate::engine::{Engine, RunOptions};
use crate::error::{Error, Result};
use crate::vocab::EventSink;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The runbook file (TOML).
    pub runbook: PathBuf,
    /// The rollback phase to run (default: an unfinished rollback of the run, else the
    /// policy's `on_failure`, else the only one).
    #[arg(long)]
    pub phase: Option<String>,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Who runs the rollback, as recorded in the ledger (default $CUTOVER_OPERATOR,
    /// $USER, or the login name).
    #[arg(long)]
    pub operator: Option<String>,
    /// At the rollback's approval gate (policy `rollback_requires_approval`), wait for
    /// the approvals instead of exiting 4.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this many seconds (exit 4).
    #[arg(long, value_name = "SECONDS")]
    pub wait_timeout: Option<u64>,
    #[command(flatten)]
    pub targets: TargetArgs,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

pub async fn run(args: Args) -> Result<i32> {
    let rb = common::load_runbook_with(&args.runbook, &args.targets)?;
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::bad_input(
                "rollback changes the target databases: pass --yes to confirm when not at a terminal",
            ));
        }
        say!(
            "Roll back runbook \"{}\" ({}): type the runbook name to confirm:",
            rb.name,
            args.phase
                .as_deref()
                .unwrap_or("the runbook's default rollback phase")
        );
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        if line.trim() != rb.name {
            say!("not confirmed; nothing done.");
            return Ok(crate::error::exit::BAD_INPUT);
        }
    }
    let opts = RunOptions {
        operator: common::operator(args.operator),
        wait: args.wait,
        wait_timeout: args.wait_timeout.map(std::time::Duration::from_secs),
        runbook_arg: args.runbook.display().to_string(),
        ..Default::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let engine = Engine::open(
        rb,
        common::ledger_override(&args.ledger).as_deref(),
        EventSink::new(tx),
    )
    .await?;
    let renderer = tokio::spawn(async move {
        let mut r = PlainRenderer::new();
        while let Some(ev) = rx.recv().await {
            r.render(&ev);
        }
    });
    let result = engine.rollback(args.phase.as_deref(), &opts).await;
    let url = engine.ledger.redacted_url().to_string();
    engine.close().await;
    drop(engine);
    let _ = renderer.await;
    let outcome = result?;
    super::run::report_outcome(&outcome, &opts, &url);
    Ok(outcome.exit_code())
}
