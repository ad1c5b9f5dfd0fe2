//! Issue 13 (progress from the first second): a table without a single integer key
//! (a text key, a composite key) is hashed slice by slice, so the diff reports rows
//! hashed of the rows expected before its first stage ends, on PostgreSQL (page
//! ranges) and MariaDB (walking the key's index). The answer stays exact: the planted
//! differences, and the same as the streamed merge.

use crate::data_exact::{Found, exec_all};
use cutover::data::{DiffOptions, Strategy, build_plan, diff};
use cutover::db::Db;
use cutover::testkit::{self, TestDb};
use cutover::vocab::Progress;
use std::collections::BTreeSet;
use std::sync::Mutex;

const N: u64 = 250_000;

async fn pair(pg: bool) -> Option<(TestDb, TestDb)> {
    if pg {
        Some((testkit::postgres().await?, testkit::postgres().await?))
    } else {
        Some((testkit::mysql().await?, testkit::mysql().await?))
    }
}

/// Rows `1..=N` as `SELECT g …` on each engine.
fn rows(pg: bool, select: &str) -> String {
    if pg {
        format!("SELECT {select} FROM generate_series(1, {N}) g")
    } else {
        format!("SELECT {select} FROM (SELECT seq AS g FROM seq_1_to_{N}) s")
    }
}

/// Diff `table` (planted differences on `b`) with the default strategy, recording
/// progress; then with the merge. Returns what was found and the progress seen.
async fn run(a: &Db, b: &Db, table: &str) -> (Found, Vec<Progress>) {
    let o = DiffOptions {
        table: table.into(),
        ..Default::default()
    };
    let plan = build_plan(a, b, &o).await.expect("plan");
    let events: Mutex<Vec<Progress>> = Mutex::new(Vec::new());
    let record = |p: Progress| events.lock().unwrap().push(p);
    let mut f = Found::default();
    let s = diff(a, b, plan, &mut f, &record).await.expect("diff");
    assert!(s.stats.strategy.starts_with("buckets"), "{:?}", s.stats);
    assert_eq!((s.source_rows, s.target_rows), (N, N), "{table}");
    let merged = {
        let o = DiffOptions {
            table: table.into(),
            strategy: Some(Strategy::Merge),
            ..Default::default()
        };
        let plan = build_plan(a, b, &o).await.expect("plan");
        let mut m = Found::default();
        diff(a, b, plan, &mut m, &|_| {}).await.expect("merge");
        m
    };
    assert_eq!(f, merged, "{table}: sliced buckets vs merge");
    (f, events.into_inner().unwrap())
}

/// Several "rows hashed" reports with a total, some before the end, the last one all
/// rows of both sides.
fn assert_progress_before_the_end(table: &str, events: &[Progress]) {
    let hashed: Vec<&Progress> = events.iter().filter(|p| p.unit == "rows hashed").collect();
    let before: Vec<&&Progress> = hashed
        .iter()
        .filter(|p| p.total.is_some_and(|t| p.done > 0 && p.done < t))
        .collect();
    assert!(
        before.len() >= 2,
        "{table}: progress before the first stage ends: {events:?}"
    );
    let last = hashed.last().expect("progress");
    assert_eq!(
        (last.done, last.total),
        (2 * N, Some(2 * N)),
        "{table}: {last:?}"
    );
}

async fn text_and_composite_keys(pg: bool) {
    let Some(dbs) = pair(pg).await else { return };
    let (a, b) = (dbs.0.connect().await, dbs.1.connect().await);
    let analyze = |t: &str| {
        if pg {
            format!("ANALYZE {t}")
        } else {
            format!("ANALYZE TABLE {t}")
        }
    };
    let text_key = if pg { "md5(g::text)" } else { "md5(g)" };
    let label = if pg { "'k' || g" } else { "concat('k', g)" };
    for db in [&a, &b] {
        exec_all(
            db,
            &[
                "CREATE TABLE tk (k varchar(40) PRIMARY KEY, n int NOT NULL)",
                &format!("INSERT INTO tk {}", rows(pg, &format!("{text_key}, g % 97"))),
                &analyze("tk"),
                "CREATE TABLE ck (region varchar(10) NOT NULL, id int NOT NULL, v varchar(20), \
                 PRIMARY KEY (region, id))",
                &format!(
                    "INSERT INTO ck {}",
                    rows(pg, &format!("CASE WHEN g % 3 = 0 THEN 'eu' WHEN g % 3 = 1 THEN 'us' ELSE 'apac' END, g, {label}"))
                ),
                &analyze("ck"),
            ],
        )
        .await;
    }
    let md5_of = |g: u64| {
        use md5::Digest;
        hex::encode(md5::Md5::digest(g.to_string()))
    };
    exec_all(
        &b,
        &[
            &format!(
                "UPDATE tk SET n = n + 1 WHERE k IN ('{}', '{}')",
                md5_of(7),
                md5_of(240_001)
            ),
            &format!("DELETE FROM tk WHERE k = '{}'", md5_of(123_456)),
            "INSERT INTO tk VALUES ('zzz-only-in-target', 1)",
            "UPDATE ck SET v = 'changed' WHERE id IN (5, 199999)",
            "DELETE FROM ck WHERE id = 100000",
            "INSERT INTO ck VALUES ('mars', 1, 'new')",
        ],
    )
    .await;

    let (f, events) = run(&a, &b, "tk").await;
    assert_progress_before_the_end("tk", &events);
    assert_eq!(f.only_source, BTreeSet::from([md5_of(123_456)]));
    assert_eq!(
        f.only_target,
        BTreeSet::from(["zzz-only-in-target".to_string()])
    );
    assert_eq!(
        f.changed,
        BTreeSet::from([
            (md5_of(7), "n".to_string()),
            (md5_of(240_001), "n".to_string())
        ])
    );

    let (f, events) = run(&a, &b, "ck").await;
    assert_progress_before_the_end("ck", &events);
    assert_eq!(f.only_source.len(), 1, "{f:?}");
    assert!(f.only_source.iter().all(|k| k.contains("100000")), "{f:?}");
    assert_eq!(f.only_target.len(), 1, "{f:?}");
    assert!(f.only_target.iter().all(|k| k.contains("mars")), "{f:?}");
    assert_eq!(f.changed.len(), 2, "{f:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_text_and_composite_keys_report_progress_before_the_first_stage_ends() {
    text_and_composite_keys(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_text_and_composite_keys_report_progress_before_the_first_stage_ends() {
    text_and_composite_keys(false).await;
}
