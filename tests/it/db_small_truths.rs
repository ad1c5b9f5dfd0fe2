//! Small truths about databases (issue 12, item 8): a failed `sql` step on MySQL says
//! which statements stayed applied; a refused connection says so at once; an
//! unanswered one gives up after --connect-timeout; a missing database says so in the
//! server's words without the server's source line.

use super::support::*;
use cutover::testkit;

fn sql_runbook(url: &str) -> String {
    format!(
        "name = \"truths\"\n[targets]\napp = \"{url}\"\n\n[[phases]]\nid = \"p\"\n\
  [[phases.steps]]\n  id = \"script\"\n  kind = \"sql\"\n  target = \"app\"\n  file = \"script.sql\"\n"
    )
}

#[tokio::test]
async fn a_failed_mysql_sql_step_names_the_statements_that_stayed_applied() {
    let Some(app) = testkit::mysql().await else {
        return;
    };
    let db = app.connect().await;
    db.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    db.close().await;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // 1 DML, 2 DDL (commits 1 and itself, and ends the transaction), 3 and 4 DML after
    // the implicit commit (each committed on its own), then 5 fails.
    std::fs::write(
        d.join("script.sql"),
        "INSERT INTO t VALUES (1);\nALTER TABLE t ADD COLUMN note VARCHAR(20);\nINSERT INTO t VALUES (2, 'x');\nUPDATE t SET note = 'y' WHERE id = 1;\nINSERT INTO missing_table VALUES (3);\n",
    )
    .unwrap();
    std::fs::write(d.join("rb.toml"), sql_runbook(&app.url)).unwrap();
    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 3, "{}", out.all());
    let all = out.all();
    assert!(all.contains("statement 5 of 5 failed"), "{all}");
    assert!(
        all.contains("statements 1-4 STAYED APPLIED (statement 2 commits implicitly"),
        "{all}"
    );
    assert!(
        all.contains("1 (line 1): INSERT INTO t VALUES (1)\n"),
        "{all}"
    );
    assert!(
        all.contains("2 (line 2): ALTER TABLE t ADD COLUMN note"),
        "{all}"
    );
    assert!(
        all.contains("4 (line 4): UPDATE t SET note = 'y' WHERE id = 1"),
        "{all}"
    );
    // ...and that is what the database holds.
    let db = app.connect().await;
    let rows = db
        .query("SELECT id, note FROM t ORDER BY id", &[])
        .await
        .unwrap();
    db.close().await;
    assert_eq!(
        format!("{:?}", rows.rows),
        "[[Int(1), Text(\"y\")], [Int(2), Text(\"x\")]]"
    );

    // A failing DDL statement (past parsing) commits what came before it too.
    std::fs::write(
        d.join("script.sql"),
        "INSERT INTO t (id) VALUES (10);\nCREATE TABLE t (id INT);\n",
    )
    .unwrap();
    let out = cutover(
        d,
        &[
            "run",
            "rb.toml",
            "--headless",
            "--new",
            "--abandon",
            "retry",
        ],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.all().contains("statement 1 STAYED APPLIED"),
        "{}",
        out.all()
    );
    let db = app.connect().await;
    let n = db
        .query("SELECT count(*) FROM t WHERE id = 10", &[])
        .await
        .unwrap();
    db.close().await;
    assert_eq!(n.scalar().and_then(|v| v.as_i64()), Some(1));
}

#[tokio::test]
async fn a_failed_mysql_sql_step_of_dml_only_changed_nothing() {
    let Some(app) = testkit::mysql().await else {
        return;
    };
    let db = app.connect().await;
    db.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    db.close().await;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(
        d.join("script.sql"),
        "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\n",
    )
    .unwrap();
    std::fs::write(d.join("rb.toml"), sql_runbook(&app.url)).unwrap();
    let out = cutover(d, &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.all().contains("so nothing was changed"),
        "{}",
        out.all()
    );
    assert!(!out.all().contains("STAYED APPLIED"), "{}", out.all());
}

#[test]
fn a_refused_connection_says_so_at_once() {
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tmp = tempfile::tempdir().unwrap();
    for scheme in ["mysql", "postgres"] {
        let url = format!("{scheme}://root@127.0.0.1:{port}/app");
        let started = std::time::Instant::now();
        let out = cutover(
            tmp.path(),
            &["snapshot", "capture", "--target", &url, "--out", "s.json"],
        );
        let took = started.elapsed();
        assert_eq!(out.code, 3, "{}", out.all());
        assert!(out.stderr.contains("connection refused"), "{}", out.all());
        assert!(!out.stderr.contains("pool timed out"), "{}", out.all());
        // Not a timing assertion on speed, only that it does not wait out a timeout.
        assert!(took < std::time::Duration::from_secs(4), "{took:?}");
    }
}

#[test]
fn an_unanswered_connection_gives_up_after_the_connect_timeout() {
    // A listener that never accepts: the kernel completes the handshake, the server
    // never speaks.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{port}/app");
    let out = cutover(
        tmp.path(),
        &[
            "--connect-timeout",
            "1",
            "snapshot",
            "capture",
            "--target",
            &url,
            "--out",
            "s.json",
        ],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("no answer within 1 s"), "{}", out.all());
    assert!(out.stderr.contains("--connect-timeout"), "{}", out.all());
    drop(l);
    let out = cutover(tmp.path(), &["--connect-timeout", "0", "status", "x.toml"]);
    assert_eq!(out.code, 2, "{}", out.all());
}

#[tokio::test]
async fn a_missing_database_says_so_without_the_server_source_line() {
    let mut urls = Vec::new();
    if let Some(pg) = testkit::postgres().await {
        urls.push(format!(
            "{}/cutover_no_such_db_w5",
            testkit::pg_server_url()
        ));
        drop(pg);
    }
    if let Some(my) = testkit::mysql().await {
        urls.push(format!(
            "{}/cutover_no_such_db_w5",
            testkit::mysql_server_url()
        ));
        drop(my);
    }
    let tmp = tempfile::tempdir().unwrap();
    for url in urls {
        let out = cutover(
            tmp.path(),
            &["snapshot", "capture", "--target", &url, "--out", "s.json"],
        );
        assert_eq!(out.code, 2, "{}", out.all());
        assert!(
            out.stderr
                .contains("the database does not exist on that server"),
            "{}",
            out.all()
        );
        assert!(
            out.stderr.contains("cutover_no_such_db_w5"),
            "{}",
            out.all()
        );
        assert!(!out.stderr.contains("at line"), "{}", out.all());
    }
}
