//! The hash chain: each record holds the SHA-256 of the previous one; `verify`
//! recomputes it and names any record edited, deleted or reordered.

use super::{GENESIS_HASH, Ledger, Record};
use crate::error::Result;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// SHA-256 over the record's fields, each length-prefixed so no field boundary can be forged.
pub fn record_hash(r: &Record) -> String {
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        h.update((b.len() as u64).to_be_bytes());
        h.update(b);
    };
    field(r.prev_hash.as_bytes());
    field(r.seq.to_string().as_bytes());
    field(r.runbook.as_bytes());
    field(r.run_id.as_bytes());
    field(r.kind.as_bytes());
    match &r.step_id {
        Some(s) => field(format!("s{s}").as_bytes()),
        None => field(b"-"),
    }
    field(r.payload.as_bytes());
    field(r.created_at.as_bytes());
    hex::encode(h.finalize())
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChainProblem {
    pub seq: i64,
    pub kind: String,
    pub step_id: Option<String>,
    pub problem: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub records: usize,
    pub ok: bool,
    pub head_hash: Option<String>,
    pub problems: Vec<ChainProblem>,
}

impl Ledger {
    /// Check the whole chain and the recorded head.
    pub async fn verify(&self) -> Result<VerifyReport> {
        let records = self.records(None).await?;
        let mut problems = Vec::new();
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut prev_seq = 0i64;
        let describe = |r: &Record| {
            format!(
                "record #{} ({}{})",
                r.seq,
                r.kind,
                r.step_id
                    .as_ref()
                    .map(|s| format!(" {s}"))
                    .unwrap_or_default()
            )
        };
        for r in &records {
            let mut p = |problem: String| {
                problems.push(ChainProblem {
                    seq: r.seq,
                    kind: r.kind.clone(),
                    step_id: r.step_id.clone(),
                    problem,
                })
            };
            if r.seq != prev_seq + 1 {
                p(format!(
                    "{}: records #{}..#{} are missing (deleted)",
                    describe(r),
                    prev_seq + 1,
                    r.seq - 1
                ));
            }
            if record_hash(r) != r.hash {
                p(format!(
                    "{}: content does not match its hash (edited)",
                    describe(r)
                ));
            }
            if r.prev_hash != prev_hash {
                p(format!(
                    "{}: does not follow the record before it (reordered, or a record before it was deleted or edited)",
                    describe(r)
                ));
            }
            prev_hash = r.hash.clone();
            prev_seq = r.seq;
        }
        let head = self
            .db()
            .query("SELECT seq, hash FROM ledger_head WHERE id = 1", &[])
            .await?;
        match (head.rows.first(), records.last()) {
            (Some(h), Some(last)) => {
                let hseq = h[0].as_i64().unwrap_or(0);
                if hseq != last.seq || h[1].to_string() != last.hash {
                    problems.push(ChainProblem {
                        seq: hseq,
                        kind: "head".into(),
                        step_id: None,
                        problem: format!(
                            "the ledger head names record #{hseq} but the chain ends at #{} (records at the end were deleted or altered)",
                            last.seq
                        ),
                    });
                }
            }
            (Some(h), None) => problems.push(ChainProblem {
                seq: h[0].as_i64().unwrap_or(0),
                kind: "head".into(),
                step_id: None,
                problem: "the ledger head names records but none are left (all deleted)".into(),
            }),
            (None, Some(_)) => problems.push(ChainProblem {
                seq: 0,
                kind: "head".into(),
                step_id: None,
                problem: "the ledger head is missing".into(),
            }),
            (None, None) => {}
        }
        Ok(VerifyReport {
            records: records.len(),
            ok: problems.is_empty(),
            head_hash: records.last().map(|r| r.hash.clone()),
            problems,
        })
    }
}
