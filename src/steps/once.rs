//! Apply a step's statements at most once per run, even across a crash between the
//! target's commit and the ledger's record: a mark is written in the target, in the
//! same transaction as the statements (table `cutover_marks`). The ledger's head goes
//! into the same transaction (table `cutover_anchors`), so the target holds proof of
//! the ledger it was changed under.

use super::StepContext;
use crate::db::bookkeeping;
use crate::db::{Db, Statement, Value};
use crate::error::{Error, Result};

pub const MARKS_TABLE: &str = "cutover_marks";

async fn ensure_marks_table(db: &Db) -> Result<()> {
    let d = db.dialect();
    let t = d.quote_ident(MARKS_TABLE);
    let text = d.sql().key_text_type();
    db.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {t} (run_id {text} NOT NULL, step_id {text} NOT NULL, applied_at {text} NOT NULL, statements INTEGER NOT NULL, PRIMARY KEY (run_id, step_id))"
    ))
    .await?;
    Ok(())
}

/// If this run's step already applied its statements, how many it applied.
pub async fn already_applied(db: &Db, run_id: &str, step_id: &str) -> Result<Option<i64>> {
    ensure_marks_table(db).await?;
    let d = db.dialect();
    let sql = format!(
        "SELECT statements FROM {} WHERE run_id = {} AND step_id = {}",
        d.quote_ident(MARKS_TABLE),
        d.placeholder(1),
        d.placeholder(2)
    );
    let rows = db
        .query(&sql, &[Value::from(run_id), Value::from(step_id)])
        .await?;
    Ok(rows.scalar().and_then(Value::as_i64))
}

pub enum Applied {
    Now { rows: u64, statements: usize },
    Before { statements: i64 },
}

/// Execute `statements` in one transaction together with this step's mark, unless the
/// mark shows they were applied already. A failing statement rolls everything back and
/// the error names the statement, its line and `source` (file or "inline sql").
pub async fn apply_once(
    db: &Db,
    ctx: &StepContext<'_>,
    statements: &[Statement],
    source: &str,
) -> Result<Applied> {
    let (run_id, step_id) = (ctx.run_id, ctx.step_id);
    if let Some(n) = already_applied(db, run_id, step_id).await? {
        return Ok(Applied::Before { statements: n });
    }
    let d = db.dialect();
    let mut all = statements.to_vec();
    if let Some(anchor) = ctx.anchor {
        bookkeeping::ensure_anchors_table(db).await?;
        all.push(bookkeeping::anchor_statement(
            d,
            anchor,
            "step_applied",
            Some(step_id),
        ));
    }
    let ours = all.len() - statements.len() + 1;
    all.push(Statement::new(format!(
        "INSERT INTO {} (run_id, step_id, applied_at, statements) VALUES ({}, {}, {}, {})",
        d.quote_ident(MARKS_TABLE),
        d.quote_literal(run_id),
        d.quote_literal(step_id),
        d.quote_literal(&chrono::Utc::now().to_rfc3339()),
        statements.len()
    )));
    match db.execute_in_transaction(&all).await {
        Ok(rows) => Ok(Applied::Now {
            rows: rows.saturating_sub(ours as u64),
            statements: statements.len(),
        }),
        Err(e) if e.index < statements.len() => {
            let first: String = statements[e.index]
                .sql
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(100)
                .collect();
            let rolled = if d.transactional_ddl() {
                "the transaction was rolled back: nothing was changed".to_string()
            } else {
                "the transaction was rolled back, but MySQL/MariaDB commits DDL implicitly: DDL statements before it stay applied".to_string()
            };
            Err(Error::runtime(format!(
                "{source}:{}: statement {} of {} failed on {}: {}\n  statement: {first}\n  {rolled}",
                e.line,
                e.index + 1,
                statements.len(),
                db.redacted_url(),
                e.message
            )))
        }
        Err(e) => Err(Error::runtime(format!(
            "{}: could not commit: {}",
            db.redacted_url(),
            e.message
        ))),
    }
}
