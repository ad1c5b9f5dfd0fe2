//! What differs between engines, behind one trait: quoting, type spelling, DDL and DML
//! forms, the data diff's hashing expressions, and transaction semantics. Each engine
//! implements it in its own folder; [`Dialect::sql`](super::Dialect::sql) is the
//! registry. Callers outside `src/db/` ask the trait instead of matching on `Dialect`.

use super::model::{Schema, Table};
use super::{Class, ColumnClass, ConnectOptions, Db};
use crate::error::Result;
use futures::future::BoxFuture;

/// One column as the data diff's SQL sees it on one side.
#[derive(Debug, Clone, Copy)]
pub struct HashColumn {
    /// The class both sides are compared as.
    pub class: Class,
    /// Decimal scale compared at; None = exact.
    pub scale: Option<u32>,
    /// Fractional-second digits compared.
    pub precision: u32,
    /// The engine-native class on this side.
    pub native: Class,
    /// A decimal whose declared scale is the compared scale: its text needs no rounding.
    pub exact_scale: bool,
    /// May hold NULL on either side.
    pub nullable: bool,
}

/// One field of the native hash's input.
#[derive(Debug, Clone)]
pub struct NativeField {
    /// The SQL expression of its text, or of the column itself where `own_type`.
    pub text: String,
    /// `text` is the column itself, of its own type ([`SqlDialect::native_text`] gave
    /// it): an engine hashing typed values hashes it as such, one joining texts renders it.
    pub own_type: bool,
    /// Free text followed by more fields: prefixed with its byte length.
    pub sized: bool,
    pub nullable: bool,
}

/// Is this class's canonical text free text (length-prefixed when serialized)?
pub fn textual(class: Class) -> bool {
    matches!(class, Class::Text | Class::Any | Class::Json)
}

/// The textual forms of a UUID the data diff reads as that UUID (case-insensitive):
/// hyphenated or 32 hex digits, optionally in braces, optionally after `urn:uuid:`.
/// The engines' hash expressions and cutover's own parsing accept exactly these.
pub const UUID_FORMS: &str = "^(urn:uuid:)?[{]?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})[}]?$";

pub(crate) fn pow10(p: u32) -> i128 {
    10i128.pow(p)
}

/// One engine's SQL.
pub trait SqlDialect: Send + Sync {
    /// Human name ("PostgreSQL").
    fn name(&self) -> &'static str;

    /// Quote an identifier (table, column). Never paste identifiers raw.
    fn quote_ident(&self, ident: &str) -> String {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }

    /// Quote a string literal.
    fn quote_literal(&self, s: &str) -> String {
        format!("'{}'", s.replace('\'', "''"))
    }

    /// Positional bind placeholder number `n` (1-based).
    fn placeholder(&self, _n: usize) -> String {
        "?".to_string()
    }

    /// Whether DDL takes part in transactions (it commits implicitly on MySQL/MariaDB).
    fn transactional_ddl(&self) -> bool {
        true
    }

    /// Whether running `sql` inside a transaction commits it implicitly (MySQL's DDL
    /// does: it commits the DML before it, and itself cannot be rolled back).
    fn commits_implicitly(&self, _sql: &str) -> bool {
        false
    }

    /// Does a generated migration script wrap itself in BEGIN/COMMIT, so that a
    /// failure midway leaves the target unchanged?
    fn plans_in_transaction(&self) -> bool {
        false
    }

    /// Does the engine's command-line client need `DELIMITER` around a statement with
    /// `;` inside (a routine or trigger body)?
    fn client_delimiter(&self) -> bool {
        false
    }

    // ---- the data diff: hashing where the data is ----

    /// Can this engine compute row hashes in SQL? (SQLite cannot: cutover hashes its
    /// streamed rows.)
    fn hashes_in_sql(&self) -> bool {
        true
    }

    /// The canonical text (`Norm::canonical_text`) of quoted column `c`.
    fn canonical_text(&self, c: &str, _col: &HashColumn) -> String {
        c.to_string()
    }

