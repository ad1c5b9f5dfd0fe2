//! `copy`: copy tables (or the rows of a query) of one target into another.
//!
//! Tables are copied in chunks ordered by their primary key, each chunk committed in
//! one destination transaction together with its high-water mark (table
//! `cutover_copy_progress` in the destination), so a copy killed at any moment resumes
//! after the last committed chunk and never copies a row twice. PostgreSQL to
//! PostgreSQL with the same column types pipes the binary `COPY` stream through
//! untouched; any other pair decodes rows to values and writes multi-row INSERTs. After
//! copying, sequences / AUTO_INCREMENT are set past the copied keys. Generated columns
//! are skipped (the destination computes them). A value the destination column cannot
//! hold byte for byte (a NUL byte in PostgreSQL text, bytes that are not UTF-8 in a text
//! column) is refused naming the table, key and column.
//!
//! A query (`query = "..."`) is copied the old way: all rows in one transaction,
//! applied at most once per run.

mod deferred;
mod keyless;
mod progress;
mod tables;

use super::once::{Applied, apply_once};
use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::model::{Column, Schema, Table};
use crate::db::{Class, Db, Dialect, Statement, Targets, Value};
use crate::error::{Error, Result};
use crate::runbook::Params;
use crate::schema::ddl::Ddl;
use async_trait::async_trait;
use futures::StreamExt;
use progress::*;
use std::time::Instant;
pub use tables::copy_tables;
use tables::*;

/// The destination table holding each table copy's high-water mark.
pub const PROGRESS_TABLE: &str = "cutover_copy_progress";

/// Rows per chunk (one destination transaction) when not set: binary COPY holds no
/// rows in memory, so its chunks are large; decoded rows are held a chunk at a time.
pub const DEFAULT_BATCH: u64 = 250_000;
pub const DEFAULT_DECODED_BATCH: u64 = 10_000;
/// Rows per INSERT statement on the decoded path.
const ROWS_PER_INSERT: usize = 500;

/// What is copied: tables, or the rows of a query.
enum Source {
    Tables(Vec<String>),
    Query(String),
}

pub struct CopyTables {
    from: String,
    source: Source,
    into: String,
    into_table: Option<String>,
    columns: Option<Vec<String>>,
    skip_conflicts: bool,
    create: bool,
    batch: Option<u64>,
}

impl CopyTables {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let from = ctx.target(p, "from")?;
        let into = ctx.target(p, "into")?;
        let source = match (p.str("table")?, p.str_list("tables")?, p.str("query")?) {
            (Some(t), None, None) => Source::Tables(vec![t]),
            (None, Some(ts), None) if !ts.is_empty() => Source::Tables(ts),
            (None, None, Some(q)) => Source::Query(q),
            _ => {
                return Err(p.src.error(
                    &p.span,
                    format!(
                        "{} needs exactly one of `table`, `tables` (non-empty) or `query`",
                        p.what
                    ),
                ));
            }
        };
        let into_table = p.str("into_table")?;
        match (&source, &into_table) {
            (Source::Query(_), None) => {
                return Err(p.src.error(
                    &p.span,
                    format!(
                        "{} copies a query: name the destination with `into_table`",
                        p.what
                    ),
                ));
            }
            (Source::Tables(ts), Some(_)) if ts.len() > 1 => {
                return Err(p.error_at(
                    "into_table",
                    "`into_table` names one destination: use it with `table`, not `tables`",
                ));
            }
            _ => {}
        }
        let skip_conflicts = match p.str("on_conflict")?.as_deref() {
            None | Some("error") => false,
            Some("skip") => true,
            Some(other) => {
                return Err(p.error_at(
                    "on_conflict",
                    format!("`on_conflict` must be \"error\" or \"skip\", not \"{other}\""),
                ));
            }
        };
        let batch = match p.int("batch")? {
            None => None,
            Some(n) if n >= 1 => Some(n as u64),
            Some(n) => {
                return Err(p.error_at(
                    "batch",
                    format!("`batch` (rows per transaction) must be at least 1, not {n}"),
                ));
            }
        };
        let create = p.bool("create")?.unwrap_or(false);
        let columns = p.str_list("columns")?;
        if create && matches!(source, Source::Query(_)) {
            return Err(p.error_at(
                "create",
                "`create` makes the destination from the source table's schema: use it with `table` or `tables`, not `query`",
            ));
        }
        Ok(CopyTables {
            from,
            source,
            into,
            into_table,
            columns,
            skip_conflicts,
            create,
            batch,
        })
    }
}

