//! `backfill`: fill a column's NULLs in batches of key ranges, from an expression over
//! the row or from a joined table (`from`, `value`, `on`).
//!
//! Each batch is one transaction in the target: the fill (only rows still NULL, so a
//! batch done twice fills nothing twice), the rows it could not fill written to the
//! validation table with a reason, and the batch's high-water mark
//! (`steps::batch`); then the mark goes to the ledger. A batch that fails rolls back
//! alone: the mark stays at the batch before it and the error names the key range. The
//! step fails below `min_success_rate`, so the runbook's `on_failure` rollback runs.

use super::batch::{self, Mark};
use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::{Db, Dialect, Statement, Targets, Value};
use crate::error::{Error, Result};
use crate::runbook::Params;
use crate::vocab::ProgressMeter;
use async_trait::async_trait;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub const DEFAULT_BATCH: u64 = 10_000;
pub const DEFAULT_ERRORS_TABLE: &str = "validation_errors";

/// Where the values come from.
#[derive(Debug, Clone)]
enum Fill {
    /// An expression over the row's own columns.
    Expression(String),
    /// `value` of the row of `from` that `on` matches.
    Join {
        from: String,
        value: String,
        on: String,
    },
}

pub struct Backfill {
    target: String,
    table: String,
    column: String,
    key: Option<String>,
    fill: Fill,
    batch: u64,
    pause_ms: u64,
    lock_timeout_ms: u64,
    statement_timeout_ms: u64,
    errors_table: String,
    errors_csv: Option<(String, PathBuf)>,
    reason: Option<String>,
    min_success_rate: Option<f64>,
}

fn float(p: &Params, key: &'static str) -> Result<Option<f64>> {
    use toml::de::DeValue;
    match p.raw(key) {
        None => Ok(None),
        Some(v) => match v.get_ref() {
            DeValue::Float(f) => f
                .as_str()
                .parse::<f64>()
                .map(Some)
                .map_err(|_| p.value_error(v, format!("`{key}` must be a number"))),
            DeValue::Integer(i) => i
                .as_str()
                .parse::<f64>()
                .map(Some)
                .map_err(|_| p.value_error(v, format!("`{key}` must be a number"))),
            _ => Err(p.value_error(
                v,
                format!("`{key}` in {} must be a number between 0 and 1", p.what),
            )),
        },
    }
}

