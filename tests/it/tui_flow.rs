//! Behaviour of the TUI a person would notice: decisions carry what was typed,
//! hazards need the typed confirmation, NO_COLOR drops colour, any size draws,
//! and a million-row data diff only ever builds the visible window.

use crate::tui_support::*;
use crossterm::event::KeyCode;
use cutover::tui::views::evidence::data_diff::{DataDiffModel, RowKind, RowStore};
use cutover::tui::views::evidence::{Body, EvidenceModel};
use cutover::tui::{Action, Decision, Request, Tab, Theme};
use ratatui::style::Color;
use std::sync::Arc;

#[test]
fn approving_sends_the_typed_name_role_and_comment_bound_to_the_evidence_hash() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut a = at_first_checkpoint(Theme::plain(), &[]).with_requests(tx);
    key(&mut a, KeyCode::Char('a'));
    type_text(&mut a, "bob");
    key(&mut a, KeyCode::Enter); // -> role (dba prefilled)
    key(&mut a, KeyCode::Enter); // -> comment
    type_text(&mut a, "diff reviewed, go");
    key(&mut a, KeyCode::Enter); // -> Approve
    key(&mut a, KeyCode::Enter);
    let mut got = None;
    while let Ok(r) = rx.try_recv() {
        if let Request::Decide(d) = r {
            got = Some(d);
        }
    }
    assert_eq!(
        got,
        Some(Decision {
            checkpoint: "plan-approved".into(),
            approve: true,
            approver: "bob".into(),
            role: "dba".into(),
            comment: Some("diff reviewed, go".into()),
            evidence_hash: need(&[], &[], 1, &[]).evidence_hash,
        })
    );
    // The ledger accepted: the dialog closes and says so.
    a.update(Action::DecisionResult(Ok(
        "approved plan-approved as bob (dba)".into(),
    )));
    assert!(a.popup.is_none());
    assert!(render(&mut a, 80, 24).contains("approved plan-approved as bob (dba)"));
}

#[test]
fn the_ledgers_refusal_is_shown_in_the_dialog() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    key(&mut a, KeyCode::Char('a'));
    a.update(Action::DecisionResult(Err(
        "alice started this run and cannot approve its checkpoints (policy allow_self_approval = false)".into(),
    )));
    let out = render(&mut a, 80, 24);
    assert!(out.contains("cannot approve its checkpoints"), "{out}");
}

#[test]
fn hazards_need_the_typed_checkpoint_id_and_a_rejection_needs_a_reason() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut a = at_first_checkpoint(Theme::plain(), &["H001-drop-table"]).with_requests(tx);
    key(&mut a, KeyCode::Char('a'));
    type_text(&mut a, "bob");
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab); // confirm field
    type_text(&mut a, "plan");
    key(&mut a, KeyCode::Tab); // Approve
    key(&mut a, KeyCode::Enter);
    assert!(render(&mut a, 80, 24).contains("type plan-approved in the confirmation"));
    // Reject without a comment: refused too.
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Enter);
    assert!(render(&mut a, 80, 24).contains("a rejection needs a comment"));
    assert!(!std::iter::from_fn(|| rx.try_recv().ok()).any(|r| matches!(r, Request::Decide(_))));
    // Now type it right.
    key(&mut a, KeyCode::BackTab);
    key(&mut a, KeyCode::BackTab); // confirm
    type_text(&mut a, "-approved");
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Enter);
    assert!(
        std::iter::from_fn(|| rx.try_recv().ok())
            .any(|r| matches!(r, Request::Decide(d) if d.approve))
    );
}

#[test]
fn rollback_starts_only_after_typing_the_word() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut a = at_first_checkpoint(Theme::plain(), &[]).with_requests(tx);
    key(&mut a, KeyCode::Char('R'));
    key(&mut a, KeyCode::Enter);
    assert!(
        std::iter::from_fn(|| rx.try_recv().ok()).all(|r| !matches!(r, Request::Rollback { .. }))
    );
    type_text(&mut a, "rollback");
    key(&mut a, KeyCode::Enter);
    assert!(std::iter::from_fn(|| rx.try_recv().ok()).any(|r| r
        == Request::Rollback {
            phase: "restore".into()
        }));
}

#[test]
fn no_color_means_no_colour_anywhere() {
    for theme in [Theme::plain(), Theme::colored()] {
        let mut a = at_first_checkpoint(theme, &["H001-drop-table"]);
        a.select_step("schema-diff");
        a.tab = Tab::Evidence;
        a.update(Action::OpenCheckpoint);
        let buf = buffer(&mut a, 100, 30);
        let coloured = buf
            .content()
            .iter()
            .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
            .count();
        if theme.color {
            assert!(coloured > 0);
        } else {
            assert_eq!(coloured, 0, "NO_COLOR frame has coloured cells");
        }
    }
}

