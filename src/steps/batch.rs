//! What batched steps (backfill, consolidate) share: the high-water mark each batch
//! commits in the target, in the batch's own transaction (table
//! `cutover_batch_progress`), and the copy of it recorded in the ledger right after.
//!
//! The target's mark is the one a resume trusts: it commits with the batch's rows, so
//! it can never say more or less than what is in the target. The ledger's copy is the
//! audit trail (and what `status` and the history show); after a `kill -9` between the
//! target's commit and the ledger's append it is one batch behind, and the resumed
//! step says so and records the batch the ledger missed.

use super::StepContext;
use crate::db::{Db, Statement, Value};
use crate::error::{Error, Result};
use crate::ledger::BatchCommitted;

pub const PROGRESS_TABLE: &str = "cutover_batch_progress";

/// Where a batched step stands in one scope (a table, or one legacy table).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mark {
    /// The last key done, as an SQL literal of the target's dialect; `None` before
    /// the first batch.
    pub high_water_sql: Option<String>,
    /// The same key as text, for people.
    pub high_water: Option<String>,
    pub rows_done: u64,
    pub rows_failed: u64,
    pub batches: u64,
    /// Every batch is done (and any closing statements ran).
    pub done: bool,
    /// Step-specific counters (JSON), committed with the batch.
    pub detail: Option<String>,
}

/// A key as a row value, for batch ranges: `a`, or `(a, b, …)` for a key of several
/// columns (compared as a row, as both steps' ranges are).
pub fn row_tuple(parts: &[String]) -> String {
    match parts {
        [one] => one.clone(),
        many => format!("({})", many.join(", ")),
    }
}

pub async fn ensure_progress_table(db: &Db) -> Result<()> {
    let d = db.dialect();
    let key = d.sql().key_text_type();
    db.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {} (run_id {key} NOT NULL, step_id {key} NOT NULL, scope {key} NOT NULL, high_water_sql TEXT, high_water TEXT, rows_done BIGINT NOT NULL, rows_failed BIGINT NOT NULL, batches BIGINT NOT NULL, done INTEGER NOT NULL, detail TEXT, PRIMARY KEY (run_id, step_id, scope))",
        d.quote_ident(PROGRESS_TABLE)
    ))
    .await?;
    Ok(())
}

/// The mark this run's step committed in the target for `scope`, if any.
pub async fn read_mark(db: &Db, run_id: &str, step_id: &str, scope: &str) -> Result<Option<Mark>> {
    let d = db.dialect();
    let rows = db
        .query(
            &format!(
                "SELECT high_water_sql, high_water, rows_done, rows_failed, batches, done, detail FROM {} WHERE run_id = {} AND step_id = {} AND scope = {}",
                d.quote_ident(PROGRESS_TABLE),
                d.placeholder(1),
                d.placeholder(2),
                d.placeholder(3)
            ),
            &[Value::from(run_id), Value::from(step_id), Value::from(scope)],
        )
        .await?;
    let Some(r) = rows.rows.first() else {
        return Ok(None);
    };
    let text = |v: &Value| match v {
        Value::Null => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        other => Some(other.to_string()),
    };
    let num = |v: &Value| v.as_i64().unwrap_or(0).max(0) as u64;
    Ok(Some(Mark {
        high_water_sql: text(&r[0]),
        high_water: text(&r[1]),
        rows_done: num(&r[2]),
        rows_failed: num(&r[3]),
        batches: num(&r[4]),
        done: num(&r[5]) != 0,
        detail: text(&r[6]),
    }))
}

/// The statements that record `mark` for `scope` (run inside the batch's transaction).
pub fn mark_statements(
    db: &Db,
    run_id: &str,
    step_id: &str,
    scope: &str,
    m: &Mark,
) -> Vec<Statement> {
    let d = db.dialect();
    let t = d.quote_ident(PROGRESS_TABLE);
    let lit = |s: &str| d.quote_literal(s);
    let opt = |s: &Option<String>| s.as_deref().map(lit).unwrap_or_else(|| "NULL".into());
    vec![
        Statement::new(format!(
            "DELETE FROM {t} WHERE run_id = {} AND step_id = {} AND scope = {}",
            lit(run_id),
            lit(step_id),
            lit(scope)
        )),
        Statement::new(format!(
            "INSERT INTO {t} (run_id, step_id, scope, high_water_sql, high_water, rows_done, rows_failed, batches, done, detail) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
            lit(run_id),
            lit(step_id),
            lit(scope),
            opt(&m.high_water_sql),
            opt(&m.high_water),
            m.rows_done,
            m.rows_failed,
            m.batches,
            m.done as i32,
            opt(&m.detail)
        )),
    ]
}

