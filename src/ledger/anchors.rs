//! Anchors: the ledger's head kept outside the ledger — in every target a run changes
//! (and in backup manifests) — so that truncating the ledger, wiping it or swapping in
//! an older copy is caught by comparing the two.

use super::{Anchor, AnchorRow, GENESIS_HASH, Ledger};
use crate::db::Value;
use crate::error::Result;
use std::collections::BTreeMap;

/// The anchors one target holds.
#[derive(Debug, Clone)]
pub struct TargetAnchors {
    /// How to name the target in messages: `target "production" (sqlite://…)`.
    pub label: String,
    pub anchors: Vec<AnchorRow>,
}

fn short(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

impl Ledger {
    /// The ledger's head now, as an anchor for `run_id` of `runbook`: what a target or a
    /// backup manifest keeps so the ledger cannot be cut back or replaced unnoticed.
    pub async fn current_anchor(&self, runbook: &str, run_id: &str) -> Result<Anchor> {
        let head = self
            .db()
            .query("SELECT seq, hash FROM ledger_head WHERE id = 1", &[])
            .await?;
        let (seq, hash) = head
            .rows
            .first()
            .map(|r| (r[0].as_i64().unwrap_or(0), r[1].to_string()))
            .unwrap_or((0, GENESIS_HASH.to_string()));
        Ok(Anchor {
            runbook: runbook.to_string(),
            run_id: run_id.to_string(),
            seq,
            hash,
        })
    }

    /// What the targets' anchors of `runbook` say this ledger lacks: for every run a
    /// target anchored, its newest anchor must name a record this ledger has, with that
    /// hash, and the run must be one the ledger knows. One line per problem, naming the
    /// target, the run and the record.
    pub async fn anchor_problems(
        &self,
        runbook: &str,
        held: &[TargetAnchors],
    ) -> Result<Vec<String>> {
        let d = self.dialect();
        let last = self
            .db()
            .query("SELECT max(seq) FROM ledger_records", &[])
            .await?
            .scalar()
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let mut problems = Vec::new();
        for t in held {
            let mut newest: BTreeMap<&str, &AnchorRow> = BTreeMap::new();
            for a in &t.anchors {
                let e = newest.entry(a.anchor.run_id.as_str()).or_insert(a);
                if a.anchor.seq > e.anchor.seq {
                    *e = a;
                }
            }
            for (run_id, a) in newest {
                let known = self
                    .db()
                    .query(
                        &format!(
                            "SELECT count(*) FROM ledger_records WHERE runbook = {} AND run_id = {}",
                            d.placeholder(1),
                            d.placeholder(2)
                        ),
                        &[Value::from(runbook), Value::from(run_id)],
                    )
                    .await?
                    .scalar()
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
                    > 0;
                let at = self
                    .db()
                    .query(
                        &format!(
                            "SELECT hash FROM ledger_records WHERE seq = {}",
                            d.placeholder(1)
                        ),
                        &[Value::from(a.anchor.seq)],
                    )
                    .await?
                    .scalar()
                    .map(|v| v.to_string());
                let what = format!(
                    "{} holds an anchor of run {} at ledger record #{} (hash {}, {}{}, {})",
                    t.label,
                    short(run_id),
                    a.anchor.seq,
                    short(&a.anchor.hash),
                    a.event,
                    a.step_id
                        .as_deref()
                        .map(|s| format!(" {s}"))
                        .unwrap_or_default(),
                    a.at
                );
                let unknown = if known {
                    String::new()
                } else {
                    format!("; this ledger does not know run {}", short(run_id))
                };
                match at {
                    _ if a.anchor.seq == 0 && a.anchor.hash == GENESIS_HASH && known => {}
                    Some(h) if h == a.anchor.hash && known => {}
                    Some(h) if h == a.anchor.hash => problems.push(format!(
                        "{what}{unknown}: its records were deleted from the ledger"
                    )),
                    Some(h) => problems.push(format!(
                        "{what}, but this ledger's record #{} has hash {}{unknown}: the ledger was replaced by another or older copy, or rewritten",
                        a.anchor.seq,
                        short(&h)
                    )),
                    None if last == 0 => problems.push(format!(
                        "{what}, but this ledger has no records{unknown}: the ledger was wiped or replaced"
                    )),
                    None => problems.push(format!(
                        "{what}, but this ledger ends at record #{last}{unknown}: records were deleted from its end (truncated) or it was replaced by an older copy"
                    )),
                }
            }
        }
        Ok(problems)
    }
}
