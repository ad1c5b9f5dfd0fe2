//! `sync`: bring tables of a target in line with a source: diff every table, apply the
//! INSERT/UPDATE/DELETE delta in foreign-key order — inserts and updates parents before
//! children, then deletes children before parents — in one transaction (or per batch
//! with `batch_commit = true`), re-diff, and fail unless every table is equal.
//! Re-running after an interruption applies only what is still different. Put a
//! `checkpoint` (after a `diff-data` showing the deltas) in front of it to approve the
//! changes.
//!
//! `log_table = "sync_log"` and `deltas_table = "sync_deltas"` make the sync also write,
//! on the target, a log row per table and a row per change applied (see
//! `data/sync_record.rs`), in the same transaction as the changes: an `export-csv` of
//! them (`this_run = true` for this run's rows) is the sync log and the deltas as CSV.

use super::diff_data::read_options;
use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::data::plan::DiffOptions;
use crate::data::sync_many::sync_tables;
use crate::data::sync_record::SyncRecords;
use crate::db::Targets;
use crate::error::Result;
use crate::runbook::Params;
use async_trait::async_trait;

pub struct SyncTables {
    source: String,
    target: String,
    tables: Vec<DiffOptions>,
    batch_size: usize,
    batch_commit: bool,
    log_table: Option<String>,
    deltas_table: Option<String>,
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
        let log_table = p.str("log_table")?;
        let deltas_table = p.str("deltas_table")?;
        for key in ["log_table", "deltas_table"] {
            let name = if key == "log_table" {
                &log_table
            } else {
                &deltas_table
            };
            if let Some(n) = name {
                if n.trim().is_empty() {
                    return Err(p.error_at(key, format!("`{key}` is empty")));
                }
                if tables.iter().any(|t| {
                    t.target_table
                        .as_deref()
                        .unwrap_or(&t.table)
                        .eq_ignore_ascii_case(n)
                }) {
                    return Err(
                        p.error_at(key, format!("`{key}` \"{n}\" is one of the tables synced"))
                    );
                }
            }
        }
        if log_table.is_some() && log_table == deltas_table {
            return Err(p.error_at(
                "deltas_table",
                "`log_table` and `deltas_table` must be different tables",
            ));
        }
        Ok(SyncTables {
            source,
            target,
            tables,
            batch_size,
            batch_commit,
            log_table,
            deltas_table,
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
        let mut lines = vec![format!(
            "apply inserts/updates/deletes to {} so that {} equal {} on {}, then re-diff",
            self.target,
            names.join(", "),
            names.join(", "),
            self.source
        )];
        if self.tables.len() > 1 {
            lines.push(format!(
                "{} foreign keys decide the order: inserts and updates parents first, deletes children first, {}",
                self.target,
                if self.batch_commit {
                    "committed per batch"
                } else {
                    "all in one transaction"
                }
            ));
        }
        match (&self.log_table, &self.deltas_table) {
            (Some(l), Some(d)) => lines.push(format!(
                "record a row per table in {l} and a row per change in {d} on {}, with the changes",
                self.target
            )),
            (Some(l), None) => lines.push(format!(
                "record a row per table in {l} on {}, with the changes",
                self.target
            )),
            (None, Some(d)) => lines.push(format!(
                "record a row per change in {d} on {}, with the changes",
                self.target
            )),
            (None, None) => {}
        }
        lines
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let src = ctx.targets.get(&self.source).await?;
        let dst = ctx.targets.get(&self.target).await?;
        let records = (self.log_table.is_some() || self.deltas_table.is_some()).then(|| {
            let mut r = SyncRecords::new(ctx.run_id, ctx.step_id);
            r.log_table = self.log_table.clone();
            r.deltas_table = self.deltas_table.clone();
            r
        });
        let o = sync_tables(
            &src,
            &dst,
            &self.tables,
            self.batch_size,
            self.batch_commit,
            records.as_ref(),
            &|p| ctx.progress(p),
        )
        .await?;
        if o.tables.len() > 1 {
            ctx.log(format!(
                "written in foreign-key order: {} (deletes in reverse)",
                o.order.join(", ")
            ));
        }
        for n in &o.notes {
            ctx.log(format!("note: {n}"));
        }
        let (mut ins, mut upd, mut del) = (0u64, 0u64, 0u64);
        let mut per_table = Vec::new();
        for t in o.tables {
            ctx.log(format!(
                "{}: {} inserted, {} updated, {} deleted; re-diff {}",
                t.table,
                t.inserts,
                t.updates,
                t.deletes,
                if t.after.equal() {
                    "equal"
                } else {
                    "STILL DIFFERENT"
                }
            ));
            ins += t.inserts;
            upd += t.updates;
            del += t.deletes;
            per_table.push(SyncedTable::Synced(TableSynced {
                table: t.table,
                inserts: t.inserts,
                updates: t.updates,
                deletes: t.deletes,
                applied: None,
                before: SyncBefore {
                    source_rows: t.before.source_rows,
                    target_rows: t.before.target_rows,
                    only_in_source: t.before.only_in_source,
                    only_in_target: t.before.only_in_target,
                    changed: t.before.changed,
                    column_changes: t.before.column_changes.clone(),
                },
                equal_after: t.after.equal(),
                rows_after: t.after.target_rows,
                differences: super::diff_data::DifferenceRecord::from_samples(t.samples)?,
            }));
        }
        if let Some(l) = &self.log_table {
            ctx.log(format!("sync log: {} row(s) in {l}", per_table.len()));
        }
        if let Some(d) = &self.deltas_table {
            ctx.log(format!("deltas: {} row(s) in {d}", o.deltas_recorded));
        }
        let mut summary = format!(
            "{} table(s) synced to {}: {ins} inserted, {upd} updated, {del} deleted",
            per_table.len(),
            self.target
        );
        if let Some(d) = &self.deltas_table {
            summary.push_str(&format!(
                "; {} change(s) recorded in {d}",
                o.deltas_recorded
            ));
        }
        Ok(StepOutcome {
            summary,
            evidence: SyncEvidence {
                source: self.source.clone(),
                target: self.target.clone(),
                batch_commit: self.batch_commit,
                tables: per_table,
                order: if self.tables.len() > 1 {
                    o.order
                } else {
                    Vec::new()
                },
                notes: o.notes,
                applied: Some(o.applied),
                log_table: self.log_table.clone(),
                deltas_table: self.deltas_table.clone(),
                deltas_recorded: self.deltas_table.as_ref().map(|_| o.deltas_recorded),
            }
            .into(),
            failure: o.failure,
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
    /// The tables in the order they were written (parents first; deletes went in
    /// reverse), when more than one was synced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<String>,
    /// What the foreign-key order could not honour (cycles, self-references).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// How all the tables' statements were applied together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<crate::data::apply::Applied>,
    /// The table on the target given a row per table synced (`log_table`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_table: Option<String>,
    /// The table on the target given a row per change applied (`deltas_table`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deltas_table: Option<String>,
    /// How many rows the deltas table received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deltas_recorded: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum SyncedTable {
    Synced(TableSynced),
    /// The table a sync stopped at (recorded by releases that synced table by table).
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
    /// How this table's changes were applied, in evidence recorded when each table
    /// was applied on its own; now every table goes in one application, recorded as
    /// the evidence's `applied`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<crate::data::apply::Applied>,
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
