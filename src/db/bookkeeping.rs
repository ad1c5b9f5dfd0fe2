//! cutover's bookkeeping inside a target, beside `cutover_marks`: the anchors (the
//! ledger's head at each state change the target saw, so that a truncated, wiped or
//! replaced ledger shows) and the run lock (one row, so that a second run against the
//! same database is refused whatever ledger it uses). The SQL is engine-neutral,
//! written through the dialect; values are literals quoted by the dialect.

use super::{Db, Dialect, Statement, Value};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

pub const ANCHORS_TABLE: &str = "cutover_anchors";
pub const LOCKS_TABLE: &str = "cutover_locks";

/// Whether `name` (`table` or `schema.table`) is the anchors or the locks table: a
/// backup neither hashes nor proves them (they hold the run's own lock and the
/// ledger's head, not the application's data), and a restore never counts them as
/// tables the backup lacks.
pub fn is_trust_table(name: &str) -> bool {
    let bare = name.rsplit_once('.').map_or(name, |(_, t)| t);
    bare == ANCHORS_TABLE || bare == LOCKS_TABLE
}

/// The ledger's head at one moment of one run: what a target (or a backup manifest)
/// keeps so that the ledger cannot later be cut back or swapped unnoticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub runbook: String,
    pub run_id: String,
    /// The ledger's newest record when the anchor was taken (0 and the genesis hash
    /// for an empty ledger).
    pub seq: i64,
    pub hash: String,
}

/// An anchor as a target holds it: what happened there, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnchorRow {
    pub anchor: Anchor,
    /// "step_applied", "step_done", "checkpoint_passed", ...
    pub event: String,
    pub step_id: Option<String>,
    pub at: String,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Create the anchors table if it is missing. Run it outside any transaction (MySQL
/// commits DDL implicitly).
pub async fn ensure_anchors_table(db: &Db) -> Result<()> {
    let d = db.dialect();
    let text = d.sql().key_text_type();
    db.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {} (runbook {text} NOT NULL, run_id {text} NOT NULL, seq BIGINT NOT NULL, hash {text} NOT NULL, event {text} NOT NULL, step_id {text}, anchored_at {text} NOT NULL)",
        d.quote_ident(ANCHORS_TABLE)
    ))
    .await?;
    Ok(())
}

/// The statement that records `anchor` (to run inside the transaction of the effect
/// it anchors; the table must exist, see [`ensure_anchors_table`]).
pub fn anchor_statement(
    d: Dialect,
    anchor: &Anchor,
    event: &str,
    step_id: Option<&str>,
) -> Statement {
    Statement::new(format!(
        "INSERT INTO {} (runbook, run_id, seq, hash, event, step_id, anchored_at) VALUES ({}, {}, {}, {}, {}, {}, {})",
        d.quote_ident(ANCHORS_TABLE),
        d.quote_literal(&anchor.runbook),
        d.quote_literal(&anchor.run_id),
        anchor.seq,
        d.quote_literal(&anchor.hash),
        d.quote_literal(event),
        step_id
            .map(|s| d.quote_literal(s))
            .unwrap_or_else(|| "NULL".into()),
        d.quote_literal(&now())
    ))
}

/// Record `anchor` in the target on its own (a state change with no statements of
/// ours to share a transaction with: a backup taken, a checkpoint passed).
pub async fn write_anchor(
    db: &Db,
    anchor: &Anchor,
    event: &str,
    step_id: Option<&str>,
) -> Result<()> {
    ensure_anchors_table(db).await?;
    db.execute_in_transaction(&[anchor_statement(db.dialect(), anchor, event, step_id)])
        .await
        .map_err(|e| {
            Error::runtime(format!(
                "{}: cannot record the ledger anchor: {}",
                db.redacted_url(),
                e.message
            ))
        })?;
    Ok(())
}

