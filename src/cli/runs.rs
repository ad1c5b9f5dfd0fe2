//! `cutover runs RUNBOOK`: every run in the ledger, oldest first, with when it started,
//! who ran it, how it ended and how long it took. Look at one with `status --run ID`.

use super::common::{self, LedgerArgs};
use crate::engine::Engine;
use crate::error::Result;
use crate::ledger::{Ledger, RunListing};
use serde::Serialize;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The runbook file (TOML).
    pub runbook: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: super::status::Format,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

/// One run, as listed (JSON field names are stable).
#[derive(Debug, Serialize)]
pub struct RunRow {
    pub run_id: String,
    pub started_at: String,
    pub operator: String,
    /// snake_case, as `status --format json` has it.
    pub status: String,
    pub finished: bool,
    /// From the first record to the last one written.
    pub duration_secs: Option<f64>,
    pub last_record_at: String,
}

/// How a run stands, in the words `status` uses (a standing rejection reads rejected).
fn outcome(rb: &crate::steps::Runbook, l: &RunListing, arg: &str) -> String {
    crate::engine::status::RunStatus::from_state(rb, "", Some(&l.state), arg)
        .status
        .as_str()
        .to_string()
}

fn row(l: &RunListing, status: String) -> RunRow {
    let secs = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    let duration_secs = match (secs(&l.state.started_at), secs(&l.last_at)) {
        (Some(a), Some(b)) => Some((b - a).num_milliseconds() as f64 / 1000.0),
        _ => None,
    };
    RunRow {
        run_id: l.state.run_id.clone(),
        started_at: l.state.started_at.clone(),
        operator: l.state.operator.clone(),
        status,
        finished: l.state.finished,
        duration_secs,
        last_record_at: l.last_at.clone(),
    }
}

fn human_duration(s: Option<f64>) -> String {
    match s {
        None => "?".into(),
        Some(s) if s < 60.0 => format!("{s:.1}s"),
        Some(s) if s < 3600.0 => format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64),
        Some(s) => format!(
            "{}h{:02}m",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        ),
    }
}

pub async fn run(args: Args) -> Result<i32> {
    let rb = common::load_runbook_read_only(&args.runbook)?;
    let url = Engine::ledger_url(&rb, common::ledger_override(&args.ledger).as_deref());
    let rows: Vec<RunRow> = if Ledger::exists(&url)? {
        let ledger = Ledger::open(&url).await?;
        let listed = async {
            ledger.verify_before_acting(&rb.name).await?;
            ledger.runs(&rb.name).await
        }
        .await;
        ledger.close().await;
        let arg = args.runbook.display().to_string();
        listed?
            .iter()
            .map(|l| row(l, outcome(&rb, l, &arg)))
            .collect()
    } else {
        Vec::new()
    };
    match args.format {
        super::status::Format::Json => {
            say!("{}", serde_json::to_string_pretty(&rows).expect("json"))
        }
        super::status::Format::Text => {
            if rows.is_empty() {
                say!("runbook {}: no runs yet", rb.name);
                return Ok(0);
            }
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let started = r
                        .started_at
                        .get(..19)
                        .unwrap_or(&r.started_at)
                        .replace('T', " ");
                    let outcome = r.status.replace('_', " ");
                    let outcome = match r.status.as_str() {
                        "completed" => super::style::good(&outcome),
                        "failed" | "check_failed" | "rejected" => super::style::bad(&outcome),
                        "awaiting_approval" => super::style::wait(&outcome),
                        _ => outcome,
                    };
                    vec![
                        r.run_id[..8.min(r.run_id.len())].to_string(),
                        started,
                        r.operator.clone(),
                        outcome,
                        human_duration(r.duration_secs),
                    ]
                })
                .collect();
            say!(
                "{}",
                super::style::table(
                    0,
                    &["run", "started (UTC)", "operator", "outcome", "duration"],
                    table,
                    &[4]
                )
            );
            say!(
                "{} run(s); look at one with: cutover status {} --run ID",
                rows.len(),
                args.runbook.display()
            );
        }
    }
    Ok(0)
}
