//! `cutover diff ...`: compare two databases (or snapshots): schemas and rows.

use super::{diff_data, diff_schema};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum DiffCommand {
    /// Compare two schemas object by object; print a summary and a unified diff of
    /// normalized DDL, stable JSON, or the migration SQL that makes the target match.
    Schema(diff_schema::Args),
    /// Compare the rows of a table in two databases (SQLite, PostgreSQL, MySQL/MariaDB);
    /// exit 0 equal, 1 different, 2 bad input, 3 runtime error.
    Data(diff_data::Args),
}

pub async fn run(cmd: DiffCommand) -> crate::Result<i32> {
    match cmd {
        DiffCommand::Schema(a) => diff_schema::run(a).await,
        DiffCommand::Data(a) => diff_data::run(a).await,
    }
}

/// Headless progress: a bar redrawn on stderr when it is a terminal, otherwise a line
/// every few seconds.
pub struct ProgressPrinter {
    tty: bool,
    quiet: bool,
    /// A bar is on the terminal's last line (not ended by a newline).
    drawn: std::sync::atomic::AtomicBool,
    last: std::sync::Mutex<Option<std::time::Instant>>,
    started: std::time::Instant,
    label: String,
}

impl ProgressPrinter {
    pub fn new(label: impl Into<String>, quiet: bool) -> Self {
        use std::io::IsTerminal;
        ProgressPrinter {
            tty: std::io::stderr().is_terminal(),
            quiet,
            drawn: Default::default(),
            last: std::sync::Mutex::new(None),
            started: std::time::Instant::now(),
            label: label.into(),
        }
    }

    fn human(n: f64) -> String {
        if n >= 1e6 {
            format!("{:.1}M", n / 1e6)
        } else if n >= 1e4 {
            format!("{:.0}k", n / 1e3)
        } else {
            format!("{n:.0}")
        }
    }

    pub fn show(&self, p: crate::vocab::Progress) {
        if self.quiet {
            return;
        }
        let now = std::time::Instant::now();
        let mut last = self.last.lock().expect("progress lock");
        let every = if self.tty {
            std::time::Duration::from_millis(100)
        } else {
            std::time::Duration::from_secs(2)
        };
        let finished = self.tty && p.total.is_some_and(|t| p.done >= t);
        if !self.tty && now.duration_since(self.started) < every {
            return;
        }
        if let Some(l) = *last
            && now.duration_since(l) < every
            && !finished
        {
            return;
        }
        *last = Some(now);
        let eta = p
            .eta
            .map(|e| format!(" ETA {}s", e.as_secs()))
            .unwrap_or_default();
        let count = match p.total {
            Some(t) => format!(
                "{}/{} {}",
                Self::human(p.done as f64),
                Self::human(t as f64),
                p.unit
            ),
            None => format!("{} {}", Self::human(p.done as f64), p.unit),
        };
        let rate = format!("{}/s", Self::human(p.rate));
        if self.tty {
            let bar = match p.total {
                Some(t) if t > 0 => {
                    let f = (p.done as f64 / t as f64).clamp(0.0, 1.0);
                    let n = (f * 30.0) as usize;
                    format!(
                        "[{}{}] {:>3.0}% ",
                        "#".repeat(n),
                        " ".repeat(30 - n),
                        f * 100.0
                    )
                }
                _ => String::new(),
            };
            eprint!("\r\x1b[2K{} {bar}{count} {rate}{eta}", self.label);
            self.drawn.store(true, std::sync::atomic::Ordering::SeqCst);
        } else {
            eprintln!("{}: {count} ({rate}){eta}", self.label);
        }
    }

    /// End the bar's line (terminal only).
    pub fn done(&self) {
        if self.drawn.swap(false, std::sync::atomic::Ordering::SeqCst) {
            eprintln!();
        }
    }

    /// Wipe the bar so that a result line takes its place; the next progress draws it
    /// again below. Only when the results go to the same terminal.
    pub fn clear(&self) {
        use std::io::IsTerminal;
        let _held = self.last.lock().expect("progress lock");
        if std::io::stdout().is_terminal()
            && self.drawn.swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            eprint!("\r\x1b[2K");
        }
    }

    /// `out` writing whole lines, each after wiping the bar: results never land on the
    /// bar's line (what indicatif's `suspend` does).
    pub fn below(
        self: &std::sync::Arc<Self>,
        out: Box<dyn std::io::Write + Send>,
    ) -> Box<dyn std::io::Write + Send> {
        Box::new(BelowBar {
            out,
            bar: self.clone(),
            line: Vec::new(),
        })
    }
}

/// Writes whole lines to `out`, wiping the progress bar before each.
struct BelowBar {
    out: Box<dyn std::io::Write + Send>,
    bar: std::sync::Arc<ProgressPrinter>,
    line: Vec<u8>,
}

impl BelowBar {
    fn emit(&mut self) -> std::io::Result<()> {
        if self.line.is_empty() {
            return Ok(());
        }
        self.bar.clear();
        self.out.write_all(&self.line)?;
        self.line.clear();
        self.out.flush()
    }
}

impl std::io::Write for BelowBar {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some(i) = rest.iter().position(|b| *b == b'\n') {
            self.line.extend_from_slice(&rest[..=i]);
            self.emit()?;
            rest = &rest[i + 1..];
        }
        self.line.extend_from_slice(rest);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.emit()?;
        self.out.flush()
    }
}

impl Drop for BelowBar {
    fn drop(&mut self) {
        let _ = self.emit();
    }
}
