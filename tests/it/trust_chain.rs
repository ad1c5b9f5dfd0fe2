//! Trusting the ledger (issue 12, items 1, 2 and 6): nothing acts on a chain that does
//! not verify; the targets keep the ledger's head (anchors) so that a truncated, wiped
//! or older ledger is caught; the run lock lives in the targets, so a second run is
//! refused whatever ledger it uses, and a lock whose holder is gone can be released.

use super::support::*;
use std::path::{Path, PathBuf};

const LEDGER: &str = "runbooks/.cutover/ledger.db";

async fn sqlite(path: &Path) -> cutover::db::Db {
    cutover::db::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
}

/// A demo workspace whose run stopped at the first checkpoint (exit 4).
fn at_first_checkpoint() -> (tempfile::TempDir, PathBuf) {
    let (t, ws) = demo_workspace();
    let out = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(out.code, 4, "{}", out.all());
    (t, ws)
}

fn status_json(ws: &Path) -> serde_json::Value {
    let st = cutover(ws, &["status", RUNBOOK, "--format", "json"]);
    assert_eq!(st.code, 0, "{}", st.all());
    serde_json::from_str(&st.stdout).unwrap()
}

/// The head record's (seq, hash).
async fn head(ws: &Path) -> (i64, String) {
    let db = sqlite(&ws.join(LEDGER)).await;
    let r = db
        .query(
            "SELECT seq, hash FROM ledger_records ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    db.close().await;
    (r.rows[0][0].as_i64().unwrap(), r.rows[0][1].to_string())
}

/// Append a record straight into the ledger's table, as someone with write access to
/// the file would: the next seq, linked to the head, the head moved to it, but a hash
/// that is not the record's (the forger does not get the chain to verify).
async fn forge(ws: &Path, run_id: &str, kind: &str, step: &str, payload: &str) -> i64 {
    let (seq, prev) = head(ws).await;
    let seq = seq + 1;
    let fake = format!("{:064x}", seq * 7919);
    let db = sqlite(&ws.join(LEDGER)).await;
    let sql = format!(
        "INSERT INTO ledger_records (seq, runbook, run_id, kind, step_id, payload, created_at, prev_hash, hash) \
         VALUES ({seq}, 'lerg-cutover', '{run_id}', '{kind}', '{step}', '{payload}', '2026-01-01T00:00:00.000000Z', '{prev}', '{fake}'); \
         DELETE FROM ledger_head; INSERT INTO ledger_head (id, seq, hash) VALUES (1, {seq}, '{fake}');"
    );
    db.execute_in_transaction(&cutover::db::split_statements(&sql))
        .await
        .unwrap();
    db.close().await;
    seq
}

fn approve(ws: &Path, who: &str) -> Out {
    cutover(
        ws,
        &[
            "approve",
            RUNBOOK,
            "--checkpoint",
            "plan-approved",
            "--as",
            who,
            "--role",
            "ops",
        ],
    )
}

/// `run`, `approve` and `status` all refuse with exit 3 naming `want`; the migration
/// after the checkpoint did not run.
async fn refused_everywhere(ws: &Path, want: &str) {
    let run = cutover(ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(run.code, 3, "run: {}", run.all());
    assert!(
        run.stderr.contains(want),
        "run: expected {want:?} in {}",
        run.stderr
    );
    assert!(run.stderr.contains("is broken"), "{}", run.stderr);
    let ap = approve(ws, "dana");
    assert_eq!(ap.code, 3, "approve: {}", ap.all());
    assert!(
        ap.stderr.contains(want),
        "approve: expected {want:?} in {}",
        ap.stderr
    );
    let st = cutover(ws, &["status", RUNBOOK]);
    assert_eq!(st.code, 3, "status: {}", st.all());
    assert!(st.stderr.contains(want), "status: {}", st.stderr);
    let rb = cutover(
        ws,
        &["rollback", RUNBOOK, "--phase", "full-restore", "--yes"],
    );
    assert_eq!(rb.code, 3, "rollback: {}", rb.all());
    let v = cutover(ws, &["audit", "verify", RUNBOOK]);
    assert_eq!(v.code, 1, "audit verify: {}", v.all());
    assert_eq!(
        scalar(
            &ws.join("production.db"),
            "SELECT count(*) FROM sqlite_master WHERE name = 'enhanced_lerg'"
        )
        .await,
        "0",
        "the migration after the checkpoint must not have run"
    );
}

#[tokio::test]
async fn a_forged_approval_is_refused_by_run_and_approve() {
    let (_t, ws) = at_first_checkpoint();
    let st = status_json(&ws);
    let run_id = st["run_id"].as_str().unwrap().to_string();
    let evidence = st["waiting_for"]["evidence_hash"].as_str().unwrap();
    let payload = format!(
        r#"{{"approver":"mallory","role":"dba","decision":"approve","comment":null,"evidence_hash":"{evidence}","runbook_hash":"","via":"cli"}}"#
    );
    let seq = forge(&ws, &run_id, "approval", "plan-approved", &payload).await;
    refused_everywhere(
        &ws,
        &format!(
            "record #{seq} (approval plan-approved): content does not match its hash (edited)"
        ),
    )
    .await;
}

#[tokio::test]
async fn a_forged_step_record_is_refused_by_run_and_approve() {
    let (_t, ws) = at_first_checkpoint();
    let run_id = status_json(&ws)["run_id"].as_str().unwrap().to_string();
    // "The migration is done": a run trusting this would skip it.
    let payload = r#"{"kind":"migrate","phase":"migrate","summary":"0 applied","evidence":{},"evidence_hash":"x","hazards":[],"elapsed_ms":1}"#;
    let seq = forge(&ws, &run_id, "step_done", "schema", payload).await;
    refused_everywhere(&ws, &format!("record #{seq} (step_done schema)")).await;
}

#[tokio::test]
async fn an_edited_record_is_refused_by_run_and_approve_even_behind_the_verified_point() {
    let (_t, ws) = at_first_checkpoint();
    // `status` verified the chain up to its head and saved that point.
    status_json(&ws);
    let db = sqlite(&ws.join(LEDGER)).await;
    let saved = db
        .query("SELECT seq FROM ledger_verified", &[])
        .await
        .unwrap()
        .scalar()
        .and_then(|v| v.as_i64());
    let (head_seq, _) = head(&ws).await;
    assert_eq!(saved, Some(head_seq), "status saves the verified point");
    // The backup's record (before that point, in the run being acted on) is edited.
    let seq = db
        .query(
            "SELECT seq FROM ledger_records WHERE kind = 'step_done' AND step_id = 'backup-production'",
            &[],
        )
        .await
        .unwrap()
        .scalar()
        .unwrap()
        .as_i64()
        .unwrap();
    db.execute(&format!(
        "UPDATE ledger_records SET payload = replace(payload, '440', '441') WHERE seq = {seq}"
    ))
    .await
    .unwrap();
    db.close().await;
    refused_everywhere(
        &ws,
        &format!(
            "record #{seq} (step_done backup-production): content does not match its hash (edited)"
        ),
    )
    .await;
}

/// A copy of a SQLite file taken consistently (the ledger may be in WAL mode).
async fn snapshot_file(from: &Path, to: &Path) {
    let db = sqlite(from).await;
    db.execute(&format!("VACUUM INTO '{}'", to.display()))
        .await
        .unwrap();
    db.close().await;
}

fn put_back(ws: &Path, copy: &Path) {
    for ext in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(ws.join(format!("{LEDGER}{ext}")));
    }
    std::fs::copy(copy, ws.join(LEDGER)).unwrap();
}

fn verify(ws: &Path) -> Out {
    cutover(ws, &["audit", "verify", RUNBOOK])
}

#[tokio::test]
async fn truncation_wipe_and_an_older_copy_are_caught_by_the_targets_anchors() {
    let (t, ws) = at_first_checkpoint();
    let older = t.path().join("older-ledger.db");
    snapshot_file(&ws.join(LEDGER), &older).await;
    let approvers = ["run", RUNBOOK, "--headless", "--approve-as", DEMO_APPROVERS];
    let at_checklist = cutover(&ws, &approvers);
    assert_eq!(at_checklist.code, 4, "{}", at_checklist.all());
    tick_integration_tests(&ws);
    let done = cutover(&ws, &approvers);
    assert_eq!(done.code, 0, "{}", done.all());
    let ok = verify(&ws);
    assert_eq!(ok.code, 0, "{}", ok.all());
    assert!(
        ok.stdout.contains("anchors: target \"production\"")
            && ok
                .stdout
                .contains("every run's newest anchor matches the ledger"),
        "{}",
        ok.stdout
    );
    let complete = t.path().join("complete-ledger.db");
    snapshot_file(&ws.join(LEDGER), &complete).await;

    // Truncation: the tail is deleted and the head moved back to the new last record,
    // so the chain alone verifies.
    let db = sqlite(&ws.join(LEDGER)).await;
    let cut = db
        .query(
            "SELECT min(seq) FROM ledger_records WHERE kind = 'step_done' AND step_id = 'schema'",
            &[],
        )
        .await
        .unwrap()
        .scalar()
        .unwrap()
        .as_i64()
        .unwrap();
    let sql = format!(
        "DELETE FROM ledger_records WHERE seq >= {cut}; DELETE FROM ledger_head; \
         INSERT INTO ledger_head (id, seq, hash) SELECT 1, seq, hash FROM ledger_records WHERE seq = {};",
        cut - 1
    );
    db.execute_in_transaction(&cutover::db::split_statements(&sql))
        .await
        .unwrap();
    db.close().await;
    let v = verify(&ws);
    assert_eq!(v.code, 1, "{}", v.all());
    assert!(
        !v.stdout.contains("the ledger head"),
        "the chain itself is consistent: {}",
        v.stdout
    );
    assert!(
        v.stdout.contains("target \"production\"")
            && v.stdout
                .contains(&format!("ledger ends at record #{}", cut - 1))
            && v.stdout.contains("truncated"),
        "{}",
        v.stdout
    );

    // Wipe: every record and the head deleted.
    put_back(&ws, &complete);
    let db = sqlite(&ws.join(LEDGER)).await;
    db.execute_in_transaction(&cutover::db::split_statements(
        "DELETE FROM ledger_records; DELETE FROM ledger_head; DELETE FROM ledger_verified;",
    ))
    .await
    .unwrap();
    db.close().await;
    let v = verify(&ws);
    assert_eq!(v.code, 1, "{}", v.all());
    assert!(
        v.stdout.contains("target \"production\"")
            && v.stdout.contains("this ledger has no records")
            && v.stdout.contains("wiped"),
        "{}",
        v.stdout
    );
    // ... and a new run over it is refused before touching anything.
    let backup = the_backup(&ws);
    let backup_bytes = std::fs::read(&backup).unwrap();
    let again = cutover(&ws, &["run", RUNBOOK, "--headless", "--new"]);
    assert_eq!(again.code, 3, "{}", again.all());
    assert!(
        again.stderr.contains("refusing to run over a target")
            && again.stderr.contains("this ledger does not know run"),
        "{}",
        again.stderr
    );
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        backup_bytes,
        "backup untouched"
    );

    // An older copy of the ledger (taken at the first checkpoint) put back in place.
    put_back(&ws, &older);
    let v = verify(&ws);
    assert_eq!(v.code, 1, "{}", v.all());
    assert!(
        v.stdout.contains("target \"production\"") && v.stdout.contains("older copy"),
        "{}",
        v.stdout
    );
    // The complete ledger verifies again: the anchors were not what broke.
    put_back(&ws, &complete);
    assert_eq!(verify(&ws).code, 0);
}

