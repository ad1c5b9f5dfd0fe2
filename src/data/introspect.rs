//! What a table looks like on one side: columns with their declared types, and its
//! primary and unique keys. Read from the catalog of each engine.

use super::normalize::Class;
use crate::db::{Db, Dialect, Value};
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

fn text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn num(v: &Value) -> Option<u32> {
    v.as_i64().and_then(|i| u32::try_from(i).ok())
}

/// Split `schema.table` (the last dot separates).
fn split_name(name: &str) -> (Option<&str>, &str) {
    match name.rsplit_once('.') {
        Some((s, t)) => (Some(s), t),
        None => (None, name),
    }
}

/// Read a table's columns and keys; a missing table is bad input naming the database.
pub async fn table_info(db: &Db, name: &str) -> Result<TableInfo> {
    let info = match db.dialect() {
        Dialect::Postgres => pg(db, name).await?,
        Dialect::Mysql => mysql(db, name).await?,
        Dialect::Sqlite => sqlite(db, name).await?,
    };
    if info.columns.is_empty() {
        return Err(Error::bad_input(format!(
            "table \"{name}\" not found in {} ({})",
            db.redacted_url(),
            db.dialect().name()
        ))
        .with_hint("check the table name (and --target-table when it differs on the target)"));
    }
    Ok(info)
}

async fn pg(db: &Db, name: &str) -> Result<TableInfo> {
    let (schema, table) = split_name(name);
    let schema_sql = match schema {
        Some(_) => "$2".to_string(),
        None => "current_schema()".to_string(),
    };
    let mut params = vec![Value::Text(table.to_string())];
    if let Some(s) = schema {
        params.push(Value::Text(s.to_string()));
    }
    let rows = db
        .query(
            &format!(
                "SELECT column_name::text, data_type::text, udt_name::text, numeric_scale::int, \
                 datetime_precision::int, character_maximum_length::int, numeric_precision::int, is_nullable::text \
                 FROM information_schema.columns WHERE table_name = $1 AND table_schema = {schema_sql} \
                 ORDER BY ordinal_position"
            ),
            &params,
        )
        .await?;
    let mut columns = Vec::new();
    for r in &rows.rows {
        let cname = text(&r[0]);
        let dt = text(&r[1]);
        let udt = text(&r[2]);
        let scale = num(&r[3]);
        let dprec = num(&r[4]);
        let (native, tz) = match dt.as_str() {
            "smallint" | "integer" | "bigint" | "oid" => (Class::Int, false),
            "numeric" | "decimal" => (Class::Decimal, false),
            "real" | "double precision" => (Class::Float, false),
            "boolean" => (Class::Bool, false),
            "bytea" => (Class::Bytes, false),
            "date" => (Class::Date, false),
            "time without time zone" | "time with time zone" => (Class::Time, false),
            "timestamp without time zone" => (Class::Timestamp, false),
            "timestamp with time zone" => (Class::Timestamp, true),
            "uuid" => (Class::Uuid, false),
            "json" | "jsonb" => (Class::Json, false),
            _ => (Class::Text, false),
        };
        let type_text = match (native, dt.as_str()) {
            (Class::Decimal, _) => match (num(&r[6]), scale) {
                (Some(p), Some(s)) => format!("numeric({p},{s})"),
                _ => "numeric".into(),
            },
            (_, "character varying") => match num(&r[5]) {
                Some(n) => format!("varchar({n})"),
                None => "varchar".into(),
            },
            (_, "USER-DEFINED") => udt.clone(),
            _ => dt.clone(),
        };
        columns.push(ColumnInfo {
            name: cname,
            type_text,
            native,
            scale: if native == Class::Decimal {
                scale
            } else {
                None
            },
            precision: if matches!(native, Class::Timestamp | Class::Time) {
                dprec
            } else {
                None
            },
            tz,
            nullable: text(r.last().expect("row")) != "NO",
        });
    }
    let mut primary_key = Vec::new();
    let mut unique_keys = Vec::new();
    if !columns.is_empty() {
        let q = Dialect::Postgres.quote_qualified(name);
        let keys = db
            .query(
                "SELECT i.indexrelid::bigint, i.indisprimary, a.attname::text \
                 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
                 WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indpred IS NULL \
                 ORDER BY 1, array_position(i.indkey::int2[], a.attnum)",
                &[Value::Text(q)],
            )
            .await?;
        (primary_key, unique_keys) = group_keys(keys.rows.iter().map(|r| {
            (
                r[0].to_string(),
                matches!(r[1], Value::Bool(true)),
                text(&r[2]),
            )
        }));
    }
    Ok(TableInfo {
        name: name.to_string(),
        columns,
        primary_key,
        unique_keys,
    })
}

