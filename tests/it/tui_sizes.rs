//! Every view and dialog at the smallest supported terminal (80×24) and at 120×40, as
//! insta snapshots: the runbook before a run, each evidence view (one per kind of
//! evidence), the log and the history (plain and filtered), a finished run, and the
//! checkpoint, rollback, quit and refusal dialogs. (The waiting checkpoint pane, help,
//! filtered steps and data-diff rows, the gauge, side-by-side schema diff and the
//! checklist's tick view and dialog have theirs in tui_shell, tui_views and
//! tui_checklist.) Each scenario also asserts the line a person reads first, at both
//! sizes, so a layout that cuts it fails here.

use crate::tui_support::*;
use crossterm::event::KeyCode;
use cutover::steps::Evidence;
use cutover::tui::state::{ChainStatus, LedgerRow, Level, LogLine};
use cutover::tui::{Action, App, Tab, Theme};
use cutover::vocab::EngineEvent;
use insta::assert_snapshot;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

/// Render `make()` at both sizes, check `wants` on each, snapshot each.
fn at_both_sizes(name: &str, make: impl Fn() -> App, wants: &[&str]) {
    for (w, h) in SIZES {
        let mut a = make();
        let out = render(&mut a, w, h);
        for want in wants {
            assert!(
                out.contains(want),
                "{name} {w}x{h}: {want:?} not shown:\n{out}"
            );
        }
        assert_snapshot!(format!("{name}_{w}x{h}"), out);
    }
}

/// A step of the plan ran (as `kind`) and recorded `ev`; the evidence pane shows it.
fn showing(step: &str, kind: &str, summary: &str, ev: serde_json::Value) -> App {
    let mut a = app(state(), Theme::plain());
    started(&mut a);
    let phase = a.state.phase_of(step).map(|p| p.id.clone()).unwrap();
    start(&mut a, &phase, step, kind);
    finish(&mut a, step, summary, 420);
    evidence(&mut a, step, kind, ev);
    a.select_step(step);
    a.update(Action::ShowTab(Tab::Evidence));
    a
}

#[test]
fn runbook_before_the_run() {
    at_both_sizes(
        "runbook_before_the_run",
        || app(state(), Theme::plain()),
        &["Runbook 0/8", "backup-production", "restore-production"],
    );
}

#[test]
fn schema_diff_unified() {
    at_both_sizes(
        "evidence_schema_diff",
        || {
            showing(
                "schema-diff",
                "diff-schema",
                "4 differences, 1 hazard",
                schema_evidence(),
            )
        },
        &["Evidence: schema diff", "enhanced_lerg"],
    );
}

#[test]
fn data_diff() {
    at_both_sizes(
        "evidence_data_diff",
        || {
            showing(
                "users-diff",
                "diff-data",
                "5 differing rows",
                data_evidence(),
            )
        },
        &["Evidence: data diff", "row 1/5"],
    );
}

#[test]
fn check_result() {
    let ev = || {
        Evidence::from(cutover::steps::check::CheckEvidence {
            target: "production".into(),
            query: "SELECT count(*) FROM enhanced_lerg WHERE category = 'geographic'".into(),
            description: Some("all geographic NPAs present".into()),
            expected: "440".into(),
            actual: "440".into(),
            passed: true,
            detail: Default::default(),
            results: Vec::new(),
        })
        .to_json()
    };
    at_both_sizes(
        "evidence_check",
        || showing("geographic-npas", "check", "440 = 440", ev()),
        &["Evidence: check results", "all geographic NPAs present"],
    );
}

#[test]
fn backup_manifest() {
    at_both_sizes(
        "evidence_backup",
        || {
            showing(
                "backup-production",
                "backup",
                "backed up production.db (48.0 KiB)",
                backup_evidence(),
            )
        },
        &["Evidence: backup manifest", "48.0 KiB"],
    );
}

