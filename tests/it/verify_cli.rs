//! `cutover verify` as CI runs it: reports in every format, exit codes, bad input
//! named by file and line, timeouts that do not hang the suite, a bound on connections.

use crate::support::{self, cutover, cutover_env};
use cutover::testkit;
use std::path::Path;

/// A SQLite database with `items` (3 rows) in `dir/app.db`.
async fn sqlite_app(dir: &Path) -> String {
    let url = format!("sqlite://{}", dir.join("app.db").display());
    let db = cutover::db::connect_with(
        &url,
        cutover::db::ConnectOptions {
            create_if_missing: true,
            max_connections: 1,
        },
    )
    .await
    .unwrap();
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, region TEXT NOT NULL)")
        .await
        .unwrap();
    db.execute("INSERT INTO items VALUES (1, 'EU'), (2, 'EU'), (3, 'US')")
        .await
        .unwrap();
    db.close().await;
    url
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const SUITE: &str = r#"[[check]]
id = "three-items"
kind = "value"
description = "three items"
target = "app"
query = "SELECT count(*) FROM items"
expect = 3

[[check]]
id = "four-items"
kind = "value"
target = "app"
query = "SELECT count(*) FROM items"
expect = ">= 4"

[[check]]
id = "no-eu"
kind = "no-rows"
severity = "warning"
target = "app"
query = "SELECT id, region FROM items WHERE region = 'EU' ORDER BY id"
"#;

#[tokio::test]
async fn junit_report_reads_back_as_junit() {
    let tmp = tempfile::tempdir().unwrap();
    let url = sqlite_app(tmp.path()).await;
    write(tmp.path(), "checks/shop/items.toml", SUITE);
    let target = format!("app={url}");
    let out = cutover(
        tmp.path(),
        &[
            "verify",
            "shop",
            "--target",
            &target,
            "--format",
            "junit",
            "--output",
            "report.xml",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    // stdout gets the text report while the file gets the JUnit XML
    assert!(
        out.stdout
            .contains("FAIL  shop/four-items  four-items: expected >= 4, got 3"),
        "{}",
        out.stdout
    );
    let xml = std::fs::read_to_string(tmp.path().join("report.xml")).unwrap();
    let suites = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes())).unwrap();
    assert_eq!((suites.tests, suites.failures, suites.errors), (3, 1, 0));
    assert_eq!(suites.suites.len(), 1);
    let s = &suites.suites[0];
    assert_eq!(s.name, "shop");
    let names: Vec<&str> = s.cases.iter().map(|c| c.original_name.as_str()).collect();
    assert_eq!(names, ["three-items", "four-items", "no-eu"]);
    assert!(s.cases[0].status.is_success());
    match &s.cases[1].status {
        junit_parser::TestStatus::Failure(f) => {
            assert_eq!(f.message, "four-items: expected >= 4, got 3");
            assert!(f.text.contains("expected: >= 4\nactual: 3"), "{}", f.text);
        }
        other => panic!("four-items should be a failure, is {other:?}"),
    }
    assert_eq!(s.cases[1].file.as_deref(), Some("checks/shop/items.toml"));
    assert_eq!(s.cases[1].line, Some(9));
    // a warning passes in JUnit and says so
    assert!(s.cases[2].status.is_success());
    let so = s.cases[2].system_out.clone().unwrap_or_default();
    assert!(
        so.contains("warning: no-eu: expected no rows, got 2 row(s)")
            && so.contains("id=1, region=EU"),
        "{so}"
    );
}

