pub(crate) mod backup;
pub(crate) mod bulk;
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
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Column, Connection as _, Postgres, Row, TypeInfo, ValueRef};
use std::str::FromStr;
use std::time::Duration;

pub struct PgDb {
    pub(crate) pool: PgPool,
    pub(crate) redacted: String,
}

impl PgDb {
    pub async fn connect(url: &str, redacted: &str, opts: ConnectOptions) -> Result<Self> {
        let co = PgConnectOptions::from_str(url)
            .map_err(|e| connect_error(redacted, e))?
            .application_name("cutover")
            .options([("lock_timeout", "30s"), ("statement_timeout", "0")]);
        super::probe(redacted, sqlx::PgConnection::connect_with(&co)).await?;
        let pool = PgPoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(co)
            .await
            .map_err(|e| connect_error(redacted, e))?;
        Ok(PgDb {
            pool,
            redacted: redacted.to_string(),
        })
    }
}

fn bind_value<'q>(
    q: sqlx::query::Query<'q, Postgres, PgArguments>,
    v: &Value,
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Bool(b) => q.bind(*b),
        Value::Int(i) => q.bind(*i),
        Value::UInt(u) => q.bind(Decimal::from(*u)),
        Value::Float(f) => q.bind(*f),
        Value::Decimal(d) => q.bind(*d),
        Value::Text(s) => q.bind(s.clone()),
        Value::Bytes(b) => q.bind(b.clone()),
        Value::Date(d) => q.bind(*d),
        Value::Time(t) => q.bind(*t),
        Value::Timestamp(t) => q.bind(*t),
        Value::TimestampTz(t) => q.bind(*t),
        Value::Uuid(u) => q.bind(*u),
        Value::Json(j) => q.bind(j.clone()),
    }
}

pub(crate) fn decode_row(row: &PgRow) -> Result<Vec<Value>> {
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
            "BOOL" => Value::Bool(row.try_get(i).map_err(err)?),
            "INT2" => Value::Int(row.try_get::<i16, _>(i).map_err(err)? as i64),
            "INT4" => Value::Int(row.try_get::<i32, _>(i).map_err(err)? as i64),
            "INT8" => Value::Int(row.try_get::<i64, _>(i).map_err(err)?),
            "OID" => Value::Int(
                row.try_get::<sqlx::postgres::types::Oid, _>(i)
                    .map_err(err)?
                    .0 as i64,
            ),
            "FLOAT4" => Value::Float(row.try_get::<f32, _>(i).map_err(err)? as f64),
            "FLOAT8" => Value::Float(row.try_get::<f64, _>(i).map_err(err)?),
            "NUMERIC" => match row.try_get::<Decimal, _>(i) {
                Ok(d) => Value::Decimal(d),
                // NaN or more digits than rust_decimal holds: keep the exact text
                Err(_) => Value::Text(
                    row.try_get_unchecked::<String, _>(i)
                        .unwrap_or_else(|_| "NaN".into()),
                ),
            },
            "BYTEA" => Value::Bytes(row.try_get(i).map_err(err)?),
            "DATE" => Value::Date(row.try_get::<NaiveDate, _>(i).map_err(err)?),
            "TIME" => Value::Time(row.try_get::<NaiveTime, _>(i).map_err(err)?),
            "TIMESTAMP" => Value::Timestamp(row.try_get::<NaiveDateTime, _>(i).map_err(err)?),
            "TIMESTAMPTZ" => Value::TimestampTz(row.try_get::<DateTime<Utc>, _>(i).map_err(err)?),
            "UUID" => Value::Uuid(row.try_get(i).map_err(err)?),
            "JSON" | "JSONB" => Value::Json(row.try_get::<serde_json::Value, _>(i).map_err(err)?),
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "CITEXT" => {
                Value::Text(row.try_get_unchecked(i).map_err(err)?)
            }
            _ => match row.try_get_unchecked::<String, _>(i) {
                // enums and other text-like types arrive as UTF-8 text
                Ok(s) if s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t') => {
                    Value::Text(s)
                }
                _ => {
                    return Err(Error::runtime(format!(
                        "column \"{}\" has type {ty}, which cutover cannot read directly",
                        row.column(i).name()
                    ))
                    .with_hint("cast it in the query, e.g. col::text"));
                }
            },
        };
        out.push(v);
    }
    Ok(out)
}

impl_database!(PgDb, Postgres, Dialect::Postgres);
