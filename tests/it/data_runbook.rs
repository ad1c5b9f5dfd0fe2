//! The control-panel example runbook against the real MariaDB: drift shown, approved at
//! the checkpoint, applied by `sync`, verified equal.

use crate::support;
use cutover::data::{DiffOptions, build_plan, diff};
use cutover::db::{self, ConnectOptions, split_statements};
use cutover::testkit;
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[tokio::test]
async fn control_panel_runbook_syncs_the_drifted_sqlite_copy_from_mariadb() {
    let Some(main) = testkit::mysql().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("control-panel");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/control-panel"),
        &dir,
    );
    let m = main.connect().await;
    for s in split_statements(&std::fs::read_to_string(dir.join("main.sql")).unwrap()) {
        m.execute(&s.sql).await.unwrap();
    }
    let local_url = format!("sqlite://{}", dir.join("local.db").display());
    let local = db::connect_with(
        &local_url,
        ConnectOptions {
            create_if_missing: true,
            max_connections: 1,
        },
    )
    .await
    .unwrap();
    for s in split_statements(&std::fs::read_to_string(dir.join("local.sql")).unwrap()) {
        local.execute(&s.sql).await.unwrap();
    }
    local.close().await;
    let env = [("CONTROL_PANEL_MAIN_URL", main.url.as_str())];

    // first run: the drift is shown, then the checkpoint waits for an approval
    let out = support::cutover_env(&dir, &["run", "control-panel.toml", "--headless"], &env);
    assert_eq!(out.code, 4, "{}", out.all());
    let all = out.all();
    assert!(
        all.contains("customers: different (source 9 rows, target 8; only in source 2, only in target 1, changed 3)"),
        "{all}"
    );
    assert!(all.contains("connectors: different"), "{all}");
    assert!(all.contains("discount_groups: different"), "{all}");
    // the quick look and the drift found are warnings, named again at the checkpoint
    assert!(all.contains("  ⚠ sync-check: "), "{all}");
    assert!(
        all.contains("  ⚠ drift-customers: customers: different"),
        "{all}"
    );
    assert!(
        all.contains("       ⚠ drift-customers: 6 differences in customers"),
        "{all}"
    );

    // approved by someone with the ops role: applied and verified equal
    let out = support::cutover_env(
        &dir,
        &[
            "run",
            "control-panel.toml",
            "--headless",
            "--approve-as",
            "ana:ops",
        ],
        &env,
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.all()
            .contains("5 table(s) synced to local: 7 inserted, 5 updated, 3 deleted"),
        "{}",
        out.all()
    );

    // the sync's deltas and its log, as CSV a person opens in a spreadsheet: every
    // change applied (an update per cell, local value before → main value written),
    // and a log row per table that ended equal
    let deltas = read_csv(&dir.join("exports/sync-deltas.csv"));
    assert_eq!(
        deltas[0],
        [
            "recorded_at",
            "run_id",
            "step_id",
            "seq",
            "table_name",
            "delta",
            "row_key",
            "column_name",
            "target_value",
            "source_value"
        ],
    );
    let changes: Vec<String> = deltas[1..].iter().map(|r| r[4..9].join("|")).collect();
    assert_eq!(changes.len(), 20, "{changes:#?}");
    for expected in [
        "customers|update|id=3|balance|120",
        "customers|update|id=4|email|support@bitsbytes.example",
        // the local note was NULL: an empty field, not the text NULL
        "customers|update|id=6|note|",
        "discount_groups|insert|code=VIP||",
        "service_costs|insert|service_id=2, connector_id=3, valid_from=2024-04-01||",
    ] {
        assert!(
            changes.iter().any(|c| c == expected),
            "{expected}: {changes:#?}"
        );
    }
    let gone = deltas
        .iter()
        .find(|r| r[4] == "customers" && r[5] == "delete")
        .unwrap();
    assert_eq!(gone[6], "id=7");
    assert!(gone[8].contains("\"Gone Away Inc\""), "{gone:?}");
    let new_price = deltas
        .iter()
        .find(|r| r[4] == "services" && r[7] == "monthly_price")
        .unwrap();
    assert_eq!((&*new_price[8], &*new_price[9]), ("19.9", "24.90"));
    let run_id = deltas[1][1].clone();
    assert!(
        deltas[1..]
            .iter()
            .all(|r| r[1] == run_id && r[2] == "sync-master-data")
    );
    let seqs: Vec<&str> = deltas[1..].iter().map(|r| r[3].as_str()).collect();
    assert_eq!(seqs, (1..=20).map(|i| i.to_string()).collect::<Vec<_>>());

    let log = read_csv(&dir.join("exports/sync-log.csv"));
    let rows: Vec<String> = log[1..].iter().map(|r| r[4..].join("|")).collect();
    assert_eq!(
        rows,
        [
            "discount_groups|1|0|0|4|equal",
            "customers|2|3|1|9|equal",
            "services|1|1|0|4|equal",
            "connectors|1|1|1|5|equal",
            "service_costs|2|0|1|6|equal",
        ]
    );

    // a new run's sync finds nothing: the log grows by five rows of nothing applied,
    // and this run's deltas are none (the first run's stay in the table, not the file)
    let out = support::cutover_env(
        &dir,
        &[
            "run",
            "control-panel.toml",
            "--headless",
            "--new",
            "--approve-as",
            "ana:ops",
        ],
        &env,
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let again = read_csv(&dir.join("exports/sync-deltas.csv"));
    assert_eq!(again.len(), 1, "only the header: {again:?}");
    let log = read_csv(&dir.join("exports/sync-log.csv"));
    assert_eq!(log.len(), 11, "{log:?}");
    assert!(
        log[6..]
            .iter()
            .all(|r| r[1] != run_id && r[5..].join("|").starts_with("0|0|0|")),
        "{log:?}"
    );

    // and a fresh diff of every table agrees
    let local = db::connect(&local_url).await.unwrap();
    for t in [
        "discount_groups",
        "customers",
        "services",
        "connectors",
        "service_costs",
    ] {
        let opts = DiffOptions {
            table: t.into(),
            ..Default::default()
        };
        let plan = build_plan(&m, &local, &opts).await.unwrap();
        let s = diff(
            &m,
            &local,
            plan,
            &mut cutover::data::Collect::default(),
            &|_| {},
        )
        .await
        .unwrap();
        assert!(s.equal(), "{t}: {s:?}");
    }
    let gone = local
        .query("SELECT COUNT(*) FROM customers WHERE id = 7", &[])
        .await
        .unwrap();
    assert_eq!(gone.scalar().and_then(|v| v.as_i64()), Some(0));
    local.close().await;
    // the sync's own records hold run ids and times: their rows are asserted above
    super::golden::assert_golden_excluding(
        "control-panel-local",
        &local_url,
        &["sync_log", "sync_deltas"],
    );
}

