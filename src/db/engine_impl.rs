//! The parts of [`Database`](super::Database) that are the same for every engine,
//! written once and instantiated per concrete sqlx driver.

/// Implements `Database` for a struct `{ pool, redacted }` given the sqlx database type,
/// its dialect, and the engine's `decode_row` and `bind_value` functions.
macro_rules! impl_database {
    ($ty:ty, $db:ty, $dialect:expr) => {
        #[async_trait::async_trait]
        impl $crate::db::Database for $ty {
            fn dialect(&self) -> $crate::db::Dialect {
                $dialect
            }
            fn redacted_url(&self) -> &str {
                &self.redacted
            }

            async fn execute(&self, sql: &str) -> $crate::error::Result<u64> {
                let r = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| $crate::db::sqlx_error(&self.redacted, e))?;
                Ok(r.rows_affected())
            }

            async fn execute_in_transaction(
                &self,
                statements: &[$crate::db::Statement],
            ) -> std::result::Result<u64, $crate::db::StatementError> {
                let fail = |index: usize, line: usize, e: sqlx::Error| $crate::db::StatementError {
                    index,
                    line,
                    message: $crate::redact::scrub(&match &e {
                        sqlx::Error::Database(d) => $crate::db::database_error_text(d.as_ref()),
                        other => other.to_string(),
                    }),
                };
                let mut tx = self.pool.begin().await.map_err(|e| fail(0, 0, e))?;
                let mut total = 0u64;
                for (i, st) in statements.iter().enumerate() {
                    match sqlx::raw_sql(sqlx::AssertSqlSafe(st.sql.clone()))
                        .execute(&mut *tx)
                        .await
                    {
                        Ok(r) => {
                            total += r.rows_affected();
                            if let Some(q) = $dialect
                                .sql()
                                .warnings_query()
                                .filter(|_| $crate::db::notices::capturing())
                                && let Ok(rows) = sqlx::raw_sql(sqlx::AssertSqlSafe(q.to_string()))
                                    .fetch_all(&mut *tx)
                                    .await
                            {
                                for r in &rows {
                                    if let Ok(v) = decode_row(r) {
                                        let cell = |i: usize| {
                                            v.get(i).map(|x| x.to_string()).unwrap_or_default()
                                        };
                                        $crate::db::notices::record(format!(
                                            "{} {}: {} (statement {}, line {})",
                                            cell(0).to_uppercase(),
                                            cell(1),
                                            cell(2),
                                            i + 1,
                                            st.line
                                        ));
                                    }
                                }
                            }
                        }
                        Err(e) => {
                            let err = fail(i, st.line, e);
                            let _ = tx.rollback().await;
                            return Err(err);
                        }
                    }
                }
                tx.commit()
                    .await
                    .map_err(|e| fail(statements.len(), 0, e))?;
                Ok(total)
            }

            async fn execute_in_transaction_each(
                &self,
                statements: &[$crate::db::Statement],
            ) -> std::result::Result<Vec<u64>, $crate::db::StatementError> {
                let fail = |index: usize, line: usize, e: sqlx::Error| $crate::db::StatementError {
                    index,
                    line,
                    message: $crate::redact::scrub(&match &e {
                        sqlx::Error::Database(d) => d.message().to_string(),
                        other => other.to_string(),
                    }),
                };
                let mut tx = self.pool.begin().await.map_err(|e| fail(0, 0, e))?;
                let mut each = Vec::with_capacity(statements.len());
                for (i, st) in statements.iter().enumerate() {
                    match sqlx::raw_sql(sqlx::AssertSqlSafe(st.sql.clone()))
                        .execute(&mut *tx)
                        .await
                    {
                        Ok(r) => each.push(r.rows_affected()),
                        Err(e) => {
                            let err = fail(i, st.line, e);
                            let _ = tx.rollback().await;
                            return Err(err);
                        }
                    }
                }
                tx.commit()
                    .await
                    .map_err(|e| fail(statements.len(), 0, e))?;
                Ok(each)
            }

            async fn query(
                &self,
                sql: &str,
                params: &[$crate::db::Value],
            ) -> $crate::error::Result<$crate::db::Rows> {
                use sqlx::{Column, Row};
                let mut q = sqlx::query::<$db>(sqlx::AssertSqlSafe(sql.to_string()));
                for p in params {
                    q = bind_value(q, p);
                }
                let rows = q
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| $crate::db::sqlx_error(&self.redacted, e))?;
                let columns = match rows.first() {
                    Some(r) => r.columns().iter().map(|c| c.name().to_string()).collect(),
                    None => Vec::new(),
                };
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push(decode_row(r)?);
                }
                Ok($crate::db::Rows { columns, rows: out })
            }

            async fn query_with_setup(
                &self,
                setup: &[String],
                sql: &str,
            ) -> $crate::error::Result<$crate::db::Rows> {
                use sqlx::{Column, Row};
                let err = |e| $crate::db::sqlx_error(&self.redacted, e);
                let mut tx = self.pool.begin().await.map_err(err)?;
                for s in setup {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(s.clone()))
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                }
                let rows = sqlx::query::<$db>(sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(err)?;
                tx.commit().await.map_err(err)?;
                let columns = match rows.first() {
                    Some(r) => r.columns().iter().map(|c| c.name().to_string()).collect(),
                    None => Vec::new(),
                };
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push(decode_row(r)?);
                }
                Ok($crate::db::Rows { columns, rows: out })
            }

            async fn query_each_with_setup(
                &self,
                setup: &[String],
                sql: &str,
                each: &mut (dyn FnMut(Vec<$crate::db::Value>) + Send),
            ) -> $crate::error::Result<()> {
                use futures::TryStreamExt;
                let err = |e| $crate::db::sqlx_error(&self.redacted, e);
                let mut tx = self.pool.begin().await.map_err(err)?;
                for s in setup {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(s.clone()))
                        .execute(&mut *tx)
                        .await
                        .map_err(err)?;
                }
                {
                    let mut rows =
                        sqlx::query::<$db>(sqlx::AssertSqlSafe(sql.to_string())).fetch(&mut *tx);
                    while let Some(r) = rows.try_next().await.map_err(err)? {
                        each(decode_row(&r)?);
                    }
                }
                tx.commit().await.map_err(err)?;
                Ok(())
            }

            fn stream<'a>(
                &'a self,
                sql: String,
                params: Vec<$crate::db::Value>,
            ) -> futures::stream::BoxStream<'a, $crate::error::Result<Vec<$crate::db::Value>>> {
                use futures::StreamExt;
                let redacted = self.redacted.clone();
                Box::pin(
                    async_stream_like(move || {
                        let mut q = sqlx::query::<$db>(sqlx::AssertSqlSafe(sql));
                        for p in &params {
                            q = bind_value(q, p);
                        }
                        q.fetch(&self.pool)
                    })
                    .map(move |r| match r {
                        Ok(row) => decode_row(&row),
                        Err(e) => Err($crate::db::sqlx_error(&redacted, e)),
                    }),
                )
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
        }

        /// Build the stream lazily so the query owns its SQL and parameters.
        fn async_stream_like<'a, F, S>(f: F) -> S
        where
            F: FnOnce() -> S,
            S: futures::Stream + 'a,
        {
            f()
        }
    };
}

pub(crate) use impl_database;
