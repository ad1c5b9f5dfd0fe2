//! Engine-neutral values decoded from any of the three engines.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// Unsigned values that do not fit i64 (MySQL BIGINT UNSIGNED).
    UInt(u64),
    Float(f64),
    Decimal(Decimal),
    Text(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    Time(NaiveTime),
    /// A timestamp without time zone.
    Timestamp(NaiveDateTime),
    /// A timestamp with time zone, normalized to UTC.
    TimestampTz(DateTime<Utc>),
    Uuid(uuid::Uuid),
    Json(serde_json::Value),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Integer view (for checks and counts): ints, integral decimals, numeric text.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::UInt(u) => i64::try_from(*u).ok(),
            Value::Bool(b) => Some(*b as i64),
            Value::Decimal(d) if d.fract().is_zero() => d.to_string().parse().ok(),
            Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            Value::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Compare loosely for checks: numbers by value whatever their type, the rest by text.
    pub fn loosely_equals(&self, other: &Value) -> bool {
        use std::str::FromStr;
        let num = |v: &Value| -> Option<Decimal> {
            match v {
                Value::Int(i) => Some(Decimal::from(*i)),
                Value::UInt(u) => Some(Decimal::from(*u)),
                Value::Decimal(d) => Some(*d),
                Value::Float(f) => Decimal::from_str(&f.to_string()).ok(),
                Value::Bool(b) => Some(Decimal::from(*b as i64)),
                Value::Text(s) => Decimal::from_str(s.trim()).ok(),
                _ => None,
            }
        };
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Null, _) | (_, Value::Null) => false,
            _ => match (num(self), num(other)) {
                (Some(a), Some(b)) => a.normalize() == b.normalize(),
                _ => self.to_string() == other.to_string(),
            },
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "NULL"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::UInt(u) => write!(f, "{u}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Text(s) => write!(f, "{s}"),
            Value::Bytes(b) => write!(f, "\\x{}", hex::encode(b)),
            Value::Date(d) => write!(f, "{d}"),
            Value::Time(t) => write!(f, "{t}"),
            Value::Timestamp(t) => write!(f, "{}", t.format("%Y-%m-%d %H:%M:%S%.f")),
            Value::TimestampTz(t) => write!(f, "{}", t.format("%Y-%m-%d %H:%M:%S%.f+00")),
            Value::Uuid(u) => write!(f, "{u}"),
            Value::Json(j) => write!(f, "{j}"),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map(Into::into).unwrap_or(Value::Null)
    }
}

impl Value {
    /// This value as an SQL literal in `dialect` (for generated scripts and batches).
    pub fn to_sql_literal(&self, dialect: super::Dialect) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Bool(b) => dialect.sql().bool_literal(*b, super::Class::Bool),
            Value::Int(i) => i.to_string(),
            Value::UInt(u) => u.to_string(),
            Value::Float(f) if f.is_finite() => format!("{f:?}"),
            Value::Float(f) => dialect.quote_literal(&f.to_string()),
            Value::Decimal(d) => d.to_string(),
            Value::Bytes(b) => dialect.sql().value_bytes_literal(b),
            Value::Json(j) => dialect.quote_literal(&j.to_string()),
            Value::TimestampTz(t) => {
                dialect.quote_literal(&dialect.sql().value_timestamptz_text(t))
            }
            Value::Timestamp(t) => {
                dialect.quote_literal(&t.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
            }
            other => dialect.quote_literal(&other.to_string()),
        }
    }
}
