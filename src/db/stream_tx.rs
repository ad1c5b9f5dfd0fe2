//! One destination transaction fed as statements arrive: for work too large to hold
//! (a copy of a table without a key, whose rows cannot be resumed part-way and so must
//! commit all at once) memory stays bounded by one group of statements.

use super::{Db, Statement, mysql::MySqlDb, postgres::PgDb, sqlite::SqliteDb};
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
