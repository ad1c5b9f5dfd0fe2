//! `cutover copy` between real engines, as a user runs it: every value arrives (checked
//! with the data diff), sequences are set past the copied keys so the app's next
//! insert works, generated columns are left to the destination, a killed copy resumes
//! without copying a row twice, and what cannot be copied is refused by name.

use super::support::*;
use cutover::db::Db;
use cutover::testkit::{self, TestDb};
use std::path::Path;

async fn exec(db: &Db, sql: &str) {
    db.execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn scalar(db: &Db, sql: &str) -> String {
    db.query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .scalar()
        .map(|v| v.to_string())
        .unwrap_or_default()
}

fn copy(dir: &Path, from: &TestDb, to: &TestDb, extra: &[&str]) -> Out {
    let mut args = vec!["copy", "--from", &from.url, "--to", &to.url];
    args.extend_from_slice(extra);
    cutover(dir, &args)
}

/// The data diff (which normalizes values exactly across engines) says equal.
fn assert_same(dir: &Path, a: &TestDb, b: &TestDb, table: &str) {
    let d = cutover(
        dir,
        &[
            "diff", "data", "--source", &a.url, "--target", &b.url, "--table", table,
        ],
    );
    assert_eq!(d.code, 0, "{table} differs after the copy: {}", d.all());
}

const PG_SOURCE: &str = "CREATE TABLE t (
    id bigserial PRIMARY KEY,
    n integer,
    s text,
    amount numeric(14,4),
    at timestamptz,
    local_at timestamp,
    b bytea,
    tags integer[],
    total numeric GENERATED ALWAYS AS (amount * 2) STORED)";

async fn fill_pg(db: &Db, rows: i64) {
    exec(db, PG_SOURCE).await;
    exec(
        db,
        &format!(
            "INSERT INTO t (n, s, amount, at, local_at, b, tags) SELECT g, 'Zoë ☃ ' || g || ' it''s', g * 12345.6789 / 7, \
             timestamptz '2024-03-10 01:59:59.123456+00' + g * interval '1 hour', timestamp '1999-12-31 23:59:59.5' + g * interval '1 day', \
             decode('00ff' || lpad(to_hex(g), 8, '0'), 'hex'), ARRAY[g, -g, NULL] FROM generate_series(1, {rows}) g"
        ),
    )
    .await;
    exec(db, "INSERT INTO t (n) VALUES (NULL)").await;
}

