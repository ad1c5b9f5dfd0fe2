//! Options and helpers shared by the runbook commands.

use crate::steps::Runbook;

#[derive(clap::Args, Debug, Clone)]
pub struct LedgerArgs {
    /// Ledger database URL (sqlite:// or postgres://). Default: the runbook's [ledger] url,
    /// else .cutover/ledger.db next to the runbook.
    #[arg(long, env = "CUTOVER_LEDGER", value_name = "URL")]
    pub ledger: Option<String>,
}

/// Who is running this command: --operator, else $CUTOVER_OPERATOR, else $USER.
pub fn operator(explicit: Option<String>) -> String {
    explicit
        .or_else(|| std::env::var("CUTOVER_OPERATOR").ok())
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

pub fn load_runbook(path: &std::path::Path) -> crate::Result<Runbook> {
    let rb = Runbook::load(path)?;
    crate::logging::init_for_dir(&rb.dir);
    Ok(rb)
}

/// Resolve the ledger override: relative sqlite paths are taken from the current directory.
pub fn ledger_override(args: &LedgerArgs) -> Option<String> {
    args.ledger
        .as_ref()
        .map(|u| match u.strip_prefix("sqlite://") {
            Some(p) if !p.starts_with('/') => {
                let cwd = std::env::current_dir().unwrap_or_default();
                format!("sqlite://{}", cwd.join(p).display())
            }
            _ => u.clone(),
        })
}

pub fn is_terminal_stdout() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
}
