//! Crash and resume: a run killed with SIGKILL in the middle of the migrate and
//! consolidate phases resumes at the first step not completed, never repeats a
//! completed step's effects, and ends in the same state as an uninterrupted run.
//! A step failing on an SQL error leaves no partial change and names the statement.

use super::support::*;

async fn uninterrupted_state() -> String {
    let (_tmp, ws) = completed_demo();
    dump_sqlite(&ws.join("production.db")).await
}

async fn crash_then_resume(point: &str) -> (String, String) {
    let (_tmp, ws) = demo_workspace();
    let crashed = cutover_env(
        &ws,
        &["run", RUNBOOK, "--headless", "--approve-as", DEMO_APPROVERS],
        &[("CUTOVER_CRASH_AT", point)],
    );
    assert_eq!(
        crashed.code,
        -1,
        "the process must have been killed at {point}: {}",
        crashed.all()
    );
    let resumed = cutover(
        &ws,
        &["run", RUNBOOK, "--headless", "--approve-as", DEMO_APPROVERS],
    );
    assert_eq!(
        resumed.code,
        4,
        "resume after kill at {point} goes on to the integration-test checklist: {}",
        resumed.all()
    );
    assert!(
        resumed.stdout.contains("resuming run"),
        "{}",
        resumed.stdout
    );
    tick_integration_tests(&ws);
    let done = cutover(
        &ws,
        &["run", RUNBOOK, "--headless", "--approve-as", DEMO_APPROVERS],
    );
    assert_eq!(done.code, 0, "{}", done.all());
    let verify = cutover(&ws, &["audit", "verify", RUNBOOK]);
    assert_eq!(verify.code, 0, "{}", verify.all());
    (dump_sqlite(&ws.join("production.db")).await, resumed.stdout)
}

#[tokio::test]
async fn kill_9_during_migrate_and_consolidate_resumes_to_the_same_state() {
    let expected = uninterrupted_state().await;
    assert!(expected.contains("enhanced_lerg"));
    // Between the two migrations: V1 committed, V2 not yet.
    let (state, out) = crash_then_resume("migration:schema:2").await;
    assert_eq!(state, expected, "after kill during migrate");
    assert!(
        out.contains("applied 2 of 3 migration(s): V2__profiles_billing, V3__trial_fixed_date"),
        "V1 must not be applied twice: {out}"
    );
    // The worst moment: consolidation committed on the target, the ledger not told yet.
    let (state, out) = crash_then_resume("after:consolidate-legacy").await;
    assert_eq!(
        state, expected,
        "after kill between commit and ledger record"
    );
    // The consolidation's batch committed with its high-water mark: the resumed step
    // goes on after it and counts each legacy row once.
    assert!(
        out.contains("consolidate-legacy: enhanced_lerg ← lerg_codes: 429 inserted, 0 updated"),
        "{out}"
    );
    // Killed when a copy step had started but done nothing.
    let (state, _) = crash_then_resume("before:add-missing-npas").await;
    assert_eq!(state, expected, "after kill at the start of a step");
}

#[tokio::test]
async fn a_failing_sql_statement_leaves_no_partial_change_and_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let db = cutover::db::connect_with(
        &format!("sqlite://{}", d.join("t.db").display()),
        cutover::db::ConnectOptions {
            create_if_missing: true,
            max_connections: 1,
        },
    )
    .await
    .unwrap();
    db.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)")
        .await
        .unwrap();
    db.execute("INSERT INTO accounts VALUES (1, 100)")
        .await
        .unwrap();
    db.close().await;
    std::fs::write(
        d.join("fix.sql"),
        "UPDATE accounts SET balance = 0;\n\n-- oops\nINSERT INTO acounts VALUES (2, 5);\n",
    )
    .unwrap();
    std::fs::write(
        d.join("rb.toml"),
        "[targets]\nt = \"sqlite://t.db\"\n\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"fix\"\n  kind = \"sql\"\n  target = \"t\"\n  file = \"fix.sql\"\n",
    )
    .unwrap();
    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr.contains("fix.sql:4: statement 2 of 2 failed"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("acounts"), "{}", out.stderr);
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    assert_eq!(
        scalar(&d.join("t.db"), "SELECT balance FROM accounts WHERE id = 1").await,
        "100"
    );
    // Fix the script and re-run: the failed step runs again and completes.
    std::fs::write(
        d.join("fix.sql"),
        "UPDATE accounts SET balance = 0;\nINSERT INTO accounts VALUES (2, 5);\n",
    )
    .unwrap();
    let again = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(
        scalar(&d.join("t.db"), "SELECT sum(balance) FROM accounts").await,
        "5"
    );
}

#[tokio::test]
async fn a_second_concurrent_run_is_refused_naming_the_holder() {
    let (_tmp, ws) = demo_workspace();
    // The first run waits at the checkpoint, holding the lock.
    let mut first = command(
        &ws,
        &[
            "run",
            RUNBOOK,
            "--headless",
            "--wait",
            "--wait-timeout",
            "5",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    wait_for_status(&ws, &[], |v| v["status"] == "awaiting_approval");
    let second = cutover_env(
        &ws,
        &["run", RUNBOOK, "--headless"],
        &[("CUTOVER_OPERATOR", "sam")],
    );
    assert_eq!(second.code, 3, "{}", second.all());
    assert!(
        second.stderr.contains("is locked by another run"),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains(&format!("operator {OPERATOR}")),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains(&format!("pid {}", first.id())),
        "{}",
        second.stderr
    );
    // The waiting run is released by an approval from a third process.
    assert_eq!(
        cutover(
            &ws,
            &[
                "approve",
                RUNBOOK,
                "--checkpoint",
                "plan-approved",
                "--as",
                "olu",
                "--role",
                "ops"
            ]
        )
        .code,
        0
    );
    let status = first.wait().unwrap();
    // It continues to the next checkpoint, waits there until its timeout, and stops with 4.
    assert_eq!(status.code(), Some(4));
    assert_eq!(
        scalar(
            &ws.join("production.db"),
            "SELECT count(*) FROM enhanced_lerg"
        )
        .await,
        "440"
    );
}

#[tokio::test]
async fn ctrl_c_leaves_the_run_resumable_and_the_lock_released() {
    let (_tmp, ws) = demo_workspace();
    let first = command(&ws, &["run", RUNBOOK, "--headless", "--wait"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_status(&ws, &[], |v| v["status"] == "awaiting_approval");
    // SAFETY: sending SIGINT (what Ctrl-C sends) to the child we spawned.
    unsafe {
        libc::kill(first.id() as i32, libc::SIGINT);
    }
    let out: Out = first.wait_with_output().unwrap().into();
    assert_eq!(out.code, 130, "{}", out.all());
    assert!(
        out.stderr.contains("run the same command again to resume"),
        "{}",
        out.stderr
    );
    let v = wait_for_status(&ws, &[], |v| v["status"] == "interrupted");
    assert_eq!(v["steps"][0]["state"], "done");
    // The lock was given back: another operator's run proceeds at once and resumes the same run.
    let again = cutover_env(
        &ws,
        &["run", RUNBOOK, "--headless"],
        &[("CUTOVER_OPERATOR", "sam")],
    );
    assert_eq!(again.code, 4, "{}", again.all());
    assert!(again.stdout.contains("resuming run"), "{}", again.stdout);
}