#[async_trait]
impl Step for CopyTables {
    fn kind(&self) -> &'static str {
        "copy"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.from.clone(), self.into.clone()]
    }
    fn writes(&self) -> Vec<String> {
        vec![self.into.clone()]
    }
    fn plan(&self, targets: &Targets) -> Vec<String> {
        let skip = if self.skip_conflicts {
            ", skipping rows already present"
        } else {
            ""
        };
        match &self.source {
            Source::Query(_) => vec![format!(
                "copy rows of a query on {} into {} on {} in one transaction{skip}",
                self.from,
                self.into_table.as_deref().unwrap_or(""),
                self.into
            )],
            Source::Tables(ts) => {
                let both_pg = match (targets.spec(&self.from), targets.spec(&self.into)) {
                    (Ok(s), Ok(d)) => crate::db::has_binary_copy(s.dialect, d.dialect),
                    _ => false,
                };
                let path = if both_pg && !self.skip_conflicts {
                    "binary COPY where the column types match, else batched INSERT"
                } else {
                    "batched INSERT"
                };
                let batch = match self.batch {
                    Some(n) => format!("{n} rows per transaction"),
                    None => format!(
                        "{DEFAULT_BATCH} rows per transaction by binary COPY, {DEFAULT_DECODED_BATCH} by INSERT"
                    ),
                };
                vec![format!(
                    "copy table(s) {} on {} into {} ({path}; {batch}, resumable by key{}{skip}); then set sequences past the copied keys",
                    ts.join(", "),
                    self.from,
                    self.into,
                    if self.create {
                        "; creating missing tables from the source's schema"
                    } else {
                        ""
                    }
                )]
            }
        }
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let src = ctx.targets.get(&self.from).await?;
        let dst = ctx.targets.get(&self.into).await?;
        let tables = match &self.source {
            Source::Query(q) => return self.copy_query(ctx, &src, &dst, q).await,
            Source::Tables(ts) => ts,
        };
        let opts = CopyOptions {
            tables: tables
                .iter()
                .map(|t| (t.clone(), self.into_table.clone().unwrap_or(t.clone())))
                .collect(),
            columns: self.columns.clone(),
            create: self.create,
            batch: self.batch,
            skip_conflicts: self.skip_conflicts,
            run_id: ctx.run_id.to_string(),
            step_id: ctx.step_id.to_string(),
            forget_progress: false,
        };
        let log = |m: String| ctx.log(m);
        let copied = copy_tables(&src, &dst, &opts, &log).await?;
        let rows: u64 = copied.iter().map(|t| t.rows).sum();
        let all_before = copied.iter().all(|t| t.already_done);
        let summary = if all_before {
            "already copied in this run; not repeated".to_string()
        } else {
            copied
                .iter()
                .map(TableCopy::summary)
                .collect::<Vec<_>>()
                .join("; ")
        };
        Ok(StepOutcome::ok(
            summary,
            CopyEvidence {
                from: self.from.clone(),
                into: self.into.clone(),
                into_table: copied
                    .iter()
                    .map(|t| t.into_table.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                rows_read: Some(rows),
                rows_inserted: Some(rows),
                skipped: None,
                already_applied: all_before.then_some(true),
                tables: copied,
            },
        ))
    }
}

impl CopyTables {
    async fn copy_query(
        &self,
        ctx: &StepContext<'_>,
        src: &Db,
        dst: &Db,
        select: &str,
    ) -> Result<StepOutcome> {
        let dd = dst.dialect();
        let into_table = self.into_table.clone().unwrap_or_default();
        // Column names from a probe of the query's shape.
        let probe = src
            .query(
                &format!("SELECT * FROM ({select}) cutover_probe LIMIT 1"),
                &[],
            )
            .await?;
        let columns: Vec<String> = match &self.columns {
            Some(c) => c.clone(),
            None => probe.columns.clone(),
        };
        let mut stream = src.stream(select.to_string(), Vec::new());
        let mut stmts = Vec::new();
        let mut batch: Vec<String> = Vec::new();
        let mut n = 0u64;
        let col_list = columns
            .iter()
            .map(|c| dd.quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        let table = dd.quote_qualified(&into_table);
        let (pre, post) = match self.skip_conflicts {
            false => ("INSERT INTO", ""),
            true => dd.sql().insert_skipping_conflicts(),
        };
        let flush = |batch: &mut Vec<String>, stmts: &mut Vec<Statement>| {
            if !batch.is_empty() {
                stmts.push(Statement::new(format!(
                    "{pre} {table} ({col_list}) VALUES {}{post}",
                    batch.join(", ")
                )));
                batch.clear();
            }
        };
        while let Some(row) = stream.next().await {
            let row = row?;
            let mut lits = Vec::with_capacity(row.len());
            for (v, c) in row.iter().zip(&columns) {
                lits.push(literal(v, dd, Class::Any).map_err(|why| {
                    Error::bad_input(format!(
                        "copy into {into_table}: row {} column \"{c}\" {why}",
                        n + 1
                    ))
                })?);
            }
            batch.push(format!("({})", lits.join(", ")));
            n += 1;
            if batch.len() >= ROWS_PER_INSERT {
                flush(&mut batch, &mut stmts);
            }
        }
        flush(&mut batch, &mut stmts);
        drop(stream);
        let source = format!("copy into {into_table}");
        let base = CopyEvidence {
            from: self.from.clone(),
            into: self.into.clone(),
            into_table: into_table.clone(),
            rows_read: None,
            rows_inserted: None,
            skipped: None,
            already_applied: None,
            tables: Vec::new(),
        };
        match apply_once(dst, ctx, &stmts, &source).await? {
            Applied::Now { rows, .. } => Ok(StepOutcome::ok(
                format!(
                    "{n} row(s) read from {}, {rows} inserted into {into_table}{}",
                    self.from,
                    if self.skip_conflicts && rows < n {
                        format!(" ({} already present, skipped)", n - rows)
                    } else {
                        String::new()
                    }
                ),
                CopyEvidence {
                    rows_read: Some(n),
                    rows_inserted: Some(rows),
                    skipped: Some(n.saturating_sub(rows)),
                    ..base
                },
            )),
            Applied::Before { .. } => Ok(StepOutcome::ok(
                "already applied in this run; not repeated".to_string(),
                CopyEvidence {
                    already_applied: Some(true),
                    ..base
                },
            )),
        }
    }
}

/// What a copy did: per table rows, bytes, time and path; or (a query copy) rows read
/// and inserted, or that an earlier attempt of this run already applied it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CopyEvidence {
    pub from: String,
    pub into: String,
    pub into_table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_read: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_inserted: Option<u64>,
    /// Rows already present (on_conflict = "skip").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub already_applied: Option<bool>,
    /// One entry per table copied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableCopy>,
}