#[test]
fn restore_proof() {
    let ev = || {
        use cutover::steps::restore::{RestoreEvidence, RestoreProof, TableProof};
        Evidence::from(RestoreEvidence {
            target: "production".into(),
            from: "backup-production".into(),
            file: "../backups/production-3f2a.db".into(),
            sha256: "ef".repeat(32),
            tables: Default::default(),
            proof: Some(RestoreProof {
                engine: cutover::db::Dialect::Sqlite,
                tool: "sqlite backup API".into(),
                manifest_sha256: "ef".repeat(32),
                tables: vec![TableProof {
                    table: "profiles".into(),
                    rows_expected: 11,
                    rows_found: 11,
                    hash_expected: "sha256:ab12".into(),
                    hash_found: Some("sha256:ab12".into()),
                    equal: true,
                }],
                extra_tables: vec!["enhanced_lerg".into()],
                extra_dropped: true,
                extra_objects: vec![],
            }),
        })
        .to_json()
    };
    at_both_sizes(
        "evidence_restore",
        || showing("restore-production", "restore", "restored production", ev()),
        &["1 of 1 table(s) equal to", "enhanced_lerg (dropped)"],
    );
}

#[test]
fn json_fallback() {
    let ev = || {
        Evidence::from(cutover::steps::sql::SqlEvidence {
            target: "production".into(),
            source: "inline SQL".into(),
            statements: 1,
            rows_affected: Some(0),
            already_applied: None,
            sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
            messages: Vec::new(),
        })
        .to_json()
    };
    at_both_sizes(
        "evidence_json",
        || showing("drop-lerg-codes", "sql", "1 statement", ev()),
        &["Evidence: evidence", "\"statements\": 1"],
    );
}

#[test]
fn checkpoint_decisions() {
    let ev = || {
        serde_json::json!({"evidence_hash": "4244d7da05cb295e", "hazards": ["H001-drop-table"], "approvals": [
            {"approver": "carol", "role": "dba", "decision": "reject", "comment": "wait for the backup", "via": "cli", "at": "2026-11-21T08:18:10Z"},
            {"approver": "bob", "role": "dba", "decision": "approve", "comment": "diff reviewed", "via": "tui", "at": "2026-11-21T08:18:17Z"}
        ]})
    };
    at_both_sizes(
        "evidence_checkpoint",
        || showing("plan-approved", "checkpoint", "approved by bob (dba)", ev()),
        &[
            "Evidence: checkpoint decisions",
            "✓ approve bob (dba) via tui",
        ],
    );
}

#[test]
fn sync_check() {
    use cutover::steps::sync_check::{SyncCheckEvidence, SyncCheckTable};
    let table = |t: &str, status: &str, s: u64, d: u64, reasons: &[&str]| SyncCheckTable {
        table: t.into(),
        status: status.into(),
        source_rows: Some(s),
        target_rows: Some(d),
        updated_column: Some("updated_at".into()),
        source_latest: Some(serde_json::json!("2026-11-28 21:40:00")),
        target_latest: Some(serde_json::json!("2026-11-28 21:39:00")),
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
        filter: None,
    };
    let ev = move || {
        Evidence::from(SyncCheckEvidence {
            source: "staging".into(),
            target: "production".into(),
            in_step: false,
            tables: vec![
                table("profiles", "in_step", 11, 11, &[]),
                table(
                    "lerg_codes",
                    "out_of_step",
                    389,
                    388,
                    &["row counts differ: 389 in staging, 388 in production"],
                ),
            ],
            elapsed_ms: 31,
        })
        .to_json()
    };
    at_both_sizes(
        "evidence_sync_check",
        || {
            showing(
                "users-diff",
                "sync-check",
                "1 of 2 tables out of step",
                ev(),
            )
        },
        &["Evidence: sync check", "lerg_codes"],
    );
}

#[test]
fn checklist_completed() {
    use cutover::steps::checklist::{ChecklistEvidence, ItemOutcome, ItemResult};
    let ev = || {
        let item = |id: &str, text: &str, note: &str| ItemResult {
            id: id.into(),
            text: text.into(),
            outcome: ItemOutcome::Pass,
            by: Some("quinn".into()),
            role: Some("qa".into()),
            note: Some(note.into()),
            at: Some("2026-11-28T21:40:00Z".into()),
            via: Some("tui".into()),
        };
        Evidence::from(ChecklistEvidence {
            title: "Go-live checklist".into(),
            passed: 2,
            failed: 0,
            pending: 0,
            items: vec![
                item("tech-login", "A technician can log in", "from the depot"),
                item(
                    "scanner",
                    "The scanner works on mobile",
                    "iPhone 15 and a Pixel",
                ),
            ],
        })
        .to_json()
    };
    at_both_sizes(
        "evidence_checklist_done",
        || {
            showing(
                "geographic-npas",
                "checklist",
                "2 of 2 item(s) passed",
                ev(),
            )
        },
        &["Go-live checklist: 2 passed", "PASS tech-login"],
    );
}

