use super::common::{self, LedgerArgs};
use crate::engine::Engine;
use crate::engine::approval::{self, Decision, DecisionRequest};
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Rules that cannot be bypassed: the operator who started the run cannot approve its
checkpoints (names compare ignoring case, spaces and Unicode forms; unless the policy sets
allow_self_approval); only the policy's roles count; with a roster ([policy.roster] or
roster = \"FILE\") only the people it lists, in the roles it gives them; with
require_signatures = true every decision is signed (--sign-with) by the key the roster
lists. An approval binds to the evidence hash: the runbook's content, every earlier step's
result, and the content of every file the steps up to the next checkpoint read
(migrations, SQL, query files, snapshots) and of the roster file; if any changes, the
approval goes stale and `cutover status` names what changed.

A rejection stands until the evidence changes or it is withdrawn:
  cutover approve RUNBOOK --checkpoint ID --as NAME --role ROLE --withdraw-rejection
by the person who rejected (or someone with a role the policy lists in
withdraw_rejection_roles). Or start over with `cutover run RUNBOOK --new`.")]
pub struct Args {
    /// The runbook file (TOML) of the run waiting at the checkpoint.
    pub runbook: PathBuf,
    /// The checkpoint step id, or `rollback:PHASE` for a rollback's approval gate.
    #[arg(long)]
    pub checkpoint: String,
    /// Your name, as recorded in the ledger.
    #[arg(long = "as", value_name = "NAME")]
    pub approver: String,
    /// Your role (must be one the policy accepts, e.g. dba).
    #[arg(long)]
    pub role: String,
    /// Why you decided so.
    #[arg(long)]
    pub comment: Option<String>,
    /// Sign the decision with this OpenSSH ed25519 private key (SSHSIG, namespace
    /// "cutover"; `ssh-keygen -Y verify` checks it against the roster's public key).
    #[arg(long, value_name = "PATH")]
    pub sign_with: Option<PathBuf>,
    /// Withdraw a standing rejection instead of approving (yours, or anyone's when the
    /// policy's withdraw_rejection_roles has your role).
    #[arg(long)]
    pub withdraw_rejection: bool,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

pub async fn run(args: Args, decision: Decision) -> Result<i32> {
    let decision = match (decision, args.withdraw_rejection) {
        (Decision::Approve, true) => Decision::Withdraw,
        (Decision::Reject, true) => {
            return Err(Error::bad_input(
                "--withdraw-rejection goes with `cutover approve`, not `cutover reject`",
            ));
        }
        (d, _) => d,
    };
    let rb = common::load_runbook(&args.runbook)?;
    let url = Engine::ledger_url(&rb, common::ledger_override(&args.ledger).as_deref());
    let ledger = Ledger::open(&url).await?;
    let arg = args.runbook.display().to_string();
    let req = DecisionRequest {
        checkpoint: &args.checkpoint,
        approver: &args.approver,
        role: &args.role,
        decision,
        comment: args.comment.as_deref(),
        via: "cli",
        runbook_arg: &arg,
        sign_with: args.sign_with.as_deref(),
    };
    let need = if args
        .checkpoint
        .starts_with(crate::engine::rollback_gate::PREFIX)
    {
        crate::engine::rollback_gate::record_decision(&ledger, &rb, &req).await
    } else {
        approval::record_decision(&ledger, &rb, &req).await
    };
    ledger.close().await;
    let need = need?;
    let verb = match decision {
        Decision::Approve => "approved",
        Decision::Reject => "rejected",
        Decision::Withdraw => "withdrew the rejection of",
    };
    say!(
        "{} ({}) {verb} checkpoint \"{}\" of runbook \"{}\"; evidence sha256 {}{}",
        args.approver,
        args.role,
        args.checkpoint,
        rb.name,
        need.evidence_hash,
        if args.sign_with.is_some() {
            " (signed)"
        } else {
            ""
        }
    );
    if let Some(r) = &need.rejection {
        say!(
            "{}the rejection by {} ({}){} stands: the run stays stopped at this checkpoint (exit 1).",
            if decision == Decision::Approve {
                "your approval is recorded, but "
            } else {
                ""
            },
            r.by,
            r.role,
            r.comment
                .as_ref()
                .map(|c| format!(": \"{c}\""))
                .unwrap_or_default()
        );
        say!("to go on:");
        for m in &r.remedies {
            say!("  {m}");
        }
        return Ok(0);
    }
    let have = need.approved_by.len() as u32;
    if have >= need.required {
        say!(
            "policy met ({have} of {} approvals): the run continues (a waiting run picks this up; otherwise `cutover run {arg}`).",
            need.required
        )
    } else {
        say!(
            "{have} of {} approvals so far (roles: {}); more are required.",
            need.required,
            if need.roles.is_empty() {
                "any".into()
            } else {
                need.roles.join(", ")
            }
        )
    }
    Ok(0)
}
