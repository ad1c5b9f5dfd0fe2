//! The evidence view of a backup directory's manifest and of a restore's proof: what a
//! reviewer judges the way back by (tool, consistency, files, per-table hashes; the
//! proof table by table, a differing table marked).

use crate::tui_support::*;
use cutover::db::Dialect;
use cutover::db::backup::TableHash;
use cutover::db::bookkeeping::Anchor;
use cutover::steps::Evidence;
use cutover::steps::backup::{BackupEvidence, BackupManifest, FileSum};
use cutover::steps::restore::{RestoreEvidence, RestoreProof, TableProof};
use cutover::tui::{Tab, Theme};

fn manifest() -> BackupManifest {
    BackupManifest {
        format: "cutover-backup".into(),
        version: 1,
        engine: Dialect::Mysql,
        server_version: "10.11.19-MariaDB".into(),
        tool: "mariadb-dump 10.11 --single-transaction".into(),
        consistency: "FLUSH TABLES WITH READ LOCK held".into(),
        source: "mysql://app:***@db/billing".into(),
        table_backup: false,
        schema: None,
        created_at: "2026-11-28T21:40:00Z".into(),
        tables: [
            (
                "customers".to_string(),
                TableHash {
                    rows: 4,
                    hash: "crc32+crc32c:8589934592:4294967296".into(),
                },
            ),
            (
                "invoices".to_string(),
                TableHash {
                    rows: 1200,
                    hash: "crc32+crc32c:11:22".into(),
                },
            ),
        ]
        .into(),
        sequences: Default::default(),
        files: [(
            "database.sql.zst".to_string(),
            FileSum {
                bytes: 2 * 1024 * 1024,
                sha256: "ab".repeat(32),
            },
        )]
        .into(),
        ledger_anchor: Some(Anchor {
            runbook: "billing".into(),
            run_id: "run-7".into(),
            seq: 42,
            hash: "c0ffee0123456789".repeat(4),
        }),
    }
}

#[test]
fn a_backup_shows_its_manifest_tool_consistency_files_and_hashes() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    a.select_step("backup-production");
    evidence(
        &mut a,
        "backup-production",
        "backup",
        Evidence::from(BackupEvidence {
            target: "production".into(),
            file: ".cutover/backups/run-7/backup-production".into(),
            bytes: 2 * 1024 * 1024,
            sha256: "cd".repeat(32),
            tables: [("customers".to_string(), 4), ("invoices".to_string(), 1200)].into(),
            focus_tables: None,
            manifest: Some(manifest()),
        })
        .to_json(),
    );
    a.tab = Tab::Evidence;
    let out = render(&mut a, 220, 40);
    for want in [
        "MariaDB",
        "mariadb-dump 10.11 --single-transaction",
        "FLUSH TABLES WITH READ LOCK held",
        "mysql://app:***@db/billing",
        "whole database",
        "database.sql.zst",
        "run run-7, record 42 (c0ffee012345)",
        "1,200 rows",
        "hash crc32+crc32c:11:22",
        "hash crc32+crc32c:8589934592:4294967296",
    ] {
        assert!(out.contains(want), "{want:?} not shown:\n{out}");
    }
}

#[test]
fn a_restore_shows_its_proof_table_by_table_and_marks_a_differing_one() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    a.select_step("backup-production");
    let proof = |equal: bool| RestoreProof {
        engine: Dialect::Mysql,
        tool: "mariadb-dump 10.11 --single-transaction".into(),
        manifest_sha256: "ef".repeat(32),
        tables: vec![
            TableProof {
                table: "customers".into(),
                rows_expected: 4,
                rows_found: 4,
                hash_expected: "crc32+crc32c:1:2".into(),
                hash_found: Some("crc32+crc32c:1:2".into()),
                equal: true,
            },
            TableProof {
                table: "invoices".into(),
                rows_expected: 1200,
                rows_found: if equal { 1200 } else { 1199 },
                hash_expected: "crc32+crc32c:11:22".into(),
                hash_found: Some(
                    if equal {
                        "crc32+crc32c:11:22"
                    } else {
                        "crc32+crc32c:9:9"
                    }
                    .into(),
                ),
                equal,
            },
        ],
        extra_tables: vec!["tax_rates".into()],
        extra_dropped: true,
        extra_objects: vec![],
    };
    let restore = |equal: bool| {
        Evidence::from(RestoreEvidence {
            target: "production".into(),
            from: "backup-production".into(),
            file: ".cutover/backups/run-7/backup-production".into(),
            sha256: "ef".repeat(32),
            tables: Default::default(),
            proof: Some(proof(equal)),
        })
        .to_json()
    };
    a.tab = Tab::Evidence;
    evidence(&mut a, "backup-production", "restore", restore(true));
    let out = render(&mut a, 220, 40);
    for want in [
        "2 of 2 table(s) equal to the backup (rows and content hash)",
        "tax_rates (dropped)",
        "Proof (2)",
        "equal  hash crc32+crc32c:11:22",
    ] {
        assert!(out.contains(want), "{want:?} not shown:\n{out}");
    }
    assert!(!out.contains("DIFFERS"), "{out}");

    evidence(&mut a, "backup-production", "restore", restore(false));
    let out = render(&mut a, 220, 40);
    for want in [
        "1 of 2 table(s) equal to the backup (rows and content hash): NOT PROVEN",
        "1,199 rows",
        "DIFFERS  expected 1200 rows, hash crc32+crc32c:11:22; found hash crc32+crc32c:9:9",
    ] {
        assert!(out.contains(want), "{want:?} not shown:\n{out}");
    }
}
