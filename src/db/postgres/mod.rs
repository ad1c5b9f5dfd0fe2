pub(crate) mod backup;
mod backup_extras;
mod backup_hash;
pub(crate) mod bulk;
pub(crate) mod catalog;
pub(crate) mod copy_rows;
mod dialect;
mod hash;
mod objects;
mod rows;
mod table;
pub(crate) use dialect::SQL;

use super::engine_impl::impl_database;
use super::{ConnectOptions, Dialect, Value, connect_error};
use crate::error::{Error, Result};
use chrono::{NaiveDate, NaiveTime};
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
        let ty = row.column(i).type_info().name();
        let err = |e: sqlx::Error| {
            Error::runtime(format!(
                "cannot decode column \"{}\" of type {ty}: {e}",
                row.column(i).name()
            ))
        };
        let v = match ty {
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
                // NaN, ±Infinity or more digits than rust_decimal holds: the exact text
                Err(_) => Value::Text(numeric_text(raw_bytes(row, i).map_err(err)?).map_err(err)?),
            },
            "BYTEA" => Value::Bytes(row.try_get(i).map_err(err)?),
            "DATE" | "TIMESTAMP" | "TIMESTAMPTZ" => decode_datetime(row, i, ty).map_err(err)?,
            "TIME" => Value::Time(row.try_get::<NaiveTime, _>(i).map_err(err)?),
            "UUID" => Value::Uuid(row.try_get(i).map_err(err)?),
            "JSON" | "JSONB" => Value::Json(row.try_get::<serde_json::Value, _>(i).map_err(err)?),
            "TEXT" | "VARCHAR" | "NAME" | "\"CHAR\"" | "CITEXT" => {
                Value::Text(row.try_get_unchecked(i).map_err(err)?)
            }
            // char(n): trailing spaces are padding, not data (as `::text` and MySQL say)
            "BPCHAR" | "CHAR" => {
                let s: String = row.try_get_unchecked(i).map_err(err)?;
                Value::Text(s.trim_end_matches(' ').to_string())
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
                    .with_hint(format!(
                        "compare it by its text: --compare-as {}=text",
                        row.column(i).name()
                    )));
                }
            },
        };
        out.push(v);
    }
    Ok(out)
}

fn raw_bytes(row: &PgRow, i: usize) -> std::result::Result<&[u8], sqlx::Error> {
    let raw = row.try_get_raw(i)?;
    raw.as_bytes().map_err(sqlx::Error::Decode)
}

/// Days since 2000-01-01 as a proleptic Gregorian (year, month, day), any year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days_from_civil inverse, shifted from 1970 to 2000
    let z = days + 10957 + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A date, timestamp or timestamptz, including `infinity`, `-infinity` and years
/// beyond what chrono holds (then as PostgreSQL's own text: `5874897-12-31`).
fn decode_datetime(row: &PgRow, i: usize, ty: &str) -> std::result::Result<Value, sqlx::Error> {
    datetime_value(raw_bytes(row, i)?, ty)
}

/// [`decode_datetime`] from the value's binary form (also read by a binary COPY).
fn datetime_value(b: &[u8], ty: &str) -> std::result::Result<Value, sqlx::Error> {
    let bad = || sqlx::Error::Decode(format!("{ty} of {} bytes", b.len()).into());
    if ty == "DATE" {
        let days = i32::from_be_bytes(b.try_into().map_err(|_| bad())?);
        return Ok(match days {
            i32::MAX => Value::Text("infinity".into()),
            i32::MIN => Value::Text("-infinity".into()),
            _ => match NaiveDate::from_ymd_opt(2000, 1, 1)
                .and_then(|e| e.checked_add_signed(chrono::TimeDelta::days(days as i64)))
            {
                Some(d) => Value::Date(d),
                None => Value::Text(pg_date_text(days as i64)),
            },
        });
    }
    let micros = i64::from_be_bytes(b.try_into().map_err(|_| bad())?);
    match micros {
        i64::MAX => return Ok(Value::Text("infinity".into())),
        i64::MIN => return Ok(Value::Text("-infinity".into())),
        _ => {}
    }
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("2000-01-01");
    let t = epoch.checked_add_signed(chrono::TimeDelta::microseconds(micros));
    Ok(match (t, ty) {
        (Some(t), "TIMESTAMP") => Value::Timestamp(t),
        (Some(t), _) => Value::TimestampTz(t.and_utc()),
        (None, _) => {
            let days = micros.div_euclid(86_400_000_000);
            let rest = micros.rem_euclid(86_400_000_000);
            let tod = NaiveTime::from_num_seconds_from_midnight_opt(
                (rest / 1_000_000) as u32,
                (rest % 1_000_000) as u32 * 1000,
            )
            .unwrap_or_default();
            Value::Text(format!(
                "{} {}",
                pg_date_text(days),
                tod.format("%H:%M:%S%.f")
            ))
        }
    })
}

