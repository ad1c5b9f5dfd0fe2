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
    /// The key columns named (`key = "id"` or `key = ["a", "b"]`); default the primary key.
    key: Option<Vec<String>>,
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
        let key = p.str_list("key")?;
        if key.as_ref().is_some_and(|k| k.is_empty()) {
            return Err(p.error_at(
                "key",
                "`key` names at least one column (unique together, ordered)",
            ));
        }
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

    /// The key columns: those named, else the table's primary key (one column or more).
    async fn key_columns(&self, db: &Db) -> Result<Vec<String>> {
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
        if let Some(keys) = &self.key {
            for k in keys {
                if t.column(k).is_none() {
                    return Err(Error::bad_input(format!(
                        "backfill: table \"{}\" has no key column \"{k}\"",
                        self.table
                    )));
                }
            }
            return Ok(keys.clone());
        }
        match t.primary_key.as_ref().map(|pk| pk.columns.clone()) {
            Some(cols) if !cols.is_empty() => Ok(cols),
            _ => Err(Error::bad_input(format!(
                "backfill: table \"{}\" has no primary key; name columns unique together with `key` (e.g. key = [\"region\", \"id\"])",
                self.table
            ))),
        }
    }
}

/// The SQL a batch runs, built once per step.
struct BatchSql {
    d: Dialect,
    /// Quoted table, column and key columns, the key qualified by the table.
    table: String,
    column: String,
    key: Vec<String>,
    fill: Fill,
    errors: String,
    run_id: String,
    step_id: String,
    table_name: String,
    column_name: String,
    reason: String,
}

