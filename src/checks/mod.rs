//! Checks: assertions about databases kept in files under `checks/` (TOML, one or
//! more `[[check]]` tables a file; a directory is a suite), run by `cutover verify`
//! and by a runbook's `check` step. Every check states what it expects and reports
//! what it found; none passes because nothing went wrong. Format: docs/checks.md.
//!
//! - [`parse`]: reading check files (errors name file:line:col), parameters, suites;
//! - [`compare`]: comparisons (`>= 440`, `between 1 and 10`) and durations (`200ms`);
//! - [`run`]: running checks concurrently with a bound on connections, each with its timeout;
//! - [`render`]: reports as text, JSON, JUnit XML, GitHub annotations, Markdown.

pub mod compare;
mod kinds;
pub mod parse;
pub mod render;
pub mod run;

pub use compare::{Comparison, Op};
pub use parse::{Loaded, ParamValue, Params, load, load_files};
pub use run::{RunOptions, run_checks};

use std::path::PathBuf;
use std::time::Duration;

/// How much a failing check matters: an `error` fails `verify` (exit 1) and a
/// runbook's `check` step; a `warning` is reported and fails neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// The kinds of check, with their names as written in check files.
pub const KIND_NAMES: &[&str] = &[
    "value",
    "no-rows",
    "row-count-match",
    "reconcile",
    "freshness",
    "latency",
    "schema",
    "data-diff",
];

/// A query as written (after `query_file` is read), with `${param:NAME}` still in it:
/// parameters are filled in per target as literals of its dialect.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub text: String,
    /// `query`, or the query file's name, for messages.
    pub label: String,
}

/// What a check asserts, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckKind {
    /// The query's single value satisfies `expect`.
    Value { query: Query, expect: Comparison },
    /// The query returns no rows; the first `show` rows it did return are listed.
    NoRows { query: Query, show: usize },
    /// The row counts of `table` (or the counts `query` returns) are equal on both targets.
    RowCountMatch {
        table: Option<String>,
        query: Option<Query>,
    },
    /// Per group of `group_by`: count, and sum/min/max of each of `columns`, equal on
    /// both targets (as exact decimals; sum/min/max may differ by `tolerance`, counts never).
    Reconcile {
        table: String,
        group_by: Vec<String>,
        columns: Vec<String>,
        tolerance: rust_decimal::Decimal,
    },
    /// The latest value of `column` in `table` is at most `max_age` old.
    Freshness {
        table: String,
        column: String,
        max_age: Duration,
    },
    /// The query, run `runs` times after `warmup` unmeasured runs, has p95 under `p95_under`.
    Latency {
        query: Query,
        runs: u32,
        warmup: u32,
        p95_under: Duration,
    },
    /// The target's schema equals the one in a snapshot file.
    Schema { snapshot: PathBuf },
    /// The rows of `table` on both targets differ in at most `max_differences` rows.
    DataDiff {
        table: String,
        target_table: Option<String>,
        key: Option<Vec<String>>,
        columns: Option<Vec<String>>,
        where_sql: Option<String>,
        max_differences: u64,
    },
}

impl CheckKind {
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::Value { .. } => "value",
            CheckKind::NoRows { .. } => "no-rows",
            CheckKind::RowCountMatch { .. } => "row-count-match",
            CheckKind::Reconcile { .. } => "reconcile",
            CheckKind::Freshness { .. } => "freshness",
            CheckKind::Latency { .. } => "latency",
            CheckKind::Schema { .. } => "schema",
            CheckKind::DataDiff { .. } => "data-diff",
        }
    }
}

/// One check as read from its file.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub id: String,
    /// The suite: the name of the directory holding the file (or the file's stem).
    pub suite: String,
    /// The check file, and where in it this check starts (`file:line:col`).
    pub file: PathBuf,
    pub line: usize,
    pub location: String,
    pub description: Option<String>,
    pub severity: Severity,
    /// `None`: the runner's default.
    pub timeout: Option<Duration>,
    /// The targets it reads, by name: one, or two for the kinds that compare.
    pub targets: Vec<String>,
    /// Where each target is named (`file:line:col`), for "unknown target" errors.
    pub target_locations: Vec<String>,
    pub kind: CheckKind,
    /// Parameter values (the file's `[params]` with overrides applied).
    pub params: Params,
    /// Files it reads: the check file, a query file, a snapshot.
    pub files: Vec<PathBuf>,
}

impl Check {
    /// The name shown in reports: the description, else the id.
    pub fn title(&self) -> &str {
        self.description.as_deref().unwrap_or(&self.id)
    }
}

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The assertion held.
    Passed,
    /// The assertion did not hold (a warning when the check's severity is `warning`).
    Failed,
    /// The check did not finish within its timeout; nothing was concluded.
    TimedOut,
    /// The check could not run (connection, SQL error); nothing was concluded.
    Error,
}

/// Latency figures of a `latency` check, in milliseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Latency {
    pub runs: u32,
    pub warmup: u32,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

/// One check's result: expected and actual in words, with what backs them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub suite: String,
    pub kind: String,
    #[serde(default)]
    pub description: Option<String>,
    pub severity: Severity,
    pub targets: Vec<String>,
    /// The check file and the line its `[[check]]` starts on.
    pub file: String,
    pub line: usize,
    pub status: Status,
    pub expected: String,
    pub actual: String,
    /// One line saying what happened (for failures and errors: why).
    pub message: String,
    pub duration_ms: u64,
    /// The first offending rows, differences or drift lines, as text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
}

impl CheckResult {
    pub fn title(&self) -> &str {
        self.description.as_deref().unwrap_or(&self.id)
    }
    /// Failed with severity warning: reported, fails nothing.
    pub fn is_warning(&self) -> bool {
        self.status == Status::Failed && self.severity == Severity::Warning
    }
    /// Failed with severity error.
    pub fn is_failure(&self) -> bool {
        self.status == Status::Failed && self.severity == Severity::Error
    }
    /// Timed out or could not run (any severity: nothing was concluded).
    pub fn not_run(&self) -> bool {
        matches!(self.status, Status::TimedOut | Status::Error)
    }
    /// The word reports use for the outcome.
    pub fn verdict(&self) -> &'static str {
        match self.status {
            Status::Passed => "passed",
            Status::Failed if self.severity == Severity::Warning => "warning",
            Status::Failed => "failed",
            Status::TimedOut => "timed out",
            Status::Error => "error",
        }
    }
}

/// Counts over a set of results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub warnings: usize,
    pub timed_out: usize,
    pub errors: usize,
}

impl Totals {
    pub fn of(results: &[CheckResult]) -> Totals {
        let mut t = Totals {
            total: results.len(),
            ..Default::default()
        };
        for r in results {
            match r.status {
                Status::Passed => t.passed += 1,
                Status::Failed if r.severity == Severity::Warning => t.warnings += 1,
                Status::Failed => t.failed += 1,
                Status::TimedOut => t.timed_out += 1,
                Status::Error => t.errors += 1,
            }
        }
        t
    }
    /// `verify`'s exit code: 1 when an error-severity check failed; else 3 when a
    /// check timed out or could not run; else 0 (warnings allowed).
    pub fn exit_code(&self) -> i32 {
        use crate::error::exit;
        if self.failed > 0 {
            exit::CHECK_FAILED
        } else if self.timed_out + self.errors > 0 {
            exit::RUNTIME
        } else {
            exit::OK
        }
    }
}
