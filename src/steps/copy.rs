//! `copy`: copy rows from a table (or query) of one target into a table of another,
//! in one transaction, applied at most once per run. `on_conflict = "skip"` keeps rows
//! already present (by the destination's primary key); "error" (default) fails on them.

use super::once::{Applied, apply_once};
use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::Statement;
use crate::db::Targets;
use crate::error::Result;
use crate::runbook::Params;
use async_trait::async_trait;
use futures::StreamExt;

/// What is copied: a whole table (optionally some columns) or the rows of a query.
enum Source {
    Table(String),
    Query(String),
}

pub struct CopyTables {
    from: String,
    source: Source,
    into: String,
    into_table: String,
    columns: Option<Vec<String>>,
    skip_conflicts: bool,
}

impl CopyTables {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let from = ctx.target(p, "from")?;
        let into = ctx.target(p, "into")?;
        let source = match (p.str("table")?, p.str("query")?) {
            (Some(t), None) => Source::Table(t),
            (None, Some(q)) => Source::Query(q),
            _ => {
                return Err(p.src.error(
                    &p.span,
                    format!("{} needs exactly one of `table` or `query`", p.what),
                ));
            }
        };
        let into_table = match (p.str("into_table")?, &source) {
            (Some(t), _) => t,
            (None, Source::Table(t)) => t.clone(),
            (None, Source::Query(_)) => {
                return Err(p.src.error(
                    &p.span,
                    format!(
                        "{} copies a query: name the destination with `into_table`",
                        p.what
                    ),
                ));
            }
        };
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
        Ok(CopyTables {
            from,
            source,
            into,
            into_table,
            columns: p.str_list("columns")?,
            skip_conflicts,
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
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        let src = match &self.source {
            Source::Table(t) => t.clone(),
            Source::Query(_) => "a query".into(),
        };
        vec![format!(
            "copy rows of {src} on {} into {} on {}{}",
            self.from,
            self.into_table,
            self.into,
            if self.skip_conflicts {
                ", skipping rows already present"
            } else {
                ""
            }
        )]
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let src = ctx.targets.get(&self.from).await?;
        let dst = ctx.targets.get(&self.into).await?;
        let sd = src.dialect();
        let dd = dst.dialect();
        let select = match &self.source {
            Source::Query(q) => q.clone(),
            Source::Table(t) => {
                let cols = match &self.columns {
                    Some(c) => c
                        .iter()
                        .map(|c| sd.quote_ident(c))
                        .collect::<Vec<_>>()
                        .join(", "),
                    None => "*".into(),
                };
                format!("SELECT {cols} FROM {}", sd.quote_qualified(t))
            }
        };
        // Column names from a probe of the query's shape.
        let probe = src
            .query(
                &format!("SELECT * FROM ({select}) cutover_probe LIMIT 1"),
                &[],
            )
            .await?;
        let columns: Vec<String> = match &self.columns {
            Some(c) => c.clone(),
            None if !probe.columns.is_empty() => probe.columns.clone(),
            None => Vec::new(),
        };
        let mut stream = src.stream(select.clone(), Vec::new());
        let mut stmts = Vec::new();
        let mut batch: Vec<String> = Vec::new();
        let mut n = 0u64;
        let col_list = columns
            .iter()
            .map(|c| dd.quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        let table = dd.quote_qualified(&self.into_table);
        let flush = |batch: &mut Vec<String>, stmts: &mut Vec<Statement>| {
            if batch.is_empty() {
                return;
            }
            let (pre, post) = match self.skip_conflicts {
                false => ("INSERT INTO", ""),
                true => dd.sql().insert_skipping_conflicts(),
            };
            stmts.push(Statement::new(format!(
                "{pre} {table} ({col_list}) VALUES {}{post}",
                batch.join(", ")
            )));
            batch.clear();
        };
        while let Some(row) = stream.next().await {
            let row = row?;
            batch.push(format!(
                "({})",
                row.iter()
                    .map(|v| v.to_sql_literal(dd))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            n += 1;
            if batch.len() >= 500 {
                flush(&mut batch, &mut stmts);
            }
        }
        flush(&mut batch, &mut stmts);
        drop(stream);
        let source = format!("copy into {}", self.into_table);
        match apply_once(&dst, ctx, &stmts, &source).await? {
            Applied::Now { rows, .. } => Ok(StepOutcome::ok(
                format!(
                    "{n} row(s) read from {}, {rows} inserted into {}{}",
                    self.from,
                    self.into_table,
                    if self.skip_conflicts && rows < n {
                        format!(" ({} already present, skipped)", n - rows)
                    } else {
                        String::new()
                    }
                ),
                CopyEvidence {
                    from: self.from.clone(),
                    into: self.into.clone(),
                    into_table: self.into_table.clone(),
                    rows_read: Some(n),
                    rows_inserted: Some(rows),
                    skipped: Some(n.saturating_sub(rows)),
                    already_applied: None,
                },
            )),
            Applied::Before { .. } => Ok(StepOutcome::ok(
                "already applied in this run; not repeated".to_string(),
                CopyEvidence {
                    from: self.from.clone(),
                    into: self.into.clone(),
                    into_table: self.into_table.clone(),
                    rows_read: None,
                    rows_inserted: None,
                    skipped: None,
                    already_applied: Some(true),
                },
            )),
        }
    }
}

/// What a copy did: rows read and inserted, or that an earlier attempt of this run
/// already applied it.
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
}
