//! `cutover lint --target URL` (issue 11 item 3): the target's schema is what the files
//! change, so a DROP INDEX of the target's only index on a foreign key is
//! drop-fk-index, and a type change of a column the target has is narrow-type when it
//! narrows and nothing when it widens, though the files declare neither.

use super::support::*;
use serde_json::Value;
use std::path::Path;

/// (code, line) of every hazard `cutover lint FILE --target URL --format json` reports.
fn lint_codes(dir: &Path, file: &str, url: &str) -> (Vec<(String, u64)>, Value) {
    let out = cutover(dir, &["lint", file, "--target", url, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let codes = v["files"][0]["hazards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["code"].as_str().unwrap().to_string(),
                h["line"].as_u64().unwrap(),
            )
        })
        .filter(|(c, _)| c != "table-rewrite" && c != "implicit-commit-ddl")
        .collect();
    (codes, v)
}

async fn judged_against_the_target(t: cutover::testkit::TestDb, schema: &[&str], modify: bool) {
    let db = t.connect().await;
    for s in schema {
        db.execute(s).await.unwrap();
    }
    db.close().await;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let change = |col: &str, ty: &str| {
        if modify {
            format!("ALTER TABLE orders MODIFY {col} {ty};")
        } else {
            format!("ALTER TABLE orders ALTER COLUMN {col} TYPE {ty};")
        }
    };
    let drop = if modify {
        "DROP INDEX orders_customer_idx ON orders;"
    } else {
        "DROP INDEX orders_customer_idx;"
    };
    std::fs::write(
        d.join("change.sql"),
        format!(
            "{}\n{}\n{}\n{}\n{drop}\n",
            change("note", "varchar(50)"),
            change("qty", "bigint"),
            change("total", "numeric(10,2)"),
            change("nowhere", "int"),
        ),
    )
    .unwrap();
    let (codes, v) = lint_codes(d, "change.sql", &t.url);
    assert_eq!(
        codes,
        vec![
            ("narrow-type".to_string(), 1),
            ("narrow-type".to_string(), 3),
            ("type-change".to_string(), 4),
            ("drop-fk-index".to_string(), 5),
        ],
        "varchar(100)->varchar(50) and numeric(12,2)->numeric(10,2) narrow, int->bigint widens; {v}"
    );
    let msg = v["files"][0]["hazards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["code"] == "drop-fk-index")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("leaves foreign key orders_customer_fk (customer_id) without an index"),
        "{msg}"
    );
    assert!(!v.to_string().contains("password"), "{v}");

    // Without --target the same file is judged on what it declares: nothing.
    let out = cutover(d, &["lint", "change.sql", "--format", "json"]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let plain: Vec<&str> = v["files"][0]["hazards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["code"].as_str().unwrap())
        .filter(|c| *c != "table-rewrite")
        .collect();
    assert_eq!(plain, ["type-change"; 4]);

    // A second index led by the key's column covers it: no drop-fk-index.
    let db = t.connect().await;
    db.execute("CREATE INDEX orders_customer_total ON orders (customer_id, total)")
        .await
        .unwrap();
    db.close().await;
    std::fs::write(d.join("drop.sql"), format!("{drop}\n")).unwrap();
    let (codes, v) = lint_codes(d, "drop.sql", &t.url);
    assert_eq!(codes, vec![], "{v}");
}

const PG_SCHEMA: &[&str] = &[
    "CREATE TABLE customers (id bigint PRIMARY KEY)",
    "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, note varchar(100), qty int, total numeric(12,2), \
     CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id))",
    "CREATE INDEX orders_customer_idx ON orders (customer_id)",
];

#[tokio::test]
async fn lint_target_postgres_judges_types_and_fk_indexes_from_the_schema() {
    let Some(t) = cutover::testkit::postgres().await else {
        return;
    };
    judged_against_the_target(t, PG_SCHEMA, false).await;
}

#[tokio::test]
async fn lint_target_mariadb_judges_types_and_fk_indexes_from_the_schema() {
    let Some(t) = cutover::testkit::mysql().await else {
        return;
    };
    judged_against_the_target(
        t,
        &[
            "CREATE TABLE customers (id bigint PRIMARY KEY)",
            "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, note varchar(100), qty int, total numeric(12,2), \
             KEY orders_customer_idx (customer_id), \
             CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id))",
        ],
        true,
    )
    .await;
}

#[test]
fn lint_target_that_cannot_be_read_is_exit_3_without_the_password() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.sql"), "SELECT 1;\n").unwrap();
    let out = cutover(
        tmp.path(),
        &[
            "lint",
            "a.sql",
            "--target",
            "postgres://someone:s3cret-pw@127.0.0.1:1/nodb",
        ],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(!out.all().contains("s3cret-pw"), "{}", out.all());
}
