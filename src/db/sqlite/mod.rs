pub(crate) mod backup;
pub(crate) mod catalog;
mod dialect;
mod sqlparse;
pub(crate) mod stream;
mod table;
pub(crate) mod types;
pub(crate) use dialect::SQL;

use super::engine_impl::impl_database;
use super::{ConnectOptions, Dialect, Value, connect_error};
use crate::error::{Error, Result};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::{Row, Sqlite, TypeInfo, ValueRef};
use std::str::FromStr;
use std::time::Duration;

pub(crate) const SQL_LIST_TABLES: &str =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1";

pub struct SqliteDb {
    pub(crate) pool: SqlitePool,
    pub(crate) redacted: String,
}

impl SqliteDb {
    pub async fn connect(url: &str, redacted: &str, opts: ConnectOptions) -> Result<Self> {
        let path = sqlite_path(url);
        if !opts.create_if_missing && path != ":memory:" && !std::path::Path::new(&path).exists() {
            return Err(Error::bad_input(format!(
                "SQLite database {redacted} does not exist (file {path})"
            ))
            .with_hint(
                "check the path; relative paths are resolved from the runbook's directory",
            ));
        }
        let co = SqliteConnectOptions::from_str(url)
            .map_err(|e| connect_error(redacted, e))?
            .create_if_missing(opts.create_if_missing)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(co)
            .await
            .map_err(|e| connect_error(redacted, e))?;
        Ok(SqliteDb {
            pool,
            redacted: redacted.to_string(),
        })
    }
}

/// The file path of a sqlite:// URL (without query string).
pub fn sqlite_path(url: &str) -> String {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest.split('?').next().unwrap_or("").to_string()
}

fn bind_value<'q>(
    q: sqlx::query::Query<'q, Sqlite, SqliteArguments>,
    v: &Value,
) -> sqlx::query::Query<'q, Sqlite, SqliteArguments> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Bool(b) => q.bind(*b),
        Value::Int(i) => q.bind(*i),
        Value::UInt(u) => q.bind(*u as i64),
        Value::Float(f) => q.bind(*f),
        Value::Bytes(b) => q.bind(b.clone()),
        other => q.bind(other.to_string()),
    }
}

pub(crate) fn decode_row(row: &SqliteRow) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let raw = row
            .try_get_raw(i)
            .map_err(|e| Error::runtime(format!("decode column {i}: {e}")))?;
        if raw.is_null() {
            out.push(Value::Null);
            continue;
        }
        let storage = raw.type_info().name().to_string();
        let v = match storage.as_str() {
            "INTEGER" | "BOOLEAN" => {
                Value::Int(row.try_get_unchecked::<i64, _>(i).unwrap_or_default())
            }
            "REAL" => Value::Float(row.try_get_unchecked::<f64, _>(i).unwrap_or_default()),
            "BLOB" => Value::Bytes(row.try_get_unchecked::<Vec<u8>, _>(i).unwrap_or_default()),
            _ => match row.try_get_unchecked::<String, _>(i) {
                Ok(s) => Value::Text(s),
                Err(_) => Value::Bytes(row.try_get_unchecked::<Vec<u8>, _>(i).unwrap_or_default()),
            },
        };
        out.push(v);
    }
    Ok(out)
}

impl_database!(SqliteDb, Sqlite, Dialect::Sqlite);
