//! Database targets: one trait over the concrete sqlx SQLite, PostgreSQL and MySQL pools.
//!
//! sqlx's `Any` driver cannot read NUMERIC or TIMESTAMP, so each engine has its own
//! implementation that decodes every column into the engine-neutral [`Value`].

pub mod backup;
pub mod bookkeeping;
pub(crate) mod catalog;
mod class;
mod dialect;
mod engine_impl;
pub mod model;
mod mysql;
pub mod notices;
mod postgres;
pub mod refinery_adapter;
mod split;
mod sqlite;
mod stream_tx;
mod targets;
pub mod types;
mod value;

pub use class::{Class, ColumnClass};
pub use dialect::{HashColumn, NativeField, SqlDialect, textual};
pub use split::{Statement, split_statements};
pub use sqlite::backup::restore_tables_from_file as sqlite_restore_tables;
pub use sqlite::sqlite_path;
pub(crate) use sqlite::stream as sqlite_stream;
pub use targets::{TargetSpec, Targets};
pub use value::Value;

use crate::error::{Error, Result};
use async_trait::async_trait;
use futures::stream::BoxStream;
use std::sync::Arc;

/// The SQL dialect of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

impl Dialect {
    pub fn from_url(url: &str) -> Result<Dialect> {
        let scheme = url.split("://").next().unwrap_or("");
        match scheme {
            "sqlite" => Ok(Dialect::Sqlite),
            "postgres" | "postgresql" => Ok(Dialect::Postgres),
            "mysql" | "mariadb" => Ok(Dialect::Mysql),
            _ if !url.contains("://") => Err(Error::bad_input(format!(
                "\"{}\" is not a database URL; expected sqlite://FILE, postgres://USER@HOST/DB or mysql://USER@HOST/DB",
                crate::redact::redact_url(url)
            ))),
            other => Err(Error::bad_input(format!(
                "unsupported database URL scheme \"{other}\"; expected sqlite, postgres or mysql"
            ))),
        }
    }

    /// An engine named on the command line: `sqlite`, `postgres` (`postgresql`, `pg`)
    /// or `mysql` (`mariadb`), any case.
    pub fn from_name(name: &str) -> std::result::Result<Dialect, String> {
        match name.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Dialect::Sqlite),
            "postgres" | "postgresql" | "pg" => Ok(Dialect::Postgres),
            "mysql" | "mariadb" => Ok(Dialect::Mysql),
            _ => Err(format!(
                "unknown dialect \"{name}\"; expected sqlite, postgres or mysql"
            )),
        }
    }

    /// This engine's SQL: the one registry from dialect to implementation.
    /// Adding an engine is a folder under `src/db/` implementing [`SqlDialect`], a
    /// variant of this enum with its URL schemes in `from_url`, and one line here.
    pub fn sql(self) -> &'static dyn SqlDialect {
        match self {
            Dialect::Sqlite => &sqlite::SQL,
            Dialect::Postgres => &postgres::SQL,
            Dialect::Mysql => &mysql::SQL,
        }
    }

    pub fn name(self) -> &'static str {
        self.sql().name()
    }

    /// Quote an identifier (table, column) for this dialect. Never paste identifiers raw.
    pub fn quote_ident(self, ident: &str) -> String {
        self.sql().quote_ident(ident)
    }

    /// Quote a possibly schema-qualified name (`schema.table`) part by part.
    pub fn quote_qualified(self, name: &str) -> String {
        name.split('.')
            .map(|p| self.quote_ident(p))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// Quote a string literal for this dialect.
    pub fn quote_literal(self, s: &str) -> String {
        self.sql().quote_literal(s)
    }

    /// Positional bind placeholder number `n` (1-based).
    pub fn placeholder(self, n: usize) -> String {
        self.sql().placeholder(n)
    }

    /// Whether DDL takes part in transactions (it does not on MySQL/MariaDB).
    pub fn transactional_ddl(self) -> bool {
        self.sql().transactional_ddl()
    }
}

