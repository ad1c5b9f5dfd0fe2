//! `cutover diff data`: every row only in the source, only in the target, or changed.

use super::diff::ProgressPrinter;
use crate::data::apply::apply_each;
use crate::data::diff::{DiffSink, Difference};
use crate::data::normalize::Class;
use crate::data::output::{Format, Printer};
use crate::data::plan::{DiffOptions, Plan, Strategy, build_plan};
use crate::data::reconcile::SampleSink;
use crate::data::spool::{Spool, SpoolSink};
use crate::db;
use crate::error::{Error, Result, exit};
use rust_decimal::Decimal;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::str::FromStr;

#[derive(clap::Args, Debug, Clone)]
#[command(
    after_help = "Exit codes: 0 equal, 1 different, 2 bad input, 3 runtime error.\n\
With --apply: 0 when the target is equal afterwards."
)]
pub struct Args {
    /// Source database URL (sqlite://FILE, postgres://..., mysql://...).
    #[arg(long, env = "CUTOVER_SOURCE")]
    pub source: String,
    /// Target database URL.
    #[arg(long, env = "CUTOVER_TARGET")]
    pub target: String,
    /// Table to compare (schema.table allowed).
    #[arg(long)]
    pub table: String,
    /// Table name on the target when it differs.
    #[arg(long)]
    pub target_table: Option<String>,
    /// Key columns (comma-separated); default the primary key; none: multiset compare.
    #[arg(long, value_delimiter = ',')]
    pub key: Option<Vec<String>>,
    /// Columns to compare besides the key (comma-separated); default all common columns.
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// SQL filter applied on both sides, e.g. "created_at >= '2024-01-01'".
    #[arg(long = "where")]
    pub where_sql: Option<String>,
    /// Allowed absolute difference for a column: COL=0.001 (seconds for timestamps). Repeatable.
    #[arg(long, value_name = "COL=VALUE")]
    pub tolerance: Vec<String>,
    /// Compare a column as this kind when the two types differ: COL=text|int|decimal|float|bool|bytes|date|time|timestamp|uuid|json.
    #[arg(long, value_name = "COL=KIND")]
    pub compare_as: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Show at most N differences (the summary counts all). Default 100 for text and json.
    #[arg(long)]
    pub limit: Option<u64>,
    /// Write the INSERT/UPDATE/DELETE statements that make the target equal to the source.
    #[arg(long, value_name = "FILE")]
    pub emit_sql: Option<PathBuf>,
    /// Apply those statements to the target (one transaction), then diff again.
    #[arg(long)]
    pub apply: bool,
    /// With --apply: commit per batch (resume by running the same command again).
    #[arg(long, requires = "apply")]
    pub batch_commit: bool,
    /// Statements per batch.
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Apply without asking (required when stdout is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Force a strategy (default: automatic).
    #[arg(long, value_parser = ["auto", "buckets", "merge"], default_value = "auto")]
    pub strategy: String,
    /// Ledger that records what --apply applied (default: .cutover/ledger.db here).
    #[arg(long, env = "CUTOVER_LEDGER")]
    pub ledger: Option<String>,
    /// Do not record --apply in a ledger.
    #[arg(long)]
    pub no_ledger: bool,
    /// No progress output.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn pairs(items: &[String], what: &str) -> Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                .filter(|(a, b)| !a.is_empty() && !b.is_empty())
                .ok_or_else(|| Error::bad_input(format!("{what} \"{s}\" must be COLUMN=VALUE")))
        })
        .collect()
}

