//! `cutover snapshot capture|compare`: pictures of a database for drift detection.

use crate::db;
use crate::error::exit;
use crate::schema::Filter;
use crate::schema::snapshot::{self, Snapshot};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum SnapshotCommand {
    /// Write the normalized schema, per-table row counts and content fingerprints to a
    /// JSON file (byte-identical for an unchanged database; diffable in git).
    Capture(CaptureArgs),
    /// Compare a snapshot with the database now: exit 0 no drift, 1 drift.
    Compare(CompareArgs),
}

#[derive(clap::Args, Debug)]
pub struct CaptureArgs {
    /// The database URL.
    #[arg(long)]
    pub target: String,
    /// The snapshot file to write (e.g. snapshots/prod.json).
    #[arg(long)]
    pub out: PathBuf,
    /// Only tables whose name matches PATTERN (`*` and `?` wildcards;
    /// repeatable). Default: every table.
    #[arg(long, value_name = "PATTERN")]
    pub include: Vec<String>,
    /// Leave out tables whose name matches PATTERN (`*` and `?`
    /// wildcards; repeatable), e.g. `cutover_*` for cutover's own bookkeeping.
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// The snapshot file.
    pub file: PathBuf,
    /// The database URL.
    #[arg(long)]
    pub target: String,
    #[command(flatten)]
    pub output: super::common::FormatArgs,
}

pub async fn run(cmd: SnapshotCommand) -> crate::Result<i32> {
    match cmd {
        SnapshotCommand::Capture(a) => {
            let d = db::connect(&a.target).await?;
            let snap = Snapshot::capture(&d, &Filter::new(a.include, a.exclude)).await?;
            let hash = snap.write(&a.out)?;
            let rows: u64 = snap.tables.values().map(|t| t.rows).sum();
            say!(
                "{}: snapshot of {} — {} tables, {} views, {rows} rows (sha256 {hash})",
                a.out.display(),
                d.redacted_url(),
                snap.schema.tables.len(),
                snap.schema.views.len()
            );
            d.close().await;
            Ok(exit::OK)
        }
        SnapshotCommand::Compare(a) => {
            let then = Snapshot::read(&a.file)?;
            let d = db::connect(&a.target).await?;
            // the same objects as the snapshot: new tables are drift, cutover's own are not
            let now = Snapshot::capture(&d, &then.filter()).await?;
            d.close().await;
            let drift = snapshot::drift(&then, &now);
            if a.output.is_json() {
                say!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "snapshot": a.file.display().to_string(),
                        "target": crate::redact::redact_url(&a.target),
                        "drift": !drift.is_empty(),
                        "differences": drift.lines(),
                        "schema_changes": drift.schema.changes,
                        "data_changes": drift.data,
                    }))
                    .expect("json")
                );
            } else if drift.is_empty() {
                say!(
                    "{}: no drift — {} matches the snapshot",
                    a.file.display(),
                    crate::redact::redact_url(&a.target)
                );
            } else {
                say!(
                    "{}: DRIFT — {} differs from the snapshot:",
                    a.file.display(),
                    crate::redact::redact_url(&a.target)
                );
                for l in drift.lines() {
                    say!("  {l}");
                }
            }
            Ok(if drift.is_empty() {
                exit::OK
            } else {
                exit::CHECK_FAILED
            })
        }
    }
}
