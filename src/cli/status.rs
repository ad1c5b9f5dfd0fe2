use super::common::{self, LedgerArgs};
use crate::engine::Engine;
use crate::engine::status::RunStatus;
use crate::error::Result;
use crate::ledger::Ledger;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The runbook file (TOML).
    pub runbook: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum Format {
    Text,
    Json,
}

pub async fn run(args: Args) -> Result<i32> {
    let rb = common::load_runbook(&args.runbook)?;
    let url = Engine::ledger_url(&rb, common::ledger_override(&args.ledger).as_deref());
    let ledger = Ledger::open(&url).await?;
    if let Err(e) = ledger.verify_before_acting(&rb.name).await {
        ledger.close().await;
        return Err(e);
    }
    let st = RunStatus::load(&rb, &ledger, &args.runbook.display().to_string()).await;
    ledger.close().await;
    let st = st?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&st).expect("json")),
        Format::Text => print_text(&st),
    }
    Ok(0)
}

fn print_text(st: &RunStatus) {
    println!("runbook {} ({})", st.runbook, st.runbook_path);
    println!("ledger  {}", st.ledger);
    match &st.run_id {
        Some(id) => println!(
            "run     {} — {} (operator {}, started {})",
            &id[..8.min(id.len())],
            st.status,
            st.operator.clone().unwrap_or_default(),
            st.started_at.clone().unwrap_or_default()
        ),
        None => println!("run     not started"),
    }
    let mut phase = String::new();
    for s in &st.steps {
        if s.phase != phase {
            phase = s.phase.clone();
            println!("  {}{}", phase, if s.rollback { " (rollback)" } else { "" });
        }
        let detail = s.error.clone().or(s.summary.clone()).unwrap_or_default();
        println!(
            "    {:<18} {:<24} {:<10} {}",
            s.state.label(),
            s.id,
            s.kind,
            detail
        );
    }
    if !st.approvals.is_empty() {
        println!("approvals");
        for a in &st.approvals {
            println!(
                "  {} {} ({}) {} {}{}{}",
                a.at,
                a.approver,
                a.role,
                a.decision,
                a.checkpoint,
                a.comment
                    .as_ref()
                    .map(|c| format!(" \"{c}\""))
                    .unwrap_or_default(),
                if a.stale {
                    " [STALE: runbook or evidence changed since]"
                } else {
                    ""
                }
            );
        }
    }
    if let Some(w) = &st.waiting_for {
        println!(
            "waiting for: checkpoint {} — {} of {} approval(s) from {}",
            w.checkpoint,
            w.approved_by.len(),
            w.required,
            if w.roles.is_empty() {
                "any role".into()
            } else {
                w.roles.join(" or ")
            }
        );
        println!("  {}", w.approve_command);
    }
}
