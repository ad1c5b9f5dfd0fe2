//! refinery has no sqlx driver: this adapter implements refinery-core's async traits
//! over our [`Database`] trait, so the same migrations code serves every engine.

use super::{Database, Statement, Value, split_statements};
use refinery_core::Migration;
use refinery_core::traits::r#async::{AsyncMigrate, AsyncQuery, AsyncTransaction};

/// Called with each migration's SQL as it is applied.
pub type OnApply<'a> = Box<dyn Fn(&str) + Send + Sync + 'a>;

/// A refinery connection over one of our databases. `on_apply` is told about each
/// migration (name, statements) as it is applied, for progress.
pub struct RefineryDb<'a> {
    pub db: &'a dyn Database,
    pub on_apply: Option<OnApply<'a>>,
}

#[derive(Debug)]
pub struct AdapterError(pub String);

impl std::fmt::Display for AdapterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for AdapterError {}

impl AsyncTransaction for RefineryDb<'_> {
    type Error = AdapterError;

    async fn execute<'a, T: Iterator<Item = &'a str> + Send + 'a>(
        &'a mut self,
        queries: T,
    ) -> Result<usize, Self::Error> {
        let mut statements: Vec<Statement> = Vec::new();
        let mut count = 0;
        for q in queries {
            count += 1;
            if let Some(cb) = &self.on_apply {
                // Report migrations only, not refinery's own bookkeeping statements.
                let head = q.trim_start().to_ascii_uppercase();
                let bookkeeping = head.starts_with("INSERT INTO REFINERY_SCHEMA_HISTORY")
                    || head.starts_with("CREATE TABLE IF NOT EXISTS REFINERY_SCHEMA_HISTORY");
                if !bookkeeping {
                    cb(q);
                }
            }
            statements.extend(split_statements(q));
        }
        self.db
            .execute_in_transaction(&statements)
            .await
            .map_err(|e| {
                let st = statements
                    .get(e.index)
                    .map(|s| s.sql.as_str())
                    .unwrap_or("");
                let first: String = st.lines().next().unwrap_or("").chars().take(120).collect();
                AdapterError(format!(
                    "statement {} (\"{first}\"): {}",
                    e.index + 1,
                    e.message
                ))
            })?;
        Ok(count)
    }
}

impl AsyncQuery<Vec<Migration>> for RefineryDb<'_> {
    async fn query<'a>(&'a mut self, query: &'a str) -> Result<Vec<Migration>, Self::Error> {
        let rows = self
            .db
            .query(query, &[])
            .await
            .map_err(|e| AdapterError(e.message))?;
        let mut out = Vec::new();
        for r in rows.rows {
            let version = r.first().and_then(Value::as_i64).unwrap_or(0) as i32;
            let name = r.get(1).map(|v| v.to_string()).unwrap_or_default();
            let applied_on = r.get(2).map(|v| v.to_string()).unwrap_or_default();
            let applied_on = time::OffsetDateTime::parse(
                &applied_on,
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            let checksum = r
                .get(3)
                .map(|v| v.to_string())
                .unwrap_or_default()
                .parse::<u64>()
                .unwrap_or(0);
            out.push(Migration::applied(version, name, applied_on, checksum));
        }
        Ok(out)
    }
}

impl AsyncMigrate for RefineryDb<'_> {}
