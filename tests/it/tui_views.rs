//! Snapshot tests of every view and dialog in its key states (insta + TestBackend),
//! including the smallest supported terminal, 80x24.

use crate::tui_support::*;
use crossterm::event::KeyCode;
use cutover::tui::state::{ApprovalRow, ChainStatus, LedgerRow, Level, LogLine, StatusView};
use cutover::tui::{Action, Tab, Theme};
use cutover::vocab::{EngineEvent, StepState};
use insta::assert_snapshot;

#[test]
fn runbook_before_the_run_80x24() {
    let mut a = app(state(), Theme::plain());
    assert_snapshot!(render(&mut a, 80, 24));
}

#[test]
fn long_step_shows_live_gauge_rate_and_eta() {
    let mut a = app(state(), Theme::plain());
    started(&mut a);
    for (s, k) in [
        ("backup-production", "backup"),
        ("schema-diff", "diff-schema"),
    ] {
        start(&mut a, "prepare", s, k);
        finish(&mut a, s, "ok", 900);
    }
    start(&mut a, "prepare", "plan-approved", "checkpoint");
    finish(&mut a, "plan-approved", "approved by bob (dba)", 61_000);
    start(&mut a, "migrate", "create-enhanced-lerg", "migrate");
    finish(
        &mut a,
        "create-enhanced-lerg",
        "2 migrations applied",
        2_300,
    );
    start(&mut a, "migrate", "users-diff", "diff-data");
    ev(
        &mut a,
        EngineEvent::StepProgress {
            step: "users-diff".into(),
            progress: progress(630_000, 1_000_000),
        },
    );
    let small = render(&mut a, 80, 24);
    assert!(small.contains("users-diff 63% · ETA 7.0s"), "{small}");
    assert!(
        small.contains("630,000/1,000,000 rows · 52,100 rows/s"),
        "{small}"
    );
    assert_snapshot!("gauge_80x24", small);
    assert_snapshot!("gauge_120x40", render(&mut a, 120, 40));
}

#[test]
fn waiting_checkpoint_shows_a_banner() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    let out = render(&mut a, 80, 24);
    assert!(out.contains("plan-approved awaits approval 0/1"), "{out}");
    assert_snapshot!(out);
}

#[test]
fn checkpoint_dialog_80x24() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    a.update(Action::OpenCheckpoint);
    assert_snapshot!(render(&mut a, 80, 24));
}

#[test]
fn checkpoint_dialog_with_hazards_and_approvals_so_far() {
    let mut a = at_first_checkpoint(Theme::plain(), &["H001-drop-table"]);
    // Two approvals needed (a hazard raised it); one counts, one went stale.
    a.update(Action::Status(StatusView {
        run_id: Some("3f2a9c1be0d4".into()),
        operator: Some("alice".into()),
        steps: vec![],
        approvals: vec![
            ApprovalRow {
                checkpoint: "plan-approved".into(),
                approver: "carol".into(),
                role: "dba".into(),
                decision: cutover::vocab::Decision::Approve,
                comment: Some("before the runbook edit".into()),
                evidence_hash: Some("00ff".into()),
                stale: true,
            },
            ApprovalRow {
                checkpoint: "plan-approved".into(),
                approver: "bob".into(),
                role: "dba".into(),
                decision: cutover::vocab::Decision::Approve,
                comment: Some("diff reviewed".into()),
                evidence_hash: Some("9b1c".into()),
                stale: false,
            },
        ],
        waiting: Some(need(
            &["H001-drop-table"],
            &[("bob", "dba")],
            2,
            &["dba", "lead"],
        )),
        allow_self_approval: Some(false),
    }));
    a.update(Action::OpenCheckpoint);
    let out = render(&mut a, 100, 34);
    assert!(out.contains("H001-drop-table"), "{out}");
    assert!(
        out.contains("dropping table lerg_codes (389 rows)"),
        "{out}"
    );
    assert!(
        out.contains("still needs 1 more approval, from role lead"),
        "{out}"
    );
    assert!(out.contains("stale carol (dba)"), "{out}");
    assert!(
        out.contains("type plan-approved to approve despite hazards"),
        "{out}"
    );
    assert_snapshot!(out);
    assert_snapshot!("checkpoint_dialog_hazards_80x24", render(&mut a, 80, 24));
}