    /// One serialized field of the hash input: `N` for NULL; `V<text>;` or
    /// `V<byte length>:<text>` for free text. `t` is evaluated once unless textual.
    fn hash_field(&self, t: &str, textual: bool, nullable: bool) -> String {
        match (nullable, textual) {
            (false, true) => format!("'V' || octet_length({t})::text || ':' || {t}"),
            (false, false) => format!("'V' || {t} || ';'"),
            (true, true) => format!("coalesce('V' || octet_length({t})::text || ':' || {t}, 'N')"),
            (true, false) => format!("coalesce('V' || {t} || ';', 'N')"),
        }
    }

    /// String concatenation of `parts`.
    fn concat(&self, parts: &[String]) -> String {
        parts.join(" || ")
    }

    /// An integer key modulo `modulus`.
    fn int_mod(&self, c: &str, modulus: i64) -> String {
        format!("({c} % {modulus})")
    }

    /// The first 64 bits of the MD5 of `input` as an integer.
    fn md5_64(&self, input: &str) -> String {
        format!("('x' || substr(md5({input}), 1, 16))::bit(64)::bigint")
    }

    /// A bucket from the first 32 bits of the MD5 of `input`.
    fn md5_bucket(&self, input: &str, modulus: i64) -> String {
        format!("(('x' || substr(md5({input}), 1, 8))::bit(32)::bigint % {modulus})")
    }

    /// The engine's own fast row hash, used when both sides are this engine: its name
    /// for the summary, and a query whose one value is true (or 1) where the server has
    /// it (it fails or says otherwise where the server lacks it). None: the
    /// portable MD5 is the only hash.
    fn native_hash(&self) -> Option<(&'static str, &'static str)> {
        None
    }

    /// Statements run before a native-hash aggregate, in its transaction.
    fn native_setup(&self) -> Vec<String> {
        Vec::new()
    }

    /// The native 64-bit hash of `input` as integer parts, each summed per bucket: one
    /// 64-bit part, or 32-bit halves high first (summing small integers is cheaper on
    /// some engines); the bucket's hash sum mod 2^64 is `Σ high · 2^32 + Σ low`.
    fn native_hash_parts(&self, input: &str) -> Vec<String> {
        vec![self.md5_64(input)]
    }

    /// The column itself (on PostgreSQL, beside a field telling NULL from a value its
    /// hash cannot), where the engine's native hash can take it as it is rather
    /// than its canonical text and still tells apart exactly what the diff tells apart:
    /// used when both sides have this same type (so both render or hash it alike) and no
    /// conversion is asked for. None: canonical text.
    fn native_text(&self, _c: &str, _col: &HashColumn, _type_text: &str) -> Option<String> {
        None
    }

    /// The native hash's input: the fields joined unambiguously (only one engine reads
    /// it, so it need not match cutover's own serialization). `;` between fields, which
    /// no field that is not free text contains; free text after its byte length, but
    /// for the last field (free text comes last), which runs to the end; a NULL is `N`
    /// where a nullable field's value starts with `V` or a digit.
    fn native_input(&self, fields: &[NativeField]) -> String {
        let parts: Vec<String> = fields
            .iter()
            .map(|f| {
                let t = &f.text;
                match (f.sized, f.nullable) {
                    (false, false) => t.clone(),
                    (true, false) => format!("octet_length({t}), {t}"),
                    (false, true) => format!("coalesce('V' || {t}, 'N')"),
                    (true, true) => format!("coalesce(octet_length({t}) || ':' || {t}, 'N')"),
                }
            })
            .collect();
        format!("concat_ws(';', {})", parts.join(", "))
    }

