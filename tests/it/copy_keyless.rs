//! A table without a primary key, copied by decoded rows (PostgreSQL to MariaDB): the
//! rows stream a batch at a time into one destination transaction, so a copy killed
//! part way leaves nothing behind and the rerun copies every row exactly once
//! (duplicate rows included). It cannot resume part way: the rerun starts over, and
//! says nothing about resuming.

use super::support::*;
use cutover::testkit;

#[tokio::test]
async fn a_table_without_a_key_is_streamed_in_one_transaction_and_a_killed_copy_leaves_nothing() {
    let (Some(src), Some(dst)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    let s = src.connect().await;
    s.execute("CREATE TABLE k (n int, label text)")
        .await
        .unwrap();
    // 2,500 rows, every one twice: a keyless table may hold duplicates
    s.execute(
        "INSERT INTO k SELECT g % 1250, 'row ' || (g % 1250) FROM generate_series(1, 2500) g",
    )
    .await
    .unwrap();
    s.close().await;
    let d = dst.connect().await;
    d.execute("CREATE TABLE k (n int, label varchar(40))")
        .await
        .unwrap();
    let count = |sql: &'static str| {
        let d = d.clone();
        async move {
            d.query(sql, &[])
                .await
                .unwrap()
                .scalar()
                .map(|v| v.to_string())
                .unwrap_or_default()
        }
    };

    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "copy", "--from", &src.url, "--to", &dst.url, "--tables", "k", "--batch", "100",
    ];
    // killed after the 7th batch was read, its transaction open
    let killed: Out = command(tmp.path(), &args)
        .env("CUTOVER_CRASH_AT", "copy-keyless:k:700")
        .output()
        .unwrap()
        .into();
    assert_eq!(killed.code, -1, "killed by SIGKILL: {}", killed.all());
    assert_eq!(
        count("SELECT count(*) FROM k").await,
        "0",
        "nothing of an unfinished keyless copy is committed"
    );

    let out = cutover(tmp.path(), &args);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("k → k: 2500 row(s)"), "{}", out.stdout);
    assert!(!out.stdout.contains("resumed"), "{}", out.stdout);
    assert_eq!(count("SELECT count(*) FROM k").await, "2500");
    assert_eq!(
        count(
            "SELECT count(*) FROM (SELECT n, label FROM k GROUP BY n, label HAVING count(*) = 2) x"
        )
        .await,
        "1250",
        "each row exactly as often as in the source"
    );
    d.close().await;
}
