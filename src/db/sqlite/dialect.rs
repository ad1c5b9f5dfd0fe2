//! SQLite's SQL.

use crate::db::{
    Class, ColumnClass, ConnectOptions, Db, SqlDialect,
    dialect::HashColumn,
    model::{Schema, Table},
};
use crate::error::Result;
use futures::future::BoxFuture;

pub struct Sqlite;
pub(crate) static SQL: Sqlite = Sqlite;

impl SqlDialect for Sqlite {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn hashes_in_sql(&self) -> bool {
        false
    }
    fn order_term(&self, c: &str, col: &HashColumn, textual: bool) -> String {
        if col.class == Class::Uuid {
            format!("lower({c})")
        } else if textual {
            format!("{c} COLLATE BINARY")
        } else {
            c.to_string()
        }
    }
    fn exact_term(&self, c: &str, textual: bool) -> String {
        if textual {
            format!("{c} COLLATE BINARY")
        } else {
            c.to_string()
        }
    }

    fn delete_limited(&self, t: &str, w: &str, count: u64) -> String {
        format!("DELETE FROM {t} WHERE rowid IN (SELECT rowid FROM {t} WHERE {w} LIMIT {count})")
    }

    fn normalize_type(&self, base: &str, _params: Option<&str>, _unsigned: bool) -> Option<String> {
        Some(match base {
            "int" | "integer" | "int4" | "serial" | "serial4" => "int64".into(),
            _ => return None,
        })
    }
    fn render_type(&self, fam: &str, params: Option<&str>, norm: &str) -> String {
        let par = |d: &str| params.unwrap_or(d).to_string();
        match fam {
            "bool" => "BOOLEAN".into(),
            f if f.contains("int") => "INTEGER".into(),
            "decimal" => match params {
                Some(p) => format!("NUMERIC({p})"),
                None => "NUMERIC".into(),
            },
            "float32" | "float64" => "REAL".into(),
            "varchar" => format!("VARCHAR({})", par("255")),
            "char" => format!("CHAR({})", par("1")),
            "text" => "TEXT".into(),
            "bytes" | "binary" | "varbinary" => "BLOB".into(),
            "date" => "DATE".into(),
            "time" => "TIME".into(),
            "timestamp" => "TIMESTAMP".into(),
            "timestamptz" => "TIMESTAMPTZ".into(),
            "json" => "JSON".into(),
            "uuid" => "UUID".into(),
            "enum" => "TEXT".into(),
            _ => norm.to_string(),
        }
    }
    fn affinity(&self, declared: &str) -> Option<&'static str> {
        Some(super::types::affinity(declared))
    }

    fn foreign_identity_type(&self) -> Option<&'static str> {
        Some("INTEGER")
    }
    fn inline_autoincrement(&self) -> bool {
        true
    }
    fn names_constraints(&self) -> bool {
        false
    }

    fn alters_by_rebuild(&self) -> bool {
        true
    }

    fn introspect<'a>(&self, db: &'a Db) -> BoxFuture<'a, Result<Schema>> {
        Box::pin(super::catalog::introspect(db))
    }

    fn is_file(&self) -> bool {
        true
    }
    fn dynamic_typing(&self) -> bool {
        true
    }
    fn concurrent_read_setup(&self) -> Option<&'static str> {
        // WAL lets another process (cutover approve/status) read while a run writes.
        Some("PRAGMA journal_mode=WAL")
    }
    fn insert_skipping_conflicts(&self) -> (&'static str, &'static str) {
        ("INSERT OR IGNORE INTO", "")
    }
    fn backup(&self) -> &'static dyn crate::db::backup::BackupEngine {
        &super::backup::BACKUP
    }
    fn tag(&self) -> &'static str {
        "sqlite"
    }

    fn introspect_table<'a>(
        &self,
        db: &'a Db,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Table>>> {
        Box::pin(super::table::introspect_table(db, name))
    }
    fn list_tables_sql(&self) -> &'static str {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
    }
    fn column_class(&self, engine_type: &str, _normalized: &str) -> ColumnClass {
        // the declared type is only a hint: its affinity-like reading decides
        super::types::declared_class(engine_type)
    }

    fn connect<'a>(
        &self,
        url: &'a str,
        redacted: &'a str,
        opts: ConnectOptions,
    ) -> BoxFuture<'a, Result<Db>> {
        Box::pin(async move {
            let db: Db = std::sync::Arc::new(super::SqliteDb::connect(url, redacted, opts).await?);
            Ok(db)
        })
    }
    fn exact_text_literal(&self, s: &str) -> Option<String> {
        if s.contains('\0') {
            Some(format!("CAST(X'{}' AS TEXT)", hex::encode(s.as_bytes())))
        } else {
            Some(self.quote_literal(s))
        }
    }
}
