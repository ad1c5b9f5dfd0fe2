//! Bulk transfer between two PostgreSQL databases: the source's binary `COPY ... TO
//! STDOUT` piped unchanged into the destination's `COPY ... FROM STDIN`, gathered into
//! sends of a quarter MiB (memory bounded by that and the driver's buffers).

use super::PgDb;
use crate::db::{Dialect, Moved, Statement, sqlx_error};
use crate::error::{Error, Result};
use futures::StreamExt;

/// How many bytes of the stream are gathered before they are sent on.
const SEND_BYTES: usize = 256 * 1024;

pub(crate) async fn binary_copy(
    src: &PgDb,
    dst: &PgDb,
    select: &str,
    table: &str,
    columns: &[String],
    after: &(dyn Fn(Moved) -> Vec<Statement> + Sync),
) -> Result<Moved> {
    let d = Dialect::Postgres;
    let cols = columns
        .iter()
        .map(|c| d.quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let copy_in = format!(
        "COPY {} ({cols}) FROM STDIN (FORMAT binary)",
        d.quote_qualified(table)
    );
    let copy_out = format!("COPY ({select}) TO STDOUT (FORMAT binary)");
    let derr = |e| sqlx_error(&dst.redacted, e);
    let serr = |e| sqlx_error(&src.redacted, e);

    let mut tx = dst.pool.begin().await.map_err(derr)?;
    let mut out_conn = src.pool.acquire().await.map_err(serr)?;
    let mut bytes = 0u64;
    let rows = {
        let mut sink = tx.copy_in_raw(&copy_in).await.map_err(derr)?;
        let mut stream = out_conn.copy_out_raw(&copy_out).await.map_err(serr)?;
        let mut failure: Option<Error> = None;
        // The source sends one CopyData message per row and the driver flushes every
        // send: forwarding them one by one costs a write (and a wakeup of the
        // destination's backend) per row. The stream is bytes whatever the message
        // boundaries, so rows are gathered into sends of about SEND_BYTES.
        let mut pending: Vec<u8> = Vec::with_capacity(SEND_BYTES + (SEND_BYTES >> 2));
        loop {
            let next = stream.next().await;
            if let Some(Ok(b)) = &next {
                bytes += b.len() as u64;
                pending.extend_from_slice(b);
                if pending.len() < SEND_BYTES {
                    continue;
                }
            }
            if !pending.is_empty() {
                if let Err(e) = sink.send(pending.as_slice()).await {
                    failure = Some(derr(e));
                    break;
                }
                pending.clear();
            }
            match next {
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    failure = Some(serr(e));
                    break;
                }
                None => break,
            }
        }
        drop(stream);
        if let Some(e) = failure {
            let _ = sink.abort("cutover: the source stream failed").await;
            return Err(e);
        }
        sink.finish().await.map_err(derr)?
    };
    let moved = Moved { rows, bytes };
    for st in after(moved) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(st.sql))
            .execute(&mut *tx)
            .await
            .map_err(derr)?;
    }
    tx.commit().await.map_err(derr)?;
    Ok(moved)
}
