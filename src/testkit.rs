//! Real databases for tests and benchmarks: each call creates a fresh, uniquely named
//! database on the local server and drops it when the handle is dropped, so tests can
//! run in parallel. Servers come from `CUTOVER_TEST_PG_URL` / `CUTOVER_TEST_MYSQL_URL`
//! (defaults: postgres://postgres@127.0.0.1:5432 and mysql://root@127.0.0.1:3306).
//! Without a server a test prints "skipped: no PostgreSQL at ..." loudly; with
//! `CUTOVER_REQUIRE_SERVERS=1` a missing server is a failure.

use crate::db::{self, ConnectOptions, Db, Dialect};
use std::sync::atomic::{AtomicU64, Ordering};

pub fn pg_server_url() -> String {
    std::env::var("CUTOVER_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn mysql_server_url() -> String {
    std::env::var("CUTOVER_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

fn servers_required() -> bool {
    std::env::var("CUTOVER_REQUIRE_SERVERS")
        .map(|v| v == "1" || v == "true")
        .unwrap_or(false)
}

/// A database created for one test; dropped (best effort) when this is dropped.
pub struct TestDb {
    pub url: String,
    pub name: String,
    pub dialect: Dialect,
    server_url: String,
    _tmp: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn connect(&self) -> Db {
        db::connect(&self.url)
            .await
            .expect("connect to test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.dialect.sql().admin_database().is_none() {
            return;
        }
        let server = self.server_url.clone();
        let name = self.name.clone();
        let dialect = self.dialect;
        // Drop on a separate thread with its own runtime: we may be inside a runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    if let Ok(admin) = db::connect_with(
                        &admin_url(dialect, &server),
                        ConnectOptions {
                            max_connections: 1,
                            ..Default::default()
                        },
                    )
                    .await
                    {
                        let sql = dialect.sql().drop_database(&name);
                        let _ = admin.execute(&sql).await;
                        admin.close().await;
                    }
                });
            }
        })
        .join();
    }
}

fn admin_url(dialect: Dialect, server: &str) -> String {
    let admin = dialect.sql().admin_database().unwrap_or_default();
    format!("{}/{admin}", server.trim_end_matches('/'))
}

fn unique_name(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    format!(
        "cutover_test_{prefix}_{}_{}_{n}",
        std::process::id(),
        uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .get(..8)
            .unwrap_or("x")
    )
}

async fn server_db(dialect: Dialect, server: String, label: &str) -> Option<TestDb> {
    let admin = match db::connect_with(
        &admin_url(dialect, &server),
        ConnectOptions {
            max_connections: 1,
            ..Default::default()
        },
    )
    .await
    {
        Ok(a) => a,
        Err(e) => {
            if servers_required() {
                panic!(
                    "CUTOVER_REQUIRE_SERVERS=1 but no {label} at {}: {e}",
                    crate::redact::redact_url(&server)
                );
            }
            eprintln!(
                "\n*** skipped: no {label} at {} ({e}) ***\n",
                crate::redact::redact_url(&server)
            );
            return None;
        }
    };
    let name = unique_name(dialect.sql().tag());
    let create = dialect.sql().create_database(&name);
    admin
        .execute(&create)
        .await
        .unwrap_or_else(|e| panic!("create test database {name}: {e}"));
    admin.close().await;
    Some(TestDb {
        url: format!("{}/{}", server.trim_end_matches('/'), name),
        name,
        dialect,
        server_url: server,
        _tmp: None,
    })
}

/// A fresh PostgreSQL database, or None (after a loud "skipped") when no server runs.
pub async fn postgres() -> Option<TestDb> {
    server_db(Dialect::Postgres, pg_server_url(), "PostgreSQL").await
}

/// A fresh MySQL/MariaDB database, or None (after a loud "skipped") when no server runs.
pub async fn mysql() -> Option<TestDb> {
    server_db(Dialect::Mysql, mysql_server_url(), "MySQL/MariaDB").await
}

/// A fresh SQLite database file in its own temporary directory.
pub async fn sqlite() -> TestDb {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("test.db");
    let url = format!("sqlite://{}", path.display());
    db::connect_with(
        &url,
        ConnectOptions {
            create_if_missing: true,
            max_connections: 1,
        },
    )
    .await
    .expect("create sqlite test db")
    .close()
    .await;
    TestDb {
        url,
        name: "test.db".into(),
        dialect: Dialect::Sqlite,
        server_url: String::new(),
        _tmp: Some(tmp),
    }
}

/// One database of each engine that is available (SQLite always).
pub async fn all_engines() -> Vec<TestDb> {
    let mut v = vec![sqlite().await];
    if let Some(p) = postgres().await {
        v.push(p);
    }
    if let Some(m) = mysql().await {
        v.push(m);
    }
    v
}