#[test]
fn self_approval_is_refused_with_the_reason() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    a.update(Action::OpenCheckpoint);
    type_text(&mut a, "alice");
    key(&mut a, KeyCode::Tab); // role (prefilled dba)
    key(&mut a, KeyCode::Tab); // comment
    type_text(&mut a, "lgtm");
    key(&mut a, KeyCode::Tab); // Approve
    key(&mut a, KeyCode::Enter);
    let out = render(&mut a, 80, 24);
    assert!(
        out.contains("self-approval refused: alice started this run"),
        "{out}"
    );
    assert_snapshot!(out);
}

#[test]
fn schema_diff_unified_and_side_by_side() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    // The runbook follows the waiting checkpoint; one step up is the schema diff.
    key(&mut a, KeyCode::Char('k'));
    key(&mut a, KeyCode::Enter); // focus evidence
    let unified = render(&mut a, 120, 40);
    assert!(unified.contains("+  billing_plan TEXT,"), "{unified}");
    assert!(unified.contains("-CREATE TABLE lerg_codes ("), "{unified}");
    assert_snapshot!("schema_diff_unified_120x40", unified);
    key(&mut a, KeyCode::Char('v'));
    let side = render(&mut a, 120, 40);
    assert!(side.contains("│"), "{side}");
    assert_snapshot!("schema_diff_side_by_side_120x40", side);
    assert_snapshot!("schema_diff_side_by_side_80x24", render(&mut a, 80, 24));
}

#[test]
fn changed_words_are_highlighted_inside_changed_lines() {
    let mut a = at_first_checkpoint(Theme::colored(), &[]);
    a.select_step("schema-diff");
    a.tab = Tab::Evidence;
    let buf = buffer(&mut a, 120, 40);
    // Find "enhanced_lerg" on the added line: emphasized (reversed); "TABLE" on the same line is not.
    let lines: Vec<String> = (0..40)
        .map(|y| (0..120).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect();
    let y = lines
        .iter()
        .position(|l| l.contains("+CREATE TABLE enhanced_lerg"))
        .expect("added line") as u16;
    let x = lines[y as usize].find("enhanced_lerg").unwrap() as u16;
    // Column index in chars (the line is ASCII left of it apart from borders).
    let xc = lines[y as usize][..x as usize].chars().count() as u16;
    let word = buf[(xc, y)].modifier;
    let tx = lines[y as usize][..lines[y as usize].find("TABLE").unwrap()]
        .chars()
        .count() as u16;
    let plain = buf[(tx, y)].modifier;
    assert!(
        word.contains(ratatui::style::Modifier::REVERSED),
        "changed word not emphasized"
    );
    assert!(
        !plain.contains(ratatui::style::Modifier::REVERSED),
        "unchanged word emphasized"
    );
}

#[test]
fn data_diff_summary_columns_and_rows() {
    let mut a = app(state(), Theme::plain());
    started(&mut a);
    start(&mut a, "migrate", "users-diff", "diff-data");
    finish(&mut a, "users-diff", "5 differing rows", 310);
    evidence(&mut a, "users-diff", "diff-data", data_evidence());
    a.update(Action::ShowTab(Tab::Evidence));
    let out = render(&mut a, 100, 30);
    assert!(
        out.contains("ana@prod.example → ana@staging.example"),
        "{out}"
    );
    assert!(out.contains("changes by column email 2 · plan 1"), "{out}");
    assert_snapshot!("data_diff_100x30", out);
    assert_snapshot!("data_diff_80x24", render(&mut a, 80, 24));
    // Scroll right one column and down two rows.
    key(&mut a, KeyCode::Char('l'));
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('j'));
    let out = render(&mut a, 80, 24);
    assert!(out.contains("row 3/5"), "{out}");
    assert_snapshot!("data_diff_scrolled_80x24", out);
}

