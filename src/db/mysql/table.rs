//! One table's columns and keys, read with queries filtered to that table.

use crate::db::catalog::{group_keys, keyed_table, split_name, text_of};
use crate::db::model::{Column, Table};
use crate::db::types::normalize_type;
use crate::db::{Db, Dialect, Value};
use crate::error::Result;

pub(crate) async fn introspect_table(db: &Db, name: &str) -> Result<Option<Table>> {
    let (schema, table) = split_name(name);
    let schema_sql = if schema.is_some() { "?" } else { "DATABASE()" };
    let mut params = vec![Value::Text(table.to_string())];
    if let Some(s) = schema {
        params.push(Value::Text(s.to_string()));
    }
    let rows = db
        .query(
            &format!(
                "SELECT CAST(column_name AS CHAR), CAST(column_type AS CHAR), CAST(is_nullable AS CHAR), \
                 CAST(character_set_name AS CHAR) \
                 FROM information_schema.columns WHERE table_name = ? AND table_schema = {schema_sql} \
                 ORDER BY ordinal_position"
            ),
            &params,
        )
        .await?;
    if rows.rows.is_empty() {
        return Ok(None);
    }
    // MariaDB's JSON is longtext with a json_valid(col) check: compared as JSON
    let checks = db
        .query(
            &format!(
                "SELECT CAST(check_clause AS CHAR) FROM information_schema.check_constraints \
                 WHERE table_name = ? AND constraint_schema = {schema_sql}"
            ),
            &params,
        )
        .await?;
    let json_clauses: Vec<String> = checks.rows.iter().map(|r| text_of(&r[0])).collect();
    let columns = rows
        .rows
        .iter()
        .map(|r| {
            let engine_type = text_of(&r[1]);
            let name = text_of(&r[0]);
            let json = json_clauses.contains(&format!(
                "json_valid({})",
                Dialect::Mysql.quote_ident(&name)
            ));
            let normalized_type = if json {
                "json".into()
            } else {
                normalize_type(&engine_type, Dialect::Mysql)
            };
            // a text column's type with its character set: two tables' `varchar(40)`
            // hold the same text in the same bytes only if their character sets agree
            // (the data diff's native hash compares the bytes where they do)
            let engine_type = match r.get(3).map(text_of).filter(|c| !c.is_empty() && !json) {
                Some(charset) => format!("{engine_type} character set {charset}"),
                None => engine_type,
            };
            Column {
                normalized_type,
                name,
                engine_type,
                nullable: text_of(&r[2]) != "NO",
                default: None,
                generated: None,
                identity: None,
            }
        })
        .collect();
    let keys = db
        .query(
            &format!(
                "SELECT CAST(index_name AS CHAR), CAST(non_unique AS SIGNED), CAST(column_name AS CHAR) \
                 FROM information_schema.statistics WHERE table_name = ? AND table_schema = {schema_sql} \
                 ORDER BY index_name, seq_in_index"
            ),
            &params,
        )
        .await?;
    let (primary_key, unique) = group_keys(
        keys.rows
            .iter()
            .filter(|r| r[1].as_i64() == Some(0))
            .map(|r| (text_of(&r[0]), text_of(&r[0]) == "PRIMARY", text_of(&r[2]))),
    );
    Ok(Some(keyed_table(
        schema.map(str::to_string),
        table,
        columns,
        primary_key,
        unique,
    )))
}
