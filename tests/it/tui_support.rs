//! Shared fixtures for the TUI tests: a LERG-cutover-like plan, events that move it
//! along, evidence of every kind, and rendering to a `TestBackend` as text.

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

pub fn schema_evidence() -> serde_json::Value {
    json!({
        "source": "staging", "target": "production", "equal": false,
        "summary": [
            "table enhanced_lerg: missing in target",
            "table profiles: 2 columns missing in target (billing_plan, billing_email)",
            "table lerg_codes: only in target (dropped at cleanup)"
        ],
        "target_ddl": "CREATE TABLE lerg_codes (\n  npa INTEGER PRIMARY KEY,\n  state TEXT,\n  category TEXT\n);\nCREATE TABLE profiles (\n  id INTEGER PRIMARY KEY,\n  name TEXT NOT NULL,\n  email TEXT\n);\n",
        "source_ddl": "CREATE TABLE enhanced_lerg (\n  npa INTEGER PRIMARY KEY,\n  state TEXT,\n  category TEXT NOT NULL\n);\nCREATE TABLE profiles (\n  id INTEGER PRIMARY KEY,\n  name TEXT NOT NULL,\n  email TEXT,\n  billing_plan TEXT,\n  billing_email TEXT\n);\n",
        "hazards": [{"code": "H001-drop-table", "message": "dropping table lerg_codes (389 rows)"}]
    })
}

pub fn data_evidence() -> serde_json::Value {
    json!({
        "table": "profiles", "key": ["id"], "columns": ["name", "email", "plan"],
        "summary": {"source_rows": 11, "target_rows": 11, "only_in_source": 1, "only_in_target": 1, "changed": 3, "unchanged": 8},
        "column_changes": {"email": 2, "plan": 1},
        "rows": [
            {"kind": "changed", "key": 3, "source": {"name": "Ana Ruiz", "email": "ana@staging.example", "plan": "pro"}, "target": {"name": "Ana Ruiz", "email": "ana@prod.example", "plan": "pro"}},
            {"kind": "changed", "key": 5, "changes": {"plan": {"old": "free", "new": "pro"}}},
            {"kind": "changed", "key": 8, "source": {"name": "Bo Chen", "email": "bo@x.example", "plan": null}, "target": {"name": "Bo Chen", "email": null, "plan": null}},
            {"kind": "only_in_source", "key": 12, "source": {"name": "Cy Diaz", "email": "cy@x.example", "plan": "free"}},
            {"kind": "only_in_target", "key": 40, "target": {"name": "Old Test", "email": "", "plan": "free"}}
        ]
    })
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
        approve_command:
            "cutover approve runbooks/lerg.toml --checkpoint plan-approved --as NAME --role dba"
                .into(),
        files: Vec::new(),
        stale: Vec::new(),
        rejection: None,
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
    evidence(
        &mut a,
        "backup-production",
        "backup",
        json!({"path": "backups/production-3f2a.db", "sha256": "5d41402abc4b2a76b9719d911017c592", "bytes": 49152, "target": "production",
               "tables": [{"name": "lerg_codes", "rows": 389}, {"name": "profiles", "rows": 11}]}),
    );
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