/// Rows returned by a query: column names and values.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    /// The single value of a one-row, one-column result.
    pub fn scalar(&self) -> Option<&Value> {
        self.rows.first().and_then(|r| r.first())
    }
}

/// An error from executing one statement of a script.
#[derive(Debug, Clone)]
pub struct StatementError {
    /// 0-based index of the failing statement.
    pub index: usize,
    /// 1-based line in the script where that statement starts.
    pub line: usize,
    pub message: String,
}

/// One database, whatever the engine. Implemented for the concrete sqlx pools.
#[async_trait]
pub trait Database: Send + Sync {
    fn dialect(&self) -> Dialect;
    /// The URL with any password replaced by `***`.
    fn redacted_url(&self) -> &str;

    /// Execute one statement outside any explicit transaction; rows affected.
    async fn execute(&self, sql: &str) -> Result<u64>;

    /// Execute statements in order inside one transaction; commits only if all succeed.
    /// (On MySQL/MariaDB any DDL among them commits implicitly.)
    async fn execute_in_transaction(
        &self,
        statements: &[Statement],
    ) -> std::result::Result<u64, StatementError>;

    /// Like [`Database::execute_in_transaction`], with the rows each statement affected
    /// (a batch that must tell its own rows from its bookkeeping's).
    async fn execute_in_transaction_each(
        &self,
        statements: &[Statement],
    ) -> std::result::Result<Vec<u64>, StatementError>;

    /// Run a query with positional parameters and collect every row.
    async fn query(&self, sql: &str, params: &[Value]) -> Result<Rows>;

    /// Run `setup` statements (e.g. PostgreSQL `SET LOCAL work_mem`) and then a query,
    /// in one transaction on one connection, so the settings apply to that query only.
    async fn query_with_setup(&self, setup: &[String], sql: &str) -> Result<Rows>;

    /// [`Database::query_with_setup`], handing each row to `each` as it arrives instead
    /// of collecting them (memory bounded by the driver's buffer).
    async fn query_each_with_setup(
        &self,
        setup: &[String],
        sql: &str,
        each: &mut (dyn FnMut(Vec<Value>) + Send),
    ) -> Result<()>;

    /// Stream the rows of a query; memory stays bounded by the consumer.
    fn stream<'a>(&'a self, sql: String, params: Vec<Value>) -> BoxStream<'a, Result<Vec<Value>>>;

    /// Close the pool (e.g. before a SQLite file is replaced by a restore).
    async fn close(&self);

    /// The concrete database, for the bulk paths that need both ends' drivers
    /// (PostgreSQL binary COPY from one pool into another).
    fn as_any(&self) -> &dyn std::any::Any;
}

/// What a bulk transfer moved: rows and bytes on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    pub rows: u64,
    pub bytes: u64,
}

/// Copy the rows of `select` (a SELECT in the source's SQL) from `src` into
/// `columns` (unquoted names) of `table` (possibly `schema.table`) on `dst` through the
/// engines' native binary stream, then run the statements `after` makes from what was
/// moved in the same destination transaction (commits only if all of it succeeds). `None` when the pair of engines
/// has no such path (only PostgreSQL to PostgreSQL does), so the caller decodes rows.
/// Memory stays bounded by the driver's buffers whatever the row count.
pub async fn binary_copy(
    src: &Db,
    dst: &Db,
    select: &str,
    table: &str,
    columns: &[String],
    after: &(dyn Fn(Moved) -> Vec<Statement> + Sync),
) -> Result<Option<Moved>> {
    match (
        src.as_any().downcast_ref::<postgres::PgDb>(),
        dst.as_any().downcast_ref::<postgres::PgDb>(),
    ) {
        (Some(s), Some(d)) => postgres::bulk::binary_copy(s, d, select, table, columns, after)
            .await
            .map(Some),
        _ => Ok(None),
    }
}