#[test]
fn every_size_draws_without_panicking_and_follows_resizes() {
    let mut a = at_first_checkpoint(Theme::plain(), &["H001-drop-table"]);
    evidence(&mut a, "schema-diff", "diff-schema", schema_evidence());
    for (w, h) in [(80, 24), (20, 6), (1, 1), (200, 60), (81, 25), (80, 24)] {
        for tab in Tab::ALL {
            a.update(Action::ShowTab(tab));
            a.update(Action::Resize(w, h));
            let _ = render(&mut a, w, h);
        }
        a.update(Action::OpenCheckpoint);
        let _ = render(&mut a, w, h);
        a.update(Action::ToggleHelp);
        let _ = render(&mut a, w, h);
        a.update(Action::ClosePopup);
    }
}

fn million(n: usize) -> DataDiffModel {
    let mut rows = RowStore::new(4);
    for i in 0..n {
        let id = i.to_string();
        let old = format!("old-{i}");
        let new = format!("new-{i}");
        let amount = format!("{}.{:02}", i % 10_000, i % 100);
        rows.push(
            if i % 50 == 0 {
                RowKind::OnlyInSource
            } else {
                RowKind::Changed
            },
            &id,
            &[
                (Some("same"), Some("same")),
                // source (the truth) holds the new value, the target the old one
                (Some(&new), Some(&old)),
                (Some(&amount), Some(&amount)),
                (None, Some("2026-11-21T02:00:00Z")),
            ],
        );
    }
    DataDiffModel {
        table: Some("orders".into()),
        key_columns: vec!["id".into()],
        columns: vec![
            "status".into(),
            "note".into(),
            "amount".into(),
            "updated_at".into(),
        ],
        rows,
        ..Default::default()
    }
}

#[test]
fn a_million_row_diff_scrolls_to_the_end_and_shows_the_right_rows() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    a.update(Action::Evidence {
        step: "users-diff".into(),
        model: Arc::new(EvidenceModel {
            kind: "diff-data".into(),
            hazards: vec![],
            body: Body::DataDiff(million(1_000_000)),
            warning: None,
        }),
    });
    a.select_step("users-diff");
    a.tab = Tab::Evidence;
    a.focus = cutover::tui::app::Focus::Right;
    key(&mut a, KeyCode::Char('G'));
    let out = render(&mut a, 100, 30);
    assert!(out.contains("row 1,000,000/1,000,000"), "{out}");
    assert!(out.contains("old-999999 → new-999999"), "{out}");
    key(&mut a, KeyCode::PageUp);
    let out = render(&mut a, 100, 30);
    assert!(!out.contains("row 1,000,000/"), "{out}");
    key(&mut a, KeyCode::Char('g'));
    assert!(render(&mut a, 100, 30).contains("new-0 "));
}

#[test]
fn evidence_of_unknown_shape_falls_back_to_json_and_hazards_are_read_anywhere() {
    let m = EvidenceModel::parse(
        "consolidate",
        &serde_json::json!({"moved": 389, "hazards": [{"code": "H010-lossy", "message": "truncates text"}]}),
    );
    assert!(matches!(m.body, Body::Json(_)));
    assert_eq!(m.hazards[0].code, "H010-lossy");
    // A step's evidence read as its kind's struct gets the kind's view, a NULL cell
    // included.
    let m = EvidenceModel::parse("diff-data", &data_evidence());
    let Body::DataDiff(d) = &m.body else {
        panic!("not a data diff")
    };
    assert_eq!(d.rows.len(), 5);
    let r = d.rows.row(2);
    assert_eq!(r.cell(1), (Some("bo@x.example"), None, true));
    let r = d.rows.row(4);
    assert_eq!(r.cell(2), (None, None, false));
    // The same evidence under a kind that writes another shape does not read as it.
    let m = EvidenceModel::parse("sync", &data_evidence());
    assert!(matches!(m.body, Body::Json(_)), "{}", m.view_name());
}

