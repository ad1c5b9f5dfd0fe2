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
        /// Only this run's records (its id or first characters, as `cutover runs` lists them).
        #[arg(long, value_name = "ID")]
        run: Option<String>,
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

/// The ledger URL a command names (through its runbook or --ledger), and the runbook's name.
fn ledger_url(t: &Target) -> Result<(String, Option<String>)> {
    let over = common::ledger_override(&t.ledger);
    match (&t.runbook, over) {
        (Some(p), over) => {
            let rb = common::load_runbook_read_only(p)?;
            Ok((Engine::ledger_url(&rb, over.as_deref()), Some(rb.name)))
        }
        (None, Some(url)) => Ok((url, None)),
        (None, None) => Err(Error::bad_input("name a runbook or give --ledger URL")),
    }
}

/// Open the ledger a command names; None when it does not exist (never created here:
/// audit only reads).
async fn open(t: &Target) -> Result<Option<(Ledger, Option<String>)>> {
    let (url, name) = ledger_url(t)?;
    if !Ledger::exists(&url)? {
        return Ok(None);
    }
    Ok(Some((Ledger::open(&url).await?, name)))
}

/// What a read-only command says when there is no ledger to read.
fn no_ledger(t: &Target) -> Result<i32> {
    let (url, _) = ledger_url(t)?;
    say!(
        "no ledger at {}: nothing has been recorded yet, so there is nothing to check or export",
        crate::redact::redact_url(&url)
    );
    Ok(0)
}

pub async fn run(cmd: AuditCommand) -> Result<i32> {
    match cmd {
        AuditCommand::Verify(t) => verify(&t).await,
        AuditCommand::Export {
            target,
            format: ExportFormat::Jsonl,
            out,
            run,
        } => {
            let Some((ledger, runbook)) = open(&target).await? else {
                // Nothing recorded: an empty export (the note goes to stderr so a
                // JSONL consumer reads zero records).
                eprintln!(
                    "no ledger at {}: nothing recorded yet",
                    crate::redact::redact_url(&ledger_url(&target)?.0)
                );
                return Ok(0);
            };
            let records = ledger.records(runbook.as_deref()).await;
            ledger.close().await;
            let records = match (records, &run) {
                (Ok(recs), Some(id)) => {
                    let mut ids: Vec<&str> = recs
                        .iter()
                        .map(|r| r.run_id.as_str())
                        .filter(|r| r.starts_with(id.as_str()))
                        .collect();
                    ids.dedup();
                    ids.sort();
                    ids.dedup();
                    match ids.as_slice() {
                        [one] => {
                            let one = one.to_string();
                            Ok(recs.into_iter().filter(|r| r.run_id == one).collect())
                        }
                        [] => Err(Error::bad_input(format!("no run \"{id}\" in the ledger"))),
                        many => Err(Error::bad_input(format!(
                            "run id \"{id}\" matches {} runs: give more characters",
                            many.len()
                        ))),
                    }
                }
                (r, _) => r,
            };
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
    if !Ledger::exists(&ledger_url(t)?.0)? {
        return no_ledger(t);
    }
    let Some(path) = &t.runbook else {
        let Some((ledger, _)) = open(t).await? else {
            return no_ledger(t);
        };
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
