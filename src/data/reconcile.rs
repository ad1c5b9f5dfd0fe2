//! Diff-then-apply as one operation, shared by the CLI and the runbook steps.

use super::apply::{Applied, apply_each};
use super::diff::{DiffSink, Difference, Summary, diff};
use super::output::difference_json;
use super::plan::{DiffOptions, Plan, build_plan};
use super::spool::{Spool, SpoolSink};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::vocab::Progress;

/// Keeps the first `limit` differences as JSON (evidence) and counts the rest.
pub struct SampleSink {
    pub limit: usize,
    pub samples: Vec<serde_json::Value>,
    pub total: u64,
}

impl SampleSink {
    pub fn new(limit: usize) -> Self {
        SampleSink {
            limit,
            samples: Vec::new(),
            total: 0,
        }
    }
}

impl DiffSink for SampleSink {
    fn difference(&mut self, plan: &Plan, d: Difference) -> Result<()> {
        self.total += 1;
        if self.samples.len() < self.limit {
            self.samples.push(difference_json(plan, &d));
        }
        Ok(())
    }
}

/// The outcome of bringing one table in line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncOutcome {
    pub before: Summary,
    pub inserts: u64,
    pub updates: u64,
    pub deletes: u64,
    pub applied: Applied,
    pub after: Summary,
    /// The first differences found before applying.
    pub samples: Vec<serde_json::Value>,
}

struct Both {
    sql: SpoolSink,
    sample: SampleSink,
}
impl DiffSink for Both {
    fn difference(&mut self, plan: &Plan, d: Difference) -> Result<()> {
        self.sample.difference(plan, d.clone())?;
        self.sql.difference(plan, d)
    }
}

/// Diff, apply the delta to the target (one transaction, or per batch), re-diff.
/// The statements are spooled to a file as found, not held. Nothing is applied when the
/// diff fails. Errors (exit 1) when the re-diff is not equal.
pub async fn sync_table(
    source: &Db,
    target: &Db,
    opts: &DiffOptions,
    batch_size: usize,
    batch_commit: bool,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<SyncOutcome> {
    let plan = build_plan(source, target, opts).await?;
    let mut sink = Both {
        sql: SpoolSink::new(target.dialect(), Spool::temp()),
        sample: SampleSink::new(20),
    };
    let before = diff(source, target, plan, &mut sink, progress).await?;
    sink.sql.spool.seal()?;
    let statements = sink.sql.spool.read()?;
    let applied = apply_each(target, statements, batch_size, batch_commit).await?;
    let plan = build_plan(source, target, opts).await?;
    let after = diff(source, target, plan, &mut SampleSink::new(0), progress).await?;
    if !after.equal() {
        return Err(Error::check_failed(format!(
            "after applying {} statements, {} → {} still differs: only in source {}, only in target {}, changed {}",
            applied.statements,
            after.source_table,
            after.target_table,
            after.only_in_source,
            after.only_in_target,
            after.changed
        )));
    }
    Ok(SyncOutcome {
        before,
        inserts: sink.sql.counts.inserts,
        updates: sink.sql.counts.updates,
        deletes: sink.sql.counts.deletes,
        applied,
        after,
        samples: sink.sample.samples,
    })
}