/// The shape `diff-schema` records (src/schema/report.rs on the schema branch).
fn schema_step_evidence() -> serde_json::Value {
    serde_json::json!({
        "format": "cutover.schema-diff", "version": 1,
        "source": {"input": "staging", "dialect": "sqlite"},
        "target": {"input": "production", "dialect": "sqlite"},
        "equal": false,
        "summary": {"differences": 3, "missing": 2, "extra": 0, "changed": 1,
                    "text": "1 table missing in target, 1 column missing in target, 1 column changed"},
        "changes": [
            {"object": "table", "name": "enhanced_lerg", "change": "missing"},
            {"object": "column", "table": "profiles", "name": "billing_plan", "change": "missing"},
            {"object": "column", "table": "profiles", "name": "email", "change": "changed", "field": "type",
             "source": "email VARCHAR(320) NOT NULL", "target": "email TEXT NOT NULL"}
        ],
        "equivalences": [{"rule": "int-affinity", "applied": 2, "description": "INTEGER ~ INT"}],
        "hazards": [{"code": "narrow-type", "object": "profiles.email", "message": "TEXT to VARCHAR(320) may truncate", "allowed": false}],
        "migration": {"dialect": "sqlite", "statements": ["CREATE TABLE \"enhanced_lerg\" (\"npa\" TEXT PRIMARY KEY);"],
                      "blocked_statements": ["ALTER TABLE \"profiles\" ALTER COLUMN \"email\" TYPE VARCHAR(320);"]}
    })
}

/// What `diff-data` records comparing `customers` (built from its evidence struct).
fn data_step_evidence() -> serde_json::Value {
    use cutover::steps::diff_data::DiffDataEvidence;
    cutover::steps::Evidence::from(DiffDataEvidence {
        source: "main".into(),
        target: "local".into(),
        equal: false,
        summary: customers_summary(),
        differences: customers_differences(),
        differences_not_shown: 1,
    })
    .to_json()
}

fn customers_summary() -> cutover::data::diff::Summary {
    cutover::data::diff::Summary {
        source_table: "customers".into(),
        target_table: "customers".into(),
        key: vec!["id".into()],
        source_rows: 120,
        target_rows: 119,
        only_in_source: 2,
        only_in_target: 1,
        changed: 1,
        unchanged: 116,
        column_changes: [("discount".to_string(), 1)].into(),
        columns: vec![
            column("id", true),
            column("name", false),
            column("discount", false),
        ],
        ..Default::default()
    }
}

fn customers_differences() -> Vec<cutover::steps::diff_data::DifferenceRecord> {
    use cutover::steps::diff_data::DifferenceRecord;
    use serde_json::json;
    vec![
        changed(7, &[("discount", json!("0.15"), json!("0.10"))]),
        DifferenceRecord::OnlyInSource {
            key: cells(&[("id", json!(121))]),
            row: cells(&[
                ("id", json!(121)),
                ("name", json!("Nadia")),
                ("discount", json!("0.05")),
            ]),
            count: None,
        },
        DifferenceRecord::OnlyInTarget {
            key: cells(&[("id", json!(99))]),
            row: cells(&[
                ("id", json!(99)),
                ("name", json!("Old Co")),
                ("discount", json!(null)),
            ]),
            count: None,
        },
    ]
}

#[test]
fn the_evidence_the_schema_and_data_steps_record_gets_its_views() {
    let m = EvidenceModel::parse("diff-schema", &schema_step_evidence());
    let Body::SchemaDiff(s) = &m.body else {
        panic!("schema evidence shown as {}", m.view_name())
    };
    assert_eq!(s.source.as_deref(), Some("staging"));
    assert_eq!(m.hazards[0].code, "narrow-type");
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    evidence(&mut a, "schema-diff", "diff-schema", schema_step_evidence());
    a.select_step("schema-diff");
    let out = render(&mut a, 120, 40);
    for want in [
        "missing in target: column profiles.billing_plan",
        "-email TEXT NOT NULL",
        "+email VARCHAR(320) NOT NULL",
        "int-affinity (2x): INTEGER ~ INT",
        "held back (hazard): ALTER TABLE",
        "narrow-type  TEXT to VARCHAR(320) may truncate",
    ] {
        assert!(out.contains(want), "{want:?} missing:\n{out}");
    }
    insta::assert_snapshot!("schema_step_evidence_120x40", out);

    let m = EvidenceModel::parse("diff-data", &data_step_evidence());
    let Body::DataDiff(d) = &m.body else {
        panic!("data evidence shown as {}", m.view_name())
    };
    assert_eq!(d.columns, vec!["name", "discount"]);
    assert_eq!(d.omitted, Some(1));
    assert_eq!(d.rows.row(0).cell(1), (Some("0.15"), Some("0.10"), true));
    assert_eq!(d.rows.row(1).cell(0), (Some("Nadia"), None, false));
    assert_eq!(d.rows.row(2).cell(1), (None, None, false));
    evidence(&mut a, "users-diff", "diff-data", data_step_evidence());
    a.select_step("users-diff");
    let out = render(&mut a, 100, 30);
    // target value → source value: what applying does
    assert!(out.contains("0.10 → 0.15"), "{out}");
    assert!(out.contains("+1 not listed"), "{out}");
    insta::assert_snapshot!("data_step_evidence_100x30", out);
}

