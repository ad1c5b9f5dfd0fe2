//! What the servers say is kept: PostgreSQL NOTICE/WARNING raised by a migration or a
//! script and MySQL/MariaDB warnings land in the step's evidence and the log; a failing
//! statement's error names the statement (not the comment above it) and keeps
//! PostgreSQL's DETAIL and HINT.

use super::support::*;
use cutover::db::Dialect;
use cutover::testkit::{self, TestDb};

fn write(d: &std::path::Path, db: &TestDb, migration: &str, script: &str) {
    std::fs::create_dir_all(d.join("m")).unwrap();
    std::fs::write(d.join("m/V1__accounts.sql"), migration).unwrap();
    std::fs::write(d.join("seed.sql"), script).unwrap();
    std::fs::write(
        d.join("rb.toml"),
        format!(
            "name = \"msgs\"\n[targets]\napp = \"{}\"\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"schema\"\n  kind = \"migrate\"\n  target = \"app\"\n  dir = \"m\"\n  [[phases.steps]]\n  id = \"seed\"\n  kind = \"sql\"\n  target = \"app\"\n  file = \"seed.sql\"\n",
            db.url
        ),
    )
    .unwrap();
}

fn evidence(d: &std::path::Path, step: &str) -> serde_json::Value {
    let st = cutover(d, &["status", "rb.toml", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == step)
        .unwrap()["evidence"]
        .clone()
}

const FAILING_SCRIPT: &str = "INSERT INTO accounts VALUES (1, 'a@example.com');\n\n-- a second account with the same e-mail\n-- must fail on the unique index\nINSERT INTO accounts VALUES (2, 'a@example.com');\n";

#[tokio::test]
async fn postgres_notices_warnings_detail_and_hint_are_kept() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let migration = "CREATE TABLE accounts (id INT PRIMARY KEY, email TEXT UNIQUE);\nDO $$ BEGIN RAISE NOTICE 'accounts ready: % rows', 0; RAISE WARNING 'legacy_email column kept for now'; END $$;\n";
    write(d, &db, migration, FAILING_SCRIPT);
    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 3, "{}", out.all());
    // The migration's notice and warning, in order, in its evidence and the log.
    let ev = evidence(d, "schema");
    assert_eq!(
        ev["messages"],
        serde_json::json!([
            "NOTICE: accounts ready: 0 rows",
            "WARNING: legacy_email column kept for now"
        ]),
        "{ev}"
    );
    let log = std::fs::read_to_string(d.join(".cutover/cutover.log")).unwrap();
    assert!(
        log.contains("server: NOTICE: accounts ready: 0 rows"),
        "{log}"
    );
    // The failing statement is named by its own line and text, with DETAIL.
    assert!(
        out.stderr.contains("seed.sql:5: statement 2 of 2 failed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("statement: INSERT INTO accounts VALUES (2, 'a@example.com')"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("statement: -- a second"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("DETAIL: Key (email)=(a@example.com) already exists."),
        "{}",
        out.stderr
    );
    // A HINT is kept too.
    std::fs::write(
        d.join("seed.sql"),
        "-- count with a helper that is not there\nSELECT no_such_helper(1);\n",
    )
    .unwrap();
    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr.contains("seed.sql:2: statement 1 of 1 failed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("function no_such_helper(integer) does not exist"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("HINT: No function matches the given name and argument types."),
        "{}",
        out.stderr
    );
    // A script's own notices: in its evidence, without cutover's bookkeeping chatter.
    std::fs::write(d.join("seed.sql"), "INSERT INTO accounts VALUES (1, 'a@example.com');\nDO $$ BEGIN RAISE NOTICE 'seeded'; END $$;\n").unwrap();
    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        evidence(d, "seed")["messages"],
        serde_json::json!(["NOTICE: seeded"])
    );
}

#[tokio::test]
async fn mysql_warnings_are_kept_and_failures_name_the_statement() {
    let Some(db) = testkit::mysql().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let migration = "CREATE TABLE accounts (id INT PRIMARY KEY, email VARCHAR(100) UNIQUE);\nDROP TABLE IF EXISTS legacy_accounts;\n";
    write(d, &db, migration, FAILING_SCRIPT);
    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 3, "{}", out.all());
    let ev = evidence(d, "schema");
    let msgs = ev["messages"].as_array().cloned().unwrap_or_default();
    assert!(
        msgs.iter().any(
            |m| m.as_str().unwrap().starts_with("NOTE 1051: Unknown table")
                && m.as_str().unwrap().contains("legacy_accounts")
        ),
        "{ev}"
    );
    assert!(
        out.stderr.contains("seed.sql:5: statement 2 of 2 failed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("statement: INSERT INTO accounts VALUES (2, 'a@example.com')"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Duplicate entry 'a@example.com'"),
        "{}",
        out.stderr
    );
    std::fs::write(
        d.join("seed.sql"),
        "INSERT IGNORE INTO accounts VALUES (1, 'a@example.com'), (1, 'b@example.com');\n",
    )
    .unwrap();
    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        evidence(d, "seed")["messages"],
        serde_json::json!([
            "WARNING 1062: Duplicate entry '1' for key 'PRIMARY' (statement 1, line 1)"
        ])
    );
}

#[tokio::test]
async fn sqlite_failures_name_the_statement_not_the_comment() {
    let db = testkit::sqlite().await;
    assert_eq!(db.dialect, Dialect::Sqlite);
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        &db,
        "CREATE TABLE accounts (id INT PRIMARY KEY, email TEXT UNIQUE);\n",
        FAILING_SCRIPT,
    );
    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr.contains("seed.sql:5: statement 2 of 2 failed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("statement: INSERT INTO accounts VALUES (2, 'a@example.com')"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("UNIQUE constraint failed: accounts.email"),
        "{}",
        out.stderr
    );
    assert!(
        evidence(d, "schema").get("messages").is_none(),
        "no messages, no empty list"
    );
}
