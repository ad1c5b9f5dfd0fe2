//! Options and helpers shared by the runbook commands.

use crate::steps::Runbook;

#[derive(clap::Args, Debug, Clone)]
pub struct LedgerArgs {
    /// Ledger database URL (sqlite:// or postgres://). Default: the runbook's [ledger] url,
    /// else .cutover/ledger.db next to the runbook.
    #[arg(long, env = "CUTOVER_LEDGER", value_name = "URL")]
    pub ledger: Option<String>,
}

/// Who is running this command: --operator, else $CUTOVER_OPERATOR, else $USER or
/// $LOGNAME, else the login name of the process's user id (so an empty environment,
/// as under cron or `env -i`, still records a real account, never "unknown").
pub fn operator(explicit: Option<String>) -> String {
    let set = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    set(explicit)
        .or_else(|| set(std::env::var("CUTOVER_OPERATOR").ok()))
        .or_else(|| set(std::env::var("USER").ok()))
        .or_else(|| set(std::env::var("LOGNAME").ok()))
        .or_else(login_name)
        .unwrap_or_else(|| format!("uid:{}", unsafe { libc::getuid() }))
}

/// The user name of the process's real user id, from the password database.
fn login_name() -> Option<String> {
    // SAFETY: getpwuid_r writes into our buffers only; the result pointer is checked
    // before use and the name is copied out before the buffer goes away.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::getuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut out,
        );
        if rc != 0 || out.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        let name = std::ffi::CStr::from_ptr(pwd.pw_name)
            .to_string_lossy()
            .into_owned();
        (!name.is_empty()).then_some(name)
    }
}

/// Load a runbook for a command that only reads (status, runs, audit): no log file is
/// opened, so nothing is written next to a runbook that never ran.
pub fn load_runbook_read_only(path: &std::path::Path) -> crate::Result<Runbook> {
    Runbook::load(path)
}

pub fn load_runbook(path: &std::path::Path) -> crate::Result<Runbook> {
    let rb = Runbook::load(path)?;
    crate::logging::init_for_dir(&rb.dir);
    Ok(rb)
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct TargetArgs {
    /// Use URL for the runbook's target NAME instead of the URL in the file (repeatable).
    /// The ledger records the run's targets (passwords redacted); give the same
    /// --target options to every later `run` and `rollback` of this runbook.
    #[arg(long = "target", value_name = "NAME=URL")]
    pub targets: Vec<String>,
}

/// Load a runbook with the command line's `--target NAME=URL` overrides applied.
pub fn load_runbook_with(path: &std::path::Path, targets: &TargetArgs) -> crate::Result<Runbook> {
    let overrides = crate::runbook::TargetOverrides::parse(&targets.targets)?;
    let rb = crate::runbook::load_with(path, &crate::steps::Registry, &overrides)?;
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

/// Standard output for commands that write through `std::io::Write`. Lines pass
/// through [`crate::redact::scrub`], so a registered secret (a target's password, in
/// a check's result or a driver's message) never reaches the terminal; and when the
/// reader goes away (`cutover audit export | head -1`) the process ends quietly with
/// the shell's code for SIGPIPE, as `println!` does (see main.rs).
pub fn stdout() -> Box<dyn std::io::Write + Send> {
    Box::new(ScrubbedStdout {
        out: std::io::stdout(),
        line: Vec::new(),
    })
}

struct ScrubbedStdout {
    out: std::io::Stdout,
    /// The current line, written when it ends (a secret is never split by a write).
    line: Vec<u8>,
}

impl ScrubbedStdout {
    fn check<T>(r: std::io::Result<T>) -> std::io::Result<T> {
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(141),
            other => other,
        }
    }
    fn emit(&mut self, upto: usize) -> std::io::Result<()> {
        let rest = self.line.split_off(upto);
        let text = String::from_utf8_lossy(&self.line);
        let clean = crate::redact::scrub(&text);
        self.line = rest;
        Self::check(std::io::Write::write_all(&mut self.out, clean.as_bytes()))
    }
}

impl std::io::Write for ScrubbedStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        if let Some(nl) = self.line.iter().rposition(|&b| b == b'\n') {
            self.emit(nl + 1)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.line.is_empty() {
            self.emit(self.line.len())?;
        }
        Self::check(self.out.flush())
    }
}

impl Drop for ScrubbedStdout {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

/// One line of command output (the `say!` macro): scrubbed, then written.
pub fn say_line(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = stdout();
    let _ = writeln!(out, "{args}");
    let _ = out.flush();
}

/// Command output that is already formatted (with its own line ends): written as it
/// is, scrubbed line by line like `say!`.
pub fn say_text(text: &str) {
    use std::io::Write;
    let mut out = stdout();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// `--format text|json` for commands with machine output; the older `--json` flag is
/// kept as a hidden alias so scripts written for it still work.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FormatArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: TextOrJson,
    /// Same as --format json (kept for older scripts).
    #[arg(long, hide = true)]
    pub json: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TextOrJson {
    #[default]
    Text,
    Json,
}

impl FormatArgs {
    pub fn is_json(&self) -> bool {
        self.json || self.format == TextOrJson::Json
    }
}
