//! Typed ledger entries: replaying each kind of record into a run's state (from the
//! JSON an earlier release stored), the approval rules that cannot be bypassed, and a
//! ledger written by the previous release still verifying and reading.

use super::support::*;
use cutover::engine::approval::{self, Decision, DecisionRequest, Verdict};
use cutover::ledger::{
    ApprovalGiven, CheckpointWaiting, Entry, Ledger, Record, RunStarted, RunState, Status, StepDone,
};
use cutover::steps::Runbook;
use cutover::vocab::{Hazard, StepState};

fn rec(seq: i64, kind: &str, step: Option<&str>, payload: &str) -> Record {
    Record {
        seq,
        runbook: "rb".into(),
        run_id: "run1".into(),
        kind: kind.into(),
        step_id: step.map(str::to_string),
        payload: payload.into(),
        created_at: format!("2026-01-01T00:00:{seq:02}.000000Z"),
        prev_hash: String::new(),
        hash: String::new(),
    }
}

/// Records as the previous release wrote them (same kinds, fields and field order).
fn history() -> Vec<Record> {
    vec![
        rec(
            1,
            "run_started",
            None,
            r#"{"operator":"olga","runbook_path":"/x/rb.toml","runbook_hash":"rh","targets":{"prod":"sqlite://p.db"}}"#,
        ),
        rec(
            2,
            "step_started",
            Some("s1"),
            r#"{"kind":"sql","phase":"p1"}"#,
        ),
        rec(
            3,
            "step_done",
            Some("s1"),
            r#"{"kind":"sql","phase":"p1","summary":"1 statement","evidence":{"statements":1},"evidence_hash":"eh1","hazards":[{"code":"drop_table","message":"drops t"}],"elapsed_ms":12}"#,
        ),
        rec(
            4,
            "checkpoint_waiting",
            Some("cp"),
            r#"{"phase":"p1","evidence_hash":"cph","required":1,"roles":["dba"],"hazards":["drop_table"]}"#,
        ),
        rec(
            5,
            "approval",
            Some("cp"),
            r#"{"approver":"dana","role":"dba","decision":"approve","comment":"ok","evidence_hash":"cph","runbook_hash":"rh","via":"cli"}"#,
        ),
        rec(
            6,
            "step_done",
            Some("cp"),
            r#"{"kind":"checkpoint","phase":"p1","summary":"approved by dana (dba)","evidence":{"evidence_hash":"cph","approvals":[],"hazards":["drop_table"]},"evidence_hash":"eh2","elapsed_ms":0}"#,
        ),
        rec(
            7,
            "step_started",
            Some("chk"),
            r#"{"kind":"check","phase":"p2"}"#,
        ),
        rec(
            8,
            "step_failed",
            Some("chk"),
            r#"{"kind":"check","phase":"p2","summary":"0 of 1 held","evidence":{"checks":[]},"error":"users differ","check_failed":true,"elapsed_ms":3}"#,
        ),
        rec(
            9,
            "run_stopped",
            None,
            r#"{"status":"check_failed","exit_code":1}"#,
        ),
        rec(
            10,
            "run_resumed",
            None,
            r#"{"operator":"olga","runbook_hash":"rh"}"#,
        ),
        rec(
            11,
            "step_started",
            Some("chk"),
            r#"{"kind":"check","phase":"p2"}"#,
        ),
        rec(
            12,
            "step_failed",
            Some("chk"),
            r#"{"kind":"check","phase":"p2","error":"connection refused","check_failed":false,"elapsed_ms":4}"#,
        ),
        rec(
            13,
            "run_stopped",
            None,
            r#"{"status":"interrupted","operator":"olga"}"#,
        ),
        rec(14, "data_applied", None, r#"{"anything":true}"#),
        rec(
            15,
            "rollback_started",
            None,
            r#"{"operator":"olga","phases":["undo"]}"#,
        ),
        rec(16, "step_rolled_back", Some("s1"), "{}"),
        rec(17, "run_completed", None, r#"{"status":"rolled_back"}"#),
    ]
}

#[test]
fn replay_of_each_entry_kind() {
    let h = history();
    let at = |n: usize| RunState::from_records(&h[..n]);

    let st = at(1);
    assert_eq!(
        (
            st.run_id.as_str(),
            st.operator.as_str(),
            st.runbook_hash.as_str()
        ),
        ("run1", "olga", "rh")
    );
    assert_eq!(st.status, Status::Running);
    assert!(!st.finished);

    let st = at(2);
    assert_eq!(st.steps["s1"].state, StepState::Running);
    assert_eq!(st.steps["s1"].kind, "sql");
    assert_eq!(st.steps["s1"].phase, "p1");

    let st = at(3);
    let s1 = &st.steps["s1"];
    assert_eq!(s1.state, StepState::Done);
    assert_eq!(s1.summary.as_deref(), Some("1 statement"));
    assert_eq!(s1.evidence, serde_json::json!({"statements": 1}));
    assert_eq!(s1.evidence_hash.as_deref(), Some("eh1"));
    assert_eq!(s1.elapsed_ms, Some(12));
    assert_eq!(s1.hazards, vec![Hazard::new("drop_table", "drops t")]);
    assert!(st.is_done("s1"));

    let st = at(4);
    assert_eq!(st.status, Status::AwaitingApproval);
    assert_eq!(st.waiting_at, Some(("cp".into(), "cph".into())));
    assert_eq!(st.steps["cp"].state, StepState::AwaitingApproval);
    assert_eq!(st.steps["cp"].kind, "checkpoint");

    let st = at(5);
    assert_eq!(st.approvals.len(), 1);
    let a = &st.approvals[0];
    assert_eq!(
        (
            a.seq,
            a.checkpoint.as_str(),
            a.approver.as_str(),
            a.role.as_str()
        ),
        (5, "cp", "dana", "dba")
    );
    assert_eq!(a.decision, Decision::Approve);
    assert_eq!(
        (
            a.comment.as_deref(),
            a.evidence_hash.as_str(),
            a.via.as_str()
        ),
        (Some("ok"), "cph", "cli")
    );
    assert_eq!(st.current_decisions("cp", "cph").len(), 1);
    assert!(st.current_decisions("cp", "other").is_empty());

    let st = at(6);
    assert_eq!(st.steps["cp"].state, StepState::Done);
    assert_eq!(
        st.waiting_at, None,
        "a passed checkpoint is no longer waited at"
    );
    assert!(st.steps["cp"].hazards.is_empty());

    let st = at(8);
    let chk = &st.steps["chk"];
    assert_eq!(chk.state, StepState::Failed);
    assert_eq!(chk.error.as_deref(), Some("users differ"));
    assert_eq!(chk.summary.as_deref(), Some("0 of 1 held"));
    assert_eq!(chk.evidence, serde_json::json!({"checks": []}));
    assert_eq!(st.status, Status::CheckFailed);

    assert_eq!(at(9).status, Status::CheckFailed);
    assert_eq!(at(10).status, Status::Running);
    let st = at(11);
    assert_eq!(st.steps["chk"].state, StepState::Running);
    assert_eq!(st.steps["chk"].error, None);

    let st = at(12);
    assert_eq!(st.status, Status::Failed);
    assert_eq!(st.steps["chk"].summary, None);
    assert_eq!(st.steps["chk"].evidence, serde_json::Value::Null);

    assert_eq!(at(13).status, Status::Interrupted);
    // A kind runs do not write (cutover diff data's record) changes nothing.
    assert_eq!(at(14).status, Status::Interrupted);
    // A rollback in progress is running and unfinished; an earlier release's record
    // (no attempt number) counts as attempt 1.
    let st = at(15);
    assert_eq!(st.status, Status::Running);
    assert!(!st.finished);
    let a = st.rollback.as_ref().expect("a rollback attempt");
    assert_eq!(
        (a.attempt, a.phases.as_slice(), a.finished),
        (1, &["undo".to_string()][..], false)
    );

    let st = at(16);
    assert_eq!(st.steps["s1"].state, StepState::RolledBack);
    assert!(!st.is_done("s1"));

    let st = at(17);
    assert_eq!(st.status, Status::RolledBack);
    assert!(st.finished);
    assert!(st.rollback.as_ref().is_some_and(|a| a.finished));
    let json = serde_json::to_value(&st).unwrap();
    assert_eq!(json["status"], "rolled_back");
}

#[test]
fn entries_written_now_are_stored_as_before() {
    // What the engine writes must replay through the same type, with the same bytes
    // the previous release stored for the same record.
    for r in history() {
        let Some(entry) = r.entry() else {
            assert_eq!(r.kind, "data_applied");
            continue;
        };
        let (kind, payload) = entry.to_stored();
        assert_eq!(kind, r.kind);
        assert_eq!(payload.to_string(), r.payload, "{kind}");
    }
}

const RUNBOOK_TOML: &str = r#"
name = "rules"

[targets]
prod = "sqlite://prod.db"

[policy]
approvals = 1
roles = ["dba"]

[policy.hazards]
extra_approvals = 1
require_roles = ["security"]

[[phases]]
id = "p1"
title = "one"

  [[phases.steps]]
  id = "s1"
  kind = "sql"
  target = "prod"
  sql = "SELECT 1"

  [[phases.steps]]
  id = "cp"
  kind = "checkpoint"
  title = "go?"
"#;

struct Rules {
    _dir: tempfile::TempDir,
    runbook: Runbook,
    ledger: Ledger,
}

impl Rules {
    /// A run by "olga" waiting at checkpoint `cp`; step s1 raised `hazards`.
    async fn waiting(hazards: Vec<Hazard>) -> Rules {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.toml");
        std::fs::write(&path, RUNBOOK_TOML).unwrap();
        let runbook = Runbook::load(&path).unwrap();
        let ledger = Ledger::open(&format!(
            "sqlite://{}",
            dir.path().join("ledger.db").display()
        ))
        .await
        .unwrap();
        let r = Rules {
            _dir: dir,
            runbook,
            ledger,
        };
        r.write(
            None,
            Entry::RunStarted(RunStarted {
                operator: "olga".into(),
                runbook_path: path.display().to_string(),
                runbook_hash: r.runbook.content_hash.clone(),
                targets: Default::default(),
            }),
        )
        .await;
        r.write(
            Some("s1"),
            Entry::StepDone(StepDone {
                kind: "sql".into(),
                phase: "p1".into(),
                summary: "done".into(),
                evidence: serde_json::json!({}),
                evidence_hash: "eh1".into(),
                hazards: Some(hazards),
                elapsed_ms: 1,
            }),
        )
        .await;
        let need = r.need().await;
        r.write(
            Some("cp"),
            Entry::CheckpointWaiting(CheckpointWaiting {
                phase: "p1".into(),
                evidence_hash: need.evidence_hash,
                required: need.required,
                roles: need.roles,
                hazards: need.hazards,
                hazard_details: need.hazard_details,
            }),
        )
        .await;
        r
    }

    async fn write(&self, step: Option<&str>, entry: Entry) {
        self.ledger
            .append_entry(&self.runbook.name, "run1", step, &entry)
            .await
            .unwrap();
    }

    async fn state(&self) -> RunState {
        self.ledger
            .latest_run(&self.runbook.name)
            .await
            .unwrap()
            .unwrap()
    }

    async fn need(&self) -> cutover::vocab::ApprovalNeed {
        approval::need(&self.runbook, &self.state().await, "cp", "rules.toml").unwrap()
    }

    async fn verdict(&self) -> Verdict {
        let st = self.state().await;
        let need = approval::need(&self.runbook, &st, "cp", "rules.toml").unwrap();
        approval::verdict(&self.runbook, &st, &need)
    }

    async fn decide(&self, who: &str, role: &str, decision: Decision) -> Result<(), String> {
        let req = DecisionRequest {
            checkpoint: "cp",
            approver: who,
            role,
            decision,
            comment: None,
            via: "cli",
            runbook_arg: "rules.toml",
            sign_with: None,
        };
        approval::record_decision(&self.ledger, &self.runbook, &req)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[tokio::test]
async fn self_approval_and_roles_outside_the_policy_are_refused() {
    let r = Rules::waiting(Vec::new()).await;
    let e = r
        .decide("olga", "dba", Decision::Approve)
        .await
        .unwrap_err();
    assert!(e.contains("self-approval refused"), "{e}");
    let e = r
        .decide("dana", "intern", Decision::Approve)
        .await
        .unwrap_err();
    assert!(e.contains("role \"intern\" cannot decide"), "{e}");
    assert!(
        r.state().await.approvals.is_empty(),
        "nothing refused is recorded"
    );
    assert!(matches!(r.verdict().await, Verdict::Pending));
    r.decide("dana", "dba", Decision::Approve).await.unwrap();
    assert!(matches!(r.verdict().await, Verdict::Approved));
}

#[tokio::test]
async fn a_stale_approval_is_ignored() {
    let r = Rules::waiting(Vec::new()).await;
    // An approval bound to evidence that is no longer current (e.g. given before a
    // step's evidence changed) does not count.
    r.write(
        Some("cp"),
        Entry::Approval(ApprovalGiven {
            approver: "dana".into(),
            role: "dba".into(),
            decision: Decision::Approve,
            comment: None,
            evidence_hash: "an-older-hash".into(),
            runbook_hash: r.runbook.content_hash.clone(),
            via: "cli".into(),
            files: Default::default(),
            signature: None,
            withdraws: Vec::new(),
        }),
    )
    .await;
    let need = r.need().await;
    assert!(need.approved_by.is_empty(), "{:?}", need.approved_by);
    assert!(matches!(r.verdict().await, Verdict::Pending));
    // A rejection bound to stale evidence does not reject either.
    r.write(
        Some("cp"),
        Entry::Approval(ApprovalGiven {
            approver: "eve".into(),
            role: "dba".into(),
            decision: Decision::Reject,
            comment: None,
            evidence_hash: "an-older-hash".into(),
            runbook_hash: r.runbook.content_hash.clone(),
            via: "cli".into(),
            files: Default::default(),
            signature: None,
            withdraws: Vec::new(),
        }),
    )
    .await;
    assert!(matches!(r.verdict().await, Verdict::Pending));
    r.decide("eve", "dba", Decision::Reject).await.unwrap();
    assert!(matches!(r.verdict().await, Verdict::Rejected { by, .. } if by == "eve"));
}

#[tokio::test]
async fn hazards_raise_what_a_checkpoint_requires() {
    let quiet = Rules::waiting(Vec::new()).await.need().await;
    assert_eq!(quiet.required, 1);
    assert_eq!(quiet.roles, vec!["dba".to_string()]);
    assert!(quiet.hazards.is_empty());

    let r = Rules::waiting(vec![Hazard::new("drop_table", "drops t")]).await;
    let need = r.need().await;
    assert_eq!(need.required, 2, "one extra approval for hazards");
    assert_eq!(need.roles, vec!["dba".to_string(), "security".to_string()]);
    assert_eq!(need.hazards, vec!["drop_table".to_string()]);
    r.decide("dana", "dba", Decision::Approve).await.unwrap();
    r.decide("dave", "dba", Decision::Approve).await.unwrap();
    assert!(
        matches!(r.verdict().await, Verdict::Pending),
        "two approvals, but none from the hazard role"
    );
    r.decide("sam", "security", Decision::Approve)
        .await
        .unwrap();
    assert!(matches!(r.verdict().await, Verdict::Approved));
}

/// A ledger written by the previous release (`cutover demo --headless`, committed as a
/// fixture) still verifies and its run reads back.
#[test]
fn a_ledger_from_the_previous_release_verifies_and_reads() {
    let (_t, ws) = demo_workspace();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/previous-release-ledger.db");
    let ledger = ws.join("runbooks/.cutover/ledger.db");
    std::fs::create_dir_all(ledger.parent().unwrap()).unwrap();
    std::fs::copy(&fixture, &ledger).unwrap();
    // The runbook that ledger was written by: status reads the steps from the runbook,
    // so the demo's runbook may change without changing what this old ledger says.
    std::fs::copy(
        fixture.with_file_name("previous-release-runbook.toml"),
        ws.join(RUNBOOK),
    )
    .unwrap();
    // ... and the files it read as they were then (its approvals bind to their content).
    std::fs::remove_file(ws.join("runbooks/lerg/migrations/V3__trial_fixed_date.sql")).unwrap();
    for f in [
        "consolidate_legacy",
        "categorize_pacific",
        "rollback_schema",
    ] {
        std::fs::copy(
            fixture
                .with_file_name("previous-release-lerg/sql")
                .join(format!("{f}.sql")),
            ws.join(format!("runbooks/lerg/sql/{f}.sql")),
        )
        .unwrap();
    }

    let v = cutover(&ws, &["audit", "verify", RUNBOOK]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(v.stdout.contains("chain intact"), "{}", v.stdout);
    let s = cutover(&ws, &["status", RUNBOOK, "--format", "json"]);
    assert_eq!(s.code, 0, "{}", s.all());
    let mut now: serde_json::Value = serde_json::from_str(&s.stdout).unwrap();
    let before_path = fixture.with_file_name("previous-release-status.json");
    let mut before: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(before_path).unwrap()).unwrap();
    // Only where the runbook and ledger were named from differs.
    for field in ["runbook_path", "ledger"] {
        before[field] = serde_json::Value::Null;
        now[field] = serde_json::Value::Null;
    }
    assert_eq!(
        now, before,
        "status of the previous release's ledger changed"
    );
    assert_eq!(now["status"], "completed");
    assert_eq!(now["approvals"].as_array().unwrap().len(), 2);
    let text = cutover(&ws, &["status", RUNBOOK]);
    assert_eq!(text.code, 0, "{}", text.all());
    assert!(text.stdout.contains("completed"), "{}", text.stdout);
}

/// Every record the previous release wrote reads back as an entry that, written now,
/// gives the very bytes stored.
#[tokio::test]
async fn previous_release_records_round_trip_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("ledger.db");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/previous-release-ledger.db"),
        &copy,
    )
    .unwrap();
    let ledger = Ledger::open(&format!("sqlite://{}", copy.display()))
        .await
        .unwrap();
    let records = ledger.records(None).await.unwrap();
    assert!(records.len() > 30);
    let mut kinds = std::collections::BTreeSet::new();
    for r in &records {
        let entry = r
            .entry()
            .unwrap_or_else(|| panic!("record {} ({}) does not read", r.seq, r.kind));
        if let Entry::StepDone(done) = &entry {
            // Each step's evidence reads as its kind's struct and writes back the same.
            let typed =
                cutover::steps::read_evidence(&done.kind, &done.evidence).unwrap_or_else(|| {
                    panic!("{} evidence does not read: {}", done.kind, done.evidence)
                });
            assert_eq!(typed.to_json(), done.evidence, "{}", done.kind);
            kinds.insert(done.kind.clone());
        }
        let (kind, payload) = entry.to_stored();
        assert_eq!(kind, r.kind);
        assert_eq!(payload.to_string(), r.payload, "record {}", r.seq);
    }
    for k in [
        "backup",
        "diff-schema",
        "checkpoint",
        "migrate",
        "sql",
        "copy",
        "check",
    ] {
        assert!(kinds.contains(k), "the fixture has no {k} step: {kinds:?}");
    }
    ledger.close().await;
}

/// Evidence shapes the previous release wrote for kinds the demo does not run read as
/// their structs and write back unchanged.
#[test]
fn evidence_of_every_kind_reads_back_as_its_struct() {
    let cases = [
        (
            "sync",
            r#"{"source":"staging","target":"production","batch_commit":false,"tables":[{"table":"users","inserts":1,"updates":2,"deletes":0,"applied":{"statements":3,"batches":1,"rows_affected":3,"batch_commit":false},"before":{"source_rows":5,"target_rows":4,"only_in_source":1,"only_in_target":0,"changed":2,"column_changes":{"email":2}},"equal_after":true,"rows_after":5,"differences":[{"kind":"changed","key":{"id":1},"changes":{"email":{"source":"a@x","target":"b@x"}}}]},{"table":"orders","error":"3 differences remain"}]}"#,
        ),
        (
            "sync",
            r#"{"source":"main","target":"local","batch_commit":false,"tables":[{"table":"children","inserts":1,"updates":2,"deletes":1,"before":{"source_rows":4,"target_rows":4,"only_in_source":1,"only_in_target":1,"changed":2,"column_changes":{"parent_id":2}},"equal_after":true,"rows_after":4,"differences":[]}],"order":["parents","children"],"applied":{"statements":6,"batches":1,"rows_affected":6,"batch_commit":false}}"#,
        ),
        (
            "sync-check",
            r#"{"source":"main","target":"local","in_step":false,"tables":[{"table":"orders","status":"out_of_step","source_rows":3,"target_rows":4,"updated_column":"updated_at","source_latest":"2024-03-03","target_latest":null,"reasons":["row counts differ: source 3, target 4"],"filter":"id < 10"}],"elapsed_ms":7}"#,
        ),
        (
            "diff-data",
            r#"{"source":"a","target":"b","equal":false,"summary":{"source_table":"t","target_table":"t","key":["id"],"multiset":false,"source_rows":2,"target_rows":1,"only_in_source":1,"only_in_target":0,"changed":0,"unchanged":1,"duplicate_rows":0,"column_changes":{},"columns":[{"name":"id","target_name":"id","class":"int","scale":null,"precision":0,"tolerance":null,"source_type":"INTEGER","target_type":"INTEGER","is_key":true}],"notes":[],"stats":{"strategy":"merge","hashed_in":"cutover","levels":0,"buckets":0,"differing_buckets":0,"rows_fetched":3},"elapsed_ms":1},"differences":[{"kind":"only_in_source","key":{"id":2},"row":{"id":2}}],"differences_not_shown":0}"#,
        ),
        (
            "drift-check",
            r#"{"target":"production","snapshot":"/x/s.json","drift":true,"differences":["table t: added"]}"#,
        ),
        (
            "drift-check",
            r#"{"target":"production","snapshot":"/x/s.json","expected_sha256":"aa","sha256":"bb"}"#,
        ),
        (
            "snapshot",
            r#"{"target":"production","path":"/x/s.json","file":"s.json","sha256":"cc","tables":2,"rows":40}"#,
        ),
        (
            "restore",
            r#"{"target":"production","from":"backup-production","file":"../b.db","sha256":"dd","tables":{"a":1,"b":2}}"#,
        ),
        (
            "check",
            r#"{"target":"production","query":"SELECT 1","description":null,"expected":"1 row(s)","actual":"1 row(s)","passed":true,"detail":[["1"]]}"#,
        ),
        (
            "check",
            r#"{"target":"production","query":"SELECT 1","description":"same","expected":"x","actual":"y","passed":false,"detail":{"rows_on_target":1,"rows_on_other":1,"first_difference_at_row":1,"sample_target":[["1"]],"sample_other":[["2"]]}}"#,
        ),
        (
            "sql",
            r#"{"target":"production","source":"inline SQL","statements":2,"already_applied":true,"sha256":"ee"}"#,
        ),
        (
            "copy",
            r#"{"from":"staging","into":"production","into_table":"t","already_applied":true}"#,
        ),
    ];
    for (kind, text) in cases {
        let stored: serde_json::Value = serde_json::from_str(text).unwrap();
        let typed = cutover::steps::read_evidence(kind, &stored)
            .unwrap_or_else(|| panic!("{kind} evidence does not read: {text}"));
        assert_eq!(typed.to_json().to_string(), text, "{kind}");
    }
    // Evidence of a shape its kind does not write does not read (the TUI shows JSON).
    let odd = serde_json::json!({"moved": 389});
    assert!(cutover::steps::read_evidence("sql", &odd).is_none());
    assert!(cutover::steps::read_evidence("no-such-kind", &odd).is_none());
}