#[tokio::test]
async fn json_report_is_stable() {
    let tmp = tempfile::tempdir().unwrap();
    let url = sqlite_app(tmp.path()).await;
    write(tmp.path(), "checks/shop/items.toml", SUITE);
    let target = format!("app={url}");
    let out = cutover(
        tmp.path(),
        &[
            "verify",
            "checks/shop",
            "--target",
            &target,
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let mut v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    v["duration_ms"] = 0.into();
    for r in v["results"].as_array_mut().unwrap() {
        r["duration_ms"] = 0.into();
    }
    insta::assert_snapshot!(
        "verify_json_report",
        serde_json::to_string_pretty(&v).unwrap()
    );
}

#[tokio::test]
async fn github_format_writes_annotations_and_a_job_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let url = sqlite_app(tmp.path()).await;
    write(tmp.path(), "checks/shop/items.toml", SUITE);
    let target = format!("app={url}");
    let summary = tmp.path().join("summary.md");
    let out = cutover_env(
        tmp.path(),
        &["verify", "shop", "--target", &target, "--format", "github"],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "::error file=checks/shop/items.toml,line=9,title=failed shop/four-items::four-items: expected >= 4, got 3",
            "::warning file=checks/shop/items.toml,line=16,title=warning shop/no-eu::no-eu: expected no rows, got 2 row(s)%0Aid=1%2C region=EU%0Aid=2%2C region=EU"
                .replace("%2C", ",")
                .as_str(),
            "::notice title=cutover verify::3 check(s): 1 passed, 1 failed, 1 warning(s), 0 timed out, 0 error(s)",
        ]
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("### ❌ cutover verify: 3 check(s): 1 passed, 1 failed"),
        "{md}"
    );
    assert!(
        md.contains("| ❌ failed | `shop/four-items`  | >= 4 | 3 |"),
        "{md}"
    );
    assert!(
        md.contains("| ✅ passed | `shop/three-items` three items | = 3 | 3 |"),
        "{md}"
    );
}

#[tokio::test]
async fn markdown_and_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let url = sqlite_app(tmp.path()).await;
    write(tmp.path(), "checks/shop/items.toml", SUITE);
    let target = format!("app={url}");
    let out = cutover(
        tmp.path(),
        &[
            "verify", "shop", "--target", &target, "--format", "markdown",
        ],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains("| ⚠️ warning | `shop/no-eu`  | no rows | 2 row(s) |"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("<details><summary>failed <code>shop/four-items</code>"),
        "{}",
        out.stdout
    );
    // only the passing check and the warning: exit 0 (warnings allowed)
    let ok = cutover(
        tmp.path(),
        &[
            "verify",
            "shop",
            "--target",
            &target,
            "--check",
            "three-items",
            "--check",
            "no-eu",
        ],
    );
    assert_eq!(ok.code, 0, "{}", ok.all());
    assert!(ok.stdout.contains("WARN  shop/no-eu"), "{}", ok.stdout);
    // a database that cannot be reached: could not run, exit 3
    let gone = format!("app=sqlite://{}", tmp.path().join("missing.db").display());
    let out = cutover(
        tmp.path(),
        &[
            "verify",
            "shop",
            "--target",
            &gone,
            "--check",
            "three-items",
        ],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stdout
            .contains("ERR   shop/three-items  three items: could not run"),
        "{}",
        out.stdout
    );
}

