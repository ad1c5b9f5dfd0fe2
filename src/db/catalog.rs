//! Helpers for reading catalog query results into the schema model.

use super::model::{Column, Index, IndexColumn, PrimaryKey, Table};
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

/// Group (index, is-primary, column) rows, ordered by index then column position, into
/// the primary key and the named unique keys (the primary key among them).
pub(crate) fn group_keys(
    rows: impl Iterator<Item = (String, bool, String)>,
) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let mut primary_key = Vec::new();
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    for (index, primary, col) in rows {
        match keys.last_mut() {
            Some((i, cols)) if *i == index => cols.push(col),
            _ => keys.push((index, vec![col])),
        }
        if primary {
            primary_key = keys.last().map(|(_, c)| c.clone()).unwrap_or_default();
        }
    }
    (primary_key, keys)
}

/// A model table of the given columns, primary key and unique key groups (as
/// [`group_keys`] returns them; the primary key's group is left out of the indexes).
pub(crate) fn keyed_table(
    schema: Option<String>,
    name: &str,
    columns: Vec<Column>,
    primary_key: Vec<String>,
    unique: Vec<(String, Vec<String>)>,
) -> Table {
    let mut t = Table::new(schema, name);
    t.columns = columns;
    t.indexes = unique
        .into_iter()
        .filter(|(_, cols)| primary_key.is_empty() || *cols != primary_key)
        .map(|(name, cols)| Index {
            name,
            columns: cols
                .into_iter()
                .map(|c| IndexColumn {
                    column: Some(c),
                    expression: None,
                    descending: false,
                    prefix: None,
                })
                .collect(),
            unique: true,
            predicate: None,
            method: None,
        })
        .collect();
    if !primary_key.is_empty() {
        t.primary_key = Some(PrimaryKey {
            name: None,
            columns: primary_key,
        });
    }
    t.sort();
    t
}

/// Split `schema.table` (the last dot separates).
pub(crate) fn split_name(name: &str) -> (Option<&str>, &str) {
    match name.rsplit_once('.') {
        Some((s, t)) => (Some(s), t),
        None => (None, name),
    }
}
