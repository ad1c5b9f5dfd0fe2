//! Checklist items ticked from the TUI land in the ledger exactly as `cutover
//! checklist` records them: the keys of the tick dialog become a request, the request
//! is recorded through the same function against a real ledger, `cutover status`
//! lists who ticked what, and the run goes on or stops as it does headless.

use super::support::*;
use crate::tui_support::{ev, key, type_text};
use crossterm::event::KeyCode;
use cutover::engine::status::RunStatus;
use cutover::tui::views::evidence::EvidenceModel;
use cutover::tui::{Action, App, AppState, Request, Tab, Theme, Tick};
use cutover::vocab::EngineEvent;
use std::sync::Arc;

const RUNBOOK: &str = r#"name = "golive"
[targets]
app = "sqlite://app.db"
[policy]
roles = ["dba"]
checklist_roles = ["qa"]

[[phases]]
id = "p"
  [[phases.steps]]
  id = "seed"
  kind = "sql"
  target = "app"
  sql = "CREATE TABLE shipped (id INT PRIMARY KEY); INSERT INTO shipped VALUES (1);"

  [[phases.steps]]
  id = "go-live"
  kind = "checklist"
  title = "Go-live checklist"
  items = [
    { id = "tech-login", text = "A technician can log in" },
    { id = "scanner", text = "The scanner works on mobile" },
  ]

  [[phases.steps]]
  id = "after"
  kind = "sql"
  target = "app"
  sql = "INSERT INTO shipped VALUES (2)"
"#;

/// The TUI as the driver builds it, showing the checklist as the ledger has it now.
async fn tui_at_checklist(
    rb: &cutover::steps::Runbook,
    ledger: &cutover::ledger::Ledger,
) -> (App, tokio::sync::mpsc::UnboundedReceiver<Request>) {
    let st = RunStatus::load(rb, ledger, "rb.toml").await.unwrap();
    let state = AppState::new(rb.name.clone(), AppState::plan_of(rb)).with_checklist_policy_of(rb);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut a = App::new(state, Theme::plain()).with_requests(tx);
    ev(
        &mut a,
        EngineEvent::RunStarted {
            run_id: st.run_id.clone().unwrap(),
            runbook: rb.name.clone(),
            resumed: true,
            operator: OPERATOR.into(),
        },
    );
    ev(
        &mut a,
        EngineEvent::StepStarted {
            phase: "p".into(),
            step: "go-live".into(),
            kind: "checklist".into(),
            targets: vec![],
            title: String::new(),
        },
    );
    let live = st.steps.iter().find(|s| s.id == "go-live").unwrap();
    a.update(Action::Evidence {
        step: "go-live".into(),
        model: Arc::new(EvidenceModel::parse("checklist", &live.evidence)),
    });
    a.update(Action::ShowTab(Tab::Evidence));
    (a, rx)
}

fn sent(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Request>) -> Vec<Tick> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .filter_map(|r| match r {
            Request::Tick(t) => Some(t),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn items_ticked_with_keys_are_recorded_and_the_run_fails_then_completes_as_headless() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("rb.toml"), RUNBOOK).unwrap();
    // An empty file is an empty SQLite database.
    std::fs::write(d.join("app.db"), "").unwrap();
    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 4, "{}", out.all());
    let rb = cutover::steps::Runbook::load(&d.join("rb.toml")).unwrap();
    let url = cutover::engine::Engine::ledger_url(&rb, None);
    let ledger = cutover::ledger::Ledger::open(&url).await.unwrap();

    // scanner: `j`, `f`, a note, Enter (lands on Fail), Enter.
    let (mut a, mut rx) = tui_at_checklist(&rb, &ledger).await;
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Char('f'));
    type_text(&mut a, "camera denied on iOS");
    key(&mut a, KeyCode::Enter);
    key(&mut a, KeyCode::Enter);
    let ticks = sent(&mut rx);
    assert_eq!(ticks.len(), 1, "{ticks:?}");
    let r = cutover::tui::driver::tick::record(&ledger, &rb, "rb.toml", &ticks[0]).await;
    assert_eq!(
        r.as_deref(),
        Ok("olga-operator (qa) ticked scanner fail; 0 of 2 passed, 1 failed — the checklist fails"),
    );
    a.update(Action::TickResult(r));
    assert!(a.popup.is_none());

    let st = cutover(d, &["status", "rb.toml"]);
    let line = st
        .stdout
        .lines()
        .find(|l| l.contains("FAIL scanner"))
        .unwrap_or_else(|| panic!("{}", st.stdout))
        .to_string();
    assert!(
        line.contains("— olga-operator (qa)") && line.contains("\"camera denied on iOS\""),
        "{line}"
    );
    // The run stops at the failed checklist as it does after `cutover checklist --fail`.
    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("1 of 2 item(s) failed: scanner (by olga-operator: camera denied on iOS)"),
        "{}",
        out.stderr
    );

    // Both items pass now, in any order: `G` (last item), `p`, a note, Enter, Enter;
    // then `g` (first item), `p`, Enter, Enter. Each tick is answered before the next.
    let (mut a, mut rx) = tui_at_checklist(&rb, &ledger).await;
    let mut ticks = Vec::new();
    let mut last = None;
    for (select, note) in [('G', "fixed: camera prompt"), ('g', "")] {
        key(&mut a, KeyCode::Char(select));
        key(&mut a, KeyCode::Char('p'));
        type_text(&mut a, note);
        key(&mut a, KeyCode::Enter);
        key(&mut a, KeyCode::Enter);
        for t in sent(&mut rx) {
            let r = cutover::tui::driver::tick::record(&ledger, &rb, "rb.toml", &t).await;
            a.update(Action::TickResult(r.clone()));
            last = Some(r);
            ticks.push(t);
        }
        assert!(
            a.popup.is_none(),
            "the dialog closes once the ledger accepted"
        );
    }
    assert_eq!(
        ticks
            .iter()
            .map(|t| (t.item.as_str(), t.passed))
            .collect::<Vec<_>>(),
        [("scanner", true), ("tech-login", true)]
    );
    assert_eq!(
        last.unwrap().as_deref(),
        Ok(
            "olga-operator (qa) ticked tech-login pass; 2 of 2 passed, 0 failed — every item passed: the run goes on"
        ),
    );
    // The ledger has the final word: a tick of an item the runbook no longer lists is refused.
    let bad = Tick {
        item: "printer".into(),
        ..ticks[0].clone()
    };
    let r = cutover::tui::driver::tick::record(&ledger, &rb, "rb.toml", &bad).await;
    assert_eq!(
        r,
        Err(
            "checklist \"go-live\" has no item \"printer\"; its items are: tech-login, scanner"
                .into()
        )
    );
    ledger.close().await;

    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("go-live: 2 of 2 item(s) passed"),
        "{}",
        out.stdout
    );
    let json = cutover(d, &["status", "rb.toml", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let step = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "go-live")
        .unwrap()
        .clone();
    let scanner = &step["evidence"]["items"][1];
    assert_eq!(scanner["by"], OPERATOR, "{step}");
    assert_eq!(scanner["via"], "tui", "{step}");
    assert_eq!(scanner["note"], "fixed: camera prompt", "{step}");
    let audit = cutover(d, &["audit", "verify", "rb.toml"]);
    assert_eq!(audit.code, 0, "{}", audit.all());
}