/// Bad input: exit 2, naming the file, line and column, and nothing run.
#[test]
fn bad_check_files_name_file_and_line() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[[check]]\nid = \"x\"\nkind = \"vaule\"\ntarget = \"app\"\nquery = \"SELECT 1\"\nexpect = 1\n",
            "bad.toml:3:1: unknown check kind \"vaule\"; expected one of value, no-rows",
            "unknown kind",
        ),
        (
            "[[check]]\nid = \"x\"\nkind = \"value\"\ntarget = \"elsewhere\"\nquery = \"SELECT 1\"\nexpect = 1\n",
            "bad.toml:4:10: check \"x\" reads target \"elsewhere\", which was not given; pass --target elsewhere=URL (given: app)",
            "target not given",
        ),
        (
            "[[check]]\nid = \"x\"\nkind = \"value\"\nquery = \"SELECT 1\"\nexpect = 1\n",
            "bad.toml:1:1: check \"x\" is missing `target`",
            "no target key",
        ),
        (
            "[[check]]\nid = \"x\"\nkind = \"value\"\ntarget = \"app\"\nquery = \"SELECT 1\"\nexpect = \"count(*)\"\n",
            "bad.toml:6:10: `expect` in check \"x\": \"count(*)\" is not a true/false assertion",
            "non-boolean assertion",
        ),
        (
            "[[check]]\nid = \"x\"\nkind = \"value\"\ntarget = \"app\"\nquery = \"SELECT 1\"\nexpect = [1, 2]\n",
            "bad.toml:6:10: `expect` in check \"x\" must be a true/false comparison",
            "assertion of the wrong type",
        ),
        (
            "[[check]]\nid = \"x\"\nkind = \"latency\"\ntarget = \"app\"\nquery = \"SELECT 1\"\np95_under = 200\n",
            "bad.toml:6:13: `p95_under` in check \"x\" has no unit",
            "latency bound without a unit",
        ),
        (
            "[[check]]\nid = \"x\"\nkind = \"latency\"\ntarget = \"app\"\nquery = \"SELECT 1\"\np95_under = \"200\"\n",
            "bad.toml:6:13: `p95_under` in check \"x\": \"200\" has no unit",
            "latency bound as a string without a unit",
        ),
        (
            "[[check]]\nid = \"x\"\nkind = \"value\"\ntarget = \"app\"\nquery = \"SELECT ${param:nope}\"\nexpect = 1\n",
            "bad.toml:5:1: `query` uses ${param:nope}, which is not a parameter",
            "unknown parameter",
        ),
        (
            "[[check]]\nid = \"x\"\nkind = \"value\"\ntarget = \"app\"\nquery = \"SELECT 1\"\nexpect = 1\nexpct = 2\n",
            "bad.toml:7:1: unknown key `expct` in check \"x\"",
            "unknown key",
        ),
    ];
    for (text, want, what) in cases {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "bad.toml", text);
        let out = cutover(
            tmp.path(),
            &["verify", "bad.toml", "--target", "app=sqlite://app.db"],
        );
        assert_eq!(out.code, 2, "{what}: {}", out.all());
        assert!(
            out.stderr.contains(want),
            "{what}: want {want:?} in\n{}",
            out.stderr
        );
        assert!(
            out.stdout.is_empty(),
            "{what}: nothing runs: {}",
            out.stdout
        );
    }
}

/// A check that times out is reported as timed out (exit 3) and the others still run;
/// the suite does not wait for the slow query.
async fn times_out(url: &str, slow: &str) -> serde_json::Value {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "checks/slow/slow.toml",
        &format!(
            "[[check]]\nid = \"slow\"\nkind = \"value\"\ntarget = \"db\"\ntimeout = \"1s\"\nquery = \"{slow}\"\nexpect = \">= 0\"\n\n[[check]]\nid = \"quick\"\nkind = \"value\"\ntarget = \"db\"\nquery = \"SELECT 1\"\nexpect = 1\n"
        ),
    );
    let target = format!("db={url}");
    let started = std::time::Instant::now();
    let out = cutover(
        tmp.path(),
        &["verify", "slow", "--target", &target, "--format", "json"],
    );
    let took = started.elapsed();
    assert_eq!(out.code, 3, "{}", out.all());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["status"], "timed_out", "{}", out.stdout);
    assert_eq!(v["results"][0]["actual"], "no answer within 1s");
    assert_eq!(
        v["results"][0]["expected"], ">= 0",
        "what it would have checked"
    );
    assert_eq!(v["results"][1]["status"], "passed");
    assert!(
        took < std::time::Duration::from_secs(10),
        "took {took:?}: the slow query held the suite"
    );
    v["results"][0].clone()
}

/// After a timed-out check, its query is no longer running on the server: `running`
/// counts it from another connection (its own text excluded), polled for up to 3 s.
async fn no_longer_running(url: &str, running: &str) {
    let db = cutover::db::connect(url).await.unwrap();
    let mut n = -1;
    for _ in 0..30 {
        n = db
            .query(running, &[])
            .await
            .unwrap()
            .scalar()
            .and_then(cutover::db::Value::as_i64)
            .unwrap();
        if n == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    db.close().await;
    assert_eq!(n, 0, "the timed-out query still runs on the server");
}

#[tokio::test]
async fn a_slow_check_times_out_on_postgres() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    let r = times_out(&db.url, "SELECT count(*) FROM pg_sleep(30)").await;
    assert!(
        r["message"].as_str().unwrap().ends_with(
            "timed out after 1s (its timeout); nothing was concluded; 1 query(ies) cancelled on db"
        ),
        "{r}"
    );
    no_longer_running(
        &db.url,
        "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE '%FROM pg_sleep(30)%'",
    )
    .await;
}

