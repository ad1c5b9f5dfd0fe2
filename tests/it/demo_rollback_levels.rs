//! The demo's three rollback levels as its plan words them (issue 17, item 2), each run
//! by the phase whose failure calls for it (`on_failure`), each ending with evidence
//! that production, or the tables the level restores, equal the pre-cutover state:
//! - a failure in phase 2 (the consolidation refuses a legacy row) → immediate: the
//!   complete backup restored;
//! - a failure in phase 4 (QA fails an integration test) → schema: back to lerg_codes
//!   and the old profiles;
//! - a failure in phase 5 (after lerg_codes was dropped) → data: the table backup
//!   restored, the users reconciled.

use super::support::*;
use std::path::Path;

fn status(ws: &Path) -> serde_json::Value {
    let st = cutover(ws, &["status", RUNBOOK, "--format", "json"]);
    assert_eq!(st.code, 0, "{}", st.all());
    serde_json::from_str(&st.stdout).unwrap()
}

/// The summary of each step of `phase` that must have run, in order, all done.
fn rollback_summaries(v: &serde_json::Value, phase: &str) -> Vec<(String, String)> {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["phase"] == phase)
        .map(|s| {
            assert_eq!(s["state"], "done", "{phase}: step {} {s:#}", s["id"]);
            (
                s["id"].as_str().unwrap().to_string(),
                s["summary"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn run_all(ws: &Path) -> Out {
    cutover(
        ws,
        &["run", RUNBOOK, "--headless", "--approve-as", DEMO_APPROVERS],
    )
}

/// Runs the demo to its integration-test checklist (exit 4).
fn to_the_checklist(ws: &Path) {
    let out = run_all(ws);
    assert_eq!(out.code, 4, "{}", out.all());
    assert!(
        out.stdout
            .contains("stopped at checklist \"integration-tests\""),
        "{}",
        out.all()
    );
}

#[tokio::test]
async fn phase_2_failure_runs_the_immediate_rollback_and_production_equals_its_backup() {
    let (_tmp, ws) = demo_workspace();
    // A legacy row whose category the new enhanced_lerg refuses (its CHECK), in
    // production as it was before the cutover.
    for db in ["production.db", "production-initial.db"] {
        let url = format!("sqlite://{}", ws.join(db).display());
        let conn = cutover::db::connect(&url).await.unwrap();
        conn.execute("INSERT INTO lerg_codes VALUES ('999', 'US', NULL, 'Nowhere', 'unassigned', '2019-03-01T00:00:00Z')")
            .await
            .unwrap();
        conn.close().await;
    }
    let out = run_all(&ws);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stdout
            .contains("step \"consolidate-legacy\" failed: running rollback phase \"immediate-rollback\" (on_failure)"),
        "{}",
        out.all()
    );
    let v = status(&ws);
    assert_eq!(v["status"], "rolled_back", "{v:#}");
    assert_eq!(
        rollback_summaries(&v, "immediate-rollback")
            .into_iter()
            .map(|(id, s)| format!("{id}: {s}"))
            .filter(|l| !l.starts_with("restore-"))
            .collect::<Vec<_>>(),
        vec![
            "schema-as-before: production_before and production: schemas equal",
            "lerg-codes-as-before: lerg_codes: equal (source 430 rows, target 430; only in source 0, only in target 0, changed 0)",
            "users-as-before: profiles: equal (source 11 rows, target 11; only in source 0, only in target 0, changed 0)",
        ]
    );
    let prod = ws.join("production.db");
    assert_eq!(
        scalar(
            &prod,
            "SELECT count(*) FROM sqlite_master WHERE name IN ('enhanced_lerg', 'consolidate_conflicts', 'validation_errors')"
        )
        .await,
        "0",
        "what the cutover created is gone"
    );
    assert_eq!(
        scalar(
            &prod,
            "SELECT count(*) FROM pragma_table_info('profiles') WHERE name LIKE 'billing%' OR name = 'trial_expires_at'"
        )
        .await,
        "0"
    );
    // Nothing was deployed yet: the function versions are as they were.
    assert!(!ws.join("deployments/functions.txt").exists());
    assert_eq!(cutover(&ws, &["audit", "verify", RUNBOOK]).code, 0);
}

#[tokio::test]
async fn phase_4_failure_runs_the_schema_rollback_back_to_lerg_codes_and_the_old_profiles() {
    let (_tmp, ws) = demo_workspace();
    to_the_checklist(&ws);
    let fail = cutover(
        &ws,
        &[
            "checklist",
            RUNBOOK,
            "--item",
            "billing",
            "--fail",
            "--as",
            "quinn",
            "--role",
            "qa",
            "--note",
            "checkout session answers 500",
        ],
    );
    assert_eq!(fail.code, 0, "{}", fail.all());
    let out = run_all(&ws);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout
            .contains("step \"integration-tests\" failed: running rollback phase \"schema-rollback\" (on_failure)"),
        "{}",
        out.all()
    );
    let v = status(&ws);
    assert_eq!(v["status"], "rolled_back", "{v:#}");
    let summaries = rollback_summaries(&v, "schema-rollback");
    let ids: Vec<&str> = summaries.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "undo-schema",
            "remove-new-functions",
            "old-schema-back",
            "legacy-lerg-codes-back",
            "old-profiles-back"
        ]
    );
    assert_eq!(
        summaries[2].1,
        "production_before and production: schemas equal"
    );
    assert_eq!(
        summaries[3].1,
        "lerg_codes: equal (source 429 rows, target 429; only in source 0, only in target 0, changed 0)"
    );
    assert_eq!(
        summaries[4].1,
        "profiles: equal (source 11 rows, target 11; only in source 0, only in target 0, changed 0)"
    );
    let prod = ws.join("production.db");
    assert_eq!(
        scalar(
            &prod,
            "SELECT count(*) FROM sqlite_master WHERE name = 'enhanced_lerg'"
        )
        .await,
        "0"
    );
    // The new functions are removed from the deploy record; the updated ones stay.
    let deployed = std::fs::read_to_string(ws.join("deployments/functions.txt")).unwrap();
    assert_eq!(
        deployed.lines().collect::<Vec<_>>(),
        [
            "check-subscription-status updated lerg-cutover",
            "get-all-users updated lerg-cutover",
            "delete-user-account updated lerg-cutover",
            "ping-status updated lerg-cutover"
        ]
    );
    assert_eq!(cutover(&ws, &["audit", "verify", RUNBOOK]).code, 0);
}

