//! `export-csv`: write a table's rows (ordered by its first column) or a query's rows
//! to a CSV file with a header. NULL is written as the configured marker (default: an
//! empty, unquoted field) and never as the text `NULL`; an empty string is written
//! quoted (`""`), so the two stay apart. The file is written whole under a temporary
//! name and renamed, so a failed export leaves no half file.
//!
//! ```toml
//! [[phases.steps]]
//! id = "export-deltas"
//! kind = "export-csv"
//! target = "local"
//! query = "SELECT * FROM sync_log ORDER BY id"   # or table = "sync_log"
//! out = "exports/sync-log.csv"                    # relative to the runbook
//! null = ""                                       # the NULL marker (default empty)
//! ```
//!
//! `this_run = true` (with `table`) keeps only the rows whose `run_id` is this run's:
//! the tables cutover's steps record into (`sync_log`, `sync_deltas`,
//! `validation_errors`, `consolidate_conflicts`) carry it.

use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::{Targets, Value};
use crate::error::{Error, Result};
use crate::runbook::Params;
use async_trait::async_trait;
use futures::StreamExt;
use std::io::Write;
use std::path::PathBuf;

pub struct ExportCsv {
    target: String,
    table: Option<String>,
    query: Option<String>,
    out: PathBuf,
    out_label: String,
    null: String,
    delimiter: u8,
    this_run: bool,
}

impl ExportCsv {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let target = ctx.target(p, "target")?;
        let table = p.str("table")?;
        let query = p.str("query")?;
        match (&table, &query) {
            (Some(_), Some(_)) => {
                return Err(p.error_at("query", "give either `table` or `query`, not both"));
            }
            (None, None) => {
                return Err(p.src.error(
                    &p.span,
                    format!(
                        "{} needs `table = \"name\"` or `query = \"SELECT ...\"`",
                        p.what
                    ),
                ));
            }
            _ => {}
        }
        let this_run = p.bool("this_run")?.unwrap_or(false);
        if this_run && table.is_none() {
            return Err(p.error_at(
                "this_run",
                "`this_run` filters a `table` by its run_id column; a `query` says its own WHERE",
            ));
        }
        let out_label = p.req_str("out")?;
        let null = p.str("null")?.unwrap_or_default();
        if null.eq_ignore_ascii_case("null") {
            return Err(p.error_at(
                "null",
                "the text NULL would read back as a value; use an empty marker (the default) or one like \"\\\\N\"",
            ));
        }
        let delimiter = match p.str("delimiter")? {
            None => b',',
            Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
            Some(_) => {
                return Err(p.error_at("delimiter", "`delimiter` must be one ASCII character"));
            }
        };
        Ok(ExportCsv {
            target,
            table,
            query,
            out: ctx.dir.join(&out_label),
            out_label,
            null,
            delimiter,
            this_run,
        })
    }

    fn field(&self, v: &Value, out: &mut Vec<u8>) {
        let text = match v {
            Value::Null => {
                out.extend_from_slice(self.null.as_bytes());
                return;
            }
            other => other.to_string(),
        };
        let d = self.delimiter as char;
        let quote = text.is_empty() || text == self.null || text.contains([d, '"', '\n', '\r']);
        if quote {
            out.push(b'"');
            out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(text.as_bytes());
        }
    }
}