impl Backfill {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let target = ctx.target(p, "target")?;
        let table = p.req_str("table")?;
        let column = p.req_str("column")?;
        let key = p.str("key")?;
        let fill = match (
            p.str("expression")?,
            p.str("from")?,
            p.str("value")?,
            p.str("on")?,
        ) {
            (Some(e), None, None, None) => Fill::Expression(e),
            (None, Some(from), Some(value), Some(on)) => Fill::Join { from, value, on },
            (None, Some(_), _, _) | (None, None, Some(_), _) | (None, None, None, Some(_)) => {
                return Err(p.src.error(
                    &p.span,
                    format!(
                        "{} fills from a table: give all of `from` (the table), `value` (what to take from it) and `on` (how its rows match)",
                        p.what
                    ),
                ));
            }
            (Some(_), _, _, _) => {
                return Err(p.error_at(
                    "expression",
                    "give either `expression` or `from`/`value`/`on`, not both",
                ));
            }
            (None, None, None, None) => {
                return Err(p.src.error(
                    &p.span,
                    format!(
                        "{} needs `expression = \"...\"` or `from`, `value` and `on`",
                        p.what
                    ),
                ));
            }
        };
        let batch = match p.count("batch")? {
            None => DEFAULT_BATCH,
            Some(0) => {
                return Err(
                    p.error_at("batch", "`batch` (rows per transaction) must be at least 1")
                );
            }
            Some(n) => n,
        };
        let pause_ms = p.count("pause_ms")?.unwrap_or(0);
        let lock_timeout_ms = p.count("lock_timeout_ms")?.unwrap_or(5_000).max(1);
        let statement_timeout_ms = p.count("statement_timeout_ms")?.unwrap_or(60_000).max(1);
        let errors_table = p
            .str("errors_table")?
            .unwrap_or_else(|| DEFAULT_ERRORS_TABLE.into());
        let errors_csv = p.str("errors_csv")?.map(|s| (s.clone(), ctx.dir.join(&s)));
        let reason = p.str("reason")?;
        let min_success_rate = float(p, "min_success_rate")?;
        if let Some(r) = min_success_rate
            && !(0.0..=1.0).contains(&r)
        {
            return Err(p.error_at(
                "min_success_rate",
                format!("`min_success_rate` is a fraction between 0 and 1 (0.95 for 95%), not {r}"),
            ));
        }
        Ok(Backfill {
            target,
            table,
            column,
            key,
            fill,
            batch,
            pause_ms,
            lock_timeout_ms,
            statement_timeout_ms,
            errors_table,
            errors_csv,
            reason,
            min_success_rate,
        })
    }

    fn source_text(&self) -> String {
        match &self.fill {
            Fill::Expression(e) => format!("expression {e}"),
            Fill::Join { from, value, on } => format!("{value} from {from} on {on}"),
        }
    }

    fn reason(&self) -> String {
        self.reason.clone().unwrap_or_else(|| match &self.fill {
            Fill::Expression(_) => "the expression gave NULL".into(),
            Fill::Join { from, .. } => format!("no row of {from} matches"),
        })
    }

    /// The key column: the one named, else the table's single-column primary key.
    async fn key_column(&self, db: &Db) -> Result<String> {
        let d = db.dialect();
        let t = d
            .sql()
            .introspect_table(db, &self.table)
            .await?
            .ok_or_else(|| {
                Error::bad_input(format!(
                    "backfill: table \"{}\" does not exist on {}",
                    self.table,
                    db.redacted_url()
                ))
            })?;
        if t.column(&self.column).is_none() {
            return Err(Error::bad_input(format!(
                "backfill: table \"{}\" has no column \"{}\"",
                self.table, self.column
            )));
        }
        if let Some(k) = &self.key {
            if t.column(k).is_none() {
                return Err(Error::bad_input(format!(
                    "backfill: table \"{}\" has no key column \"{k}\"",
                    self.table
                )));
            }
            return Ok(k.clone());
        }
        match t.primary_key.as_ref().map(|pk| pk.columns.as_slice()) {
            Some([one]) => Ok(one.clone()),
            Some(many) => Err(Error::bad_input(format!(
                "backfill: table \"{}\" has a primary key of {} columns; name one unique, ordered column with `key`",
                self.table,
                many.len()
            ))),
            None => Err(Error::bad_input(format!(
                "backfill: table \"{}\" has no primary key; name a unique, ordered column with `key`",
                self.table
            ))),
        }
    }
}

/// The SQL a batch runs, built once per step.
struct BatchSql {
    d: Dialect,
    /// Quoted table, column and key, the key qualified by the table.
    table: String,
    column: String,
    key: String,
    fill: Fill,
    errors: String,
    run_id: String,
    step_id: String,
    table_name: String,
    column_name: String,
    reason: String,
}

