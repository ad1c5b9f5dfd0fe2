//! `import-csv` and `export-csv` on SQLite, PostgreSQL and MariaDB: typed validation
//! (exact decimals, dates, timestamps), NULL told from text, a bad row rejected with
//! its line and reason and nothing loaded (unless skip_bad), a wrong header refused,
//! and an export that writes NULL as an empty field, never as the text NULL.

use super::support::*;
use cutover::db::{Dialect, Value};
use cutover::testkit::{self, TestDb};

fn step(name: &str, url: &str, body: &str) -> String {
    format!(
        "name = \"{name}\"\n[targets]\napp = \"{url}\"\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"s\"\n{body}"
    )
}

async fn rows(db: &TestDb, sql: &str) -> Vec<Vec<Value>> {
    let c = db.connect().await;
    let r = c.query(sql, &[]).await.unwrap();
    c.close().await;
    r.rows
}

const GOOD: &str = "id,sku,price,valid_from,updated_at,note\n1,A-1,12.50,2026-11-01,2026-11-02 08:30:00,\"first, with a comma\"\n2,B-2,0.75,2026-11-01,,\n3,C-3,28.00,,2026-11-03T10:00:00,\"\"\n";
const BAD: &str = "id,sku,price,valid_from,updated_at,note\n1,A-1,12.50,2026-11-01,,ok\n2,B-2,\"12,50\",2026-11-01,,comma decimal\n3,C-3,1.00,2026-13-01,,no such month\n";

