//! Shared fixtures for the TUI tests: a LERG-cutover-like plan, events that move it
//! along, evidence of every kind, and rendering to a `TestBackend` as text.

use cutover::steps::Evidence;
use cutover::steps::diff_data::{CellChange, DiffDataEvidence, DifferenceRecord};
use cutover::tui::views::evidence::EvidenceModel;
use cutover::tui::{Action, App, AppState, PhasePlan, StepPlan, Theme};
use cutover::vocab::{ApprovalNeed, EngineEvent, Progress};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

fn step(id: &str, kind: &str, targets: &[&str], plan: &str) -> StepPlan {
    StepPlan {
        id: id.into(),
        kind: kind.into(),
        title: id.into(),
        targets: targets.iter().map(|t| t.to_string()).collect(),
        plan: vec![plan.into()],
        instructions: None,
    }
}

pub fn plan() -> Vec<PhasePlan> {
    vec![
        PhasePlan {
            id: "prepare".into(),
            title: "Prepare".into(),
            rollback: false,
            steps: vec![
                step(
                    "backup-production",
                    "backup",
                    &["production"],
                    "copy production.db to backups/",
                ),
                step(
                    "schema-diff",
                    "diff-schema",
                    &["staging", "production"],
                    "diff schema staging -> production",
                ),
                StepPlan {
                    instructions: Some("Check the backup manifest and the schema diff.".into()),
                    ..step(
                        "plan-approved",
                        "checkpoint",
                        &[],
                        "wait for approval: plan approved",
                    )
                },
            ],
        },
        PhasePlan {
            id: "migrate".into(),
            title: "Migrate".into(),
            rollback: false,
            steps: vec![
                step(
                    "create-enhanced-lerg",
                    "migrate",
                    &["production"],
                    "apply 2 migrations from migrations/",
                ),
                step(
                    "users-diff",
                    "diff-data",
                    &["staging", "production"],
                    "diff data profiles",
                ),
            ],
        },
        PhasePlan {
            id: "verify".into(),
            title: "Verify".into(),
            rollback: false,
            steps: vec![
                step(
                    "geographic-npas",
                    "check",
                    &["production"],
                    "scalar equals 440",
                ),
                step(
                    "cleanup-approved",
                    "checkpoint",
                    &[],
                    "wait for approval: drop lerg_codes",
                ),
                step(
                    "drop-lerg-codes",
                    "sql",
                    &["production"],
                    "DROP TABLE lerg_codes",
                ),
            ],
        },
        PhasePlan {
            id: "restore".into(),
            title: "Restore production".into(),
            rollback: true,
            steps: vec![step(
                "restore-production",
                "restore",
                &["production"],
                "restore backup-production",
            )],
        },
    ]
}

pub fn state() -> AppState {
    let mut s = AppState::new("lerg-cutover", plan());
    s.live_clock = false;
    s
}

pub fn app(state: AppState, theme: Theme) -> App {
    App::new(state, theme)
}

pub fn render(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    t.backend().to_string()
}

pub fn buffer(app: &mut App, w: u16, h: u16) -> ratatui::buffer::Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    t.backend().buffer().clone()
}

pub fn ev(app: &mut App, e: EngineEvent) {
    app.update(Action::Engine(e));
}

pub fn key(app: &mut App, code: crossterm::event::KeyCode) {
    let k = crossterm::event::KeyEvent::new(code, crossterm::event::KeyModifiers::NONE);
    let mut next = app.handle_key(k);
    while let Some(a) = next.take() {
        next = app.update(a);
    }
}

pub fn type_text(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, crossterm::event::KeyCode::Char(c));
    }
}

pub fn started(app: &mut App) {
    ev(
        app,
        EngineEvent::RunStarted {
            run_id: "3f2a9c1be0d4".into(),
            runbook: "lerg-cutover".into(),
            resumed: false,
            operator: "alice".into(),
        },
    );
}

pub fn start(app: &mut App, phase: &str, step: &str, kind: &str) {
    ev(
        app,
        EngineEvent::StepStarted {
            phase: phase.into(),
            step: step.into(),
            kind: kind.into(),
            targets: vec![],
            title: String::new(),
        },
    );
}

pub fn finish(app: &mut App, step: &str, summary: &str, ms: u64) {
    ev(
        app,
        EngineEvent::StepFinished {
            step: step.into(),
            summary: summary.into(),
            evidence_hash: format!("{:0>64}", format!("{:x}", step.len() * 7919)),
            elapsed_ms: ms,
        },
    );
}

