//! `cutover restore --from DIR --target URL [--tables a,b] [--yes] [--drop-extra]`:
//! verify the backup, restore, and prove the restored tables equal the manifest.

use crate::error::{Error, Result, exit};
use crate::steps::restore::restore_backup;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The backup directory (written by `cutover backup` or a runbook's backup step).
    #[arg(long)]
    pub from: PathBuf,
    /// The database URL to restore into.
    #[arg(long)]
    pub target: String,
    /// Only these tables of the backup (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub tables: Option<Vec<String>>,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Drop what the target has and the backup does not: tables (otherwise kept and
    /// named), and views, functions, triggers, foreign keys, policies... created after
    /// the backup (otherwise the restore refuses, naming them, and touches nothing).
    #[arg(long)]
    pub drop_extra: bool,
}

pub async fn run(a: Args) -> Result<i32> {
    let redacted = crate::redact::register_url(&a.target);
    if !a.yes {
        // a damaged or foreign backup is refused before anyone is asked anything (with
        // --yes nobody is asked: the restore's own check, first, is the one)
        let (manifest, _) = crate::steps::backup::verify_backup(&a.from)?;
        if !std::io::stdin().is_terminal() {
            return Err(Error::bad_input(
                "restore replaces data in the target: pass --yes to confirm when not at a terminal",
            ));
        }
        say!(
            "Restore {redacted} from {} ({} table(s), taken {}): type \"restore\" to confirm:",
            a.from.display(),
            manifest.tables.len(),
            manifest.created_at
        );
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        if line.trim() != "restore" {
            say!("not confirmed; nothing done.");
            return Ok(exit::BAD_INPUT);
        }
    }
    let log = |m: String| say!("  · {m}");
    let proof = restore_backup(
        &a.target,
        &redacted,
        &a.from,
        a.tables.as_deref(),
        a.drop_extra,
        &log,
    )
    .await?;
    for t in &proof.tables {
        say!(
            "  {} {}: {} rows (backup {}), content hash {} (backup {})",
            if t.equal { "✓" } else { "✗" },
            t.table,
            t.rows_found,
            t.rows_expected,
            t.hash_found.as_deref().unwrap_or("— table missing"),
            t.hash_expected
        );
    }
    say!("restore of {redacted}: {}", proof.summary());
    match proof.failure() {
        Some(f) => {
            say!("{f}");
            Ok(exit::CHECK_FAILED)
        }
        None => Ok(exit::OK),
    }
}
