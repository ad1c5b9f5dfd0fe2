//! A table without a primary key, copied by decoded rows: its rows have no order to
//! resume by, so the copy is all or nothing (one destination transaction, with the
//! progress mark saying done) and a copy killed part way starts again from the first
//! row. The rows stream from the source and are written a batch at a time, so memory
//! is bounded by one batch whatever the table's size.

use crate::db::{BatchFailure, Db, Moved, Statement, Value};
use crate::error::{Error, Result};
use futures::StreamExt;

/// Turns a batch of rows into statements and their size in bytes.
pub(super) type InsertFn<'a> = dyn Fn(&[Vec<Value>]) -> Result<(Vec<Statement>, u64)> + Sync + 'a;

/// Stream `select` from `src` into `dst` in one transaction: `insert` turns a batch of
/// at most `batch` rows into statements (and their size), `mark` makes the progress
/// statements from what moved, run last in the same transaction.
pub(super) async fn copy(
    src: &Db,
    dst: &Db,
    into: &str,
    select: String,
    batch: u64,
    insert: &InsertFn<'_>,
    mark: &(dyn Fn(Moved) -> Vec<Statement> + Sync),
) -> Result<Moved> {
    let moved = std::sync::Mutex::new(Moved::default());
    let groups = src
        .stream(select, Vec::new())
        .chunks(batch.clamp(1, 1_000_000) as usize)
        .map(|rows| {
            let rows = rows.into_iter().collect::<Result<Vec<_>>>()?;
            let (stmts, bytes) = insert(&rows)?;
            let mut m = moved.lock().expect("not poisoned");
            m.rows += rows.len() as u64;
            m.bytes += bytes;
            // a batch read and written, the transaction still open (testkit builds)
            crate::crash::point(&format!("copy-keyless:{into}:{}", m.rows));
            Ok(stmts)
        })
        .boxed();
    // the mark needs the totals, known only once the stream has ended: run it as the
    // stream's last group
    let total = &moved;
    let groups = groups
        .chain(futures::stream::once(async move {
            Ok(mark(*total.lock().expect("not poisoned")))
        }))
        .boxed();
    crate::db::execute_streamed_in_transaction(dst, groups)
        .await
        .map_err(|f| match f {
            BatchFailure::Feed(e) => e,
            BatchFailure::Statement { error, .. } => Error::runtime(format!(
                "{}: statement {} failed, nothing committed: {}",
                dst.redacted_url(),
                error.index + 1,
                error.message
            )),
        })?;
    Ok(moved.into_inner().expect("not poisoned"))
}
