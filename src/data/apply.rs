//! Statements, in the target's dialect, that make the target equal to the source for
//! the compared rows and columns; and applying them in one transaction or per batch.
//! Identifiers are quoted by the dialect; values are rendered as properly quoted
//! literals of the target's column type.

use super::diff::{DiffSink, Difference};
use super::normalize::{Class, ColumnPlan, Norm, normalize};
use super::plan::Plan;
use crate::db::{BatchFailure, Db, Dialect, Statement, Value, execute_streamed_in_transaction};
use crate::error::{Error, Result};
use chrono::DateTime;
use futures::StreamExt;

/// Render one value as a literal for the target column.
pub fn literal(d: Dialect, v: &Value, plan: &ColumnPlan) -> String {
    // full precision: applying must copy the source value, not its rounded form
    let exact = ColumnPlan {
        scale: None,
        precision: 6,
        tolerance: None,
        ..plan.clone()
    };
    let native = plan.target_native;
    match normalize(v, &exact) {
        Norm::Null => "NULL".into(),
        Norm::Bool(b) => d.sql().bool_literal(b, native),
        Norm::Int(i) => i.to_string(),
        Norm::Dec(x) => x.to_string(),
        Norm::Float(f) => {
            if f.0.is_finite() {
                format!("{:?}", f.0)
            } else {
                d.quote_literal(&f.0.to_string())
            }
        }
        Norm::Units(u) => {
            if plan.class == Class::Time {
                let secs = (u / 1_000_000) as u32;
                let micros = (u % 1_000_000) as u32;
                d.quote_literal(&format!(
                    "{:02}:{:02}:{:02}.{micros:06}",
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60
                ))
            } else {
                let secs = u.div_euclid(1_000_000) as i64;
                let nanos = (u.rem_euclid(1_000_000) * 1000) as u32;
                let t = DateTime::from_timestamp(secs, nanos).unwrap_or_default();
                d.quote_literal(&d.sql().timestamp_text(&t))
            }
        }
        Norm::Date(x) => d.quote_literal(&x.format("%Y-%m-%d").to_string()),
        Norm::Uuid(u) => d.quote_literal(&u.hyphenated().to_string()),
        Norm::Bytes(b) => d.sql().bytes_literal(&b, native),
        Norm::Text(s) | Norm::Json(s) | Norm::Raw(s) => d.quote_literal(&s),
    }
}

/// Builds the statements while the diff runs, in memory (tests, small tables; the
/// commands spool them instead: [`super::spool::SpoolSink`]).
pub struct SqlSink {
    pub dialect: Dialect,
    pub statements: Vec<Statement>,
    pub counts: StatementCounts,
    /// Also forward every difference to this sink (output while building).
    pub inner: Option<Box<dyn DiffSink>>,
}

impl SqlSink {
    pub fn new(dialect: Dialect) -> Self {
        SqlSink {
            dialect,
            statements: Vec::new(),
            counts: StatementCounts::default(),
            inner: None,
        }
    }
}

/// What the statements built for a diff's differences do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatementCounts {
    /// INSERT statements.
    pub inserts: u64,
    /// UPDATE statements (one per changed row).
    pub updates: u64,
    /// Rows deleted (a multiset's duplicates go in one statement).
    pub deletes: u64,
}

impl StatementCounts {
    /// Count `statements`, the statements built for `d`.
    pub fn add(&mut self, d: &Difference, statements: usize) {
        match d {
            Difference::OnlyInSource { .. } => self.inserts += statements as u64,
            Difference::OnlyInTarget { count, .. } => self.deletes += count,
            Difference::Changed { .. } => self.updates += 1,
        }
    }
}

fn table(d: Dialect, plan: &Plan) -> String {
    d.quote_qualified(&plan.target_table)
}

fn col(d: Dialect, c: &ColumnPlan) -> String {
    d.quote_ident(&c.target_name)
}

