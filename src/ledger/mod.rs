//! The ledger: cutover's own database of runs, step states, evidence and approvals,
//! as append-only records hash-chained like a git history. Its schema is managed by
//! refinery migrations in `migrations/`. SQLite by default, PostgreSQL for teams.

mod anchors;
mod chain;
mod entry;
mod locks;
mod state;

pub use crate::db::bookkeeping::{Anchor, AnchorRow, LockRow};
pub use anchors::TargetAnchors;
pub use chain::{ChainProblem, VerifyReport, record_hash};
pub use entry::{
    ApprovalGiven, BatchCommitted, CheckpointWaiting, DataApplied, DataAppliedBefore,
    DataAppliedStatements, Decision, Entry, LockReleased, RollbackStarted, RunAbandoned,
    RunCompleted, RunResumed, RunStarted, RunStopped, Status, StepDone, StepFailed, StepRolledBack,
    StepStarted,
};
pub use entry::{ChecklistTicked, ChecklistWaiting};
pub use locks::{LockGuard, LockHolder, TargetLock};
pub use state::{Approval, ChecklistTick, RollbackAttempt, RunState, StepRecord};

use crate::db::refinery_adapter::RefineryDb;
use crate::db::{self, ConnectOptions, Db, Dialect, Statement, Value};
use crate::error::{Error, Result};
use serde::Serialize;
use std::path::Path;

/// The ledger's own migrations, embedded so the binary is self-contained.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "V1__ledger",
        include_str!("../../migrations/V1__ledger.sql"),
    ),
    ("V2__trust", include_str!("../../migrations/V2__trust.sql")),
];

/// One record of the chain.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub seq: i64,
    pub runbook: String,
    pub run_id: String,
    pub kind: String,
    pub step_id: Option<String>,
    /// The payload exactly as stored (JSON text); the hash covers these bytes.
    pub payload: String,
    pub created_at: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Record {
    pub fn payload_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.payload).unwrap_or(serde_json::Value::Null)
    }

    /// What the record says, if its kind is one a run writes.
    pub fn entry(&self) -> Option<Entry> {
        Entry::from_stored(&self.kind, &self.payload)
    }
}

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One run as `cutover runs` lists it: its replayed state, when its last record was
/// written, and how many records it has.
#[derive(Debug, Clone)]
pub struct RunListing {
    pub state: RunState,
    pub last_at: String,
    pub records: usize,
}

pub struct Ledger {
    db: Db,
    redacted: String,
}

impl Ledger {
    /// The default ledger location for a runbook: `.cutover/ledger.db` next to it.
    pub fn default_url(runbook_dir: &Path) -> String {
        format!(
            "sqlite://{}",
            runbook_dir.join(".cutover").join("ledger.db").display()
        )
    }

