//! The `consolidate` step on SQLite, PostgreSQL and MariaDB: legacy `orders` merged into
//! `consumer_orders` by order number with mapped columns, a precedence rule per column,
//! conflicts in a table and a CSV, and a fixed correction; a batch that breaks a
//! constraint rolls back alone; `kill -9` after a committed batch resumes to the
//! uninterrupted end state.

use super::examples_billing_mysql::scalar_at;
use super::support::*;
use cutover::testkit::{self, TestDb};
use std::path::Path;

async fn seed(db: &TestDb, bad_total: bool) {
    let c = db.connect().await;
    c.execute("CREATE TABLE consumer_orders (order_number VARCHAR(20) PRIMARY KEY, email VARCHAR(100), status VARCHAR(20), amount INTEGER CHECK (amount >= 0), category VARCHAR(20))")
        .await
        .unwrap();
    c.execute("CREATE TABLE orders (order_no VARCHAR(20) PRIMARY KEY, customer_email VARCHAR(100), state VARCHAR(20), total INTEGER)")
        .await
        .unwrap();
    c.execute("INSERT INTO consumer_orders VALUES ('A1', 'a@x.org', 'paid', 10, NULL), ('A2', NULL, 'new', 20, NULL), ('A3', 'c@x.org', 'new', 30, NULL)")
        .await
        .unwrap();
    let l5 = if bad_total { -5 } else { 5 };
    c.execute(&format!("INSERT INTO orders VALUES ('A1', 'A@X.org', 'paid', 10), ('A2', 'B@x.org', 'shipped', 20), ('A3', 'c@x.org', 'cancelled', 35), ('L1', 'l1@x.org', 'paid', 1), ('L2', NULL, 'paid', 2), ('L3', 'l3@x.org', 'new', 3), ('L4', 'l4@x.org', 'new', 4), ('L5', 'l5@x.org', 'new', {l5}), ('L6', 'l6@x.org', 'paid', 6), ('L7', 'l7@x.org', 'paid', 7)"))
        .await
        .unwrap();
    c.close().await;
}

fn runbook(url: &str) -> String {
    format!(
        r#"name = "merge"
[targets]
app = "{url}"

[[phases]]
id = "p"
  [[phases.steps]]
  id = "merge-orders"
  kind = "consolidate"
  target = "app"
  into = "consumer_orders"
  from = "orders"
  key = "order_number"
  batch = 3
  conflicts_csv = "out/conflicts.csv"
  columns = {{ order_number = "order_no", email = "lower(customer_email)", status = "state", amount = "total" }}
  precedence = {{ status = "orders" }}
  [[phases.steps.corrections]]
  set = "category = 'legacy'"
  where = "order_number LIKE 'L%'"
"#
    )
}

