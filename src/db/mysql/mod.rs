pub(crate) mod catalog;
mod dialect;
mod hash;
mod objects;
mod table;
pub(crate) use dialect::SQL;

use super::engine_impl::impl_database;
use super::{ConnectOptions, Dialect, Value, connect_error};
use crate::error::{Error, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use sqlx::mysql::{MySqlArguments, MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{Column, MySql, Row, TypeInfo, ValueRef};
use std::str::FromStr;
use std::time::Duration;

pub struct MySqlDb {
    pub(crate) pool: MySqlPool,
    pub(crate) redacted: String,
}

impl MySqlDb {
    pub async fn connect(url: &str, redacted: &str, opts: ConnectOptions) -> Result<Self> {
        let url = url.replacen("mariadb://", "mysql://", 1);
        let co = MySqlConnectOptions::from_str(&url)
            .map_err(|e| connect_error(redacted, e))?
            .charset("utf8mb4")
            .timezone(Some("+00:00".to_string()))
            .pipes_as_concat(false);
        let pool = MySqlPoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(15))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute("SET SESSION innodb_lock_wait_timeout = 30")
                        .await?;
                    Ok(())
                })
            })
            .connect_with(co)
            .await
            .map_err(|e| connect_error(redacted, e))?;
        Ok(MySqlDb {
            pool,
            redacted: redacted.to_string(),
        })
    }
}

fn bind_value<'q>(
    q: sqlx::query::Query<'q, MySql, MySqlArguments>,
    v: &Value,
) -> sqlx::query::Query<'q, MySql, MySqlArguments> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Bool(b) => q.bind(*b),
        Value::Int(i) => q.bind(*i),
        Value::UInt(u) => q.bind(*u),
        Value::Float(f) => q.bind(*f),
        Value::Decimal(d) => q.bind(*d),
        Value::Text(s) => q.bind(s.clone()),
        Value::Bytes(b) => q.bind(b.clone()),
        Value::Date(d) => q.bind(*d),
        Value::Time(t) => q.bind(*t),
        Value::Timestamp(t) => q.bind(*t),
        Value::TimestampTz(t) => q.bind(*t),
        Value::Uuid(u) => q.bind(u.to_string()),
        Value::Json(j) => q.bind(j.to_string()),
    }
}

pub(crate) fn decode_row(row: &MySqlRow) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let raw = row
            .try_get_raw(i)
            .map_err(|e| Error::runtime(format!("decode column {i}: {e}")))?;
        if raw.is_null() {
            out.push(Value::Null);
            continue;
        }
        let ty = row.column(i).type_info().name().to_string();
        let err = |e: sqlx::Error| {
            Error::runtime(format!(
                "cannot decode column \"{}\" of type {ty}: {e}",
                row.column(i).name()
            ))
        };
        let v = match ty.as_str() {
            "BOOLEAN" => Value::Bool(row.try_get::<bool, _>(i).map_err(err)?),
            "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => {
                Value::Int(row.try_get_unchecked::<i64, _>(i).map_err(err)?)
            }
            "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED"
            | "BIGINT UNSIGNED" => {
                let u = row.try_get_unchecked::<u64, _>(i).map_err(err)?;
                i64::try_from(u).map(Value::Int).unwrap_or(Value::UInt(u))
            }
            "FLOAT" => Value::Float(row.try_get::<f32, _>(i).map_err(err)? as f64),
            "DOUBLE" => Value::Float(row.try_get::<f64, _>(i).map_err(err)?),
            "DECIMAL" => Value::Decimal(row.try_get::<Decimal, _>(i).map_err(err)?),
            "DATE" => Value::Date(row.try_get::<NaiveDate, _>(i).map_err(err)?),
            "TIME" => Value::Time(row.try_get::<NaiveTime, _>(i).map_err(err)?),
            "DATETIME" => Value::Timestamp(row.try_get::<NaiveDateTime, _>(i).map_err(err)?),
            "TIMESTAMP" => Value::TimestampTz(row.try_get::<DateTime<Utc>, _>(i).map_err(err)?),
            "JSON" => Value::Json(row.try_get::<serde_json::Value, _>(i).map_err(err)?),
            // A `_bin` collation sets the BINARY flag on text columns too; only the
            // binary character set (collation 63) means bytes.
            "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB"
                if !format!("{:?}", row.column(i).type_info()).contains("Collation(63)") =>
            {
                Value::Text(row.try_get_unchecked::<String, _>(i).map_err(err)?)
            }
            "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BIT"
            | "GEOMETRY" => {
                let b: Vec<u8> = row.try_get_unchecked(i).map_err(err)?;
                Value::Bytes(b)
            }
            _ => match row.try_get_unchecked::<String, _>(i) {
                Ok(s) => Value::Text(s),
                Err(_) => Value::Bytes(row.try_get_unchecked::<Vec<u8>, _>(i).map_err(err)?),
            },
        };
        out.push(v);
    }
    Ok(out)
}

impl_database!(MySqlDb, MySql, Dialect::Mysql);