    /// Open (creating if needed) a ledger and bring its schema up to date.
    pub async fn open(url: &str) -> Result<Ledger> {
        let dialect = crate::db::dialect_of(url)?;
        if !dialect.sql().can_hold_ledger() {
            return Err(Error::bad_input(
                "the ledger must be SQLite or PostgreSQL, not MySQL/MariaDB",
            ));
        }
        if dialect.sql().is_file() {
            let path = db::sqlite_path(url);
            if let Some(parent) = Path::new(&path).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|e| {
                    Error::runtime(format!(
                        "cannot create ledger directory {}: {e}",
                        parent.display()
                    ))
                })?;
            }
        }
        let db = db::connect_with(
            url,
            ConnectOptions {
                create_if_missing: true,
                max_connections: 2,
            },
        )
        .await
        .map_err(|e| e.context("ledger"))?;
        if let Some(setup) = dialect.sql().concurrent_read_setup() {
            let _ = db.execute(setup).await;
        }
        let ledger = Ledger {
            redacted: db.redacted_url().to_string(),
            db,
        };
        ledger.migrate().await?;
        Ok(ledger)
    }

    async fn migrate(&self) -> Result<()> {
        let migrations = MIGRATIONS
            .iter()
            .map(|(name, sql)| refinery_core::Migration::unapplied(name, sql))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::runtime(format!("ledger migrations: {e}")))?;
        let runner = refinery_core::Runner::new(&migrations).set_abort_divergent(true);
        let mut conn = RefineryDb {
            db: self.db.as_ref(),
            on_apply: None,
        };
        // Two processes may open a fresh ledger at once; the loser retries once.
        if let Err(e) = runner.run_async(&mut conn).await {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            runner.run_async(&mut conn).await.map_err(|e2| {
                Error::runtime(format!(
                    "cannot prepare the ledger at {}: {e2} (first attempt: {e})",
                    self.redacted
                ))
            })?;
        }
        Ok(())
    }

    pub fn redacted_url(&self) -> &str {
        &self.redacted
    }

    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Append a run's record to the chain.
    pub async fn append_entry<E: Serialize>(
        &self,
        runbook: &str,
        run_id: &str,
        step_id: Option<&str>,
        entry: &Entry<E>,
    ) -> Result<Record> {
        let (kind, payload) = entry.to_stored();
        self.append(runbook, run_id, &kind, step_id, &payload).await
    }

    /// Append a record to the chain. The payload is scrubbed of secrets before it is stored.
    pub async fn append(
        &self,
        runbook: &str,
        run_id: &str,
        kind: &str,
        step_id: Option<&str>,
        payload: &serde_json::Value,
    ) -> Result<Record> {
        let payload = crate::redact::scrub(&serde_json::to_string(payload).expect("json"));
        let d = self.db.dialect();
        for attempt in 0..50 {
            let head = self
                .db
                .query(
                    "SELECT seq, hash FROM ledger_records ORDER BY seq DESC LIMIT 1",
                    &[],
                )
                .await
                .map_err(|e| e.context("ledger"))?;
            let (prev_seq, prev_hash) = match head.rows.first() {
                Some(r) => (r[0].as_i64().unwrap_or(0), r[1].to_string()),
                None => (0, GENESIS_HASH.to_string()),
            };
            let mut rec = Record {
                seq: prev_seq + 1,
                runbook: runbook.to_string(),
                run_id: run_id.to_string(),
                kind: kind.to_string(),
                step_id: step_id.map(str::to_string),
                payload: payload.clone(),
                created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                prev_hash,
                hash: String::new(),
            };
            rec.hash = chain::record_hash(&rec);
            let lit = |s: &str| d.quote_literal(s);
            let step = rec
                .step_id
                .as_deref()
                .map(lit)
                .unwrap_or_else(|| "NULL".into());
            let stmts = vec![
                Statement::new(format!(
                    "INSERT INTO ledger_records (seq, runbook, run_id, kind, step_id, payload, created_at, prev_hash, hash) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
                    rec.seq,
                    lit(&rec.runbook),
                    lit(&rec.run_id),
                    lit(&rec.kind),
                    step,
                    lit(&rec.payload),
                    lit(&rec.created_at),
                    lit(&rec.prev_hash),
                    lit(&rec.hash)
                )),
                Statement::new("DELETE FROM ledger_head"),
                Statement::new(format!(
                    "INSERT INTO ledger_head (id, seq, hash) VALUES (1, {}, {})",
                    rec.seq,
                    lit(&rec.hash)
                )),
            ];
            match self.db.execute_in_transaction(&stmts).await {
                Ok(_) => {
                    tracing::debug!(seq = rec.seq, kind = rec.kind, "ledger append");
                    return Ok(rec);
                }
                Err(e) if attempt < 49 && is_conflict(&e.message) => {
                    tokio::time::sleep(std::time::Duration::from_millis(10 + attempt * 5)).await;
                }
                Err(e) => {
                    return Err(Error::runtime(format!(
                        "ledger {}: cannot append record: {}",
                        self.redacted, e.message
                    )));
                }
            }
        }
        Err(Error::runtime("ledger: too many concurrent writers"))
    }

    /// All records, optionally of one runbook, in chain order.
    pub async fn records(&self, runbook: Option<&str>) -> Result<Vec<Record>> {
        let cols = "seq, runbook, run_id, kind, step_id, payload, created_at, prev_hash, hash";
        let rows = match runbook {
            Some(rb) => {
                let sql = format!(
                    "SELECT {cols} FROM ledger_records WHERE runbook = {} ORDER BY seq",
                    self.db.dialect().placeholder(1)
                );
                self.db.query(&sql, &[Value::from(rb)]).await?
            }
            None => {
                self.db
                    .query(
                        &format!("SELECT {cols} FROM ledger_records ORDER BY seq"),
                        &[],
                    )
                    .await?
            }
        };
        Ok(rows.rows.into_iter().map(row_to_record).collect())
    }

    /// Every record from `seq` on, in chain order.
    pub async fn records_from(&self, seq: i64) -> Result<Vec<Record>> {
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT seq, runbook, run_id, kind, step_id, payload, created_at, prev_hash, hash FROM ledger_records WHERE seq >= {seq} ORDER BY seq"
                ),
                &[],
            )
            .await?;
        Ok(rows.rows.into_iter().map(row_to_record).collect())
    }

    /// Records of one run, in order.
    pub async fn run_records(&self, runbook: &str, run_id: &str) -> Result<Vec<Record>> {
        let d = self.db.dialect();
        let sql = format!(
            "SELECT seq, runbook, run_id, kind, step_id, payload, created_at, prev_hash, hash FROM ledger_records WHERE runbook = {} AND run_id = {} ORDER BY seq",
            d.placeholder(1),
            d.placeholder(2)
        );
        let rows = self
            .db
            .query(&sql, &[Value::from(runbook), Value::from(run_id)])
            .await?;
        Ok(rows.rows.into_iter().map(row_to_record).collect())
    }

    /// Does a ledger exist at `url`? A SQLite ledger is looked for on disk without
    /// creating it, so read-only commands leave no `.cutover/ledger.db` behind; a
    /// server ledger is taken to exist (opening it only adds its table).
    pub fn exists(url: &str) -> Result<bool> {
        let dialect = crate::db::dialect_of(url)?;
        if !dialect.sql().is_file() {
            return Ok(true);
        }
        let path = db::sqlite_path(url);
        Ok(path == ":memory:" || Path::new(&path).exists())
    }

    /// Every run of a runbook, oldest first, each replayed from its records.
    pub async fn runs(&self, runbook: &str) -> Result<Vec<RunListing>> {
        // One read of the runbook's records, grouped by run in the order runs started.
        let mut by_run: std::collections::HashMap<String, Vec<Record>> = Default::default();
        let mut order = Vec::new();
        for r in self.records(Some(runbook)).await? {
            if r.kind == "run_started" && !by_run.contains_key(&r.run_id) {
                order.push(r.run_id.clone());
            }
            by_run.entry(r.run_id.clone()).or_default().push(r);
        }
        Ok(order
            .into_iter()
            .filter_map(|id| by_run.remove(&id))
            .map(|recs| RunListing {
                state: RunState::from_records(&recs),
                last_at: recs
                    .last()
                    .map(|r| r.created_at.clone())
                    .unwrap_or_default(),
                records: recs.len(),
            })
            .collect())
    }

    /// The run whose id is or starts with `id` (as `status` prints it: 8 characters).
    /// None when no run matches; an error naming the candidates when several do.
    pub async fn run_by_id(&self, runbook: &str, id: &str) -> Result<Option<RunState>> {
        let ids = self.run_ids(runbook).await?;
        let hits: Vec<&String> = ids.iter().filter(|r| r.starts_with(id)).collect();
        match hits.as_slice() {
            [] => Ok(None),
            [one] => {
                let recs = self.run_records(runbook, one).await?;
                Ok(Some(RunState::from_records(&recs)))
            }
            many => Err(Error::bad_input(format!(
                "run id \"{id}\" matches {} runs of \"{runbook}\" ({}): give more characters",
                many.len(),
                many.iter()
                    .map(|r| &r[..12.min(r.len())])
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    async fn run_ids(&self, runbook: &str) -> Result<Vec<String>> {
        let d = self.db.dialect();
        let sql = format!(
            "SELECT run_id FROM ledger_records WHERE runbook = {} AND kind = 'run_started' ORDER BY seq",
            d.placeholder(1)
        );
        let rows = self.db.query(&sql, &[Value::from(runbook)]).await?;
        Ok(rows.rows.iter().map(|r| r[0].to_string()).collect())
    }

    /// The most recent run of a runbook, if any.
    pub async fn latest_run(&self, runbook: &str) -> Result<Option<RunState>> {
        let d = self.db.dialect();
        let sql = format!(
            "SELECT run_id FROM ledger_records WHERE runbook = {} AND kind = 'run_started' ORDER BY seq DESC LIMIT 1",
            d.placeholder(1)
        );
        let rows = self.db.query(&sql, &[Value::from(runbook)]).await?;
        let Some(run_id) = rows.scalar().map(|v| v.to_string()) else {
            return Ok(None);
        };
        let recs = self.run_records(runbook, &run_id).await?;
        Ok(Some(RunState::from_records(&recs)))
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}

fn is_conflict(msg: &str) -> bool {
    let m = msg.to_lowercase();
    m.contains("unique")
        || m.contains("duplicate key")
        || m.contains("locked")
        || m.contains("busy")
}

fn row_to_record(r: Vec<Value>) -> Record {
    let s = |i: usize| {
        r.get(i)
            .map(|v| {
                if v.is_null() {
                    String::new()
                } else {
                    v.to_string()
                }
            })
            .unwrap_or_default()
    };
    Record {
        seq: r.first().and_then(Value::as_i64).unwrap_or(0),
        runbook: s(1),
        run_id: s(2),
        kind: s(3),
        step_id: r.get(4).filter(|v| !v.is_null()).map(|v| v.to_string()),
        payload: s(5),
        created_at: s(6),
        prev_hash: s(7),
        hash: s(8),
    }
}
