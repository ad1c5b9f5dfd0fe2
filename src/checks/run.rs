//! Running checks: at most `jobs` at once (and, with the pools `verify` opens, at most
//! `jobs` connections per target), each within its timeout, every one reported.

use super::compare::show_duration;
use super::kinds::{evaluate, expected};
use super::{Check, CheckResult, Status};

use crate::db::Targets;
use futures::StreamExt;
use futures::future::BoxFuture;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Checks run at once (at least 1).
    pub jobs: usize,
    /// For checks that set no `timeout`.
    pub default_timeout: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: 4,
            default_timeout: Duration::from_secs(60),
        }
    }
}

/// Run every check; results come back in the order of `checks`. A check that fails,
/// times out or cannot run is reported and the others still run.
pub async fn run_checks(checks: &[Check], targets: &Targets, opts: RunOptions) -> Vec<CheckResult> {
    let jobs = opts.jobs.max(1);
    // Boxed so the future stays `Send` for any lifetime (steps run it inside async_trait).
    let futures: Vec<BoxFuture<'_, (usize, CheckResult)>> = checks
        .iter()
        .enumerate()
        .map(|(i, c)| -> BoxFuture<'_, (usize, CheckResult)> {
            Box::pin(async move { (i, run_one(c, targets, opts.default_timeout).await) })
        })
        .collect();
    let mut results: Vec<(usize, CheckResult)> = futures::stream::iter(futures)
        .buffer_unordered(jobs)
        .collect()
        .await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Ask each server of a timed-out check to stop what the check left running there,
/// on a connection of its own (the pool's may all be busy): how it went, for the
/// message.
async fn cancel(c: &Check, targets: &Targets, tag: &str) -> String {
    let mut said = Vec::new();
    for name in &c.targets {
        let Ok(spec) = targets.spec(name) else {
            continue;
        };
        if spec.dialect.sql().is_file() {
            continue;
        }
        let one = crate::db::ConnectOptions {
            create_if_missing: false,
            max_connections: 1,
        };
        let attempt = async {
            let db = crate::db::connect_with(&spec.url, one).await?;
            let n = db.dialect().sql().cancel_tagged(&db, tag).await;
            db.close().await;
            n
        };
        match tokio::time::timeout(Duration::from_secs(10), attempt).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => said.push(format!("{n} query(ies) cancelled on {name}")),
            Ok(Err(e)) => said.push(format!("could not cancel on {name}: {}", e.message)),
            Err(_) => said.push(format!("could not cancel on {name}: no answer")),
        }
    }
    if said.is_empty() {
        String::new()
    } else {
        format!("; {}", said.join(", "))
    }
}

/// Run one check within its timeout.
pub async fn run_one(c: &Check, targets: &Targets, default_timeout: Duration) -> CheckResult {
    let limit = c.timeout.unwrap_or(default_timeout);
    let started = Instant::now();
    let tag = format!(
        "cutover check {} {}",
        c.id.replace("*/", ""),
        uuid::Uuid::new_v4().simple()
    );
    let outcome = tokio::time::timeout(limit, evaluate(c, targets, &tag)).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    let mut r = CheckResult {
        id: c.id.clone(),
        suite: c.suite.clone(),
        kind: c.kind.name().to_string(),
        description: c.description.clone(),
        severity: c.severity,
        targets: c.targets.clone(),
        file: c.file.display().to_string(),
        line: c.line,
        status: Status::Passed,
        expected: expected(c),
        actual: String::new(),
        message: String::new(),
        duration_ms,
        details: Vec::new(),
        latency: None,
    };
    match outcome {
        Ok(Ok(v)) => {
            r.status = if v.passed {
                Status::Passed
            } else {
                Status::Failed
            };
            r.message = if v.passed {
                format!("{}: {} as expected ({})", c.title(), v.actual, r.expected)
            } else {
                format!("{}: expected {}, got {}", c.title(), r.expected, v.actual)
            };
            r.actual = v.actual;
            r.details = v.details;
            r.latency = v.latency;
        }
        Ok(Err(e)) => {
            r.status = Status::Error;
            r.actual = "could not run".into();
            r.message = format!("{}: could not run: {}", c.title(), e.message);
        }
        Err(_) => {
            r.status = Status::TimedOut;
            r.actual = format!("no answer within {}", show_duration(limit));
            r.message = format!(
                "{}: timed out after {} (its timeout); nothing was concluded{}",
                c.title(),
                show_duration(limit),
                cancel(c, targets, &tag).await
            );
        }
    }
    r.message = crate::redact::scrub(&r.message);
    r
}