#[test]
fn backfill() {
    let ev = || {
        Evidence::from(cutover::steps::backfill::BackfillEvidence {
            target: "production".into(),
            table: "consumer_orders".into(),
            column: "customer_id".into(),
            source: "customers.id from customers on lower(trim(customers.email)) = lower(trim(consumer_orders.email))".into(),
            rows_filled: 97,
            rows_unfilled: 3,
            success_rate: Some(0.97),
            min_success_rate: Some(0.95),
            batches: 4,
            batch_size: 25,
            resumed_after: None,
            errors_table: "validation_errors".into(),
            errors_csv: None,
            longest_batch_ms: Some(12),
            elapsed_ms: 40,
            already_done: None,
            notes: Vec::new(),
        })
        .to_json()
    };
    at_both_sizes(
        "evidence_backfill",
        || showing("create-enhanced-lerg", "backfill", "97 of 100 filled", ev()),
        &["Evidence: backfill", "97.0% (minimum 95.0%)"],
    );
}

#[test]
fn consolidate() {
    use cutover::steps::consolidate::*;
    let ev = || {
        Evidence::from(ConsolidateEvidence {
            target: "production".into(),
            into: "consumer_orders".into(),
            key: vec!["order_number".into()],
            inserted: 15,
            updated: 2,
            unchanged: 3,
            conflicts: 1,
            sources: vec![SourceMerge {
                table: "orders".into(),
                rows_read: 20,
                inserted: 15,
                updated: 2,
                unchanged: 3,
                conflicts: 1,
                batches: 2,
                resumed_after: None,
            }],
            conflict_rows: vec![Conflict {
                source: "orders".into(),
                key: "CO-0002".into(),
                column: "status".into(),
                target_value: "delivered".into(),
                source_value: "refunded".into(),
                resolution: "orders wins".into(),
            }],
            conflicts_table: "consolidate_conflicts".into(),
            conflicts_csv: None,
            corrections: Vec::new(),
            elapsed_ms: 40,
            notes: Vec::new(),
        })
        .to_json()
    };
    at_both_sizes(
        "evidence_consolidate",
        || {
            showing(
                "create-enhanced-lerg",
                "consolidate",
                "15 inserted, 2 updated",
                ev(),
            )
        },
        &["Evidence: consolidate", "CO-0002"],
    );
}

#[test]
fn command_output() {
    let ev = || {
        Evidence::from(cutover::steps::command::CommandEvidence {
            command: "php artisan migrate --force".into(),
            shell: false,
            cwd: "app".into(),
            env: vec!["DATABASE_URL=${env:PROD_DATABASE_URL}".into()],
            exit_code: Some(0),
            signal: None,
            success_codes: vec![0],
            elapsed_ms: 840,
            stdout: "Migrating: 2026_11_01_add_billing\nMigrated: 2026_11_01_add_billing\n".into(),
            stdout_bytes: 68,
            stdout_truncated: false,
            stderr: String::new(),
            stderr_bytes: 0,
            stderr_truncated: false,
        })
        .to_json()
    };
    at_both_sizes(
        "evidence_command",
        || showing("create-enhanced-lerg", "command", "exit 0", ev()),
        &[
            "Evidence: command output",
            "Migrated: 2026_11_01_add_billing",
        ],
    );
}

fn log_line(level: Level, target: &str, msg: &str) -> LogLine {
    LogLine {
        time: "02:14:07".into(),
        level,
        target: target.into(),
        message: msg.into(),
    }
}

fn with_log() -> App {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    a.update(Action::Log(log_line(
        Level::Warn,
        "cutover::db",
        "slow statement (2.1 s): SELECT count(*) FROM lerg_codes",
    )));
    key(&mut a, KeyCode::Char('2'));
    a
}

#[test]
fn log() {
    at_both_sizes(
        "log",
        with_log,
        &["Log ≥INFO", "cutover::db slow statement"],
    );
}

#[test]
fn log_filtered() {
    at_both_sizes(
        "log_filtered",
        || {
            let mut a = with_log();
            key(&mut a, KeyCode::Char('/'));
            type_text(&mut a, "schema");
            key(&mut a, KeyCode::Enter);
            a
        },
        &["/schema (2 of ", "schema-diff started"],
    );
}

