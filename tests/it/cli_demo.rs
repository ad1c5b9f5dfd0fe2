//! The LERG demo end to end through the real binary: headless to exit 0 with its five
//! checkpoints approved by the five roles that own them (issue 17), the checks true on
//! production, the ledger verifying, status JSON complete; and the exit-4 /
//! approve-in-another-process / resume path.

use super::support::*;

/// The plan's five checkpoints, the role owning each, and who holds it in the test.
const OWNERS: &[(&str, &str, &str)] = &[
    ("plan-approved", "olu", "ops"),
    ("migration-verified", "dana", "dba"),
    ("functions-tested", "dev", "deploy"),
    ("tests-passed", "quinn", "qa"),
    ("ready-for-production", "lee", "lead"),
];

#[tokio::test]
async fn headless_demo_with_five_owners_completes_and_leaves_production_right() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cutover(
        tmp.path(),
        &[
            "demo",
            "--dir",
            "ws",
            "--headless",
            "--approve-as",
            "olu:ops,dana:dba",
            "--approve-as",
            "dev:deploy",
            "--approve-as",
            "quinn:qa,lee:lead",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("complete"), "{}", out.stdout);
    // The five phases ran in the plan's order.
    let mut at = 0;
    for phase in [
        "== prepare: Phase 1",
        "== migrate: Phase 2",
        "== deploy: Phase 3",
        "== integration: Phase 4",
        "== cleanup: Phase 5",
    ] {
        let i = out.stdout[at..]
            .find(phase)
            .unwrap_or_else(|| panic!("{phase} missing or out of order: {}", out.stdout));
        at += i;
    }
    // The demo says it ticked the integration tests itself, and in whose name.
    assert!(
        out.stdout.contains(
            "the demo has no application to test: quinn (qa) ticks the 4 open item(s) of integration-tests pass"
        ),
        "{}",
        out.stdout
    );
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
    // Profiles mapped to the billing columns, trial dates set (the backfills).
    assert_eq!(
        scalar(
            &prod,
            "SELECT count(*) FROM profiles WHERE billing_email = email AND trial_expires_at = '2025-09-30T00:00:00Z'"
        )
        .await,
        "11"
    );
    // Both backups, both exports and the deploy record are where the runbook says.
    assert_eq!(
        std::fs::read_to_string(ws.join("exports/profiles.csv"))
            .unwrap()
            .lines()
            .count(),
        12,
        "a header and the 11 users"
    );
    assert_eq!(
        std::fs::read_to_string(ws.join("exports/lerg_codes.csv"))
            .unwrap()
            .lines()
            .count(),
        430,
        "a header and the 429 legacy area codes"
    );
    let deployed = std::fs::read_to_string(ws.join("deployments/functions.txt")).unwrap();
    assert_eq!(deployed.lines().count(), 11, "{deployed}");
    assert!(
        deployed.contains("get-npa-location new lerg-cutover"),
        "{deployed}"
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
    let steps = v["steps"].as_array().unwrap();
    for kind in [
        "backup",
        "export-csv",
        "consolidate",
        "backfill",
        "command",
        "checklist",
    ] {
        assert!(
            steps
                .iter()
                .any(|s| s["kind"] == kind && s["state"] == "done"),
            "no {kind} step done: {}",
            status.stdout
        );
    }
    // Each checkpoint approved by the holder of the role that owns its phase.
    let approvals = v["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 5, "{approvals:?}");
    let mut seen: Vec<(&str, &str, &str)> = approvals
        .iter()
        .map(|a| {
            assert_eq!(a["via"], "command-line flag");
            assert_eq!(a["stale"], false);
            assert_eq!(a["evidence_hash"].as_str().unwrap().len(), 64);
            (
                a["checkpoint"].as_str().unwrap(),
                a["approver"].as_str().unwrap(),
                a["role"].as_str().unwrap(),
            )
        })
        .collect();
    let mut want = OWNERS.to_vec();
    seen.sort();
    want.sort();
    assert_eq!(seen, want);
    // The checklist's ticks are quinn's, marked as the demo's doing.
    let ticks = cutover(&ws, &["status", RUNBOOK]);
    assert_eq!(
        ticks.stdout.matches("quinn (qa) 20").count(),
        4,
        "each item ticked by quinn (qa): {}",
        ticks.stdout
    );
    assert_eq!(
        ticks
            .stdout
            .matches("\"ticked by `cutover demo` for quinn: the demo has no application to test\"")
            .count(),
        4,
        "{}",
        ticks.stdout
    );

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
        first.stdout.contains(
            "cutover approve runbooks/lerg-cutover.toml --checkpoint plan-approved --as NAME --role ops"
        ),
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
            "olu",
            "--role",
            "ops",
            "--comment",
            "backups verified",
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
    assert!(
        second
            .stdout
            .contains("--checkpoint migration-verified --as NAME --role dba"),
        "{}",
        second.stdout
    );
    for (checkpoint, name, role) in [
        ("migration-verified", "ravi", "dba"),
        ("functions-tested", "dev", "deploy"),
    ] {
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
            ],
        );
        assert_eq!(ap.code, 0, "{}", ap.all());
        let next = cutover(&ws, &["run", RUNBOOK, "--headless"]);
        assert_eq!(next.code, 4, "{}", next.all());
    }
    // At the integration tests: `cutover run` never ticks them itself.
    let at_checklist = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(at_checklist.code, 4, "{}", at_checklist.all());
    assert!(
        at_checklist
            .stdout
            .contains("stopped at checklist \"integration-tests\": 4 item(s) not ticked yet"),
        "{}",
        at_checklist.stdout
    );
    tick_integration_tests(&ws);
    let rest = cutover(
        &ws,
        &[
            "run",
            RUNBOOK,
            "--headless",
            "--approve-as",
            "quinn:qa,lee:lead",
        ],
    );
    assert_eq!(rest.code, 0, "{}", rest.all());
    let st = cutover(&ws, &["status", RUNBOOK, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    let a = &v["approvals"][0];
    assert_eq!(
        (
            a["approver"].as_str(),
            a["comment"].as_str(),
            a["via"].as_str()
        ),
        (Some("olu"), Some("backups verified"), Some("cli"))
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
            "ops",
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
        role.stderr.contains("requires one of: ops"),
        "{}",
        role.stderr
    );
    let early = cutover(
        &ws,
        &[
            "approve",
            RUNBOOK,
            "--checkpoint",
            "migration-verified",
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
            "olu",
            "--role",
            "ops",
            "--comment",
            "wrong window",
        ],
    );
    assert_eq!(rej.code, 0, "{}", rej.all());
    let run = cutover(&ws, &["run", RUNBOOK, "--headless"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("rejected by olu") && run.stderr.contains("wrong window"),
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
                "olu",
                "--role",
                "ops"
            ]
        )
        .code,
        0
    );
    let path = ws.join(RUNBOOK);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("min_success_rate = 1.0", "min_success_rate = 0.99"),
    )
    .unwrap();
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