#[tokio::test]
async fn a_slow_check_times_out_on_mariadb() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    let r = times_out(&db.url, "SELECT SLEEP(30)").await;
    assert!(
        r["message"].as_str().unwrap().ends_with(
            "timed out after 1s (its timeout); nothing was concluded; 1 query(ies) cancelled on db"
        ),
        "{r}"
    );
    no_longer_running(
        &db.url,
        "SELECT count(*) FROM information_schema.PROCESSLIST WHERE id <> CONNECTION_ID() AND info LIKE '%SLEEP(30)%'",
    )
    .await;
}

#[tokio::test]
async fn a_slow_check_times_out_on_sqlite() {
    let db = testkit::sqlite().await;
    let _ = times_out(
        &db.url,
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT count(*) FROM c",
    )
    .await;
}

/// 200 checks against one database, --jobs 4: every check sees at most 4 connections
/// to the database (the test's own are closed by then), and the suite takes well under
/// a second here (debug build).
async fn many_checks(url: &str, count_connections: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..200 {
        text.push_str(&format!(
            "[[check]]\nid = \"c{i:03}\"\nkind = \"value\"\ntarget = \"db\"\nquery = \"{count_connections}\"\nexpect = \"between 1 and 4\"\n\n"
        ));
    }
    write(tmp.path(), "checks/many/many.toml", &text);
    let target = format!("db={url}");
    let started = std::time::Instant::now();
    let out = cutover(
        tmp.path(),
        &["verify", "many", "--target", &target, "--jobs", "4"],
    );
    let took = started.elapsed();
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("200 check(s): 200 passed, 0 failed"),
        "{}",
        out.stdout
    );
    eprintln!("200 checks, --jobs 4: {took:?}");
    assert!(took < std::time::Duration::from_secs(30), "took {took:?}");
    // The control: with --jobs 16 the same checks see more than 4 connections, so the
    // assertion above is about the bound, not about a query that cannot exceed it.
    let wide = cutover(
        tmp.path(),
        &["verify", "many", "--target", &target, "--jobs", "16"],
    );
    assert_eq!(wide.code, 1, "{}", wide.all());
}

#[tokio::test]
async fn two_hundred_checks_use_at_most_jobs_connections_on_postgres() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    many_checks(
        &db.url,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()",
    )
    .await;
}

#[tokio::test]
async fn two_hundred_checks_use_at_most_jobs_connections_on_mariadb() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    many_checks(
        &db.url,
        "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE()",
    )
    .await;
}

const LERG_TARGETS: [&str; 6] = [
    "--target",
    "production=sqlite://production.db",
    "--target",
    "staging=sqlite://staging.db",
    "--target",
    "production_before=sqlite://production-initial.db",
];

#[tokio::test]
async fn the_lerg_verification_runs_alone_against_the_demo() {
    let (_tmp, ws) = support::completed_demo();
    let mut args = vec!["verify", "checks/lerg"];
    args.extend(LERG_TARGETS);
    let out = cutover(&ws, &args);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("9 check(s): 9 passed"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("PASS  lerg/npa-lookup-latency  NPA lookup p95 under 200 ms: p95 "),
        "{}",
        out.stdout
    );

    // someone files Guam back under 'us' and deletes 438: each check says what it saw
    let db = cutover::db::connect(&format!("sqlite://{}", ws.join("production.db").display()))
        .await
        .unwrap();
    db.execute("UPDATE enhanced_lerg SET category = 'us' WHERE npa = '671'")
        .await
        .unwrap();
    db.execute("DELETE FROM enhanced_lerg WHERE npa = '438'")
        .await
        .unwrap();
    db.close().await;
    let out = cutover(&ws, &args);
    assert_eq!(out.code, 1, "{}", out.all());
    for line in [
        "FAIL  lerg/geographic-npas-count  all geographic NPAs present: expected = 440, got 439",
        "FAIL  lerg/pacific-categorized  670, 671 and 684 categorized pacific: expected = 3, got 2",
        "FAIL  lerg/pacific-not-elsewhere  no Pacific NPA filed under another category: expected no rows, got 1 row(s)",
        "      npa=671, category=us",
        "FAIL  lerg/npa-438-present  438 present: expected = 1, got 0",
        "      only on staging: npa=438, category=canada",
        "      changed npa=671: category: pacific on staging, us on production",
        "9 check(s): 4 passed, 5 failed",
    ] {
        assert!(
            out.stdout.contains(line),
            "missing {line:?} in\n{}",
            out.stdout
        );
    }
}

