//! A runbook's text with the means to turn byte offsets into `file:line:col`.

use crate::error::Error;
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    /// The path as the user gave it, for messages.
    pub display: String,
    pub text: String,
    /// Byte offset of the start of each line, so a location costs a binary search
    /// (a runbook of 20,000 phases locates every step).
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn read(path: &Path) -> Result<SourceFile, Error> {
        let bytes = std::fs::read(path).map_err(|e| {
            Error::bad_input(format!("{}: cannot read runbook: {e}", path.display()))
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let valid = std::str::from_utf8(&e.as_bytes()[..at]).unwrap_or("");
            let line = valid.matches('\n').count() + 1;
            let col = valid
                .rsplit('\n')
                .next()
                .map(|l| l.chars().count())
                .unwrap_or(0)
                + 1;
            Error::bad_input(format!(
                "{}:{line}:{col}: the runbook is not valid UTF-8 (byte {at}); save it as UTF-8",
                path.display()
            ))
        })?;
        Ok(SourceFile::new(path, text))
    }

    /// A source from text already in memory.
    pub fn new(path: &Path, text: String) -> SourceFile {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            path: path.to_path_buf(),
            display: path.display().to_string(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let col = self.text[start..offset].chars().count() + 1;
        (line, col)
    }

    pub fn location(&self, span: &Range<usize>) -> String {
        let (l, c) = self.line_col(span.start);
        format!("{}:{l}:{c}", self.display)
    }

    /// A bad-input error located at `span`: `file:line:col: message` first (what
    /// editors and scripts parse), then the line itself with a caret under the span.
    pub fn error(&self, span: &Range<usize>, msg: impl std::fmt::Display) -> Error {
        Error::bad_input(format!(
            "{}: {msg}\n{}",
            self.location(span),
            self.snippet(span)
        ))
    }

    /// The line holding `span.start`, numbered, with carets under the span (to the end
    /// of that line when the span goes on):
    ///
    /// ```text
    ///    |
    /// 12 |   kind = "bakup"
    ///    |          ^^^^^^^
    /// ```
    pub fn snippet(&self, span: &Range<usize>) -> String {
        let (line, col) = self.line_col(span.start);
        let start = self.line_starts[line - 1];
        let end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let text = self.text[start..end].trim_end_matches('\r');
        // Keep tabs in the indent so the caret lines up however tabs are shown.
        let indent: String = text
            .chars()
            .take(col - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let span_end = span.end.clamp(span.start, start + text.len());
        let width = self.text[span.start.min(span_end)..span_end]
            .chars()
            .count()
            .max(1);
        let num = line.to_string();
        let pad = " ".repeat(num.len());
        format!(
            "{pad} |\n{num} | {text}\n{pad} | {indent}{}",
            "^".repeat(width)
        )
    }
}
