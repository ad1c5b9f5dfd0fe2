//! The LERG demo end to end through the real binary: headless to exit 0 with approvals,
//! the checks true on production, the ledger verifying, status JSON complete; and the
//! exit-4 / approve-in-another-process / resume path.

use super::support::*;

#[tokio::test]
async fn headless_demo_with_approve_as_completes_and_leaves_production_right() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cutover(
        tmp.path(),
        &[
            "demo",
            "--dir",
            "ws",
            "--headless",
            "--approve-as",
            "dana:dba",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("complete"), "{}", out.stdout);
    let ws = tmp.path().join("ws");
    let prod = ws.join("production.db");
    assert_eq!(
        scalar(
            &prod,
            "SELECT count(*) FROM enhanced_lerg WHERE category <> 'non_geographic'"
        )
        .await,
        "440"
    );
    assert_eq!(scalar(&prod, "SELECT group_concat(category) FROM (SELECT category FROM enhanced_lerg WHERE npa IN ('670','671','684') ORDER BY npa)").await, "pacific,pacific,pacific");
    assert_eq!(
        scalar(
            &prod,
            "SELECT count(*) FROM enhanced_lerg WHERE npa = '438'"
        )
        .await,
        "1"
    );
    assert_eq!(scalar(&prod, "SELECT count(*) FROM profiles").await, "11");
    assert_eq!(
        scalar(&prod, "SELECT email FROM profiles WHERE username = 'jo'").await,
        "jo.o'neil@example.com"
    );
    assert_eq!(
        scalar(
            &prod,
            "SELECT count(*) FROM sqlite_master WHERE name = 'lerg_codes'"
        )
        .await,
        "0",
        "legacy table dropped"
    );
    assert_eq!(
        scalar(&prod, "SELECT billing_plan FROM profiles WHERE id = 3").await,
        "standard"
    );

    let verify = cutover(&ws, &["audit", "verify", RUNBOOK]);
    assert_eq!(verify.code, 0, "{}", verify.all());
    assert!(verify.stdout.contains("chain intact"), "{}", verify.stdout);

    let status = cutover(&ws, &["status", RUNBOOK, "--format", "json"]);
    assert_eq!(status.code, 0, "{}", status.all());
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["status"], "completed");
    for s in v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["rollback"] == false)
    {
        assert_eq!(s["state"], "done", "step {} not done", s["id"]);
        assert!(
            s["evidence_hash"]
                .as_str()
                .map(|h| h.len() == 64)
                .unwrap_or(false),
            "{}",
            s["id"]
        );
    }
    let approvals = v["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 2, "{approvals:?}");
    for a in approvals {
        assert_eq!(a["approver"], "dana");
        assert_eq!(a["role"], "dba");
        assert_eq!(a["via"], "command-line flag");
        assert_eq!(a["stale"], false);
        assert_eq!(a["evidence_hash"].as_str().unwrap().len(), 64);
    }

    // Running again does nothing and says so.
    let again = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        again.stdout.contains("already completed"),
        "{}",
        again.stdout
    );
}