#[test]
fn check_results_expected_vs_actual() {
    let mut a = app(state(), Theme::plain());
    started(&mut a);
    start(&mut a, "verify", "geographic-npas", "check");
    ev(
        &mut a,
        EngineEvent::StepFailed {
            step: "geographic-npas".into(),
            error: "expected 440, found 439".into(),
            check_failed: true,
            elapsed_ms: 12,
        },
    );
    evidence(
        &mut a,
        "geographic-npas",
        "check",
        cutover::steps::Evidence::from(cutover::steps::check::CheckEvidence {
            target: "production".into(),
            query: "SELECT count(*) FROM enhanced_lerg WHERE category = 'geographic'".into(),
            description: Some("all geographic NPAs present".into()),
            expected: "440".into(),
            actual: "439".into(),
            passed: false,
            detail: Default::default(),
            results: Vec::new(),
        })
        .to_json(),
    );
    a.update(Action::ShowTab(Tab::Evidence));
    let out = render(&mut a, 80, 24);
    assert!(out.contains("FAIL all geographic NPAs present"), "{out}");
    assert_snapshot!(out);
}

#[test]
fn backup_manifest_and_json_fallback() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    a.select_step("backup-production");
    a.tab = Tab::Evidence;
    let out = render(&mut a, 80, 24);
    assert!(out.contains("sha256"), "{out}");
    assert!(out.contains("48.0 KiB"), "{out}");
    assert_snapshot!("backup_manifest_80x24", out);

    finish(&mut a, "drop-lerg-codes", "dropped", 5);
    evidence(
        &mut a,
        "drop-lerg-codes",
        "sql",
        cutover::steps::Evidence::from(cutover::steps::sql::SqlEvidence {
            target: "production".into(),
            source: "inline SQL".into(),
            statements: 1,
            rows_affected: Some(0),
            already_applied: None,
            sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
            messages: Vec::new(),
        })
        .to_json(),
    );
    a.select_step("drop-lerg-codes");
    let out = render(&mut a, 80, 24);
    assert!(out.contains("\"statements\": 1"), "{out}");
    assert_snapshot!("json_fallback_80x24", out);
}

fn log_line(level: Level, target: &str, msg: &str) -> LogLine {
    LogLine {
        time: "02:14:07".into(),
        level,
        target: target.into(),
        message: msg.into(),
    }
}

#[test]
fn log_pane_filters_by_level() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    a.update(Action::Log(log_line(
        Level::Debug,
        "cutover::db",
        "connect sqlite://production.db",
    )));
    a.update(Action::Log(log_line(
        Level::Warn,
        "cutover::steps::sql",
        "MySQL DDL commits implicitly",
    )));
    a.update(Action::Log(log_line(
        Level::Error,
        "cutover::engine",
        "lock held by pid 4242",
    )));
    a.update(Action::ShowTab(Tab::Log));
    let info = render(&mut a, 80, 24);
    assert!(!info.contains("connect sqlite"), "{info}");
    assert!(info.contains("by pid 4242"), "{info}");
    assert_snapshot!("log_info_80x24", info);
    key(&mut a, KeyCode::Char('f')); // >= WARN
    let warn = render(&mut a, 80, 24);
    assert!(!warn.contains("started (backup)"), "{warn}");
    assert!(warn.contains("DDL commits implicitly"), "{warn}");
    assert_snapshot!("log_warn_80x24", warn);
    for _ in 0..3 {
        key(&mut a, KeyCode::Char('f')); // ERROR, TRACE, DEBUG
    }
    assert!(render(&mut a, 120, 40).contains("connect sqlite://production.db"));
}

fn rows() -> Vec<LedgerRow> {
    let kinds = [
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
    ];
    kinds
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
        .collect()
}

