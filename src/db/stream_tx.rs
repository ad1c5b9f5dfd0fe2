//! One destination transaction fed as statements arrive: for work too large to hold
//! (a copy of a table without a key, whose rows cannot be resumed part-way and so must
//! commit all at once, or statements read back from a spool) memory stays bounded by
//! one group of statements.

use super::{Db, Statement, StatementError, mysql::MySqlDb, postgres::PgDb, sqlite::SqliteDb};
use crate::error::{Error, Result};
use futures::StreamExt;
use futures::stream::BoxStream;

/// Why [`execute_streamed_in_transaction`] rolled back (nothing of it is committed).
#[derive(Debug)]
pub enum BatchFailure {
    /// The batches could not be produced (e.g. reading them back from their spool).
    Feed(Error),
    /// A statement failed, or the transaction could not begin (`index` of the first
    /// statement) or commit (`index` one past the last, `sql` empty). `index` counts
    /// from the first statement of the first batch.
    Statement { error: StatementError, sql: String },
}

/// Run every statement of the groups `groups` yields, in order, in one transaction of
/// `dst`: committed only if all of them succeed, rolled back on the first error. Memory
/// stays bounded by one group (the caller produces them as they are needed); the
/// transaction begins with the first statement, so no statements at all open none.
/// Returns the rows affected.
pub async fn execute_streamed_in_transaction(
    dst: &Db,
    mut groups: BoxStream<'_, Result<Vec<Statement>>>,
) -> std::result::Result<u64, BatchFailure> {
    macro_rules! run {
        ($d:expr) => {{
            let d = $d;
            let fail =
                |index: usize, line: usize, sql: &str, e: sqlx::Error| BatchFailure::Statement {
                    error: StatementError {
                        index,
                        line,
                        message: crate::redact::scrub(&match &e {
                            sqlx::Error::Database(d) => crate::db::database_error_text(d.as_ref()),
                            other => other.to_string(),
                        }),
                    },
                    sql: sql.to_string(),
                };
            let mut tx = None;
            let mut index = 0usize;
            let mut total = 0u64;
            while let Some(batch) = groups.next().await {
                let batch = match batch {
                    Ok(b) => b,
                    Err(e) => {
                        if let Some(tx) = tx {
                            let _ = sqlx::Transaction::rollback(tx).await;
                        }
                        return Err(BatchFailure::Feed(e));
                    }
                };
                for st in batch {
                    if tx.is_none() {
                        tx = Some(
                            d.pool
                                .begin()
                                .await
                                .map_err(|e| fail(index, st.line, &st.sql, e))?,
                        );
                    }
                    let t = tx.as_mut().expect("begun above");
                    match sqlx::raw_sql(sqlx::AssertSqlSafe(st.sql.clone()))
                        .execute(&mut **t)
                        .await
                    {
                        Ok(r) => total += r.rows_affected(),
                        Err(e) => {
                            let err = fail(index, st.line, &st.sql, e);
                            if let Some(tx) = tx {
                                let _ = sqlx::Transaction::rollback(tx).await;
                            }
                            return Err(err);
                        }
                    }
                    index += 1;
                }
            }
            if let Some(tx) = tx {
                tx.commit().await.map_err(|e| fail(index, 0, "", e))?;
            }
            Ok(total)
        }};
    }
    let any = dst.as_any();
    if let Some(d) = any.downcast_ref::<PgDb>() {
        run!(d)
    } else if let Some(d) = any.downcast_ref::<MySqlDb>() {
        run!(d)
    } else if let Some(d) = any.downcast_ref::<SqliteDb>() {
        run!(d)
    } else {
        Err(BatchFailure::Feed(Error::runtime(format!(
            "{}: no streamed transaction for this connection",
            dst.redacted_url()
        ))))
    }
}
