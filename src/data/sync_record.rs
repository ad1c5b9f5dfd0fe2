//! What a sync writes about itself on the target, for people and tools that read the
//! target rather than the ledger (the control panel's "sync log" screen, a CSV export):
//!
//! - a **sync log**: one row per table synced — inserted, updated, deleted, rows after,
//!   and a status: `applied` when written (in the same transaction as the changes, so a
//!   log row exists exactly when its changes do), then `equal` or `still different`
//!   once the table has been diffed again;
//! - a **deltas table**: one row per change applied — an inserted or deleted row (its
//!   values as a JSON object), or one changed cell of an updated row (the target's value
//!   before and the source's value written).
//!
//! Both are created when missing, and carry the run and step that wrote them. Their
//! first columns (`recorded_at`/`synced_at` to the microsecond, `run_id`, `step_id`, `seq`)
//! order them as written, so a table export (`export-csv`, ordered by its columns) lists
//! them in order, even for two runs within the same second.

use super::diff::Difference;
use super::output::difference_json;
use super::plan::Plan;
use crate::db::{Db, Dialect, Statement, Value};
use crate::error::Result;

/// Where a sync records itself, and as which run and step.
#[derive(Debug, Clone)]
pub struct SyncRecords {
    pub run_id: String,
    pub step_id: String,
    /// The sync log table, if any.
    pub log_table: Option<String>,
    /// The deltas table, if any.
    pub deltas_table: Option<String>,
    /// When this sync ran (UTC, RFC 3339), the same on every row it writes.
    pub at: String,
}

/// A sync log row's status once its table was diffed again.
pub const STATUS_APPLIED: &str = "applied";
pub const STATUS_EQUAL: &str = "equal";
pub const STATUS_DIFFERENT: &str = "still different";

impl SyncRecords {
    pub fn new(run_id: &str, step_id: &str) -> Self {
        SyncRecords {
            run_id: run_id.into(),
            step_id: step_id.into(),
            log_table: None,
            deltas_table: None,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        }
    }

    /// Create the tables when missing. Run it before the sync's transaction (MySQL
    /// commits DDL implicitly).
    pub async fn ensure_tables(&self, db: &Db) -> Result<()> {
        let d = db.dialect();
        let key = d.sql().key_text_type();
        if let Some(t) = &self.log_table {
            db.execute(&format!(
                "CREATE TABLE IF NOT EXISTS {} (synced_at {key} NOT NULL, run_id {key} NOT NULL, step_id {key} NOT NULL, seq BIGINT NOT NULL, table_name {key} NOT NULL, inserted BIGINT NOT NULL, updated BIGINT NOT NULL, deleted BIGINT NOT NULL, rows_after BIGINT, status {key} NOT NULL)",
                d.quote_qualified(t)
            ))
            .await
            .map_err(|e| e.context(format!("creating the sync log table {t}")))?;
        }
        if let Some(t) = &self.deltas_table {
            db.execute(&format!(
                "CREATE TABLE IF NOT EXISTS {} (recorded_at {key} NOT NULL, run_id {key} NOT NULL, step_id {key} NOT NULL, seq BIGINT NOT NULL, table_name {key} NOT NULL, delta {key} NOT NULL, row_key TEXT NOT NULL, column_name {key}, target_value TEXT, source_value TEXT)",
                d.quote_qualified(t)
            ))
            .await
            .map_err(|e| e.context(format!("creating the sync deltas table {t}")))?;
        }
        Ok(())
    }

