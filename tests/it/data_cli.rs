//! `cutover diff data` and `cutover sync-check` as a user runs them: exit codes,
//! bad input named clearly, multiset compare, tolerance, emit/apply, lost connections.

use crate::support::output_in_scratch as cutover;
use cutover::db::Db;
use cutover::testkit;
use std::process::Output;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn exec(db: &Db, sql: &str) {
    for s in cutover::db::split_statements(sql) {
        db.execute(&s.sql).await.unwrap();
    }
}

async fn count(db: &Db, table: &str) -> i64 {
    db.query(
        &format!("SELECT COUNT(*) FROM {}", db.dialect().quote_ident(table)),
        &[],
    )
    .await
    .unwrap()
    .scalar()
    .and_then(|v| v.as_i64())
    .unwrap()
}

#[tokio::test]
async fn bad_input_names_the_table_column_duplicate_key_and_types() {
    let a = testkit::sqlite().await;
    let b = testkit::sqlite().await;
    let (da, db) = (a.connect().await, b.connect().await);
    exec(
        &da,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, born DATE);
         INSERT INTO t VALUES (1, 'ann', '2000-01-01'), (2, 'bob', '2000-01-02'), (3, 'ann', '2000-01-03');",
    )
    .await;
    exec(
        &db,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, born DATE);
         INSERT INTO t VALUES (1, 'ann', '2000-01-01'), (2, 'bob', '2000-01-02'), (3, 'ann', '2000-01-03');",
    )
    .await;
    let o = cutover(&[
        "diff", "data", "--source", &a.url, "--target", &b.url, "--table", "nope",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("table \"nope\" not found"),
        "{}",
        text(&o)
    );

    let o = cutover(&[
        "diff",
        "data",
        "--source",
        &a.url,
        "--target",
        &b.url,
        "--table",
        "t",
        "--columns",
        "name,nope",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("unknown column \"nope\""), "{}", text(&o));

    let o = cutover(&[
        "diff", "data", "--source", &a.url, "--target", &b.url, "--table", "t", "--key", "name",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("not unique") && text(&o).contains("name = ann"),
        "{}",
        text(&o)
    );

    let o = cutover(&[
        "diff", "data", "--source", &a.url, "--target", &b.url, "--table", "t",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // incompatible types between two servers need a stated mapping
    let (Some(p), Some(m)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    let (dp, dm) = (p.connect().await, m.connect().await);
    exec(
        &dp,
        "CREATE TABLE t (id INT PRIMARY KEY, v DATE); INSERT INTO t VALUES (1, '2020-01-01');",
    )
    .await;
    exec(
        &dm,
        "CREATE TABLE t (id INT PRIMARY KEY, v INT); INSERT INTO t VALUES (1, 5);",
    )
    .await;
    let o = cutover(&[
        "diff", "data", "--source", &p.url, "--target", &m.url, "--table", "t",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("\"v\": source date vs target int"),
        "{}",
        text(&o)
    );
    let o = cutover(&[
        "diff",
        "data",
        "--source",
        &p.url,
        "--target",
        &m.url,
        "--table",
        "t",
        "--compare-as",
        "v=text",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("v: 5 → 2020-01-01"), "{}", text(&o));
}

#[tokio::test]
async fn tables_without_a_key_compare_as_multisets_and_report_duplicates() {
    for (a, b) in [(testkit::sqlite().await, testkit::sqlite().await)]
        .into_iter()
        .chain(match (testkit::postgres().await, testkit::mysql().await) {
            (Some(p), Some(m)) => vec![(p, m)],
            _ => vec![],
        })
    {
        let (da, db) = (a.connect().await, b.connect().await);
        exec(&da, "CREATE TABLE log (who VARCHAR(10), n INT); INSERT INTO log VALUES ('a', 1), ('a', 1), ('a', 1), ('b', 2), ('c', NULL);").await;
        exec(&db, "CREATE TABLE log (who VARCHAR(10), n INT); INSERT INTO log VALUES ('a', 1), ('b', 2), ('b', 2), ('c', NULL);").await;
        let o = cutover(&[
            "diff", "data", "--source", &a.url, "--target", &b.url, "--table", "log", "--format",
            "jsonl",
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let summary = &lines.last().unwrap()["summary"];
        assert_eq!(summary["multiset"], true);
        assert_eq!(summary["only_in_source"], 2, "{lines:?}");
        assert_eq!(summary["only_in_target"], 1, "{lines:?}");
        assert_eq!(summary["duplicate_rows"], 2, "{lines:?}");
        assert!(
            lines.iter().any(|l| l["kind"] == "only_in_source"
                && l["count"] == 2
                && l["row"]["who"] == "a")
        );
        assert!(
            lines.iter().any(|l| l["kind"] == "only_in_target"
                && l["count"] == 1
                && l["row"]["who"] == "b")
        );

        // applying fixes the counts of each duplicate
        let o = cutover(&[
            "diff", "data", "--source", &a.url, "--target", &b.url, "--table", "log", "--apply",
            "--yes", "-q",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert_eq!(count(&db, "log").await, 5);
    }
}

#[tokio::test]
async fn tolerance_emit_sql_and_apply_with_confirmation_rules() {
    let a = testkit::sqlite().await;
    let Some(b) = testkit::postgres().await else {
        return;
    };
    let (da, db) = (a.connect().await, b.connect().await);
    exec(&da, "CREATE TABLE price (sku TEXT PRIMARY KEY, amount REAL, label TEXT);
        INSERT INTO price VALUES ('A-1', 10.0005, 'x'), ('a-1', 3, 'lower'), ('B', 2.5, NULL), ('C', 1, 'it''s');").await;
    exec(
        &db,
        "CREATE TABLE price (sku TEXT PRIMARY KEY, amount NUMERIC(12,4), label TEXT);
        INSERT INTO price VALUES ('A-1', 10.0000, 'x'), ('B', 2.5, ''), ('D', 9, 'gone');",
    )
    .await;
    let base = [
        "diff", "data", "--source", &a.url, "--target", &b.url, "--table", "price", "-q",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    // within tolerance: only the real differences
    let args = with(&["--tolerance", "amount=0.001", "--format", "json"]);
    let o = cutover(&args.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["only_in_source"], 2, "{v}"); // a-1 (case differs from A-1), C
    assert_eq!(v["summary"]["only_in_target"], 1);
    assert_eq!(v["summary"]["changed"], 1, "{v}"); // B: NULL vs ''
    assert_eq!(v["summary"]["column_changes"]["label"], 1);
    assert!(v["summary"]["notes"].to_string().contains("tolerance"));

    // without the tolerance the amount of A-1 differs too
    let o = cutover(
        &with(&["--format", "json"])
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["changed"], 2, "{v}");

    // --apply refuses without --yes when stdout is not a terminal; nothing applied
    let o = cutover(
        &with(&["--apply"])
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--yes"));
    assert_eq!(count(&db, "price").await, 3);

    // --emit-sql writes PostgreSQL statements with quoted literals
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("delta.sql");
    let fs = f.display().to_string();
    let o = cutover(
        &with(&["--emit-sql", &fs])
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let sql = std::fs::read_to_string(&f).unwrap();
    assert!(sql.contains("INSERT INTO \"price\""), "{sql}");
    assert!(sql.contains("'it''s'"), "{sql}");
    assert!(
        sql.contains("DELETE FROM \"price\" WHERE \"sku\" = 'D'"),
        "{sql}"
    );
    assert!(sql.contains("\"label\" = NULL"), "{sql}");
    assert_eq!(count(&db, "price").await, 3, "emit-sql must not apply");

    // --apply --yes --batch-commit: equal afterwards, recorded in the ledger
    let ledger_url = format!("sqlite://{}", dir.path().join("ledger.db").display());
    let o = cutover(
        &with(&[
            "--ledger",
            &ledger_url,
            "--apply",
            "--yes",
            "--batch-commit",
            "--batch-size",
            "2",
        ])
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("re-diff: equal"), "{}", text(&o));
    let ledger = cutover::ledger::Ledger::open(&ledger_url).await.unwrap();
    let recs = ledger.records(None).await.unwrap();
    let rec = recs
        .iter()
        .find(|r| r.kind == "data_applied")
        .expect("ledger record");
    let p = rec.payload_json();
    assert_eq!(p["inserts"], 2, "{p}");
    assert_eq!(p["deletes"], 1, "{p}");
    assert_eq!(p["updates"], 2, "{p}");
    assert_eq!(p["equal_after"], true, "{p}");
    let o = cutover(&base);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[tokio::test]
async fn a_connection_lost_mid_diff_is_exit_3_and_nothing_is_applied() {
    let (Some(a), Some(b)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    let (da, db) = (a.connect().await, b.connect().await);
    let setup = "CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 5000) g;";
    exec(&da, setup).await;
    exec(&db, setup).await;
    exec(&db, "DELETE FROM t WHERE id % 7 = 0").await;
    let before = count(&db, "t").await;
    // the server drops the connection when the scan reaches row 2500
    let o = cutover(&[
        "diff",
        "data",
        "--source",
        &a.url,
        "--target",
        &b.url,
        "--table",
        "t",
        "--apply",
        "--yes",
        "-q",
        "--where",
        "CASE WHEN id = 2500 THEN pg_terminate_backend(pg_backend_pid()) ELSE true END",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("error:"), "{}", text(&o));
    assert_eq!(count(&db, "t").await, before, "nothing may be applied");
}

#[tokio::test]
async fn sync_check_names_the_tables_out_of_step() {
    let a = testkit::sqlite().await;
    let Some(b) = testkit::mysql().await else {
        return;
    };
    let (da, db) = (a.connect().await, b.connect().await);
    let mut setup = String::new();
    for i in 0..30 {
        setup.push_str(&format!(
            "CREATE TABLE t{i} (id INT PRIMARY KEY, updated_at TIMESTAMP NULL);
             INSERT INTO t{i} VALUES (1, '2024-01-01 10:00:00'), (2, '2024-01-02 10:00:00');\n"
        ));
    }
    exec(&da, &setup).await;
    exec(&db, &setup).await;
    exec(&da, "UPDATE t7 SET updated_at = '2024-02-01 00:00:00' WHERE id = 2; DELETE FROM t9 WHERE id = 1;").await;
    let o = cutover(&[
        "sync-check",
        "--source",
        &a.url,
        "--target",
        &b.url,
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let out: Vec<&str> = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] != "in_step")
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    assert_eq!(out, vec!["t7", "t9"], "{v}");
    assert!(v["elapsed_ms"].as_u64().unwrap() < 1000, "{v}");

    let o = cutover(&[
        "sync-check",
        "--source",
        &a.url,
        "--target",
        &b.url,
        "--tables",
        "t7,t9",
        "--deep",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("t7 → t7: DIFFERENT") && t.contains("changes per column: updated_at 1"),
        "{t}"
    );
    assert!(
        t.contains("t9 → t9: DIFFERENT") && t.contains("only in target 1"),
        "{t}"
    );
}