#[tokio::test]
async fn a_new_run_over_a_target_anchored_by_a_run_the_ledger_does_not_know_is_refused() {
    let (t, ws) = completed_demo();
    let other = format!("sqlite://{}", t.path().join("fresh-ledger.db").display());
    let out = cutover(&ws, &["run", RUNBOOK, "--headless", "--ledger", &other]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr.contains("target \"production\"")
            && out.stderr.contains("this ledger does not know run"),
        "{}",
        out.stderr
    );
    // Nothing was recorded as run in the fresh ledger beyond what it had.
    let st = cutover(&ws, &["status", RUNBOOK, "--ledger", &other]);
    assert!(st.stdout.contains("not started"), "{}", st.all());
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

#[tokio::test]
async fn a_second_run_with_another_ledger_is_refused_naming_the_holder() {
    let (t, ws) = demo_workspace();
    let mut first = command(
        &ws,
        &[
            "run",
            RUNBOOK,
            "--headless",
            "--wait",
            "--wait-timeout",
            "60",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    wait_for_status(&ws, &[], |v| v["status"] == "awaiting_approval");
    let other = format!("sqlite://{}", t.path().join("other-ledger.db").display());
    let second = cutover_env(
        &ws,
        &["run", RUNBOOK, "--headless", "--ledger", &other],
        &[("CUTOVER_OPERATOR", "sam")],
    );
    // `unlock` refuses too: the holder is alive on this host.
    let unlock = cutover(&ws, &["unlock", RUNBOOK, "--reason", "testing"]);
    // SAFETY: SIGINT (Ctrl-C) to the child we spawned; it stops resumably.
    unsafe {
        libc::kill(first.id() as i32, libc::SIGINT);
    }
    let _ = first.wait();
    assert_eq!(second.code, 3, "{}", second.all());
    for want in [
        "target \"production\"",
        "is locked by another run",
        &format!("operator {OPERATOR}"),
        &format!("pid {}", first.id()),
        "ledger.db",
    ] {
        assert!(
            second.stderr.contains(want),
            "{want:?} in {}",
            second.stderr
        );
    }
    assert_eq!(unlock.code, 3, "{}", unlock.all());
    assert!(
        unlock.stderr.contains("alive on this host"),
        "{}",
        unlock.stderr
    );
    // The refused run left nothing in the production database it did not take.
    let lock = scalar(
        &ws.join("production.db"),
        "SELECT count(*) FROM cutover_locks",
    )
    .await;
    assert_eq!(lock, "0", "the first run gave its lock back when stopped");
}

async fn plant_lock(ws: &Path, host: &str, pid: i64, proc_start: &str) {
    let db = sqlite(&ws.join("production.db")).await;
    db.execute(&format!(
        "INSERT INTO cutover_locks (lock_key, run_id, runbook, holder, host, pid, proc_start, ledger, acquired_at) \
         VALUES ('run', 'feedfacefeedface', 'lerg-cutover', 'ghost', '{host}', {pid}, '{proc_start}', 'sqlite://elsewhere/ledger.db', '2026-01-01T00:00:00Z')"
    ))
    .await
    .unwrap();
    db.close().await;
}

#[tokio::test]
async fn a_lock_left_on_another_host_is_released_by_unlock_and_recorded() {
    let (_t, ws) = at_first_checkpoint();
    plant_lock(&ws, "build-7", 4242, "99").await;
    let blocked = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(blocked.code, 3, "{}", blocked.all());
    assert!(
        blocked
            .stderr
            .contains("operator ghost, pid 4242 on build-7")
            && blocked.stderr.contains("cutover unlock"),
        "{}",
        blocked.stderr
    );
    let no_reason = cutover(&ws, &["unlock", RUNBOOK]);
    assert_eq!(no_reason.code, 2, "{}", no_reason.all());
    let un = cutover(
        &ws,
        &["unlock", RUNBOOK, "--reason", "build-7 was decommissioned"],
    );
    assert_eq!(un.code, 0, "{}", un.all());
    assert!(
        un.stdout.contains("target \"production\"")
            && un.stdout.contains("released the lock of run feedface"),
        "{}",
        un.stdout
    );
    let export = cutover(&ws, &["audit", "export", RUNBOOK]);
    let rec: serde_json::Value = export
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["kind"] == "lock_released")
        .expect("the release is in the ledger");
    assert_eq!(rec["payload"]["reason"], "build-7 was decommissioned");
    assert_eq!(rec["payload"]["by"], OPERATOR);
    assert_eq!(rec["payload"]["host"], "build-7");
    assert_eq!(verify(&ws).code, 0, "the release is part of the chain");
    let resumed = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(resumed.code, 4, "{}", resumed.all());
    let nothing = cutover(&ws, &["unlock", RUNBOOK, "--reason", "again"]);
    assert_eq!(nothing.code, 0);
    assert!(
        nothing.stdout.contains("no lock is held"),
        "{}",
        nothing.stdout
    );
}

#[tokio::test]
async fn a_lock_held_under_a_reused_pid_is_taken_over() {
    let (_t, ws) = at_first_checkpoint();
    // This host, a live pid (this test process) but not the process that took the
    // lock: its start time differs.
    plant_lock(&ws, &this_host(), std::process::id() as i64, "1").await;
    let resumed = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(resumed.code, 4, "{}", resumed.all());
    assert_eq!(
        scalar(
            &ws.join("production.db"),
            "SELECT count(*) FROM cutover_locks"
        )
        .await,
        "0"
    );
}

/// The bookkeeping tables behave the same on every engine: one lock holder at a time,
/// anchors read back as written.
#[tokio::test]
async fn target_locks_and_anchors_work_on_every_engine() {
    use cutover::db::bookkeeping::{self, Anchor, LockRow};
    for tdb in cutover::testkit::all_engines().await {
        let db = tdb.connect().await;
        let row = |run: &str| LockRow {
            run_id: run.into(),
            runbook: "rb".into(),
            holder: "olga".into(),
            host: "h".into(),
            pid: 7,
            proc_start: "1".into(),
            ledger: "sqlite://l.db".into(),
            acquired_at: "2026-01-01T00:00:00Z".into(),
        };
        assert_eq!(
            bookkeeping::read_lock(&db).await.unwrap(),
            None,
            "{}",
            tdb.url
        );
        assert!(bookkeeping::insert_lock(&db, &row("r1")).await.unwrap());
        assert!(
            !bookkeeping::insert_lock(&db, &row("r2")).await.unwrap(),
            "{}",
            tdb.url
        );
        assert_eq!(bookkeeping::read_lock(&db).await.unwrap(), Some(row("r1")));
        assert_eq!(bookkeeping::delete_lock(&db, "r2", None).await.unwrap(), 0);
        assert_eq!(
            bookkeeping::delete_lock(&db, "r1", Some(7)).await.unwrap(),
            1
        );
        assert!(bookkeeping::insert_lock(&db, &row("r2")).await.unwrap());

        assert!(
            bookkeeping::read_anchors(&db, "rb")
                .await
                .unwrap()
                .is_empty()
        );
        let a = Anchor {
            runbook: "rb".into(),
            run_id: "r2".into(),
            seq: 12,
            hash: "ab".repeat(32),
        };
        bookkeeping::write_anchor(&db, &a, "step_done", Some("s1"))
            .await
            .unwrap();
        let back = bookkeeping::read_anchors(&db, "rb").await.unwrap();
        assert_eq!(back.len(), 1, "{}", tdb.url);
        assert_eq!(back[0].anchor, a);
        assert_eq!(back[0].step_id.as_deref(), Some("s1"));
        assert!(
            bookkeeping::read_anchors(&db, "other")
                .await
                .unwrap()
                .is_empty()
        );
        db.close().await;
    }
}

/// The demo run's backup of production (in the run's own directory under `backups/`).
fn the_backup(ws: &std::path::Path) -> std::path::PathBuf {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.file_name().is_some_and(|n| n == "production-before.db") {
                out.push(p);
            }
        }
    }
    let mut found = Vec::new();
    walk(&ws.join("backups"), &mut found);
    assert_eq!(found.len(), 1, "one backup of production: {found:?}");
    found.remove(0)
}