/// A runbook's check step runs the whole suite and reports every check that failed,
/// not only the first.
#[tokio::test]
async fn a_check_step_reports_every_failing_check() {
    let tmp = tempfile::tempdir().unwrap();
    let url = sqlite_app(tmp.path()).await;
    write(tmp.path(), "checks/shop/items.toml", SUITE);
    write(
        tmp.path(),
        "checks/shop/more.toml",
        "[[check]]\nid = \"no-us\"\nkind = \"no-rows\"\ntarget = \"app\"\nquery = \"SELECT id FROM items WHERE region = 'US'\"\n",
    );
    write(
        tmp.path(),
        "rb.toml",
        &format!(
            "name = \"rb\"\n[targets]\napp = \"{url}\"\n[[phases]]\nid = \"verify\"\n  [[phases.steps]]\n  id = \"shop-checks\"\n  kind = \"check\"\n  suite = \"checks/shop\"\n"
        ),
    );
    let out = cutover(tmp.path(), &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 1, "{}", out.all());
    let all = out.all();
    assert!(
        all.contains("check four-items failed: four-items: expected >= 4, got 3"),
        "{all}"
    );
    assert!(
        all.contains("check no-us failed: no-us: expected no rows, got 1 row(s)"),
        "{all}"
    );
    // the warning is reported, and does not fail the step
    assert!(!all.contains("check no-eu"), "{all}");
    let st = cutover(tmp.path(), &["status", "rb.toml", "--format", "json"]);
    assert!(
        st.stdout.contains("\"no-eu\""),
        "the evidence keeps every result: {}",
        st.stdout
    );
}

/// A check step names checks by id; an id the suite lacks, or a check reading a target
/// the runbook does not declare, is refused when the runbook is read (exit 2).
#[tokio::test]
async fn a_check_step_selects_checks_by_id_and_refuses_bad_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let url = sqlite_app(tmp.path()).await;
    write(tmp.path(), "checks/shop/items.toml", SUITE);
    let runbook = |checks: &str, target: &str| {
        format!(
            "name = \"rb\"\n[targets]\n{target} = \"{url}\"\n[[phases]]\nid = \"verify\"\n  [[phases.steps]]\n  id = \"shop-checks\"\n  kind = \"check\"\n  suite = \"checks/shop\"\n  checks = {checks}\n"
        )
    };
    write(
        tmp.path(),
        "ok.toml",
        &runbook("[\"three-items\", \"no-eu\"]", "app"),
    );
    let out = cutover(tmp.path(), &["run", "ok.toml", "--headless"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains(
            "✓ shop-checks: checks of checks/shop: 1 of 2 passed (1 passed, 0 failed, 1 warning(s)"
        ),
        "{}",
        out.stdout
    );

    write(
        tmp.path(),
        "typo.toml",
        &runbook("[\"three-itemz\"]", "app"),
    );
    let out = cutover(tmp.path(), &["validate", "typo.toml"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("typo.toml:10:12: no check \"three-itemz\"; the suite has three-items, four-items, no-eu"),
        "{}",
        out.stderr
    );

    write(
        tmp.path(),
        "undeclared.toml",
        &runbook("[\"three-items\"]", "shop_db"),
    );
    let out = cutover(tmp.path(), &["validate", "undeclared.toml"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("checks/shop/items.toml:5:10: check \"three-items\" reads target \"app\", which the runbook does not declare (declared: shop_db)"),
        "{}",
        out.stderr
    );
}