impl BatchSql {
    fn range(&self, lo: Option<&str>, hi: &str) -> String {
        match lo {
            Some(lo) => format!("{k} > {lo} AND {k} <= {hi}", k = self.key),
            None => format!("{} <= {hi}", self.key),
        }
    }
    fn fill(&self, range: &str) -> String {
        let filter = format!("{range} AND {}.{} IS NULL", self.table, self.column);
        match &self.fill {
            Fill::Expression(e) => format!(
                "UPDATE {} SET {} = ({e}) WHERE {filter}",
                self.table, self.column
            ),
            Fill::Join { from, value, on } => self.d.sql().update_from(
                &self.table,
                &self.column,
                &format!("({value})"),
                &self.d.quote_qualified(from),
                on,
                &filter,
            ),
        }
    }
    /// How many rows of the range are NULL (a subquery).
    fn nulls(&self, range: &str) -> String {
        format!(
            "(SELECT count(*) FROM {} WHERE {range} AND {}.{} IS NULL)",
            self.table, self.table, self.column
        )
    }
    fn errors(&self, range: &str) -> String {
        let lit = |s: &str| self.d.quote_literal(s);
        format!(
            "INSERT INTO {} (run_id, step_id, table_name, column_name, row_key, reason, recorded_at) SELECT {}, {}, {}, {}, {}, {}, {} FROM {} WHERE {range} AND {}.{} IS NULL",
            self.errors,
            lit(&self.run_id),
            lit(&self.step_id),
            lit(&self.table_name),
            lit(&self.column_name),
            self.d.sql().cast_text(&self.key),
            lit(&self.reason),
            lit(&chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            self.table,
            self.table,
            self.column
        )
    }
}

async fn ensure_errors_table(db: &Db, name: &str) -> Result<()> {
    let d = db.dialect();
    let key = d.sql().key_text_type();
    db.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {} (run_id {key} NOT NULL, step_id {key} NOT NULL, table_name {key} NOT NULL, column_name {key} NOT NULL, row_key TEXT NOT NULL, reason TEXT NOT NULL, recorded_at {key} NOT NULL)",
        d.quote_qualified(name)
    ))
    .await
    .map_err(|e| e.context(format!("creating the validation table {name}")))?;
    Ok(())
}

/// The next batch's last key after `lo`: the `n`th key, or the last one.
async fn next_high(
    db: &Db,
    table: &str,
    key: &str,
    lo: Option<&str>,
    n: u64,
) -> Result<Option<Value>> {
    let after = lo
        .map(|lo| format!(" WHERE {key} > {lo}"))
        .unwrap_or_default();
    let nth = db
        .query(
            &format!(
                "SELECT {key} FROM {table}{after} ORDER BY {key} LIMIT 1 OFFSET {}",
                n - 1
            ),
            &[],
        )
        .await?;
    if let Some(v) = nth.scalar() {
        return Ok(Some(v.clone()));
    }
    let last = db
        .query(&format!("SELECT max({key}) FROM {table}{after}"), &[])
        .await?;
    Ok(last.scalar().filter(|v| !v.is_null()).cloned())
}