async fn mysql(db: &Db, name: &str) -> Result<TableInfo> {
    let (schema, table) = split_name(name);
    let schema_sql = if schema.is_some() { "?" } else { "DATABASE()" };
    let mut params = vec![Value::Text(table.to_string())];
    if let Some(s) = schema {
        params.push(Value::Text(s.to_string()));
    }
    let rows = db
        .query(
            &format!(
                "SELECT CAST(column_name AS CHAR), CAST(data_type AS CHAR), CAST(column_type AS CHAR), \
                 CAST(numeric_scale AS SIGNED), CAST(datetime_precision AS SIGNED), CAST(is_nullable AS CHAR) \
                 FROM information_schema.columns WHERE table_name = ? AND table_schema = {schema_sql} \
                 ORDER BY ordinal_position"
            ),
            &params,
        )
        .await?;
    let mut columns = Vec::new();
    for r in &rows.rows {
        let cname = text(&r[0]);
        let dt = text(&r[1]).to_lowercase();
        let ct = text(&r[2]).to_lowercase();
        let scale = num(&r[3]);
        let dprec = num(&r[4]);
        let (native, tz) = match dt.as_str() {
            "tinyint" if ct.starts_with("tinyint(1)") => (Class::Bool, false),
            "bool" | "boolean" => (Class::Bool, false),
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => {
                (Class::Int, false)
            }
            "decimal" | "numeric" => (Class::Decimal, false),
            "float" | "double" | "real" => (Class::Float, false),
            "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" | "bit" => {
                (Class::Bytes, false)
            }
            "date" => (Class::Date, false),
            "time" => (Class::Time, false),
            "datetime" => (Class::Timestamp, false),
            "timestamp" => (Class::Timestamp, true),
            "json" => (Class::Json, false),
            "uuid" => (Class::Uuid, false),
            _ => (Class::Text, false),
        };
        columns.push(ColumnInfo {
            name: cname,
            type_text: ct,
            native,
            scale: if native == Class::Decimal {
                scale
            } else {
                None
            },
            precision: if matches!(native, Class::Timestamp | Class::Time) {
                Some(dprec.unwrap_or(0))
            } else {
                None
            },
            tz,
            nullable: text(r.last().expect("row")) != "NO",
        });
    }
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
    let (primary_key, unique_keys) = group_keys(
        keys.rows
            .iter()
            .filter(|r| r[1].as_i64() == Some(0))
            .map(|r| (text(&r[0]), text(&r[0]) == "PRIMARY", text(&r[2]))),
    );
    Ok(TableInfo {
        name: name.to_string(),
        columns,
        primary_key,
        unique_keys,
    })
}

/// The class, scale and precision a SQLite declared type suggests.
pub fn sqlite_class(decl: &str) -> (Class, Option<u32>, Option<u32>) {
    let u = decl.to_ascii_uppercase();
    let args: Vec<u32> = u
        .split_once('(')
        .map(|(_, a)| {
            a.trim_end_matches(')')
                .split(',')
                .filter_map(|x| x.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let class = if u.contains("BOOL") {
        Class::Bool
    } else if u.contains("DATETIME") || u.contains("TIMESTAMP") {
        Class::Timestamp
    } else if u.contains("DATE") {
        Class::Date
    } else if u.contains("TIME") {
        Class::Time
    } else if u.contains("UUID") {
        Class::Uuid
    } else if u.contains("JSON") {
        Class::Json
    } else if u.contains("INT") {
        Class::Int
    } else if u.contains("CHAR") || u.contains("CLOB") || u.contains("TEXT") {
        Class::Text
    } else if u.contains("BLOB") {
        Class::Bytes
    } else if u.contains("REAL") || u.contains("FLOA") || u.contains("DOUB") {
        Class::Float
    } else if u.contains("DEC") || u.contains("NUMERIC") || u.contains("MONEY") {
        Class::Decimal
    } else {
        Class::Any
    };
    let scale = (class == Class::Decimal)
        .then(|| args.get(1).copied())
        .flatten();
    let precision = matches!(class, Class::Timestamp | Class::Time)
        .then(|| args.first().copied())
        .flatten();
    (class, scale, precision)
}

async fn sqlite(db: &Db, name: &str) -> Result<TableInfo> {
    let rows = db
        .query(
            "SELECT name, type, pk, \"notnull\" FROM pragma_table_info(?) ORDER BY cid",
            &[Value::Text(name.to_string())],
        )
        .await?;
    let mut columns = Vec::new();
    let mut pk: Vec<(i64, String)> = Vec::new();
    for r in &rows.rows {
        let cname = text(&r[0]);
        let decl = text(&r[1]);
        let (native, scale, precision) = sqlite_class(&decl);
        let p = r[2].as_i64().unwrap_or(0);
        if p > 0 {
            pk.push((p, cname.clone()));
        }
        columns.push(ColumnInfo {
            name: cname,
            type_text: if decl.is_empty() {
                "(no type)".into()
            } else {
                decl.to_lowercase()
            },
            native,
            scale,
            precision,
            tz: false,
            nullable: r[3].as_i64() != Some(1),
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
    let (_, indexes) = group_keys(idx.rows.iter().map(|r| (text(&r[0]), false, text(&r[2]))));
    let mut unique_keys: Vec<Vec<String>> = Vec::new();
    if !primary_key.is_empty() {
        unique_keys.push(primary_key.clone());
    }
    unique_keys.extend(indexes);
    Ok(TableInfo {
        name: name.to_string(),
        columns,
        primary_key,
        unique_keys,
    })
}

/// Group (index, is-primary, column) rows, ordered by index then column position, into
/// the primary key and the list of unique keys (the primary key among them).
fn group_keys(
    rows: impl Iterator<Item = (String, bool, String)>,
) -> (Vec<String>, Vec<Vec<String>>) {
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
    (primary_key, keys.into_iter().map(|(_, c)| c).collect())
}

/// Every base table of the database (for sync-check without --tables).
pub async fn list_tables(db: &Db) -> Result<Vec<String>> {
    let sql = match db.dialect() {
        Dialect::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
        Dialect::Mysql => {
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
        Dialect::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        }
    };
    let rows = db.query(sql, &[]).await?;
    Ok(rows.rows.iter().map(|r| text(&r[0])).collect())
}
