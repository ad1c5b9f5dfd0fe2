//! A report-only `diff-data` step that found differences passes, but not as a green
//! tick: headless output and the TUI mark it `⚠` with the count, and the next
//! checkpoint names it while waiting and in the evidence it records when passed.

use crate::support;
use crate::tui_support::{app, data_evidence, ev, evidence, render, start, started, state};
use cutover::db::{self, ConnectOptions};
use cutover::tui::Theme;
use cutover::vocab::EngineEvent;

const RUNBOOK: &str = r#"name = "warn"
[targets]
a = "sqlite://a.db"
b = "sqlite://b.db"
[policy]
approvals = 1
roles = ["ops"]

[[phases]]
id = "look"
  [[phases.steps]]
  id = "drift"
  kind = "diff-data"
  source = "a"
  target = "b"
  table = "t"

  [[phases.steps]]
  id = "same-ids"
  kind = "diff-data"
  source = "a"
  target = "b"
  table = "t"
  where = "id < 3"

  [[phases.steps]]
  id = "go"
  kind = "checkpoint"
  title = "Go"
"#;

#[tokio::test]
async fn report_only_diff_with_differences_warns_and_the_checkpoint_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (name, rows) in [
        ("a.db", "(1, 'x'), (2, 'y'), (3, 'z')"),
        ("b.db", "(1, 'x'), (2, 'y'), (3, 'Z')"),
    ] {
        let url = format!("sqlite://{}", dir.join(name).display());
        let db = db::connect_with(
            &url,
            ConnectOptions {
                create_if_missing: true,
                max_connections: 1,
            },
        )
        .await
        .unwrap();
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .await
            .unwrap();
        db.execute(&format!("INSERT INTO t VALUES {rows}"))
            .await
            .unwrap();
        db.close().await;
    }
    std::fs::write(dir.join("warn.toml"), RUNBOOK).unwrap();

    let out = support::cutover(dir, &["run", "warn.toml", "--headless"]);
    let all = out.all();
    assert_eq!(out.code, 4, "{all}");
    // the step with a difference is not ticked; the equal one is
    assert!(all.contains("  ⚠ drift: t: different"), "{all}");
    assert!(!all.contains("✓ drift"), "{all}");
    assert!(
        all.contains("     warning: 1 difference in t (only in source 0, only in target 0, changed 1): passed without being equal"),
        "{all}"
    );
    assert!(all.contains("  ✓ same-ids: t: equal"), "{all}");
    // the checkpoint names it while it waits
    assert!(
        all.contains("1 warning(s) since the last checkpoint:")
            && all.contains("       ⚠ drift: 1 difference in t"),
        "{all}"
    );

    // passed: the checkpoint's summary and evidence carry it; a resume still warns
    let out = support::cutover(
        dir,
        &["run", "warn.toml", "--headless", "--approve-as", "ana:ops"],
    );
    let all = out.all();
    assert_eq!(out.code, 0, "{all}");
    assert!(all.contains("  ⚠ drift (diff-data) already done"), "{all}");
    assert!(
        all.contains("approved by ana (ops) over 1 warning(s): drift: 1 difference in t"),
        "{all}"
    );
    let st = support::cutover(dir, &["status", "warn.toml"]);
    // One row per step: its state, then its id (columns as wide as they need).
    let row = |id: &str| {
        st.stdout
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == id))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    assert!(
        row("drift").starts_with("done ⚠ warning drift "),
        "{}",
        st.all()
    );
    assert!(
        row("same-ids").starts_with("done same-ids "),
        "{}",
        st.all()
    );
    let st = support::cutover(dir, &["status", "warn.toml", "--format", "json"]);
    assert!(
        st.stdout.contains("\"warning\": \"1 difference in t"),
        "{}",
        st.all()
    );
    let status = support::cutover(dir, &["audit", "export", "warn.toml", "--format", "jsonl"]);
    assert!(
        status
            .stdout
            .contains("\"warnings\":[\"drift: 1 difference in t"),
        "{}",
        status.all()
    );
}

#[test]
fn tui_marks_a_diff_step_with_differences_as_a_warning() {
    let mut a = app(state(), Theme::plain());
    started(&mut a);
    start(&mut a, "migrate", "users-diff", "diff-data");
    ev(
        &mut a,
        EngineEvent::StepWarning {
            step: "users-diff".into(),
            message: "5 differences in profiles (only in source 1, only in target 1, changed 3): passed without being equal".into(),
        },
    );
    ev(
        &mut a,
        EngineEvent::StepFinished {
            step: "users-diff".into(),
            summary: "profiles: different".into(),
            evidence_hash: "0".repeat(64),
            elapsed_ms: 310,
        },
    );
    let out = render(&mut a, 100, 30);
    assert!(out.contains("⚠ users-diff"), "{out}");
    assert!(!out.contains("✓ users-diff"), "{out}");

    // a TUI opened later learns it from the recorded evidence alone
    let mut b = app(state(), Theme::plain());
    started(&mut b);
    start(&mut b, "migrate", "users-diff", "diff-data");
    ev(
        &mut b,
        EngineEvent::StepFinished {
            step: "users-diff".into(),
            summary: "profiles: different".into(),
            evidence_hash: "0".repeat(64),
            elapsed_ms: 310,
        },
    );
    assert!(render(&mut b, 100, 30).contains("✓ users-diff"));
    evidence(&mut b, "users-diff", "diff-data", data_evidence());
    let out = render(&mut b, 100, 30);
    assert!(out.contains("⚠ users-diff"), "{out}");
}

#[test]
fn the_checkpoint_dialog_and_a_passed_checkpoint_name_the_warnings() {
    use crate::tui_support::{at_first_checkpoint, key, need};
    use crossterm::event::KeyCode;
    let mut a = at_first_checkpoint(Theme::plain(), &[]);
    let mut n = need(&[], &[], 1, &["dba"]);
    n.warnings = vec!["drift-customers: 6 differences in customers".into()];
    ev(&mut a, EngineEvent::AwaitingApproval { need: n });
    key(&mut a, KeyCode::Char('a'));
    let out = render(&mut a, 100, 40);
    assert!(
        out.contains("⚠ Warnings since the last checkpoint (1)")
            && out.contains("drift-customers: 6 differences in customers"),
        "{out}"
    );

    // what the passed checkpoint recorded
    let e = cutover::steps::Evidence::from(cutover::steps::checkpoint::CheckpointEvidence {
        evidence_hash: "ab".repeat(32),
        approvals: Vec::new(),
        hazards: Vec::new(),
        hazard_details: Vec::new(),
        files: Vec::new(),
        warnings: vec!["drift-customers: 6 differences in customers".into()],
    })
    .to_json();
    let m = cutover::tui::views::evidence::EvidenceModel::parse("checkpoint", &e);
    let cutover::tui::views::evidence::Body::Checkpoint(c) = &m.body else {
        panic!("shown as {}", m.view_name())
    };
    let text: Vec<String> = c
        .lines(&Theme::plain())
        .iter()
        .map(|l| l.to_string())
        .collect();
    assert!(
        text.iter()
            .any(|l| l == "approved over ⚠ drift-customers: 6 differences in customers"),
        "{text:?}"
    );
}