    /// The deltas-table rows for one difference of `table` (numbered from `*seq`).
    pub fn delta_statements(
        &self,
        d: Dialect,
        table: &str,
        plan: &Plan,
        diff: &Difference,
        seq: &mut u64,
    ) -> Vec<Statement> {
        let Some(t) = &self.deltas_table else {
            return Vec::new();
        };
        let lit = |s: &str| d.quote_literal(s);
        let opt = |v: Option<String>| v.map(|s| lit(&s)).unwrap_or_else(|| "NULL".into());
        let mut rows: Vec<DeltaRow> = Vec::new();
        match diff {
            Difference::OnlyInSource { row, count } | Difference::OnlyInTarget { row, count } => {
                let inserted = matches!(diff, Difference::OnlyInSource { .. });
                let whole = difference_json(plan, diff)["row"].to_string();
                for _ in 0..(*count).max(1) {
                    rows.push(if inserted {
                        ("insert", key_of(plan, row), None, None, Some(whole.clone()))
                    } else {
                        ("delete", key_of(plan, row), None, Some(whole.clone()), None)
                    });
                }
            }
            Difference::Changed {
                source,
                target,
                columns,
            } => {
                for &i in columns {
                    rows.push((
                        "update",
                        key_of(plan, source),
                        Some(plan.columns[i].name.clone()),
                        cell(&target[i]),
                        cell(&source[i]),
                    ));
                }
            }
        }
        rows.into_iter()
            .map(|(delta, key, column, before, after)| {
                *seq += 1;
                Statement::new(format!(
                    "INSERT INTO {} (recorded_at, run_id, step_id, seq, table_name, delta, row_key, column_name, target_value, source_value) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                    d.quote_qualified(t),
                    lit(&self.at),
                    lit(&self.run_id),
                    lit(&self.step_id),
                    *seq,
                    lit(table),
                    lit(delta),
                    lit(&key),
                    opt(column),
                    opt(before),
                    opt(after),
                ))
            })
            .collect()
    }

    /// The sync log row of one table, status `applied`.
    pub fn log_statement(
        &self,
        d: Dialect,
        seq: u64,
        table: &str,
        counts: (u64, u64, u64),
    ) -> Option<Statement> {
        let t = self.log_table.as_ref()?;
        let lit = |s: &str| d.quote_literal(s);
        Some(Statement::new(format!(
            "INSERT INTO {} (synced_at, run_id, step_id, seq, table_name, inserted, updated, deleted, rows_after, status) VALUES ({}, {}, {}, {seq}, {}, {}, {}, {}, NULL, {})",
            d.quote_qualified(t),
            lit(&self.at),
            lit(&self.run_id),
            lit(&self.step_id),
            lit(table),
            counts.0,
            counts.1,
            counts.2,
            lit(STATUS_APPLIED),
        )))
    }

    /// Settle a table's log row once it was diffed again.
    pub async fn settle(&self, db: &Db, seq: u64, rows_after: u64, equal: bool) -> Result<()> {
        let Some(t) = &self.log_table else {
            return Ok(());
        };
        let d = db.dialect();
        let lit = |s: &str| d.quote_literal(s);
        db.execute(&format!(
            "UPDATE {} SET rows_after = {rows_after}, status = {} WHERE synced_at = {} AND run_id = {} AND step_id = {} AND seq = {seq}",
            d.quote_qualified(t),
            lit(if equal { STATUS_EQUAL } else { STATUS_DIFFERENT }),
            lit(&self.at),
            lit(&self.run_id),
            lit(&self.step_id),
        ))
        .await
        .map_err(|e| e.context(format!("updating the sync log {t}")))?;
        Ok(())
    }
}

/// delta, row key, column, target value, source value
type DeltaRow = (
    &'static str,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// A row's key as `name=value, …` (every column in a multiset compare), values as
/// [`cell`] writes them.
fn key_of(plan: &Plan, row: &[Value]) -> String {
    let n = if plan.multiset {
        plan.columns.len()
    } else {
        plan.key_len
    };
    (0..n)
        .map(|i| {
            format!(
                "{}={}",
                plan.columns[i].name,
                cell(&row[i]).unwrap_or_else(|| "NULL".into())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A cell as the deltas table keeps it: NULL stays NULL, anything else its text.
fn cell(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Json(j) => Some(j.to_string()),
        other => Some(other.to_string()),
    }
}