#[tokio::test]
async fn headless_stops_with_exit_4_then_an_approval_from_another_process_lets_it_finish() {
    let (_tmp, ws) = demo_workspace();
    let first = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(first.code, 4, "{}", first.all());
    assert!(
        first
            .stdout
            .contains("cutover approve runbooks/lerg-cutover.toml --checkpoint plan-approved"),
        "{}",
        first.stdout
    );
    // Nothing past the checkpoint happened.
    assert_eq!(
        scalar(
            &ws.join("production.db"),
            "SELECT count(*) FROM sqlite_master WHERE name = 'enhanced_lerg'"
        )
        .await,
        "0"
    );

    let st = cutover(&ws, &["status", RUNBOOK, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(v["status"], "awaiting_approval");
    assert_eq!(v["waiting_for"]["checkpoint"], "plan-approved");

    let ap = cutover(
        &ws,
        &[
            "approve",
            RUNBOOK,
            "--checkpoint",
            "plan-approved",
            "--as",
            "dana",
            "--role",
            "dba",
            "--comment",
            "backup verified",
        ],
    );
    assert_eq!(ap.code, 0, "{}", ap.all());
    let second = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(
        second.code,
        4,
        "stops at the second checkpoint: {}",
        second.all()
    );
    assert!(second.stdout.contains("drop-approved"));
    let ap2 = cutover(
        &ws,
        &[
            "approve",
            RUNBOOK,
            "--checkpoint",
            "drop-approved",
            "--as",
            "ravi",
            "--role",
            "dba",
        ],
    );
    assert_eq!(ap2.code, 0, "{}", ap2.all());
    let third = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(third.code, 0, "{}", third.all());
    let st = cutover(&ws, &["status", RUNBOOK, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    let a = &v["approvals"][0];
    assert_eq!(
        (
            a["approver"].as_str(),
            a["comment"].as_str(),
            a["via"].as_str()
        ),
        (Some("dana"), Some("backup verified"), Some("cli"))
    );
}

#[tokio::test]
async fn self_approval_and_wrong_role_are_refused_and_rejection_stops_the_run() {
    let (_tmp, ws) = demo_workspace();
    assert_eq!(cutover(&ws, &["run", RUNBOOK, "--headless"]).code, 4);
    let me = cutover(
        &ws,
        &[
            "approve",
            RUNBOOK,
            "--checkpoint",
            "plan-approved",
            "--as",
            OPERATOR,
            "--role",
            "dba",
        ],
    );
    assert_eq!(me.code, 2, "{}", me.all());
    assert!(me.stderr.contains("self-approval refused"), "{}", me.stderr);
    let role = cutover(
        &ws,
        &[
            "approve",
            RUNBOOK,
            "--checkpoint",
            "plan-approved",
            "--as",
            "dana",
            "--role",
            "intern",
        ],
    );
    assert_eq!(role.code, 2, "{}", role.all());
    assert!(
        role.stderr.contains("requires one of: dba"),
        "{}",
        role.stderr
    );
    let early = cutover(
        &ws,
        &[
            "approve",
            RUNBOOK,
            "--checkpoint",
            "drop-approved",
            "--as",
            "dana",
            "--role",
            "dba",
        ],
    );
    assert_eq!(early.code, 2, "{}", early.all());
    // Still waiting: neither refused approval counted.
    assert_eq!(cutover(&ws, &["run", RUNBOOK, "--headless"]).code, 4);
    let rej = cutover(
        &ws,
        &[
            "reject",
            RUNBOOK,
            "--checkpoint",
            "plan-approved",
            "--as",
            "dana",
            "--role",
            "dba",
            "--comment",
            "wrong window",
        ],
    );
    assert_eq!(rej.code, 0, "{}", rej.all());
    let run = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("rejected by dana") && run.stderr.contains("wrong window"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn an_approval_goes_stale_when_the_runbook_is_edited() {
    let (_tmp, ws) = demo_workspace();
    assert_eq!(cutover(&ws, &["run", RUNBOOK, "--headless"]).code, 4);
    assert_eq!(
        cutover(
            &ws,
            &[
                "approve",
                RUNBOOK,
                "--checkpoint",
                "plan-approved",
                "--as",
                "dana",
                "--role",
                "dba"
            ]
        )
        .code,
        0
    );
    let path = ws.join(RUNBOOK);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("expect = 440", "expect = 439")).unwrap();
    let run = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(
        run.code,
        4,
        "the approval must not count any more: {}",
        run.all()
    );
    assert_eq!(
        scalar(
            &ws.join("production.db"),
            "SELECT count(*) FROM sqlite_master WHERE name = 'enhanced_lerg'"
        )
        .await,
        "0"
    );
    let st = cutover(&ws, &["status", RUNBOOK, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(v["approvals"][0]["stale"], true, "{}", st.stdout);
    let txt = cutover(&ws, &["status", RUNBOOK]);
    assert!(txt.stdout.contains("STALE"), "{}", txt.stdout);
}
