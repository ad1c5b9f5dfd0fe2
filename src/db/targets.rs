//! The named databases of a runbook, connected lazily and shared by all steps.

use crate::db::{self, Db, Dialect};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use tokio::sync::Mutex;

/// A named target as declared in a runbook.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    pub name: String,
    /// The interpolated URL. Never print it: use `redacted`.
    pub url: String,
    pub redacted: String,
    pub dialect: Dialect,
}

impl TargetSpec {
    /// For SQLite targets, the database file.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self.dialect
            .sql()
            .is_file()
            .then(|| std::path::PathBuf::from(db::sqlite_path(&self.url)))
    }
}

pub struct Targets {
    specs: BTreeMap<String, TargetSpec>,
    open: Mutex<BTreeMap<String, Db>>,
    /// Connections each target's pool may open (`None`: the default of `db::connect`).
    max_connections: Option<u32>,
}

impl Targets {
    pub fn new(specs: BTreeMap<String, TargetSpec>) -> Self {
        Targets {
            specs,
            open: Mutex::new(BTreeMap::new()),
            max_connections: None,
        }
    }

    /// Open at most `n` connections to each target (`cutover verify --jobs`).
    pub fn with_max_connections(mut self, n: u32) -> Self {
        self.max_connections = Some(n.max(1));
        self
    }

    pub fn spec(&self, name: &str) -> Result<&TargetSpec> {
        self.specs.get(name).ok_or_else(|| {
            Error::bad_input(format!(
                "unknown target \"{name}\"; the runbook declares {}",
                self.specs.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })
    }

    pub fn specs(&self) -> impl Iterator<Item = &TargetSpec> {
        self.specs.values()
    }

    /// The open connection pool of a target, connecting on first use.
    pub async fn get(&self, name: &str) -> Result<Db> {
        let spec = self.spec(name)?;
        let mut open = self.open.lock().await;
        if let Some(db) = open.get(name) {
            return Ok(db.clone());
        }
        let db = match self.max_connections {
            None => db::connect(&spec.url).await,
            Some(n) => {
                let opts = db::ConnectOptions {
                    max_connections: n,
                    ..Default::default()
                };
                db::connect_with(&spec.url, opts).await
            }
        };
        let db = db.map_err(|e| e.context(format!("target \"{name}\"")))?;
        open.insert(name.to_string(), db.clone());
        Ok(db)
    }

    /// Close a target's pool (before its SQLite file is replaced); the next `get` reconnects.
    pub async fn close(&self, name: &str) {
        let db = self.open.lock().await.remove(name);
        if let Some(db) = db {
            db.close().await;
        }
    }

    pub async fn close_all(&self) {
        let all: Vec<Db> = std::mem::take(&mut *self.open.lock().await)
            .into_values()
            .collect();
        for db in all {
            db.close().await;
        }
    }
}