    /// What follows a GROUP BY whose groups may come in any order (MariaDB otherwise
    /// sorts them).
    fn unordered_group(&self) -> &'static str {
        ""
    }

    /// `c` (a non-negative integer expression) divided by `d`, truncated.
    fn int_div(&self, c: &str, d: i64) -> String {
        format!("({c}) / {d}")
    }

    /// How the diff selects quoted column `c` to read its values: the column itself,
    /// or (PostgreSQL, compared as text) its text, so that any type, however the
    /// driver would decode it, can be compared as text.
    fn select_term(&self, c: &str, _col: &HashColumn) -> String {
        c.to_string()
    }

    /// An ORDER BY term sorting bytewise for text (never by collation), NULLs first.
    /// `textual`: the compared class is free text, or a UUID stored as text.
    fn order_term(&self, c: &str, col: &HashColumn, textual: bool) -> String;

    /// A group-by/compare term that never merges values a collation deems equal.
    fn exact_term(&self, c: &str, textual: bool) -> String;

    /// Statements that make one big aggregate query faster (run in its transaction).
    fn aggregate_setup(&self) -> Vec<String> {
        Vec::new()
    }

    /// Statements for a short query reading rows scattered over a table (run in its
    /// transaction, after [`SqlDialect::aggregate_setup`]'s): what keeps its start-up
    /// cheaper than its work.
    fn scattered_setup(&self) -> Vec<String> {
        Vec::new()
    }

    /// `term` sorted with NULLs first (the engine's default where it already is).
    fn nulls_first(&self, term: &str) -> String {
        term.to_string()
    }

    /// The catalog's row-estimate query for a table and its one parameter, given the
    /// table's quoted (possibly qualified) name and its bare name; None when the
    /// engine keeps no estimate.
    fn row_estimate(&self, _quoted: &str, _bare: &str) -> Option<(&'static str, String)> {
        None
    }

    /// A query giving the number of pages a table's rows are stored in, with its one
    /// parameter (from the table's quoted name), where rows can be read page range by
    /// page range ([`SqlDialect::page_slice`]); it yields NULL or 0 where they cannot
    /// (old server, view, partitioned table). None: the engine has no such ranges.
    fn page_count(&self, _quoted: &str) -> Option<(&'static str, String)> {
        None
    }

    /// The condition selecting the rows stored in pages `[from, to)` (`to` None: to the
    /// end), read as a range of the table's storage, not a scan of all of it.
    fn page_slice(&self, _from: u64, _to: Option<u64>) -> Option<String> {
        None
    }

    /// A query giving how closely the order of a table's storage follows column `$2`
    /// (bare name) of table `$1` (its quoted name, given here): -1 to 1 as a float,
    /// NULL or no row when unknown (never analyzed). None: the engine keeps no such
    /// statistic.
    fn storage_correlation(&self, _quoted: &str) -> Option<(&'static str, String)> {
        None
    }

    /// A query returning a row when column `$2` (bare name) leads an index of table
    /// `$1` (bare name), so ranges of it are read through the index; None: unknown.
    fn leading_index_probe(&self) -> Option<&'static str> {
        None
    }

    // ---- rows: literals, matching and deleting ----

    /// A boolean literal for a column whose engine-native class is `native`.
    fn bool_literal(&self, b: bool, _native: Class) -> String {
        if b { "1" } else { "0" }.into()
    }

    /// The text of a UTC timestamp literal (quoted by the caller).
    fn timestamp_text(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        t.format("%Y-%m-%d %H:%M:%S%.f").to_string()
    }

    /// A byte-string literal for a column whose engine-native class is `native`.
    fn bytes_literal(&self, b: &[u8], _native: Class) -> String {
        format!("X'{}'", hex::encode(b))
    }

    /// `c` equals `l`, NULL matching NULL.
    fn null_safe_eq(&self, c: &str, l: &str) -> String {
        format!("{c} IS {l}")
    }

    /// Delete at most `count` rows of `t` matching `w`.
    fn delete_limited(&self, t: &str, w: &str, count: u64) -> String;

    // ---- types ----

    /// This engine's exceptions to the shared normalized spelling of a type, given its
    /// lower-case base name, parameters and whether it was declared unsigned.
    fn normalize_type(
        &self,
        _base: &str,
        _params: Option<&str>,
        _unsigned: bool,
    ) -> Option<String> {
        None
    }

    /// This engine's type for normalized family `fam` with `params` (whole: `norm`).
    fn render_type(&self, fam: &str, params: Option<&str>, norm: &str) -> String;

    /// The type affinity of a declared type, for an engine where the declared type is
    /// only a hint (SQLite); None where types are enforced.
    fn affinity(&self, _declared: &str) -> Option<&'static str> {
        None
    }

    // ---- DDL ----

    /// The character that quotes identifiers (expressions written for another engine
    /// have theirs converted).
    fn ident_quote(&self) -> char {
        '"'
    }

    /// Are objects qualified by schema (`schema.table`)?
    fn qualifies_schemas(&self) -> bool {
        false
    }

    /// The same engine's type of an identity column, where it is spelled as a type
    /// (PostgreSQL `serial`).
    fn identity_type(&self, _identity: &str, _normalized: &str) -> Option<String> {
        None
    }

    /// The type of an identity column migrated from another engine, when fixed.
    fn foreign_identity_type(&self) -> Option<&'static str> {
        None
    }

    /// A boolean default (`1`/`0` normalized) in this engine's spelling, when it differs.
    fn bool_default(&self, _normalized: &str) -> Option<&'static str> {
        None
    }

    /// Whether a default expression from another engine is written without parentheses.
    fn bare_default_exprs(&self) -> bool {
        false
    }

    /// ` GENERATED ALWAYS AS (e) ...` for a generated column.
    fn generated_column(&self, e: &str, stored: bool) -> String {
        format!(
            " GENERATED ALWAYS AS ({e}) {}",
            if stored { "STORED" } else { "VIRTUAL" }
        )
    }

    /// Whether a generated column may carry NOT NULL.
    fn generated_not_null(&self) -> bool {
        true
    }

    /// The clause declaring an identity column (`cross`: it came from another engine).
    fn identity_clause(&self, _identity: &str, _cross: bool) -> &'static str {
        ""
    }

    /// Is an autoincrement key declared on its column (`PRIMARY KEY AUTOINCREMENT`)?
    fn inline_autoincrement(&self) -> bool {
        false
    }

    /// Are constraint names kept (SQLite's are synthesized by introspection)?
    fn names_constraints(&self) -> bool {
        true
    }

    /// Is a primary key's constraint name kept?
    fn names_primary_key(&self) -> bool {
        false
    }

    /// Are index column prefix lengths (`col(10)`) supported?
    fn index_prefixes(&self) -> bool {
        false
    }

    /// Are partial indexes (`CREATE INDEX ... WHERE`) supported?
    fn partial_indexes(&self) -> bool {
        true
    }

    /// The index kind prefix and `USING` suffix for an index method.
    fn index_method(&self, _method: &str, _cross: bool) -> (String, String) {
        (String::new(), String::new())
    }

    /// DROP INDEX, given the quoted index name, its schema-qualified form and the table.
    fn drop_index(&self, _name: &str, qualified: &str, _table: &str) -> String {
        format!("DROP INDEX {qualified}")
    }

    /// Are materialized views supported?
    fn materialized_views(&self) -> bool {
        false
    }

    // ---- migrations ----

    /// Are enums named types (`CREATE TYPE .. AS ENUM`)?
    fn enum_types(&self) -> bool {
        false
    }

    /// Does changing a table mostly mean rebuilding it (SQLite's limited ALTER TABLE),
    /// with foreign keys declared inline in CREATE TABLE?
    fn alters_by_rebuild(&self) -> bool {
        false
    }

    /// DROP TRIGGER, given the quoted trigger name and its table.
    fn drop_trigger(&self, name: &str, _table: &str) -> String {
        format!("DROP TRIGGER {name}")
    }

    /// Drop a foreign key constraint of a table.
    fn drop_foreign_key(&self, table: &str, name: &str) -> String {
        format!("ALTER TABLE {table} DROP CONSTRAINT {name}")
    }

    /// Drop a unique constraint of a table.
    fn drop_unique(&self, table: &str, name: &str) -> String {
        format!("ALTER TABLE {table} DROP CONSTRAINT {name}")
    }

    /// Drop a table's primary key, given its quoted constraint name when known.
    fn drop_primary_key(&self, table: &str, _name: Option<&str>) -> String {
        format!("ALTER TABLE {table} DROP PRIMARY KEY")
    }

    /// Does adding or dropping a primary key rewrite the table?
    fn primary_key_change_rewrites(&self) -> bool {
        false
    }

    /// Is a column changed by restating its whole definition (`MODIFY COLUMN`)?
    fn modify_column_restates(&self) -> bool {
        false
    }

    /// Does adding a column with a computed (volatile) value rewrite the table?
    fn computed_add_column_rewrites(&self) -> bool {
        false
    }

    // ---- introspection ----

    /// Read the whole schema of a database of this engine.
    fn introspect<'a>(&self, db: &'a Db) -> BoxFuture<'a, Result<Schema>>;

    // ---- the engine as a whole ----

    /// A database that is one local file (SQLite): opened by path, backed up and
    /// restored as a file, its directory created on demand.
    fn is_file(&self) -> bool {
        false
    }

    /// Is the declared column type only a hint (SQLite's dynamic typing)?
    fn dynamic_typing(&self) -> bool {
        false
    }

    /// Can this engine hold the ledger?
    fn can_hold_ledger(&self) -> bool {
        true
    }

    /// A statement letting other processes read while one writes, run once on open.
    fn concurrent_read_setup(&self) -> Option<&'static str> {
        None
    }

    /// A text type usable in a primary key.
    fn key_text_type(&self) -> &'static str {
        "TEXT"
    }

    /// `INSERT` prefix and suffix that skip rows conflicting with a key.
    fn insert_skipping_conflicts(&self) -> (&'static str, &'static str);

    /// An expression listing a row's columns `cols` as one exact text, when the engine
    /// has one (PostgreSQL `ROW(..)::text`).
    fn row_text(&self, _cols: &str) -> Option<String> {
        None
    }

    /// Are named schemas, enum types, sequences and functions compared as objects?
    fn schema_objects(&self) -> bool {
        false
    }

    /// Does the engine create an index for every foreign key by itself?
    fn indexes_foreign_keys(&self) -> bool {
        false
    }

    // ---- server administration (tests) ----

    /// The query listing the warnings of the statement just executed on the same
    /// connection (MySQL `SHOW WARNINGS`: Level, Code, Message), read while a step
    /// captures server messages (`db::notices`); None where they come another way.
    fn warnings_query(&self) -> Option<&'static str> {
        None
    }

    /// The database to connect to for creating and dropping others; None for files.
    fn admin_database(&self) -> Option<&'static str> {
        None
    }

    /// A short tag for generated names ("pg").
    fn tag(&self) -> &'static str;

    /// CREATE DATABASE with this engine's test defaults.
    fn create_database(&self, name: &str) -> String {
        format!("CREATE DATABASE {}", self.quote_ident(name))
    }

    /// DROP DATABASE, even while connections remain where the engine allows it.
    fn drop_database(&self, name: &str) -> String {
        format!("DROP DATABASE IF EXISTS {}", self.quote_ident(name))
    }

    /// Read one table's columns and keys (primary key, unique constraints and unique
    /// plain indexes) with queries filtered to that table; None when it does not exist.
    /// `name` may be `schema.table`.
    fn introspect_table<'a>(
        &self,
        db: &'a Db,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Table>>>;

    /// `UPDATE target SET column = value` for the target's rows that `on` joins to a row
    /// of `source` and that `filter` keeps. Tables are quoted names, referred to by
    /// those names in `value`, `on` and `filter` (no aliases). PostgreSQL and SQLite
    /// (3.33+) spell it `UPDATE … FROM`.
    fn update_from(
        &self,
        target: &str,
        column: &str,
        value: &str,
        source: &str,
        on: &str,
        filter: &str,
    ) -> String {
        format!("UPDATE {target} SET {column} = {value} FROM {source} WHERE ({on}) AND {filter}")
    }

    /// `expr` converted to text (a key written to a text column).
    fn cast_text(&self, expr: &str) -> String {
        format!("CAST({expr} AS TEXT)")
    }

    /// Statements that bound, for the rest of the current transaction, how long a
    /// statement waits for a lock and how long it may run (milliseconds); empty where
    /// the engine has no such setting.
    fn batch_timeouts(&self, _lock_ms: u64, _statement_ms: u64) -> Vec<String> {
        Vec::new()
    }

    /// Cancel, on the server, the statements other connections are running whose text
    /// contains `tag` (a timed-out check's queries carry one in a comment): PostgreSQL
    /// `pg_cancel_backend`, MySQL/MariaDB `KILL QUERY`. `db` should be a connection of
    /// its own (the pool's may all be busy). Returns how many were asked to stop; 0
    /// where the engine runs in this process (SQLite).
    fn cancel_tagged<'a>(&self, _db: &'a Db, _tag: &'a str) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async { Ok(0) })
    }

    /// A prefix that bounds the next statement's run time to `statement_ms` where the
    /// engine bounds one statement rather than the transaction (MariaDB's `SET STATEMENT
    /// max_statement_time = … FOR`); None where [`SqlDialect::batch_timeouts`] already
    /// bounds it (PostgreSQL) or nothing can (SQLite; MySQL, whose
    /// `max_execution_time` bounds SELECTs only). Asks the server which it is.
    fn statement_time_prefix<'a>(
        &self,
        _db: &'a Db,
        _statement_ms: u64,
    ) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(async { Ok(None) })
    }

    /// What [`SqlDialect::batch_timeouts`] sets, in words for a step's plan.
    fn describe_batch_timeouts(&self, _lock_ms: u64, _statement_ms: u64) -> String {
        "SQLite: one writer at a time, no lock or statement timeout".into()
    }

    /// Does a type change or a volatile column default rewrite the whole table under
    /// an exclusive lock (PostgreSQL)? The SQL linter raises `table-rewrite` for them.
    fn ddl_rewrites_tables(&self) -> bool {
        false
    }

    /// Every base table of the database, by name.
    fn list_tables_sql(&self) -> &'static str;

    /// Fractional-second digits of a time type declared without them.
    fn default_time_precision(&self) -> u32 {
        6
    }

    /// For a geometric or spatial column type (`type_text` as introspected), how this
    /// engine represents its values; None for any other type. Two engines with
    /// different representations have no exact common form to compare them by.
    fn geometry_form(&self, _type_text: &str) -> Option<&'static str> {
        None
    }

    /// How the data diff compares a column of this engine, from its model column.
    fn column_class(&self, engine_type: &str, normalized: &str) -> ColumnClass {
        ColumnClass::of_normalized(normalized, engine_type, self.default_time_precision())
    }

    // ---- backup and restore ----

    /// This engine's backup and restore (`src/db/<engine>/backup.rs`).
    fn backup(&self) -> &'static dyn super::backup::BackupEngine;

    // ---- bulk copy ----

    /// A statement that makes the sequence feeding `column` of `table` (quoted,
    /// possibly qualified) hand out `next` on its next use; None where the engine
    /// follows inserted keys by itself (SQLite rowid and AUTOINCREMENT).
    fn sequence_reset(&self, _table: &str, _column: &str, _next: i64) -> Option<String> {
        None
    }

    /// A text value as a literal that stores exactly its bytes, or None when a text
    /// column of this engine cannot hold them (PostgreSQL text holds no NUL byte).
    fn exact_text_literal(&self, s: &str) -> Option<String> {
        if s.contains('\0') {
            None
        } else {
            Some(self.quote_literal(s))
        }
    }

    // ---- connecting and plain values ----

    /// Open a pool for `url` (its password already registered for redaction).
    fn connect<'a>(
        &self,
        url: &'a str,
        redacted: &'a str,
        opts: ConnectOptions,
    ) -> BoxFuture<'a, Result<Db>>;

    /// A byte-string value as a literal (generated scripts and batches).
    fn value_bytes_literal(&self, b: &[u8]) -> String {
        format!("X'{}'", hex::encode(b))
    }

    /// The text of a timestamp-with-time-zone value's literal (quoted by the caller).
    fn value_timestamptz_text(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }
}