#[test]
fn after_a_rollback_nothing_is_waiting_any_more() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    key(&mut a, KeyCode::Char('R'));
    type_text(&mut a, "rollback");
    key(&mut a, KeyCode::Enter);
    assert!(render(&mut a, 80, 24).contains("rolling back"));
    a.update(Action::RollbackResult(Ok(
        "rollback restore: rolled back — press q to quit".into(),
    )));
    let out = render(&mut a, 80, 24);
    assert!(!out.contains("awaits approval"), "{out}");
    assert!(out.contains("rollback restore: rolled back"), "{out}");
    key(&mut a, KeyCode::Char('a'));
    assert!(
        a.popup.is_none(),
        "checkpoint dialog opened with nothing waiting"
    );
}

#[test]
fn docs_list_every_key_binding() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/tui.md")).unwrap();
    for (scope, keys, what) in cutover::tui::popups::help::KEYMAP {
        let row = format!("| {scope} | `{keys}` | {what} |");
        assert!(doc.contains(&row), "docs/tui.md lacks {row}");
    }
}

#[test]
fn a_passed_checkpoint_shows_who_decided_on_which_evidence() {
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    finish(&mut a, "plan-approved", "approved by bob (dba)", 61_000);
    evidence(
        &mut a,
        "plan-approved",
        "checkpoint",
        serde_json::json!({"evidence_hash": "4244d7da05cb295e", "hazards": ["H001-drop-table"], "approvals": [
            {"approver": "carol", "role": "dba", "decision": "reject", "comment": "wait for the backup", "via": "cli", "at": "2026-11-21T08:18:10Z"},
            {"approver": "bob", "role": "dba", "decision": "approve", "comment": "diff reviewed", "via": "tui", "at": "2026-11-21T08:18:17Z"}
        ]}),
    );
    a.select_step("plan-approved");
    let out = render(&mut a, 100, 30);
    for want in [
        "Evidence: checkpoint decisions",
        "✓ approve bob (dba) via tui",
        "✗ reject carol (dba) via cli",
        "“diff reviewed”",
        "approved on evidence 4244d7da05cb",
        "covered hazards H001-drop-table",
    ] {
        assert!(out.contains(want), "{want:?} missing:\n{out}");
    }
}

#[test]
fn sync_evidence_shows_the_deltas_it_applied() {
    use cutover::data::apply::Applied;
    use cutover::steps::sync::*;
    let before = |s: &cutover::data::diff::Summary| SyncBefore {
        source_rows: s.source_rows,
        target_rows: s.target_rows,
        only_in_source: s.only_in_source,
        only_in_target: s.only_in_target,
        changed: s.changed,
        column_changes: s.column_changes.clone(),
    };
    let groups = cutover::data::diff::Summary {
        source_rows: 3,
        target_rows: 3,
        unchanged: 3,
        ..Default::default()
    };
    let applied = |n: u64| Applied {
        statements: n,
        batches: u64::from(n > 0),
        rows_affected: n,
        batch_commit: false,
    };
    let v = cutover::steps::Evidence::from(SyncEvidence {
        source: "main".into(),
        target: "local".into(),
        batch_commit: false,
        tables: vec![
            SyncedTable::Synced(TableSynced {
                table: "groups".into(),
                inserts: 0,
                updates: 0,
                deletes: 0,
                applied: Some(applied(0)),
                before: before(&groups),
                equal_after: true,
                rows_after: 3,
                differences: Vec::new(),
            }),
            SyncedTable::Synced(TableSynced {
                table: "customers".into(),
                inserts: 2,
                updates: 1,
                deletes: 1,
                applied: Some(applied(4)),
                before: before(&customers_summary()),
                equal_after: true,
                rows_after: 120,
                differences: customers_differences(),
            }),
        ],
        order: Vec::new(),
        notes: Vec::new(),
        applied: None,
        log_table: None,
        deltas_table: None,
        deltas_recorded: None,
    })
    .to_json();
    let m = EvidenceModel::parse("sync", &v);
    let Body::DataDiff(d) = &m.body else {
        panic!("sync evidence shown as {}", m.view_name())
    };
    assert_eq!(d.rows.len(), 3);
    assert_eq!(
        d.note.as_deref(),
        Some("applied: 2 inserted, 1 updated, 1 deleted; equal after: yes (table 2 of 2)")
    );
}
