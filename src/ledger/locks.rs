//! One run at a time per target, recorded in the ledger so that a second `cutover run`
//! (from any machine sharing the ledger) is refused with the name of the holder.
//! A lock left by a process that died on this host (kill -9) is taken over.

use super::Ledger;
use crate::db::{Statement, Value};
use crate::error::{Error, Result};

pub struct LockGuard {
    pub run_id: String,
    pub keys: Vec<String>,
}

fn host() -> String {
    hostname::get()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "unknown-host".into())
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
        let mut taken = Vec::new();
        for (key, label) in keys {
            let mut attempts = 0;
            loop {
                attempts += 1;
                let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                let ins = Statement::new(format!(
                    "INSERT INTO run_locks (lock_key, run_id, runbook, holder, host, pid, acquired_at) VALUES ({}, {}, {}, {}, {}, {pid}, {})",
                    d.quote_literal(key),
                    d.quote_literal(run_id),
                    d.quote_literal(runbook),
                    d.quote_literal(holder),
                    d.quote_literal(&me),
                    d.quote_literal(&now)
                ));
                if self.db().execute_in_transaction(&[ins]).await.is_ok() {
                    taken.push(key.clone());
                    break;
                }
                let sql = format!(
                    "SELECT run_id, runbook, holder, host, pid, acquired_at FROM run_locks WHERE lock_key = {}",
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
                if hrun == run_id && hhost == me && hpid == pid {
                    taken.push(key.clone());
                    break;
                }
                if hhost == me && !pid_alive(hpid) && attempts < 5 {
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
                .with_hint("wait for that run to finish or stop it; a lock left by a crashed process on this host is taken over automatically"));
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
