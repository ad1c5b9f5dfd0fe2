//! `--approve-as` with several identities (issue 17, item 4): at each checkpoint only an
//! identity holding a role that checkpoint accepts approves, so one headless command
//! runs a plan whose checkpoints belong to different roles, and the ledger says who
//! approved which.

use crate::support::{RUNBOOK, cutover, demo_workspace};
use std::path::Path;

/// Give the demo's two checkpoints different owners: `dba` for the plan, `lead` for
/// the drop.
fn split_roles(ws: &Path) {
    let p = ws.join(RUNBOOK);
    let mut text = std::fs::read_to_string(&p).unwrap();
    for (title, role) in [
        ("title = \"Plan approved\"\n", "dba"),
        ("title = \"Drop legacy lerg_codes\"\n", "lead"),
    ] {
        assert!(text.contains(title), "the demo runbook changed: {title}");
        text = text.replace(title, &format!("{title}  roles = [\"{role}\"]\n"));
    }
    let old = "roles = [\"dba\"]\nallow_self_approval";
    assert!(text.contains(old), "the demo runbook's policy changed");
    text = text.replace(old, "roles = [\"dba\", \"lead\"]\nallow_self_approval");
    std::fs::write(&p, text).unwrap();
}

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
    split_roles(&ws);
    let out = cutover(
        &ws,
        &[
            "run",
            RUNBOOK,
            "--headless",
            "--approve-as",
            "lee:lead,dana:dba",
            "--approve-as",
            "quinn:qa",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        approvals(&ws),
        vec![
            ("drop-approved".into(), "lee".into(), "lead".into()),
            ("plan-approved".into(), "dana".into(), "dba".into()),
        ]
    );
}

#[test]
fn no_identity_in_the_checkpoints_role_is_refused_and_approves_nothing() {
    let (_tmp, ws) = demo_workspace();
    split_roles(&ws);
    let out = cutover(
        &ws,
        &["run", RUNBOOK, "--headless", "--approve-as", "lee:lead"],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("dba"), "{}", out.all());
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
