//! Every kind of check, passing and failing, against real SQLite, PostgreSQL and
//! MariaDB: the verdict, and a message that shows expected and actual.

use cutover::checks::{self, RunOptions, Status};
use cutover::db::{Db, Dialect, TargetSpec, Targets};
use cutover::testkit::{self, TestDb};
use std::collections::BTreeMap;
use std::path::Path;

fn types(d: Dialect) -> (&'static str, &'static str) {
    match d {
        Dialect::Postgres => ("numeric(12,2)", "timestamp"),
        Dialect::Mysql => ("decimal(12,2)", "datetime"),
        Dialect::Sqlite => ("numeric", "text"),
    }
}

/// `a` and `b` hold the same `items`; `drifted` differs (one amount changed, one row
/// only on b); `cents` differs by 0.01 in one sum; `old_events` is two years stale;
/// b has a table a lacks (`only_b`).
async fn setup(db: &Db, is_b: bool, now: &str) {
    let (dec, ts) = types(db.dialect());
    let mut sql = vec![
        format!(
            "CREATE TABLE items (id int PRIMARY KEY, region varchar(10) NOT NULL, amount {dec} NOT NULL, updated_at {ts} NOT NULL)"
        ),
        format!(
            "INSERT INTO items VALUES (1, 'EU', 10.50, '{now}'), (2, 'EU', 20.25, '{now}'), (3, 'US', 5.00, '2024-01-01 00:00:00')"
        ),
        format!(
            "CREATE TABLE drifted (id int PRIMARY KEY, region varchar(10) NOT NULL, amount {dec} NOT NULL)"
        ),
        format!(
            "CREATE TABLE cents (id int PRIMARY KEY, region varchar(10) NOT NULL, amount {dec} NOT NULL)"
        ),
        format!("CREATE TABLE old_events (id int PRIMARY KEY, updated_at {ts} NOT NULL)"),
        "INSERT INTO old_events VALUES (1, '2020-01-01 00:00:00')".to_string(),
    ];
    if is_b {
        sql.push(
            "INSERT INTO drifted VALUES (1, 'EU', 10.00), (2, 'EU', 20.01), (3, 'US', 7.00)".into(),
        );
        sql.push("INSERT INTO cents VALUES (1, 'EU', 10.01)".into());
        sql.push("CREATE TABLE only_b (id int PRIMARY KEY)".into());
    } else {
        sql.push("INSERT INTO drifted VALUES (1, 'EU', 10.00), (2, 'EU', 20.00)".into());
        sql.push("INSERT INTO cents VALUES (1, 'EU', 10.00)".into());
    }
    for s in sql {
        db.execute(&s).await.unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

const CHECKS: &str = r#"
[params]
min_items = 3
region = "EU"

[[check]]
id = "pass-value-eq"
kind = "value"
target = "a"
query = "SELECT count(*) FROM items"
expect = 3

[[check]]
id = "pass-value-ops"
kind = "value"
target = "a"
query = "SELECT count(*) FROM items WHERE region = ${param:region}"
expect = "between 1 and 2"

[[check]]
id = "pass-value-ge-param"
kind = "value"
target = "a"
query = "SELECT count(*) FROM items"
expect = ">= ${param:min_items}"

[[check]]
id = "pass-value-ne"
kind = "value"
target = "a"
query = "SELECT count(*) FROM items"
expect = "!= 0"

[[check]]
id = "pass-value-lt"
kind = "value"
target = "a"
query = "SELECT max(amount) FROM items"
expect = "< 20.26"

[[check]]
id = "pass-value-le"
kind = "value"
target = "a"
query = "SELECT max(amount) FROM items"
expect = "<= 20.25"

[[check]]
id = "pass-value-gt"
kind = "value"
target = "a"
query = "SELECT min(amount) FROM items"
expect = "> 4.99"

[[check]]
id = "pass-value-text"
kind = "value"
target = "a"
query = "SELECT region FROM items WHERE id = 3"
expect = "= 'US'"

[[check]]
id = "fail-value"
kind = "value"
description = "between ten and twenty items"
target = "a"
query = "SELECT count(*) FROM items"
expect = "between 10 and 20"

[[check]]
id = "pass-no-rows"
kind = "no-rows"
target = "a"
query = "SELECT id FROM items WHERE amount < 0"

[[check]]
id = "fail-no-rows"
kind = "no-rows"
target = "a"
query = "SELECT id, region FROM items WHERE region = 'EU' ORDER BY id"

[[check]]
id = "pass-row-count-match"
kind = "row-count-match"
targets = ["a", "b"]
table = "items"

[[check]]
id = "fail-row-count-match"
kind = "row-count-match"
targets = ["a", "b"]
table = "drifted"

[[check]]
id = "pass-reconcile"
kind = "reconcile"
targets = ["a", "b"]
table = "items"
group_by = ["region"]
columns = ["amount"]

[[check]]
id = "pass-reconcile-tolerance"
kind = "reconcile"
targets = ["a", "b"]
table = "cents"
group_by = ["region"]
columns = ["amount"]
tolerance = "0.01"

[[check]]
id = "fail-reconcile"
kind = "reconcile"
targets = ["a", "b"]
table = "cents"
group_by = ["region"]
columns = ["amount"]

[[check]]
id = "pass-freshness"
kind = "freshness"
target = "a"
table = "items"
column = "updated_at"
max_age = "1h"

[[check]]
id = "fail-freshness"
kind = "freshness"
target = "a"
table = "old_events"
column = "updated_at"
max_age = "1d"

[[check]]
id = "pass-latency"
kind = "latency"
target = "a"
query = "SELECT region FROM items WHERE id = 1"
runs = 10
warmup = 2
p95_under = "5s"

[[check]]
id = "fail-latency"
kind = "latency"
target = "a"
query = "SELECT region FROM items WHERE id = 1"
runs = 5
warmup = 1
p95_under = "1us"

[[check]]
id = "pass-schema"
kind = "schema"
target = "a"
snapshot = "a.json"

[[check]]
id = "fail-schema"
kind = "schema"
target = "b"
snapshot = "a.json"

[[check]]
id = "pass-data-diff"
kind = "data-diff"
targets = ["a", "b"]
table = "items"

[[check]]
id = "fail-data-diff"
kind = "data-diff"
targets = ["a", "b"]
table = "drifted"
"#;

async fn every_kind(a: TestDb, b: TestDb) {
    let label = a.dialect.name();
    let (da, db) = (a.connect().await, b.connect().await);
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
    setup(&da, false, &now).await;
    setup(&db, true, &now).await;
    let dir = tempfile::tempdir().unwrap();
    let snap = cutover::schema::snapshot::Snapshot::capture(
        &da,
        &cutover::schema::Filter::new(vec![], vec![]),
    )
    .await
    .unwrap();
    snap.write(&dir.path().join("a.json")).unwrap();
    da.close().await;
    db.close().await;
    let file = dir.path().join("kinds.toml");
    std::fs::write(&file, CHECKS).unwrap();
    let loaded = checks::load(&[file], &BTreeMap::new()).unwrap();
    let specs: BTreeMap<String, TargetSpec> = [("a", &a), ("b", &b)]
        .into_iter()
        .map(|(n, t)| {
            (
                n.to_string(),
                TargetSpec {
                    name: n.into(),
                    url: t.url.clone(),
                    redacted: cutover::redact::redact_url(&t.url),
                    dialect: t.dialect,
                },
            )
        })
        .collect();
    let targets = Targets::new(specs).with_max_connections(2);
    let results = checks::run_checks(&loaded.checks, &targets, RunOptions::default()).await;
    targets.close_all().await;

    // every kind appears both passing and failing
    for kind in checks::KIND_NAMES {
        for verdict in ["pass", "fail"] {
            assert!(
                results
                    .iter()
                    .any(|r| r.kind == *kind && r.id.starts_with(verdict)),
                "{label}: no {verdict} case for {kind}"
            );
        }
    }
    for r in &results {
        eprintln!(
            "{label}: {} {}: {} | {:?}",
            r.verdict(),
            r.id,
            r.message,
            r.details
        );
        let want = if r.id.starts_with("pass") {
            Status::Passed
        } else {
            Status::Failed
        };
        assert_eq!(r.status, want, "{label}: {} → {}", r.id, r.message);
        assert!(
            !r.expected.is_empty() && !r.actual.is_empty(),
            "{label}: {}",
            r.id
        );
        if want == Status::Failed {
            assert!(
                r.message
                    .contains(&format!("expected {}, got {}", r.expected, r.actual)),
                "{label}: {}",
                r.message
            );
        }
    }
    let by = |id: &str| results.iter().find(|r| r.id == id).unwrap();
    let m = |id: &str| by(id).message.clone();
    assert_eq!(
        m("fail-value"),
        "between ten and twenty items: expected between 10 and 20, got 3"
    );
    assert_eq!(by("fail-no-rows").actual, "2 row(s)");
    assert_eq!(
        by("fail-no-rows").details,
        vec!["id=1, region=EU".to_string(), "id=2, region=EU".to_string()],
        "{label}: the rows returned are listed"
    );
    assert!(
        m("fail-row-count-match").ends_with("got a 2, b 3"),
        "{label}"
    );
    let rec = by("fail-reconcile");
    assert_eq!(rec.actual, "1 of 1 group(s) differ", "{label}");
    assert!(
        rec.details[0].starts_with("region=EU: sum(amount) 10")
            && rec.details[0].contains(" on a, 10.01 on b"),
        "{label}: {:?}",
        rec.details
    );
    assert!(
        m("fail-freshness").contains(
            "expected latest old_events.updated_at at most 1d old, got latest 2020-01-01"
        ),
        "{label}: {}",
        m("fail-freshness")
    );
    let lat = by("fail-latency");
    assert!(
        lat.message.contains("expected p95 < 1us, got p95 "),
        "{}",
        lat.message
    );
    let l = lat.latency.as_ref().expect("latency figures");
    assert!(l.p50_ms <= l.p95_ms && l.p95_ms <= l.max_ms && l.runs == 5);
    assert!(
        by("fail-schema")
            .details
            .iter()
            .any(|d| d.contains("only_b")),
        "{label}: {:?}",
        by("fail-schema").details
    );
    let dd = by("fail-data-diff");
    assert!(
        dd.actual
            .starts_with("2 differing row(s): 0 only on a, 1 only on b, 1 changed"),
        "{label}: {}",
        dd.actual
    );
    assert!(
        dd.details
            .iter()
            .any(|d| d.starts_with("changed id=2: amount: 20")),
        "{label}: {:?}",
        dd.details
    );
}

#[tokio::test]
async fn every_kind_passes_and_fails_on_sqlite() {
    every_kind(testkit::sqlite().await, testkit::sqlite().await).await;
}

#[tokio::test]
async fn every_kind_passes_and_fails_on_postgres() {
    let (Some(a), Some(b)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    every_kind(a, b).await;
}

#[tokio::test]
async fn every_kind_passes_and_fails_on_mariadb() {
    let (Some(a), Some(b)) = (testkit::mysql().await, testkit::mysql().await) else {
        return;
    };
    every_kind(a, b).await;
}

#[test]
fn check_files_under_checks_all_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("checks");
    let loaded = checks::load(&[root], &BTreeMap::new()).unwrap();
    assert!(loaded.checks.iter().any(|c| c.id == "npa-lookup-latency"));
}
