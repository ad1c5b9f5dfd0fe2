//! One table's columns and keys, read with queries filtered to that table.

use crate::db::catalog::{group_keys, keyed_table, split_name, text_of};
use crate::db::model::{Column, Table};
use crate::db::types::normalize_type;
use crate::db::{Db, Dialect, Value};
use crate::error::Result;

pub(crate) async fn introspect_table(db: &Db, name: &str) -> Result<Option<Table>> {
    let (schema, table) = split_name(name);
    let rel = Value::Text(Dialect::Postgres.quote_qualified(name));
    let rows = db
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull \
             FROM pg_attribute a WHERE a.attrelid = to_regclass($1) \
             AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            std::slice::from_ref(&rel),
        )
        .await?;
    if rows.rows.is_empty() {
        return Ok(None);
    }
    let columns = rows
        .rows
        .iter()
        .map(|r| {
            let engine_type = text_of(&r[1]);
            Column {
                name: text_of(&r[0]),
                normalized_type: normalize_type(&engine_type, Dialect::Postgres),
                engine_type,
                nullable: !matches!(r[2], Value::Bool(false)),
                default: None,
                generated: None,
                identity: None,
            }
        })
        .collect();
    let keys = db
        .query(
            "SELECT i.indexrelid::regclass::text, i.indisprimary, a.attname::text \
             FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
             WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indpred IS NULL \
             ORDER BY 1, array_position(i.indkey::int2[], a.attnum)",
            &[rel],
        )
        .await?;
    let (primary_key, unique) = group_keys(keys.rows.iter().map(|r| {
        (
            text_of(&r[0]),
            matches!(r[1], Value::Bool(true)),
            text_of(&r[2]),
        )
    }));
    Ok(Some(keyed_table(
        schema.map(str::to_string),
        table,
        columns,
        primary_key,
        unique,
    )))
}
