//! The ledger's hash chain detects edits, deletions and reorders, naming the record;
//! an approval through a PostgreSQL ledger from another process releases a waiting run.

use super::support::*;

/// Run `tamper` (SQL in one transaction) on a completed demo's ledger, then `audit verify`:
/// it must fail (exit 1) and its report must contain every one of `want`.
async fn tampered_verify_reports(
    tamper: &str,
    want: &[&str],
) -> (tempfile::TempDir, std::path::PathBuf) {
    let (t, ws) = completed_demo();
    let db = ledger_db(&ws).await;
    db.execute_in_transaction(&cutover::db::split_statements(tamper))
        .await
        .unwrap();
    db.close().await;
    let v = cutover(&ws, &["audit", "verify", RUNBOOK]);
    assert_eq!(v.code, 1, "{tamper}: {}", v.all());
    for w in want {
        assert!(
            v.stdout.contains(w),
            "{tamper}: expected {w:?} in {}",
            v.stdout
        );
    }
    (t, ws)
}

async fn ledger_db(ws: &std::path::Path) -> cutover::db::Db {
    cutover::db::connect(&format!(
        "sqlite://{}",
        ws.join("runbooks/.cutover/ledger.db").display()
    ))
    .await
    .unwrap()
}

#[tokio::test]
async fn audit_verify_detects_edit_delete_and_reorder() {
    // Edit: an approval's approver is changed.
    let (_t, ws) = completed_demo();
    let db = ledger_db(&ws).await;
    let seq = db
        .query(
            "SELECT min(seq) FROM ledger_records WHERE kind = 'approval'",
            &[],
        )
        .await
        .unwrap()
        .scalar()
        .unwrap()
        .as_i64()
        .unwrap();
    db.execute(&format!(
        "UPDATE ledger_records SET payload = replace(payload, '\"olu\"', '\"mallory\"') WHERE seq = {seq}"
    ))
    .await
    .unwrap();
    db.close().await;
    let v = cutover(&ws, &["audit", "verify", RUNBOOK]);
    assert_eq!(v.code, 1, "{}", v.all());
    assert!(
        v.stdout.contains(&format!(
            "record #{seq} (approval plan-approved): content does not match its hash (edited)"
        )),
        "{}",
        v.stdout
    );

    // Delete: a step record disappears.
    tampered_verify_reports(
        "DELETE FROM ledger_records WHERE seq = 5",
        &["records #5..#5 are missing (deleted)"],
    )
    .await;
    // Delete the last record: the head catches it.
    tampered_verify_reports(
        "DELETE FROM ledger_records WHERE seq = (SELECT max(seq) FROM ledger_records)",
        &["the ledger head names record"],
    )
    .await;
    // Reorder: two records swap places (their seq numbers are exchanged).
    let (_t, ws) = tampered_verify_reports(
        "UPDATE ledger_records SET seq = -1 WHERE seq = 6; UPDATE ledger_records SET seq = 6 WHERE seq = 7; UPDATE ledger_records SET seq = 7 WHERE seq = -1;",
        &["record #6", "reordered"],
    )
    .await;

    // Export writes every record with its hashes.
    let e = cutover(&ws, &["audit", "export", RUNBOOK, "--format", "jsonl"]);
    assert_eq!(e.code, 0);
    let first: serde_json::Value = serde_json::from_str(e.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "run_started");
    assert_eq!(first["hash"].as_str().unwrap().len(), 64);
}

#[tokio::test]
async fn an_approval_through_a_postgres_ledger_releases_a_waiting_run() {
    let Some(pg) = cutover::testkit::postgres().await else {
        return;
    };
    let (_tmp, ws) = demo_workspace();
    let mut run = command(
        &ws,
        &[
            "run",
            RUNBOOK,
            "--headless",
            "--wait",
            "--wait-timeout",
            "60",
            "--ledger",
            &pg.url,
        ],
    )
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    // A DBA elsewhere: same runbook file, same PostgreSQL ledger, another process.
    // Each checkpoint's owner approves from elsewhere as the run reaches it, and QA
    // ticks the integration tests there.
    for (i, (checkpoint, name, role)) in [
        ("plan-approved", "olu", "ops"),
        ("migration-verified", "dana", "dba"),
        ("functions-tested", "dev", "deploy"),
        ("tests-passed", "quinn", "qa"),
        ("ready-for-production", "lee", "lead"),
    ]
    .into_iter()
    .enumerate()
    {
        if checkpoint == "tests-passed" {
            tick_when_reached(&ws, &pg.url);
        }
        wait_for_status(&ws, &["--ledger", &pg.url], |v| {
            v["waiting_for"]["checkpoint"] == checkpoint
        });
        if i == 0 {
            assert!(
                !ws.join("runbooks/.cutover/ledger.db").exists(),
                "the PostgreSQL ledger was used, not a local file"
            );
        }
        let ap = cutover(
            &ws,
            &[
                "approve",
                RUNBOOK,
                "--checkpoint",
                checkpoint,
                "--as",
                name,
                "--role",
                role,
                "--ledger",
                &pg.url,
            ],
        );
        assert_eq!(ap.code, 0, "{}", ap.all());
    }
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let v = cutover(&ws, &["audit", "verify", "--ledger", &pg.url]);
    assert_eq!(v.code, 0, "{}", v.all());
    let db = pg.connect().await;
    let n = db
        .query(
            "SELECT count(*) FROM ledger_records WHERE kind = 'approval'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(n.scalar().and_then(|v| v.as_i64()), Some(5));
    db.close().await;
}

/// Tick the demo's integration tests pass as quinn (qa) through ledger `url` once the
/// waiting run has reached the checklist (a tick before that is refused).
fn tick_when_reached(ws: &std::path::Path, url: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    for item in ["lerg-integrity", "billing", "user-experience", "frontend"] {
        loop {
            let out = cutover(
                ws,
                &[
                    "checklist",
                    RUNBOOK,
                    "--item",
                    item,
                    "--pass",
                    "--as",
                    "quinn",
                    "--role",
                    "qa",
                    "--ledger",
                    url,
                ],
            );
            if out.code == 0 {
                break;
            }
            assert!(
                out.stderr.contains("has not reached checklist")
                    && std::time::Instant::now() < deadline,
                "{}",
                out.all()
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}