/// How a table's rows travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CopyPath {
    /// PostgreSQL binary COPY out piped into binary COPY in, bytes untouched.
    #[serde(rename = "binary COPY")]
    BinaryCopy,
    /// Rows decoded to values and written as multi-row INSERTs.
    #[serde(rename = "batched INSERT")]
    BatchedInsert,
}

impl CopyPath {
    pub fn name(self) -> &'static str {
        match self {
            CopyPath::BinaryCopy => "binary COPY",
            CopyPath::BatchedInsert => "batched INSERT",
        }
    }
}

/// A sequence (or AUTO_INCREMENT counter) set past the copied keys.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SequenceReset {
    pub column: String,
    /// The value the next insert gets.
    pub next: i64,
}

/// One table's copy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TableCopy {
    pub table: String,
    pub into_table: String,
    /// Rows in the destination from this copy (including chunks of an earlier,
    /// interrupted attempt).
    pub rows: u64,
    /// Bytes moved: the binary COPY stream, or the INSERT statements' text.
    pub bytes: u64,
    pub elapsed_ms: u64,
    pub path: CopyPath,
    /// Destination transactions committed by this attempt.
    pub chunks: u64,
    /// Rows an earlier, interrupted attempt had already committed (resumed after them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_after_rows: Option<u64>,
    /// The key chunks are ordered by; empty: the table has none and was copied in one
    /// transaction (not resumable part-way).
    pub key: Vec<String>,
    #[serde(default)]
    pub created: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_generated: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sequences_reset: Vec<SequenceReset>,
    /// This run had copied the whole table before; nothing was done now.
    #[serde(default)]
    pub already_done: bool,
    /// Rows already in the destination were skipped (`on_conflict = "skip"`): `rows`
    /// counts the rows read from the source, not how many were inserted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub conflicts_skipped: bool,
}

impl TableCopy {
    pub fn summary(&self) -> String {
        if self.already_done {
            return format!(
                "{} → {}: already copied ({} rows)",
                self.table, self.into_table, self.rows
            );
        }
        let what = if self.conflicts_skipped {
            "row(s) read, those already in the destination skipped"
        } else {
            "row(s)"
        };
        let mut s = format!(
            "{} → {}: {} {what}, {} bytes, {} ms, {}",
            self.table,
            self.into_table,
            self.rows,
            self.bytes,
            self.elapsed_ms,
            self.path.name()
        );
        if self.created {
            s.push_str(", table created");
        }
        if let Some(r) = self.resumed_after_rows {
            s.push_str(&format!(", resumed after {r} row(s)"));
        }
        if !self.skipped_generated.is_empty() {
            s.push_str(&format!(
                ", generated column(s) {} left to the destination",
                self.skipped_generated.join(", ")
            ));
        }
        for r in &self.sequences_reset {
            s.push_str(&format!(", sequence of {} set to {}", r.column, r.next));
        }
        if self.key.is_empty() {
            s.push_str(", no key: copied in one transaction");
        }
        s
    }
}

/// What to copy and how.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// (source table, destination table), each possibly `schema.table`.
    pub tables: Vec<(String, String)>,
    /// Only these columns (default: every column that is not generated).
    pub columns: Option<Vec<String>>,
    /// Create a missing destination table from the source table's schema.
    pub create: bool,
    /// Rows per chunk (one destination transaction); default by path.
    pub batch: Option<u64>,
    /// Keep destination rows with the same key instead of failing on them.
    pub skip_conflicts: bool,
    /// Who the high-water marks belong to: a run and step, or the command line.
    pub run_id: String,
    pub step_id: String,
    /// Delete the high-water marks once every table is copied (the command line: a
    /// second `cutover copy` copies again rather than finding it done).
    pub forget_progress: bool,
}

/// Where an earlier attempt stopped.
struct Progress {
    high_water: Option<Vec<String>>,
    rows: u64,
    bytes: u64,
    done: bool,
}
