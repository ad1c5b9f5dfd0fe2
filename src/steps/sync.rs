//! `sync`: bring tables of a target in line with a source: diff, apply the INSERT/
//! UPDATE/DELETE delta (one transaction per table, or per batch with
//! `batch_commit = true`), re-diff, and fail unless the re-diff is equal. Re-running
//! after an interruption applies only what is still different. Put a `checkpoint`
//! (after a `diff-data` showing the deltas) in front of it to approve the changes.

use super::diff_data::read_options;
use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::data::plan::DiffOptions;
use crate::data::reconcile::sync_table;
use crate::db::Targets;
use crate::error::{ErrorKind, Result};
use crate::runbook::Params;
use async_trait::async_trait;

pub struct SyncTables {
    source: String,
    target: String,
    tables: Vec<DiffOptions>,
    batch_size: usize,
    batch_commit: bool,
}

impl SyncTables {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let source = ctx.target(p, "source")?;
        let target = ctx.target(p, "target")?;
        let tables = match (p.str_list("tables")?, p.has("table")) {
            (Some(_), true) => {
                return Err(p.error_at("tables", "give either `table` or `tables`, not both"));
            }
            (Some(list), false) => {
                if list.is_empty() {
                    return Err(p.error_at("tables", "`tables` is empty"));
                }
                let mut v = Vec::new();
                for t in list {
                    v.push(read_options(p, Some(t))?);
                }
                v
            }
            (None, _) => vec![read_options(p, None)?],
        };
        let batch_size = p.count("batch_size")?.unwrap_or(500).max(1) as usize;
        let batch_commit = p.bool("batch_commit")?.unwrap_or(false);
        Ok(SyncTables {
            source,
            target,
            tables,
            batch_size,
            batch_commit,
        })
    }
}

#[async_trait]
impl Step for SyncTables {
    fn kind(&self) -> &'static str {
        "sync"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.source.clone(), self.target.clone()]
    }
    fn writes(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        let names: Vec<&str> = self.tables.iter().map(|t| t.table.as_str()).collect();
        vec![format!(
            "apply inserts/updates/deletes to {} so that {} equal {} on {}, then re-diff",
            self.target,
            names.join(", "),
            names.join(", "),
            self.source
        )]
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let src = ctx.targets.get(&self.source).await?;
        let dst = ctx.targets.get(&self.target).await?;
        let mut per_table = Vec::new();
        let (mut ins, mut upd, mut del) = (0u64, 0u64, 0u64);
        let mut failure = None;
        for opts in &self.tables {
            match sync_table(&src, &dst, opts, self.batch_size, self.batch_commit, &|p| {
                ctx.progress(p)
            })
            .await
            {
                Ok(o) => {
                    ctx.log(format!(
                        "{}: {} inserted, {} updated, {} deleted; re-diff equal",
                        opts.table, o.inserts, o.updates, o.deletes
                    ));
                    ins += o.inserts;
                    upd += o.updates;
                    del += o.deletes;
                    per_table.push(SyncedTable::Synced(TableSynced {
                        table: opts.table.clone(),
                        inserts: o.inserts,
                        updates: o.updates,
                        deletes: o.deletes,
                        applied: o.applied,
                        before: SyncBefore {
                            source_rows: o.before.source_rows,
                            target_rows: o.before.target_rows,
                            only_in_source: o.before.only_in_source,
                            only_in_target: o.before.only_in_target,
                            changed: o.before.changed,
                            column_changes: o.before.column_changes.clone(),
                        },
                        equal_after: o.after.equal(),
                        rows_after: o.after.target_rows,
                        differences: super::diff_data::DifferenceRecord::from_samples(o.samples)?,
                    }));
                }
                Err(e) if e.kind == ErrorKind::CheckFailed => {
                    failure = Some(e.message.clone());
                    per_table.push(SyncedTable::Failed {
                        table: opts.table.clone(),
                        error: e.message.clone(),
                    });
                    break;
                }
                Err(e) => return Err(e.context(format!("table {}", opts.table))),
            }
        }
        Ok(StepOutcome {
            summary: format!(
                "{} table(s) synced to {}: {ins} inserted, {upd} updated, {del} deleted",
                per_table.len(),
                self.target
            ),
            evidence: SyncEvidence {
                source: self.source.clone(),
                target: self.target.clone(),
                batch_commit: self.batch_commit,
                tables: per_table,
            }
            .into(),
            failure,
            hazards: Vec::new(),
        })
    }
}

/// A sync: per table, what was inserted, updated and deleted, the differences before
/// and whether the tables are equal after.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SyncEvidence {
    pub source: String,
    pub target: String,
    pub batch_commit: bool,
    pub tables: Vec<SyncedTable>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum SyncedTable {
    Synced(TableSynced),
    /// The table the sync stopped at.
    Failed {
        table: String,
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TableSynced {
    pub table: String,
    pub inserts: u64,
    pub updates: u64,
    pub deletes: u64,
    /// How the changes were applied (`data::reconcile`'s record of it).
    pub applied: crate::data::apply::Applied,
    pub before: SyncBefore,
    pub equal_after: bool,
    pub rows_after: u64,
    pub differences: Vec<super::diff_data::DifferenceRecord>,
}

/// The differences found before the sync applied anything.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SyncBefore {
    pub source_rows: u64,
    pub target_rows: u64,
    pub only_in_source: u64,
    pub only_in_target: u64,
    pub changed: u64,
    pub column_changes: std::collections::BTreeMap<String, u64>,
}
