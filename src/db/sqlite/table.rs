//! One table's columns and keys, read with queries filtered to that table.

use crate::db::catalog::{group_keys, keyed_table, text_of};
use crate::db::model::{Column, Table};
use crate::db::types::normalize_type;
use crate::db::{Db, Dialect, Value};
use crate::error::Result;

pub(crate) async fn introspect_table(db: &Db, name: &str) -> Result<Option<Table>> {
    let rows = db
        .query(
            "SELECT name, type, pk, \"notnull\" FROM pragma_table_info(?) ORDER BY cid",
            &[Value::Text(name.to_string())],
        )
        .await?;
    if rows.rows.is_empty() {
        return Ok(None);
    }
    let mut columns = Vec::new();
    let mut pk: Vec<(i64, String)> = Vec::new();
    for r in &rows.rows {
        let cname = text_of(&r[0]);
        let declared = text_of(&r[1]);
        let p = r[2].as_i64().unwrap_or(0);
        if p > 0 {
            pk.push((p, cname.clone()));
        }
        columns.push(Column {
            name: cname,
            normalized_type: normalize_type(&declared, Dialect::Sqlite),
            engine_type: declared,
            nullable: r[3].as_i64() != Some(1),
            default: None,
            generated: None,
            identity: None,
        });
    }
    pk.sort();
    let primary_key: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
    let idx = db
        .query(
            "SELECT il.name, ii.seqno, ii.name FROM pragma_index_list(?) il, pragma_index_info(il.name) ii \
             WHERE il.\"unique\" = 1 AND il.partial = 0 ORDER BY il.name, ii.seqno",
            &[Value::Text(name.to_string())],
        )
        .await?;
    let (_, unique) = group_keys(
        idx.rows
            .iter()
            .map(|r| (text_of(&r[0]), false, text_of(&r[2]))),
    );
    Ok(Some(keyed_table(None, name, columns, primary_key, unique)))
}
