//! `cutover copy`: copy tables from one database into another through the fastest
//! path the pair of engines offers (see `steps::copy`). Killed part-way, the same
//! command resumes after the last committed chunk.

use crate::db;
use crate::error::{Result, exit};
use crate::steps::copy::{CopyOptions, copy_tables};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Exit codes: 0 copied, 2 bad input (missing table, incompatible column, a value the destination cannot hold), 3 runtime error.\n\nRe-running the same command after an interruption resumes after the last committed chunk; nothing is copied twice."
)]
pub struct Args {
    /// The source database URL.
    #[arg(long, env = "CUTOVER_SOURCE")]
    pub from: String,
    /// The destination database URL.
    #[arg(long, env = "CUTOVER_TARGET")]
    pub to: String,
    /// Tables to copy (comma-separated), each `name` or `schema.name`.
    #[arg(long, value_delimiter = ',', required = true)]
    pub tables: Vec<String>,
    /// Create a missing destination table from the source table's schema.
    #[arg(long)]
    pub create: bool,
    /// Rows per destination transaction (and per resumable chunk); default 250000 by
    /// binary COPY, 10000 by INSERT.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: Option<u64>,
    /// Keep destination rows with the same key instead of failing on them.
    #[arg(long)]
    pub skip_existing: bool,
    /// Output: text, or json (the copy's evidence per table).
    #[command(flatten)]
    pub output: super::common::FormatArgs,
}

pub async fn run(args: Args) -> Result<i32> {
    let (src, dst) = tokio::try_join!(
        async {
            db::connect(&args.from)
                .await
                .map_err(|e| e.context("source"))
        },
        async {
            db::connect(&args.to)
                .await
                .map_err(|e| e.context("destination"))
        }
    )?;
    // The command line's marks are keyed by the source, so a different copy into the
    // same table never resumes from this one's.
    let step_id = format!(
        "cli-{}",
        &crate::runbook::sha256_hex(src.redacted_url().as_bytes())[..16]
    );
    let opts = CopyOptions {
        tables: args.tables.iter().map(|t| (t.clone(), t.clone())).collect(),
        columns: None,
        create: args.create,
        batch: args.batch,
        skip_conflicts: args.skip_existing,
        run_id: "cutover-copy".into(),
        step_id,
        forget_progress: true,
    };
    let json = args.output.is_json();
    let log = move |m: String| {
        if !json {
            say!("  {m}");
        }
    };
    let copied = copy_tables(&src, &dst, &opts, &log).await?;
    if json {
        say!(
            "{}",
            serde_json::to_string_pretty(&copied).expect("evidence serializes")
        );
    } else {
        for t in &copied {
            say!("✓ {}", t.summary());
        }
    }
    Ok(exit::OK)
}
