//! The demo's three rollback levels on demand: data (table backups), schema, immediate
//! (the complete backup).

use super::support::*;
use std::path::{Path, PathBuf};

/// The file a backup step of the latest run wrote (a directory per run and step).
fn backup_file(ws: &Path, step: &str) -> PathBuf {
    let st = cutover(ws, &["status", RUNBOOK, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    let s = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == step)
        .unwrap_or_else(|| panic!("no step {step}: {}", st.stdout));
    let file = s["evidence"]["file"]
        .as_str()
        .expect("backup file")
        .to_string();
    ws.join("runbooks").join(file)
}

#[tokio::test]
async fn rollback_levels_restore_what_they_promise() {
    let (_t, ws) = completed_demo();
    let prod = ws.join("production.db");
    let backup = backup_file(&ws, "backup-production");
    assert!(
        backup.starts_with(ws.join("runbooks/../backups")),
        "{}",
        backup.display()
    );
    let before = dump_sqlite(&backup).await;

    let no_phase = cutover(&ws, &["rollback", RUNBOOK, "--yes"]);
    assert_eq!(no_phase.code, 2, "{}", no_phase.all());
    assert!(
        no_phase
            .stderr
            .contains("choose one with --phase: immediate-rollback (Immediate rollback: restore the complete backup), schema-rollback"),
        "{}",
        no_phase.stderr
    );
    let no_yes = cutover(&ws, &["rollback", RUNBOOK, "--phase", "immediate-rollback"]);
    assert_eq!(no_yes.code, 2, "{}", no_yes.all());
    assert!(no_yes.stderr.contains("--yes"), "{}", no_yes.stderr);

    // Data level: the dropped legacy table comes back with its 429 rows; the rest stays.
    let t = cutover(
        &ws,
        &["rollback", RUNBOOK, "--phase", "data-rollback", "--yes"],
    );
    assert_eq!(t.code, 0, "{}", t.all());
    assert_eq!(
        scalar(&prod, "SELECT count(*) FROM lerg_codes").await,
        "429"
    );
    assert_eq!(
        scalar(&prod, "SELECT count(*) FROM enhanced_lerg").await,
        "440"
    );

    // Immediate: production is exactly as backed up (checksum verified first).
    let f = cutover(
        &ws,
        &[
            "rollback",
            RUNBOOK,
            "--phase",
            "immediate-rollback",
            "--yes",
        ],
    );
    assert_eq!(f.code, 0, "{}", f.all());
    assert!(f.stdout.contains("sha256 verified"), "{}", f.stdout);
    assert_eq!(dump_sqlite(&prod).await, before);
    let st = cutover(&ws, &["status", RUNBOOK, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(v["status"], "rolled_back");
    assert_eq!(cutover(&ws, &["audit", "verify", RUNBOOK]).code, 0);
}

#[tokio::test]
async fn schema_rollback_keeps_the_users() {
    let (_t, ws) = completed_demo();
    let prod = ws.join("production.db");
    // After the cleanup phase lerg_codes is gone: the data level first brings it back
    // from its final backup, then the schema level undoes the migrations.
    let d = cutover(
        &ws,
        &["rollback", RUNBOOK, "--phase", "data-rollback", "--yes"],
    );
    assert_eq!(d.code, 0, "{}", d.all());
    let s = cutover(
        &ws,
        &["rollback", RUNBOOK, "--phase", "schema-rollback", "--yes"],
    );
    assert_eq!(s.code, 0, "{}", s.all());
    assert!(
        s.stdout
            .contains("old-schema-back: production_before and production: schemas equal"),
        "{}",
        s.stdout
    );
    assert_eq!(
        scalar(
            &prod,
            "SELECT count(*) FROM sqlite_master WHERE name = 'enhanced_lerg'"
        )
        .await,
        "0"
    );
    assert_eq!(
        scalar(
            &prod,
            "SELECT count(*) FROM pragma_table_info('profiles') WHERE name LIKE 'billing%'"
        )
        .await,
        "0"
    );
    assert_eq!(scalar(&prod, "SELECT count(*) FROM profiles").await, "11");
}

#[tokio::test]
async fn restore_refuses_a_backup_whose_checksum_changed() {
    let (_t, ws) = completed_demo();
    let backup = backup_file(&ws, "backup-production");
    let mut bytes = std::fs::read(&backup).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0xff;
    std::fs::write(&backup, bytes).unwrap();
    let f = cutover(
        &ws,
        &[
            "rollback",
            RUNBOOK,
            "--phase",
            "immediate-rollback",
            "--yes",
        ],
    );
    assert_eq!(f.code, 3, "{}", f.all());
    assert!(
        f.stderr.contains("does not match its recorded SHA-256"),
        "{}",
        f.stderr
    );
    assert_eq!(
        scalar(
            &ws.join("production.db"),
            "SELECT count(*) FROM enhanced_lerg"
        )
        .await,
        "440",
        "production untouched"
    );
}
