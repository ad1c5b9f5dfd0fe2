//! A run that fails mid-phase runs the rollback phase its runbook names (`on_failure`
//! in the policy or in the phase), and the restored database diffs equal to its
//! pre-cutover state. SQLite (backup/restore steps) and PostgreSQL (`sql`-step levels).

use super::support::*;
use std::path::Path;

/// A shop database: customers and orders.
pub const SEED: &[&str] = &[
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, total NUMERIC(10,2) NOT NULL)",
    "INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com'), (2, 'Bó Ñandú', NULL), (3, 'Chen', 'chen@example.com')",
    "INSERT INTO orders VALUES (1, 1, 10.50), (2, 1, 3.00), (3, 2, 99.99), (4, 3, 0.01)",
];

pub async fn seed(url: &str) {
    let db = cutover::db::connect_with(
        url,
        cutover::db::ConnectOptions {
            create_if_missing: true,
            max_connections: 1,
        },
    )
    .await
    .unwrap();
    for s in SEED {
        db.execute(s).await.unwrap();
    }
    if url.starts_with("sqlite:") {
        db.execute("PRAGMA journal_mode=DELETE").await.unwrap();
    }
    db.close().await;
}

/// The shop runbook on target `production` = `url`: back up, migrate (add a column,
/// double the totals), then `fail_sql` (a step that fails when it is not empty), and
/// the three rollback levels. `policy` and `migrate_phase` are extra TOML lines.
pub fn shop_runbook(
    url: &str,
    policy: &str,
    migrate_phase: &str,
    fail_sql: Option<&str>,
) -> String {
    let sqlite = url.starts_with("sqlite:");
    let backup = if sqlite {
        r#"
  [[phases.steps]]
  id = "backup-prod"
  kind = "backup"
  target = "production"
  out = "backups"
"#
    } else {
        ""
    };
    let fail = fail_sql
        .map(|s| {
            format!(
                r#"
  [[phases.steps]]
  id = "break"
  kind = "sql"
  target = "production"
  sql = "{s}"
"#
            )
        })
        .unwrap_or_default();
    let (full, table) = if sqlite {
        (
            r#"
  [[rollback.steps]]
  id = "restore-prod"
  kind = "restore"
  target = "production"
  from = "backup-prod"
"#,
            r#"
  [[rollback.steps]]
  id = "restore-orders"
  kind = "restore"
  target = "production"
  from = "backup-prod"
  tables = ["orders"]
"#,
        )
    } else {
        (
            r#"
  [[rollback.steps]]
  id = "restore-prod"
  kind = "sql"
  target = "production"
  sql = "ALTER TABLE customers DROP COLUMN IF EXISTS tier; DELETE FROM orders; INSERT INTO orders SELECT * FROM orders_before"
"#,
            r#"
  [[rollback.steps]]
  id = "restore-orders"
  kind = "sql"
  target = "production"
  sql = "DELETE FROM orders; INSERT INTO orders SELECT * FROM orders_before"
"#,
        )
    };
    let keep = if sqlite {
        String::new()
    } else {
        r#"
  [[phases.steps]]
  id = "keep-orders"
  kind = "sql"
  target = "production"
  sql = "CREATE TABLE orders_before AS SELECT * FROM orders"
"#
        .to_string()
    };
    format!(
        r#"name = "shop"

[targets]
production = "{url}"

[policy]
approvals = 1
roles = ["dba"]
{policy}

[[phases]]
id = "prepare"
{backup}{keep}
[[phases]]
id = "migrate"
{migrate_phase}

  [[phases.steps]]
  id = "add-tier"
  kind = "sql"
  target = "production"
  sql = "ALTER TABLE customers ADD COLUMN tier TEXT; UPDATE customers SET tier = 'gold' WHERE id <= 2"

  [[phases.steps]]
  id = "double-totals"
  kind = "sql"
  target = "production"
  sql = "UPDATE orders SET total = total * 2"
{fail}
[[rollback]]
id = "full-restore"
title = "Production as backed up"
{full}
[[rollback]]
id = "schema-rollback"
title = "Drop the new column, keep the data"

  [[rollback.steps]]
  id = "undo-tier"
  kind = "sql"
  target = "production"
  sql = "ALTER TABLE customers DROP COLUMN tier"

[[rollback]]
id = "table-restore"
title = "Only orders from the backup"
{table}"#
    )
}

pub const BREAK: &str = "INSERT INTO no_such_table VALUES (1)";

/// `cutover diff data` of each shop table between `pre` and `url`: all must be equal.
pub fn assert_equal_to(dir: &Path, pre: &str, url: &str) {
    for t in ["customers", "orders"] {
        let d = cutover(
            dir,
            &[
                "diff", "data", "--source", pre, "--target", url, "--table", t,
            ],
        );
        assert_eq!(
            d.code,
            0,
            "{t} differs from before the cutover:\n{}",
            d.all()
        );
        assert!(d.stdout.contains("equal"), "{}", d.stdout);
        // The same columns too: a column left behind by the migration is not "equal".
        assert!(!d.stdout.contains("exists only in"), "{}", d.stdout);
    }
}

