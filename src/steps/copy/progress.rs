//! The high-water marks of table copies (`cutover_copy_progress` in the destination):
//! created when missing, read when a copy starts, written in each chunk's transaction.

use super::{CopyOptions, PROGRESS_TABLE, Progress};
use crate::db::{Db, Dialect, Statement, Value};
use crate::error::{Error, Result};

pub(super) async fn ensure_progress_table(dst: &Db) -> Result<()> {
    let d = dst.dialect();
    let key = d.sql().key_text_type();
    dst.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {} (run_id {key} NOT NULL, step_id {key} NOT NULL, tbl {key} NOT NULL, high_water TEXT, rows_copied BIGINT NOT NULL, bytes BIGINT NOT NULL, done INTEGER NOT NULL, PRIMARY KEY (run_id, step_id, tbl))",
        d.quote_ident(PROGRESS_TABLE)
    ))
    .await?;
    Ok(())
}

pub(super) async fn read_progress(
    dst: &Db,
    o: &CopyOptions,
    into: &str,
) -> Result<Option<Progress>> {
    let d = dst.dialect();
    let rows = dst
        .query(
            &format!(
                "SELECT high_water, rows_copied, bytes, done FROM {} WHERE run_id = {} AND step_id = {} AND tbl = {}",
                d.quote_ident(PROGRESS_TABLE),
                d.placeholder(1),
                d.placeholder(2),
                d.placeholder(3)
            ),
            &[
                Value::from(o.run_id.as_str()),
                Value::from(o.step_id.as_str()),
                Value::from(into),
            ],
        )
        .await?;
    let Some(r) = rows.rows.first() else {
        return Ok(None);
    };
    let high_water = match &r[0] {
        Value::Text(s) => Some(serde_json::from_str::<Vec<String>>(s).map_err(|e| {
            Error::runtime(format!(
                "{PROGRESS_TABLE} on {}: the high-water mark of {into} does not read: {e}",
                dst.redacted_url()
            ))
        })?),
        _ => None,
    };
    Ok(Some(Progress {
        high_water,
        rows: r[1].as_i64().unwrap_or(0) as u64,
        bytes: r[2].as_i64().unwrap_or(0) as u64,
        done: r[3].as_i64().unwrap_or(0) != 0,
    }))
}

/// Statements recording a chunk's progress (run in the chunk's transaction).
pub(super) fn progress_statements(
    d: Dialect,
    o: &CopyOptions,
    into: &str,
    p: &Progress,
) -> Vec<Statement> {
    let t = d.quote_ident(PROGRESS_TABLE);
    let lit = |s: &str| d.quote_literal(s);
    let hw = match &p.high_water {
        Some(h) => lit(&serde_json::to_string(h).expect("json")),
        None => "NULL".into(),
    };
    vec![
        Statement::new(format!(
            "DELETE FROM {t} WHERE run_id = {} AND step_id = {} AND tbl = {}",
            lit(&o.run_id),
            lit(&o.step_id),
            lit(into)
        )),
        Statement::new(format!(
            "INSERT INTO {t} (run_id, step_id, tbl, high_water, rows_copied, bytes, done) VALUES ({}, {}, {}, {hw}, {}, {}, {})",
            lit(&o.run_id),
            lit(&o.step_id),
            lit(into),
            p.rows,
            p.bytes,
            p.done as i32
        )),
    ]
}
