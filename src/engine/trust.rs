//! What a run checks and leaves behind so that the ledger can be trusted: the chain
//! verified before acting, the run lock held in the targets it changes (not only in
//! the ledger), and the ledger's head anchored in those targets after every state
//! change, cross-checked before a run starts and by `audit verify`.

use super::run::Engine;
use crate::db::Db;
use crate::db::bookkeeping;
use crate::error::{Error, Result};
use crate::ledger::{Entry, LockGuard, LockReleased, TargetAnchors, TargetLock};
use crate::steps::StepDef;
use std::collections::BTreeSet;

/// The locks a run holds: in the ledger and in each target it changes.
pub struct RunLocks {
    ledger: LockGuard,
    targets: Vec<TargetLock>,
}

/// What `cutover unlock` did.
#[derive(Debug, Default)]
pub struct UnlockReport {
    /// One line per lock released.
    pub released: Vec<String>,
}

impl Engine {
    /// Names of the targets the runbook changes (main and rollback phases).
    pub fn written_targets(&self) -> Vec<String> {
        let mut names = BTreeSet::new();
        for p in self
            .runbook
            .phases
            .iter()
            .chain(self.runbook.rollback.iter())
        {
            for s in &p.steps {
                names.extend(s.step.writes());
            }
        }
        names.into_iter().collect()
    }

    fn label(&self, name: &str) -> String {
        match self.targets.spec(name) {
            Ok(t) => format!("target \"{name}\" ({})", t.redacted),
            Err(_) => format!("target \"{name}\""),
        }
    }

    async fn connections(&self, names: &[String]) -> Result<Vec<(String, Db)>> {
        let mut out = Vec::new();
        for n in names {
            out.push((self.label(n), self.targets.get(n).await?));
        }
        Ok(out)
    }

    /// Verify the ledger's chain (from its last verified point) before acting on it.
    pub async fn verify_ledger(&self) -> Result<()> {
        self.ledger.verify_before_acting(&self.runbook.name).await
    }

    /// Refuse to act when a target this runbook changes holds anchors the ledger does
    /// not match: a run the ledger does not know, or records it no longer has.
    pub(super) async fn check_anchors(&self) -> Result<()> {
        let held = self.held_anchors(&self.written_targets()).await?;
        let problems = self
            .ledger
            .anchor_problems(&self.runbook.name, &held)
            .await?;
        if let Some(first) = problems.first() {
            return Err(Error::runtime(format!(
                "refusing to run over a target whose anchors the ledger {} does not match: {first}{}",
                self.ledger.redacted_url(),
                if problems.len() > 1 {
                    format!(" (and {} more)", problems.len() - 1)
                } else {
                    String::new()
                }
            ))
            .with_hint(format!(
                "use the ledger that ran it (--ledger URL), or `cutover audit verify {}` for the full report",
                self.runbook.path.display()
            )));
        }
        Ok(())
    }

    /// The anchors of this runbook held by each of `names`.
    pub async fn held_anchors(&self, names: &[String]) -> Result<Vec<TargetAnchors>> {
        let mut out = Vec::new();
        for (label, db) in self.connections(names).await? {
            out.push(TargetAnchors {
                anchors: bookkeeping::read_anchors(&db, &self.runbook.name).await?,
                label,
            });
        }
        Ok(out)
    }

    /// Take the run lock in the ledger and in every target the runbook changes.
    pub(super) async fn take_locks(&self, run_id: &str, operator: &str) -> Result<RunLocks> {
        let dbs = self.connections(&self.written_targets()).await?;
        let targets = self
            .ledger
            .acquire_target_locks(&dbs, &self.runbook.name, run_id, operator)
            .await?;
        match self
            .ledger
            .acquire_locks(&self.lock_keys(), &self.runbook.name, run_id, operator)
            .await
        {
            Ok(ledger) => Ok(RunLocks { ledger, targets }),
            Err(e) => {
                self.ledger.release_target_locks(&dbs, run_id).await;
                Err(e)
            }
        }
    }

    /// Give the run's locks back (through fresh connections: a restore may have
    /// replaced a target's file since).
    pub(super) async fn release_locks(&self, locks: RunLocks) {
        self.ledger.release(&locks.ledger).await;
        let names: Vec<String> = self.written_targets();
        match self.connections(&names).await {
            Ok(dbs) => {
                self.ledger
                    .release_target_locks(&dbs, &locks.ledger.run_id)
                    .await
            }
            Err(e) => tracing::warn!(
                "could not release the target locks ({} held): {e}",
                locks.targets.len()
            ),
        }
    }