#[test]
fn history_with_chain_verified_and_broken() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    a.update(Action::History(
        rows(),
        ChainStatus::Verified { records: 5 },
    ));
    a.update(Action::ShowTab(Tab::History));
    let ok = render(&mut a, 80, 24);
    assert!(ok.contains("✓ chain verified: 5 records"), "{ok}");
    assert_snapshot!("history_verified_80x24", ok);
    a.update(Action::History(
        rows(),
        ChainStatus::Broken {
            seq: 3,
            reason: "payload edited: hash does not match".into(),
        },
    ));
    key(&mut a, KeyCode::Char('k'));
    let bad = render(&mut a, 100, 24);
    assert!(bad.contains("✗ chain BROKEN at record 3"), "{bad}");
    assert_snapshot!("history_broken_100x24", bad);
}

#[test]
fn help_overlay_lists_every_binding() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    a.update(Action::ToggleHelp);
    let big = render(&mut a, 100, 36);
    for (_, keys, what) in cutover::tui::popups::help::KEYMAP {
        assert!(
            big.contains(keys) && big.contains(&what[..what.len().min(30)]),
            "{keys} missing:\n{big}"
        );
    }
    assert_snapshot!("help_100x36", big);
    assert_snapshot!("help_80x24", render(&mut a, 80, 24));
}

#[test]
fn rollback_behind_typed_confirmation() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    key(&mut a, KeyCode::Char('R'));
    type_text(&mut a, "roll");
    key(&mut a, KeyCode::Enter);
    let out = render(&mut a, 80, 24);
    assert!(
        out.contains("type rollback and press Enter to start"),
        "{out}"
    );
    assert!(out.contains("restore-production"), "{out}");
    assert_snapshot!(out);
}

#[test]
fn quit_while_running_asks_first() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    key(&mut a, KeyCode::Char('q'));
    assert!(!a.should_quit);
    let out = render(&mut a, 80, 24);
    assert!(
        out.contains("Quitting stops the run here; it stays resumable"),
        "{out}"
    );
    assert_snapshot!(out);
    key(&mut a, KeyCode::Char('y'));
    assert!(a.should_quit);
}

#[test]
fn finished_run_80x24() {
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
    assert_eq!(a.state.overall(), (8, 8));
    let out = render(&mut a, 80, 24);
    assert!(out.contains("finished: complete"), "{out}");
    assert!(out.contains("Runbook 8/8"), "{out}");
    assert_snapshot!(out);
    // Quitting a finished run does not ask.
    key(&mut a, KeyCode::Char('q'));
    assert!(a.should_quit);
}

#[test]
fn status_poll_marks_steps_and_clears_a_met_checkpoint() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    a.update(Action::OpenCheckpoint);
    assert!(a.popup.is_some());
    // Someone else approved with `cutover approve`; the poll sees the policy met.
    a.update(Action::Status(StatusView {
        steps: vec![(
            "plan-approved".into(),
            StepState::Done,
            Some("approved by bob (dba)".into()),
        )],
        waiting: None,
        ..Default::default()
    }));
    assert!(
        a.popup.is_none(),
        "dialog stays open after the policy was met"
    );
    assert_eq!(
        a.state.step("plan-approved").unwrap().state,
        StepState::Done
    );
    assert!(!render(&mut a, 80, 24).contains("awaits approval"));
}

