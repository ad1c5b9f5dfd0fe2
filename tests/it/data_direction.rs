//! One direction everywhere: for the same diff, the CLI's text, JSON and CSV and the
//! TUI's data diff view all read as what applying would do to the target — a changed
//! value `target → source`, `+` for a row only in the source, `-` for one only in the
//! target.

use crate::support;
use crate::tui_support::{app, evidence, finish, render, start, started, state};
use cutover::data::reconcile::SampleSink;
use cutover::data::{DiffOptions, build_plan, diff};
use cutover::steps::Evidence;
use cutover::steps::diff_data::{DiffDataEvidence, DifferenceRecord};
use cutover::testkit;
use cutover::tui::{Action, Tab, Theme};

const SCHEMA: &str = "CREATE TABLE prices (id INTEGER PRIMARY KEY, plan TEXT, note TEXT)";

#[tokio::test]
async fn cli_text_json_csv_and_tui_agree_on_direction() {
    let src = testkit::sqlite().await;
    let dst = testkit::sqlite().await;
    let (s, t) = (src.connect().await, dst.connect().await);
    for (db, rows) in [
        // the source (the truth): id 2's plan is "gold"; id 3 exists only here
        (
            &s,
            "(1, 'basic', 'same'), (2, 'gold', 'same'), (3, 'new-row', 'x')",
        ),
        // the target: id 2's plan is still "silver"; id 4 exists only here
        (
            &t,
            "(1, 'basic', 'same'), (2, 'silver', 'same'), (4, 'stale-row', 'y')",
        ),
    ] {
        db.execute(SCHEMA).await.unwrap();
        db.execute(&format!("INSERT INTO prices VALUES {rows}"))
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let run = |format: &str| {
        let o = support::cutover(
            dir.path(),
            &[
                "diff", "data", "--source", &src.url, "--target", &dst.url, "--table", "prices",
                "--format", format, "-q",
            ],
        );
        assert_eq!(o.code, 1, "{}", o.all());
        o.stdout
    };

    // text: the target's value, then the source's it becomes
    let text = run("text");
    assert!(text.contains("plan: \"silver\" → \"gold\""), "{text}");
    assert!(text.contains("+ only in source  id=3"), "{text}");
    assert!(text.contains("- only in target  id=4"), "{text}");

    // json: the same pair, target first, named
    let json = run("json");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let changed = v["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "changed")
        .unwrap();
    let cell = changed["changes"]["plan"].as_object().unwrap();
    assert_eq!(
        cell.iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect::<Vec<_>>(),
        vec![
            ("target", serde_json::json!("silver")),
            ("source", serde_json::json!("gold"))
        ],
        "{json}"
    );
    let kind_of = |id: i64| {
        v["differences"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["key"]["id"] == id)
            .map(|d| d["kind"].as_str().unwrap().to_string())
    };
    assert_eq!(kind_of(3).as_deref(), Some("only_in_source"));
    assert_eq!(kind_of(4).as_deref(), Some("only_in_target"));

    // csv: the columns read target, source, left to right
    let csv = run("csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("kind,key,column,target,source"), "{csv}");
    let rows: Vec<&str> = lines.collect();
    assert!(
        rows.iter()
            .any(|l| l.starts_with("changed,") && l.ends_with(",plan,silver,gold")),
        "{csv}"
    );
    // a row only in the source sits in the source column, one only in the target in
    // the target column
    let only_src = rows
        .iter()
        .find(|l| l.starts_with("only_in_source,"))
        .unwrap();
    assert!(only_src.contains("new-row"), "{csv}");
    assert!(
        only_src.contains(",,,\""),
        "target column empty: {only_src}"
    );
    let only_dst = rows
        .iter()
        .find(|l| l.starts_with("only_in_target,"))
        .unwrap();
    assert!(
        only_dst.contains("stale-row") && only_dst.ends_with(','),
        "{only_dst}"
    );

    // the TUI, from the evidence a diff-data step records for the same diff
    let plan = build_plan(
        &s,
        &t,
        &DiffOptions {
            table: "prices".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut sink = SampleSink::new(50);
    let summary = diff(&s, &t, plan, &mut sink, &|_| {}).await.unwrap();
    let ev = Evidence::from(DiffDataEvidence {
        source: "main".into(),
        target: "local".into(),
        equal: false,
        summary,
        differences: DifferenceRecord::from_samples(sink.samples).unwrap(),
        differences_not_shown: 0,
    })
    .to_json();
    let mut a = app(state(), Theme::plain());
    started(&mut a);
    start(&mut a, "migrate", "users-diff", "diff-data");
    finish(&mut a, "users-diff", "3 differing rows", 5);
    evidence(&mut a, "users-diff", "diff-data", ev);
    a.update(Action::ShowTab(Tab::Evidence));
    let screen = render(&mut a, 120, 30);
    assert!(screen.contains("silver → gold"), "{screen}");
    assert!(!screen.contains("gold → silver"), "{screen}");
    assert!(screen.contains("+ only in source 1"), "{screen}");
    assert!(screen.contains("- only in target 1"), "{screen}");
    let row_mark = |needle: &str| {
        screen
            .lines()
            .find(|l| l.contains(needle))
            .and_then(|l| l.split(['│', '┃']).nth(3))
            .map(|cell| cell.trim_start().chars().next())
    };
    assert_eq!(row_mark("new-row"), Some(Some('+')), "{screen}");
    assert_eq!(row_mark("stale-row"), Some(Some('-')), "{screen}");
}
