//! A table `cutover copy --create` makes on PostgreSQL gets its primary key and unique
//! constraints after its rows (as pg_dump does), and keeps that promise across a
//! kill -9: the rerun ends with the keys, and nothing of the bookkeeping is left.

use super::support::*;
use cutover::db::Db;
use cutover::testkit;

async fn scalar(db: &Db, sql: &str) -> String {
    db.query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .scalar()
        .map(|v| v.to_string())
        .unwrap_or_default()
}

const KEYS: &str = "SELECT string_agg(contype::text, '' ORDER BY contype) FROM pg_constraint WHERE conrelid = 't'::regclass AND contype IN ('p', 'u')";

#[tokio::test]
async fn a_created_postgres_table_gets_its_keys_after_the_rows_even_after_kill_9() {
    let (Some(src), Some(dst)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    let s = src.connect().await;
    s.execute("CREATE TABLE t (id int PRIMARY KEY, code text UNIQUE, v numeric(8,2))")
        .await
        .unwrap();
    s.execute("INSERT INTO t SELECT g, 'c' || g, g / 4.0 FROM generate_series(1, 45) g")
        .await
        .unwrap();
    s.close().await;
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "copy", "--from", &src.url, "--to", &dst.url, "--tables", "t", "--create", "--batch", "10",
    ];
    // killed after the second chunk: rows in, keys not yet
    let killed: Out = command(tmp.path(), &args)
        .env("CUTOVER_CRASH_AT", "copy:t:2")
        .output()
        .unwrap()
        .into();
    assert_eq!(killed.code, -1, "killed by SIGKILL: {}", killed.all());
    let d = dst.connect().await;
    assert_eq!(scalar(&d, "SELECT count(*) FROM t").await, "20");
    assert_eq!(scalar(&d, KEYS).await, "NULL", "no key while the rows load");

    let out = cutover(tmp.path(), &args);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("2 key(s) added after the rows"),
        "{}",
        out.stdout
    );
    assert_eq!(scalar(&d, "SELECT count(*) FROM t").await, "45");
    assert_eq!(
        scalar(&d, KEYS).await,
        "pu",
        "primary key and unique constraint"
    );
    assert_eq!(
        scalar(&d, "SELECT count(*) FROM cutover_copy_progress").await,
        "0",
        "the command line's marks, and the kept key statements, are gone"
    );
    // the key holds: a duplicate is refused
    assert!(d.execute("INSERT INTO t VALUES (1, 'x', 0)").await.is_err());
    d.close().await;
}
