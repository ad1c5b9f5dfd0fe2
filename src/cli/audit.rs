use super::common::{self, LedgerArgs};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute the hash chain; name any record edited, deleted or reordered (exit 1 if any).
    Verify(Target),
    /// Write the audit trail (every record with its hashes).
    Export {
        #[command(flatten)]
        target: Target,
        /// Output format (jsonl: one JSON record per line).
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
        /// Write to this file instead of stdout.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
}

#[derive(clap::Args, Debug)]
pub struct Target {
    /// A runbook whose ledger to use (or give --ledger).
    pub runbook: Option<PathBuf>,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum ExportFormat {
    Jsonl,
}

async fn open(t: &Target) -> Result<(Ledger, Option<String>)> {
    let over = common::ledger_override(&t.ledger);
    match (&t.runbook, over) {
        (Some(p), over) => {
            let rb = common::load_runbook(p)?;
            Ok((
                Ledger::open(&Engine::ledger_url(&rb, over.as_deref())).await?,
                Some(rb.name),
            ))
        }
        (None, Some(url)) => Ok((Ledger::open(&url).await?, None)),
        (None, None) => Err(Error::bad_input("name a runbook or give --ledger URL")),
    }
}

pub async fn run(cmd: AuditCommand) -> Result<i32> {
    match cmd {
        AuditCommand::Verify(t) => {
            let (ledger, _) = open(&t).await?;
            let report = ledger.verify().await;
            let signatures = match &t.runbook {
                Some(p) => signature_problems(&ledger, &common::load_runbook(p)?).await?,
                None => Vec::new(),
            };
            let url = ledger.redacted_url().to_string();
            ledger.close().await;
            let report = report?;
            if !signatures.is_empty() {
                println!(
                    "ledger {url}: {} decision(s) whose signature or roster standing fails:",
                    signatures.len()
                );
                for s in &signatures {
                    println!("  {s}");
                }
            }
            if report.ok && signatures.is_empty() {
                println!(
                    "ledger {url}: {} record(s), chain intact (head {})",
                    report.records,
                    report.head_hash.as_deref().map(|h| &h[..16]).unwrap_or("-")
                );
                Ok(0)
            } else {
                println!(
                    "ledger {url}: {} record(s), {} problem(s):",
                    report.records,
                    report.problems.len()
                );
                for p in &report.problems {
                    println!("  {}", p.problem);
                }
                Ok(crate::error::exit::CHECK_FAILED)
            }
        }
        AuditCommand::Export {
            target,
            format: ExportFormat::Jsonl,
            out,
        } => {
            let (ledger, runbook) = open(&target).await?;
            let records = ledger.records(runbook.as_deref()).await;
            ledger.close().await;
            let mut w: Box<dyn Write> = match &out {
                Some(p) => Box::new(
                    std::fs::File::create(p)
                        .map_err(|e| Error::bad_input(format!("{}: {e}", p.display())))?,
                ),
                None => super::common::stdout(),
            };
            for r in records? {
                let mut v = serde_json::to_value(&r).expect("json");
                v["payload"] = r.payload_json();
                writeln!(w, "{}", serde_json::to_string(&v).expect("json"))?;
            }
            Ok(0)
        }
    }
}

/// Every recorded decision of the runbook's runs whose signature does not verify with
/// the roster's key (or that is unsigned where the policy requires signatures).
async fn signature_problems(ledger: &Ledger, rb: &crate::steps::Runbook) -> Result<Vec<String>> {
    let records = ledger.records(Some(&rb.name)).await?;
    let mut runs: Vec<&str> = Vec::new();
    for r in &records {
        if !runs.contains(&r.run_id.as_str()) {
            runs.push(&r.run_id);
        }
    }
    let mut out = Vec::new();
    for run in runs {
        let mine: Vec<crate::ledger::Record> = records
            .iter()
            .filter(|r| r.run_id == run)
            .cloned()
            .collect();
        let state = crate::ledger::RunState::from_records(&mine);
        for (seq, why) in crate::engine::approval::signature_problems(rb, &state) {
            out.push(format!(
                "record #{seq} (run {}): {why}",
                &run[..8.min(run.len())]
            ));
        }
    }
    Ok(out)
}
