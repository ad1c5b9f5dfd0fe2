//! Following this run's log file (the tracing output) into the Logs view.

use crate::tui::action::Action;
use crate::tui::state::{Level, LogLine};
use tokio::sync::mpsc::UnboundedSender;

/// New lines of this run's log file (the tracing output), as log actions.
pub(super) fn tail_log(tx: &UnboundedSender<Action>, pos: &mut u64) {
    use std::io::{Read, Seek, SeekFrom};
    let Some(path) = crate::logging::log_file() else {
        return;
    };
    let Ok(mut f) = std::fs::File::open(path) else {
        return;
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len < *pos {
        *pos = 0; // rotated or truncated
    }
    if len == *pos || f.seek(SeekFrom::Start(*pos)).is_err() {
        return;
    }
    let mut buf = Vec::new();
    if f.take(4 << 20).read_to_end(&mut buf).is_err() {
        return;
    }
    // Only whole lines; the rest is read next time.
    let Some(last_nl) = buf.iter().rposition(|b| *b == b'\n') else {
        return;
    };
    *pos += last_nl as u64 + 1;
    for line in String::from_utf8_lossy(&buf[..=last_nl]).lines() {
        if let Some(l) = parse_log_line(line).filter(|l| !echoes_an_event(l)) {
            let _ = tx.send(Action::Log(l));
        }
    }
}

/// A tracing line that repeats an engine event the Logs view already shows from the
/// event itself (each event is logged once): the debug copy of every event, the
/// engine's "step started"/"step done", and a step's own log lines (`StepLog`).
pub fn echoes_an_event(l: &LogLine) -> bool {
    let target = l.target.rsplit(": ").next().unwrap_or(&l.target);
    target == "cutover::event"
        || target == "cutover::steps"
        || (target == "cutover::engine::run"
            && (l.message.starts_with("step started") || l.message.starts_with("step done")))
}

/// `2026-11-21T08:16:10.123456Z  INFO cutover::engine: message` -> LogLine.
pub fn parse_log_line(line: &str) -> Option<LogLine> {
    let line = line.trim_end();
    if line.is_empty() {
        return None;
    }
    let mut it = line
        .splitn(3, char::is_whitespace)
        .filter(|s| !s.is_empty());
    let ts = it.next()?;
    let rest = line[ts.len()..].trim_start();
    let (lvl, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if !matches!(lvl, "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR") {
        return Some(LogLine {
            time: String::new(),
            level: Level::Info,
            target: String::new(),
            message: line.to_string(),
        });
    }
    let rest = rest.trim_start();
    let (target, message) = match rest.split_once(": ") {
        Some((t, m)) if !t.contains(' ') || t.contains('{') => (t.to_string(), m.to_string()),
        _ => (String::new(), rest.to_string()),
    };
    Some(LogLine {
        time: ts.get(11..19).unwrap_or(ts).to_string(),
        level: Level::parse(lvl),
        target,
        message,
    })
}
