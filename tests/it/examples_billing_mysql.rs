//! `runbooks/billing-mysql/` end to end on MariaDB: backup, four migrations of which
//! the last fails on orphaned invoices after V1..V3 committed, the `on_failure` full
//! restore, a data diff of every table against the pre-cutover database reporting
//! equal; then, the orphans archived, a new run that completes with its checks.

use super::support::*;
use cutover::testkit;
use std::path::{Path, PathBuf};

/// A copy of an example runbook's directory in `dir` (its ledger and backups land
/// there, not in the repository).
pub fn example_copy(name: &str, dir: &Path) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let (f, t) = (e.path(), to.join(e.file_name()));
            if f.is_dir() {
                copy(&f, &t);
            } else {
                std::fs::copy(&f, &t).unwrap();
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("runbooks")
        .join(name);
    let to = dir.join(name);
    copy(&src, &to);
    to
}

/// Run an SQL script file statement by statement.
pub async fn run_script(url: &str, file: &Path) {
    let text = std::fs::read_to_string(file).unwrap();
    let db = cutover::db::connect(url).await.unwrap();
    for s in cutover::db::split_statements(&text) {
        db.execute(&s.sql)
            .await
            .unwrap_or_else(|e| panic!("{}:{}: {e}", file.display(), s.line));
    }
    db.close().await;
}

pub async fn scalar_at(url: &str, sql: &str) -> String {
    let db = cutover::db::connect(url).await.unwrap();
    let r = db.query(sql, &[]).await.unwrap();
    db.close().await;
    r.scalar().map(|v| v.to_string()).unwrap_or_default()
}

const TABLES: [&str; 3] = ["customers", "subscriptions", "invoices"];

#[tokio::test]
async fn billing_fails_on_orphans_rolls_back_to_equal_then_completes_once_fixed() {
    let Some(prod) = testkit::mysql().await else {
        return;
    };
    let Some(before) = testkit::mysql().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = example_copy("billing-mysql", tmp.path());
    for db in [&prod, &before] {
        run_script(&db.url, &dir.join("setup.sql")).await;
    }
    let env = [("BILLING_DATABASE_URL", prod.url.as_str())];
    let rb = "billing-mysql.toml";
    let v = cutover_env(&dir, &["validate", rb], &env);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(v.stdout.contains("commits DDL implicitly"), "{}", v.stdout);

    // First run: V4 fails on the orphans after V1..V3 committed; the full restore runs.
    let r = cutover_env(
        &dir,
        &["run", rb, "--headless", "--approve-as", "dana:dba"],
        &env,
    );
    assert_eq!(r.code, 3, "the run failed:\n{}", r.all());
    assert!(
        r.all().contains("V4__invoice_subscription_fk"),
        "{}",
        r.all()
    );
    assert!(
        r.all().contains("a foreign key constraint fails"),
        "{}",
        r.all()
    );
    assert!(
        r.stdout
            .contains("running rollback phase \"full-restore\" (on_failure)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("3 of 3 table(s) proven equal to the backup"),
        "{}",
        r.stdout
    );
    let st = cutover_env(&dir, &["status", rb, "--format", "json"], &env);
    let s: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    assert_eq!(s["status"], "rolled_back", "{}", st.stdout);
    // The restored database equals its pre-cutover state, table by table, and the
    // tables V1/V2 created before the failure are gone.
    for table in TABLES {
        let d = cutover(
            &dir,
            &[
                "diff",
                "data",
                "--source",
                &before.url,
                "--target",
                &prod.url,
                "--table",
                table,
            ],
        );
        assert_eq!(
            d.code,
            0,
            "{table} equal to before the cutover:\n{}",
            d.all()
        );
    }
    for leftover in ["tax_rates", "discounts"] {
        let n = scalar_at(&prod.url, &format!("SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{leftover}'")).await;
        assert_eq!(
            n, "0",
            "{leftover}, created by a migration that committed, is dropped"
        );
    }
    let n = scalar_at(&prod.url, "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'invoices' AND column_name = 'discount_id'").await;
    assert_eq!(n, "0", "V2's column on invoices is gone");

    // The fix: archive the orphans; then a new run completes and its checks pass.
    run_script(&prod.url, &dir.join("fix_orphans.sql")).await;
    let r = cutover_env(
        &dir,
        &["run", rb, "--headless", "--approve-as", "dana:dba", "--new"],
        &env,
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("applied 4 of 4 migration(s)"),
        "{}",
        r.stdout
    );
    for check in [
        "✓ no-orphaned-invoices",
        "✓ tax-rates-loaded",
        "✓ every-customer-taxable",
        "✓ invoice-lookup-indexed",
        "✓ invoice-lookup-latency",
    ] {
        assert!(r.stdout.contains(check), "{check}:\n{}", r.stdout);
    }
    assert_eq!(
        scalar_at(&prod.url, "SELECT count(*) FROM information_schema.referential_constraints WHERE constraint_schema = DATABASE() AND constraint_name = 'fk_invoices_subscription'").await,
        "1"
    );
    assert_eq!(
        scalar_at(&prod.url, "SELECT count(*) FROM invoices_orphaned").await,
        "2"
    );
    assert_eq!(
        scalar_at(&prod.url, "SELECT count(*) FROM invoices").await,
        "6"
    );
    // The first run's backup is kept beside the second's.
    assert_eq!(
        std::fs::read_dir(dir.join(".cutover/backups"))
            .unwrap()
            .count(),
        2
    );
    assert_eq!(cutover_env(&dir, &["audit", "verify", rb], &env).code, 0);
    super::golden::assert_golden("billing-mysql", &prod.url);
}