#[tokio::test]
async fn postgres_to_postgres_goes_through_binary_copy_keeps_every_value_and_resets_the_sequence() {
    let (Some(src), Some(dst)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let s = src.connect().await;
    fill_pg(&s, 40).await;
    let out = copy(
        tmp.path(),
        &src,
        &dst,
        &["--tables", "t", "--create", "--batch", "7"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("41 row(s)"), "{}", out.stdout);
    assert!(out.stdout.contains("binary COPY"), "{}", out.stdout);
    assert!(
        out.stdout.contains("generated column(s) total"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("chunk 6:"),
        "7 rows per chunk: {}",
        out.stdout
    );
    assert_same(tmp.path(), &src, &dst, "t");
    // The created table is the source's (the copy's bookkeeping table is not shown).
    let schema = cutover(
        tmp.path(),
        &["diff", "schema", "--source", &src.url, "--target", &dst.url],
    );
    assert_eq!(schema.code, 0, "{}", schema.all());
    let d = dst.connect().await;
    // Arrays and the generated column, which the data diff reads as text.
    let q = "SELECT string_agg(tags::text || '/' || coalesce(total::text, '-'), ',' ORDER BY id) FROM t";
    assert_eq!(scalar(&d, q).await, scalar(&s, q).await);
    // The app's next insert gets a fresh key instead of colliding with a copied one.
    assert_eq!(
        scalar(&d, "INSERT INTO t (n) VALUES (1) RETURNING id").await,
        "42"
    );
    // The command line leaves no marks behind: running it again copies again.
    assert_eq!(
        scalar(&d, "SELECT count(*) FROM cutover_copy_progress").await,
        "0"
    );
    let again = copy(tmp.path(), &src, &dst, &["--tables", "t"]);
    assert_eq!(again.code, 3, "duplicate keys fail: {}", again.all());
    assert!(again.all().contains("duplicate key"), "{}", again.all());
    assert_eq!(scalar(&d, "SELECT count(*) FROM t").await, "42");
    s.close().await;
    d.close().await;
}

#[tokio::test]
async fn postgres_to_mariadb_and_mariadb_to_postgres_by_batched_insert() {
    let (Some(pg), Some(my), Some(back)) = (
        testkit::postgres().await,
        testkit::mysql().await,
        testkit::postgres().await,
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let p = pg.connect().await;
    exec(
        &p,
        "CREATE TABLE acct (id serial PRIMARY KEY, name varchar(80), balance numeric(12,2), opened timestamptz, \
         seen timestamp, active boolean, photo bytea, total numeric(14,2) GENERATED ALWAYS AS (balance * 2) STORED)",
    )
    .await;
    exec(
        &p,
        "INSERT INTO acct (name, balance, opened, seen, active, photo) SELECT 'naïve ' || g || ' 日本', g * 100.25 - 5000, \
         timestamptz '2023-06-01 12:00:00.654321+02' + g * interval '1 minute', timestamp '2020-02-29 00:00:00' + g * interval '1 second', \
         g % 2 = 0, decode(lpad(to_hex(g), 6, '0') || '00', 'hex') FROM generate_series(1, 25) g",
    )
    .await;
    exec(&p, "INSERT INTO acct (name) VALUES (NULL)").await;
    // The destination's own generated column: the copy leaves it to MariaDB.
    let m = my.connect().await;
    exec(
        &m,
        "CREATE TABLE acct (id int AUTO_INCREMENT PRIMARY KEY, name varchar(80), balance decimal(12,2), opened timestamp(6) NULL, \
         seen datetime(6), active tinyint(1), photo longblob, total decimal(14,2) AS (balance * 2) STORED)",
    )
    .await;
    let out = copy(tmp.path(), &pg, &my, &["--tables", "acct", "--batch", "10"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("batched INSERT"), "{}", out.stdout);
    assert!(out.stdout.contains("26 row(s)"), "{}", out.stdout);
    assert_same(tmp.path(), &pg, &my, "acct");
    exec(&m, "INSERT INTO acct (name) VALUES ('next')").await;
    assert_eq!(
        scalar(&m, "SELECT id FROM acct WHERE name = 'next'").await,
        "27"
    );
    exec(&m, "DELETE FROM acct WHERE name = 'next'").await;

    // Back to PostgreSQL: the table is created from MariaDB's schema (its generated
    // column cannot cross engines, so only the plain columns are asked for).
    exec(
        &m,
        "CREATE TABLE plain (id int AUTO_INCREMENT PRIMARY KEY, name varchar(80), balance decimal(12,2), seen datetime(6), photo longblob)",
    )
    .await;
    exec(
        &m,
        "INSERT INTO plain (name, balance, seen, photo) SELECT name, balance, seen, photo FROM acct ORDER BY id",
    )
    .await;
    let out = copy(tmp.path(), &my, &back, &["--tables", "plain", "--create"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_same(tmp.path(), &my, &back, "plain");
    let b = back.connect().await;
    assert_eq!(
        scalar(&b, "INSERT INTO plain (name) VALUES ('x') RETURNING id").await,
        "27",
        "the created table's identity continues after the copied keys"
    );
    // A generated column is not carried across engines by create: refused by name.
    let out = copy(tmp.path(), &my, &back, &["--tables", "acct", "--create"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("\"total\""), "{}", out.stderr);
    p.close().await;
    m.close().await;
    b.close().await;
}

#[tokio::test]
async fn sqlite_to_postgres_and_back() {
    let Some(pg) = testkit::postgres().await else {
        return;
    };
    let (lite, lite2) = (testkit::sqlite().await, testkit::sqlite().await);
    let tmp = tempfile::tempdir().unwrap();
    let l = lite.connect().await;
    exec(
        &l,
        "CREATE TABLE item (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, price NUMERIC(10,2), qty INTEGER, \
         ratio REAL, created TIMESTAMP, data BLOB)",
    )
    .await;
    for i in 1..=30 {
        exec(
            &l,
            &format!(
                "INSERT INTO item (name, price, qty, ratio, created, data) VALUES ('Grüße {i} ✓', {i}.25, {}, {}.5, '2024-01-{:02} 08:30:00', X'00{:02x}ff')",
                i * 3,
                i,
                (i % 28) + 1,
                i
            ),
        )
        .await;
    }
    exec(
        &l,
        "INSERT INTO item (name, price, qty, ratio, created, data) VALUES (NULL, NULL, NULL, NULL, NULL, NULL)",
    )
    .await;
    l.close().await;
    let out = copy(
        tmp.path(),
        &lite,
        &pg,
        &["--tables", "item", "--create", "--batch", "8"],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("31 row(s)"), "{}", out.stdout);
    assert_same(tmp.path(), &lite, &pg, "item");
    let p = pg.connect().await;
    assert_eq!(
        scalar(&p, "INSERT INTO item (name) VALUES ('new') RETURNING id").await,
        "32"
    );
    exec(&p, "DELETE FROM item WHERE id = 32").await;
    p.close().await;
    let out = copy(tmp.path(), &pg, &lite2, &["--tables", "item", "--create"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_same(tmp.path(), &pg, &lite2, "item");
    let l2 = lite2.connect().await;
    exec(&l2, "INSERT INTO item (name) VALUES ('next')").await;
    assert_eq!(
        scalar(&l2, "SELECT id FROM item WHERE name = 'next'").await,
        "32"
    );
    l2.close().await;
}

/// kill -9 in the middle (after the second chunk commits), then the same command:
/// the end state is the uninterrupted copy's, and the resume is said.
async fn killed_then_rerun(src: &TestDb, dst: &TestDb, path: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "copy", "--from", &src.url, "--to", &dst.url, "--tables", "t", "--batch", "10",
    ];
    let killed: Out = command(tmp.path(), &args)
        .env("CUTOVER_CRASH_AT", "copy:t:2")
        .output()
        .unwrap()
        .into();
    assert_eq!(killed.code, -1, "killed by SIGKILL: {}", killed.all());
    let d = dst.connect().await;
    assert_eq!(scalar(&d, "SELECT count(*) FROM t").await, "20");
    let out = cutover(tmp.path(), &args);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("resumed after 20 row(s)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(path), "{}", out.stdout);
    assert!(out.stdout.contains("t → t: 41 row(s)"), "{}", out.stdout);
    assert_eq!(scalar(&d, "SELECT count(*) FROM t").await, "41");
    assert_same(tmp.path(), src, dst, "t");
    d.close().await;
}

#[tokio::test]
async fn a_copy_killed_mid_way_resumes_after_its_last_chunk_and_copies_nothing_twice() {
    let (Some(src), Some(pg), Some(my)) = (
        testkit::postgres().await,
        testkit::postgres().await,
        testkit::mysql().await,
    ) else {
        return;
    };
    let s = src.connect().await;
    exec(
        &s,
        "CREATE TABLE t (id int PRIMARY KEY, name text, amount numeric(10,2))",
    )
    .await;
    exec(
        &s,
        "INSERT INTO t SELECT g, 'row ' || g, g / 3.0 FROM generate_series(1, 41) g",
    )
    .await;
    s.close().await;
    for db in [&pg, &my] {
        let d = db.connect().await;
        exec(
            &d,
            "CREATE TABLE t (id int PRIMARY KEY, name text, amount numeric(10,2))",
        )
        .await;
        d.close().await;
    }
    killed_then_rerun(&src, &pg, "binary COPY").await;
    killed_then_rerun(&src, &my, "batched INSERT").await;
}

#[tokio::test]
async fn an_incompatible_or_missing_column_is_refused_by_name_before_anything_is_copied() {
    let (Some(src), Some(dst)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let s = src.connect().await;
    exec(&s, "CREATE TABLE a (id int PRIMARY KEY, code text)").await;
    exec(&s, "CREATE TABLE b (id int PRIMARY KEY, code text)").await;
    exec(&s, "INSERT INTO a VALUES (1, 'x1'), (2, 'x2')").await;
    exec(&s, "INSERT INTO b VALUES (1, 'y')").await;
    let d = dst.connect().await;
    exec(&d, "CREATE TABLE a (id int PRIMARY KEY, code text)").await;
    exec(&d, "CREATE TABLE b (id int PRIMARY KEY, code int)").await;
    let out = copy(tmp.path(), &src, &dst, &["--tables", "a,b"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("column \"code\" is text (text) on the source but int"),
        "{}",
        out.stderr
    );
    assert_eq!(
        scalar(&d, "SELECT count(*) FROM a").await,
        "0",
        "a bad table stops the copy before any table is copied"
    );
    exec(&d, "DROP TABLE b").await;
    exec(&d, "CREATE TABLE b (id int PRIMARY KEY)").await;
    let out = copy(tmp.path(), &src, &dst, &["--tables", "b"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("the destination has no column \"code\""),
        "{}",
        out.stderr
    );
    let out = copy(tmp.path(), &src, &dst, &["--tables", "nope"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("table \"nope\" does not exist"),
        "{}",
        out.stderr
    );
    s.close().await;
    d.close().await;
}

#[tokio::test]
async fn text_with_a_nul_byte_or_invalid_utf8_is_copied_exactly_or_refused_naming_table_key_and_column()
 {
    let (Some(pg), Some(my)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    let lite = testkit::sqlite().await;
    let tmp = tempfile::tempdir().unwrap();
    let l = lite.connect().await;
    exec(&l, "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)").await;
    exec(
        &l,
        "INSERT INTO note VALUES (1, 'plain'), (2, CAST(X'61006200' AS TEXT)), (3, 'ok')",
    )
    .await;
    for db in [&pg, &my] {
        let d = db.connect().await;
        exec(&d, "CREATE TABLE note (id int PRIMARY KEY, body text)").await;
        d.close().await;
    }
    // PostgreSQL text cannot hold a NUL byte: refused by table, key and column.
    let out = copy(tmp.path(), &lite, &pg, &["--tables", "note"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("note")
            && out.stderr.contains("id = 2")
            && out.stderr.contains("\"body\"")
            && out.stderr.contains("NUL byte"),
        "{}",
        out.stderr
    );
    let p = pg.connect().await;
    assert_eq!(scalar(&p, "SELECT count(*) FROM note").await, "0");
    // MariaDB text holds it: copied byte for byte.
    let out = copy(tmp.path(), &lite, &my, &["--tables", "note"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let m = my.connect().await;
    assert_eq!(
        scalar(&m, "SELECT hex(body) FROM note WHERE id = 2").await,
        "61006200"
    );
    // Bytes that are not UTF-8 in a text column: never stored as \x... text.
    let l = lite.connect().await;
    exec(&l, "DELETE FROM note WHERE id = 2").await;
    exec(&l, "INSERT INTO note VALUES (4, CAST(X'41FF42' AS TEXT))").await;
    l.close().await;
    let out = copy(tmp.path(), &lite, &pg, &["--tables", "note"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("id = 4")
            && out.stderr.contains("\"body\"")
            && out.stderr.contains("not valid UTF-8"),
        "{}",
        out.stderr
    );
    assert_eq!(scalar(&p, "SELECT count(*) FROM note").await, "0");
    p.close().await;
    m.close().await;
}

/// The runbook step: killed after its second chunk, the run resumes the copy where it
/// stopped, and the evidence names the path, the rows and the sequence reset.
#[tokio::test]
async fn the_copy_step_resumes_inside_its_run_after_kill_9() {
    let (Some(src), Some(dst)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    let s = src.connect().await;
    fill_pg(&s, 24).await;
    s.close().await;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("rb.toml"),
        format!(
            "name = \"copy-step\"\n[targets]\nstaging = \"{}\"\nproduction = \"{}\"\n\n[[phases]]\nid = \"move\"\n  [[phases.steps]]\n  id = \"copy-t\"\n  kind = \"copy\"\n  from = \"staging\"\n  into = \"production\"\n  tables = [\"t\"]\n  create = true\n  batch = 10\n",
            src.url, dst.url
        ),
    )
    .unwrap();
    let v = cutover(tmp.path(), &["validate", "rb.toml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(
        v.stdout
            .contains("binary COPY where the column types match"),
        "{}",
        v.stdout
    );
    let killed: Out = command(tmp.path(), &["run", "rb.toml", "--headless"])
        .env("CUTOVER_CRASH_AT", "copy:t:2")
        .output()
        .unwrap()
        .into();
    assert_eq!(killed.code, -1, "{}", killed.all());
    let out = cutover(tmp.path(), &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("t → t: 25 row(s)") && out.stdout.contains("resumed after 20 row(s)"),
        "{}",
        out.stdout
    );
    assert_same(tmp.path(), &src, &dst, "t");
    let st = cutover(tmp.path(), &["status", "rb.toml", "--format", "json"]);
    assert_eq!(st.code, 0, "{}", st.all());
    for needle in [
        "\"path\": \"binary COPY\"",
        "\"sequences_reset\"",
        "\"skipped_generated\"",
    ] {
        assert!(st.stdout.contains(needle), "{needle} in {}", st.stdout);
    }
}