    /// Give back the locks of `run_id` held by this process (Ctrl-C).
    pub(super) async fn release_run_locks(&self, run_id: &str) {
        let keys = self.lock_keys().into_iter().map(|(k, _)| k).collect();
        self.release_locks(RunLocks {
            ledger: LockGuard {
                run_id: run_id.to_string(),
                keys,
            },
            targets: Vec::new(),
        })
        .await;
    }

    /// After a step or checkpoint is recorded done: keep the ledger's head in the
    /// targets that saw it (a checkpoint passed: every target the runbook changes), and
    /// make sure this run still holds their lock (a restore replaces what a target holds).
    pub(super) async fn anchor_done(&self, run_id: &str, def: &StepDef) -> Result<()> {
        let (names, event) = if def.step.checkpoint().is_some() {
            (self.written_targets(), "checkpoint_passed")
        } else if def.step.kind() == "backup" {
            (def.step.writes(), "backup_taken")
        } else {
            (def.step.writes(), "step_done")
        };
        if names.is_empty() {
            return Ok(());
        }
        let anchor = self
            .ledger
            .current_anchor(&self.runbook.name, run_id)
            .await?;
        let dbs = self.connections(&names).await?;
        let operator = self.ledger_lock_holder(run_id).await;
        self.ledger
            .acquire_target_locks(&dbs, &self.runbook.name, run_id, &operator)
            .await?;
        for (label, db) in &dbs {
            bookkeeping::write_anchor(db, &anchor, event, Some(&def.id))
                .await
                .map_err(|e| e.context(label.clone()))?;
        }
        Ok(())
    }

    async fn ledger_lock_holder(&self, run_id: &str) -> String {
        self.state(run_id)
            .await
            .map(|s| s.operator)
            .unwrap_or_default()
    }

    /// Release the locks of the runbook's targets whose holder is gone, recording each
    /// release in the ledger. Refuses when a holder is provably alive on this host.
    pub async fn unlock(&self, by: &str, reason: &str) -> Result<UnlockReport> {
        if reason.trim().is_empty() {
            return Err(Error::bad_input(
                "say why with --reason \"...\" (it is recorded in the ledger)",
            ));
        }
        let dbs = self.connections(&self.written_targets()).await?;
        let holders = self.ledger.lock_holders(&dbs, &self.lock_keys()).await?;
        if let Some(h) = holders.iter().find(|h| h.alive == Some(true)) {
            return Err(Error::runtime(format!(
                "{} is held by run {} (operator {}), whose process {} is alive on this host: stop that run instead (Ctrl-C leaves it resumable)",
                h.label,
                h.row.run_id.get(..8).unwrap_or(&h.row.run_id),
                h.row.holder,
                h.row.pid
            )));
        }
        let mut report = UnlockReport::default();
        for h in &holders {
            match &h.ledger_key {
                Some(key) => {
                    self.ledger
                        .delete_ledger_lock(key, &h.row.run_id, h.row.pid)
                        .await?
                }
                None => {
                    let db = &dbs
                        .iter()
                        .find(|(l, _)| *l == h.label)
                        .expect("holder of a listed target")
                        .1;
                    bookkeeping::delete_lock(db, &h.row.run_id, Some(h.row.pid)).await?;
                }
            }
            let released = LockReleased {
                by: by.to_string(),
                reason: reason.to_string(),
                lock: h.label.clone(),
                held_by_run: h.row.run_id.clone(),
                holder: h.row.holder.clone(),
                host: h.row.host.clone(),
                pid: h.row.pid,
                since: h.row.acquired_at.clone(),
            };
            self.ledger
                .append_entry::<serde_json::Value>(
                    &self.runbook.name,
                    &h.row.run_id,
                    None,
                    &Entry::LockReleased(released),
                )
                .await?;
            report.released.push(format!(
                "{}: released the lock of run {} (operator {}, pid {} on {}, since {})",
                h.label,
                h.row.run_id.get(..8).unwrap_or(&h.row.run_id),
                h.row.holder,
                h.row.pid,
                h.row.host,
                h.row.acquired_at
            ));
        }
        Ok(report)
    }
}
