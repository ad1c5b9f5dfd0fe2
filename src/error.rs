//! One error type for the whole tool, with the exit code a user or CI sees.

use std::fmt;
use std::sync::Arc;

/// What caused an [`Error`], kept for programs (`source()`, downcasting), never shown:
/// the message says what a user needs, already redacted.
pub type Source = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Exit codes documented in README and `--help`.
pub mod exit {
    pub const OK: i32 = 0;
    pub const CHECK_FAILED: i32 = 1;
    pub const BAD_INPUT: i32 = 2;
    pub const RUNTIME: i32 = 3;
    pub const AWAITING_APPROVAL: i32 = 4;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A check failed, a diff found differences, a checkpoint was rejected (exit 1).
    CheckFailed,
    /// Malformed runbook, unknown option, missing file, bad URL (exit 2).
    BadInput,
    /// Connection, SQL, I/O or lock errors while running (exit 3).
    Runtime,
    /// The run stopped at a checkpoint awaiting approval (exit 4).
    AwaitingApproval,
}

impl ErrorKind {
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::CheckFailed => exit::CHECK_FAILED,
            ErrorKind::BadInput => exit::BAD_INPUT,
            ErrorKind::Runtime => exit::RUNTIME,
            ErrorKind::AwaitingApproval => exit::AWAITING_APPROVAL,
        }
    }
}

/// A user-facing error: what went wrong (naming the file:line:col or the object), and
/// optionally a hint saying what to do about it. Messages are always redacted.
///
/// The underlying error (an I/O error, a driver's error) is kept as the
/// [`source`](std::error::Error::source) rather than flattened into the message alone;
/// `Display` shows only the message and the hint, so a source that might contain a
/// secret is never printed by it (a reporter walking the chain must scrub it).
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
    source: Option<Source>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: crate::redact::scrub(&message.into()),
            hint: None,
            source: None,
        }
    }
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadInput, message)
    }
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Runtime, message)
    }
    pub fn check_failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::CheckFailed, message)
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(crate::redact::scrub(&hint.into()));
        self
    }
    /// Keep `source` as the cause of this error; the message is unchanged.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }
    /// Prefix the message with some context ("step consolidate/copy-missing: ...").
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.message = format!("{ctx}: {}", self.message);
        self
    }
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::runtime(format!("I/O error: {e}")).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn the_source_is_kept_and_the_message_unchanged() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = Error::from(io);
        assert_eq!(e.to_string(), "I/O error: no such file");
        let src = e.source().expect("the I/O error is the source");
        let io = src.downcast_ref::<std::io::Error>().expect("an io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        assert!(Error::runtime("plain").source().is_none());
        // Context and hints change the message, not the cause.
        let e = e.context("reading x").with_hint("check the path");
        assert_eq!(
            e.to_string(),
            "reading x: I/O error: no such file\n  hint: check the path"
        );
        assert!(e.clone().source().is_some());
    }
}