fn with_history() -> App {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    let rows = [
        ("run_started", None, "run 3f2a9c1be0d4 by alice"),
        (
            "step_finished",
            Some("backup-production"),
            "backed up production.db",
        ),
        (
            "step_finished",
            Some("schema-diff"),
            "3 differences, 1 hazard",
        ),
        (
            "awaiting_approval",
            Some("plan-approved"),
            "needs 1 approval from dba",
        ),
        (
            "approval",
            Some("plan-approved"),
            "approve by bob (dba): diff reviewed",
        ),
    ]
    .iter()
    .enumerate()
    .map(|(i, (k, s, d))| LedgerRow {
        seq: i as i64 + 1,
        run_id: "3f2a9c1be0d4".into(),
        created_at: format!("02:1{i}:00"),
        kind: k.to_string(),
        step_id: s.map(str::to_string),
        hash: format!("{:0>64}", format!("a{i}")),
        detail: d.to_string(),
    })
    .collect();
    a.update(Action::History(rows, ChainStatus::Verified { records: 5 }));
    key(&mut a, KeyCode::Char('3'));
    a
}

#[test]
fn history() {
    at_both_sizes(
        "history",
        with_history,
        &["History (5 records)", "✓ chain verified"],
    );
}

#[test]
fn history_filtered() {
    at_both_sizes(
        "history_filtered",
        || {
            let mut a = with_history();
            key(&mut a, KeyCode::Char('/'));
            type_text(&mut a, "bob");
            key(&mut a, KeyCode::Enter);
            a
        },
        &["/bob (1 of 5)", "approval"],
    );
}

#[test]
fn finished_run() {
    at_both_sizes(
        "finished_run",
        || {
            let mut a = app(state(), Theme::plain());
            started(&mut a);
            for (p, s, k) in [
                ("prepare", "backup-production", "backup"),
                ("prepare", "schema-diff", "diff-schema"),
                ("prepare", "plan-approved", "checkpoint"),
                ("migrate", "create-enhanced-lerg", "migrate"),
                ("migrate", "users-diff", "diff-data"),
                ("verify", "geographic-npas", "check"),
                ("verify", "cleanup-approved", "checkpoint"),
                ("verify", "drop-lerg-codes", "sql"),
            ] {
                start(&mut a, p, s, k);
                finish(&mut a, s, "ok", 1_234);
            }
            ev(
                &mut a,
                EngineEvent::RunFinished {
                    run_id: "3f2a9c1be0d4".into(),
                    outcome: "complete".into(),
                    exit_code: 0,
                },
            );
            a
        },
        &["finished: complete", "Runbook 8/8"],
    );
}

#[test]
fn checkpoint_dialog_with_hazards() {
    at_both_sizes(
        "checkpoint_dialog_hazards",
        || {
            let mut a = at_first_checkpoint(Theme::plain(), &["H001-drop-table"]);
            a.update(Action::OpenCheckpoint);
            a
        },
        &[
            "Checkpoint plan-approved",
            "H001-drop-table",
            "[ Approve ]",
            "plan-approved awaits approval 0/1",
        ],
    );
}

#[test]
fn checkpoint_dialog_refusal() {
    at_both_sizes(
        "checkpoint_dialog_refused",
        || {
            let mut a = at_first_checkpoint(Theme::plain(), &[]);
            a.update(Action::OpenCheckpoint);
            type_text(&mut a, "alice");
            for _ in 0..3 {
                key(&mut a, KeyCode::Tab);
            }
            key(&mut a, KeyCode::Enter);
            a
        },
        &["self-approval refused: alice started this run"],
    );
}

#[test]
fn rollback_dialog() {
    at_both_sizes(
        "rollback_dialog",
        || {
            let mut a = at_first_checkpoint(Theme::plain(), &[]);
            key(&mut a, KeyCode::Char('R'));
            a
        },
        &["restore-production", "rollback"],
    );
}

#[test]
fn quit_dialog() {
    at_both_sizes(
        "quit_dialog",
        || {
            let mut a = at_first_checkpoint(Theme::plain(), &[]);
            key(&mut a, KeyCode::Char('q'));
            a
        },
        &["Quitting stops the run here; it stays resumable"],
    );
}
