//! The `backfill` step on SQLite, PostgreSQL and MariaDB: orders get their customer by
//! e-mail in batches, the orphans land in `validation_errors` (and a CSV) with the
//! reason, the success rate gates the step; a batch whose expression fails rolls back
//! alone and a fixed rerun continues after it; `kill -9` after a committed batch
//! resumes to the same end state with no row filled twice.

use super::examples_billing_mysql::scalar_at;
use super::support::*;
use cutover::testkit::{self, TestDb};
use std::path::Path;

/// 50 orders: ids 1-40 match a customer exactly, 41-46 only after lower(trim()),
/// 47-50 match nobody.
pub async fn seed(db: &TestDb) {
    let c = db.connect().await;
    c.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL)")
        .await
        .unwrap();
    c.execute("CREATE TABLE consumer_orders (id INTEGER PRIMARY KEY, email VARCHAR(100), customer_id INTEGER CHECK (customer_id < 1000), amount INTEGER NOT NULL)")
        .await
        .unwrap();
    let customers: Vec<String> = (1..=46)
        .map(|i| format!("({}, 'user{i}@example.com')", 100 + i))
        .collect();
    c.execute(&format!(
        "INSERT INTO customers VALUES {}",
        customers.join(", ")
    ))
    .await
    .unwrap();
    let orders: Vec<String> = (1..=50)
        .map(|i| {
            let email = match i {
                1..=40 => format!("user{i}@example.com"),
                41..=46 => format!(" User{i}@Example.COM "),
                _ => format!("stranger{i}@example.com"),
            };
            format!("({i}, '{email}', NULL, {})", i * 3)
        })
        .collect();
    c.execute(&format!(
        "INSERT INTO consumer_orders VALUES {}",
        orders.join(", ")
    ))
    .await
    .unwrap();
    c.close().await;
}

fn runbook(url: &str, fill: &str, extra: &str) -> String {
    format!(
        r#"name = "bf"
[targets]
app = "{url}"

[[phases]]
id = "p"
  [[phases.steps]]
  id = "fill"
  kind = "backfill"
  target = "app"
  table = "consumer_orders"
  column = "customer_id"
  {fill}
  batch = 7
  {extra}
"#
    )
}

const BY_EMAIL: &str = r#"from = "customers"
  value = "customers.id"
  on = "lower(trim(customers.email)) = lower(trim(consumer_orders.email))""#;
const EXACT: &str = r#"from = "customers"
  value = "customers.id"
  on = "customers.email = consumer_orders.email""#;

fn status(dir: &Path) -> serde_json::Value {
    let st = cutover(dir, &["status", "rb.toml", "--format", "json"]);
    serde_json::from_str(&st.stdout).unwrap_or_else(|e| panic!("{e}: {}", st.all()))
}

fn evidence(dir: &Path, step: &str) -> serde_json::Value {
    let v = status(dir);
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == step)
        .unwrap_or_else(|| panic!("{step} in {v}"))["evidence"]
        .clone()
}

