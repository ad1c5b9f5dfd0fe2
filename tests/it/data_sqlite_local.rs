//! Issue 18: two SQLite files are diffed in one thread that merges both tables where
//! the values lie (rows stored identically are passed over). It must report exactly
//! what the general path reports — the bucket strategy, which reads every row through
//! sqlx and normalizes it — on every SQLite storage class and text timestamps in
//! several forms, including values that differ only in how they are written.

use crate::data_exact::exec_all;
use cutover::data::diff::{DiffSink, Difference, Summary};
use cutover::data::{DiffOptions, Plan, Strategy, build_plan, diff};
use cutover::db::Db;
use cutover::testkit;

/// Every difference, in full (rows and columns), in a stable order.
#[derive(Default)]
struct All(Vec<String>);

impl DiffSink for All {
    fn difference(&mut self, plan: &Plan, d: Difference) -> cutover::error::Result<()> {
        let cols = |c: &[usize]| {
            c.iter()
                .map(|i| plan.columns[*i].name.clone())
                .collect::<Vec<_>>()
                .join(",")
        };
        self.0.push(match d {
            Difference::OnlyInSource { row, count } => format!("only source {row:?} x{count}"),
            Difference::OnlyInTarget { row, count } => format!("only target {row:?} x{count}"),
            Difference::Changed {
                source,
                target,
                columns,
            } => format!("changed [{}] {source:?} -> {target:?}", cols(&columns)),
        });
        Ok(())
    }
}

async fn run(a: &Db, b: &Db, strategy: Option<Strategy>, table: &str) -> (Vec<String>, Summary) {
    let o = DiffOptions {
        table: table.into(),
        strategy,
        ..Default::default()
    };
    let plan = build_plan(a, b, &o).await.expect("plan");
    let mut all = All::default();
    let s = diff(a, b, plan, &mut all, &|_| {})
        .await
        .unwrap_or_else(|e| panic!("{strategy:?}: {e}"));
    all.0.sort();
    (all.0, s)
}

