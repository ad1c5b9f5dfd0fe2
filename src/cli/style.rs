//! Colour for command output: on when stdout is a terminal (and `NO_COLOR` is unset or
//! empty, and `TERM` is not `dumb`), or with `--color always`; never with
//! `--color never`. Styles come from anstyle, the crate clap draws its help with.

use anstyle::{AnsiColor, Style};
use std::sync::atomic::{AtomicU8, Ordering};

/// `--color`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is not set.
    #[default]
    Auto,
    Always,
    Never,
}

const UNSET: u8 = 0;
const ON: u8 = 1;
const OFF: u8 = 2;
static STATE: AtomicU8 = AtomicU8::new(UNSET);

/// Decide once, from the command line's choice and the environment.
pub fn init(choice: ColorChoice) {
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => auto(),
    };
    STATE.store(if on { ON } else { OFF }, Ordering::Relaxed);
}

fn auto() -> bool {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    !no_color && !dumb && std::io::stdout().is_terminal()
}

pub fn enabled() -> bool {
    match STATE.load(Ordering::Relaxed) {
        ON => true,
        OFF => false,
        _ => auto(),
    }
}

fn paint(style: Style, text: &str) -> String {
    if enabled() && !text.is_empty() {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

fn fg(c: AnsiColor) -> Style {
    Style::new().fg_color(Some(c.into()))
}

/// Passed, equal, added on the source's side.
pub fn good(text: &str) -> String {
    paint(fg(AnsiColor::Green), text)
}
/// Failed, an error, removed.
pub fn bad(text: &str) -> String {
    paint(fg(AnsiColor::Red).bold(), text)
}
/// A warning or a hazard.
pub fn warn(text: &str) -> String {
    paint(fg(AnsiColor::Yellow), text)
}
/// Waiting for someone.
pub fn wait(text: &str) -> String {
    paint(fg(AnsiColor::Cyan), text)
}
/// Headings.
pub fn strong(text: &str) -> String {
    paint(Style::new().bold(), text)
}

/// Colour a unified diff's lines: `+` green, `-` red, `@@` cyan; file headers bold.
pub fn unified_diff(text: &str) -> String {
    if !enabled() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let painted = if body.starts_with("+++") || body.starts_with("---") {
            strong(body)
        } else if body.starts_with('+') {
            good(body)
        } else if body.starts_with('-') {
            bad(body)
        } else if body.starts_with("@@") {
            wait(body)
        } else {
            body.to_string()
        };
        out.push_str(&painted);
        out.push_str(nl);
    }
    out
}

/// A plain text table (comfy-table): columns as wide as their widest cell, so a long
/// step id or table name widens its column instead of pushing the rest out of line;
/// no borders, two spaces between columns, `right` the indexes of numeric columns.
/// Cells may carry colour: widths are measured without the escape codes.
pub fn table(indent: usize, header: &[&str], rows: Vec<Vec<String>>, right: &[usize]) -> String {
    use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if !header.is_empty() {
        t.set_header(header.iter().map(|h| strong(h)));
    }
    for r in rows {
        t.add_row(r);
    }
    for &i in right {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    for c in t.column_iter_mut() {
        c.set_padding((0, 2));
    }
    let pad = " ".repeat(indent);
    t.lines()
        .map(|l| format!("{pad}{}", l.trim_end()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A writer that colours a text data diff's lines as they pass: `+ only in source`
/// green, `- only in target` red, `~ changed` yellow; everything else as is. Without
/// colour it is `out` itself.
pub fn data_diff_lines(out: Box<dyn std::io::Write + Send>) -> Box<dyn std::io::Write + Send> {
    if !enabled() {
        return out;
    }
    Box::new(DiffLines {
        out,
        line: Vec::new(),
    })
}

struct DiffLines {
    out: Box<dyn std::io::Write + Send>,
    line: Vec<u8>,
}

impl DiffLines {
    fn emit(&mut self) -> std::io::Result<()> {
        if self.line.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.line).into_owned();
        let (body, nl) = match text.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (text.as_str(), ""),
        };
        let painted = if body.starts_with("+ ") {
            good(body)
        } else if body.starts_with("- ") {
            bad(body)
        } else if body.starts_with("~ ") {
            warn(body)
        } else {
            body.to_string()
        };
        self.line.clear();
        self.out.write_all(painted.as_bytes())?;
        self.out.write_all(nl.as_bytes())
    }
}

impl std::io::Write for DiffLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            self.line.push(b);
            if b == b'\n' {
                self.emit()?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.emit()?;
        self.out.flush()
    }
}