/// Every anchor of `runbook` the target holds, oldest first; none when it never saw
/// a run (the table is missing).
pub async fn read_anchors(db: &Db, runbook: &str) -> Result<Vec<AnchorRow>> {
    let d = db.dialect();
    let sql = format!(
        "SELECT runbook, run_id, seq, hash, event, step_id, anchored_at FROM {} WHERE runbook = {} ORDER BY seq",
        d.quote_ident(ANCHORS_TABLE),
        d.placeholder(1)
    );
    let rows = match db.query(&sql, &[Value::from(runbook)]).await {
        Ok(r) => r,
        Err(e) if is_missing_table(&e.message) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(rows
        .rows
        .into_iter()
        .map(|r| {
            let s = |i: usize| r.get(i).map(|v| v.to_string()).unwrap_or_default();
            AnchorRow {
                anchor: Anchor {
                    runbook: s(0),
                    run_id: s(1),
                    seq: r.get(2).and_then(Value::as_i64).unwrap_or(0),
                    hash: s(3),
                },
                event: s(4),
                step_id: r.get(5).filter(|v| !v.is_null()).map(|v| v.to_string()),
                at: s(6),
            }
        })
        .collect())
}

/// Whether an error says the table does not exist (SQLite, PostgreSQL, MySQL wording).
fn is_missing_table(msg: &str) -> bool {
    let m = msg.to_lowercase();
    m.contains("no such table") || m.contains("does not exist") || m.contains("doesn't exist")
}

/// Who holds a target's run lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockRow {
    pub run_id: String,
    pub runbook: String,
    pub holder: String,
    pub host: String,
    pub pid: i64,
    /// The holding process's start time (Linux: /proc/PID/stat field 22), so that a
    /// pid reused by another process is not mistaken for the holder.
    pub proc_start: String,
    /// The holder's ledger (redacted URL).
    pub ledger: String,
    pub acquired_at: String,
}

const LOCK_KEY: &str = "run";

async fn ensure_locks_table(db: &Db) -> Result<()> {
    let d = db.dialect();
    let text = d.sql().key_text_type();
    db.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {} (lock_key {text} NOT NULL PRIMARY KEY, run_id {text} NOT NULL, runbook {text} NOT NULL, holder {text} NOT NULL, host {text} NOT NULL, pid BIGINT NOT NULL, proc_start {text} NOT NULL, ledger {text} NOT NULL, acquired_at {text} NOT NULL)",
        d.quote_ident(LOCKS_TABLE)
    ))
    .await?;
    Ok(())
}

/// Insert the lock row. `Ok(true)` when taken, `Ok(false)` when a row is there already.
pub async fn insert_lock(db: &Db, row: &LockRow) -> Result<bool> {
    ensure_locks_table(db).await?;
    let d = db.dialect();
    let l = |s: &str| d.quote_literal(s);
    let ins = Statement::new(format!(
        "INSERT INTO {} (lock_key, run_id, runbook, holder, host, pid, proc_start, ledger, acquired_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
        d.quote_ident(LOCKS_TABLE),
        l(LOCK_KEY),
        l(&row.run_id),
        l(&row.runbook),
        l(&row.holder),
        l(&row.host),
        row.pid,
        l(&row.proc_start),
        l(&row.ledger),
        l(&row.acquired_at)
    ));
    match db.execute_in_transaction(&[ins]).await {
        Ok(_) => Ok(true),
        Err(e) if read_lock(db).await?.is_some() => {
            tracing::debug!("lock row present: {}", e.message);
            Ok(false)
        }
        Err(e) => Err(Error::runtime(format!(
            "{}: cannot take the run lock: {}",
            db.redacted_url(),
            e.message
        ))),
    }
}

/// The lock row, if the target is locked.
pub async fn read_lock(db: &Db) -> Result<Option<LockRow>> {
    let d = db.dialect();
    let sql = format!(
        "SELECT run_id, runbook, holder, host, pid, proc_start, ledger, acquired_at FROM {} WHERE lock_key = {}",
        d.quote_ident(LOCKS_TABLE),
        d.placeholder(1)
    );
    let rows = match db.query(&sql, &[Value::from(LOCK_KEY)]).await {
        Ok(r) => r,
        Err(e) if is_missing_table(&e.message) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(rows.rows.into_iter().next().map(|r| {
        let s = |i: usize| r.get(i).map(|v| v.to_string()).unwrap_or_default();
        LockRow {
            run_id: s(0),
            runbook: s(1),
            holder: s(2),
            host: s(3),
            pid: r.get(4).and_then(Value::as_i64).unwrap_or(0),
            proc_start: s(5),
            ledger: s(6),
            acquired_at: s(7),
        }
    }))
}

/// Delete the lock row if `run_id` (and, when given, `pid`) still holds it; rows deleted.
pub async fn delete_lock(db: &Db, run_id: &str, pid: Option<i64>) -> Result<u64> {
    let d = db.dialect();
    let pid = pid.map(|p| format!(" AND pid = {p}")).unwrap_or_default();
    let sql = format!(
        "DELETE FROM {} WHERE lock_key = {} AND run_id = {}{pid}",
        d.quote_ident(LOCKS_TABLE),
        d.quote_literal(LOCK_KEY),
        d.quote_literal(run_id)
    );
    match db.execute(&sql).await {
        Ok(n) => Ok(n),
        Err(e) if is_missing_table(&e.message) => Ok(0),
        Err(e) => Err(e),
    }
}
