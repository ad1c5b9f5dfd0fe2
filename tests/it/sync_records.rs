//! `sync` with `log_table` and `deltas_table` on each engine as the target: a log row
//! per table settled `equal`, a deltas row per change (an update per cell, NULL kept
//! NULL), written with the changes; `export-csv` with `this_run` writes this run's rows
//! only; and the runbook mistakes refused with their line.

use super::support::*;
use cutover::db::Value;
use cutover::testkit::{self, TestDb};

fn runbook(src: &str, dst: &str, extra: &str) -> String {
    format!(
        "name = \"rec\"\n[targets]\nsrc = \"{src}\"\ndst = \"{dst}\"\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"sync\"\n  kind = \"sync\"\n  source = \"src\"\n  target = \"dst\"\n  tables = [\"items\"]\n{extra}"
    )
}

async fn seed(db: &TestDb, rows: &str) {
    let c = db.connect().await;
    c.execute("CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40), price DECIMAL(10,2))")
        .await
        .unwrap();
    c.execute(&format!("INSERT INTO items VALUES {rows}"))
        .await
        .unwrap();
    c.close().await;
}

async fn rows(db: &TestDb, sql: &str) -> Vec<Vec<Value>> {
    let c = db.connect().await;
    let r = c.query(sql, &[]).await.unwrap();
    c.close().await;
    r.rows
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn a_sync_logs_each_table_and_records_each_change_on_every_engine() {
    for dst in testkit::all_engines().await {
        let what = format!("{:?}", dst.dialect);
        let src = testkit::sqlite().await;
        seed(
            &src,
            "(1, 'one', 1.50), (2, 'two', NULL), (4, 'four', 4.00)",
        )
        .await;
        seed(
            &dst,
            "(1, 'one', 1.50), (2, 'zwei', 2.00), (3, 'three', 3.00)",
        )
        .await;
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(
            d.join("rec.toml"),
            runbook(
                &src.url,
                &dst.url,
                "  log_table = \"sync_log\"\n  deltas_table = \"sync_deltas\"\n  [[phases.steps]]\n  id = \"deltas\"\n  kind = \"export-csv\"\n  target = \"dst\"\n  table = \"sync_deltas\"\n  this_run = true\n  out = \"deltas.csv\"\n",
            ),
        )
        .unwrap();
        let out = cutover(d, &["run", "rec.toml", "--headless"]);
        assert_eq!(out.code, 0, "{what}: {}", out.all());
        assert!(
            out.all()
                .contains("1 inserted, 1 updated, 1 deleted; 4 change(s) recorded in sync_deltas"),
            "{what}: {}",
            out.all()
        );

        let log = rows(
            &dst,
            "SELECT table_name, inserted, updated, deleted, rows_after, status FROM sync_log",
        )
        .await;
        let log: Vec<String> = log
            .iter()
            .map(|r| r.iter().map(text).collect::<Vec<_>>().join("|"))
            .collect();
        assert_eq!(log, ["items|1|1|1|3|equal"], "{what}");

        let deltas = rows(
            &dst,
            "SELECT delta, row_key, column_name, target_value, source_value FROM sync_deltas ORDER BY seq",
        )
        .await;
        let deltas: Vec<String> = deltas
            .iter()
            .map(|r| r.iter().map(text).collect::<Vec<_>>().join("|"))
            .collect();
        assert_eq!(deltas.len(), 4, "{what}: {deltas:#?}");
        assert!(
            deltas.contains(&"update|id=2|name|zwei|two".to_string()),
            "{what}: {deltas:#?}"
        );
        // the source's price is NULL: recorded as NULL, not as text
        assert!(
            deltas
                .iter()
                .any(|d| d.starts_with("update|id=2|price|2") && d.ends_with("|NULL")),
            "{what}: {deltas:#?}"
        );
        assert!(
            deltas.iter().any(|d| d.starts_with("delete|id=3|NULL|{")
                && d.contains("\"three\"")
                && d.ends_with("|NULL")),
            "{what}: {deltas:#?}"
        );
        assert!(
            deltas
                .iter()
                .any(|d| d.starts_with("insert|id=4|NULL|NULL|{") && d.contains("\"four\"")),
            "{what}: {deltas:#?}"
        );
        let csv = std::fs::read_to_string(d.join("deltas.csv")).unwrap();
        assert_eq!(csv.lines().count(), 5, "{what}: {csv}");
        // the price cell written NULL is an empty field in the CSV, never the text NULL
        let price = csv
            .lines()
            .find(|l| l.contains(",items,update,id=2,price,"))
            .unwrap();
        assert!(
            price.ends_with(',') && !price.contains("NULL"),
            "{what}: {csv}"
        );
    }
}

#[tokio::test]
async fn a_log_table_that_is_synced_or_doubles_as_the_deltas_table_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (extra, says) in [
        (
            "  log_table = \"items\"\n",
            "`log_table` \"items\" is one of the tables synced",
        ),
        (
            "  log_table = \"x\"\n  deltas_table = \"x\"\n",
            "`log_table` and `deltas_table` must be different tables",
        ),
    ] {
        std::fs::write(
            d.join("bad.toml"),
            runbook("sqlite://a.db", "sqlite://b.db", extra),
        )
        .unwrap();
        let out = cutover(d, &["validate", "bad.toml"]);
        assert_eq!(out.code, 2, "{}", out.all());
        assert!(
            out.all().contains(says) && out.all().contains("bad.toml:1"),
            "{}",
            out.all()
        );
    }
    std::fs::write(
        d.join("bad.toml"),
        "name = \"x\"\n[targets]\na = \"sqlite://a.db\"\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"e\"\n  kind = \"export-csv\"\n  target = \"a\"\n  query = \"SELECT 1\"\n  this_run = true\n  out = \"x.csv\"\n",
    )
    .unwrap();
    let out = cutover(d, &["validate", "bad.toml"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all().contains("bad.toml:11") && out.all().contains("`this_run` filters a `table`"),
        "{}",
        out.all()
    );
}
