//! `sync-check` with a filter per table, from the command line and as a runbook step
//! with its evidence and TUI view.

use crate::support;
use crate::tui_support::{app, evidence, finish, render, start, started, state};
use cutover::db::{self, ConnectOptions};
use cutover::steps::Evidence;
use cutover::steps::sync_check::{SyncCheckEvidence, SyncCheckTable};
use cutover::tui::{Action, Tab, Theme};
use serde_json::json;
use std::path::Path;

/// main.db and local.db: `groups` equal; `orders` equal for ids below 3, and beyond
/// that the local copy has an extra row and an older last update.
async fn databases(dir: &Path) {
    for (name, extra) in [
        ("main.db", "(3, 'c', '2024-03-03')"),
        ("local.db", "(3, 'c', '2024-02-02'), (4, 'd', '2024-01-04')"),
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
        for sql in [
            "CREATE TABLE groups (id INTEGER PRIMARY KEY, name TEXT)".to_string(),
            "INSERT INTO groups VALUES (1, 'x'), (2, 'y')".to_string(),
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT, updated_at TEXT)".to_string(),
            format!(
                "INSERT INTO orders VALUES (1, 'a', '2024-01-01'), (2, 'b', '2024-01-02'), {extra}"
            ),
        ] {
            db.execute(&sql).await.unwrap();
        }
        db.close().await;
    }
}

#[tokio::test]
async fn cli_where_per_table_counts_only_the_matching_rows_on_both_sides() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    databases(dir).await;
    let main = format!("sqlite://{}", dir.join("main.db").display());
    let local = format!("sqlite://{}", dir.join("local.db").display());
    let base = ["sync-check", "--source", &main, "--target", &local];

    let out = support::cutover(dir, &base);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("1 of 2 tables out of step"),
        "{}",
        out.all()
    );

    let mut args = base.to_vec();
    args.extend(["--where", "orders=id < 3"]);
    let out = support::cutover(dir, &args);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("orders (rows where id < 3)"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout.contains("0 of 2 tables out of step"),
        "{}",
        out.all()
    );

    // --deep diffs under the same filter: only what the filter leaves
    let mut args = base.to_vec();
    args.extend(["--where", "orders=id <= 3", "--deep", "--json"]);
    let out = support::cutover(dir, &args);
    assert_eq!(out.code, 1, "{}", out.all());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["tables"][1]["filter"], "id <= 3", "{v}");
    let deep = &v["deep"][0]["summary"];
    assert_eq!(
        (deep["changed"].as_u64(), deep["only_in_target"].as_u64()),
        (Some(1), Some(0)),
        "{v}"
    );

    // bad filters are named
    let mut args = base.to_vec();
    args.extend(["--where", "orders"]);
    let out = support::cutover(dir, &args);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("must be TABLE=CONDITION"),
        "{}",
        out.all()
    );
    let mut args = base.to_vec();
    args.extend(["--tables", "groups", "--where", "orders=id < 3"]);
    let out = support::cutover(dir, &args);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("names table \"orders\", which is not checked"),
        "{}",
        out.all()
    );
}

const RUNBOOK: &str = r#"name = "NAME"
[targets]
main = "sqlite://main.db"
local = "sqlite://local.db"

[[phases]]
id = "look"
  [[phases.steps]]
  id = "in-step"
  kind = "sync-check"
  source = "main"
  target = "local"
  tables = ["groups", "orders"]
  EXTRA
"#;

#[tokio::test]
async fn sync_check_step_reports_out_of_step_tables_as_a_warning_or_fails_on_expect() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    databases(dir).await;

    std::fs::write(
        dir.join("a.toml"),
        RUNBOOK.replace("NAME", "a").replace("EXTRA", ""),
    )
    .unwrap();
    let out = support::cutover(dir, &["run", "a.toml", "--headless"]);
    let all = out.all();
    assert_eq!(out.code, 0, "{all}");
    assert!(
        all.contains("  ⚠ in-step: 1 of 2 table(s) out of step: orders"),
        "{all}"
    );

    std::fs::write(
        dir.join("b.toml"),
        RUNBOOK.replace("NAME", "b").replace(
            "EXTRA",
            "where = { orders = \"id < 3\" }\n  expect = \"in_step\"",
        ),
    )
    .unwrap();
    let out = support::cutover(dir, &["run", "b.toml", "--headless"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.all().contains("  ✓ in-step: 2 table(s) in step"),
        "{}",
        out.all()
    );

    std::fs::write(
        dir.join("c.toml"),
        RUNBOOK
            .replace("NAME", "c")
            .replace("EXTRA", "expect = \"in_step\""),
    )
    .unwrap();
    let out = support::cutover(dir, &["run", "c.toml", "--headless"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.all()
            .contains("FAILED: 1 of 2 table(s) out of step: orders"),
        "{}",
        out.all()
    );

    std::fs::write(
        dir.join("d.toml"),
        RUNBOOK
            .replace("NAME", "d")
            .replace("EXTRA", "where = { invoices = \"id < 3\" }"),
    )
    .unwrap();
    let out = support::cutover(dir, &["validate", "d.toml"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all().contains("d.toml:14")
            && out
                .all()
                .contains("names table \"invoices\", which is not in `tables`"),
        "{}",
        out.all()
    );
}

#[test]
fn sync_check_evidence_has_its_view() {
    let table = |name: &str, status: &str, rows: (u64, u64), filter: Option<&str>| SyncCheckTable {
        table: name.into(),
        status: status.into(),
        source_rows: Some(rows.0),
        target_rows: Some(rows.1),
        updated_column: Some("updated_at".into()),
        source_latest: Some(json!("2024-03-03")),
        target_latest: Some(json!("2024-02-02")),
        reasons: if status == "in_step" {
            Vec::new()
        } else {
            vec!["row counts differ: source 3, target 4".into()]
        },
        filter: filter.map(str::to_string),
    };
    let e = Evidence::from(SyncCheckEvidence {
        source: "main".into(),
        target: "local".into(),
        in_step: false,
        tables: vec![
            table("groups", "in_step", (2, 2), None),
            table("orders", "out_of_step", (3, 4), Some("status <> 'test'")),
        ],
        elapsed_ms: 7,
    })
    .to_json();
    let mut a = app(state(), Theme::plain());
    started(&mut a);
    start(&mut a, "migrate", "users-diff", "sync-check");
    finish(
        &mut a,
        "users-diff",
        "1 of 2 table(s) out of step: orders",
        7,
    );
    evidence(&mut a, "users-diff", "sync-check", e);
    a.update(Action::ShowTab(Tab::Evidence));
    let out = render(&mut a, 160, 30);
    for want in [
        "Evidence: sync check",
        "Sync check main → local  1 of 2 table(s) out of step",
        "⚠ orders  out of step  rows 3 / 4  latest updated_at: 2024-03-03 / 2024-02-02",
        "    rows where status <> 'test'",
        "    row counts differ: source 3, target 4",
        "✓ groups  in step  rows 2 / 2",
        "⚠ users-diff",
    ] {
        assert!(out.contains(want), "{want:?} missing:\n{out}");
    }
}
