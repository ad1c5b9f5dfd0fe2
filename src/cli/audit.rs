use super::common::{self, LedgerArgs};
use crate::engine::Engine;
use crate::error::{Error, Result, exit};
use crate::ledger::Ledger;
use crate::vocab::EventSink;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute the hash chain and cross-check it with the anchors the runbook's targets
    /// hold; name any record edited, deleted or reordered, and a ledger truncated, wiped
    /// or replaced by an older copy (exit 1 if any; 3 if a target could not be checked).
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
        AuditCommand::Verify(t) => verify(&t).await,
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

/// The full report: every chain problem, then every anchor a reachable target holds
/// that the ledger does not match, then every decision whose signature or roster
/// standing fails; targets that could not be read are named as not checked (never as
/// fine).
async fn verify(t: &Target) -> Result<i32> {
    let over = common::ledger_override(&t.ledger);
    let Some(path) = &t.runbook else {
        let (ledger, _) = open(t).await?;
        let report = ledger.verify().await;
        let url = ledger.redacted_url().to_string();
        ledger.close().await;
        let report = report?;
        print_chain(&url, &report, &[]);
        if report.ok {
            say!("anchors not checked: no runbook named, so no targets to read them from");
        }
        return Ok(if report.ok { 0 } else { exit::CHECK_FAILED });
    };
    let rb = common::load_runbook(path)?;
    let engine = Engine::open(rb, over.as_deref(), EventSink::discard()).await?;
    let result = async {
        let report = engine.ledger.verify().await?;
        let mut held = Vec::new();
        let mut unchecked = Vec::new();
        for name in engine.written_targets() {
            match engine.held_anchors(std::slice::from_ref(&name)).await {
                Ok(mut h) => held.append(&mut h),
                Err(e) => unchecked.push(format!("target \"{name}\": {e}")),
            }
        }
        let anchor_problems = engine
            .ledger
            .anchor_problems(&engine.runbook.name, &held)
            .await?;
        let signatures = signature_problems(&engine.ledger, &engine.runbook).await?;
        Ok::<_, Error>((report, held, unchecked, anchor_problems, signatures))
    }
    .await;
    let url = engine.ledger.redacted_url().to_string();
    engine.close().await;
    let (report, held, unchecked, anchor_problems, signatures) = result?;
    if !signatures.is_empty() {
        say!(
            "ledger {url}: {} decision(s) whose signature or roster standing fails:",
            signatures.len()
        );
        for s in &signatures {
            say!("  {s}");
        }
    }
    print_chain(&url, &report, &anchor_problems);
    for h in &held {
        let runs: std::collections::BTreeSet<&str> =
            h.anchors.iter().map(|a| a.anchor.run_id.as_str()).collect();
        say!(
            "anchors: {}: {} anchor(s) of {} run(s){}",
            h.label,
            h.anchors.len(),
            runs.len(),
            if anchor_problems.iter().any(|p| p.starts_with(&h.label)) {
                ", NOT matched by the ledger (above)"
            } else {
                ", every run's newest anchor matches the ledger"
            }
        );
    }
    for u in &unchecked {
        say!("anchors NOT checked: {u}");
    }
    Ok(
        if !report.ok || !anchor_problems.is_empty() || !signatures.is_empty() {
            exit::CHECK_FAILED
        } else if !unchecked.is_empty() {
            exit::RUNTIME
        } else {
            exit::OK
        },
    )
}

fn print_chain(url: &str, report: &crate::ledger::VerifyReport, anchor_problems: &[String]) {
    let n = report.problems.len() + anchor_problems.len();
    if n == 0 {
        say!(
            "ledger {url}: {} record(s), chain intact (head {})",
            report.records,
            report.head_hash.as_deref().map(|h| &h[..16]).unwrap_or("-")
        );
        return;
    }
    say!(
        "ledger {url}: {} record(s), {n} problem(s):",
        report.records
    );
    for p in &report.problems {
        say!("  {}", p.problem);
    }
    for p in anchor_problems {
        say!("  {p}");
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