#[tokio::test]
async fn phase_5_failure_runs_the_data_rollback_and_lerg_codes_and_the_users_equal_before() {
    let (_tmp, ws) = demo_workspace();
    // The optimization step fails, after lerg_codes was backed up and dropped.
    std::fs::write(
        ws.join("runbooks/lerg/sql/optimize.sql"),
        "ANALYZE no_such_table;\n",
    )
    .unwrap();
    to_the_checklist(&ws);
    tick_integration_tests(&ws);
    let out = run_all(&ws);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stdout.contains(
            "step \"optimize\" failed: running rollback phase \"data-rollback\" (on_failure)"
        ),
        "{}",
        out.all()
    );
    let v = status(&ws);
    assert_eq!(v["status"], "rolled_back", "{v:#}");
    let summaries = rollback_summaries(&v, "data-rollback");
    assert_eq!(summaries.len(), 3, "{summaries:?}");
    assert!(
        summaries[0]
            .1
            .starts_with("restored table(s) lerg_codes of production"),
        "{summaries:?}"
    );
    assert_eq!(
        summaries[1],
        (
            "lerg-codes-restored".to_string(),
            "lerg_codes: equal (source 429 rows, target 429; only in source 0, only in target 0, changed 0)".to_string()
        )
    );
    assert_eq!(
        summaries[2],
        (
            "users-reconciled".to_string(),
            "profiles: equal (source 11 rows, target 11; only in source 0, only in target 0, changed 0)".to_string()
        )
    );
    let prod = ws.join("production.db");
    // The data level keeps the new schema: enhanced_lerg and the billing columns stay.
    assert_eq!(
        scalar(&prod, "SELECT count(*) FROM enhanced_lerg").await,
        "440"
    );
    assert_eq!(
        scalar(
            &prod,
            "SELECT count(*) FROM profiles WHERE billing_email = email"
        )
        .await,
        "11"
    );
    assert_eq!(cutover(&ws, &["audit", "verify", RUNBOOK]).code, 0);
}
