//! What a table looks like on one side for the data diff: columns with their declared
//! types and comparison classes, and its primary and unique keys. Derived from the
//! schema model, as each engine's dialect reads it for the one table.

use super::normalize::Class;
use crate::db::catalog::text_of;
use crate::db::model::Table;
use crate::db::{Db, Dialect};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct ColumnInfo {
    pub name: String,
    /// The declared type as the engine shows it (`numeric(12,2)`, `datetime(3)`).
    pub type_text: String,
    pub native: Class,
    pub scale: Option<u32>,
    /// Fractional-second digits of time/timestamp columns, when known.
    pub precision: Option<u32>,
    /// Timestamp with time zone (PostgreSQL timestamptz, MySQL TIMESTAMP).
    pub tz: bool,
    /// May hold NULL (unknown: true).
    pub nullable: bool,
}

#[derive(Debug, Clone)]
pub struct TableInfo {
    /// The name as given (possibly `schema.table`).
    pub name: String,
    pub columns: Vec<ColumnInfo>,
    pub primary_key: Vec<String>,
    /// Every unique key (including the primary key).
    pub unique_keys: Vec<Vec<String>>,
}

impl TableInfo {
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name).or_else(|| {
            self.columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(name))
        })
    }
    /// Is `cols` (in any order) a declared unique key?
    pub fn is_unique(&self, cols: &[String]) -> bool {
        self.unique_keys.iter().any(|k| {
            k.len() == cols.len()
                && k.iter()
                    .all(|c| cols.iter().any(|x| x.eq_ignore_ascii_case(c)))
        })
    }
}

/// Read a table's columns and keys; a missing table is bad input naming the database.
/// One query per part, filtered to the table (never the whole catalog).
pub async fn table_info(db: &Db, name: &str) -> Result<TableInfo> {
    let d = db.dialect();
    match d.sql().introspect_table(db, name).await? {
        Some(t) => Ok(TableInfo::from_model(d, name, &t)),
        None => Err(Error::bad_input(format!(
            "table \"{name}\" not found in {} ({})",
            db.redacted_url(),
            d.name()
        ))
        .with_hint("check the table name (and --target-table when it differs on the target)")),
    }
}

impl TableInfo {
    /// The data diff's view of a table of the schema model: each column's class from
    /// its engine's rules, and every unique key.
    pub fn from_model(d: Dialect, name: &str, t: &Table) -> TableInfo {
        let columns = t
            .columns
            .iter()
            .map(|c| {
                let k = d.sql().column_class(&c.engine_type, &c.normalized_type);
                ColumnInfo {
                    name: c.name.clone(),
                    type_text: if c.engine_type.is_empty() {
                        "(no type)".into()
                    } else {
                        c.engine_type.to_lowercase()
                    },
                    native: k.class,
                    scale: k.scale,
                    precision: k.precision,
                    tz: k.tz,
                    nullable: c.nullable,
                }
            })
            .collect();
        let primary_key = t
            .primary_key
            .as_ref()
            .map(|k| k.columns.clone())
            .unwrap_or_default();
        let mut unique_keys: Vec<Vec<String>> = Vec::new();
        if !primary_key.is_empty() {
            unique_keys.push(primary_key.clone());
        }
        unique_keys.extend(t.uniques.iter().map(|u| u.columns.clone()));
        unique_keys.extend(
            t.indexes
                .iter()
                .filter(|i| i.unique && i.predicate.is_none())
                .filter_map(|i| i.columns.iter().map(|c| c.column.clone()).collect()),
        );
        TableInfo {
            name: name.to_string(),
            columns,
            primary_key,
            unique_keys,
        }
    }
}

/// Every base table of the database (for sync-check without --tables).
pub async fn list_tables(db: &Db) -> Result<Vec<String>> {
    let rows = db.query(db.dialect().sql().list_tables_sql(), &[]).await?;
    Ok(rows.rows.iter().map(|r| text_of(&r[0])).collect())
}
