//! `cutover diff schema --source URL|SNAPSHOT --target URL|SNAPSHOT`

use crate::error::exit;
use crate::schema::{self, Filter, PlanOptions, report};

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A reviewer's summary followed by a unified diff of normalized DDL.
    Text,
    /// Stable JSON (format "cutover-schema-diff", version 1; see docs/schema.md).
    Json,
    /// The DDL, in the target's dialect, that brings the target to the source.
    Sql,
}

#[derive(clap::Args, Debug)]
#[command(after_help = concat!(
    "Exit codes: 0 equal, 1 different, 2 bad input, 3 connection or runtime error.\n",
    "With --format sql, writing a plan is not a failure: exit 0 whether or not there\n",
    "are differences (like `git diff`), so `diff schema --format sql > plan.sql` runs in\n",
    "`set -e` scripts; add --exit-code to exit 1 when there are.\n\n",
    "Hazard codes (--allow-hazards): drop-table, drop-column, narrow-type,\n",
    "not-null-without-default, drop-fk-index, generated-to-plain, plain-to-generated,\n",
    "enum-label-removed, table-rewrite. Hazardous statements are\n",
    "emitted commented out unless their codes are allowed."
))]
pub struct Args {
    /// The schema wanted (e.g. staging): a database URL or a snapshot file.
    #[arg(long)]
    pub source: String,
    /// The schema that is (e.g. production): a database URL or a snapshot file.
    #[arg(long)]
    pub target: String,
    /// Only objects whose name matches (glob: `*`, `?`); repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub include: Vec<String>,
    /// Leave out objects whose name matches (glob); repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Hazard codes whose statements are emitted live rather than commented out.
    #[arg(long, value_delimiter = ',', value_name = "CODE,...")]
    pub allow_hazards: Vec<String>,
    /// A table with at least this many rows makes a rewrite a `table-rewrite` hazard.
    #[arg(long, default_value_t = schema::migrate::DEFAULT_LARGE_TABLE_ROWS, value_name = "N")]
    pub large_table_rows: u64,
    /// With --format sql: exit 1 when the schemas differ (text and json always do).
    #[arg(long)]
    pub exit_code: bool,
}

pub async fn run(args: Args) -> crate::Result<i32> {
    let allow = schema::parse_hazard_codes(&args.allow_hazards)?;
    let filter = Filter::new(args.include.clone(), args.exclude.clone());
    let (source, target) = tokio::try_join!(
        schema::load(&args.source, &filter),
        schema::load(&args.target, &filter)
    )?;
    let opts = PlanOptions {
        large_table_rows: args.large_table_rows,
    };
    let cmp = schema::compare(source, target, &opts).await?;
    match args.format {
        Format::Text => {
            super::common::say_text(&super::style::unified_diff(&report::text(&cmp, &allow)))
        }
        Format::Json => say!(
            "{}",
            serde_json::to_string_pretty(&report::json(&cmp, &allow)).expect("json")
        ),
        Format::Sql => {
            let header = vec![
                format!(
                    "cutover diff schema: brings {} ({}) to match {} ({})",
                    cmp.target_label,
                    cmp.diff.target_dialect.name(),
                    cmp.source_label,
                    cmp.diff.source_dialect.name()
                ),
                format!(
                    "{} changes for {}",
                    cmp.migration.steps.len(),
                    report::summary(&cmp.diff.changes)
                ),
            ];
            super::common::say_text(&cmp.migration.render(&header, &allow));
        }
    }
    let plan_only = args.format == Format::Sql && !args.exit_code;
    Ok(if cmp.diff.is_equal() || plan_only {
        exit::OK
    } else {
        exit::CHECK_FAILED
    })
}