#[tokio::test]
async fn csv_import_validates_and_export_keeps_null_apart() {
    for db in testkit::all_engines().await {
        let what = format!("{:?}", db.dialect);
        let ts = if db.dialect == Dialect::Mysql {
            "DATETIME"
        } else {
            "TIMESTAMP"
        };
        let c = db.connect().await;
        c.execute(&format!("CREATE TABLE prices (id INT PRIMARY KEY, sku VARCHAR(20) NOT NULL, price DECIMAL(10,2) NOT NULL, valid_from DATE, updated_at {ts} NULL, note VARCHAR(50))")).await.unwrap();
        c.close().await;
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(d.join("good.csv"), GOOD).unwrap();
        std::fs::write(d.join("bad.csv"), BAD).unwrap();
        std::fs::write(d.join("header.csv"), "id,sku,cost\n1,A-1,2.00\n").unwrap();
        let import = |file: &str, extra: &str| {
            format!(
                "  kind = \"import-csv\"\n  target = \"app\"\n  table = \"prices\"\n  file = \"{file}\"\n{extra}"
            )
        };

        // A malformed row: exit 2 naming file, line and reason; the rejects file has every bad row; nothing loaded.
        std::fs::write(
            d.join("bad.toml"),
            step("bad", &db.url, &import("bad.csv", "")),
        )
        .unwrap();
        let out = cutover(d, &["run", "bad.toml", "--headless"]);
        assert_eq!(out.code, 2, "{what}: {}", out.all());
        assert!(out.stderr.contains("2 of 3 row(s) of bad.csv are bad, so nothing was loaded into prices; first: bad.csv:3: column price: \"12,50\" is not a decimal"), "{what}: {}", out.stderr);
        assert!(out.stderr.contains("bad.csv.rejects.csv"), "{}", out.stderr);
        let rejects = std::fs::read_to_string(d.join("bad.csv.rejects.csv")).unwrap();
        assert!(
            rejects.starts_with("line,reason,id,sku,price,valid_from,updated_at,note\n"),
            "{rejects}"
        );
        assert!(
            rejects.contains("3,\"column price: \"\"12,50\"\" is not a decimal"),
            "{rejects}"
        );
        assert!(
            rejects
                .contains("4,\"column valid_from: \"\"2026-13-01\"\" is not a date (YYYY-MM-DD)\""),
            "{rejects}"
        );
        assert_eq!(
            rows(&db, "SELECT count(*) FROM prices").await[0][0].as_i64(),
            Some(0),
            "{what}: nothing loaded"
        );

        // A header naming a column the table lacks: exit 2, nothing loaded.
        std::fs::write(
            d.join("header.toml"),
            step("header", &db.url, &import("header.csv", "")),
        )
        .unwrap();
        let out = cutover(d, &["run", "header.toml", "--headless"]);
        assert_eq!(out.code, 2, "{what}: {}", out.all());
        assert!(out.stderr.contains("header.csv:1: the header names \"cost\", which is not a column of prices; its columns are: id, sku, price, valid_from, updated_at, note"), "{what}: {}", out.stderr);

        // skip_bad: the good row goes in, the bad ones are reported in the evidence.
        std::fs::write(
            d.join("skip.toml"),
            step(
                "skip",
                &db.url,
                &import(
                    "bad.csv",
                    "  skip_bad = true\n  rejects = \"skipped.csv\"\n",
                ),
            ),
        )
        .unwrap();
        let out = cutover(d, &["run", "skip.toml", "--headless"]);
        assert_eq!(out.code, 0, "{what}: {}", out.all());
        assert!(
            out.stdout.contains(
                "1 of 3 row(s) loaded into prices, 2 bad row(s) skipped (see skipped.csv)"
            ),
            "{what}: {}",
            out.stdout
        );
        let c = db.connect().await;
        c.execute("DELETE FROM prices").await.unwrap();
        c.close().await;

        // The good file: exact decimals, dates, timestamps, NULL (empty field) apart from ''.
        std::fs::write(
            d.join("good.toml"),
            step("good", &db.url, &import("good.csv", "  null = \"\"\n")),
        )
        .unwrap();
        let out = cutover(d, &["run", "good.toml", "--headless"]);
        assert_eq!(out.code, 0, "{what}: {}", out.all());
        assert!(
            out.stdout.contains("3 of 3 row(s) loaded into prices"),
            "{}",
            out.stdout
        );
        let got = rows(
            &db,
            "SELECT id, price, valid_from, updated_at, note FROM prices ORDER BY id",
        )
        .await;
        assert_eq!(
            got[0][1]
                .to_string()
                .trim_end_matches('0')
                .trim_end_matches('.'),
            "12.5",
            "{what}: {got:?}"
        );
        assert_eq!(got[0][2].to_string(), "2026-11-01", "{what}: {got:?}");
        assert!(
            got[0][3].to_string().starts_with("2026-11-02 08:30:00"),
            "{what}: {got:?}"
        );
        assert_eq!(got[0][4], Value::Text("first, with a comma".into()));
        assert!(
            got[1][3].is_null() && got[1][4].is_null(),
            "{what}: empty fields are NULL: {got:?}"
        );
        assert!(got[2][2].is_null(), "{what}: {got:?}");
        // With null = "" an unquoted empty field is NULL and a quoted "" the empty string.
        assert_eq!(got[2][4], Value::Text(String::new()), "{what}: {got:?}");
        let c = db.connect().await;
        c.execute("INSERT INTO prices (id, sku, price, note) VALUES (4, 'D-4', 1.00, '')")
            .await
            .unwrap();
        c.close().await;

        // Export the table: NULL as an empty field, never the text NULL.
        std::fs::write(d.join("export.toml"), step("export", &db.url, "  kind = \"export-csv\"\n  target = \"app\"\n  table = \"prices\"\n  out = \"out/prices.csv\"\n")).unwrap();
        let out = cutover(d, &["run", "export.toml", "--headless"]);
        assert_eq!(out.code, 0, "{what}: {}", out.all());
        assert!(
            out.stdout.contains("4 row(s) written to out/prices.csv"),
            "{}",
            out.stdout
        );
        let csv = std::fs::read_to_string(d.join("out/prices.csv")).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0], "id,sku,price,valid_from,updated_at,note",
            "{what}: {csv}"
        );
        assert!(
            lines[1].ends_with(",\"first, with a comma\""),
            "{what}: {csv}"
        );
        assert!(
            lines[2].starts_with("2,B-2,") && lines[2].ends_with(",2026-11-01,,"),
            "{what}: NULLs are empty fields: {csv}"
        );
        assert!(!csv.contains("NULL"), "{what}: {csv}");
        // A query, with a NULL marker.
        std::fs::write(d.join("q.toml"), step("q", &db.url, "  kind = \"export-csv\"\n  target = \"app\"\n  query = \"SELECT id, note FROM prices WHERE id > 1 ORDER BY id\"\n  out = \"out/notes.csv\"\n  null = \"\\\\N\"\n")).unwrap();
        let out = cutover(d, &["run", "q.toml", "--headless"]);
        assert_eq!(out.code, 0, "{what}: {}", out.all());
        let csv = std::fs::read_to_string(d.join("out/notes.csv")).unwrap();
        assert_eq!(
            csv, "id,note\n2,\\N\n3,\"\"\n4,\"\"\n",
            "{what}: the empty string is written \"\" and NULL as the marker"
        );

        // The exported file loads back as it was: NULL stays NULL, '' stays ''.
        let c = db.connect().await;
        c.execute(&format!("CREATE TABLE prices2 (id INT PRIMARY KEY, sku VARCHAR(20) NOT NULL, price DECIMAL(10,2) NOT NULL, valid_from DATE, updated_at {ts} NULL, note VARCHAR(50))")).await.unwrap();
        c.execute("CREATE TABLE marks (id INT PRIMARY KEY, note VARCHAR(50))")
            .await
            .unwrap();
        c.close().await;
        std::fs::write(
            d.join("back.toml"),
            step(
                "back",
                &db.url,
                "  kind = \"import-csv\"\n  target = \"app\"\n  table = \"prices2\"\n  file = \"out/prices.csv\"\n",
            ),
        )
        .unwrap();
        let out = cutover(d, &["run", "back.toml", "--headless"]);
        assert_eq!(out.code, 0, "{what}: {}", out.all());
        let notes = |t: &str| format!("SELECT id, note FROM {t} ORDER BY id");
        assert_eq!(
            rows(&db, &notes("prices2")).await,
            rows(&db, &notes("prices")).await,
            "{what}"
        );
        // With a marker, only the unquoted marker is NULL: "\N" quoted is its text.
        std::fs::write(
            d.join("marks.csv"),
            "id,note\n1,\\N\n2,\"\\N\"\n3,\n4,\"\"\n",
        )
        .unwrap();
        std::fs::write(
            d.join("marks.toml"),
            step(
                "marks",
                &db.url,
                "  kind = \"import-csv\"\n  target = \"app\"\n  table = \"marks\"\n  file = \"marks.csv\"\n  null = \"\\\\N\"\n",
            ),
        )
        .unwrap();
        let out = cutover(d, &["run", "marks.toml", "--headless"]);
        assert_eq!(out.code, 0, "{what}: {}", out.all());
        assert_eq!(
            rows(&db, &notes("marks")).await,
            [
                vec![Value::Int(1), Value::Null],
                vec![Value::Int(2), Value::Text("\\N".into())],
                vec![Value::Int(3), Value::Text(String::new())],
                vec![Value::Int(4), Value::Text(String::new())],
            ],
            "{what}"
        );
    }
}

#[test]
fn csv_runbook_errors_name_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("x.csv"), "a\n").unwrap();
    for (body, want) in [
        (
            "  kind = \"import-csv\"\n  target = \"app\"\n  table = \"t\"\n  file = \"missing.csv\"\n",
            "`file` names \"missing.csv\", which does not exist",
        ),
        (
            "  kind = \"export-csv\"\n  target = \"app\"\n  out = \"o.csv\"\n",
            "needs `table = \"name\"` or `query = \"SELECT ...\"`",
        ),
        (
            "  kind = \"export-csv\"\n  target = \"app\"\n  table = \"t\"\n  out = \"o.csv\"\n  null = \"NULL\"\n",
            "the text NULL would read back as a value",
        ),
    ] {
        std::fs::write(d.join("rb.toml"), step("e", "sqlite://a.db", body)).unwrap();
        let out = cutover(d, &["validate", "rb.toml"]);
        assert_eq!(out.code, 2, "{body}: {}", out.all());
        assert!(out.stderr.contains("rb.toml:"), "{}", out.stderr);
        assert!(
            out.stderr.contains(want),
            "{body}: want {want}: {}",
            out.stderr
        );
    }
}
