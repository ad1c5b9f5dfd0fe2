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

/// Standard output for commands that write through `std::io::Write`: when the reader
/// goes away (`cutover audit export | head -1`) the process ends quietly with the
/// shell's code for SIGPIPE, as `println!` does (see main.rs).
pub fn stdout() -> Box<dyn std::io::Write + Send> {
    Box::new(QuietOnClosedPipe(std::io::stdout()))
}

struct QuietOnClosedPipe(std::io::Stdout);

impl QuietOnClosedPipe {
    fn check<T>(r: std::io::Result<T>) -> std::io::Result<T> {
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(141),
            other => other,
        }
    }
}

impl std::io::Write for QuietOnClosedPipe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Self::check(self.0.write(buf))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Self::check(self.0.flush())
    }
}
