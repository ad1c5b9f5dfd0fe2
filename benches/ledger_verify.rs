//! What verifying the ledger before acting costs: `run`, `approve`, `reject`,
//! `rollback` and `status` each verify the chain from the last verified point (or the
//! latest run's start), while `audit verify` walks all of it. Goal: the check every
//! command pays stays flat as the ledger grows.
//!
//! Run: `cargo bench --bench ledger_verify` (SQLite ledger in a temp dir).
//!
//! A ledger of N records (other runbooks' runs, written in bulk with real hashes)
//! followed by one 30-record run of the runbook acted on. Printed, medians of 7:
//! - incremental: `Ledger::verify_before_acting` in steady state (point saved);
//! - full: `Ledger::verify` (what `audit verify` does for the chain);
//! - floor: SQLite reading every record (`SELECT` of all columns, no hashing) — the
//!   least a full check can cost — and reading only the run's records, the least the
//!   incremental check can cost.

use cutover::ledger::{GENESIS_HASH, Ledger, Record, record_hash};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn time<F, Fut>(mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut v = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        f().await;
        v.push(t.elapsed());
    }
    median(v)
}

async fn bench(n: i64) {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("ledger.db").display());
    let ledger = Ledger::open(&url).await.unwrap();
    let db = cutover::db::connect(&url).await.unwrap();
    let mut prev = GENESIS_HASH.to_string();
    let mut stmts = Vec::new();
    for seq in 1..=n {
        let mut r = Record {
            seq,
            runbook: format!("other-{}", seq / 40),
            run_id: format!("run{:08}", seq / 40),
            kind: "step_done".into(),
            step_id: Some(format!("step-{}", seq % 40)),
            payload: format!(
                r#"{{"kind":"sql","summary":"{seq} row(s)","evidence_hash":"{}"}}"#,
                "e".repeat(64)
            ),
            created_at: "2026-01-01T00:00:00.000000Z".into(),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        r.hash = record_hash(&r);
        stmts.push(cutover::db::Statement::new(format!(
            "INSERT INTO ledger_records (seq, runbook, run_id, kind, step_id, payload, created_at, prev_hash, hash) VALUES ({}, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')",
            r.seq, r.runbook, r.run_id, r.kind, r.step_id.as_deref().unwrap(), r.payload, r.created_at, r.prev_hash, r.hash
        )));
        prev = r.hash;
    }
    stmts.push(cutover::db::Statement::new(format!(
        "INSERT INTO ledger_head (id, seq, hash) VALUES (1, {n}, '{prev}')"
    )));
    db.execute_in_transaction(&stmts).await.unwrap();
    db.close().await;
    let run = "benchrun";
    ledger
        .append(
            "rb",
            run,
            "run_started",
            None,
            &serde_json::json!({"operator": "olga"}),
        )
        .await
        .unwrap();
    for i in 0..29 {
        ledger
            .append(
                "rb",
                run,
                "step_done",
                Some(&format!("s{i}")),
                &serde_json::json!({"summary": "ok"}),
            )
            .await
            .unwrap();
    }
    ledger.verify_before_acting("rb").await.unwrap();
    let inc = time(|| async { ledger.verify_before_acting("rb").await.unwrap() }).await;
    let full = time(|| async {
        assert!(ledger.verify().await.unwrap().ok);
    })
    .await;
    let floor_all = time(|| async {
        ledger.records(None).await.unwrap();
    })
    .await;
    let floor_run = time(|| async {
        ledger.run_records("rb", run).await.unwrap();
    })
    .await;
    println!(
        "{:>8} records | incremental {:>10} (floor: read the run {:>9}, x{:.1}) | full {:>10} (floor: read all {:>10}, x{:.1}) | full/incremental x{:.0}",
        n + 30,
        ms(inc),
        ms(floor_run),
        inc.as_secs_f64() / floor_run.as_secs_f64(),
        ms(full),
        ms(floor_all),
        full.as_secs_f64() / floor_all.as_secs_f64(),
        full.as_secs_f64() / inc.as_secs_f64()
    );
    ledger.close().await;
}

#[tokio::main]
async fn main() {
    for n in [1_000, 10_000, 100_000] {
        bench(n).await;
    }
}