#[test]
fn a_stale_approval_names_the_changed_file_and_a_rejection_says_what_to_do() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    let mut n = need(&[], &[], 1, &["dba"]);
    n.stale = vec![
        "dana's approve no longer counts: lerg/migrations/V2__profiles_billing.sql changed since it was given".into(),
    ];
    n.files = vec![(
        "lerg/migrations/V2__profiles_billing.sql".into(),
        "ab12".into(),
    )];
    a.update(Action::Engine(EngineEvent::AwaitingApproval {
        need: n.clone(),
    }));
    let banner = render(&mut a, 160, 30);
    assert!(
        banner.contains("earlier approval stale: dana's approve no longer counts: lerg/migrations/V2__profiles_billing.sql changed"),
        "{banner}"
    );
    a.update(Action::OpenCheckpoint);
    let out = render(&mut a, 160, 40);
    // The dialog wraps long lines: the reason and the file name may sit on two rows.
    assert!(
        out.contains("stale: dana's approve no longer counts:"),
        "{out}"
    );
    assert!(
        out.contains("lerg/migrations/V2__profiles_billing.sql changed since it was given"),
        "{out}"
    );
    assert!(
        out.contains("covers the files lerg/migrations/V2__profiles_billing.sql"),
        "{out}"
    );
    a.update(Action::ClosePopup);

    n.stale.clear();
    n.rejection = Some(Box::new(cutover::vocab::StandingRejection {
        by: "erin".into(),
        role: "dba".into(),
        comment: Some("wrong window".into()),
        remedies: vec![
            "erin withdraws it: cutover approve rb.toml --checkpoint plan-approved --as erin --role dba --withdraw-rejection".into(),
            "or start a new run: cutover run rb.toml --new".into(),
        ],
    }));
    a.update(Action::Engine(EngineEvent::AwaitingApproval { need: n }));
    let banner = render(&mut a, 160, 30);
    assert!(
        banner.contains("plan-approved rejected by erin — the rejection stands until withdrawn"),
        "{banner}"
    );
    a.update(Action::OpenCheckpoint);
    let out = render(&mut a, 160, 40);
    assert!(
        out.contains("Rejected by erin (dba): “wrong window” — the rejection stands"),
        "{out}"
    );
    assert!(out.contains("--withdraw-rejection"), "{out}");
    assert!(out.contains("cutover run rb.toml --new"), "{out}");
}

#[test]
fn backfill_evidence_shows_rate_against_its_minimum_and_where_the_orphans_are() {
    let mut a = app(state(), Theme::plain());
    started(&mut a);
    start(&mut a, "verify", "geographic-npas", "backfill");
    finish(&mut a, "geographic-npas", "97 of 100 filled", 40);
    evidence(
        &mut a,
        "geographic-npas",
        "backfill",
        cutover::steps::Evidence::from(cutover::steps::backfill::BackfillEvidence {
            target: "production".into(),
            table: "consumer_orders".into(),
            column: "customer_id".into(),
            source: "customers.id from customers on lower(trim(customers.email)) = lower(trim(consumer_orders.email))".into(),
            rows_filled: 88,
            rows_unfilled: 12,
            success_rate: Some(0.88),
            min_success_rate: Some(0.95),
            batches: 4,
            batch_size: 25,
            resumed_after: Some("CO-0050".into()),
            errors_table: "validation_errors".into(),
            errors_csv: Some("out/orphans.csv".into()),
            longest_batch_ms: Some(12),
            elapsed_ms: 40,
            already_done: None,
            notes: Vec::new(),
        })
        .to_json(),
    );
    a.update(Action::ShowTab(Tab::Evidence));
    let out = render(&mut a, 100, 30);
    assert!(out.contains("success rate  88.0% (minimum 95.0%)"), "{out}");
    assert!(
        out.contains("left NULL     12 → validation_errors and out/orphans.csv"),
        "{out}"
    );
    assert!(out.contains("resumed after CO-0050"), "{out}");
    assert_snapshot!(out);
}