#[async_trait]
impl Step for Backfill {
    fn kind(&self) -> &'static str {
        "backfill"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn writes(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn plan(&self, targets: &Targets) -> Vec<String> {
        let mut v = vec![format!(
            "fill NULLs of {}.{} on {} with {}, {} rows per transaction{}; resumable from the high-water mark",
            self.table,
            self.column,
            self.target,
            self.source_text(),
            self.batch,
            if self.pause_ms > 0 {
                format!(", {} ms between batches", self.pause_ms)
            } else {
                String::new()
            }
        )];
        v.push(format!(
            "rows left NULL go to {} with the reason \"{}\"{}",
            self.errors_table,
            self.reason(),
            self.errors_csv
                .as_ref()
                .map(|(s, _)| format!(" and to {s}"))
                .unwrap_or_default()
        ));
        let timeouts = match targets.spec(&self.target) {
            Ok(t) => t
                .dialect
                .sql()
                .describe_batch_timeouts(self.lock_timeout_ms, self.statement_timeout_ms),
            Err(_) => "SQLite: one writer at a time, no lock or statement timeout".into(),
        };
        v.push(timeouts);
        if let Some(r) = self.min_success_rate {
            v.push(format!("fails below a success rate of {}", percent(r)));
        }
        v
    }
    fn files_read(&self) -> Vec<PathBuf> {
        Vec::new()
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let started = Instant::now();
        let db = ctx.targets.get(&self.target).await?;
        let d = db.dialect();
        let key_name = self.key_column(&db).await?;
        batch::ensure_progress_table(&db).await?;
        ensure_errors_table(&db, &self.errors_table).await?;
        let table = d.quote_qualified(&self.table);
        let sql = BatchSql {
            d,
            key: format!("{table}.{}", d.quote_ident(&key_name)),
            column: d.quote_ident(&self.column),
            table: table.clone(),
            fill: self.fill.clone(),
            errors: d.quote_qualified(&self.errors_table),
            run_id: ctx.run_id.into(),
            step_id: ctx.step_id.into(),
            table_name: self.table.clone(),
            column_name: self.column.clone(),
            reason: self.reason(),
        };
        let scope = self.table.clone();
        let (mut mark, note) = batch::resume_mark(&db, ctx, "backfill", &scope).await?;
        if let Some(n) = &note {
            ctx.log(n.clone());
        }
        let resumed_after = mark.high_water.clone().filter(|_| mark.batches > 0);
        let before = mark.clone();
        if !mark.done {
            if let Some(hw) = &resumed_after {
                ctx.log(format!(
                    "resuming after {key_name} = {hw}: {} batch(es), {} row(s) filled and {} not before",
                    mark.batches, mark.rows_done, mark.rows_failed
                ));
            }
            let after = mark
                .high_water_sql
                .as_deref()
                .map(|lo| format!(" AND {} > {lo}", sql.key))
                .unwrap_or_default();
            let left = db
                .query(
                    &format!(
                        "SELECT count(*) FROM {table} WHERE {table}.{} IS NULL{after}",
                        sql.column
                    ),
                    &[],
                )
                .await?
                .scalar()
                .and_then(Value::as_i64)
                .unwrap_or(0) as u64;
            let total = left + mark.rows_done + mark.rows_failed;
            let mut meter = ProgressMeter::new("rows", Some(total));
            let timeouts = d
                .sql()
                .batch_timeouts(self.lock_timeout_ms, self.statement_timeout_ms);
            let bounded = d
                .sql()
                .statement_time_prefix(&db, self.statement_timeout_ms)
                .await?
                .unwrap_or_default();
            let mut longest = Duration::ZERO;
            loop {
                let lo = mark.high_water_sql.clone();
                let Some(hi) = next_high(&db, &table, &sql.key, lo.as_deref(), self.batch).await?
                else {
                    break;
                };
                let hi_sql = hi.to_sql_literal(d);
                let range = sql.range(lo.as_deref(), &hi_sql);
                let next = Mark {
                    high_water_sql: Some(hi_sql.clone()),
                    high_water: Some(hi.to_string()),
                    batches: mark.batches + 1,
                    ..mark.clone()
                };
                // The mark counts the range's NULLs as filled before the fill, then
                // moves those still NULL to the unfilled count after it.
                let nulls = sql.nulls(&range);
                let mut stmts: Vec<Statement> = timeouts.iter().map(Statement::new).collect();
                stmts.extend(batch::mark_statements(
                    &db,
                    ctx.run_id,
                    ctx.step_id,
                    &scope,
                    &next,
                ));
                stmts.push(batch::add_counts(
                    &db,
                    ctx.run_id,
                    ctx.step_id,
                    &scope,
                    &nulls,
                    "0",
                ));
                let fill_at = stmts.len();
                stmts.push(Statement::new(format!("{bounded}{}", sql.fill(&range))));
                stmts.push(Statement::new(format!("{bounded}{}", sql.errors(&range))));
                stmts.push(batch::add_counts(
                    &db,
                    ctx.run_id,
                    ctx.step_id,
                    &scope,
                    &format!("-{nulls}"),
                    &nulls,
                ));
                stmts.extend(batch::anchor_statements(&db, ctx).await?);
                let t0 = Instant::now();
                let counts = db.execute_in_transaction_each(&stmts).await.map_err(|e| {
                    let what = if e.index == fill_at {
                        "filling"
                    } else if e.index == fill_at + 1 {
                        "recording the rows left NULL"
                    } else {
                        "recording its high-water mark"
                    };
                    let from = mark
                        .high_water
                        .as_deref()
                        .map(|h| format!("after {h}"))
                        .unwrap_or_else(|| "from the first row".into());
                    Error::runtime(format!(
                        "batch {} of {}.{} ({key_name} {from} up to {hi}) failed while {what} on {}: {}\n  that batch was rolled back; the high-water mark stays {}, with {} row(s) filled before it",
                        mark.batches + 1,
                        self.table,
                        self.column,
                        db.redacted_url(),
                        e.message,
                        mark.high_water
                            .as_deref()
                            .map(|h| format!("at {key_name} = {h}"))
                            .unwrap_or_else(|| "unset (no batch committed)".into()),
                        mark.rows_done
                    ))
                    .with_hint("fix the cause and run again: the backfill continues after the last committed batch")
                })?;
                longest = longest.max(t0.elapsed());
                mark = Mark {
                    rows_done: mark.rows_done + counts[fill_at],
                    rows_failed: mark.rows_failed + counts[fill_at + 1],
                    ..next
                };
                // The batch is committed in the target; the ledger has not heard yet.
                crate::crash::point(&format!("backfill:{}:{}", ctx.step_id, mark.batches));
                // The committed batch's mark must reach the ledger again, even if this
                // call fails: a resume records it from the target's mark.
                let rows_now = mark.rows_done + mark.rows_failed;
                batch::record(ctx, "backfill", &scope, &mark).await?;
                if let Some(p) = meter.tick(rows_now, false) {
                    ctx.progress(p);
                }
                tracing::debug!(
                    step = ctx.step_id,
                    batch = mark.batches,
                    "backfill batch committed up to {hi}"
                );
                if self.pause_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(self.pause_ms)).await;
                }
            }
            mark.done = true;
            let mut closing = batch::mark_statements(&db, ctx.run_id, ctx.step_id, &scope, &mark);
            closing.extend(batch::anchor_statements(&db, ctx).await?);
            db.execute_in_transaction(&closing).await.map_err(|e| {
                Error::runtime(format!(
                    "backfill of {}.{}: could not record the end on {}: {}",
                    self.table,
                    self.column,
                    db.redacted_url(),
                    e.message
                ))
            })?;
            if let Some(p) = meter.tick(mark.rows_done + mark.rows_failed, true) {
                ctx.progress(p);
            }
            self.finish(
                ctx,
                &db,
                mark,
                before,
                resumed_after,
                note,
                started,
                Some(longest),
            )
            .await
        } else {
            self.finish(ctx, &db, mark, before, None, note, started, None)
                .await
        }
    }
}

