//! Snapshots: capturing the same database twice gives the same bytes; any single DDL
//! (or data) change afterwards is reported as drift naming the object; corrupt and
//! newer-format files are clear bad-input errors.

use crate::schema_support::*;
use cutover::db::Db;
use cutover::schema::Filter;
use cutover::schema::snapshot::{self, Snapshot};
use cutover::testkit;

const BASE: &str = r#"
    CREATE TABLE "Customers" (id INT PRIMARY KEY, "Email" VARCHAR(100) NOT NULL, tier VARCHAR(10) DEFAULT 'free');
    CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, total DECIMAL(10,2),
        CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id) REFERENCES "Customers" (id));
    CREATE INDEX orders_customer ON orders (customer_id, total);
    CREATE INDEX orders_total ON orders (total);
    CREATE VIEW big AS SELECT id FROM orders WHERE total > 100;
    INSERT INTO "Customers" VALUES (1, 'a@x', 'pro'), (2, 'b@x', NULL);
    INSERT INTO orders VALUES (10, 1, 150.00), (11, 2, 20.50), (12, NULL, NULL);
"#;

/// Single changes, each of which must show as drift naming `what`.
const CHANGES: &[(&str, &str)] = &[
    (r#"ALTER TABLE orders ADD COLUMN note VARCHAR(20)"#, "note"),
    (r#"ALTER TABLE "Customers" DROP COLUMN tier"#, "tier"),
    (
        r#"CREATE INDEX cust_email ON "Customers" ("Email")"#,
        "cust_email",
    ),
    (r#"DROP INDEX orders_total"#, "orders_total"),
    (r#"CREATE TABLE extra_table (id INT)"#, "extra_table"),
    (r#"DROP VIEW big"#, "big"),
    (
        r#"CREATE VIEW small AS SELECT id FROM orders WHERE total < 10"#,
        "small",
    ),
    (r#"INSERT INTO orders VALUES (13, 1, 1.00)"#, "orders"),
    (
        r#"UPDATE "Customers" SET "Email" = 'c@x' WHERE id = 2"#,
        "Customers",
    ),
    (r#"DELETE FROM orders WHERE id = 12"#, "orders"),
];

async fn capture(db: &Db) -> Snapshot {
    Snapshot::capture(db, &Filter::default())
        .await
        .expect("capture")
}

async fn single_changes_drift(make: impl AsyncFn() -> Option<testkit::TestDb>) {
    for (ddl, what) in CHANGES {
        let Some(t) = make().await else { return };
        let db = t.connect().await;
        let d = db.dialect();
        run_sql(&db, BASE).await;
        let first = capture(&db).await;
        let second = capture(&db).await;
        assert_eq!(
            first.to_json(),
            second.to_json(),
            "{d:?}: capture twice differs"
        );
        assert!(snapshot::drift(&first, &second).is_empty());
        let ddl = match (d, *ddl) {
            (cutover::db::Dialect::Mysql, "DROP INDEX orders_total") => {
                "DROP INDEX orders_total ON orders"
            }
            (_, x) => x,
        };
        run_sql(&db, ddl).await;
        let now = capture(&db).await;
        let drift = snapshot::drift(&first, &now);
        assert!(!drift.is_empty(), "{d:?}: no drift after {ddl}");
        let lines = drift.lines().join("\n");
        assert!(
            lines.contains(what),
            "{d:?}: drift after {ddl} does not name {what}:\n{lines}"
        );
    }
}

#[tokio::test]
async fn sqlite_snapshot_drift_after_any_single_change() {
    single_changes_drift(async || Some(testkit::sqlite().await)).await;
}

#[tokio::test]
async fn postgres_snapshot_drift_after_any_single_change() {
    single_changes_drift(testkit::postgres).await;
}

#[tokio::test]
async fn mariadb_snapshot_drift_after_any_single_change() {
    single_changes_drift(testkit::mysql).await;
}

#[tokio::test]
async fn snapshot_files_are_byte_identical_and_round_trip() {
    for t in testkit::all_engines().await {
        let db = t.connect().await;
        run_sql(&db, BASE).await;
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
        let ha = capture(&db).await.write(&a).unwrap();
        let hb = capture(&db).await.write(&b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(ha, hb);
        let back = Snapshot::read(&a).unwrap();
        assert_eq!(back.to_json(), std::fs::read_to_string(&a).unwrap());
        assert_eq!(back.tables["orders"].rows, 3);
        let text = std::fs::read_to_string(&a).unwrap();
        assert!(text.contains("\"format\": \"cutover-snapshot\""));
        assert!(text.contains("\"version\": 1"));
        assert!(
            text.lines().count() > 20,
            "pretty, one field per line for git diffs"
        );
    }
}

#[test]
fn corrupt_and_newer_snapshots_are_bad_input() {
    let e = Snapshot::parse(
        "{\"format\": \"cutover-snapshot\", \"version\": 1, ",
        "s.json",
    )
    .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(
        e.message.contains("s.json:1:") && e.message.contains("corrupt"),
        "{}",
        e.message
    );
    let e = Snapshot::parse(
        r#"{"format": "cutover-snapshot", "version": 7, "whatever": true}"#,
        "s.json",
    )
    .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.message.contains("version 7 is newer"), "{}", e.message);
    let e = Snapshot::parse(
        r#"{"format": "cutover-snapshot", "version": 1, "dialect": "sqlite"}"#,
        "s.json",
    )
    .unwrap_err();
    assert!(e.message.contains("corrupt snapshot"), "{}", e.message);
    let e = Snapshot::parse(r#"{"tables": []}"#, "s.json").unwrap_err();
    assert!(
        e.message.contains("not a cutover snapshot"),
        "{}",
        e.message
    );
}
