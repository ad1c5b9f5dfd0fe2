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
}

impl SourceFile {
    pub fn read(path: &Path) -> Result<SourceFile, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::bad_input(format!("{}: cannot read runbook: {e}", path.display()))
        })?;
        Ok(SourceFile {
            path: path.to_path_buf(),
            display: path.display().to_string(),
            text,
        })
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        (line, col)
    }

    pub fn location(&self, span: &Range<usize>) -> String {
        let (l, c) = self.line_col(span.start);
        format!("{}:{l}:{c}", self.display)
    }

    /// A bad-input error located at `span`.
    pub fn error(&self, span: &Range<usize>, msg: impl std::fmt::Display) -> Error {
        Error::bad_input(format!("{}: {msg}", self.location(span)))
    }
}