/// PostgreSQL's ISO text of a date given as days since 2000-01-01 (`0044-03-15 BC`).
fn pg_date_text(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    if y <= 0 {
        format!("{:04}-{m:02}-{d:02} BC", 1 - y)
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// The exact text of a binary NUMERIC: any number of digits, `NaN`, `Infinity`,
/// `-Infinity` (each distinct).
fn numeric_text(b: &[u8]) -> std::result::Result<String, sqlx::Error> {
    let bad = || sqlx::Error::Decode("malformed numeric".into());
    let word = |k: usize| -> std::result::Result<u16, sqlx::Error> {
        Ok(u16::from_be_bytes(
            b.get(2 * k..2 * k + 2)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        ))
    };
    let ndigits = word(0)? as usize;
    let weight = word(1)? as i16 as i64;
    let sign = word(2)?;
    let dscale = word(3)? as usize;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<u16> = (0..ndigits)
        .map(|k| word(4 + k))
        .collect::<std::result::Result<_, _>>()?;
    // integer part: base-10000 digits at weights weight..=0
    let mut int = String::new();
    for w in (0..=weight).rev() {
        let idx = weight - w;
        let d = if idx >= 0 && (idx as usize) < digits.len() {
            digits[idx as usize]
        } else {
            0
        };
        if int.is_empty() {
            if d != 0 {
                int = d.to_string();
            }
        } else {
            int.push_str(&format!("{d:04}"));
        }
    }
    if int.is_empty() {
        int.push('0');
    }
    let mut frac = String::new();
    let mut w = -1i64;
    while frac.len() < dscale {
        let idx = weight - w;
        let d = if idx >= 0 && (idx as usize) < digits.len() {
            digits[idx as usize]
        } else {
            0
        };
        frac.push_str(&format!("{d:04}"));
        w -= 1;
    }
    frac.truncate(dscale);
    let neg = sign == 0x4000 && (int != "0" || frac.chars().any(|c| c != '0'));
    Ok(format!(
        "{}{int}{}{frac}",
        if neg { "-" } else { "" },
        if dscale > 0 { "." } else { "" }
    ))
}

/// A PostgreSQL error's message with its DETAIL and HINT lines; None for other engines.
pub(crate) fn error_details(d: &dyn sqlx::error::DatabaseError) -> Option<String> {
    let pg = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
    let mut out = pg.message().to_string();
    if let Some(detail) = pg.detail() {
        out.push_str(&format!("\n  DETAIL: {detail}"));
    }
    if let Some(hint) = pg.hint() {
        out.push_str(&format!("\n  HINT: {hint}"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_beyond_chrono_read_as_postgres_writes_them() {
        assert_eq!(pg_date_text(0), "2000-01-01");
        assert_eq!(pg_date_text(-746117), "0044-03-15 BC");
        assert_eq!(civil_from_days(-10957), (1970, 1, 1));
        // '5874897-12-31'::date - '2000-01-01'
        assert_eq!(pg_date_text(2145031948), "5874897-12-31");
    }
}

impl_database!(PgDb, Postgres, Dialect::Postgres);