fn evidence(dir: &Path, step: &str) -> serde_json::Value {
    let st = cutover(dir, &["status", "rb.toml", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == step)
        .unwrap_or_else(|| panic!("{step} in {v}"))["evidence"]
        .clone()
}

async fn end_state(url: &str) -> String {
    let db = cutover::db::connect(url).await.unwrap();
    let rows = db
        .query("SELECT order_number, email, status, amount, category FROM consumer_orders ORDER BY order_number", &[])
        .await
        .unwrap();
    let conflicts = db
        .query("SELECT row_key, column_name, target_value, source_value, resolution FROM consolidate_conflicts ORDER BY row_key, column_name", &[])
        .await
        .unwrap();
    db.close().await;
    let mut out = String::new();
    for r in rows.rows.iter().chain(&conflicts.rows) {
        out.push_str(
            &r.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("|"),
        );
        out.push('\n');
    }
    out
}

const EXPECTED: &str = "A1|a@x.org|paid|10|NULL
A2|b@x.org|shipped|20|NULL
A3|c@x.org|cancelled|30|NULL
L1|l1@x.org|paid|1|legacy
L2|NULL|paid|2|legacy
L3|l3@x.org|new|3|legacy
L4|l4@x.org|new|4|legacy
L5|l5@x.org|new|5|legacy
L6|l6@x.org|paid|6|legacy
L7|l7@x.org|paid|7|legacy
A2|status|new|shipped|orders wins
A3|amount|30|35|target kept
A3|status|new|cancelled|orders wins
";

#[tokio::test]
async fn consolidate_merges_by_key_with_precedence_conflicts_and_corrections() {
    for db in testkit::all_engines().await {
        let e = db.dialect.name();
        seed(&db, false).await;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join("rb.toml"), runbook(&db.url)).unwrap();
        let v = cutover(dir, &["validate", "rb.toml"]);
        assert_eq!(v.code, 0, "{e}: {}", v.all());
        assert!(
            v.stdout
                .contains("precedence: status: orders wins; legacy fills gaps elsewhere"),
            "{e}: {}",
            v.stdout
        );
        let r = cutover(dir, &["run", "rb.toml", "--headless"]);
        assert_eq!(r.code, 0, "{e}: {}", r.all());
        assert!(
            r.stdout.contains("consumer_orders ← orders: 7 inserted, 2 updated, 1 unchanged, 3 conflict(s) (in consolidate_conflicts); corrected 7 row(s): category = 'legacy'"),
            "{e}: {}",
            r.stdout
        );
        assert_eq!(end_state(&db.url).await, EXPECTED, "{e}");
        let ev = evidence(dir, "merge-orders");
        assert_eq!(ev["sources"][0]["rows_read"], 10, "{e}: {ev}");
        assert_eq!(ev["sources"][0]["batches"], 4, "{e}: {ev}");
        assert_eq!(
            ev["conflict_rows"][1]["resolution"], "target kept",
            "{e}: {ev}"
        );
        let csv = std::fs::read_to_string(dir.join("out/conflicts.csv")).unwrap();
        assert_eq!(
            csv,
            "source,key,column,target_value,source_value,resolution\norders,A2,status,new,shipped,orders wins\norders,A3,amount,30,35,target kept\norders,A3,status,new,cancelled,orders wins\n",
            "{e}"
        );
    }
}

#[tokio::test]
async fn a_batch_breaking_a_constraint_rolls_back_alone_and_bad_mappings_are_refused() {
    for db in testkit::all_engines().await {
        let e = db.dialect.name();
        seed(&db, true).await;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join("rb.toml"), runbook(&db.url)).unwrap();
        let r = cutover(dir, &["run", "rb.toml", "--headless"]);
        assert_eq!(r.code, 3, "{e}: {}", r.all());
        // Batches: A1-A3, L1-L3, L4-L6 (holds L5 = -5).
        assert!(
            r.all().contains(
                "consolidate orders → consumer_orders: batch 3 (keys after L3 up to L6) failed"
            ),
            "{e}: {}",
            r.all()
        );
        assert!(
            r.all().contains("the high-water mark stays at L3"),
            "{e}: {}",
            r.all()
        );
        assert_eq!(
            scalar_at(&db.url, "SELECT count(*) FROM consumer_orders").await,
            "6",
            "{e}: A1-A3 and the first three legacy rows"
        );
        // A mapping to a column the target lacks: exit 2, naming it.
        let bad =
            runbook(&db.url).replace("amount = \"total\"", "amount = \"total\", discount = \"0\"");
        std::fs::write(dir.join("rb.toml"), bad).unwrap();
        let r = cutover(dir, &["run", "rb.toml", "--headless"]);
        assert_eq!(r.code, 2, "{e}: {}", r.all());
        assert!(
            r.all()
                .contains("`columns` maps \"discount\", which consumer_orders does not have"),
            "{e}: {}",
            r.all()
        );
    }
}

