//! `cutover unlock`: release a run lock whose holder is gone (a process on another
//! host, or one killed on this host whose pid now belongs to another process). The
//! release is recorded in the ledger with who did it and why.

use super::common::{self, LedgerArgs};
use crate::engine::Engine;
use crate::error::Result;
use crate::vocab::EventSink;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Refused while the holder is provably alive on this host: stop that run instead (Ctrl-C
leaves it resumable). A lock held from another host cannot be checked from here: make
sure that run is gone before releasing it.")]
pub struct Args {
    /// The runbook file (TOML) whose targets' locks to release.
    pub runbook: PathBuf,
    /// Why the lock is released (recorded in the ledger).
    #[arg(long)]
    pub reason: String,
    /// Who releases it (default $CUTOVER_OPERATOR or $USER).
    #[arg(long)]
    pub operator: Option<String>,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

pub async fn run(args: Args) -> Result<i32> {
    let rb = common::load_runbook(&args.runbook)?;
    let name = rb.name.clone();
    let engine = Engine::open(
        rb,
        common::ledger_override(&args.ledger).as_deref(),
        EventSink::discard(),
    )
    .await?;
    let by = common::operator(args.operator);
    let result = async {
        engine.verify_ledger().await?;
        engine.unlock(&by, &args.reason).await
    }
    .await;
    engine.close().await;
    let report = result?;
    if report.released.is_empty() {
        say!("runbook \"{name}\": no lock is held; nothing to release.");
    }
    for line in &report.released {
        say!("{line} (recorded in the ledger as released by {by})");
    }
    Ok(0)
}