/// A statement adding `done` and `failed` (SQL expressions, evaluated inside the
/// batch's transaction) to the counts of the mark for `scope`: a batch's counts go into
/// its own mark, in its own transaction.
pub fn add_counts(
    db: &Db,
    run_id: &str,
    step_id: &str,
    scope: &str,
    done: &str,
    failed: &str,
) -> Statement {
    let d = db.dialect();
    let lit = |s: &str| d.quote_literal(s);
    Statement::new(format!(
        "UPDATE {} SET rows_done = rows_done + ({done}), rows_failed = rows_failed + ({failed}) WHERE run_id = {} AND step_id = {} AND scope = {}",
        d.quote_ident(PROGRESS_TABLE),
        lit(run_id),
        lit(step_id),
        lit(scope)
    ))
}

/// The anchor statement (the ledger's head) for a batch's transaction, if the run has one.
pub async fn anchor_statements(db: &Db, ctx: &StepContext<'_>) -> Result<Vec<Statement>> {
    let Some(anchor) = ctx.anchor else {
        return Ok(Vec::new());
    };
    crate::db::bookkeeping::ensure_anchors_table(db).await?;
    Ok(vec![crate::db::bookkeeping::anchor_statement(
        db.dialect(),
        anchor,
        "step_applied",
        Some(ctx.step_id),
    )])
}

/// Record a committed batch in the ledger (when the step runs inside a run).
pub async fn record(ctx: &StepContext<'_>, kind: &str, scope: &str, m: &Mark) -> Result<()> {
    let Some(ledger) = ctx.batches else {
        return Ok(());
    };
    ledger
        .record_batch(
            ctx.step_id,
            &BatchCommitted {
                kind: kind.into(),
                effects_of: ctx.run_id.into(),
                scope: scope.into(),
                batch: m.batches,
                high_water: m.high_water.clone().unwrap_or_default(),
                rows_done: m.rows_done,
                rows_failed: m.rows_failed,
            },
        )
        .await
}

/// Where the step resumes in `scope`: the target's committed mark. When the ledger's
/// last mark is behind it (the process died between the two), the missing mark is
/// recorded now and a line says so; a ledger mark ahead of the target (the target
/// restored under the run) is refused, since resuming would skip rows.
pub async fn resume_mark(
    db: &Db,
    ctx: &StepContext<'_>,
    kind: &str,
    scope: &str,
) -> Result<(Mark, Option<String>)> {
    let target = read_mark(db, ctx.run_id, ctx.step_id, scope)
        .await?
        .unwrap_or_default();
    let Some(ledger) = ctx.batches else {
        return Ok((target, None));
    };
    let last = ledger
        .batches(ctx.step_id)
        .await?
        .into_iter()
        .rfind(|b| b.effects_of == ctx.run_id && b.scope == scope);
    let ledger_batches = last.as_ref().map(|b| b.batch).unwrap_or(0);
    if ledger_batches > target.batches {
        return Err(Error::runtime(format!(
            "{scope}: the ledger records {ledger_batches} committed batch(es) but {} on {} holds {}: the target was changed under this run (restored?); start a new run (--new)",
            PROGRESS_TABLE,
            db.redacted_url(),
            target.batches
        )));
    }
    if ledger_batches < target.batches {
        record(ctx, kind, scope, &target).await?;
        let note = format!(
            "{scope}: the target had committed batch {} (up to {}) that the ledger had not recorded (stopped between the two); recorded it now, resuming after it",
            target.batches,
            target.high_water.as_deref().unwrap_or("?")
        );
        return Ok((target, Some(note)));
    }
    Ok((target, None))
}
