use super::common::{self, LedgerArgs, TargetArgs};
use super::plain::PlainRenderer;
use crate::engine::{Engine, RunOptions, RunOutcome, SessionEnd};
use crate::error::{Error, Result};
use crate::vocab::EventSink;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Resuming: run the same command again after a crash, kill, Ctrl-C or a fixed failure;
the run continues at the first step not completed and never repeats a completed step.

Checkpoints: without the approvals the policy requires, a headless run stops with
exit code 4 and prints the `cutover approve` command to run; run again once they are
recorded. With --wait it waits for them instead.

Exit codes: 0 complete, 1 check failed or checkpoint rejected, 2 bad input,
3 runtime error, 4 stopped at a checkpoint awaiting approval.")]
pub struct Args {
    /// The runbook file (TOML).
    pub runbook: PathBuf,
    /// Plain progress lines instead of the terminal UI; never prompts.
    #[arg(long)]
    pub headless: bool,
    /// At a checkpoint, wait for approvals (given with `cutover approve` elsewhere) instead of exiting 4.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this many seconds (exit 4).
    #[arg(long, value_name = "SECONDS")]
    pub wait_timeout: Option<u64>,
    /// Approve each checkpoint as NAME:ROLE (marked in the ledger as given on the command
    /// line). Repeat it, or separate with commas, to give several identities: at each
    /// checkpoint those holding a role it accepts approve, up to the number it requires
    /// (e.g. --approve-as dana:dba --approve-as quinn:qa).
    #[arg(long, value_name = "NAME:ROLE", value_delimiter = ',')]
    pub approve_as: Vec<String>,
    /// Who is running this (default $CUTOVER_OPERATOR or $USER). The operator cannot approve its own run.
    #[arg(long)]
    pub operator: Option<String>,
    /// Start a new run instead of resuming the last one. If the last run is unfinished,
    /// --abandon REASON is required (recorded in its ledger); its backups are kept.
    #[arg(long)]
    pub new: bool,
    /// With --new: give up the unfinished last run, for this reason (recorded in the ledger).
    #[arg(long, value_name = "REASON", requires = "new")]
    pub abandon: Option<String>,
    #[command(flatten)]
    pub targets: TargetArgs,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

pub fn parse_approve_as(s: &str) -> Result<(String, String)> {
    match s.split_once(':') {
        Some((n, r)) if !n.trim().is_empty() && !r.trim().is_empty() => {
            Ok((n.trim().to_string(), r.trim().to_string()))
        }
        _ => Err(Error::bad_input(format!(
            "--approve-as expects NAME:ROLE (e.g. dana:dba), got \"{s}\""
        ))),
    }
}

/// Every `--approve-as` value, in the order given.
pub fn parse_approve_as_all(values: &[String]) -> Result<Vec<(String, String)>> {
    values.iter().map(|v| parse_approve_as(v)).collect()
}

pub async fn run(args: Args) -> Result<i32> {
    let rb = common::load_runbook_with(&args.runbook, &args.targets)?;
    let opts = RunOptions {
        operator: common::operator(args.operator.clone()),
        wait: args.wait,
        wait_timeout: args.wait_timeout.map(Duration::from_secs),
        approve_as: parse_approve_as_all(&args.approve_as)?,
        new_run: args.new,
        abandon: args.abandon.clone(),
        runbook_arg: args.runbook.display().to_string(),
        demo_ticks: false,
    };
    let ledger = common::ledger_override(&args.ledger);
    if !args.headless && common::is_terminal_stdout() {
        let end = crate::tui::driver::run(rb, ledger.as_deref(), opts.clone()).await?;
        return Ok(report_session(end, &opts));
    }
    drive(rb, ledger.as_deref(), opts).await
}

/// Print how a terminal-UI session ended and return the exit code.
pub fn report_session(end: crate::tui::driver::TuiEnd, opts: &RunOptions) -> i32 {
    match end.end {
        SessionEnd::Finished(outcome) => {
            report_outcome(&outcome, opts, &end.ledger_url);
            outcome.exit_code()
        }
        SessionEnd::Interrupted => {
            say!(
                "stopped: the run is recorded in the ledger; `cutover run {}` resumes it.",
                opts.runbook_arg
            );
            130
        }
    }
}

/// Run a runbook with the plain renderer; handles Ctrl-C (the run stays resumable).
pub async fn drive(
    rb: crate::steps::Runbook,
    ledger: Option<&str>,
    opts: RunOptions,
) -> Result<i32> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let engine = Engine::open(rb, ledger, EventSink::new(tx)).await?;
    say!("cutover: ledger {}", engine.ledger.redacted_url());
    let renderer = tokio::spawn(async move {
        let mut r = PlainRenderer::new();
        while let Some(ev) = rx.recv().await {
            r.render(&ev);
        }
    });
    let result = tokio::select! {
        r = engine.run(&opts) => r,
        _ = tokio::signal::ctrl_c() => {
            engine.interrupted(&opts).await;
            eprintln!("\ninterrupted: the run is recorded in the ledger; run the same command again to resume");
            engine.close().await;
            return Ok(130);
        }
    };
    let ledger_url = engine.ledger.redacted_url().to_string();
    engine.close().await;
    drop(engine);
    let _ = renderer.await;
    let outcome = result?;
    report_outcome(&outcome, &opts, &ledger_url);
    Ok(outcome.exit_code())
}

