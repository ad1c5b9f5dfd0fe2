//! The headless front-end: renders engine events as plain progress lines (a progress
//! bar on a terminal, periodic lines otherwise).

use super::style;
use crate::vocab::{EngineEvent, Progress};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct PlainRenderer {
    tty: bool,
    last_progress: Option<Instant>,
    bar_shown: bool,
    /// A step's warning, printed with (and instead of the tick of) its next line.
    warning: Option<(String, String)>,
}

fn fmt_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

pub fn progress_text(p: &Progress) -> String {
    let eta = p
        .eta
        .map(|e| format!(", ETA {}s", e.as_secs()))
        .unwrap_or_default();
    match p.total {
        Some(t) if t > 0 => format!(
            "{}/{} {} ({:.0}%, {:.0}/s{eta})",
            p.done,
            t,
            p.unit,
            100.0 * p.done as f64 / t as f64,
            p.rate
        ),
        _ => format!("{} {} ({:.0}/s)", p.done, p.unit, p.rate),
    }
}

impl PlainRenderer {
    pub fn new() -> Self {
        PlainRenderer {
            tty: std::io::stderr().is_terminal(),
            last_progress: None,
            bar_shown: false,
            warning: None,
        }
    }

    /// The mark of a step that passed: `⚠` with its warning when one came, else `✓`.
    fn mark(&mut self, step: &str) -> (String, Option<String>) {
        match self.warning.take() {
            Some((s, w)) if s == step => (style::warn("⚠"), Some(w)),
            _ => (style::good("✓"), None),
        }
    }

    fn clear_bar(&mut self) {
        if self.bar_shown {
            eprint!("\r\x1b[2K");
            self.bar_shown = false;
        }
    }

    pub fn render(&mut self, ev: &EngineEvent) {
        if !matches!(ev, EngineEvent::StepProgress { .. }) {
            self.clear_bar();
        }
        let mut out = super::common::stdout();
        match ev {
            EngineEvent::RunStarted {
                run_id,
                runbook,
                resumed,
                operator,
            } => {
                let verb = if *resumed { "resuming" } else { "starting" };
                let _ = writeln!(
                    out,
                    "cutover: {verb} run {} of {runbook} (operator {operator})",
                    &run_id[..8.min(run_id.len())]
                );
            }
            EngineEvent::PhaseStarted {
                phase,
                title,
                rollback,
            } => {
                let tag = if *rollback { " [rollback]" } else { "" };
                let _ = writeln!(out, "== {phase}: {title}{tag}");
            }
            EngineEvent::StepStarted {
                step,
                kind,
                targets,
                ..
            } => {
                let on = if targets.is_empty() {
                    String::new()
                } else {
                    format!(" on {}", targets.join(", "))
                };
                let _ = writeln!(out, "  -> {step} ({kind}{on})");
            }
            EngineEvent::StepAlreadyDone {
                step,
                kind,
                summary,
                ..
            } => {
                // the mark only: the warning was printed when the step ran, and the
                // next checkpoint lists it again
                let (mark, _) = self.mark(step);
                let _ = writeln!(out, "  {mark} {step} ({kind}) already done: {summary}");
            }
            EngineEvent::StepProgress { progress, .. } => {
                let text = progress_text(progress);
                if self.tty {
                    eprint!("\r\x1b[2K     {}", bar(progress, 24) + " " + &text);
                    self.bar_shown = true;
                } else if self
                    .last_progress
                    .map(|t| t.elapsed() >= Duration::from_secs(2))
                    .unwrap_or(true)
                {
                    let _ = writeln!(out, "     … {text}");
                    self.last_progress = Some(Instant::now());
                }
            }
            // The engine's own notices (rollback on failure, resuming an attempt, an
            // abandoned run) are printed; a step's log lines go to the log file only.
            EngineEvent::StepLog { step, message } if step.is_empty() => {
                let _ = writeln!(out, "{}", crate::redact::scrub(message));
            }
            EngineEvent::StepLog { .. } => {}
            EngineEvent::StepFinished {
                step,
                summary,
                elapsed_ms,
                ..
            } => {
                let (mark, warning) = self.mark(step);
                let _ = writeln!(out, "  {mark} {step}: {summary} ({})", fmt_ms(*elapsed_ms));
                if let Some(w) = warning.filter(|w| w != summary) {
                    let _ = writeln!(out, "     {} {w}", style::warn("warning:"));
                }
            }
            EngineEvent::StepWarning { step, message } => {
                self.warning = Some((step.clone(), crate::redact::scrub(message)));
            }
            EngineEvent::StepFailed {
                step,
                error,
                check_failed,
                ..
            } => {
                let what = if *check_failed { "FAILED" } else { "ERROR" };
                let _ = writeln!(
                    out,
                    "  {} {step} {}: {error}",
                    style::bad("✗"),
                    style::bad(what)
                );
            }
            EngineEvent::AwaitingApproval { need } => {
                let have = need.approved_by.len();
                let roles = if need.roles.is_empty() {
                    "any role".to_string()
                } else {
                    need.roles.join(" or ")
                };
                let _ = writeln!(
                    out,
                    "  {} checkpoint {} \"{}\": {have} of {} approval(s) from {roles}; evidence sha256 {}",
                    style::wait("⏸"),
                    need.checkpoint,
                    need.title,
                    need.required,
                    need.evidence_hash
                );
                if !need.hazards.is_empty() {
                    let _ = writeln!(
                        out,
                        "     {} {}",
                        style::warn("hazards:"),
                        style::warn(&need.hazards.join(", "))
                    );
                    for h in need.hazard_details.iter().filter(|h| h.at.is_some()) {
                        let _ = writeln!(out, "       {}", h.line());
                    }
                }
                if !need.files.is_empty() {
                    let files: Vec<&str> = need.files.iter().map(|(p, _)| p.as_str()).collect();
                    let _ = writeln!(out, "     covers the files: {}", files.join(", "));
                }
                for why in &need.stale {
                    let _ = writeln!(out, "     stale: {why}");
                }
                if !need.warnings.is_empty() {
                    let _ = writeln!(
                        out,
                        "     {} warning(s) since the last checkpoint:",
                        need.warnings.len()
                    );
                    for w in &need.warnings {
                        let _ = writeln!(out, "       {} {w}", style::warn("⚠"));
                    }
                }
            }
            EngineEvent::ApprovalRecorded {
                checkpoint,
                approver,
                role,
                decision,
                comment,
            } => {
                let c = comment
                    .as_ref()
                    .map(|c| format!(": \"{c}\""))
                    .unwrap_or_default();
                let verb = match decision.as_str() {
                    "approve" => "approved",
                    "reject" => "rejected",
                    "withdraw" => "withdrew the rejection of",
                    other => other,
                };
                let _ = writeln!(out, "     {approver} ({role}) {verb} {checkpoint}{c}");
            }
            EngineEvent::RunFinished { .. } => {}
        }
        let _ = out.flush();
    }
}

impl Default for PlainRenderer {
    fn default() -> Self {
        Self::new()
    }
}

fn bar(p: &Progress, width: usize) -> String {
    let frac = match p.total {
        Some(t) if t > 0 => (p.done as f64 / t as f64).clamp(0.0, 1.0),
        _ => 0.0,
    };
    let full = (frac * width as f64) as usize;
    format!("[{}{}]", "#".repeat(full), ".".repeat(width - full))
}
