//! History you can browse (issue 14, item 3): `cutover runs` lists every run with its
//! outcome, `status --run` and `audit export --run` look at any of them, read-only
//! commands never create a ledger, and an empty environment still records who ran.

use crate::support::{
    DEMO_APPROVERS, RUNBOOK, cutover, cutover_env, demo_workspace, tick_integration_tests,
};
use std::path::Path;

fn json(ws: &Path, args: &[&str]) -> serde_json::Value {
    let out = cutover(ws, args);
    assert_eq!(out.code, 0, "{}", out.all());
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

#[test]
fn runs_lists_a_completed_an_abandoned_and_a_rejected_run_and_status_looks_at_each() {
    let (_tmp, ws) = demo_workspace();
    let ok = |args: &[&str], code: i32| {
        let out = cutover(&ws, args);
        assert_eq!(out.code, code, "{:?}: {}", args, out.all());
    };
    let approvers = ["run", RUNBOOK, "--headless", "--approve-as", DEMO_APPROVERS];
    ok(&approvers, 4);
    tick_integration_tests(&ws);
    ok(&approvers, 0);
    // The next rehearsal starts from a fresh copy of the old production again.
    std::fs::copy(ws.join("production-initial.db"), ws.join("production.db")).unwrap();
    ok(&["run", RUNBOOK, "--headless", "--new"], 4);
    ok(
        &[
            "run",
            RUNBOOK,
            "--headless",
            "--new",
            "--abandon",
            "superseded by a fixed plan",
        ],
        4,
    );
    ok(
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
        0,
    );

    let runs = json(&ws, &["runs", RUNBOOK, "--format", "json"]);
    let runs = runs.as_array().unwrap();
    let outcomes: Vec<&str> = runs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(
        outcomes,
        ["completed", "abandoned", "rejected"],
        "{runs:#?}"
    );
    for r in runs {
        assert_eq!(r["operator"], crate::support::OPERATOR);
        assert!(r["duration_secs"].as_f64().unwrap() >= 0.0, "{r}");
    }

    let text = cutover(&ws, &["runs", RUNBOOK]);
    assert_eq!(text.code, 0, "{}", text.all());
    let first = runs[0]["run_id"].as_str().unwrap();
    assert!(text.stdout.contains(&first[..8]), "{}", text.stdout);
    for word in ["completed", "abandoned", "rejected", "3 run(s)"] {
        assert!(text.stdout.contains(word), "{word}: {}", text.stdout);
    }

    // The latest run is the rejected one; the first can still be looked at whole.
    assert_eq!(
        json(&ws, &["status", RUNBOOK, "--format", "json"])["status"],
        "rejected"
    );
    let old = json(
        &ws,
        &["status", RUNBOOK, "--format", "json", "--run", &first[..8]],
    );
    assert_eq!(old["run_id"], first);
    assert_eq!(old["status"], "completed");
    assert_eq!(old["approvals"][0]["approver"], "olu");

    // An audit export of one run holds that run's records only.
    let out = cutover(&ws, &["audit", "export", RUNBOOK, "--run", &first[..8]]);
    assert_eq!(out.code, 0, "{}", out.all());
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() > 5, "{}", out.stdout);
    assert!(lines.iter().all(|l| l["run_id"] == first), "{}", out.stdout);
    let all = cutover(&ws, &["audit", "export", RUNBOOK]);
    assert!(all.stdout.lines().count() > lines.len());

    let out = cutover(&ws, &["status", RUNBOOK, "--run", "ffffffff"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("cutover runs"), "{}", out.all());
}

#[test]
fn read_only_commands_on_a_runbook_that_never_ran_create_nothing() {
    let (_tmp, ws) = demo_workspace();
    let dot = ws.join("runbooks/.cutover");
    assert!(!dot.exists(), "the workspace starts without a ledger");
    let out = cutover(&ws, &["status", RUNBOOK]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("not started"), "{}", out.stdout);
    let out = cutover(&ws, &["runs", RUNBOOK]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("no runs yet"), "{}", out.stdout);
    assert_eq!(
        json(&ws, &["runs", RUNBOOK, "--format", "json"]),
        serde_json::json!([])
    );
    let out = cutover(&ws, &["audit", "verify", RUNBOOK]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("nothing has been recorded"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("verified"), "{}", out.stdout);
    let out = cutover(&ws, &["audit", "export", RUNBOOK]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "");
    assert!(
        !dot.exists(),
        "a read-only command created {}",
        dot.display()
    );
}

#[test]
fn with_no_user_in_the_environment_the_operator_is_the_login_name_not_unknown() {
    let (_tmp, ws) = demo_workspace();
    let out = cutover_env(
        &ws,
        &["run", RUNBOOK, "--headless"],
        &[("CUTOVER_OPERATOR", ""), ("USER", ""), ("LOGNAME", "")],
    );
    assert_eq!(out.code, 4, "{}", out.all());
    let id = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let me = String::from_utf8(id.stdout).unwrap().trim().to_string();
    assert!(!me.is_empty());
    let st = json(&ws, &["status", RUNBOOK, "--format", "json"]);
    assert_eq!(st["operator"], me.as_str(), "{st:#}");
}
