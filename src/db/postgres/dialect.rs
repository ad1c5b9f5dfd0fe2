//! PostgreSQL's SQL.

use crate::db::Value;
use crate::db::{
    Class, ColumnClass, ConnectOptions, Db, SqlDialect,
    dialect::HashColumn,
    model::{Schema, Table},
};
use crate::error::Result;
use futures::future::BoxFuture;

pub struct Postgres;
pub(crate) static SQL: Postgres = Postgres;

impl SqlDialect for Postgres {
    fn name(&self) -> &'static str {
        "PostgreSQL"
    }
    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    fn canonical_text(&self, c: &str, col: &HashColumn) -> String {
        super::hash::canonical_text(c, col)
    }
    fn native_hash(&self) -> Option<(&'static str, &'static str)> {
        Some((
            "hash_record_extended",
            "SELECT hash_record_extended(ROW(1), 0) IS NOT NULL",
        ))
    }
    fn native_input(&self, fields: &[crate::db::NativeField]) -> String {
        super::hash::native_row(fields)
    }
    fn native_hash_parts(&self, input: &str) -> Vec<String> {
        vec![super::hash::row_hash(input)]
    }
    fn native_text(&self, c: &str, col: &HashColumn, type_text: &str) -> Option<String> {
        super::hash::native_text(c, col, type_text)
    }
    fn select_term(&self, c: &str, col: &HashColumn) -> String {
        // interval, arrays, inet, money, hstore, ranges, geometric types...: their
        // text (bpchar's without its padding, as its hash has it)
        if matches!(col.class, Class::Text | Class::Any)
            && matches!(col.native, Class::Text | Class::Any)
            // JSON as its text: every number as written (decoded, integers beyond
            // 2^64 would become doubles)
            || (col.class == Class::Json && col.native == Class::Json)
        {
            format!("({c})::text AS {c}")
        } else {
            c.to_string()
        }
    }
    fn order_term(&self, c: &str, col: &HashColumn, textual: bool) -> String {
        // bytea compared as text: by its bytes, the order cutover merges text and
        // bytes that are not UTF-8 in (normalize.rs)
        if textual && col.native == Class::Bytes {
            return format!("{c} NULLS FIRST");
        }
        super::hash::order_term(c, col, textual)
    }
    fn exact_term(&self, c: &str, textual: bool) -> String {
        if textual {
            format!("({c})::text COLLATE \"C\"")
        } else {
            c.to_string()
        }
    }
    fn aggregate_setup(&self) -> Vec<String> {
        // room for every bucket in memory: a spilling hash aggregate doubles the scan;
        // a key range read through a bitmap of its pages, not row by row through the
        // index (1M rows hashed: 40 against 57 centiseconds of the server's CPU, as
        // little as a slice of pages; the order does not matter to a sum)
        // Buckets grouped in a hash table, never by sorting the rows: the planner has
        // no statistics for a bucket expression, so it expects a group a row, finds a
        // hash table of them too big and sorts instead, spilling the whole rows to disk
        // (1.25M rows of a page slice: 1.06-1.21 s sorted, 0.65 s hashed, for 31,251
        // buckets; no query of the diff needs a sort).
        vec![
            "SET LOCAL work_mem = '128MB'".to_string(),
            "SET LOCAL enable_indexscan = off".to_string(),
            "SET LOCAL enable_sort = off".to_string(),
        ]
    }
    fn scattered_setup(&self) -> Vec<String> {
        // a few thousand rows in a few hundred key ranges: two parallel workers' start
        // doubled such a query (12 against 24 ms for 15,680 rows in 256 ranges)
        vec!["SET LOCAL max_parallel_workers_per_gather = 0".to_string()]
    }
    fn native_setup(&self) -> Vec<String> {
        // dates and times as text in one form on both sides (the native hash's texts)
        vec![
            "SET LOCAL TimeZone = 'UTC'".to_string(),
            "SET LOCAL DateStyle = 'ISO, YMD'".to_string(),
        ]
    }
    fn nulls_first(&self, term: &str) -> String {
        format!("{term} NULLS FIRST")
    }
    fn row_estimate(&self, quoted: &str, _bare: &str) -> Option<(&'static str, String)> {
        Some((
            "SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass",
            quoted.to_string(),
        ))
    }
    fn page_count(&self, quoted: &str) -> Option<(&'static str, String)> {
        // TID range scans are PostgreSQL 14+; before, each slice would scan everything.
        // A plain table only (relkind r): views and partitioned tables have no pages.
        Some((
            "SELECT CASE WHEN current_setting('server_version_num')::int >= 140000 \
             THEN pg_relation_size(c.oid) / current_setting('block_size')::bigint END \
             FROM pg_class c WHERE c.oid = $1::regclass AND c.relkind = 'r'",
            quoted.to_string(),
        ))
    }
    fn storage_correlation(&self, quoted: &str) -> Option<(&'static str, String)> {
        Some((
            "SELECT s.correlation::float8 FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname \
             WHERE c.oid = $1::regclass AND s.attname = $2::text ORDER BY s.inherited LIMIT 1",
            quoted.to_string(),
        ))
    }
    fn page_slice(&self, from: u64, to: Option<u64>) -> Option<String> {
        Some(match to {
            Some(to) => format!("ctid >= '({from},0)'::tid AND ctid < '({to},0)'::tid"),
            None => format!("ctid >= '({from},0)'::tid"),
        })
    }

    fn bool_literal(&self, b: bool, native: Class) -> String {
        match (native, b) {
            (Class::Bool, true) => "TRUE".into(),
            (Class::Bool, false) => "FALSE".into(),
            (_, b) => if b { "1" } else { "0" }.into(),
        }
    }
    fn timestamp_text(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        // PostgreSQL ignores the offset for timestamp without time zone
        t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
    }
    fn bytes_literal(&self, b: &[u8], native: Class) -> String {
        if native == Class::Bytes {
            format!("decode('{}', 'hex')", hex::encode(b))
        } else {
            self.quote_literal(&String::from_utf8_lossy(b))
        }
    }
    fn null_safe_eq(&self, c: &str, l: &str) -> String {
        format!("{c} IS NOT DISTINCT FROM {l}")
    }
    fn delete_limited(&self, t: &str, w: &str, count: u64) -> String {
        format!("DELETE FROM {t} WHERE ctid IN (SELECT ctid FROM {t} WHERE {w} LIMIT {count})")
    }

    fn render_type(&self, fam: &str, params: Option<&str>, norm: &str) -> String {
        let par = |d: &str| params.unwrap_or(d).to_string();
        match fam {
            "bool" => "boolean".into(),
            "int8" | "int16" => "smallint".into(),
            "int24" | "int32" => "integer".into(),
            "int64" => "bigint".into(),
            "uint8" | "uint16" => "integer".into(),
            "uint24" | "uint32" | "uint64" => "bigint".into(),
            "decimal" => match params {
                Some(p) => format!("numeric({p})"),
                None => "numeric".into(),
            },
            "float32" => "real".into(),
            "float64" => "double precision".into(),
            "varchar" => match params {
                Some(p) => format!("varchar({p})"),
                None => "varchar".into(),
            },
            "char" => format!("char({})", par("1")),
            "text" => "text".into(),
            "bytes" | "binary" | "varbinary" => "bytea".into(),
            "timestamp" => "timestamp".into(),
            "timestamptz" => "timestamptz".into(),
            "json" => "jsonb".into(),
            "uuid" => "uuid".into(),
            "enum" => "text".into(),
            _ => norm.to_string(),
        }
    }

    fn qualifies_schemas(&self) -> bool {
        true
    }
    fn identity_type(&self, identity: &str, normalized: &str) -> Option<String> {
        (identity == "serial").then(|| {
            match normalized {
                "int64" => "bigserial",
                "int16" => "smallserial",
                _ => "serial",
            }
            .to_string()
        })
    }
    fn bool_default(&self, normalized: &str) -> Option<&'static str> {
        match normalized {
            "1" => Some("true"),
            "0" => Some("false"),
            _ => None,
        }
    }
    fn bare_default_exprs(&self) -> bool {
        true
    }
    fn generated_column(&self, e: &str, _stored: bool) -> String {
        format!(" GENERATED ALWAYS AS ({e}) STORED")
    }
    fn identity_clause(&self, identity: &str, cross: bool) -> &'static str {
        match identity {
            "always" => " GENERATED ALWAYS AS IDENTITY",
            "serial" if !cross => "",
            _ => " GENERATED BY DEFAULT AS IDENTITY",
        }
    }
    fn names_primary_key(&self) -> bool {
        true
    }
    fn index_method(&self, method: &str, cross: bool) -> (String, String) {
        if !method.is_empty() && !cross {
            (String::new(), format!(" USING {method}"))
        } else {
            (String::new(), String::new())
        }
    }
    fn materialized_views(&self) -> bool {
        true
    }

    fn enum_types(&self) -> bool {
        true
    }
    fn drop_trigger(&self, name: &str, table: &str) -> String {
        format!("DROP TRIGGER {name} ON {table}")
    }
    fn drop_primary_key(&self, table: &str, name: Option<&str>) -> String {
        match name {
            Some(n) => format!("ALTER TABLE {table} DROP CONSTRAINT {n}"),
            None => format!("ALTER TABLE {table} DROP PRIMARY KEY"),
        }
    }
    fn computed_add_column_rewrites(&self) -> bool {
        true
    }

    fn introspect<'a>(&self, db: &'a Db) -> BoxFuture<'a, Result<Schema>> {
        Box::pin(super::catalog::introspect(db))
    }

    fn cancel_tagged<'a>(&self, db: &'a Db, tag: &'a str) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            // the tag is a parameter, so this query's own text does not contain it
            let r = db
                .query(
                    "SELECT count(*) FROM (SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active' AND strpos(query, $1) > 0) c",
                    &[Value::from(tag)],
                )
                .await?;
            Ok(r.scalar().and_then(Value::as_i64).unwrap_or(0).max(0) as u64)
        })
    }

    fn describe_batch_timeouts(&self, lock_ms: u64, statement_ms: u64) -> String {
        format!("lock timeout {lock_ms} ms, statement timeout {statement_ms} ms per batch")
    }

    fn ddl_rewrites_tables(&self) -> bool {
        true
    }

    fn batch_timeouts(&self, lock_ms: u64, statement_ms: u64) -> Vec<String> {
        vec![
            format!("SET LOCAL lock_timeout = {lock_ms}"),
            format!("SET LOCAL statement_timeout = {statement_ms}"),
        ]
    }
    fn insert_skipping_conflicts(&self) -> (&'static str, &'static str) {
        ("INSERT INTO", " ON CONFLICT DO NOTHING")
    }
    fn row_text(&self, cols: &str) -> Option<String> {
        // one exact text per row, whatever the column types
        Some(format!("ROW({cols})::text"))
    }
    fn plans_in_transaction(&self) -> bool {
        true
    }

    fn schema_objects(&self) -> bool {
        true
    }
    fn admin_database(&self) -> Option<&'static str> {
        Some("postgres")
    }
    fn backup(&self) -> &'static dyn crate::db::backup::BackupEngine {
        &super::backup::BACKUP
    }
    fn tag(&self) -> &'static str {
        "pg"
    }
    fn drop_database(&self, name: &str) -> String {
        format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
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
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
    }
    fn geometry_form(&self, type_text: &str) -> Option<&'static str> {
        let t = type_text.to_ascii_lowercase();
        let base = t.rsplit('.').next().unwrap_or(&t);
        matches!(
            base,
            "point" | "line" | "lseg" | "box" | "path" | "polygon" | "circle"
        )
        .then_some("PostgreSQL geometric text such as (1,2)")
    }
    fn column_class(&self, engine_type: &str, normalized: &str) -> ColumnClass {
        if normalized == "oid" {
            return ColumnClass::new(Class::Int, false, normalized, engine_type, 6);
        }
        ColumnClass::of_normalized(normalized, engine_type, self.default_time_precision())
    }

    fn connect<'a>(
        &self,
        url: &'a str,
        redacted: &'a str,
        opts: ConnectOptions,
    ) -> BoxFuture<'a, Result<Db>> {
        Box::pin(async move {
            let db: Db = std::sync::Arc::new(super::PgDb::connect(url, redacted, opts).await?);
            Ok(db)
        })
    }
    fn value_bytes_literal(&self, b: &[u8]) -> String {
        format!("'\\x{}'::bytea", hex::encode(b))
    }
    fn value_timestamptz_text(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
    }
    fn sequence_reset(&self, table: &str, column: &str, next: i64) -> Option<String> {
        // pg_get_serial_sequence parses its first argument as a (quoted) name and
        // takes the second literally; NULL (nothing done) for a column without one.
        Some(format!(
            "SELECT setval(pg_get_serial_sequence({}, {}), {next}, false)",
            self.quote_literal(table),
            self.quote_literal(column)
        ))
    }
}