/// The ledger's records of kind `kind`, as JSON.
pub fn ledger_records(dir: &Path, rb: &str, kind: &str) -> Vec<serde_json::Value> {
    let a = cutover(dir, &["audit", "export", rb, "--format", "jsonl"]);
    assert_eq!(a.code, 0, "{}", a.all());
    a.stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == kind)
        .collect()
}

/// A temp dir with a seeded prod.db, its pre-cutover copy pre.db, and the runbook.
pub async fn sqlite_shop(
    policy: &str,
    migrate_phase: &str,
    fail: Option<&str>,
) -> (tempfile::TempDir, String, String) {
    let tmp = tempfile::tempdir().unwrap();
    let prod = tmp.path().join("prod.db");
    let pre = tmp.path().join("pre.db");
    seed(&format!("sqlite://{}", prod.display())).await;
    std::fs::copy(&prod, &pre).unwrap();
    std::fs::write(
        tmp.path().join("rb.toml"),
        shop_runbook("sqlite://prod.db", policy, migrate_phase, fail),
    )
    .unwrap();
    (
        tmp,
        format!("sqlite://{}", prod.display()),
        format!("sqlite://{}", pre.display()),
    )
}

#[tokio::test]
async fn a_failed_run_runs_the_policys_on_failure_phase_and_the_data_is_as_before() {
    let (tmp, prod, pre) = sqlite_shop(r#"on_failure = "full-restore""#, "", Some(BREAK)).await;
    let dir = tmp.path();
    let r = cutover(dir, &["run", "rb.toml", "--headless"]);
    assert_eq!(r.code, 3, "the run failed and says so:\n{}", r.all());
    assert!(r.stderr.contains("step \"break\" failed"), "{}", r.all());
    assert!(
        r.stdout.contains("running rollback phase \"full-restore\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("proven equal to the backup"),
        "{}",
        r.stdout
    );
    assert_equal_to(dir, &pre, &prod);
    let st = cutover(dir, &["status", "rb.toml", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(v["status"], "rolled_back", "{}", st.stdout);
    let started = ledger_records(dir, "rb.toml", "rollback_started");
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(started[0]["payload"]["phases"][0], "full-restore");
    assert_eq!(started[0]["payload"]["trigger"], "on failure of step break");
    assert_eq!(cutover(dir, &["audit", "verify", "rb.toml"]).code, 0);
}

#[tokio::test]
async fn a_phases_own_on_failure_beats_the_policys() {
    let (tmp, prod, pre) = sqlite_shop(
        r#"on_failure = "full-restore""#,
        r#"on_failure = "schema-rollback""#,
        Some("UPDATE orders SET total = total / 2; INSERT INTO no_such_table VALUES (1)"),
    )
    .await;
    let dir = tmp.path();
    let r = cutover(dir, &["run", "rb.toml", "--headless"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout
            .contains("running rollback phase \"schema-rollback\""),
        "{}",
        r.stdout
    );
    // The schema rollback dropped the column and kept the data: the doubled totals stay
    // doubled (the failing step's own transaction was rolled back), so orders differ.
    let c = cutover(
        dir,
        &[
            "diff",
            "data",
            "--source",
            &pre,
            "--target",
            &prod,
            "--table",
            "customers",
        ],
    );
    assert_eq!(c.code, 0, "{}", c.all());
    let o = cutover(
        dir,
        &[
            "diff", "data", "--source", &pre, "--target", &prod, "--table", "orders",
        ],
    );
    assert_eq!(o.code, 1, "orders keep the migrated data:\n{}", o.all());
    // Then the table-level restore puts orders back from the backup: all equal.
    let t = cutover(
        dir,
        &["rollback", "rb.toml", "--phase", "table-restore", "--yes"],
    );
    assert_eq!(t.code, 0, "{}", t.all());
    assert_equal_to(dir, &pre, &prod);
    let started = ledger_records(dir, "rb.toml", "rollback_started");
    let attempts: Vec<_> = started
        .iter()
        .map(|r| r["payload"]["attempt"].clone())
        .collect();
    assert_eq!(attempts, [1, 2], "{started:?}");
}

#[tokio::test]
async fn postgres_failed_migration_rolls_back_schema_then_table() {
    let Some(prod) = cutover::testkit::postgres().await else {
        return;
    };
    let pre = cutover::testkit::postgres().await.unwrap();
    seed(&prod.url).await;
    seed(&pre.url).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("rb.toml"),
        shop_runbook(
            &prod.url,
            "",
            r#"on_failure = "schema-rollback""#,
            Some(BREAK),
        ),
    )
    .unwrap();
    let v = cutover(dir, &["validate", "rb.toml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    let r = cutover(dir, &["run", "rb.toml", "--headless"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout
            .contains("running rollback phase \"schema-rollback\""),
        "{}",
        r.stdout
    );
    let c = cutover(
        dir,
        &[
            "diff",
            "data",
            "--source",
            &pre.url,
            "--target",
            &prod.url,
            "--table",
            "customers",
        ],
    );
    assert_eq!(c.code, 0, "{}", c.all());
    let t = cutover(
        dir,
        &["rollback", "rb.toml", "--phase", "table-restore", "--yes"],
    );
    assert_eq!(t.code, 0, "{}", t.all());
    assert_equal_to(dir, &pre.url, &prod.url);
}
