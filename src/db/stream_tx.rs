//! One destination transaction fed as statements arrive: for work too large to hold
//! (a copy of a table without a key, whose rows cannot be resumed part-way and so must
//! commit all at once, or statements read back from a spool) memory stays bounded by
//! one group of statements.

use super::{Db, Statement, StatementError, mysql::MySqlDb, postgres::PgDb, sqlite::SqliteDb};
use crate::error::{Error, Result};
use futures::StreamExt;
use futures::stream::BoxStream;

/// Run every group of statements `groups` yields, then `last`, in one transaction of
/// `dst`: committed only if all of it succeeds, rolled back (nothing written) on the
/// first error, which names the group and statement. Returns the rows affected.
pub async fn execute_streamed_in_transaction(
    dst: &Db,
    groups: BoxStream<'_, Result<Vec<Statement>>>,
    last: Vec<Statement>,
) -> Result<u64> {
    macro_rules! run {
        ($d:expr) => {{
            let d = $d;
            let err = |e| crate::db::sqlx_error(&d.redacted, e);
            let mut tx = d.pool.begin().await.map_err(err)?;
            let mut total = 0u64;
            let mut groups = groups.enumerate();
            while let Some((n, group)) = groups.next().await {
                for (i, st) in group?.into_iter().enumerate() {
                    let r = sqlx::raw_sql(sqlx::AssertSqlSafe(st.sql))
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| {
                            Error::runtime(format!(
                                "group {} statement {} failed, nothing committed: {}",
                                n + 1,
                                i + 1,
                                err(e)
                            ))
                        })?;
                    total += r.rows_affected();
                }
            }
            for st in last {
                let r = sqlx::raw_sql(sqlx::AssertSqlSafe(st.sql))
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                total += r.rows_affected();
            }
            tx.commit().await.map_err(err)?;
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
        Err(Error::runtime(format!(
            "{}: no streamed transaction for this connection",
            dst.redacted_url()
        )))
    }
}

/// Why [`execute_batches_in_transaction`] rolled back (nothing of it is committed).
#[derive(Debug)]
pub enum BatchFailure {
    /// The batches could not be produced (e.g. reading them back from their spool).
    Feed(Error),
    /// A statement failed, or the transaction could not begin (`index` of the first
    /// statement) or commit (`index` one past the last, `sql` empty). `index` counts
    /// from the first statement of the first batch.
    Statement { error: StatementError, sql: String },
}

/// Run every statement of `batches`, in order, in one transaction of `dst`: committed
/// only if all of them succeed, rolled back on the first error. Memory stays bounded by
/// one batch (the caller reads them as they are needed); the transaction begins with the
/// first statement, so no batches at all open none. Returns the rows affected.
pub async fn execute_batches_in_transaction<I>(
    dst: &Db,
    batches: I,
) -> std::result::Result<u64, BatchFailure>
where
    I: Iterator<Item = Result<Vec<Statement>>> + Send,
{
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
            for batch in batches {
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
