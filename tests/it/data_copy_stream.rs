//! Issue 18: the PostgreSQL side of a sorted merge streams through binary
//! `COPY (SELECT … ORDER BY key) TO STDOUT`, parsed by cutover. It must hold the very
//! values the driver decodes (every type it reads, at their edges), fall back to the
//! driver for the types it does not read, and a diff through it must report exactly
//! what the general path (buckets, rows fetched through sqlx) reports on tricky values.

use crate::data_exact::exec_all;
use cutover::data::diff::{DiffSink, Difference, Summary};
use cutover::data::{DiffOptions, Plan, Strategy, build_plan, diff};
use cutover::db::{self, Db};
use cutover::testkit;
use futures::StreamExt;

async fn rows(
    st: futures::stream::BoxStream<'_, cutover::error::Result<Vec<db::Value>>>,
) -> Vec<String> {
    st.map(|r| format!("{:?}", r.expect("row")))
        .collect::<Vec<_>>()
        .await
}

/// The last statement each of cutover's connections to `name` ran (seen from another
/// connection): an idle backend keeps its last query in pg_stat_activity.
async fn last_queries(name: &str) -> Vec<String> {
    let watcher = db::connect(&format!("{}/{name}", testkit::pg_server_url()))
        .await
        .expect("connect");
    let r = watcher
        .query(
            &format!(
                "SELECT query FROM pg_stat_activity WHERE datname = '{name}' AND application_name = 'cutover' AND pid <> pg_backend_pid()"
            ),
            &[],
        )
        .await
        .expect("pg_stat_activity");
    r.rows.iter().map(|r| r[0].to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_copy_rows_hold_exactly_what_the_driver_decodes() {
    let Some(pg) = testkit::postgres().await else {
        return;
    };
    let d = pg.connect().await;
    exec_all(
        &d,
        &[
            "CREATE TABLE v (id int8 PRIMARY KEY, i2 int2, i4 int4, o oid, b bool, f4 real, f8 double precision,
                t text, vc varchar(10), bp char(6), nm name, by bytea, d date, ts timestamp,
                tz timestamptz, tm time, u uuid)",
            "INSERT INTO v VALUES
              (1, -32768, -2147483648, 4294967295, true, 3.4e38, -0.0, '', '', 'ab', 'n', '\\xff00',
                'infinity', 'infinity', '-infinity', '24:00:00', '00000000-0000-0000-0000-000000000000'),
              (2, 32767, 2147483647, 0, false, 'NaN', 'NaN', 'é✓😀', 'x y', 'abcdef', 'nm', '\\x',
                '0044-03-15 BC', '4713-01-01 00:00:00 BC', '2024-01-01 10:00:00.123456+02', '00:00:00.000001',
                'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
              (3, 0, 0, 1, true, '-Infinity', 1e-300, 'line\nbreak\ttab', 'v', '  ', 'x', '\\x00',
                '5874897-12-31', '294276-12-31 23:59:59.999999', '1999-12-31 23:59:59', '23:59:59.5',
                'ffffffff-ffff-ffff-ffff-ffffffffffff'),
              (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
        ],
    )
    .await;
    let sql = "SELECT * FROM v ORDER BY id".to_string();
    let via_driver = rows(d.stream(sql.clone(), Vec::new())).await;
    let via_copy = rows(db::stream_bulk(&d, sql.clone())).await;
    assert_eq!(via_copy, via_driver);
    assert_eq!(via_copy.len(), 4);
    assert!(
        last_queries(&pg.name)
            .await
            .iter()
            .any(|q| q.starts_with("COPY (SELECT * FROM v ORDER BY id) TO STDOUT")),
        "the rows came through COPY"
    );
    // the connection is ready for its next command after the COPY (the pool reuses it)
    for _ in 0..8 {
        assert_eq!(rows(db::stream_bulk(&d, sql.clone())).await, via_driver);
        d.query("SELECT 1", &[]).await.expect("a query after COPY");
    }
    // a reader that stops early leaves no connection mid-COPY behind
    for _ in 0..8 {
        let mut st = db::stream_bulk(&d, sql.clone());
        st.next().await.expect("a row").expect("row");
        drop(st);
        d.query("SELECT 1", &[])
            .await
            .expect("a query after an abandoned COPY");
    }
    // numeric is read by the driver (the same values, not through COPY)
    exec_all(
        &d,
        &[
            "CREATE TABLE n (id int8 PRIMARY KEY, x numeric)",
            "INSERT INTO n VALUES (1, 1.50), (2, 'NaN'), (3, 123456789012345678901234567890.5)",
        ],
    )
    .await;
    let nsql = "SELECT * FROM n ORDER BY id".to_string();
    assert_eq!(
        rows(db::stream_bulk(&d, nsql.clone())).await,
        rows(d.stream(nsql, Vec::new())).await
    );
}

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

async fn run(a: &Db, b: &Db, strategy: Strategy, table: &str) -> (Vec<String>, Summary) {
    let o = DiffOptions {
        table: table.into(),
        strategy: Some(strategy),
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

/// The merge (PostgreSQL through COPY) against the bucket path (rows through sqlx).
async fn same_answer(a: &Db, b: &Db, table: &str) -> (Vec<String>, Summary) {
    let (general, gs) = run(a, b, Strategy::Buckets, table).await;
    let (merged, ms) = run(a, b, Strategy::Merge, table).await;
    assert_eq!(merged, general, "merge vs buckets on {table}");
    assert_eq!(
        (
            ms.only_in_source,
            ms.only_in_target,
            ms.changed,
            ms.unchanged
        ),
        (
            gs.only_in_source,
            gs.only_in_target,
            gs.changed,
            gs.unchanged
        ),
        "{table}"
    );
    assert_eq!(ms.column_changes, gs.column_changes, "{table}");
    (general, gs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_through_copy_against_sqlite_reports_what_the_general_path_reports() {
    let Some(pg) = testkit::postgres().await else {
        return;
    };
    let lite = testkit::sqlite().await;
    let (p, s) = (pg.connect().await, lite.connect().await);
    exec_all(
        &p,
        &[
            "CREATE TABLE x (id int8 PRIMARY KEY, amount double precision, ts timestamp, tz timestamptz,
                s text, bp char(6), bl bytea, d date, u uuid, flag bool)",
            "INSERT INTO x VALUES
              (1, 1.5, '2024-01-01 10:00:00', '2024-01-01 10:00:00+00', 'a', 'ab', '\\x00ff', '2024-01-01', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true),
              (2, 2.25, '2024-01-01 10:00:00.5', '2024-01-01 12:00:00+02', '', 'cd', '\\x', '2024-02-29', NULL, false),
              (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
              (4, 0.1, '1999-12-31 23:59:59.999999', '1999-12-31 23:59:59.999999+00', 'é✓😀', 'x', '\\x01', '1970-01-01', NULL, true),
              (5, -0.0, '2024-03-01 00:00:00', '2024-03-01 00:00:00+00', 'same', 'same', '\\x0707', '2024-03-01', NULL, false),
              (6, 6, '2024-01-01 00:00:00', '2024-01-01 00:00:00+00', 'only source', NULL, NULL, NULL, NULL, NULL)",
            "CREATE TABLE dec (id int8 PRIMARY KEY, price numeric(12,4), note text)",
            "INSERT INTO dec VALUES (1, 1.5000, 'a'), (2, 2.2500, ''), (3, NULL, NULL), (4, 10.0100, 'é')",
        ],
    )
    .await;
    exec_all(
        &s,
        &[
            "CREATE TABLE x (id INTEGER PRIMARY KEY, amount NUMERIC(10,2), ts DATETIME, tz DATETIME,
                s TEXT, bp TEXT, bl BLOB, d DATE, u TEXT, flag BOOLEAN)",
            // 1: equal in other spellings (1.50, T and Z, braced upper-case uuid, 1 for true)
            // 2: '' vs NULL, .5 vs .500, 12:00+02 vs 10:00Z, bytes differ
            // 3: NULLs vs values; 4: equal unicode and timestamp at full precision
            "INSERT INTO x VALUES
              (1, '1.50', '2024-01-01T10:00:00', '2024-01-01T10:00:00Z', 'a', 'ab', x'00ff', '2024-01-01', '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}', 1),
              (2, 2.25, '2024-01-01 10:00:00.500', '2024-01-01 10:00:00Z', NULL, 'cd', x'00', '2024-02-29', NULL, 0),
              (3, 0, '2024-01-01 00:00:00', NULL, '', NULL, x'', NULL, NULL, NULL),
              (4, 0.1, '1999-12-31 23:59:59.999999', 946684799.999999, 'é✓😀', 'x', x'01', '1970-01-01', NULL, 1),
              (5, 0, '2024-03-01 00:00:00', '2024-03-01 00:00:00', 'same', 'same', x'0707', '2024-03-01', NULL, 0),
              (7, 7, '2024-01-01 00:00:00', '2024-01-01 00:00:00', 'only target', NULL, NULL, NULL, NULL, NULL)",
            "CREATE TABLE dec (id INTEGER PRIMARY KEY, price NUMERIC(12,2), note TEXT)",
            "INSERT INTO dec VALUES (1, 1.5, 'a'), (2, '2.25', NULL), (3, 0, NULL), (4, 10.02, 'é')",
        ],
    )
    .await;
    let (diffs, sum) = same_answer(&p, &s, "x").await;
    // not vacuous: real differences are reported, spellings of the same value are not
    assert_eq!(
        (sum.only_in_source, sum.only_in_target),
        (1, 1),
        "{diffs:#?}"
    );
    let changed = |id: &str| {
        diffs
            .iter()
            .find(|d| d.starts_with("changed") && d.contains(id))
    };
    assert!(changed("[Int(1),").is_none(), "row 1 is equal: {diffs:#?}");
    assert!(changed("[Int(5),").is_none(), "row 5 is equal: {diffs:#?}");
    assert!(
        changed("[Int(2),").is_some_and(|d| d.contains("[s,bl]")),
        "row 2: '' vs NULL and the bytes: {diffs:#?}"
    );
    assert!(changed("[Int(3),").is_some(), "row 3: {diffs:#?}");
    let (ddiffs, dsum) = same_answer(&p, &s, "dec").await;
    assert_eq!(dsum.changed, 3, "{ddiffs:#?}");
}