impl BatchSql {
    /// The key as one SQL term: the column, or a row value `(a, b)` compared in order
    /// (row values compare lexicographically on all three engines).
    fn key_term(&self) -> String {
        batch::row_tuple(&self.key)
    }
    /// Rows after the mark `lo` (SQL literals, one per key column).
    fn after(&self, lo: &[String]) -> String {
        format!("{} > {}", self.key_term(), batch::row_tuple(lo))
    }
    fn range(&self, lo: Option<&[String]>, hi: &[String]) -> String {
        let upto = format!("{} <= {}", self.key_term(), batch::row_tuple(hi));
        match lo {
            Some(lo) => format!("{} AND {upto}", self.after(lo)),
            None => upto,
        }
    }
    /// The key as text for the validation table: the column's text, or the columns'
    /// texts joined by ", ".
    fn key_text(&self) -> String {
        let sql = self.d.sql();
        if self.key.len() == 1 {
            return sql.cast_text(&self.key[0]);
        }
        let sep = self.d.quote_literal(", ");
        let mut parts = Vec::new();
        for (i, k) in self.key.iter().enumerate() {
            if i > 0 {
                parts.push(sep.clone());
            }
            parts.push(sql.cast_text(k));
        }
        sql.concat(&parts)
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
            self.key_text(),
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

/// The mark's key literals: one literal for a one-column key (as it has always been
/// stored), a JSON array of literals for a key of several columns.
fn mark_literals(stored: &str, columns: usize) -> Result<Vec<String>> {
    if columns == 1 {
        return Ok(vec![stored.to_string()]);
    }
    match serde_json::from_str::<Vec<String>>(stored) {
        Ok(v) if v.len() == columns => Ok(v),
        _ => Err(Error::bad_input(format!(
            "backfill: the recorded high-water mark {stored} does not fit a key of {columns} columns: was the step's `key` changed during the run?"
        ))),
    }
}

/// The next batch's last key after `lo`: the `n`th key, or the last one.
async fn next_high(
    db: &Db,
    sql: &BatchSql,
    lo: Option<&[String]>,
    n: u64,
) -> Result<Option<Vec<Value>>> {
    let after = lo
        .map(|lo| format!(" WHERE {}", sql.after(lo)))
        .unwrap_or_default();
    let cols = sql.key.join(", ");
    let nth = db
        .query(
            &format!(
                "SELECT {cols} FROM {}{after} ORDER BY {cols} LIMIT 1 OFFSET {}",
                sql.table,
                n - 1
            ),
            &[],
        )
        .await?;
    if let Some(r) = nth.rows.into_iter().next() {
        return Ok(Some(r));
    }
    let desc = sql
        .key
        .iter()
        .map(|k| format!("{k} DESC"))
        .collect::<Vec<_>>()
        .join(", ");
    let last = db
        .query(
            &format!(
                "SELECT {cols} FROM {}{after} ORDER BY {desc} LIMIT 1",
                sql.table
            ),
            &[],
        )
        .await?;
    Ok(last.rows.into_iter().next())
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
        let key_names = self.key_columns(&db).await?;
        let key_name = batch::row_tuple(&key_names);
        // a mark's values as written beside the key's name: `14`, or `(2, 7)`
        let composite = key_names.len() > 1;
        let at = |h: &str| {
            if composite {
                format!("({h})")
            } else {
                h.to_string()
            }
        };
        batch::ensure_progress_table(&db).await?;
        ensure_errors_table(&db, &self.errors_table).await?;
        let table = d.quote_qualified(&self.table);
        let sql = BatchSql {
            d,
            key: key_names
                .iter()
                .map(|k| format!("{table}.{}", d.quote_ident(k)))
                .collect(),
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
                    "resuming after {key_name} = {}: {} batch(es), {} row(s) filled and {} not before",
                    at(hw),
                    mark.batches, mark.rows_done, mark.rows_failed
                ));
            }
            let after = match mark.high_water_sql.as_deref() {
                Some(lo) => format!(" AND {}", sql.after(&mark_literals(lo, key_names.len())?)),
                None => String::new(),
            };
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
                let lo = match mark.high_water_sql.as_deref() {
                    Some(s) => Some(mark_literals(s, key_names.len())?),
                    None => None,
                };
                let Some(hi) = next_high(&db, &sql, lo.as_deref(), self.batch).await? else {
                    break;
                };
                let hi_lits: Vec<String> = hi.iter().map(|v| v.to_sql_literal(d)).collect();
                let range = sql.range(lo.as_deref(), &hi_lits);
                let hi_sql = if hi_lits.len() == 1 {
                    hi_lits[0].clone()
                } else {
                    serde_json::to_string(&hi_lits).expect("json")
                };
                let hi = hi
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                let next = Mark {
                    high_water_sql: Some(hi_sql),
                    high_water: Some(hi.clone()),
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
                db.execute_in_transaction_each(&stmts).await.map_err(|e| {
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
                        .map(|h| format!("after {}", at(h)))
                        .unwrap_or_else(|| "from the first row".into());
                    Error::runtime(format!(
                        "batch {} of {}.{} ({key_name} {from} up to {}) failed while {what} on {}: {}\n  that batch was rolled back; the high-water mark stays {}, with {} row(s) filled before it",
                        mark.batches + 1,
                        self.table,
                        self.column,
                        at(&hi),
                        db.redacted_url(),
                        e.message,
                        mark.high_water
                            .as_deref()
                            .map(|h| format!("at {key_name} = {}", at(h)))
                            .unwrap_or_else(|| "unset (no batch committed)".into()),
                        mark.rows_done
                    ))
                    .with_hint("fix the cause and run again: the backfill continues after the last committed batch")
                })?;
                longest = longest.max(t0.elapsed());
                // The counts as the batch committed them in the target: rows the fill
                // touched include those it set to NULL (an expression giving NULL),
                // which are the unfilled ones, not filled ones.
                mark = batch::read_mark(&db, ctx.run_id, ctx.step_id, &scope)
                    .await?
                    .filter(|m| m.batches == next.batches)
                    .ok_or_else(|| {
                        Error::runtime(format!(
                            "backfill of {}.{}: batch {} committed, but its mark does not read back from {}; run again to continue from the target's mark",
                            self.table,
                            self.column,
                            next.batches,
                            db.redacted_url()
                        ))
                    })?;
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
