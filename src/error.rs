//! One error type for the whole tool, with the exit code a user or CI sees.

use std::fmt;

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
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: crate::redact::scrub(&message.into()),
            hint: None,
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

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::runtime(format!("I/O error: {e}"))
    }
}
