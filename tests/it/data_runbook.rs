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
    super::golden::assert_golden("control-panel-local", &local_url);
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
