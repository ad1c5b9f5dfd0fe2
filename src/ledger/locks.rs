//! One run at a time per target. The lock is taken in each target a run changes (a row
//! in its `cutover_locks` table), so a second run against the same database is refused
//! whatever ledger it uses, and in the ledger, so runs sharing a ledger see each other
//! before touching any database. Both name the holder. A lock left by a process that
//! is gone from this host (kill -9, or its pid now belongs to another process) is
//! taken over; one left on another host is released by a person with `cutover unlock`.

use super::Ledger;
use crate::db::bookkeeping::{self, LockRow};
use crate::db::{Db, Statement, Value};
use crate::error::{Error, Result};

const UNLOCK_HINT: &str = "wait for that run to finish or stop it; a lock left by a process that is gone from this host is taken over automatically, and one whose holder is gone from another host is released with `cutover unlock RUNBOOK --reason \"...\"`";

pub struct LockGuard {
    pub run_id: String,
    pub keys: Vec<String>,
}

pub fn host() -> String {
    hostname::get()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "unknown-host".into())
}

/// When process `pid` started (Linux: /proc/PID/stat field 22, clock ticks since boot);
/// empty when unknown.
pub fn proc_start(pid: i64) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 1..];
            rest.split_whitespace().nth(19).map(str::to_string)
        })
        .unwrap_or_default()
}

/// Whether a lock's holder is provably still alive: on this host, its pid exists and,
/// when its start time was recorded, is the same process (not a reused pid).
/// `None` for another host: nothing here can tell.
pub fn holder_alive(host_name: &str, pid: i64, started: &str) -> Option<bool> {
    if host_name != host() {
        return None;
    }
    if !pid_alive(pid) {
        return Some(false);
    }
    Some(started.is_empty() || proc_start(pid).is_empty() || proc_start(pid) == started)
}

fn pid_alive(pid: i64) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

impl Ledger {
    /// Take the locks `keys` (e.g. one per target) for `run_id`, or fail naming the holder.
    pub async fn acquire_locks(
        &self,
        keys: &[(String, String)],
        runbook: &str,
        run_id: &str,
        holder: &str,
    ) -> Result<LockGuard> {
        let d = self.dialect();
        let me = host();
        let pid = std::process::id() as i64;
        let started = proc_start(pid);
        let mut taken = Vec::new();
        for (key, label) in keys {
            let mut attempts = 0;
            loop {
                attempts += 1;
                let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                let ins = Statement::new(format!(
                    "INSERT INTO run_locks (lock_key, run_id, runbook, holder, host, pid, acquired_at, proc_start) VALUES ({}, {}, {}, {}, {}, {pid}, {}, {})",
                    d.quote_literal(key),
                    d.quote_literal(run_id),
                    d.quote_literal(runbook),
                    d.quote_literal(holder),
                    d.quote_literal(&me),
                    d.quote_literal(&now),
                    d.quote_literal(&started)
                ));
                if self.db().execute_in_transaction(&[ins]).await.is_ok() {
                    taken.push(key.clone());
                    break;
                }
                let sql = format!(
                    "SELECT run_id, runbook, holder, host, pid, acquired_at, proc_start FROM run_locks WHERE lock_key = {}",
                    d.placeholder(1)
                );
                let rows = self.db().query(&sql, &[Value::from(key.as_str())]).await?;
                let Some(r) = rows.rows.first() else { continue };
                let (hrun, hrb, hholder, hhost, hpid, hat) = (
                    r[0].to_string(),
                    r[1].to_string(),
                    r[2].to_string(),
                    r[3].to_string(),
                    r[4].as_i64().unwrap_or(0),
                    r[5].to_string(),
                );
                let hstart = r
                    .get(6)
                    .filter(|v| !v.is_null())
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                if hrun == run_id && hhost == me && hpid == pid {
                    taken.push(key.clone());
                    break;
                }
                if holder_alive(&hhost, hpid, &hstart) == Some(false) && attempts < 5 {
                    tracing::warn!(
                        "taking over lock {key} left by dead process {hpid} (run {hrun})"
                    );
                    let del = format!(
                        "DELETE FROM run_locks WHERE lock_key = {} AND pid = {hpid}",
                        d.quote_literal(key)
                    );
                    self.db().execute(&del).await?;
                    continue;
                }
                // Give back what we took before refusing.
                self.release(&LockGuard {
                    run_id: run_id.to_string(),
                    keys: taken.clone(),
                })
                .await;
                return Err(Error::runtime(format!(
                    "{label} is locked by another run: run {hrun} of runbook \"{hrb}\", operator {hholder}, pid {hpid} on {hhost}, since {hat}"
                ))
                .with_hint(UNLOCK_HINT));
            }
        }
        Ok(LockGuard {
            run_id: run_id.to_string(),
            keys: taken,
        })
    }

    pub async fn release(&self, guard: &LockGuard) {
        let d = self.dialect();
        for key in &guard.keys {
            let sql = format!(
                "DELETE FROM run_locks WHERE lock_key = {} AND run_id = {}",
                d.quote_literal(key),
                d.quote_literal(&guard.run_id)
            );
            if let Err(e) = self.db().execute(&sql).await {
                tracing::warn!("could not release lock {key}: {e}");
            }
        }
    }
}

/// A run lock held in one target.
pub struct TargetLock {
    /// `target "production" (sqlite://…)`.
    pub label: String,
    pub db: Db,
}

/// Who holds a lock, and where it is.
#[derive(Debug, Clone)]
pub struct LockHolder {
    pub label: String,
    pub row: LockRow,
    /// Some(true): alive on this host; Some(false): gone; None: another host.
    pub alive: Option<bool>,
    /// For a lock in the ledger, its key; `None` for a target's lock.
    pub ledger_key: Option<String>,
}