impl Args {
    pub fn options(&self) -> Result<DiffOptions> {
        let tolerance = pairs(&self.tolerance, "--tolerance")?
            .into_iter()
            .map(|(c, v)| {
                Decimal::from_str(&v)
                    .or_else(|_| Decimal::from_scientific(&v))
                    .map(|d| (c.clone(), d.abs()))
                    .map_err(|_| {
                        Error::bad_input(format!("--tolerance {c}={v}: \"{v}\" is not a number"))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let compare_as = pairs(&self.compare_as, "--compare-as")?
            .into_iter()
            .map(|(c, v)| {
                Class::parse(&v).map(|k| (c.clone(), k)).ok_or_else(|| {
                    Error::bad_input(format!(
                        "--compare-as {c}={v}: unknown kind; use text, int, decimal, float, bool, bytes, date, time, timestamp, uuid or json"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DiffOptions {
            table: self.table.clone(),
            target_table: self.target_table.clone(),
            key: self.key.clone(),
            columns: self.columns.clone(),
            where_sql: self.where_sql.clone(),
            tolerance,
            compare_as,
            strategy: match self.strategy.as_str() {
                "buckets" => Some(Strategy::Buckets),
                "merge" => Some(Strategy::Merge),
                _ => None,
            },
        })
    }
}

/// Prints and spools statements at once.
struct Tee {
    printer: Printer,
    /// `--emit-sql` and/or `--apply`: the statements, written to a file as they come.
    spool: Option<SpoolSink>,
}
impl DiffSink for Tee {
    fn difference(&mut self, plan: &Plan, d: Difference) -> Result<()> {
        if let Some(s) = &mut self.spool {
            s.difference(plan, d.clone())?;
        }
        self.printer.difference(plan, d)
    }
}

fn confirm(n: usize, target: &str) -> Result<bool> {
    use std::io::Write;
    eprint!("apply {n} statements to {target}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

pub async fn run(args: Args) -> Result<i32> {
    if args.apply && !args.yes && !std::io::stdout().is_terminal() {
        return Err(Error::bad_input(
            "refusing to --apply without --yes: stdout is not a terminal, so nobody can confirm",
        )
        .with_hint("review with --emit-sql FILE first, then run again with --apply --yes"));
    }
    let opts = args.options()?;
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
    let plan = build_plan(&source, &target, &opts).await?;
    let limit = args.limit.or(match args.format {
        Format::Text | Format::Json => Some(100),
        _ => None,
    });
    let pp = std::sync::Arc::new(ProgressPrinter::new(
        format!("diff {}", args.table),
        args.quiet,
    ));
    let mut sink = Tee {
        printer: Printer::new(
            args.format,
            limit,
            pp.below(if args.format == Format::Text {
                super::style::data_diff_lines(super::common::stdout())
            } else {
                super::common::stdout()
            }),
        ),
        // beside the script when there is one, else in the OS temp dir
        spool: match (&args.emit_sql, args.apply) {
            (Some(path), _) => Some(SpoolSink::new(target.dialect(), Spool::beside(path)?)),
            (None, true) => Some(SpoolSink::new(target.dialect(), Spool::temp())),
            (None, false) => None,
        },
    };
    let show = |p| pp.show(p);
    let result = crate::data::diff(&source, &target, plan, &mut sink, &show).await;
    pp.done();
    let summary = result?;
    let mut spooled = sink.spool.take();
    let n = match &mut spooled {
        Some(s) => {
            s.spool.seal()?;
            s.spool.len()
        }
        None => 0,
    };

    if let (Some(path), Some(s)) = (&args.emit_sql, &mut spooled) {
        s.spool
            .write_script(&emit_header(&source, &target, &summary, n as usize), path)?;
        if !args.quiet {
            eprintln!("wrote {n} statements to {}", path.display());
        }
    }

    let Some(spooled) = spooled.filter(|_| args.apply && n > 0) else {
        sink.printer.finish(&summary, serde_json::Value::Null)?;
        return Ok(if summary.equal() {
            exit::OK
        } else {
            exit::CHECK_FAILED
        });
    };

    if !args.yes && !confirm(n as usize, target.redacted_url())? {
        sink.printer.finish(&summary, serde_json::Value::Null)?;
        eprintln!("not applied");
        return Ok(exit::CHECK_FAILED);
    }
    // statements by kind: an INSERT per row only in the source (duplicates included),
    // an UPDATE per changed row, a DELETE per row (or multiset group) only in the target
    let (inserts, updates) = (spooled.counts.inserts, spooled.counts.updates);
    let deletes = n - inserts - updates;
    let statements = spooled.spool.read()?;
    let applied = apply_each(&target, statements, args.batch_size, args.batch_commit).await?;
    drop(spooled);
    let plan = build_plan(&source, &target, &opts).await?;
    let pp2 = ProgressPrinter::new(format!("re-diff {}", args.table), args.quiet);
    let show2 = |p| pp2.show(p);
    let after = crate::data::diff(&source, &target, plan, &mut SampleSink::new(0), &show2).await;
    pp2.done();
    let after = after?;
    let evidence = serde_json::json!({
        "statements": applied.statements,
        "batches": applied.batches,
        "batch_commit": applied.batch_commit,
        "rows_affected": applied.rows_affected,
        "equal_after": after.equal(),
    });
    let ledger_note = if args.no_ledger {
        None
    } else {
        use crate::ledger::{DataApplied, DataAppliedBefore, DataAppliedStatements, Entry};
        let record: Entry = Entry::DataApplied(DataApplied {
            source: source.redacted_url().to_string(),
            target: target.redacted_url().to_string(),
            table: summary.source_table.clone(),
            target_table: summary.target_table.clone(),
            inserts,
            updates,
            deletes,
            applied: DataAppliedStatements {
                statements: applied.statements,
                batches: applied.batches,
                rows_affected: applied.rows_affected,
                batch_commit: applied.batch_commit,
            },
            before: DataAppliedBefore {
                only_in_source: summary.only_in_source,
                only_in_target: summary.only_in_target,
                changed: summary.changed,
            },
            equal_after: after.equal(),
            operator: std::env::var("USER").unwrap_or_default(),
        });
        Some(record_in_ledger(args.ledger.as_deref(), &record).await)
    };
    sink.printer.finish(&summary, evidence)?;
    match ledger_note {
        Some(Ok(where_)) if !args.quiet => eprintln!("recorded in the ledger {where_}"),
        Some(Err(e)) => eprintln!("warning: applied, but not recorded in the ledger: {e}"),
        _ => {}
    }
    if !args.quiet || args.format == Format::Text {
        eprintln!(
            "applied {} statements to {}; re-diff: {}",
            applied.statements,
            target.redacted_url(),
            if after.equal() {
                "equal".to_string()
            } else {
                format!("still {} differences", after.differences())
            }
        );
    }
    Ok(if after.equal() {
        exit::OK
    } else {
        exit::CHECK_FAILED
    })
}

/// The comment at the top of an `--emit-sql` script.
fn emit_header(
    source: &db::Db,
    target: &db::Db,
    summary: &crate::data::Summary,
    statements: usize,
) -> String {
    format!(
        "cutover diff data: make {} ({}) equal to {} ({})\n{} statements; only in source {}, only in target {}, changed {}",
        target.redacted_url(),
        summary.target_table,
        source.redacted_url(),
        summary.source_table,
        statements,
        summary.only_in_source,
        summary.only_in_target,
        summary.changed
    )
}

/// Append a `data_applied` record to the ledger; returns where it went.
async fn record_in_ledger(url: Option<&str>, entry: &crate::ledger::Entry) -> Result<String> {
    let url = match url {
        Some(u) => u.to_string(),
        None => crate::ledger::Ledger::default_url(&std::env::current_dir()?),
    };
    let ledger = crate::ledger::Ledger::open(&url).await?;
    let run_id = uuid::Uuid::new_v4().to_string();
    let rec = ledger
        .append_entry("cutover diff data", &run_id, None, entry)
        .await;
    let where_ = ledger.redacted_url().to_string();
    ledger.close().await;
    rec.map(|r| format!("{where_} (record {})", r.seq))
}
