use super::common::{self, LedgerArgs};
use crate::engine::Engine;
use crate::engine::checklist::{self, TickRequest};
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::steps::checklist::ItemOutcome;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Example:
  cutover checklist runbooks/app.toml --item tech-login --pass --as dana --note \"logged in from the depot\"
  cutover checklist runbooks/app.toml --step go-live --item scanner --fail --as dana --role qa --note \"camera denied on iOS\"

A tick is a ledger record of the run in progress: who, which role, when, pass or fail,
the note, bound to the item's wording. Items are ticked in any order; the latest tick of
an item counts. The run waiting at the checklist (`cutover run --wait`, or the next
`cutover run`) goes on once every item passed, and stops (exit 1) when one failed:
tick it --pass once fixed and run again. Only the roles the checklist takes may tick
(its `roles`, else the policy's checklist_roles, else the policy's roles); with a
roster only the people it lists, in the roles it gives them (--role may then be left
out); with require_signatures = true every tick is signed (--sign-with).")]
pub struct Args {
    /// The runbook file (TOML) of the run waiting at the checklist.
    pub runbook: PathBuf,
    /// The checklist step id (needed only when the runbook has several checklists).
    #[arg(long)]
    pub step: Option<String>,
    /// The item id, as the runbook names it.
    #[arg(long)]
    pub item: String,
    /// The item was checked and holds.
    #[arg(long, conflicts_with = "fail")]
    pub pass: bool,
    /// The item was checked and does not hold: the checklist fails.
    #[arg(long)]
    pub fail: bool,
    /// Your name, as recorded in the ledger.
    #[arg(long = "as", value_name = "NAME")]
    pub by: String,
    /// Your role (one the checklist takes; with a roster, defaults to your role there).
    #[arg(long)]
    pub role: Option<String>,
    /// What you saw.
    #[arg(long)]
    pub note: Option<String>,
    /// Sign the tick with this OpenSSH ed25519 private key (SSHSIG, namespace "cutover").
    #[arg(long, value_name = "PATH")]
    pub sign_with: Option<PathBuf>,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

pub async fn run(args: Args) -> Result<i32> {
    if args.pass == args.fail {
        return Err(Error::bad_input(
            "say whether the item holds: --pass or --fail",
        ));
    }
    let rb = common::load_runbook(&args.runbook)?;
    let url = Engine::ledger_url(&rb, common::ledger_override(&args.ledger).as_deref());
    let ledger = Ledger::open(&url).await?;
    let arg = args.runbook.display().to_string();
    let req = TickRequest {
        step: args.step.as_deref(),
        item: &args.item,
        passed: args.pass,
        by: &args.by,
        role: args.role.as_deref(),
        note: args.note.as_deref(),
        via: "cli",
        runbook_arg: &arg,
        sign_with: args.sign_with.as_deref(),
    };
    let ticked = checklist::record_tick(&ledger, &rb, &req).await;
    ledger.close().await;
    let ticked = ticked?;
    let c = &ticked.checklist;
    say!(
        "{} ({}) ticked \"{}\" {} on checklist \"{}\"{}",
        args.by.trim(),
        ticked.role,
        args.item,
        if args.pass { "pass" } else { "fail" },
        ticked.step,
        if args.sign_with.is_some() {
            " (signed)"
        } else {
            ""
        }
    );
    say!(
        "{} of {} item(s) passed, {} failed, {} open",
        c.passed,
        c.items.len(),
        c.failed,
        c.pending
    );
    for i in c.items.iter().filter(|i| i.outcome == ItemOutcome::Pending) {
        say!("  [ ] {}: {}", i.id, i.text);
    }
    if c.failed > 0 {
        say!(
            "the checklist fails: the run stops there (exit 1) until the failed item is ticked --pass."
        );
    } else if c.pending == 0 {
        say!(
            "every item passed: the run continues (a waiting run picks this up; otherwise `cutover run {arg}`)."
        );
    }
    Ok(0)
}