fn describe(label: &str, h: &LockRow) -> String {
    format!(
        "{label} is locked by another run: run {} of runbook \"{}\", operator {}, pid {} on {}, since {} (ledger {})",
        h.run_id.get(..8).unwrap_or(&h.run_id),
        h.runbook,
        h.holder,
        h.pid,
        h.host,
        h.acquired_at,
        h.ledger
    )
}

impl Ledger {
    /// Take the run lock in each of `targets` (label, connection) for `run_id`, or fail
    /// naming the holder (giving back what was taken). Re-entrant for this process.
    pub async fn acquire_target_locks(
        &self,
        targets: &[(String, Db)],
        runbook: &str,
        run_id: &str,
        holder: &str,
    ) -> Result<Vec<TargetLock>> {
        let pid = std::process::id() as i64;
        let row = LockRow {
            run_id: run_id.to_string(),
            runbook: runbook.to_string(),
            holder: holder.to_string(),
            host: host(),
            pid,
            proc_start: proc_start(pid),
            ledger: self.redacted_url().to_string(),
            acquired_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        let mut taken: Vec<TargetLock> = Vec::new();
        for (label, db) in targets {
            let mut attempts = 0;
            loop {
                attempts += 1;
                let result = bookkeeping::insert_lock(db, &row).await;
                let refuse = match result {
                    Ok(true) => {
                        taken.push(TargetLock {
                            label: label.clone(),
                            db: db.clone(),
                        });
                        break;
                    }
                    Ok(false) => match bookkeeping::read_lock(db).await {
                        Ok(None) if attempts < 5 => continue,
                        Ok(None) => Error::runtime(format!("{label}: cannot take the run lock")),
                        Ok(Some(h)) if h.run_id == run_id && h.host == row.host && h.pid == pid => {
                            taken.push(TargetLock {
                                label: label.clone(),
                                db: db.clone(),
                            });
                            break;
                        }
                        Ok(Some(h))
                            if holder_alive(&h.host, h.pid, &h.proc_start) == Some(false)
                                && attempts < 5 =>
                        {
                            tracing::warn!(
                                "{label}: taking over the run lock left by process {} (run {}), which is gone",
                                h.pid,
                                h.run_id
                            );
                            if let Err(e) =
                                bookkeeping::delete_lock(db, &h.run_id, Some(h.pid)).await
                            {
                                e
                            } else {
                                continue;
                            }
                        }
                        Ok(Some(h)) => Error::runtime(describe(label, &h)).with_hint(UNLOCK_HINT),
                        Err(e) => e,
                    },
                    Err(e) => e,
                };
                let taken: Vec<(String, Db)> = taken
                    .iter()
                    .map(|t| (t.label.clone(), t.db.clone()))
                    .collect();
                self.release_target_locks(&taken, run_id).await;
                return Err(refuse);
            }
        }
        Ok(taken)
    }

    /// Give back the target locks this process holds for `run_id`.
    pub async fn release_target_locks(&self, targets: &[(String, Db)], run_id: &str) {
        let pid = std::process::id() as i64;
        for (label, db) in targets {
            if let Err(e) = bookkeeping::delete_lock(db, run_id, Some(pid)).await {
                tracing::warn!("could not release the run lock in {label}: {e}");
            }
        }
    }

    /// Who holds each lock of `targets` and of the ledger keys `keys`.
    pub async fn lock_holders(
        &self,
        targets: &[(String, Db)],
        keys: &[(String, String)],
    ) -> Result<Vec<LockHolder>> {
        let mut out = Vec::new();
        for (label, db) in targets {
            if let Some(row) = bookkeeping::read_lock(db).await? {
                out.push(LockHolder {
                    label: label.clone(),
                    alive: holder_alive(&row.host, row.pid, &row.proc_start),
                    row,
                    ledger_key: None,
                });
            }
        }
        let d = self.dialect();
        for (key, label) in keys {
            let sql = format!(
                "SELECT run_id, runbook, holder, host, pid, acquired_at, proc_start FROM run_locks WHERE lock_key = {}",
                d.placeholder(1)
            );
            let rows = self.db().query(&sql, &[Value::from(key.as_str())]).await?;
            if let Some(r) = rows.rows.first() {
                let s = |i: usize| {
                    r.get(i)
                        .filter(|v| !v.is_null())
                        .map(|v| v.to_string())
                        .unwrap_or_default()
                };
                let row = LockRow {
                    run_id: s(0),
                    runbook: s(1),
                    holder: s(2),
                    host: s(3),
                    pid: r.get(4).and_then(Value::as_i64).unwrap_or(0),
                    proc_start: s(6),
                    ledger: self.redacted_url().to_string(),
                    acquired_at: s(5),
                };
                out.push(LockHolder {
                    label: format!("{label} in the ledger (lock {key})"),
                    alive: holder_alive(&row.host, row.pid, &row.proc_start),
                    row,
                    ledger_key: Some(key.clone()),
                });
            }
        }
        Ok(out)
    }

    /// Delete a ledger lock row held by `run_id` / `pid`.
    pub async fn delete_ledger_lock(&self, key: &str, run_id: &str, pid: i64) -> Result<()> {
        let d = self.dialect();
        self.db()
            .execute(&format!(
                "DELETE FROM run_locks WHERE lock_key = {} AND run_id = {} AND pid = {pid}",
                d.quote_literal(key),
                d.quote_literal(run_id)
            ))
            .await?;
        Ok(())
    }
}