pub fn evidence(app: &mut App, step: &str, kind: &str, v: serde_json::Value) {
    app.update(Action::Evidence {
        step: step.into(),
        model: Arc::new(EvidenceModel::parse(kind, &v)),
    });
}

/// What a `diff-schema` step records for the LERG plan: production lacks
/// `enhanced_lerg` and two billing columns and still has `lerg_codes`.
pub fn schema_evidence() -> serde_json::Value {
    use cutover::schema::{Change, ChangeKind, ObjectKind};
    use cutover::steps::diff_schema::*;
    let change = |object, table: Option<&str>, name: &str, change| Change {
        object,
        table: table.map(str::to_string),
        name: name.into(),
        change,
        field: None,
        source: None,
        target: None,
    };
    let side = |input: &str| SchemaSide {
        input: input.into(),
        dialect: cutover::db::Dialect::Sqlite,
    };
    Evidence::from(DiffSchemaEvidence {
        format: "cutover.schema-diff".into(),
        version: 1,
        source: side("staging"),
        target: side("production"),
        equal: false,
        summary: SchemaDiffCounts {
            differences: 4,
            missing: 3,
            extra: 1,
            changed: 0,
            text: "1 table missing in target, 2 columns missing in target, 1 table extra in target".into(),
        },
        changes: vec![
            change(ObjectKind::Table, None, "enhanced_lerg", ChangeKind::Missing),
            change(ObjectKind::Column, Some("profiles"), "billing_plan", ChangeKind::Missing),
            change(ObjectKind::Column, Some("profiles"), "billing_email", ChangeKind::Missing),
            change(ObjectKind::Table, None, "lerg_codes", ChangeKind::Extra),
        ],
        equivalences: Vec::new(),
        hazards: vec![SchemaDiffHazard {
            code: "H001-drop-table".into(),
            object: "lerg_codes".into(),
            message: "dropping table lerg_codes (389 rows)".into(),
            allowed: false,
        }],
        ddl: Some(SchemaDdl {
            target: "CREATE TABLE lerg_codes (\n  npa INTEGER PRIMARY KEY,\n  state TEXT,\n  category TEXT\n);\nCREATE TABLE profiles (\n  id INTEGER PRIMARY KEY,\n  name TEXT NOT NULL,\n  email TEXT\n);\n".into(),
            source: "CREATE TABLE enhanced_lerg (\n  npa INTEGER PRIMARY KEY,\n  state TEXT,\n  category TEXT NOT NULL\n);\nCREATE TABLE profiles (\n  id INTEGER PRIMARY KEY,\n  name TEXT NOT NULL,\n  email TEXT,\n  billing_plan TEXT,\n  billing_email TEXT\n);\n".into(),
            engine_neutral: true,
        }),
        migration: SchemaMigration {
            dialect: cutover::db::Dialect::Sqlite,
            statements: Vec::new(),
            blocked_statements: Vec::new(),
        },
    })
    .to_json()
}

/// A compared column of a data diff, as the diff's summary lists it.
pub fn column(name: &str, is_key: bool) -> cutover::data::normalize::ColumnPlan {
    use cutover::data::normalize::{Class, ColumnPlan};
    let class = if is_key { Class::Int } else { Class::Text };
    ColumnPlan {
        name: name.into(),
        target_name: name.into(),
        class,
        scale: None,
        precision: 0,
        tolerance: None,
        source_type: if is_key { "INTEGER" } else { "TEXT" }.into(),
        target_type: if is_key { "INTEGER" } else { "TEXT" }.into(),
        source_native: class,
        target_native: class,
        source_scale: None,
        target_scale: None,
        source_nullable: !is_key,
        target_nullable: !is_key,
        is_key,
    }
}

/// A JSON object of (column, value) pairs in the given order.
pub fn cells(pairs: &[(&str, serde_json::Value)]) -> serde_json::Map<String, serde_json::Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// A changed row: its key and (column, source value, target value) per changed column.
pub fn changed(
    id: i64,
    changes: &[(&str, serde_json::Value, serde_json::Value)],
) -> DifferenceRecord {
    DifferenceRecord::Changed {
        key: cells(&[("id", json!(id))]),
        changes: changes
            .iter()
            .map(|(c, s, t)| {
                (
                    c.to_string(),
                    CellChange {
                        source: s.clone(),
                        target: t.clone(),
                    },
                )
            })
            .collect(),
    }
}

