//! The sql, migrate and check steps against real PostgreSQL and MariaDB targets
//! (and SQLite): migrations skip what is applied, a changed applied migration is an
//! error, a failing statement rolls back, checks compare across engines.

use super::support::*;
use cutover::db::Dialect;
use cutover::testkit::{self, TestDb};

fn runbook(url: &str, other: &str) -> String {
    format!(
        "name = \"eng\"\n[targets]\napp = \"{url}\"\nother = \"{other}\"\n\n[[phases]]\nid = \"p\"\n\
  [[phases.steps]]\n  id = \"schema\"\n  kind = \"migrate\"\n  target = \"app\"\n  dir = \"m\"\n\n\
  [[phases.steps]]\n  id = \"seed\"\n  kind = \"sql\"\n  target = \"app\"\n  file = \"seed.sql\"\n\n\
  [[phases.steps]]\n  id = \"count\"\n  kind = \"check\"\n  target = \"app\"\n  query = \"SELECT count(*) FROM invoices\"\n  expect = 3\n\n\
  [[phases.steps]]\n  id = \"total\"\n  kind = \"check\"\n  target = \"app\"\n  query = \"SELECT sum(amount) FROM invoices\"\n  expect = \"31.50\"\n\n\
  [[phases.steps]]\n  id = \"none-negative\"\n  kind = \"check\"\n  target = \"app\"\n  query = \"SELECT id FROM invoices WHERE amount < 0\"\n  expect_rows = 0\n\n\
  [[phases.steps]]\n  id = \"same-as-other\"\n  kind = \"check\"\n  target = \"app\"\n  query = \"SELECT count(*) FROM invoices\"\n  compare_with = \"other\"\n"
    )
}

async fn exercise(app: &TestDb, other: &TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir(d.join("m")).unwrap();
    std::fs::write(d.join("m/V1__invoices.sql"), "CREATE TABLE invoices (id INT PRIMARY KEY, customer VARCHAR(50) NOT NULL, amount DECIMAL(10,2) NOT NULL);").unwrap();
    std::fs::write(
        d.join("m/V2__index.sql"),
        "CREATE INDEX invoices_customer ON invoices (customer);",
    )
    .unwrap();
    std::fs::write(d.join("seed.sql"), "INSERT INTO invoices VALUES (1, 'acme', 10.00);\nINSERT INTO invoices VALUES (2, 'acme', 1.50);\nINSERT INTO invoices VALUES (3, 'globex', 20);\n").unwrap();
    let odb = other.connect().await;
    odb.execute(
        "CREATE TABLE invoices (id INT PRIMARY KEY, customer VARCHAR(50), amount DECIMAL(10,2))",
    )
    .await
    .unwrap();
    odb.execute("INSERT INTO invoices VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)")
        .await
        .unwrap();
    odb.close().await;
    std::fs::write(d.join("rb.toml"), runbook(&app.url, &other.url)).unwrap();

    let v = cutover(d, &["validate", "rb.toml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    if app.dialect == Dialect::Mysql {
        assert!(
            v.stdout.contains("commits DDL implicitly"),
            "the plan says MySQL DDL is not atomic: {}",
            v.stdout
        );
    }
    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 0, "{:?}: {}", app.dialect, out.all());
    assert!(
        out.stdout.contains("applied 2 of 2 migration(s)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("31.50 as expected") || out.stdout.contains("31.5 as expected"),
        "{}",
        out.stdout
    );

    // A new run: migrations already applied are skipped; the seed would duplicate keys.
    std::fs::write(d.join("seed.sql"), "INSERT INTO invoices VALUES (4, 'initech', 5);\nINSERT INTO invoices VALUES (1, 'dup', 1);\n").unwrap();
    let out = cutover(d, &["run", "rb.toml", "--headless", "--new"]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stdout.contains("all 2 migration(s) already applied"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("seed.sql:2: statement 2 of 2 failed"),
        "{}",
        out.stderr
    );
    let db = app.connect().await;
    let n = db
        .query("SELECT count(*) FROM invoices", &[])
        .await
        .unwrap();
    assert_eq!(
        n.scalar().and_then(|v| v.as_i64()),
        Some(3),
        "{:?}: the first insert was rolled back",
        app.dialect
    );
    db.close().await;

    // A changed applied migration is an error.
    std::fs::write(
        d.join("m/V1__invoices.sql"),
        "CREATE TABLE invoices (id BIGINT PRIMARY KEY);",
    )
    .unwrap();
    std::fs::write(d.join("seed.sql"), "SELECT 1;").unwrap();
    let out = cutover(
        d,
        &[
            "run",
            "rb.toml",
            "--headless",
            "--new",
            "--abandon",
            "fixed the cause",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("migration V1__invoices in m was changed after it was applied"),
        "{}",
        out.stderr
    );

    // A failing check names expected and actual.
    std::fs::write(d.join("m/V1__invoices.sql"), "CREATE TABLE invoices (id INT PRIMARY KEY, customer VARCHAR(50) NOT NULL, amount DECIMAL(10,2) NOT NULL);").unwrap();
    let db = app.connect().await;
    db.execute("INSERT INTO invoices VALUES (9, 'x', -1)")
        .await
        .unwrap();
    db.close().await;
    let out = cutover(
        d,
        &[
            "run",
            "rb.toml",
            "--headless",
            "--new",
            "--abandon",
            "fixed the cause",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("expected 3, got 4"), "{}", out.stderr);
}

#[tokio::test]
async fn steps_on_postgres() {
    let (Some(app), Some(other)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    exercise(&app, &other).await;
}

#[tokio::test]
async fn steps_on_mariadb() {
    let (Some(app), Some(other)) = (testkit::mysql().await, testkit::postgres().await) else {
        return;
    };
    exercise(&app, &other).await;
}

#[tokio::test]
async fn steps_on_sqlite() {
    let (app, other) = (testkit::sqlite().await, testkit::sqlite().await);
    exercise(&app, &other).await;
}