/// The one-thread merge (auto and forced merge) against the general bucket path.
async fn same_answer(a: &Db, b: &Db, table: &str) -> (Vec<String>, Summary) {
    let (general, gs) = run(a, b, Some(Strategy::Buckets), table).await;
    for strategy in [None, Some(Strategy::Merge)] {
        let (fast, fs) = run(a, b, strategy, table).await;
        assert_eq!(fast, general, "{strategy:?} vs buckets");
        for (x, y) in [
            (fs.only_in_source, gs.only_in_source),
            (fs.only_in_target, gs.only_in_target),
            (fs.changed, gs.changed),
            (fs.source_rows, gs.source_rows),
            (fs.target_rows, gs.target_rows),
            (fs.unchanged, gs.unchanged),
        ] {
            assert_eq!(x, y, "{strategy:?} vs buckets: {fs:?} / {gs:?}");
        }
        assert_eq!(fs.column_changes, gs.column_changes);
        assert_eq!(fs.stats.strategy, "merge");
    }
    (general, gs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_pair_in_one_thread_reports_what_the_general_path_reports() {
    let (s, t) = (testkit::sqlite().await, testkit::sqlite().await);
    let (a, b) = (s.connect().await, t.connect().await);
    // v has no declared type: it keeps every storage class as stored
    let ddl = "CREATE TABLE t (id INTEGER PRIMARY KEY, v, i INTEGER, r REAL, x TEXT, bl BLOB, ts DATETIME)";
    exec_all(&a, &[ddl]).await;
    exec_all(&b, &[ddl]).await;
    exec_all(
        &a,
        &["INSERT INTO t VALUES
            (1, 1, 1, 0.5, 'a', x'00ff', '2024-01-01 10:00:00'),
            (2, 1, 2, 0.1, 'b', x'00ff', '2024-01-01 10:00:00'),
            (3, '1', 3, 1.5, 'c', NULL, '2024-01-01 12:00:00+02:00'),
            (4, x'31', 4, 2.5, NULL, x'01', '2024-01-01T10:00:00Z'),
            (5, 2.5, NULL, 0.0, '', x'', 1704103200),
            (6, NULL, 6, 3.0, 'é', x'02', '2024-01-01 10:00:00.5'),
            (7, 'same', 7, 7.25, 'same', x'0707', '2024-03-01 00:00:00'),
            (8, 8, 8, 8.0, 'only source', NULL, NULL),
            (10, -0.0, 10, 1e300, 'ten', x'10', '1999-12-31 23:59:59.999999')"],
    )
    .await;
    exec_all(
        &b,
        &["INSERT INTO t VALUES
            (1, 1, 1, 0.5, 'a', x'00ff', '2024-01-01T10:00:00'),
            (2, 1.0, 2, 0.30000000000000004, 'b', x'00fe', '2024-01-01 10:00:00'),
            (3, 1, 3, 1.5, 'c', x'', '2024-01-01 10:00:00'),
            (4, '1', 4, 2.5, '', x'01', 1704103200),
            (5, '2.5', NULL, -0.0, NULL, NULL, '2024-01-01 10:00:00'),
            (6, NULL, 6, 3.0, 'é', x'02', '2024-01-01 10:00:00.500'),
            (7, 'same', 7, 7.25, 'same', x'0707', '2024-03-01 00:00:00'),
            (9, 9, 9, 9.0, 'only target', NULL, '2024-01-02'),
            (10, 0, 10, 1e300, 'ten', x'10', '1999-12-31T23:59:59.999999Z')"],
    )
    .await;
    let (diffs, sum) = same_answer(&a, &b, "t").await;
    // not vacuous: representation-only differences are equal, real ones are reported
    assert_eq!(sum.only_in_source, 1, "{diffs:#?}");
    assert_eq!(sum.only_in_target, 1, "{diffs:#?}");
    let changed: Vec<&String> = diffs.iter().filter(|d| d.starts_with("changed")).collect();
    assert!(
        !changed
            .iter()
            .any(|d| d.contains("Int(1)") && d.contains("[ts]")),
        "row 1 differs only in the timestamp's spelling: {diffs:#?}"
    );
    assert!(
        changed.iter().any(|d| d.contains("[r,bl]")),
        "row 2: 0.1 vs 0.30000000000000004 and x'00ff' vs x'00fe': {diffs:#?}"
    );
    assert!(
        changed
            .iter()
            .any(|d| d.contains("[x]") && d.contains("Int(4)")),
        "row 4: NULL vs '' is a change: {diffs:#?}"
    );
    assert!(
        changed.iter().any(|d| d.contains("Int(5)")),
        "row 5 changes (blob, text and null): {diffs:#?}"
    );
    assert!(
        !changed
            .iter()
            .any(|d| d.contains("Int(6)") || d.contains("Int(7)")),
        "rows 6 and 7 are equal: {diffs:#?}"
    );
    assert_eq!(sum.source_rows, 9);
    assert_eq!(sum.target_rows, 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_pair_with_text_keys_in_byte_order_reports_what_the_general_path_reports() {
    let (s, t) = (testkit::sqlite().await, testkit::sqlite().await);
    let (a, b) = (s.connect().await, t.connect().await);
    // NOCASE would sort 'B' between 'a' and 'c' and pair 'z' with 'Z': the merge pairs
    // keys by their bytes, as every other path does
    let ddl = "CREATE TABLE k (code TEXT COLLATE NOCASE PRIMARY KEY, n INTEGER)";
    exec_all(&a, &[ddl]).await;
    exec_all(&b, &[ddl]).await;
    exec_all(
        &a,
        &["INSERT INTO k VALUES ('a', 1), ('B', 2), ('c', 3), ('é', 4), ('z', 5)"],
    )
    .await;
    exec_all(
        &b,
        &["INSERT INTO k VALUES ('a', 1), ('B', 20), ('é', 4), ('e', 7), ('Z', 6)"],
    )
    .await;
    let (diffs, sum) = same_answer(&a, &b, "k").await;
    assert_eq!(
        (sum.only_in_source, sum.only_in_target, sum.changed),
        (2, 2, 1),
        "{diffs:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_pair_with_a_duplicate_user_key_is_refused_like_the_general_path() {
    let (s, t) = (testkit::sqlite().await, testkit::sqlite().await);
    let (a, b) = (s.connect().await, t.connect().await);
    exec_all(
        &a,
        &[
            "CREATE TABLE d (id INTEGER, v TEXT)",
            "INSERT INTO d VALUES (1, 'a'), (2, 'b'), (2, 'c')",
        ],
    )
    .await;
    exec_all(
        &b,
        &[
            "CREATE TABLE d (id INTEGER, v TEXT)",
            "INSERT INTO d VALUES (1, 'a'), (2, 'b')",
        ],
    )
    .await;
    for strategy in [None, Some(Strategy::Merge), Some(Strategy::Buckets)] {
        let o = DiffOptions {
            table: "d".into(),
            key: Some(vec!["id".into()]),
            strategy,
            ..Default::default()
        };
        let plan = build_plan(&a, &b, &o).await.expect("plan");
        let mut all = All::default();
        let e = diff(&a, &b, plan, &mut all, &|_| {})
            .await
            .expect_err("a duplicate key");
        assert!(
            e.to_string().contains("not unique in the source table"),
            "{strategy:?}: {e}"
        );
    }
}

/// A SQLite file against a server table: the file's thread merges it with the server's
/// rows (compared where they lie, decoded only when they differ). Every value below
/// differs from the server's only in how it is stored or written — decimal scale, a
/// timestamp's spelling, integer vs real vs text storage, -0.0 — except one NULL vs
/// '', one cent and one second, which must be reported; both directions, both engines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_against_a_server_merges_in_the_file_thread_and_reports_what_the_general_path_reports()
 {
    let (Some(pg), Some(my)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    let lite = testkit::sqlite().await;
    let l = lite.connect().await;
    // n has no declared type: it keeps integer, real and text storage as stored
    exec_all(
        &l,
        &[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, d NUMERIC, ts TIMESTAMP, s TEXT, n, r REAL)",
            "INSERT INTO t VALUES
                (1, 1.5, '2024-01-01T10:00:00Z', 'a', 5.0, 0.5),
                (2, '2', '2024-01-01 10:00:01.000', '', 7, 0.0),
                (3, 3.11, '2024-01-01 10:00:02', 'c', 9, 1.25),
                (4, 4, '2024-01-01 10:00:04', 'd', '10', 2),
                (6, 6, '2024-01-01 10:00:06', 'only sqlite', 6, 6),
                (7, 7.25, '2024-01-02 00:00:00', 'same', 1, 1.5),
                (8, 8.5, '2024-01-01 12:00:00+02:00', 'é', 8, -0.0)",
        ],
    )
    .await;
    let server_rows = "INSERT INTO t VALUES
        (1, 1.50, '2024-01-01 10:00:00', 'a', 5, 0.5),
        (2, 2.00, '2024-01-01 10:00:01', NULL, 7, 0),
        (3, 3.10, '2024-01-01 10:00:02', 'c', 9, 1.25),
        (4, 4.00, '2024-01-01 10:00:03', 'd', 10, 2.0),
        (5, 5.00, '2024-01-01 10:00:05', 'only server', 5, 5),
        (7, 7.25, '2024-01-02 00:00:00', 'same', 1, 1.5),
        (8, 8.50, '2024-01-01 10:00:00', 'é', 8, 0)";
    let p = pg.connect().await;
    exec_all(
        &p,
        &[
            "CREATE TABLE t (id bigint PRIMARY KEY, d numeric(10,2), ts timestamp, s text, n bigint, r double precision)",
            server_rows,
        ],
    )
    .await;
    let m = my.connect().await;
    exec_all(
        &m,
        &[
            "CREATE TABLE t (id bigint PRIMARY KEY, d decimal(10,2), ts datetime, s text, n bigint, r double)",
            server_rows,
        ],
    )
    .await;
    for (server, engine) in [(&p, "postgres"), (&m, "mariadb")] {
        for server_is_source in [true, false] {
            let (a, b) = if server_is_source {
                (server, &l)
            } else {
                (&l, server)
            };
            let (diffs, sum) = same_answer(a, b, "t").await;
            let at = format!("{engine}, server is source: {server_is_source}: {diffs:#?}");
            assert_eq!(sum.changed, 3, "{at}");
            let want: std::collections::BTreeMap<String, u64> = [("d", 1), ("s", 1), ("ts", 1)]
                .into_iter()
                .map(|(c, n)| (c.to_string(), n))
                .collect();
            assert_eq!(sum.column_changes, want, "{at}");
            assert_eq!((sum.only_in_source, sum.only_in_target), (1, 1), "{at}");
            let only_server = if server_is_source {
                "only source"
            } else {
                "only target"
            };
            assert!(
                diffs
                    .iter()
                    .any(|d| d.starts_with(only_server) && d.contains("only server")),
                "{at}"
            );
            assert_eq!((sum.source_rows, sum.target_rows), (7, 7), "{at}");
            assert_eq!(sum.unchanged, 3, "{at}");
        }
    }
    p.close().await;
    m.close().await;
}