#[tokio::test]
async fn kill_9_after_a_committed_batch_resumes_to_the_uninterrupted_end_state() {
    for db in testkit::all_engines().await {
        let e = db.dialect.name();
        seed(&db, false).await;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join("rb.toml"), runbook(&db.url)).unwrap();
        let killed = cutover_env(
            dir,
            &["run", "rb.toml", "--headless"],
            &[("CUTOVER_CRASH_AT", "consolidate:merge-orders:2")],
        );
        assert_eq!(killed.code, -1, "{e}: killed by SIGKILL: {}", killed.all());
        assert_eq!(
            scalar_at(&db.url, "SELECT count(*) FROM consumer_orders").await,
            "6",
            "{e}"
        );
        let resumed = cutover(dir, &["run", "rb.toml", "--headless"]);
        assert_eq!(resumed.code, 0, "{e}: {}", resumed.all());
        assert!(
            resumed
                .stdout
                .contains("7 inserted, 2 updated, 1 unchanged, 3 conflict(s)"),
            "{e}: counted once across the kill: {}",
            resumed.stdout
        );
        assert!(
            resumed.stdout.contains("resumed after L3"),
            "{e}: {}",
            resumed.stdout
        );
        assert_eq!(
            end_state(&db.url).await,
            EXPECTED,
            "{e}: the uninterrupted run's end state"
        );
        let ev = evidence(dir, "merge-orders");
        assert!(
            ev["notes"][0].as_str().unwrap_or("").contains(
                "the target had committed batch 2 (up to L3) that the ledger had not recorded"
            ),
            "{e}: {ev}"
        );
    }
}

#[tokio::test]
async fn with_two_legacy_tables_the_named_one_wins_its_column_and_the_other_only_fills_gaps() {
    for db in testkit::all_engines().await {
        let e = db.dialect.name();
        seed(&db, false).await;
        let c = db.connect().await;
        c.execute("CREATE TABLE orders_archive (order_no VARCHAR(20) PRIMARY KEY, customer_email VARCHAR(100), state VARCHAR(20), total INTEGER)")
            .await
            .unwrap();
        // A2: the archive says 'returned' (orders says 'shipped'); L2: the archive has the
        // e-mail orders lacks; X1 only in the archive.
        c.execute("INSERT INTO orders_archive VALUES ('A2', 'b@x.org', 'returned', 20), ('L2', 'l2@x.org', 'paid', 2), ('X1', 'x1@x.org', 'new', 9)")
            .await
            .unwrap();
        c.close().await;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let rb = runbook(&db.url)
            .replace(
                "from = \"orders\"",
                "from = [\"orders\", \"orders_archive\"]",
            )
            .replace(
                "precedence = { status = \"orders\" }",
                "precedence = { status = \"orders_archive\" }",
            );
        std::fs::write(dir.join("rb.toml"), rb).unwrap();
        let r = cutover(dir, &["run", "rb.toml", "--headless"]);
        assert_eq!(r.code, 0, "{e}: {}", r.all());
        assert!(
            r.stdout.contains("consumer_orders ← orders, orders_archive: 8 inserted, 3 updated, 2 unchanged, 4 conflict(s)"),
            "{e}: {}",
            r.stdout
        );
        let state = end_state(&db.url).await;
        // The archive wins status over both the storefront and orders; orders' status
        // conflicts are resolved "target kept" because it is not the named source.
        assert!(
            state.contains("A2|b@x.org|returned|20|NULL"),
            "{e}: {state}"
        );
        assert!(state.contains("A3|c@x.org|new|30|NULL"), "{e}: {state}");
        assert!(
            state.contains("L2|l2@x.org|paid|2|legacy"),
            "{e}: the archive filled the gap: {state}"
        );
        assert!(state.contains("X1|x1@x.org|new|9|NULL"), "{e}: {state}");
        assert!(
            state.contains("A2|status|new|returned|orders_archive wins"),
            "{e}: {state}"
        );
    }
}