/// The rows of a query streamed through the engine's bulk protocol where cutover reads
/// it — PostgreSQL's binary `COPY … TO STDOUT`, when every result column has a type it
/// decodes from its bytes — and otherwise through the driver ([`Database::stream`]).
/// Either way the rows hold the very same values; memory stays bounded by a row.
pub fn stream_bulk<'a>(db: &'a Db, sql: String) -> BoxStream<'a, Result<Vec<Value>>> {
    use futures::StreamExt;
    let Some(pg) = db.as_any().downcast_ref::<postgres::PgDb>() else {
        return db.stream(sql, Vec::new());
    };
    futures::stream::once(async move {
        match postgres::copy_rows::open(pg, &sql).await {
            Ok(Some(rows)) => futures::stream::unfold(Some(rows), |rows| async move {
                let mut rows = rows?;
                match rows.next_row().await {
                    Ok(Some(row)) => Some((Ok(row), Some(rows))),
                    Ok(None) => None,
                    Err(e) => Some((Err(e), None)),
                }
            })
            .boxed(),
            Ok(None) => db.stream(sql, Vec::new()),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    })
    .flatten()
    .boxed()
}

/// Whether rows can move from an engine of `src` to one of `dst` through the engines'
/// own binary stream ([`binary_copy`]); otherwise rows are decoded and inserted.
pub fn has_binary_copy(src: Dialect, dst: Dialect) -> bool {
    src == Dialect::Postgres && dst == Dialect::Postgres
}

/// The dialect a connection URL names (its scheme), or a clear error.
pub fn dialect_of(url: &str) -> Result<Dialect> {
    Dialect::from_url(url)
}

pub type Db = Arc<dyn Database>;
pub use stream_tx::{BatchFailure, execute_streamed_in_transaction};

/// Options for opening a database.
#[derive(Debug, Clone, Copy)]
pub struct ConnectOptions {
    /// SQLite only: create the file when it does not exist.
    pub create_if_missing: bool,
    pub max_connections: u32,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            create_if_missing: false,
            max_connections: 4,
        }
    }
}

/// Connect to a database URL (sqlite://, postgres://, mysql://).
pub async fn connect(url: &str) -> Result<Db> {
    connect_with(url, ConnectOptions::default()).await
}

pub async fn connect_with(url: &str, opts: ConnectOptions) -> Result<Db> {
    let redacted = crate::redact::register_url(url);
    let dialect = Dialect::from_url(url)?;
    dialect.sql().connect(url, &redacted, opts).await
}

/// A server's error as a person reads it: the message, and what the server adds to
/// it (PostgreSQL's DETAIL and HINT).
pub(crate) fn database_error_text(d: &dyn sqlx::error::DatabaseError) -> String {
    postgres::error_details(d).unwrap_or_else(|| d.message().to_string())
}

/// Turn an sqlx error into a user-facing, redacted error naming the database.
pub(crate) fn sqlx_error(redacted_url: &str, e: sqlx::Error) -> Error {
    let err = match &e {
        sqlx::Error::Database(d) => Error::runtime(format!(
            "{}: {}",
            redacted_url,
            database_error_text(d.as_ref())
        )),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed => Error::runtime(format!("cannot reach {redacted_url}: {e}"))
            .with_hint("check that the server is running and the URL's host and port are right"),
        sqlx::Error::Configuration(_) => {
            Error::bad_input(format!("bad database URL {redacted_url}: {e}"))
        }
        _ => Error::runtime(format!("{redacted_url}: {e}")),
    };
    err.with_source(e)
}

static CONNECT_TIMEOUT_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(5000);