/// What a `diff-data` step records comparing `profiles`: three changed rows, one only
/// in staging, one only in production.
pub fn data_evidence() -> serde_json::Value {
    let summary = cutover::data::diff::Summary {
        source_table: "profiles".into(),
        target_table: "profiles".into(),
        key: vec!["id".into()],
        source_rows: 11,
        target_rows: 11,
        only_in_source: 1,
        only_in_target: 1,
        changed: 3,
        unchanged: 8,
        column_changes: [("email".to_string(), 2), ("plan".to_string(), 1)].into(),
        columns: vec![
            column("id", true),
            column("name", false),
            column("email", false),
            column("plan", false),
        ],
        ..Default::default()
    };
    Evidence::from(DiffDataEvidence {
        source: "staging".into(),
        target: "production".into(),
        equal: false,
        summary,
        differences: vec![
            changed(
                3,
                &[(
                    "email",
                    json!("ana@staging.example"),
                    json!("ana@prod.example"),
                )],
            ),
            changed(5, &[("plan", json!("free"), json!("pro"))]),
            changed(8, &[("email", json!("bo@x.example"), json!(null))]),
            DifferenceRecord::OnlyInSource {
                key: cells(&[("id", json!(12))]),
                row: cells(&[
                    ("id", json!(12)),
                    ("name", json!("Cy Diaz")),
                    ("email", json!("cy@x.example")),
                    ("plan", json!("free")),
                ]),
                count: None,
            },
            DifferenceRecord::OnlyInTarget {
                key: cells(&[("id", json!(40))]),
                row: cells(&[
                    ("id", json!(40)),
                    ("name", json!("Old Test")),
                    ("email", json!("")),
                    ("plan", json!(null)),
                ]),
                count: None,
            },
        ],
        differences_not_shown: 0,
    })
    .to_json()
}

/// What a `backup` step records for production.
pub fn backup_evidence() -> serde_json::Value {
    Evidence::from(cutover::steps::backup::BackupEvidence {
        target: "production".into(),
        file: "../backups/production-3f2a.db".into(),
        bytes: 49152,
        sha256: "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592".into(),
        tables: [
            ("lerg_codes".to_string(), 389),
            ("profiles".to_string(), 11),
        ]
        .into(),
        focus_tables: None,
        manifest: None,
    })
    .to_json()
}

pub fn need(
    hazards: &[&str],
    approved: &[(&str, &str)],
    required: u32,
    roles: &[&str],
) -> ApprovalNeed {
    ApprovalNeed {
        checkpoint: "plan-approved".into(),
        title: "Plan approved".into(),
        evidence_hash: "9b1c0f6e2a7d4c3b8e5f1a0d9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a392817060".into(),
        required,
        roles: roles.iter().map(|r| r.to_string()).collect(),
        approved_by: approved
            .iter()
            .map(|(a, r)| (a.to_string(), r.to_string()))
            .collect(),
        hazards: hazards.iter().map(|h| h.to_string()).collect(),
        hazard_details: Vec::new(),
        approve_command:
            "cutover approve runbooks/lerg.toml --checkpoint plan-approved --as NAME --role dba"
                .into(),
        files: Vec::new(),
        stale: Vec::new(),
        rejection: None,
        warnings: Vec::new(),
    }
}

/// The run up to the first checkpoint: backup and schema diff done, waiting.
pub fn at_first_checkpoint(theme: Theme, hazards: &[&str]) -> App {
    let mut a = app(state(), theme);
    started(&mut a);
    start(&mut a, "prepare", "backup-production", "backup");
    finish(
        &mut a,
        "backup-production",
        "backed up production.db (48.0 KiB)",
        120,
    );
    evidence(&mut a, "backup-production", "backup", backup_evidence());
    start(&mut a, "prepare", "schema-diff", "diff-schema");
    finish(&mut a, "schema-diff", "3 differences, 1 hazard", 48);
    evidence(&mut a, "schema-diff", "diff-schema", schema_evidence());
    ev(
        &mut a,
        EngineEvent::AwaitingApproval {
            need: need(hazards, &[], 1, &["dba"]),
        },
    );
    a
}

pub fn progress(done: u64, total: u64) -> Progress {
    Progress {
        done,
        total: Some(total),
        unit: "rows".into(),
        rate: 52_100.0,
        eta: Some(Duration::from_secs(7)),
    }
}