fn percent(r: f64) -> String {
    let p = r * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{}%", p.round() as i64)
    } else {
        format!("{p:.1}%")
    }
}

impl Backfill {
    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        ctx: &StepContext<'_>,
        db: &Db,
        mark: Mark,
        before: Mark,
        resumed_after: Option<String>,
        note: Option<String>,
        started: Instant,
        longest: Option<Duration>,
    ) -> Result<StepOutcome> {
        let already = before.done;
        if let Some((label, path)) = &self.errors_csv {
            write_errors_csv(db, &self.errors_table, ctx, path)
                .await
                .map_err(|e| e.context(format!("writing {label}")))?;
        }
        let considered = mark.rows_done + mark.rows_failed;
        let rate = (considered > 0).then(|| mark.rows_done as f64 / considered as f64);
        let evidence = BackfillEvidence {
            target: self.target.clone(),
            table: self.table.clone(),
            column: self.column.clone(),
            source: self.source_text(),
            rows_filled: mark.rows_done,
            rows_unfilled: mark.rows_failed,
            success_rate: rate,
            min_success_rate: self.min_success_rate,
            batches: mark.batches,
            batch_size: self.batch,
            resumed_after,
            errors_table: self.errors_table.clone(),
            errors_csv: self.errors_csv.as_ref().map(|(s, _)| s.clone()),
            longest_batch_ms: longest.map(|d| d.as_millis() as u64),
            elapsed_ms: started.elapsed().as_millis() as u64,
            already_done: already.then_some(true),
            notes: note.into_iter().collect(),
        };
        let rate_text = match rate {
            Some(r) => format!("success rate {}", percent(r)),
            None => "no NULLs to fill".into(),
        };
        let resumed = evidence
            .resumed_after
            .as_ref()
            .map(|k| format!(", resumed after {k}"))
            .unwrap_or_default();
        let summary = format!(
            "{}{} of {} row(s) of {}.{} filled, {} left NULL (in {}), {rate_text}, {} batch(es){resumed}",
            if already {
                "already done in this run: "
            } else {
                ""
            },
            mark.rows_done,
            considered,
            self.table,
            self.column,
            mark.rows_failed,
            self.errors_table,
            mark.batches
        );
        let mut out = StepOutcome::ok(summary, evidence);
        if let (Some(min), Some(r)) = (self.min_success_rate, rate)
            && r < min
        {
            out.failure = Some(format!(
                "backfill of {}.{}: success rate {} ({} of {} row(s) filled) is below min_success_rate {}; the {} row(s) not filled are in {}",
                self.table,
                self.column,
                percent(r),
                mark.rows_done,
                considered,
                percent(min),
                mark.rows_failed,
                self.errors_table
            ));
        }
        Ok(out)
    }
}