/// Every order's (id, customer_id) and the validation table's keys, as text.
async fn end_state(url: &str) -> (String, String) {
    let db = cutover::db::connect(url).await.unwrap();
    let orders = db
        .query(
            "SELECT id, customer_id FROM consumer_orders ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    let errs = db
        .query(
            "SELECT row_key, reason FROM validation_errors ORDER BY length(row_key), row_key",
            &[],
        )
        .await
        .unwrap();
    db.close().await;
    let show = |rows: &cutover::db::Rows| {
        rows.rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("=")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    (show(&orders), show(&errs))
}

#[tokio::test]
async fn backfill_by_email_fills_matches_captures_orphans_and_reports_the_rate() {
    for db in testkit::all_engines().await {
        seed(&db).await;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(
            dir.join("rb.toml"),
            runbook(
                &db.url,
                BY_EMAIL,
                "errors_csv = \"out/orphans.csv\"\n  min_success_rate = 0.9",
            ),
        )
        .unwrap();
        let v = cutover(dir, &["validate", "rb.toml"]);
        assert_eq!(v.code, 0, "{}", v.all());
        assert!(v.stdout.contains("7 rows per transaction"), "{}", v.stdout);
        let r = cutover(dir, &["run", "rb.toml", "--headless"]);
        let e = db.dialect.name();
        assert_eq!(r.code, 0, "{e}: {}", r.all());
        assert!(
            r.stdout.contains("46 of 50 row(s) of consumer_orders.customer_id filled, 4 left NULL (in validation_errors), success rate 92%, 8 batch(es)"),
            "{e}: {}",
            r.stdout
        );
        assert!(
            r.stdout.contains("/50 rows ("),
            "{e}: progress in rows of the NULLs there were: {}",
            r.stdout
        );
        let ev = evidence(dir, "fill");
        assert_eq!(ev["rows_filled"], 46, "{e}: {ev}");
        assert_eq!(ev["rows_unfilled"], 4, "{e}: {ev}");
        assert_eq!(ev["success_rate"], 0.92, "{e}: {ev}");
        assert_eq!(ev["batches"], 8, "{e}: {ev}");
        let (orders, errs) = end_state(&db.url).await;
        assert!(orders.starts_with("1=101 2=102 "), "{e}: {orders}");
        assert!(
            orders.contains(" 41=141 "),
            "{e}: lower(trim()) matched: {orders}"
        );
        assert!(
            orders.ends_with("46=146 47=NULL 48=NULL 49=NULL 50=NULL"),
            "{e}: {orders}"
        );
        assert_eq!(
            errs,
            "47=no row of customers matches 48=no row of customers matches 49=no row of customers matches 50=no row of customers matches",
            "{e}"
        );
        let csv = std::fs::read_to_string(dir.join("out/orphans.csv")).unwrap();
        assert_eq!(
            csv,
            "table,column,key,reason\nconsumer_orders,customer_id,47,no row of customers matches\nconsumer_orders,customer_id,48,no row of customers matches\nconsumer_orders,customer_id,49,no row of customers matches\nconsumer_orders,customer_id,50,no row of customers matches\n",
            "{e}"
        );
        // The ledger holds each batch's high-water mark.
        let export = cutover(dir, &["audit", "export", "rb.toml", "--format", "jsonl"]);
        let marks: Vec<&str> = export
            .stdout
            .lines()
            .filter(|l| l.contains("batch_committed"))
            .collect();
        assert_eq!(marks.len(), 8, "{e}: {}", export.stdout);
        assert!(
            marks[7].contains("\"high_water\":\"50\""),
            "{e}: {}",
            marks[7]
        );
    }
}

#[tokio::test]
async fn a_success_rate_below_the_minimum_fails_the_step_with_its_evidence() {
    for db in testkit::all_engines().await {
        seed(&db).await;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(
            dir.join("rb.toml"),
            runbook(&db.url, EXACT, "min_success_rate = 0.95"),
        )
        .unwrap();
        let r = cutover(dir, &["run", "rb.toml", "--headless"]);
        let e = db.dialect.name();
        assert_eq!(r.code, 1, "{e}: {}", r.all());
        assert!(
            r.all().contains("success rate 80% (40 of 50 row(s) filled) is below min_success_rate 95%; the 10 row(s) not filled are in validation_errors"),
            "{e}: {}",
            r.all()
        );
        let ev = evidence(dir, "fill");
        assert_eq!(ev["rows_filled"], 40, "{e}: {ev}");
        assert_eq!(ev["rows_unfilled"], 10, "{e}: {ev}");
        assert_eq!(
            scalar_at(&db.url, "SELECT count(*) FROM validation_errors").await,
            "10",
            "{e}"
        );
    }
}

#[tokio::test]
async fn a_batch_whose_expression_fails_rolls_back_alone_and_a_fixed_rerun_continues_after_it() {
    for db in testkit::all_engines().await {
        seed(&db).await;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        // id * 50 breaks the CHECK (customer_id < 1000) from id 20: batch 3 (15..21).
        std::fs::write(
            dir.join("rb.toml"),
            runbook(&db.url, "expression = \"consumer_orders.id * 50\"", ""),
        )
        .unwrap();
        let r = cutover(dir, &["run", "rb.toml", "--headless"]);
        let e = db.dialect.name();
        assert_eq!(r.code, 3, "{e}: {}", r.all());
        assert!(
            r.all().contains(
                "batch 3 of consumer_orders.customer_id (id after 14 up to 21) failed while filling"
            ),
            "{e}: {}",
            r.all()
        );
        assert!(
            r.all().contains("that batch was rolled back; the high-water mark stays at id = 14, with 14 row(s) filled before it"),
            "{e}: {}",
            r.all()
        );
        assert_eq!(
            scalar_at(
                &db.url,
                "SELECT count(*) FROM consumer_orders WHERE customer_id IS NOT NULL"
            )
            .await,
            "14",
            "{e}: only the two committed batches"
        );
        // Fixed: the run continues after id 14, and rows 1-14 keep what they got.
        std::fs::write(
            dir.join("rb.toml"),
            runbook(&db.url, "expression = \"consumer_orders.id * 10\"", ""),
        )
        .unwrap();
        let r = cutover(dir, &["run", "rb.toml", "--headless"]);
        assert_eq!(r.code, 0, "{e}: {}", r.all());
        assert!(r.stdout.contains("50 of 50 row(s)"), "{e}: {}", r.stdout);
        let ev = evidence(dir, "fill");
        assert_eq!(ev["resumed_after"], "14", "{e}: {ev}");
        let (orders, _) = end_state(&db.url).await;
        assert!(orders.starts_with("1=50 2=100 "), "{e}: {orders}");
        assert!(orders.contains(" 14=700 15=150 "), "{e}: {orders}");
        assert!(orders.ends_with(" 50=500"), "{e}: {orders}");
    }
}

#[tokio::test]
async fn kill_9_after_a_committed_batch_resumes_to_the_uninterrupted_end_state() {
    for db in testkit::all_engines().await {
        let Some(reference) = (match db.dialect {
            cutover::db::Dialect::Postgres => testkit::postgres().await,
            cutover::db::Dialect::Mysql => testkit::mysql().await,
            _ => Some(testkit::sqlite().await),
        }) else {
            continue;
        };
        let e = db.dialect.name();
        seed(&db).await;
        seed(&reference).await;
        let tmp = tempfile::tempdir().unwrap();
        let (dir, ref_dir) = (tmp.path().join("a"), tmp.path().join("b"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&ref_dir).unwrap();
        std::fs::write(dir.join("rb.toml"), runbook(&db.url, BY_EMAIL, "")).unwrap();
        std::fs::write(
            ref_dir.join("rb.toml"),
            runbook(&reference.url, BY_EMAIL, ""),
        )
        .unwrap();
        let whole = cutover(&ref_dir, &["run", "rb.toml", "--headless"]);
        assert_eq!(whole.code, 0, "{e}: {}", whole.all());

        let killed = cutover_env(
            &dir,
            &["run", "rb.toml", "--headless"],
            &[("CUTOVER_CRASH_AT", "backfill:fill:3")],
        );
        assert_eq!(killed.code, -1, "{e}: killed by SIGKILL: {}", killed.all());
        assert_eq!(
            scalar_at(
                &db.url,
                "SELECT count(*) FROM consumer_orders WHERE customer_id IS NOT NULL"
            )
            .await,
            "21",
            "{e}: three batches committed before the kill"
        );
        let resumed = cutover(&dir, &["run", "rb.toml", "--headless"]);
        assert_eq!(resumed.code, 0, "{e}: {}", resumed.all());
        let ev = evidence(&dir, "fill");
        assert!(
            ev["notes"][0].as_str().unwrap_or("").contains(
                "the target had committed batch 3 (up to 21) that the ledger had not recorded"
            ),
            "{e}: {ev}"
        );
        assert!(
            resumed.stdout.contains("46 of 50 row(s) of consumer_orders.customer_id filled, 4 left NULL (in validation_errors), success rate 92%, 8 batch(es), resumed after 21"),
            "{e}: counted once: {}",
            resumed.stdout
        );
        assert_eq!(
            end_state(&db.url).await,
            end_state(&reference.url).await,
            "{e}"
        );
        assert_eq!(ev["resumed_after"], "21", "{e}: {ev}");
        assert_eq!(ev["batches"], 8, "{e}: {ev}");
        let export = cutover(&dir, &["audit", "export", "rb.toml", "--format", "jsonl"]);
        let marks = export
            .stdout
            .lines()
            .filter(|l| l.contains("batch_committed"))
            .count();
        assert_eq!(
            marks, 8,
            "{e}: one ledger mark per batch: {}",
            export.stdout
        );
    }
}

/// A batch that runs longer than `statement_timeout_ms` is stopped by the server
/// (PostgreSQL `statement_timeout`, MariaDB `SET STATEMENT max_statement_time … FOR`):
/// the step fails naming the batch and its key range, and nothing of it is kept.
#[tokio::test]
async fn a_batch_over_its_statement_timeout_is_stopped_by_the_server_and_named() {
    let mut dbs = Vec::new();
    if let Some(pg) = testkit::postgres().await {
        dbs.push((
            pg,
            "expression = \"consumer_orders.id + length(pg_sleep(0.2)::text)\"",
            "canceling statement due to statement timeout",
        ));
    }
    if let Some(my) = testkit::mysql().await {
        dbs.push((
            my,
            "expression = \"consumer_orders.id + SLEEP(0.2)\"",
            "max_statement_time",
        ));
    }
    for (db, slow, says) in dbs {
        seed(&db).await;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(
            dir.join("rb.toml"),
            runbook(&db.url, slow, "statement_timeout_ms = 300"),
        )
        .unwrap();
        let e = db.dialect.name();
        let plan = cutover(dir, &["validate", "rb.toml"]);
        assert!(
            plan.all().contains("statement timeout 300 ms"),
            "{e}: {}",
            plan.all()
        );
        let started = std::time::Instant::now();
        let r = cutover(dir, &["run", "rb.toml", "--headless"]);
        assert_eq!(r.code, 3, "{e}: {}", r.all());
        assert!(
            r.all().contains(
                "batch 1 of consumer_orders.customer_id (id from the first row up to 7) failed while filling"
            ) && r.all().contains(says),
            "{e}: {}",
            r.all()
        );
        // seven rows of 0.2 s each would take 1.4 s: the server stopped it before
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{e}"
        );
        assert_eq!(
            scalar_at(
                &db.url,
                "SELECT count(*) FROM consumer_orders WHERE customer_id IS NOT NULL"
            )
            .await,
            "0",
            "{e}: the batch was rolled back"
        );
    }
}

/// A key of two columns (the primary key, or `key = [...]`): batches and the high-water
/// mark follow (region, seq) in order; a failing batch is named by its two-column range
/// and the rerun continues after it; unfilled rows are keyed `region, seq`.
#[tokio::test]
async fn a_two_column_key_batches_resumes_and_names_its_range() {
    for db in testkit::all_engines().await {
        let c = db.connect().await;
        c.execute("CREATE TABLE readings (region VARCHAR(10) NOT NULL, seq INTEGER NOT NULL, v INTEGER, doubled INTEGER CHECK (doubled < 100), PRIMARY KEY (region, seq))")
            .await
            .unwrap();
        // ('b', 3) doubles past the CHECK; ('b', 5) has nothing to fill from
        let rows: Vec<String> = ["a", "b"]
            .iter()
            .flat_map(|r| {
                (1..=6).map(move |s| {
                    let v = match (*r, s) {
                        ("b", 3) => "60".to_string(),
                        ("b", 5) => "NULL".to_string(),
                        _ => (s * 5 + if *r == "b" { 1 } else { 0 }).to_string(),
                    };
                    format!("('{r}', {s}, {v}, NULL)")
                })
            })
            .collect();
        c.execute(&format!("INSERT INTO readings VALUES {}", rows.join(", ")))
            .await
            .unwrap();
        c.close().await;
        let e = db.dialect.name();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let rb = |expr: &str| {
            format!(
                "name = \"bf\"\n[targets]\napp = \"{}\"\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"fill\"\n  kind = \"backfill\"\n  target = \"app\"\n  table = \"readings\"\n  column = \"doubled\"\n  expression = \"{expr}\"\n  batch = 4\n",
                db.url
            )
        };
        std::fs::write(dir.join("rb.toml"), rb("readings.v * 2")).unwrap();
        let r = cutover(dir, &["run", "rb.toml", "--headless"]);
        assert_eq!(r.code, 3, "{e}: {}", r.all());
        assert!(
            r.all().contains("batch 3 of readings.doubled ((region, seq) after (b, 2) up to (b, 6)) failed while filling"),
            "{e}: {}",
            r.all()
        );
        assert!(
            r.all().contains("the high-water mark stays at (region, seq) = (b, 2), with 8 row(s) filled before it"),
            "{e}: {}",
            r.all()
        );
        // fixed: continues after (b, 2); the first eight keep their doubled values
        std::fs::write(dir.join("rb.toml"), rb("readings.v")).unwrap();
        let r = cutover(dir, &["run", "rb.toml", "--headless"]);
        assert_eq!(r.code, 0, "{e}: {}", r.all());
        assert!(
            r.stdout
                .contains("11 of 12 row(s) of readings.doubled filled, 1 left NULL"),
            "{e}: {}",
            r.stdout
        );
        assert_eq!(evidence(dir, "fill")["resumed_after"], "b, 2", "{e}");
        let filled = scalar_at(
            &db.url,
            "SELECT sum(doubled) FROM readings WHERE region = 'a' OR seq <= 2",
        )
        .await;
        // a: 2*(5+10+…+30) = 210; b1, b2 doubled: 12 + 22 = 34
        assert_eq!(filled, "244", "{e}: no row filled twice, none missed");
        assert_eq!(
            scalar_at(
                &db.url,
                "SELECT sum(doubled) FROM readings WHERE region = 'b' AND seq > 2"
            )
            .await,
            "112",
            "{e}: 60 + 21 + 31 after the fix"
        );
        assert_eq!(
            scalar_at(&db.url, "SELECT row_key FROM validation_errors").await,
            "b, 5",
            "{e}"
        );
    }
}