pub fn report_outcome(outcome: &RunOutcome, opts: &RunOptions, ledger_url: &str) {
    let ledger_flag = if ledger_url.contains("/.cutover/ledger.db") {
        String::new()
    } else {
        format!(" --ledger '{ledger_url}'")
    };
    match outcome {
        RunOutcome::Completed { run_id } => say!("run {} complete.", short(run_id)),
        RunOutcome::AlreadyComplete { run_id } => {
            say!(
                "run {} of this runbook already completed; nothing to do (use --new to start another run).",
                short(run_id)
            )
        }
        RunOutcome::RolledBack { run_id } => say!("run {} rolled back.", short(run_id)),
        RunOutcome::AwaitingApproval { need, .. } => {
            say!(
                "stopped at checkpoint \"{}\": {} of {} approval(s).",
                need.checkpoint,
                need.approved_by.len(),
                need.required
            );
            say!(
                "approve from any terminal with:\n  {}{ledger_flag}",
                need.approve_command
            );
            if need
                .checkpoint
                .starts_with(crate::engine::rollback_gate::PREFIX)
            {
                say!(
                    "then continue the rollback with:\n  cutover rollback {} --yes{ledger_flag}",
                    opts.runbook_arg
                );
            } else {
                say!(
                    "then continue with:\n  cutover run {} --headless{ledger_flag}",
                    opts.runbook_arg
                );
            }
        }
        RunOutcome::AwaitingChecklist { step, pending, .. } => {
            say!(
                "stopped at checklist \"{step}\": {} item(s) not ticked yet:",
                pending.len()
            );
            for (id, text) in pending {
                say!("  [ ] {id}: {text}");
            }
            say!("tick each from any terminal (or the TUI) with:");
            say!(
                "  cutover checklist {} --step {step} --item ID --pass --as NAME [--role ROLE] [--note \"...\"]{ledger_flag}",
                opts.runbook_arg
            );
            say!(
                "  (--fail instead of --pass stops the run there)\nthen continue with:\n  cutover run {} --headless{ledger_flag}",
                opts.runbook_arg
            );
        }
        RunOutcome::CheckFailed { step, message, .. } => {
            eprintln!(
                "run stopped: step \"{step}\": {}",
                crate::redact::scrub(message)
            )
        }
        RunOutcome::Rejected {
            checkpoint,
            by,
            comment,
            ..
        } => {
            eprintln!(
                "run stopped: checkpoint \"{checkpoint}\" was rejected by {by}{}",
                comment
                    .as_ref()
                    .map(|c| format!(": \"{c}\""))
                    .unwrap_or_default()
            );
            eprintln!(
                "the rejection stands until {by} withdraws it:\n  cutover approve {arg} --checkpoint {checkpoint} --as {by} --role ROLE --withdraw-rejection\nor the evidence changes (fix what was rejected and run again), or you start a new run, leaving this one behind:\n  cutover run {arg} --new --abandon \"REASON\"",
                arg = opts.runbook_arg
            );
        }
        RunOutcome::Failed { step, error, .. } => {
            eprintln!(
                "run stopped: step \"{step}\" failed:\n  {}",
                crate::redact::scrub(&error.to_string())
            );
            eprintln!(
                "fix the cause and run the same command again: completed steps are not repeated."
            );
        }
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}