#[test]
fn consolidate_evidence_shows_counts_per_source_and_each_conflict_resolution() {
    use cutover::steps::consolidate::*;
    let mut a = app(state(), Theme::plain());
    started(&mut a);
    start(&mut a, "verify", "geographic-npas", "consolidate");
    finish(&mut a, "geographic-npas", "merged", 40);
    evidence(
        &mut a,
        "geographic-npas",
        "consolidate",
        cutover::steps::Evidence::from(ConsolidateEvidence {
            target: "production".into(),
            into: "consumer_orders".into(),
            key: vec!["order_number".into()],
            inserted: 15,
            updated: 2,
            unchanged: 3,
            conflicts: 2,
            sources: vec![SourceMerge {
                table: "orders".into(),
                rows_read: 20,
                inserted: 15,
                updated: 2,
                unchanged: 3,
                conflicts: 2,
                batches: 2,
                resumed_after: None,
            }],
            conflict_rows: vec![
                Conflict {
                    source: "orders".into(),
                    key: "CO-0002".into(),
                    column: "status".into(),
                    target_value: "delivered".into(),
                    source_value: "refunded".into(),
                    resolution: "orders wins".into(),
                },
                Conflict {
                    source: "orders".into(),
                    key: "CO-0003".into(),
                    column: "amount".into(),
                    target_value: "30".into(),
                    source_value: "35".into(),
                    resolution: "target kept".into(),
                },
            ],
            conflicts_table: "consolidate_conflicts".into(),
            conflicts_csv: Some("out/conflicts.csv".into()),
            corrections: vec![CorrectionApplied {
                set: "category = 'pacific'".into(),
                filter: "npa IN ('670', '671', '684')".into(),
                rows: 3,
            }],
            elapsed_ms: 40,
            notes: Vec::new(),
        })
        .to_json(),
    );
    a.update(Action::ShowTab(Tab::Evidence));
    let out = render(&mut a, 140, 30);
    assert!(
        out.contains("orders: 20 read, 15 inserted, 2 updated, 3 unchanged, 2 conflict(s)"),
        "{out}"
    );
    assert!(
        out.contains("orders CO-0002.status: target delivered vs orders refunded → orders wins"),
        "{out}"
    );
    assert!(
        out.contains("orders CO-0003.amount: target 30 vs orders 35 → target kept"),
        "{out}"
    );
    assert!(
        out.contains("SET category = 'pacific' WHERE npa IN ('670', '671', '684'): 3 row(s)"),
        "{out}"
    );
    assert_snapshot!(out);
}

/// A `check` step that ran a suite: the evidence view lists every check with expected
/// and actual, the failing one marked FAIL, a warning neither PASS nor FAIL.
#[test]
fn check_suite_results_each_listed() {
    use cutover::checks::{CheckResult, Severity, Status};
    let result = |id: &str, severity, status, expected: &str, actual: &str| CheckResult {
        id: id.into(),
        suite: "lerg".into(),
        kind: "value".into(),
        description: None,
        severity,
        targets: vec!["production".into()],
        file: "checks/lerg/lerg.toml".into(),
        line: 1,
        status,
        expected: expected.into(),
        actual: actual.into(),
        message: format!("{id}: expected {expected}, got {actual}"),
        duration_ms: 1,
        details: vec![],
        latency: None,
    };
    let mut a = app(state(), Theme::plain());
    started(&mut a);
    start(&mut a, "verify", "geographic-npas", "check");
    evidence(
        &mut a,
        "geographic-npas",
        "check",
        cutover::steps::Evidence::from(cutover::steps::check::CheckEvidence {
            target: "production".into(),
            query: "suite ../checks/lerg".into(),
            description: None,
            expected: "3 check(s) pass".into(),
            actual: "1 passed, 1 failed, 1 warning(s), 0 timed out, 0 error(s)".into(),
            passed: false,
            detail: Default::default(),
            results: vec![
                result(
                    "npa-438-present",
                    Severity::Error,
                    Status::Passed,
                    "= 1",
                    "1",
                ),
                result(
                    "pacific-categorized",
                    Severity::Error,
                    Status::Failed,
                    "= 3",
                    "2",
                ),
                result(
                    "stale-cache",
                    Severity::Warning,
                    Status::Failed,
                    "no rows",
                    "1 row(s)",
                ),
            ],
        })
        .to_json(),
    );
    a.update(Action::ShowTab(Tab::Evidence));
    let out = render(&mut a, 100, 30);
    assert!(out.contains("Checks: 1 passed, 1 failed"), "{out}");
    assert!(out.contains("PASS npa-438-present (passed)"), "{out}");
    assert!(out.contains("FAIL pacific-categorized (failed)"), "{out}");
    assert!(out.contains("---- stale-cache (warning)"), "{out}");
    assert!(
        out.contains("expected = 3") && out.contains("actual   2"),
        "{out}"
    );
}