#[tokio::test]
async fn diff_data_step_fails_the_run_when_expected_equal_and_rejects_bad_expectations() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (name, rows) in [
        ("a.db", "(1, 'x'), (2, 'y')"),
        ("b.db", "(1, 'x'), (2, 'Y')"),
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
    let runbook = |expect: &str| {
        format!(
            "name = \"eq\"\n[targets]\na = \"sqlite://a.db\"\nb = \"sqlite://b.db\"\n\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"same\"\n  kind = \"diff-data\"\n  source = \"a\"\n  target = \"b\"\n  table = \"t\"\n  {expect}\n"
        )
    };
    std::fs::write(dir.join("eq.toml"), runbook("expect = \"equal\"")).unwrap();
    let out = support::cutover(dir, &["run", "eq.toml", "--headless"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.all().contains("t is not equal: 1 differences"),
        "{}",
        out.all()
    );

    std::fs::write(dir.join("bad.toml"), runbook("expect = \"same\"")).unwrap();
    let out = support::cutover(dir, &["validate", "bad.toml"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all().contains("bad.toml:14") && out.all().contains("must be \"equal\""),
        "{}",
        out.all()
    );

    std::fs::write(dir.join("max.toml"), runbook("max_differences = 1")).unwrap();
    let out = support::cutover(dir, &["run", "max.toml", "--headless"]);
    assert_eq!(out.code, 0, "{}", out.all());
}
