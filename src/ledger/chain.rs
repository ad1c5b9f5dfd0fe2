//! The hash chain: each record holds the SHA-256 of the previous one; `verify`
//! recomputes it and names any record edited, deleted or reordered.

use super::{GENESIS_HASH, Ledger, Record};
use crate::db::{Statement, Value};
use crate::error::{Error, Result};
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
        // the head before the records: a record appended in between is then past the
        // head (checked by its link), never a head past the records
        let head = self.read_head().await?;
        let records = self.records(None).await?;
        let mut problems = Vec::new();
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut prev_seq = 0i64;
        for r in &records {
            for problem in link_problems(prev_seq, &prev_hash, r) {
                problems.push(ChainProblem {
                    seq: r.seq,
                    kind: r.kind.clone(),
                    step_id: r.step_id.clone(),
                    problem,
                });
            }
            prev_hash = r.hash.clone();
            prev_seq = r.seq;
        }
        problems.extend(self.head_problem(head, &records).await?);
        Ok(VerifyReport {
            records: records.len(),
            ok: problems.is_empty(),
            head_hash: records.last().map(|r| r.hash.clone()),
            problems,
        })
    }

    /// Verify the chain before acting on it (`run`, `approve`, `reject`, `rollback`,
    /// `status`), cheaply: from the point where it was last verified — if the record
    /// there still has the hash it had — or from just before the latest run of
    /// `runbook` began, whichever is earlier, so the run acted on is always checked
    /// record by record. Fails (runtime error, exit 3) naming the first bad record;
    /// `verify` is the full report.
    pub async fn verify_before_acting(&self, runbook: &str) -> Result<()> {
        let d = self.dialect();
        let start = self
            .db()
            .query(
                &format!(
                    "SELECT max(seq) FROM ledger_records WHERE runbook = {} AND kind = 'run_started'",
                    d.placeholder(1)
                ),
                &[Value::from(runbook)],
            )
            .await?
            .scalar()
            .and_then(Value::as_i64);
        let point = self
            .db()
            .query("SELECT seq, hash FROM ledger_verified WHERE id = 1", &[])
            .await?
            .rows
            .first()
            .map(|r| (r[0].as_i64().unwrap_or(0), r[1].to_string()));
        let from = match (&point, start) {
            (Some((seq, _)), Some(start)) => (*seq).min(start - 1),
            (Some((seq, _)), None) => *seq,
            (None, _) => 0,
        }
        .max(0);
        let head = self.read_head().await?;
        let records = self.records_from(from).await?;
        let broken = |problem: String| {
            Err(Error::runtime(format!(
                "the ledger {} is broken: {problem}; cutover does not act on a ledger whose chain does not verify",
                self.redacted_url()
            ))
            .with_hint(
                "`cutover audit verify RUNBOOK` lists every problem; restore the ledger from a copy you trust",
            ))
        };
        let mut rest = records.as_slice();
        let (mut prev_seq, mut prev_hash) = (0, GENESIS_HASH.to_string());
        if from > 0 {
            match records.first() {
                Some(base) if base.seq == from => {
                    if record_hash(base) != base.hash {
                        return broken(format!(
                            "{}: content does not match its hash (edited)",
                            describe(base)
                        ));
                    }
                    (prev_seq, prev_hash) = (base.seq, base.hash.clone());
                    rest = &records[1..];
                }
                _ => return broken(format!("record #{from} is missing (deleted)")),
            }
        }
        if let Some((seq, hash)) = &point
            && let Some(r) = records.iter().find(|r| r.seq == *seq)
            && r.hash != *hash
        {
            return broken(format!(
                "{}: its hash is no longer {} as when the chain was last verified (the ledger was rewritten or replaced)",
                describe(r),
                &hash[..16.min(hash.len())]
            ));
        }
        for r in rest {
            if let Some(problem) = link_problems(prev_seq, &prev_hash, r).into_iter().next() {
                return broken(problem);
            }
            (prev_seq, prev_hash) = (r.seq, r.hash.clone());
        }
        let last = rest.last().or(records.first());
        if let Some(p) = self.head_problem(head, &records).await? {
            return broken(p.problem);
        }
        if let Some(last) = last
            && point.as_ref().map(|(s, _)| *s) != Some(last.seq)
        {
            let save = [
                Statement::new("DELETE FROM ledger_verified"),
                Statement::new(format!(
                    "INSERT INTO ledger_verified (id, seq, hash) VALUES (1, {}, {})",
                    last.seq,
                    d.quote_literal(&last.hash)
                )),
            ];
            // Another process saving the same point at once is harmless.
            let _ = self.db().execute_in_transaction(&save).await;
        }
        Ok(())
    }

    /// The recorded head: (seq, hash) of the last record appended, if any.
    async fn read_head(&self) -> Result<Option<(i64, String)>> {
        let head = self
            .db()
            .query("SELECT seq, hash FROM ledger_head WHERE id = 1", &[])
            .await?;
        Ok(head
            .rows
            .first()
            .map(|h| (h[0].as_i64().unwrap_or(0), h[1].to_string())))
    }

    /// Whether `head`, read before `records` (the chain's end, read after it), names a
    /// record that is there with its hash. Records past the head were appended since it
    /// was read (each checked by its link); records ending before it were deleted.
    async fn head_problem(
        &self,
        head: Option<(i64, String)>,
        records: &[Record],
    ) -> Result<Option<ChainProblem>> {
        // no head yet: the first record may have been appended since it was read
        let head = match (head, records.is_empty()) {
            (None, false) => self.read_head().await?,
            (head, _) => head,
        };
        let problem = |seq: i64, problem: String| {
            Some(ChainProblem {
                seq,
                kind: "head".into(),
                step_id: None,
                problem,
            })
        };
        Ok(match (head, records.last()) {
            (Some((hseq, hhash)), Some(last)) => match records.iter().find(|r| r.seq == hseq) {
                Some(r) if r.hash == hhash => None,
                Some(r) => problem(
                    hseq,
                    format!(
                        "the ledger head names {} with another hash (the record was altered)",
                        describe(r)
                    ),
                ),
                None => problem(
                    hseq,
                    format!(
                        "the ledger head names record #{hseq} but the chain ends at #{} (records at the end were deleted or altered)",
                        last.seq
                    ),
                ),
            },
            (Some((hseq, _)), None) => problem(
                hseq,
                "the ledger head names records but none are left (all deleted)".into(),
            ),
            (None, Some(_)) => problem(0, "the ledger head is missing".into()),
            (None, None) => None,
        })
    }
}

fn describe(r: &Record) -> String {
    format!(
        "record #{} ({}{})",
        r.seq,
        r.kind,
        r.step_id
            .as_ref()
            .map(|s| format!(" {s}"))
            .unwrap_or_default()
    )
}

/// What is wrong with `r` following the record (`prev_seq`, `prev_hash`).
fn link_problems(prev_seq: i64, prev_hash: &str, r: &Record) -> Vec<String> {
    let mut out = Vec::new();
    if r.seq != prev_seq + 1 {
        out.push(format!(
            "{}: records #{}..#{} are missing (deleted)",
            describe(r),
            prev_seq + 1,
            r.seq - 1
        ));
    }
    if record_hash(r) != r.hash {
        out.push(format!(
            "{}: content does not match its hash (edited)",
            describe(r)
        ));
    }
    if r.prev_hash != prev_hash {
        out.push(format!(
            "{}: does not follow the record before it (reordered, or a record before it was deleted or edited)",
            describe(r)
        ));
    }
    out
}