/// Write this run's step's rows of the validation table to a CSV file (all of them,
/// across resumed attempts), keys in order.
async fn write_errors_csv(
    db: &Db,
    table: &str,
    ctx: &StepContext<'_>,
    path: &std::path::Path,
) -> Result<()> {
    let d = db.dialect();
    let rows = db
        .query(
            &format!(
                "SELECT table_name, column_name, row_key, reason FROM {} WHERE run_id = {} AND step_id = {} ORDER BY length(row_key), row_key",
                d.quote_qualified(table),
                d.placeholder(1),
                d.placeholder(2)
            ),
            &[Value::from(ctx.run_id), Value::from(ctx.step_id)],
        )
        .await?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut w = csv::Writer::from_path(path)
        .map_err(|e| Error::runtime(format!("{}: {e}", path.display())))?;
    let io = |e: csv::Error| Error::runtime(format!("{}: {e}", path.display()));
    w.write_record(["table", "column", "key", "reason"])
        .map_err(io)?;
    for r in &rows.rows {
        let cells: Vec<String> = r.iter().map(|v| v.to_string()).collect();
        w.write_record(&cells).map_err(io)?;
    }
    w.flush()?;
    Ok(())
}

/// What a backfill did: rows filled and left NULL, the success rate (filled over rows
/// that were NULL), batches, where the unfilled rows went, the longest batch.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BackfillEvidence {
    pub target: String,
    pub table: String,
    pub column: String,
    /// The expression, or `value from table on condition`.
    pub source: String,
    pub rows_filled: u64,
    pub rows_unfilled: u64,
    /// rows_filled / (rows_filled + rows_unfilled); absent when there was nothing to fill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_success_rate: Option<f64>,
    pub batches: u64,
    pub batch_size: u64,
    /// The key an interrupted attempt had reached; this attempt went on after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_after: Option<String>,
    pub errors_table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors_csv: Option<String>,
    /// The longest batch transaction of this attempt: how long a lock was held at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longest_batch_ms: Option<u64>,
    pub elapsed_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub already_done: Option<bool>,
    /// What a person should know about how this attempt resumed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}
