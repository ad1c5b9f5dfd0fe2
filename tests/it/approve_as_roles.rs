//! `--approve-as` with several identities (issue 17, item 4): at each checkpoint only an
//! identity holding a role that checkpoint accepts approves, so one headless command
//! runs a plan whose checkpoints belong to different roles, and the ledger says who
//! approved which.

use crate::support::{RUNBOOK, cutover, demo_workspace};
use std::path::Path;

fn approvals(ws: &Path) -> Vec<(String, String, String)> {
    let out = cutover(ws, &["status", RUNBOOK, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut found = Vec::new();
    for a in v["approvals"].as_array().expect("approvals in status JSON") {
        found.push((
            a["checkpoint"].as_str().unwrap().to_string(),
            a["approver"].as_str().unwrap().to_string(),
            a["role"].as_str().unwrap().to_string(),
        ));
    }
    found.sort();
    found
}

#[test]
fn each_checkpoint_is_approved_by_the_identity_holding_its_role() {
    let (_tmp, ws) = demo_workspace();
    // The first three checkpoints belong to ops, dba and deploy; the run then stops at
    // the integration-test checklist, which `cutover run` never ticks itself.
    let out = cutover(
        &ws,
        &[
            "run",
            RUNBOOK,
            "--headless",
            "--approve-as",
            "lee:lead,dev:deploy,dana:dba",
            "--approve-as",
            "quinn:qa,olu:ops",
        ],
    );
    assert_eq!(out.code, 4, "{}", out.all());
    assert!(
        out.stdout
            .contains("stopped at checklist \"integration-tests\""),
        "{}",
        out.all()
    );
    assert_eq!(
        approvals(&ws),
        vec![
            ("functions-tested".into(), "dev".into(), "deploy".into()),
            ("migration-verified".into(), "dana".into(), "dba".into()),
            ("plan-approved".into(), "olu".into(), "ops".into()),
        ]
    );
}

#[test]
fn no_identity_in_the_checkpoints_role_is_refused_and_approves_nothing() {
    let (_tmp, ws) = demo_workspace();
    let out = cutover(
        &ws,
        &[
            "run",
            RUNBOOK,
            "--headless",
            "--approve-as",
            "lee:lead,dana:dba",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("ops"), "{}", out.all());
    assert!(approvals(&ws).is_empty());
}

#[test]
fn a_malformed_identity_is_refused_before_anything_runs() {
    let (_tmp, ws) = demo_workspace();
    let out = cutover(
        &ws,
        &[
            "run",
            RUNBOOK,
            "--headless",
            "--approve-as",
            "dana:dba,quinn",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("NAME:ROLE"), "{}", out.all());
    assert!(out.stderr.contains("quinn"), "{}", out.all());
}
