//! `cutover sync-check`: per table, row counts and latest last-updated value on both
//! sides; says which tables are out of step. `--deep` diffs those tables.

use super::diff::ProgressPrinter;
use crate::data::plan::{DiffOptions, build_plan};
use crate::data::reconcile::SampleSink;
use crate::data::sync_check::sync_check_filtered;
use crate::db;
use crate::error::{Result, exit};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Exit codes: 0 every table in step, 1 some out of step, 2 bad input, 3 runtime error."
)]
pub struct Args {
    #[arg(long, env = "CUTOVER_SOURCE")]
    pub source: String,
    #[arg(long, env = "CUTOVER_TARGET")]
    pub target: String,
    /// Tables to check (comma-separated); default every table of the source.
    #[arg(long, value_delimiter = ',')]
    pub tables: Option<Vec<String>>,
    /// The last-updated column (default: updated_at, last_updated, modified_at, ...).
    #[arg(long)]
    pub updated_column: Option<String>,
    /// Count (and diff, with --deep) only the rows of TABLE matching an SQL condition,
    /// on both sides: TABLE=CONDITION, e.g. "orders=created_at >= '2024-01-01'". Repeatable.
    #[arg(long = "where", value_name = "TABLE=CONDITION")]
    pub where_sql: Vec<String>,
    /// Run the data diff on the tables that are out of step.
    #[arg(long)]
    pub deep: bool,
    #[command(flatten)]
    pub output: super::common::FormatArgs,
}

/// `TABLE=CONDITION` pairs; the condition may itself contain `=`.
pub fn table_filters(items: &[String]) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for s in items {
        let (t, c) = s
            .split_once('=')
            .map(|(t, c)| (t.trim(), c.trim()))
            .filter(|(t, c)| !t.is_empty() && !c.is_empty())
            .ok_or_else(|| {
                crate::Error::bad_input(format!(
                    "--where \"{s}\" must be TABLE=CONDITION, e.g. \"orders=created_at >= '2024-01-01'\""
                ))
            })?;
        if out.iter().any(|(x, _)| x == t) {
            return Err(crate::Error::bad_input(format!(
                "--where names table \"{t}\" twice; combine the conditions with AND"
            )));
        }
        out.push((t.to_string(), c.to_string()));
    }
    Ok(out)
}

pub async fn run(args: Args) -> Result<i32> {
    let filters = table_filters(&args.where_sql)?;
    let (source, target) = tokio::try_join!(
        async {
            db::connect(&args.source)
                .await
                .map_err(|e| e.context("source"))
        },
        async {
            db::connect(&args.target)
                .await
                .map_err(|e| e.context("target"))
        }
    )?;
    let started = std::time::Instant::now();
    let checks = sync_check_filtered(
        &source,
        &target,
        args.tables.clone(),
        args.updated_column.clone(),
        &filters,
    )
    .await?;
    let elapsed = started.elapsed();
    let mut deep = Vec::new();
    if args.deep {
        for c in checks.iter().filter(|c| c.status == "out_of_step") {
            let opts = DiffOptions {
                table: c.table.clone(),
                where_sql: c.filter.clone(),
                ..Default::default()
            };
            let plan = build_plan(&source, &target, &opts).await?;
            let pp = ProgressPrinter::new(format!("diff {}", c.table), args.output.is_json());
            let show = |p| pp.show(p);
            let mut sink = SampleSink::new(20);
            let s = crate::data::diff(&source, &target, plan, &mut sink, &show).await;
            pp.done();
            deep.push((s?, sink.samples));
        }
    }
    let all_in_step = checks.iter().all(|c| c.in_step());
    if args.output.is_json() {
        let v = serde_json::json!({
            "in_step": all_in_step,
            "elapsed_ms": elapsed.as_millis() as u64,
            "tables": checks,
            "deep": deep.iter().map(|(s, d)| serde_json::json!({"summary": s, "differences": d})).collect::<Vec<_>>(),
        });
        say!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        let mut rows = Vec::new();
        for c in &checks {
            let n = |x: Option<u64>| x.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
            let latest = match (&c.updated_column, &c.source_latest, &c.target_latest) {
                (Some(col), Some(s), Some(t)) => format!("{col}: {s} / {t}"),
                _ => String::new(),
            };
            let status = c.status.replace('_', " ");
            let status = if c.in_step() {
                super::style::good(&status)
            } else {
                super::style::warn(&status)
            };
            let mut table = c.table.clone();
            if let Some(f) = &c.filter {
                table.push_str(&format!(" (rows where {f})"));
            }
            rows.push(vec![
                table,
                status,
                n(c.source_rows),
                n(c.target_rows),
                latest,
            ]);
        }
        say!(
            "{}",
            super::style::table(
                0,
                &["table", "status", "source", "target", "latest"],
                rows,
                &[2, 3]
            )
        );
        say!(
            "{} of {} tables out of step ({} ms)",
            checks.iter().filter(|c| !c.in_step()).count(),
            checks.len(),
            elapsed.as_millis()
        );
        for (s, _) in &deep {
            super::common::say_text(&crate::data::output::summary_text(s));
        }
    }
    Ok(if all_in_step {
        exit::OK
    } else {
        exit::CHECK_FAILED
    })
}
