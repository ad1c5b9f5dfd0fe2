//! MySQL/MariaDB's SQL.

use crate::db::Value;
use crate::db::{
    Class, ColumnClass, ConnectOptions, Db, SqlDialect,
    dialect::HashColumn,
    model::{Schema, Table},
};
use crate::error::Result;
use futures::future::BoxFuture;

pub struct Mysql;

/// MariaDB's spatial types.
const SPATIAL: &[&str] = &[
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
    "geomcollection",
];
pub(crate) static SQL: Mysql = Mysql;

impl SqlDialect for Mysql {
    fn name(&self) -> &'static str {
        "MySQL/MariaDB"
    }
    fn quote_ident(&self, ident: &str) -> String {
        format!("`{}`", ident.replace('`', "``"))
    }
    fn quote_literal(&self, s: &str) -> String {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
    }
    fn transactional_ddl(&self) -> bool {
        false
    }
    fn commits_implicitly(&self, sql: &str) -> bool {
        super::implicit_commit(sql)
    }

    fn client_delimiter(&self) -> bool {
        true
    }

    fn canonical_text(&self, c: &str, col: &HashColumn) -> String {
        super::hash::canonical_text(c, col)
    }
    fn hash_field(&self, t: &str, textual: bool, nullable: bool) -> String {
        super::hash::hash_field(t, textual, nullable)
    }
    fn concat(&self, parts: &[String]) -> String {
        format!("CONCAT({})", parts.join(", "))
    }
    fn int_mod(&self, c: &str, modulus: i64) -> String {
        format!("MOD({c}, {modulus})")
    }
    fn md5_64(&self, input: &str) -> String {
        super::hash::md5_64(input)
    }
    fn md5_bucket(&self, input: &str, modulus: i64) -> String {
        super::hash::md5_bucket(input, modulus)
    }
    fn native_hash(&self) -> Option<(&'static str, &'static str)> {
        // CRC32C is MariaDB 10.8+; elsewhere the probe fails and MD5 is used
        Some(("crc32+crc32c", super::hash::CRC_PAIR_PROBE))
    }
    fn native_hash_parts(&self, input: &str) -> Vec<String> {
        // two independent 32-bit hashes (two polynomials), summed apart: a sum of
        // 64-bit unsigned values is decimal arithmetic, several times slower
        super::hash::crc_pair(input).into()
    }
    fn native_input(&self, fields: &[crate::db::dialect::NativeField]) -> String {
        super::hash::native_input(fields)
    }
    fn native_text(&self, c: &str, col: &HashColumn, type_text: &str) -> Option<String> {
        super::hash::native_text(c, col, type_text)
    }
    fn unordered_group(&self) -> &'static str {
        " ORDER BY NULL"
    }
    fn int_div(&self, c: &str, d: i64) -> String {
        format!("({c}) DIV {d}")
    }
    fn select_term(&self, c: &str, col: &HashColumn) -> String {
        // JSON as its text: every number as written (decoded, integers beyond 2^64
        // would become doubles)
        if col.class == Class::Json && col.native == Class::Json {
            format!("CAST({c} AS CHAR) AS {c}")
        } else {
            c.to_string()
        }
    }
    fn order_term(&self, c: &str, col: &HashColumn, textual: bool) -> String {
        // the bytes of the UTF-8 form, whatever the column's character set (latin1
        // bytes sort differently from the UTF-8 order cutover merges in)
        if col.class == Class::Uuid {
            format!(
                "CAST(CONVERT({} USING utf8mb4) AS BINARY)",
                super::hash::canonical_text(c, col)
            )
        } else if textual && col.native == Class::Bytes {
            // a binary column compared as text: by its bytes (a conversion to utf8mb4
            // would turn bytes that are not UTF-8 into '?'), the order cutover merges
            // text and such bytes in (normalize.rs)
            c.to_string()
        } else if textual {
            format!("CAST(CONVERT({c} USING utf8mb4) AS BINARY)")
        } else {
            c.to_string()
        }
    }
    fn exact_term(&self, c: &str, textual: bool) -> String {
        if textual {
            format!("CAST({c} AS BINARY)")
        } else {
            c.to_string()
        }
    }
    fn leading_index_probe(&self) -> Option<&'static str> {
        Some(
            "SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() \
             AND table_name = ? AND column_name = ? AND seq_in_index = 1 LIMIT 1",
        )
    }
    fn row_estimate(&self, _quoted: &str, bare: &str) -> Option<(&'static str, String)> {
        Some((
            "SELECT CAST(table_rows AS SIGNED) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
            bare.to_string(),
        ))
    }

    fn timestamp_text(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        // the MySQL session time zone is UTC
        t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }
    fn null_safe_eq(&self, c: &str, l: &str) -> String {
        format!("{c} <=> {l}")
    }
    fn delete_limited(&self, t: &str, w: &str, count: u64) -> String {
        format!("DELETE FROM {t} WHERE {w} LIMIT {count}")
    }

    fn normalize_type(&self, base: &str, params: Option<&str>, _unsigned: bool) -> Option<String> {
        Some(match base {
            "tinyint" if params == Some("1") => "bool".into(),
            "decimal" | "numeric" | "dec" | "fixed" if params.is_none() => "decimal(10,0)".into(),
            "real" | "float4" => "float64".into(),
            "float" => "float32".into(),
            "timestamp" => "timestamptz".into(),
            _ => return None,
        })
    }
    fn render_type(&self, fam: &str, params: Option<&str>, norm: &str) -> String {
        let par = |d: &str| params.unwrap_or(d).to_string();
        match fam {
            "bool" => "tinyint(1)".into(),
            "int8" => "tinyint".into(),
            "int16" => "smallint".into(),
            "int24" => "mediumint".into(),
            "int32" => "int".into(),
            "int64" => "bigint".into(),
            "uint8" => "tinyint unsigned".into(),
            "uint16" => "smallint unsigned".into(),
            "uint24" => "mediumint unsigned".into(),
            "uint32" => "int unsigned".into(),
            "uint64" => "bigint unsigned".into(),
            "decimal" => match params {
                Some(p) => format!("numeric({p})"),
                None => "numeric".into(),
            },
            "float32" => "float".into(),
            "float64" => "double".into(),
            "varchar" => format!("varchar({})", par("255")),
            "char" => format!("char({})", par("1")),
            "text" => "text".into(),
            "bytes" => "longblob".into(),
            "timestamp" => "datetime(6)".into(),
            "timestamptz" => "timestamp(6)".into(),
            "json" => "json".into(),
            "uuid" => "uuid".into(),
            _ => norm.to_string(),
        }
    }

    fn ident_quote(&self) -> char {
        '`'
    }
    fn generated_not_null(&self) -> bool {
        false
    }
    fn identity_clause(&self, _identity: &str, _cross: bool) -> &'static str {
        " AUTO_INCREMENT"
    }
    fn index_prefixes(&self) -> bool {
        true
    }
    fn partial_indexes(&self) -> bool {
        false
    }
    fn index_method(&self, method: &str, _cross: bool) -> (String, String) {
        if matches!(method, "FULLTEXT" | "SPATIAL") {
            (format!("{method} "), String::new())
        } else {
            (String::new(), String::new())
        }
    }
    fn drop_index(&self, name: &str, _qualified: &str, table: &str) -> String {
        format!("DROP INDEX {name} ON {table}")
    }

    fn drop_foreign_key(&self, table: &str, name: &str) -> String {
        format!("ALTER TABLE {table} DROP FOREIGN KEY {name}")
    }
    fn drop_unique(&self, table: &str, name: &str) -> String {
        format!("ALTER TABLE {table} DROP INDEX {name}")
    }
    fn primary_key_change_rewrites(&self) -> bool {
        true
    }
    fn modify_column_restates(&self) -> bool {
        true
    }

    fn introspect<'a>(&self, db: &'a Db) -> BoxFuture<'a, Result<Schema>> {
        Box::pin(super::catalog::introspect(db))
    }

    fn can_hold_ledger(&self) -> bool {
        false
    }
    fn key_text_type(&self) -> &'static str {
        "VARCHAR(200)"
    }
    fn update_from(
        &self,
        target: &str,
        column: &str,
        value: &str,
        source: &str,
        on: &str,
        filter: &str,
    ) -> String {
        format!(
            "UPDATE {target} JOIN {source} ON ({on}) SET {target}.{column} = {value} WHERE {filter}"
        )
    }
    fn cast_text(&self, expr: &str) -> String {
        format!("CAST({expr} AS CHAR)")
    }
    fn describe_batch_timeouts(&self, lock_ms: u64, statement_ms: u64) -> String {
        format!(
            "lock wait timeout {} s per batch; statement timeout {statement_ms} ms per batch statement on MariaDB (SET STATEMENT max_statement_time), none on MySQL (its max_execution_time bounds SELECTs only)",
            lock_ms.div_ceil(1000).max(1)
        )
    }

    fn cancel_tagged<'a>(&self, db: &'a Db, tag: &'a str) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            // the tag is a parameter, so this query's own text does not contain it
            let r = db
                .query(
                    "SELECT id FROM information_schema.PROCESSLIST WHERE id <> CONNECTION_ID() AND command <> 'Sleep' AND LOCATE(?, info) > 0",
                    &[Value::from(tag)],
                )
                .await?;
            let mut n = 0;
            for row in &r.rows {
                if let Some(id) = row.first().and_then(Value::as_i64) {
                    // gone already is fine: it finished between the two statements
                    if db.execute(&format!("KILL QUERY {id}")).await.is_ok() {
                        n += 1;
                    }
                }
            }
            Ok(n)
        })
    }

    /// MariaDB bounds one statement with `SET STATEMENT max_statement_time = S FOR …`
    /// (seconds, fractions allowed), whatever the statement; MySQL's
    /// `MAX_EXECUTION_TIME` hint and variable bound read-only SELECTs only, so a batch's
    /// UPDATE cannot be bounded there.
    fn statement_time_prefix<'a>(
        &self,
        db: &'a Db,
        statement_ms: u64,
    ) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(async move {
            let v = db.query("SELECT VERSION()", &[]).await?;
            let mariadb = v
                .scalar()
                .map(|v| v.to_string().contains("MariaDB"))
                .unwrap_or(false);
            Ok(mariadb.then(|| {
                format!(
                    "SET STATEMENT max_statement_time = {}.{:03} FOR ",
                    statement_ms / 1000,
                    statement_ms % 1000
                )
            }))
        })
    }

    /// InnoDB's lock wait is whole seconds and applies to the session; the statement
    /// time limit is per statement (see `statement_time_prefix`).
    fn batch_timeouts(&self, lock_ms: u64, _statement_ms: u64) -> Vec<String> {
        vec![format!(
            "SET SESSION innodb_lock_wait_timeout = {}",
            lock_ms.div_ceil(1000).max(1)
        )]
    }
    fn insert_skipping_conflicts(&self) -> (&'static str, &'static str) {
        ("INSERT IGNORE INTO", "")
    }
    fn indexes_foreign_keys(&self) -> bool {
        true
    }
    fn admin_database(&self) -> Option<&'static str> {
        Some("mysql")
    }
    fn backup(&self) -> &'static dyn crate::db::backup::BackupEngine {
        &super::backup::BACKUP
    }
    fn warnings_query(&self) -> Option<&'static str> {
        Some("SHOW WARNINGS")
    }
    fn tag(&self) -> &'static str {
        "my"
    }
    fn create_database(&self, name: &str) -> String {
        format!(
            "CREATE DATABASE {} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
            self.quote_ident(name)
        )
    }

    fn introspect_table<'a>(
        &self,
        db: &'a Db,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Table>>> {
        Box::pin(super::table::introspect_table(db, name))
    }
    fn list_tables_sql(&self) -> &'static str {
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1"
    }
    fn default_time_precision(&self) -> u32 {
        0
    }
    fn geometry_form(&self, type_text: &str) -> Option<&'static str> {
        let t = type_text.to_ascii_lowercase();
        SPATIAL
            .contains(&t.split('(').next().unwrap_or(&t).trim())
            .then_some("MariaDB spatial bytes (SRID and WKB)")
    }
    fn column_class(&self, engine_type: &str, normalized: &str) -> ColumnClass {
        let fam = normalized.split('(').next().unwrap_or(normalized);
        let p = self.default_time_precision();
        match fam {
            "bit" => ColumnClass::new(Class::Bytes, false, normalized, engine_type, p),
            // spatial values by their exact bytes (SRID and WKB): as text they would
            // pass through a character set conversion that replaces invalid bytes
            f if SPATIAL.contains(&f) => {
                ColumnClass::new(Class::Bytes, false, normalized, engine_type, p)
            }
            "year" => ColumnClass::new(Class::Int, false, normalized, engine_type, p),
            _ => ColumnClass::of_normalized(normalized, engine_type, p),
        }
    }

    fn connect<'a>(
        &self,
        url: &'a str,
        redacted: &'a str,
        opts: ConnectOptions,
    ) -> BoxFuture<'a, Result<Db>> {
        Box::pin(async move {
            let db: Db = std::sync::Arc::new(super::MySqlDb::connect(url, redacted, opts).await?);
            Ok(db)
        })
    }
    fn sequence_reset(&self, table: &str, _column: &str, next: i64) -> Option<String> {
        // Never lowers the counter: MySQL/MariaDB keep it above the largest key.
        Some(format!("ALTER TABLE {table} AUTO_INCREMENT = {next}"))
    }
    fn exact_text_literal(&self, s: &str) -> Option<String> {
        if s.contains('\0') {
            Some(format!("_utf8mb4 X'{}'", hex::encode(s.as_bytes())))
        } else {
            Some(self.quote_literal(s))
        }
    }
}
