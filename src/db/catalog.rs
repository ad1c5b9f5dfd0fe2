//! Helpers for reading catalog query results into the schema model.

use super::{Db, Rows, Value};
use crate::error::Result;

pub(crate) fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.to_string(),
    }
}

pub(crate) fn opt_text(v: &Value) -> Option<String> {
    (!v.is_null()).then(|| text_of(v))
}

pub(crate) fn int_of(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// A catalog query that owns its SQL, so several can run at once.
pub(crate) async fn fetch(db: &Db, sql: String) -> Result<Rows> {
    db.query(&sql, &[]).await
}
