pub(crate) mod backup;
mod backup_extras;
mod backup_float;
mod backup_hash;
pub(crate) mod catalog;
mod dialect;
mod dump_hash;
mod dump_rows;
mod hash;
mod load;
mod objects;
mod script;
mod table;
pub(crate) use dialect::SQL;

use super::engine_impl::impl_database;
use super::{ConnectOptions, Dialect, Value, connect_error};
use crate::error::{Error, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use sqlx::mysql::{MySqlArguments, MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{Column, Connection as _, MySql, Row, TypeInfo, ValueRef};
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
        super::probe(redacted, sqlx::MySqlConnection::connect_with(&co)).await?;
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
        let ty = row.column(i).type_info().name();
        if raw.is_null() {
            // sqlx reads a zero date ('0000-00-00') as NULL; it is a value
            let zero = matches!(ty, "DATE" | "DATETIME" | "TIMESTAMP")
                && row
                    .try_get_unchecked::<Vec<u8>, _>(i)
                    .is_ok_and(|b| b.first() == Some(&0));
            out.push(if zero {
                Value::Text(
                    if ty == "DATE" {
                        "0000-00-00"
                    } else {
                        "0000-00-00 00:00:00"
                    }
                    .into(),
                )
            } else {
                Value::Null
            });
            continue;
        }
        let err = |e: sqlx::Error| {
            Error::runtime(format!(
                "cannot decode column \"{}\" of type {ty}: {e}",
                row.column(i).name()
            ))
        };
        let v = match ty {
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
            "DECIMAL" => match row.try_get::<Decimal, _>(i) {
                Ok(d) => Value::Decimal(d),
                // more digits than rust_decimal holds (DECIMAL(65,30)): the exact text
                Err(_) => Value::Text(row.try_get_unchecked::<String, _>(i).map_err(err)?),
            },
            "DATE" => match row.try_get::<NaiveDate, _>(i) {
                Ok(d) => Value::Date(d),
                Err(_) => Value::Text(zero_date_text(row, i, false).map_err(err)?),
            },
            "TIME" => {
                // signed and up to 838 hours; a time of day only when it is one
                // (read as MySqlTime: its TimeDelta conversion loses the sign of
                // '-00:00:00.5' and misplaces that of '-01:00:00.5')
                let t = match row.try_get::<sqlx::mysql::types::MySqlTime, _>(i) {
                    Ok(t) => t,
                    // MariaDB holds up to 838:59:59.999999; sqlx refuses beyond .000000
                    Err(e) => {
                        out.push(Value::Text(raw_time_text(row, i).ok_or(e).map_err(err)?));
                        continue;
                    }
                };
                let tod = NaiveTime::from_hms_micro_opt(
                    t.hours(),
                    t.minutes().into(),
                    t.seconds().into(),
                    t.microseconds(),
                );
                match tod {
                    Some(tod) if t.sign().is_positive() => Value::Time(tod),
                    _ => Value::Text(time_text(&t)),
                }
            }
            "DATETIME" => match row.try_get::<NaiveDateTime, _>(i) {
                Ok(t) => Value::Timestamp(t),
                Err(_) => Value::Text(zero_date_text(row, i, true).map_err(err)?),
            },
            "TIMESTAMP" => match row.try_get::<DateTime<Utc>, _>(i) {
                Ok(t) => Value::TimestampTz(t),
                Err(_) => Value::Text(zero_date_text(row, i, true).map_err(err)?),
            },
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

/// A `TIME` read from the binary protocol's fields (a length byte, then sign, days (4),
/// hours, minutes, seconds, microseconds (4)) as MySQL writes it.
fn raw_time_text(row: &MySqlRow, i: usize) -> Option<String> {
    let v: Vec<u8> = row.try_get_unchecked(i).ok()?;
    let b = v.get(1..)?;
    if b.is_empty() {
        return Some("00:00:00".into());
    }
    if b.len() < 8 {
        return None;
    }
    let days = u32::from_le_bytes(b[1..5].try_into().ok()?);
    let micros = match b.get(8..12) {
        Some(m) => u32::from_le_bytes(m.try_into().ok()?),
        None => 0,
    };
    let mut s = format!(
        "{}{:02}:{:02}:{:02}",
        if b[0] == 1 { "-" } else { "" },
        days * 24 + u32::from(b[5]),
        b[6],
        b[7]
    );
    if micros > 0 {
        s.push_str(&format!(".{micros:06}"));
    }
    Some(s)
}

/// A MySQL `TIME` of any sign and length as text: `-01:00:00`, `838:59:59.000001`.
fn time_text(t: &sqlx::mysql::types::MySqlTime) -> String {
    let micros = t.microseconds();
    let mut s = format!(
        "{}{:02}:{:02}:{:02}",
        if t.sign().is_negative() { "-" } else { "" },
        t.hours(),
        t.minutes(),
        t.seconds()
    );
    if micros > 0 {
        s.push_str(&format!(".{micros:06}"));
    }
    s
}

/// A zero or partly zero date (`0000-00-00`, `2024-00-05 10:00:00`) as MySQL writes it,
/// read from the binary protocol's fields (chrono has no such dates).
fn zero_date_text(
    row: &MySqlRow,
    i: usize,
    with_time: bool,
) -> std::result::Result<String, sqlx::Error> {
    // the binary protocol's value: a length byte, then year (2), month, day, hour,
    // minute, second, microseconds (4), each part present only up to that length
    let v: Vec<u8> = row.try_get_unchecked(i)?;
    if v.first().is_some_and(|c| c.is_ascii_digit()) {
        // the text protocol: MySQL's own text
        return String::from_utf8(v).map_err(|e| sqlx::Error::Decode(e.into()));
    }
    let b = v.get(1..).unwrap_or_default();
    let bad = || sqlx::Error::Decode(format!("date of {} bytes", b.len()).into());
    let byte = |k: usize| b.get(k).copied().map(u32::from);
    let (y, m, d) = if b.len() >= 4 {
        (
            u16::from_le_bytes([b[0], b[1]]) as u32,
            byte(2).ok_or_else(bad)?,
            byte(3).ok_or_else(bad)?,
        )
    } else if b.is_empty() {
        (0, 0, 0)
    } else {
        return Err(bad());
    };
    let mut s = format!("{y:04}-{m:02}-{d:02}");
    if with_time {
        let (h, mi, se) = (
            byte(4).unwrap_or(0),
            byte(5).unwrap_or(0),
            byte(6).unwrap_or(0),
        );
        s.push_str(&format!(" {h:02}:{mi:02}:{se:02}"));
        if b.len() >= 11 {
            let us = u32::from_le_bytes([b[7], b[8], b[9], b[10]]);
            if us > 0 {
                s.push_str(&format!(".{us:06}"));
            }
        }
    }
    Ok(s)
}

impl_database!(MySqlDb, MySql, Dialect::Mysql);

/// Whether a statement causes an implicit commit on MySQL/MariaDB (the statements the
/// manual lists under "Statements That Cause an Implicit Commit": data definition,
/// account and table maintenance statements, LOCK TABLES, and starting a transaction).
pub(crate) fn implicit_commit(sql: &str) -> bool {
    let words: Vec<String> = without_leading_comments(sql)
        .split_whitespace()
        .take(3)
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match w(0) {
        // CREATE/DROP TEMPORARY TABLE are the exceptions.
        "CREATE" | "ALTER" | "DROP" => w(1) != "TEMPORARY",
        "RENAME" | "TRUNCATE" | "GRANT" | "REVOKE" | "ANALYZE" | "OPTIMIZE" | "REPAIR"
        | "CHECK" | "FLUSH" | "BEGIN" | "COMMIT" => true,
        "START" => w(1) == "TRANSACTION",
        "LOCK" | "UNLOCK" => w(1) == "TABLES",
        "SET" => w(1) == "PASSWORD",
        "INSTALL" | "UNINSTALL" => w(1) == "PLUGIN",
        "LOAD" => w(1) == "INDEX",
        "CACHE" => w(1) == "INDEX",
        _ => false,
    }
}

fn without_leading_comments(sql: &str) -> &str {
    let mut s = sql.trim_start();
    loop {
        if let Some(rest) = s.strip_prefix("--").or_else(|| s.strip_prefix('#')) {
            s = rest
                .split_once('\n')
                .map(|(_, r)| r)
                .unwrap_or("")
                .trim_start();
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest
                .split_once("*/")
                .map(|(_, r)| r)
                .unwrap_or("")
                .trim_start();
        } else {
            return s;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ddl_commits_implicitly_dml_does_not() {
        use super::implicit_commit as ic;
        assert!(ic("ALTER TABLE t ADD c INT"));
        assert!(ic("-- why\n  create index i on t (c)"));
        assert!(ic("/* x */ DROP TABLE t"));
        assert!(ic("truncate t"));
        assert!(!ic("CREATE TEMPORARY TABLE t (a INT)"));
        assert!(!ic("INSERT INTO t VALUES (1)"));
        assert!(!ic("UPDATE t SET a = 1"));
        assert!(!ic("DELETE FROM t"));
    }
}
