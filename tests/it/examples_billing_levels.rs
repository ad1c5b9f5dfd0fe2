//! The other two rollback levels of `runbooks/billing-mysql/` on MariaDB, after a
//! completed cutover: the schema rollback (V4..V1 undone by `rollback_schema.sql`, the
//! data kept) and the table-level restore (only `invoices`, from its own table backup).
//! Each ends with data diffs against the pre-cutover database reporting equal.

use super::examples_billing_mysql::{example_copy, run_script, scalar_at};
use super::support::*;
use cutover::testkit;
use std::path::Path;

const TABLES: [&str; 4] = [
    "customers",
    "subscriptions",
    "invoices",
    "invoices_orphaned",
];

fn diff(dir: &Path, before: &str, prod: &str, table: &str) -> Out {
    cutover(
        dir,
        &[
            "diff", "data", "--source", before, "--target", prod, "--table", table,
        ],
    )
}

async fn column_count(url: &str, table: &str) -> String {
    scalar_at(url, &format!("SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '{table}'")).await
}

#[tokio::test]
async fn billing_schema_rollback_and_table_restore_end_equal_to_before() {
    let Some(prod) = testkit::mysql().await else {
        return;
    };
    let Some(before) = testkit::mysql().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = example_copy("billing-mysql", tmp.path());
    // the orphans archived up front: this run completes
    for db in [&prod, &before] {
        run_script(&db.url, &dir.join("setup.sql")).await;
        run_script(&db.url, &dir.join("fix_orphans.sql")).await;
    }
    let env = [("BILLING_DATABASE_URL", prod.url.as_str())];
    let rb = "billing-mysql.toml";
    let r = cutover_env(
        &dir,
        &["run", rb, "--headless", "--approve-as", "dana:dba"],
        &env,
    );
    assert_eq!(r.code, 0, "{}", r.all());
    // the release's columns are there (the data diff compares the columns both sides
    // have, so the schema is checked through the catalog)
    assert_eq!(column_count(&prod.url, "invoices").await, "8");
    assert_eq!(column_count(&prod.url, "subscriptions").await, "6");

    // Schema rollback: the release's tables, columns, index and key are gone, and every
    // table the database had before holds the same rows as before.
    let s = cutover_env(
        &dir,
        &["rollback", rb, "--phase", "schema-rollback", "--yes"],
        &env,
    );
    assert_eq!(s.code, 0, "{}", s.all());
    for gone in ["tax_rates", "discounts"] {
        assert_eq!(
            scalar_at(&prod.url, &format!("SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{gone}'")).await,
            "0",
            "{gone} dropped"
        );
    }
    for t in ["invoices", "subscriptions"] {
        assert_eq!(
            column_count(&prod.url, t).await,
            column_count(&before.url, t).await,
            "{t} has its pre-cutover columns"
        );
    }
    assert_eq!(
        scalar_at(&prod.url, "SELECT count(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'invoices'").await,
        scalar_at(&before.url, "SELECT count(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'invoices'").await,
        "invoices has its pre-cutover indexes only"
    );
    for table in TABLES {
        let d = diff(&dir, &before.url, &prod.url, table);
        assert_eq!(d.code, 0, "{table} after the schema rollback:\n{}", d.all());
    }

    // Table-level: the invoices damaged after the cutover come back from their own
    // backup; the other tables are not touched (a change to customers stays).
    let db = cutover::db::connect(&prod.url).await.unwrap();
    db.execute("DELETE FROM invoices WHERE id = 1001")
        .await
        .unwrap();
    db.execute("UPDATE invoices SET amount = 0 WHERE id = 1002")
        .await
        .unwrap();
    db.execute("UPDATE customers SET name = 'Acme Hauling LLC' WHERE id = 1")
        .await
        .unwrap();
    db.close().await;
    assert_eq!(diff(&dir, &before.url, &prod.url, "invoices").code, 1);
    let t = cutover_env(
        &dir,
        &["rollback", rb, "--phase", "table-restore", "--yes"],
        &env,
    );
    assert_eq!(t.code, 0, "{}", t.all());
    assert!(
        t.stdout
            .contains("1 of 1 table(s) proven equal to the backup"),
        "{}",
        t.stdout
    );
    let d = diff(&dir, &before.url, &prod.url, "invoices");
    assert_eq!(d.code, 0, "invoices after the table restore:\n{}", d.all());
    assert_eq!(
        scalar_at(&prod.url, "SELECT name FROM customers WHERE id = 1").await,
        "Acme Hauling LLC",
        "a table-level restore leaves the other tables as they are"
    );
    assert_eq!(cutover_env(&dir, &["audit", "verify", rb], &env).code, 0);
}
