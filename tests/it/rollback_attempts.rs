//! A rollback is its own attempt in the ledger: resumable after `kill -9`, runnable
//! again after it completed, gated by approvals when the policy says so; and `--new`
//! cannot leave an unfinished run (and its way back) behind without a recorded reason.

use super::rollback_on_failure::{BREAK, assert_equal_to, ledger_records, sqlite_shop};
use super::support::*;

/// `cutover rollback` killed with SIGKILL after its step committed (before the ledger
/// heard of it) resumes to the same end state, without repeating the step.
#[tokio::test]
async fn a_rollback_killed_with_kill_9_resumes_to_the_same_end_state() {
    let (tmp, prod, pre) = sqlite_shop("", "", None).await;
    let dir = tmp.path();
    let r = cutover(dir, &["run", "rb.toml", "--headless"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let killed = cutover_env(
        dir,
        &["rollback", "rb.toml", "--phase", "schema-rollback", "--yes"],
        &[("CUTOVER_CRASH_AT", "after:undo-tier")],
    );
    assert_eq!(killed.code, -1, "killed by SIGKILL:\n{}", killed.all());
    let st = cutover(dir, &["status", "rb.toml", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(
        v["status"], "running",
        "an unfinished rollback: {}",
        st.stdout
    );
    // No --phase: the unfinished attempt is the one resumed.
    let resumed = cutover(dir, &["rollback", "rb.toml", "--yes"]);
    assert_eq!(resumed.code, 0, "{}", resumed.all());
    assert!(
        resumed.stdout.contains("resuming rollback attempt 1"),
        "{}",
        resumed.stdout
    );
    assert!(
        resumed.stdout.contains("already applied"),
        "{}",
        resumed.stdout
    );
    assert_eq!(ledger_records(dir, "rb.toml", "rollback_started").len(), 1);
    // Same end state as an uninterrupted schema rollback: the column is gone, the
    // migrated data stays; the table restore then gives the pre-cutover state.
    let c = cutover(
        dir,
        &[
            "diff",
            "data",
            "--source",
            &pre,
            "--target",
            &prod,
            "--table",
            "customers",
        ],
    );
    assert_eq!(c.code, 0, "{}", c.all());
    let t = cutover(
        dir,
        &["rollback", "rb.toml", "--phase", "table-restore", "--yes"],
    );
    assert_eq!(t.code, 0, "{}", t.all());
    assert_equal_to(dir, &pre, &prod);
}

/// A run killed during its on-failure rollback: `cutover run` continues the rollback,
/// not the forward run.
#[tokio::test]
async fn an_on_failure_rollback_killed_with_kill_9_continues_on_the_next_run() {
    let (tmp, prod, pre) = sqlite_shop(r#"on_failure = "full-restore""#, "", Some(BREAK)).await;
    let dir = tmp.path();
    let killed = cutover_env(
        dir,
        &["run", "rb.toml", "--headless"],
        &[("CUTOVER_CRASH_AT", "before:restore-prod")],
    );
    assert_eq!(killed.code, -1, "{}", killed.all());
    let again = cutover(dir, &["run", "rb.toml", "--headless"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        again.stdout.contains("continuing the rollback"),
        "{}",
        again.stdout
    );
    assert!(
        !again.stdout.contains("-> add-tier"),
        "the forward run is not resumed:\n{}",
        again.stdout
    );
    assert!(again.stdout.contains("rolled back"), "{}", again.stdout);
    assert_equal_to(dir, &pre, &prod);
}

/// A completed rollback runs again as a new attempt (it is not skipped as done).
#[tokio::test]
async fn a_rollback_runs_again_after_it_completed() {
    let (tmp, prod, pre) = sqlite_shop("", "", None).await;
    let dir = tmp.path();
    assert_eq!(cutover(dir, &["run", "rb.toml", "--headless"]).code, 0);
    for round in 1..=2 {
        // Production changes after each rollback: the next one must undo that too.
        let db = cutover::db::connect(&prod).await.unwrap();
        db.execute(&format!(
            "INSERT INTO orders VALUES ({}, 1, 1.00)",
            100 + round
        ))
        .await
        .unwrap();
        db.close().await;
        let r = cutover(
            dir,
            &["rollback", "rb.toml", "--phase", "full-restore", "--yes"],
        );
        assert_eq!(r.code, 0, "round {round}: {}", r.all());
        assert!(
            !r.stdout.contains("already done"),
            "round {round}: {}",
            r.stdout
        );
        assert!(
            r.stdout.contains(&format!("rollback attempt {round}")),
            "{}",
            r.stdout
        );
        assert_equal_to(dir, &pre, &prod);
    }
    let started = ledger_records(dir, "rb.toml", "rollback_started");
    let attempts: Vec<_> = started
        .iter()
        .map(|r| r["payload"]["attempt"].clone())
        .collect();
    assert_eq!(attempts, [1, 2]);
    assert_eq!(cutover(dir, &["audit", "verify", "rb.toml"]).code, 0);
}

/// With `rollback_requires_approval`, a rollback (on demand or on failure) waits with
/// exit 4 and touches nothing until the policy's approvals are recorded.
#[tokio::test]
async fn a_rollback_needing_approval_waits_until_approved() {
    let (tmp, prod, pre) = sqlite_shop(
        "on_failure = \"full-restore\"\nrollback_requires_approval = true",
        "",
        Some(BREAK),
    )
    .await;
    let dir = tmp.path();
    let r = cutover(dir, &["run", "rb.toml", "--headless"]);
    assert_eq!(r.code, 4, "the on-failure rollback waits:\n{}", r.all());
    assert!(
        r.stdout.contains("--checkpoint rollback:full-restore"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("cutover rollback rb.toml --yes"),
        "{}",
        r.stdout
    );
    let c = cutover(
        dir,
        &[
            "diff", "data", "--source", &pre, "--target", &prod, "--table", "orders",
        ],
    );
    assert_eq!(
        c.code,
        1,
        "nothing restored before the approval:\n{}",
        c.all()
    );
    let st = cutover(dir, &["status", "rb.toml", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(v["status"], "awaiting_approval", "{}", st.stdout);
    assert_eq!(v["waiting_for"]["checkpoint"], "rollback:full-restore");
    // Asking again still waits.
    let again = cutover(dir, &["rollback", "rb.toml", "--yes"]);
    assert_eq!(again.code, 4, "{}", again.all());
    let approve = |who: &str| {
        cutover(
            dir,
            &[
                "approve",
                "rb.toml",
                "--checkpoint",
                "rollback:full-restore",
                "--as",
                who,
                "--role",
                "dba",
                "--comment",
                "restore it",
            ],
        )
    };
    let own = approve(OPERATOR);
    assert_eq!(own.code, 2, "self-approval refused:\n{}", own.all());
    let ok = approve("dana");
    assert_eq!(ok.code, 0, "{}", ok.all());
    let done = cutover(dir, &["rollback", "rb.toml", "--yes"]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert!(
        done.stdout.contains("rollback approved by dana (dba)"),
        "{}",
        done.stdout
    );
    assert_equal_to(dir, &pre, &prod);
    // A second rollback is a new attempt and needs its own approval.
    let second = cutover(
        dir,
        &["rollback", "rb.toml", "--phase", "full-restore", "--yes"],
    );
    assert_eq!(second.code, 4, "{}", second.all());
}

/// `--new` while the last run is unfinished is refused (exit 2) unless it is abandoned
/// with a reason, which the ledger records; the abandoned run's backup stays intact.
#[tokio::test]
async fn new_run_over_an_unfinished_one_needs_abandon_and_keeps_its_backup() {
    let (tmp, _prod, _pre) = sqlite_shop("", "", Some(BREAK)).await;
    let dir = tmp.path();
    let first = cutover(dir, &["run", "rb.toml", "--headless"]);
    assert_eq!(first.code, 3, "{}", first.all());
    let st = cutover(dir, &["status", "rb.toml", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    let first_id = v["run_id"].as_str().unwrap().to_string();
    let backup = |v: &serde_json::Value| {
        let s = v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "backup-prod")
            .unwrap();
        (
            s["evidence"]["file"].as_str().unwrap().to_string(),
            s["evidence"]["sha256"].as_str().unwrap().to_string(),
        )
    };
    let (old_file, old_sha) = backup(&v);
    assert!(
        old_file.contains(&first_id),
        "a directory per run: {old_file}"
    );

    let refused = cutover(dir, &["run", "rb.toml", "--headless", "--new"]);
    assert_eq!(refused.code, 2, "{}", refused.all());
    assert!(
        refused.stderr.contains("is unfinished (failed)"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--abandon"), "{}", refused.stderr);
    assert!(ledger_records(dir, "rb.toml", "run_abandoned").is_empty());

    let second = cutover(
        dir,
        &[
            "run",
            "rb.toml",
            "--headless",
            "--new",
            "--abandon",
            "wrong maintenance window",
        ],
    );
    assert_eq!(
        second.code,
        3,
        "the new run ran (and failed at the same step):\n{}",
        second.all()
    );
    let abandoned = ledger_records(dir, "rb.toml", "run_abandoned");
    assert_eq!(abandoned.len(), 1, "{abandoned:?}");
    assert_eq!(abandoned[0]["run_id"], first_id.as_str());
    assert_eq!(
        abandoned[0]["payload"]["reason"],
        "wrong maintenance window"
    );
    assert_eq!(abandoned[0]["payload"]["operator"], OPERATOR);
    let st = cutover(dir, &["status", "rb.toml", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    assert_ne!(v["run_id"], first_id.as_str());
    let (new_file, _) = backup(&v);
    assert_ne!(new_file, old_file);
    // A backup directory's evidence hash is its manifest's (which holds every file's).
    let old = dir.join(&old_file);
    let sealed = if old.is_dir() {
        old.join(cutover::steps::backup::MANIFEST)
    } else {
        old
    };
    let (sha, _) = cutover::steps::backup::file_sha256(&sealed).unwrap();
    assert_eq!(sha, old_sha, "the abandoned run's backup is untouched");
}

#[test]
fn validate_refuses_an_unknown_or_ambiguous_on_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let write = |policy: &str, phase: &str| {
        std::fs::write(
            dir.join("rb.toml"),
            super::rollback_on_failure::shop_runbook("sqlite://prod.db", policy, phase, None),
        )
        .unwrap();
        cutover(dir, &["validate", "rb.toml"])
    };
    let unknown = write(r#"on_failure = "full-restor""#, "");
    assert_eq!(unknown.code, 2, "{}", unknown.all());
    assert!(
        unknown.stderr.contains("rb.toml:9:14: `on_failure` names \"full-restor\", which is not a rollback phase (did you mean \"full-restore\"?)"),
        "{}",
        unknown.stderr
    );
    let per_phase = write("", r#"on_failure = "nope""#);
    assert_eq!(per_phase.code, 2, "{}", per_phase.all());
    assert!(
        per_phase.stderr.contains("rb.toml:"),
        "{}",
        per_phase.stderr
    );
    assert!(
        per_phase.stderr.contains("\"nope\""),
        "{}",
        per_phase.stderr
    );
    let ambiguous = write("rollback_on_failure = true", "");
    assert_eq!(ambiguous.code, 2, "{}", ambiguous.all());
    assert!(
        ambiguous.stderr.contains("rb.toml:9:23: `rollback_on_failure = true` is ambiguous: the runbook has 3 rollback phases (full-restore, schema-rollback, table-restore)"),
        "{}",
        ambiguous.stderr
    );
    let contradictory = write(
        "rollback_on_failure = false\non_failure = \"full-restore\"",
        "",
    );
    assert_eq!(contradictory.code, 2, "{}", contradictory.all());
    let ok = write(r#"on_failure = "full-restore""#, "");
    assert_eq!(ok.code, 0, "{}", ok.all());
}