#[async_trait]
impl Step for ExportCsv {
    fn kind(&self) -> &'static str {
        "export-csv"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        let what = match (&self.table, &self.query) {
            (Some(t), _) if self.this_run => format!("this run's rows of table {t}"),
            (Some(t), _) => format!("table {t}"),
            (_, Some(q)) => format!("query {}", q.replace('\n', " ")),
            _ => String::new(),
        };
        vec![format!(
            "write {what} on {} to {} (NULL as {})",
            self.target,
            self.out_label,
            if self.null.is_empty() {
                "an empty field".to_string()
            } else {
                format!("{:?}", self.null)
            }
        )]
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let db = ctx.targets.get(&self.target).await?;
        let d = db.dialect();
        let (sql, columns) = match (&self.table, &self.query) {
            (Some(t), _) => {
                let Some(table) = d.sql().introspect_table(&db, t).await? else {
                    return Err(Error::bad_input(format!(
                        "table \"{t}\" does not exist on {}",
                        db.redacted_url()
                    )));
                };
                let cols: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
                let filter = if self.this_run {
                    let Some(run_col) = cols.iter().find(|c| c.eq_ignore_ascii_case("run_id"))
                    else {
                        return Err(Error::bad_input(format!(
                            "export-csv {}: `this_run = true` needs a run_id column, and table \"{t}\" on {} has none (columns: {})",
                            ctx.step_id,
                            db.redacted_url(),
                            cols.join(", ")
                        )));
                    };
                    format!(
                        " WHERE {} = {}",
                        d.quote_ident(run_col),
                        d.quote_literal(ctx.run_id)
                    )
                } else {
                    String::new()
                };
                let list = cols
                    .iter()
                    .map(|c| d.quote_ident(c))
                    .collect::<Vec<_>>()
                    .join(", ");
                let order = (1..=cols.len())
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                (
                    format!(
                        "SELECT {list} FROM {}{filter} ORDER BY {order}",
                        d.quote_qualified(t)
                    ),
                    Some(cols),
                )
            }
            (_, Some(q)) => (q.trim().trim_end_matches(';').to_string(), None),
            _ => unreachable!("checked when built"),
        };
        if let Some(parent) = self.out.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::runtime(format!("{}: cannot create: {e}", parent.display())))?;
        }
        // Column names of a query: from its first row's result (a query with no rows
        // gets its header from a second, empty-result read of the same query).
        let columns = match columns {
            Some(c) => c,
            None => {
                let probe = db
                    .query(&format!("SELECT * FROM ({sql}) q LIMIT 1"), &[])
                    .await
                    .map_err(|e| e.context(format!("export-csv query on {}", self.target)))?;
                probe.columns
            }
        };
        let tmp = self.out.with_extension("csv.partial");
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(&tmp)
                .map_err(|e| Error::runtime(format!("{}: cannot write: {e}", tmp.display())))?,
        );
        let io =
            |e: std::io::Error| Error::runtime(format!("{}: cannot write: {e}", self.out_label));
        let mut line = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                line.push(self.delimiter);
            }
            self.field(&Value::Text(c.clone()), &mut line);
        }
        line.push(b'\n');
        if !columns.is_empty() {
            file.write_all(&line).map_err(io)?;
        }
        let mut rows = 0u64;
        let mut nulls = 0u64;
        let mut stream = db.stream(sql.clone(), Vec::new());
        while let Some(row) = stream.next().await {
            let row = match row {
                Ok(r) => r,
                Err(e) => {
                    drop(file);
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e.context(format!("export-csv on {}", self.target)));
                }
            };
            line.clear();
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    line.push(self.delimiter);
                }
                nulls += v.is_null() as u64;
                self.field(v, &mut line);
            }
            line.push(b'\n');
            file.write_all(&line).map_err(io)?;
            rows += 1;
        }
        drop(stream);
        file.flush().map_err(io)?;
        drop(file);
        std::fs::rename(&tmp, &self.out).map_err(io)?;
        let bytes = std::fs::read(&self.out).map_err(io)?;
        let evidence = ExportCsvEvidence {
            target: self.target.clone(),
            source: match (&self.table, &self.query) {
                (Some(t), _) if self.this_run => format!("table {t}, run {}", ctx.run_id),
                (Some(t), _) => format!("table {t}"),
                (_, Some(q)) => q.clone(),
                _ => String::new(),
            },
            file: self.out_label.clone(),
            columns,
            rows,
            nulls,
            bytes: bytes.len() as u64,
            sha256: crate::runbook::sha256_hex(&bytes),
        };
        Ok(StepOutcome::ok(
            format!(
                "{rows} row(s) written to {} ({} bytes, sha256 {})",
                self.out_label,
                evidence.bytes,
                &evidence.sha256[..12]
            ),
            evidence,
        ))
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExportCsvEvidence {
    pub target: String,
    /// "table NAME" or the query.
    pub source: String,
    pub file: String,
    pub columns: Vec<String>,
    pub rows: u64,
    /// NULL values written as the marker.
    pub nulls: u64,
    pub bytes: u64,
    pub sha256: String,
}