/// How long opening a connection to a server may take before it is reported as
/// unanswered (`--connect-timeout`, default 5 s). Process-wide: set once at start.
pub fn set_connect_timeout(t: std::time::Duration) {
    CONNECT_TIMEOUT_MS.store(
        t.as_millis().clamp(1, u64::MAX as u128) as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
}

pub fn connect_timeout() -> std::time::Duration {
    std::time::Duration::from_millis(CONNECT_TIMEOUT_MS.load(std::sync::atomic::Ordering::Relaxed))
}

/// Open one connection directly, within the connect timeout, before a pool is built:
/// a pool retries a refused connection until its acquire timeout and then reports
/// only "pool timed out"; this names the cause at once.
pub(crate) async fn probe<C: sqlx::Connection>(
    redacted_url: &str,
    connecting: impl std::future::Future<Output = std::result::Result<C, sqlx::Error>>,
) -> Result<()> {
    let t = connect_timeout();
    match tokio::time::timeout(t, connecting).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(connect_error(redacted_url, e)),
        Err(_) => Err(Error::runtime(format!(
            "cannot connect to {redacted_url}: no answer within {} s",
            t.as_secs_f64()
        ))
        .with_hint("check the URL's host and port and that no firewall drops the connection; a slow network may need a longer --connect-timeout SECS")),
    }
}

/// Connect error: classify authentication failures, missing databases and unreachable
/// servers, in the server's own words (its message, without the "at line N" of the
/// server's source file that some drivers append).
pub(crate) fn connect_error(redacted_url: &str, e: sqlx::Error) -> Error {
    if let sqlx::Error::Io(io) = &e {
        use std::io::ErrorKind as K;
        let what = match io.kind() {
            K::ConnectionRefused => {
                "connection refused (nothing listens at that host and port)".to_string()
            }
            K::TimedOut => "connection timed out".to_string(),
            K::NotFound => format!("{io}"),
            _ => format!("{io}"),
        };
        return Error::runtime(format!("cannot connect to {redacted_url}: {what}"))
            .with_hint("check that the server is running and the URL's host and port are right");
    }
    let msg = match &e {
        sqlx::Error::Database(d) => d.message().to_string(),
        _ => e.to_string(),
    };
    let lower = msg.to_lowercase();
    if lower.contains("password")
        || lower.contains("access denied")
        || lower.contains("authentication")
    {
        Error::runtime(format!(
            "cannot connect to {redacted_url}: authentication failed: {msg}"
        ))
        .with_hint(
            "check the user name and password (they come from the URL or its ${env:...} variable)",
        )
    } else if (lower.starts_with("database ") && lower.contains("does not exist"))
        || lower.starts_with("unknown database")
    {
        Error::bad_input(format!(
            "cannot connect to {redacted_url}: the database does not exist on that server ({msg})"
        ))
        .with_hint("create the database first, or correct the database name in the URL")
    } else if let sqlx::Error::Configuration(_) = e {
        Error::bad_input(format!("bad database URL {redacted_url}: {msg}"))
    } else {
        Error::runtime(format!("cannot connect to {redacted_url}: {msg}")).with_hint(
            "check that the server is running and the URL's host, port and database are right",
        )
    }
    .with_source(e)
}

#[cfg(test)]
mod error_source_tests {
    use std::error::Error as _;

    #[test]
    fn database_errors_keep_sqlx_as_their_source_with_the_message_unchanged() {
        let e = super::sqlx_error("postgres://u:***@h/db", sqlx::Error::PoolTimedOut);
        assert!(
            e.message
                .starts_with("cannot reach postgres://u:***@h/db: ")
        );
        let src = e.source().expect("sqlx error kept as the source");
        assert!(matches!(
            src.downcast_ref::<sqlx::Error>(),
            Some(sqlx::Error::PoolTimedOut)
        ));
        let e = super::connect_error(
            "sqlite://x.db",
            sqlx::Error::Configuration("no such option".into()),
        );
        assert_eq!(
            e.message,
            "bad database URL sqlite://x.db: error with configuration: no such option"
        );
        assert!(
            e.source()
                .and_then(|s| s.downcast_ref::<sqlx::Error>())
                .is_some()
        );
    }
}
