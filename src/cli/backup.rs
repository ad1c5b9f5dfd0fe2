//! `cutover backup --target URL --out DIR [--tables a,b] [--schema S]`: a backup
//! directory with its manifest (row counts and content hashes at the data's snapshot,
//! SHA-256 of every file) sealed by a completion marker written last.

use crate::error::{Result, exit};
use crate::steps::backup::take_backup;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The database URL (sqlite://, postgres://, mysql://).
    #[arg(long)]
    pub target: String,
    /// A new (or empty) directory for the backup; an existing backup is never overwritten.
    #[arg(long)]
    pub out: PathBuf,
    /// Only these tables (comma-separated): the native path (PostgreSQL binary COPY).
    #[arg(long, value_delimiter = ',')]
    pub tables: Option<Vec<String>>,
    /// Only this schema (PostgreSQL, whole-database backups).
    #[arg(long)]
    pub schema: Option<String>,
}

pub async fn run(a: Args) -> Result<i32> {
    let redacted = crate::redact::register_url(&a.target);
    let dialect = crate::db::dialect_of(&a.target)?;
    say!(
        "plan: {}",
        dialect.sql().backup().tool_plan(a.tables.is_none())
    );
    let log = |m: String| say!("  · {m}");
    let (m, sha) = take_backup(
        &a.target,
        &redacted,
        &a.out,
        a.tables.as_deref(),
        a.schema.as_deref(),
        None,
        &log,
    )
    .await?;
    let rows: u64 = m.tables.values().map(|t| t.rows).sum();
    let bytes: u64 = m.files.values().map(|f| f.bytes).sum();
    for (t, h) in &m.tables {
        say!("  {t}: {} rows, content hash {}", h.rows, h.hash);
    }
    say!(
        "backup of {redacted} complete: {} table(s), {rows} row(s), {bytes} bytes in {} file(s) → {} ({}; manifest sha256 {})",
        m.tables.len(),
        m.files.len(),
        a.out.display(),
        m.tool,
        &sha[..12]
    );
    Ok(exit::OK)
}
