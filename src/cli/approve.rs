use super::common::{self, LedgerArgs};
use crate::engine::Engine;
use crate::engine::approval::{self, Decision, DecisionRequest};
use crate::error::Result;
use crate::ledger::Ledger;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Rules that cannot be bypassed: the operator who started the run cannot approve its
checkpoints (unless the policy sets allow_self_approval); only the policy's roles count;
an approval binds to the evidence hash (the runbook's content and every earlier step's
result), so it goes stale if either changes.")]
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
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

pub async fn run(args: Args, decision: Decision) -> Result<i32> {
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
    };
    say!(
        "{} ({}) {verb} checkpoint \"{}\" of runbook \"{}\"; evidence sha256 {}",
        args.approver,
        args.role,
        args.checkpoint,
        rb.name,
        need.evidence_hash
    );
    match decision {
        Decision::Reject => {
            say!("the run will stop at this checkpoint (exit 1) until the evidence changes.")
        }
        Decision::Approve if need.approved_by.len() as u32 >= need.required => {
            say!(
                "policy met ({} of {} approvals): the run continues (a waiting run picks this up; otherwise `cutover run {arg}`).",
                need.approved_by.len(),
                need.required
            )
        }
        Decision::Approve => say!(
            "{} of {} approvals so far (roles: {}); more are required.",
            need.approved_by.len(),
            need.required,
            if need.roles.is_empty() {
                "any".into()
            } else {
                need.roles.join(", ")
            }
        ),
    }
    Ok(0)
}