fn key_where(d: Dialect, plan: &Plan, row: &[Value]) -> String {
    plan.keys()
        .iter()
        .enumerate()
        .map(|(i, c)| match literal(d, &row[i], c).as_str() {
            "NULL" => format!("{} IS NULL", col(d, c)),
            l => format!("{} = {l}", col(d, c)),
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn all_where(d: Dialect, plan: &Plan, row: &[Value]) -> String {
    plan.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let l = literal(d, &row[i], c);
            let c = col(d, c);
            d.sql().null_safe_eq(&c, &l)
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The statements for one difference.
pub fn statements_for(d: Dialect, plan: &Plan, diff: &Difference) -> Vec<String> {
    let t = table(d, plan);
    match diff {
        Difference::OnlyInSource { row, count } => {
            let cols: Vec<String> = plan.columns.iter().map(|c| col(d, c)).collect();
            let vals: Vec<String> = plan
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| literal(d, &row[i], c))
                .collect();
            let one = format!(
                "INSERT INTO {t} ({}) VALUES ({})",
                cols.join(", "),
                vals.join(", ")
            );
            vec![one; *count as usize]
        }
        Difference::OnlyInTarget { row, count } => {
            if plan.multiset {
                let w = all_where(d, plan, row);
                vec![d.sql().delete_limited(&t, &w, *count)]
            } else {
                vec![format!("DELETE FROM {t} WHERE {}", key_where(d, plan, row))]
            }
        }
        Difference::Changed {
            source,
            target,
            columns,
        } => {
            let sets: Vec<String> = columns
                .iter()
                .map(|i| {
                    let c = &plan.columns[*i];
                    format!("{} = {}", col(d, c), literal(d, &source[*i], c))
                })
                .collect();
            vec![format!(
                "UPDATE {t} SET {} WHERE {}",
                sets.join(", "),
                key_where(d, plan, target)
            )]
        }
    }
}

impl DiffSink for SqlSink {
    fn difference(&mut self, plan: &Plan, d: Difference) -> Result<()> {
        let sts = statements_for(self.dialect, plan, &d);
        self.counts.add(&d, sts.len());
        for s in sts {
            let line = self.statements.len() + 1;
            self.statements.push(Statement { sql: s, line });
        }
        if let Some(i) = &mut self.inner {
            i.difference(plan, d)?;
        }
        Ok(())
    }
}

/// What applying did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Applied {
    pub statements: u64,
    pub batches: u64,
    pub rows_affected: u64,
    pub batch_commit: bool,
}

/// Execute the statements: all in one transaction, or committed per batch
/// (`batch_commit`; an interrupted run is resumed by diffing and applying again).
pub async fn apply(
    target: &Db,
    statements: &[Statement],
    batch_size: usize,
    batch_commit: bool,
) -> Result<Applied> {
    let each = statements.iter().map(|s| Ok(s.sql.clone()));
    apply_each(target, each, batch_size, batch_commit).await
}

/// Groups statements read one at a time into batches, numbered from 1 across them.
struct Batches<I> {
    statements: I,
    size: usize,
    read: usize,
}

impl<I: Iterator<Item = Result<String>>> Iterator for Batches<I> {
    type Item = Result<Vec<Statement>>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut batch = Vec::new();
        for sql in self.statements.by_ref() {
            match sql {
                Ok(sql) => {
                    self.read += 1;
                    batch.push(Statement {
                        sql,
                        line: self.read,
                    });
                    if batch.len() == self.size {
                        break;
                    }
                }
                Err(e) => return Some(Err(e)),
            }
        }
        (!batch.is_empty()).then_some(Ok(batch))
    }
}

/// [`apply`] for statements read one at a time (e.g. from a [`super::spool::Spool`]):
/// memory holds one batch, whatever the number of statements. Executes them in one
/// transaction, or committed per batch.
pub async fn apply_each(
    target: &Db,
    statements: impl Iterator<Item = Result<String>> + Send,
    batch_size: usize,
    batch_commit: bool,
) -> Result<Applied> {
    let mut out = Applied {
        batch_commit,
        ..Default::default()
    };
    let failed = |at: u64, sql: &str, message: &str| {
        Error::runtime(format!(
            "applying to {} failed at statement {at} ({}); {}: {message}",
            target.redacted_url(),
            sql.chars().take(200).collect::<String>(),
            if batch_commit {
                "earlier batches stay committed: run the same command again to resume"
            } else {
                "the transaction was rolled back, nothing was applied"
            },
        ))
    };
    let size = batch_size.max(1);
    let mut batches = Batches {
        statements,
        size,
        read: 0,
    };
    if batch_commit {
        let mut done = 0u64;
        for chunk in batches.by_ref() {
            let chunk = chunk.map_err(|e| {
                e.context(format!(
                    "applying to {} (earlier batches stay committed: run the same command again to resume)",
                    target.redacted_url()
                ))
            })?;
            out.rows_affected += target.execute_in_transaction(&chunk).await.map_err(|e| {
                let sql = chunk
                    .get(e.index)
                    .map(|s| s.sql.as_str())
                    .unwrap_or_default();
                failed(done + e.index as u64 + 1, sql, &e.message)
            })?;
            done += chunk.len() as u64;
            out.batches += 1;
        }
    } else {
        let groups = futures::stream::iter(batches.by_ref()).boxed();
        out.rows_affected = execute_streamed_in_transaction(target, groups)
            .await
            .map_err(|f| match f {
                BatchFailure::Statement { error, sql } => {
                    failed(error.index as u64 + 1, &sql, &error.message)
                }
                BatchFailure::Feed(e) => e.context(format!(
                    "applying to {} (the transaction was rolled back, nothing was applied)",
                    target.redacted_url()
                )),
            })?;
        out.batches = batches.read.div_ceil(size) as u64;
    }
    out.statements = batches.read as u64;
    Ok(out)
}
