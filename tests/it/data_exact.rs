//! Issue 16: the data diff never says "equal" when the rows differ, and both strategies
//! (bucket hashes in the databases, and the streamed merge) give the same answer.
//! Each test builds a table on two real databases, plants differences, and diffs it
//! with each strategy forced.

use cutover::data::diff::{DiffSink, Difference, Summary};
use cutover::data::{DiffOptions, Plan, Strategy, build_plan, diff};
use cutover::db::{Db, Value};
use cutover::testkit::{self, TestDb};
use std::collections::BTreeSet;

/// What a diff reported: keys (as text) per kind, and (key, column) pairs changed.
#[derive(Default, Debug, PartialEq, Clone)]
pub struct Found {
    pub only_source: BTreeSet<String>,
    pub only_target: BTreeSet<String>,
    pub changed: BTreeSet<(String, String)>,
}

impl DiffSink for Found {
    fn difference(&mut self, plan: &Plan, d: Difference) -> cutover::error::Result<()> {
        let key = |r: &[Value]| {
            r[..plan.key_len.max(1)]
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        match d {
            Difference::OnlyInSource { row, .. } => {
                self.only_source.insert(key(&row));
            }
            Difference::OnlyInTarget { row, .. } => {
                self.only_target.insert(key(&row));
            }
            Difference::Changed {
                source, columns, ..
            } => {
                for c in columns {
                    self.changed
                        .insert((key(&source), plan.columns[c].name.clone()));
                }
            }
        }
        Ok(())
    }
}

pub fn opts(table: &str, strategy: Strategy) -> DiffOptions {
    DiffOptions {
        table: table.into(),
        strategy: Some(strategy),
        ..Default::default()
    }
}

/// Run the diff with both strategies forced; both must agree; returns what they found.
pub async fn both(src: &Db, tgt: &Db, o: DiffOptions) -> (Found, Summary) {
    let mut out: Option<(Found, Summary)> = None;
    for strategy in [Strategy::Buckets, Strategy::Merge] {
        let mut o = o.clone();
        o.strategy = Some(strategy);
        let plan = build_plan(src, tgt, &o)
            .await
            .unwrap_or_else(|e| panic!("plan ({strategy:?}): {e}"));
        let mut f = Found::default();
        let s = diff(src, tgt, plan, &mut f, &|_| {})
            .await
            .unwrap_or_else(|e| panic!("diff ({strategy:?}): {e}"));
        if let Some((prev, _)) = &out {
            assert_eq!(prev, &f, "buckets and merge disagree");
        }
        out = Some((f, s));
    }
    out.expect("ran")
}

pub async fn exec_all(db: &Db, sql: &[&str]) {
    for s in sql {
        db.execute(s).await.unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

fn set(xs: &[&str]) -> BTreeSet<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

fn changed(xs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    xs.iter()
        .map(|(k, c)| (k.to_string(), c.to_string()))
        .collect()
}

async fn pg_pair() -> Option<(TestDb, TestDb)> {
    Some((testkit::postgres().await?, testkit::postgres().await?))
}

async fn my_pair() -> Option<(TestDb, TestDb)> {
    Some((testkit::mysql().await?, testkit::mysql().await?))
}

/// Same DDL on both sides, rows per side; diff both ways.
async fn same_table(
    pair: &(TestDb, TestDb),
    ddl: &str,
    src_rows: &[&str],
    tgt_rows: &[&str],
) -> (Db, Db) {
    let (a, b) = (pair.0.connect().await, pair.1.connect().await);
    exec_all(&a, &[ddl]).await;
    exec_all(&b, &[ddl]).await;
    exec_all(&a, src_rows).await;
    exec_all(&b, tgt_rows).await;
    (a, b)
}

// ---- 1. no silent failure ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_timestamp_infinity_is_a_value_not_a_swallowed_crash() {
    let Some(pair) = pg_pair().await else { return };
    let (a, b) = same_table(
        &pair,
        "CREATE TABLE t (id int PRIMARY KEY, ts timestamp, d date, tz timestamptz)",
        &["INSERT INTO t VALUES (1, 'infinity', 'infinity', '-infinity'), (2, '2024-01-01', '2024-01-01', '2024-01-01'), (3, '-infinity', '-infinity', 'infinity')"],
        &["INSERT INTO t VALUES (1, '2024-01-01', 'infinity', '-infinity'), (2, '2024-01-01', '-infinity', '2024-01-01'), (3, 'infinity', '-infinity', 'infinity')"],
    )
    .await;
    let (f, s) = both(&a, &b, opts("t", Strategy::Merge)).await;
    assert_eq!(f.changed, changed(&[("1", "ts"), ("2", "d"), ("3", "ts")]));
    assert!(
        f.only_source.is_empty() && f.only_target.is_empty(),
        "{f:?}"
    );
    assert!(!s.equal());
}

// ---- 2. one answer whatever the strategy ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_float_zero_dates_and_negative_time_are_hashed_exactly() {
    let Some(pair) = my_pair().await else { return };
    let (a, b) = same_table(
        &pair,
        "CREATE TABLE t (id int PRIMARY KEY, f FLOAT, dt DATETIME NOT NULL, dn DATETIME NULL, tm TIME, note VARCHAR(10))",
        &[
            "SET SESSION sql_mode = ''",
            "INSERT INTO t VALUES (1, 16777216, '2024-01-01', NULL, '01:00:00', 'a'), (2, 1, '0000-00-00 00:00:00', '0000-00-00 00:00:00', '01:00:00', 'a'), (3, 1, '0000-00-00 00:00:00', NULL, '-01:00:00', 'a'), (4, 1, '2024-01-01', NULL, '25:00:00', 'a')",
        ],
        &[
            "SET SESSION sql_mode = ''",
            "INSERT INTO t VALUES (1, 16777218, '2024-01-01', NULL, '01:00:00', 'a'), (2, 1, '0000-00-00 00:00:00', NULL, '01:00:00', 'b'), (3, 1, '0000-00-00 00:00:00', NULL, '01:00:00', 'a'), (4, 1, '2024-01-01', NULL, '25:00:00', 'a')",
        ],
    )
    .await;
    let (f, _) = both(&a, &b, opts("t", Strategy::Buckets)).await;
    assert_eq!(
        f.changed,
        changed(&[("1", "f"), ("2", "dn"), ("2", "note"), ("3", "tm")])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_bc_dates_float_vs_numeric_and_real_vs_double_agree_across_strategies() {
    let Some(pair) = pg_pair().await else { return };
    let (a, b) = (pair.0.connect().await, pair.1.connect().await);
    exec_all(
        &a,
        &[
            "CREATE TABLE t (id int PRIMARY KEY, d date, x double precision, r real)",
            "INSERT INTO t VALUES (1, '0044-03-15 BC', 0.3, 0.1), (2, '2024-01-01', 0.30000000000000004, 0.5), (3, '2024-01-01', 0.3, 0.1)",
        ],
    )
    .await;
    exec_all(
        &b,
        &[
            "CREATE TABLE t (id int PRIMARY KEY, d date, x numeric, r double precision)",
            "INSERT INTO t VALUES (1, '0044-03-15', 0.3, 0.1), (2, '2024-01-01', 0.3, 0.5), (3, '2024-01-01', 0.3, 0.1)",
        ],
    )
    .await;
    let (f, _) = both(&a, &b, opts("t", Strategy::Buckets)).await;
    // real 0.1 is 0.100000001490116…, not the double 0.1
    assert_eq!(
        f.changed,
        changed(&[("1", "d"), ("1", "r"), ("2", "x"), ("3", "r")])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_twin_columns_are_both_compared() {
    let Some(pair) = pg_pair().await else { return };
    let (a, b) = same_table(
        &pair,
        "CREATE TABLE t (id int PRIMARY KEY, \"A\" int, a int)",
        &["INSERT INTO t VALUES (1, 1, 1), (2, 2, 2)"],
        &["INSERT INTO t VALUES (1, 1, 5), (2, 7, 2)"],
    )
    .await;
    let (f, _) = both(&a, &b, opts("t", Strategy::Buckets)).await;
    assert_eq!(f.changed, changed(&[("1", "a"), ("2", "A")]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_while_reading_rows_fails_the_diff_with_exit_3_naming_the_table() {
    let (s, t) = (testkit::sqlite().await, testkit::sqlite().await);
    let (a, b) = (s.connect().await, t.connect().await);
    exec_all(
        &a,
        &[
            "CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT)",
            "INSERT INTO items VALUES (1, 'a'), (2, 'b')",
        ],
    )
    .await;
    exec_all(
        &b,
        &[
            "CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT)",
            "INSERT INTO items VALUES (1, 'a'), (2, 'c')",
        ],
    )
    .await;
    a.close().await;
    b.close().await;
    let dir = tempfile::tempdir().unwrap();
    for (strategy, point) in [
        ("buckets", "diff-stream:target"),
        ("merge", "diff-stream:source"),
    ] {
        let out = crate::support::cutover_env(
            dir.path(),
            &[
                "diff",
                "data",
                "--source",
                &s.url,
                "--target",
                &t.url,
                "--table",
                "items",
                "--strategy",
                strategy,
            ],
            &[("CUTOVER_PANIC_AT", point)],
        );
        let all = out.all();
        assert_eq!(out.code, 3, "{strategy}: {all}");
        assert!(!all.contains("equal"), "{strategy}: {all}");
        assert!(all.contains("items"), "{strategy}: names the table: {all}");
        assert!(all.contains("forced panic"), "{strategy}: {all}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_midway_through_a_sorted_stream_names_the_key_it_had_reached() {
    // 5,000 rows streamed in key order; a panic at the 3,000th names the last key the
    // stream had marked (once a batch of 2,048 rows), so a person knows how far it got.
    let (s, t) = (testkit::sqlite().await, testkit::sqlite().await);
    for db in [&s, &t] {
        let c = db.connect().await;
        exec_all(
            &c,
            &[
                "CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT)",
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) INSERT INTO items SELECT i, 'v' || i FROM n",
            ],
        )
        .await;
        c.close().await;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = crate::support::cutover_env(
        dir.path(),
        &[
            "diff",
            "data",
            "--source",
            &s.url,
            "--target",
            &t.url,
            "--table",
            "items",
            "--strategy",
            "merge",
        ],
        &[("CUTOVER_PANIC_AT", "diff-stream:source@3000")],
    );
    let all = out.all();
    assert_eq!(out.code, 3, "{all}");
    assert!(!all.contains("equal"), "{all}");
    assert!(
        all.contains("in key order after key (2049)") && all.contains("items"),
        "{all}"
    );
}

// ---- 3. keys whatever the encoding or collation ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn char_keys_and_latin1_keys_never_split_and_the_merge_never_aborts() {
    let (Some(pg), Some(my)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    let (a, b) = (pg.connect().await, my.connect().await);
    exec_all(
        &a,
        &[
            "CREATE TABLE k (code char(5) PRIMARY KEY, pad char(5), v int)",
            "INSERT INTO k VALUES ('k2', 'ab', 1), ('é', 'x', 2), ('zz', 'y', 3), ('ab', 'ab', 4)",
        ],
    )
    .await;
    exec_all(
        &b,
        &[
            "CREATE TABLE k (code char(5) PRIMARY KEY, pad char(5), v int) CHARACTER SET latin1",
            "INSERT INTO k VALUES ('k2', 'ab', 1), ('é', 'x', 5), ('a', 'y', 3), ('ab', 'ab', 4)",
        ],
    )
    .await;
    for (x, y, from_pg) in [(&a, &b, true), (&b, &a, false)] {
        let (f, _) = both(x, y, opts("k", Strategy::Merge)).await;
        let (src_only, tgt_only) = if from_pg { ("zz", "a") } else { ("a", "zz") };
        assert_eq!(f.only_source, set(&[src_only]), "{f:?}");
        assert_eq!(f.only_target, set(&[tgt_only]), "{f:?}");
        assert_eq!(f.changed, changed(&[("é", "v")]));
    }
}

// ---- 4. every type ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_types_without_a_driver_decoding_are_compared_by_their_text() {
    let Some(pair) = pg_pair().await else { return };
    let ddl = "CREATE TABLE t (id int PRIMARY KEY, iv interval, arr int[], ip inet, net cidr, m money, tz timetz, vb varbit, pt point, ts tsvector, r int4range, mood_c text)";
    let row = |id: i32,
               iv: &str,
               arr: &str,
               ip: &str,
               m: &str,
               tz: &str,
               vb: &str,
               pt: &str,
               r: &str| {
        format!(
            "INSERT INTO t VALUES ({id}, '{iv}', '{arr}', '{ip}', '10.0.0.0/8', '{m}', '{tz}', B'{vb}', '{pt}', 'a fat cat', '{r}', 'x')"
        )
    };
    let base = row(
        1,
        "1 day",
        "{1,2}",
        "10.0.0.1",
        "1.50",
        "10:00:00+02",
        "101",
        "(1,2)",
        "[1,5)",
    );
    let (a, b) = (pair.0.connect().await, pair.1.connect().await);
    exec_all(
        &a,
        &[
            ddl,
            &base,
            &row(
                2,
                "2 hours",
                "{3}",
                "::1",
                "2.00",
                "11:00:00+00",
                "1",
                "(0,0)",
                "[2,3)",
            ),
        ],
    )
    .await;
    exec_all(
        &b,
        &[
            ddl,
            &base,
            &row(
                2,
                "3 hours",
                "{3,4}",
                "::2",
                "2.01",
                "11:00:00+01",
                "10",
                "(0,1)",
                "[2,4)",
            ),
        ],
    )
    .await;
    let (f, s) = both(&a, &b, opts("t", Strategy::Buckets)).await;
    let want: Vec<(&str, &str)> = ["iv", "arr", "ip", "m", "tz", "vb", "pt", "r"]
        .iter()
        .map(|c| ("2", *c))
        .collect();
    assert_eq!(f.changed, changed(&want));
    assert_eq!(s.changed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_as_text_works_for_any_type() {
    let (Some(pg), Some(my)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    let (a, b) = (pg.connect().await, my.connect().await);
    exec_all(
        &a,
        &[
            "CREATE TABLE t (id int PRIMARY KEY, iv interval, tz timetz)",
            "INSERT INTO t VALUES (1, '01:00:00', '10:00:00+02'), (2, '02:00:00', '11:00:00+00')",
        ],
    )
    .await;
    exec_all(
        &b,
        &[
            "CREATE TABLE t (id int PRIMARY KEY, iv VARCHAR(20), tz VARCHAR(20))",
            "INSERT INTO t VALUES (1, '01:00:00', '10:00:00+02'), (2, '02:00:01', '11:00:00+00')",
        ],
    )
    .await;
    let mut o = opts("t", Strategy::Buckets);
    o.compare_as = vec![
        ("iv".into(), cutover::db::Class::Text),
        ("tz".into(), cutover::db::Class::Text),
    ];
    let (f, _) = both(&a, &b, o).await;
    assert_eq!(f.changed, changed(&[("2", "iv")]));
}

// ---- 5. UUIDs in any textual form ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uuids_in_any_textual_form_compare_as_uuids_with_compare_as_uuid() {
    let (Some(pg), Some(my)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    let (a, b) = (pg.connect().await, my.connect().await);
    let u1 = "0e9a1b7c-3f4d-4c2a-9b1e-2d3c4b5a6f70";
    let u2 = "1e9a1b7c-3f4d-4c2a-9b1e-2d3c4b5a6f70";
    let u3 = "2e9a1b7c-3f4d-4c2a-9b1e-2d3c4b5a6f70";
    exec_all(
        &a,
        &[
            "CREATE TABLE u (k text PRIMARY KEY, v text)",
            &format!("INSERT INTO u VALUES ('{{{}}}', '{u1}'), ('{}', 'urn:uuid:{u2}'), ('{u3}', '{u3}')", u1.to_uppercase(), u2.replace('-', "")),
        ],
    )
    .await;
    exec_all(
        &b,
        &[
            "CREATE TABLE u (k VARCHAR(50) PRIMARY KEY, v VARCHAR(50))",
            &format!(
                "INSERT INTO u VALUES ('{u1}', '{}'), ('{u2}', '{{{u2}}}'), ('{u3}', '{u1}')",
                u1.replace('-', "")
            ),
        ],
    )
    .await;
    for (x, y) in [(&a, &b), (&b, &a)] {
        for strategy in [Strategy::Buckets, Strategy::Merge] {
            let mut o = opts("u", strategy);
            o.compare_as = vec![
                ("k".into(), cutover::db::Class::Uuid),
                ("v".into(), cutover::db::Class::Uuid),
            ];
            let (f, _) = both(x, y, o).await;
            assert!(
                f.only_source.is_empty() && f.only_target.is_empty(),
                "{f:?}"
            );
            assert_eq!(f.changed.len(), 1, "{f:?}");
            assert_eq!(f.changed.iter().next().unwrap().1, "v");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latin1_postgres_keys_never_split_against_utf8() {
    let Some(pg) = testkit::postgres().await else {
        return;
    };
    let admin = pg.connect().await;
    let name = format!("{}_l1", pg.name);
    exec_all(
        &admin,
        &[&format!(
            "CREATE DATABASE {name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
        )],
    )
    .await;
    let url = format!("{}_l1", pg.url);
    let result = async {
        let a = cutover::db::connect(&url).await.unwrap();
        let s = testkit::sqlite().await;
        let b = s.connect().await;
        for db in [&a, &b] {
            exec_all(
                db,
                &["CREATE TABLE k (code varchar(10) PRIMARY KEY, v int)"],
            )
            .await;
        }
        exec_all(
            &a,
            &["INSERT INTO k VALUES ('é', 1), ('k2', 2), ('zz', 3), ('ÿa', 4)"],
        )
        .await;
        exec_all(
            &b,
            &["INSERT INTO k VALUES ('é', 1), ('k2', 5), ('a', 3), ('ÿa', 4)"],
        )
        .await;
        let (f, _) = both(&a, &b, opts("k", Strategy::Buckets)).await;
        a.close().await;
        f
    }
    .await;
    exec_all(
        &admin,
        &[&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")],
    )
    .await;
    assert_eq!(result.only_source, set(&["zz"]));
    assert_eq!(result.only_target, set(&["a"]));
    assert_eq!(result.changed, changed(&[("k2", "v")]));
}

// ---- 5. notes for every precision change ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_precision_change_is_named_in_the_notes() {
    let Some(pair) = pg_pair().await else { return };
    let (a, b) = (pair.0.connect().await, pair.1.connect().await);
    exec_all(
        &a,
        &[
            "CREATE TABLE t (id int PRIMARY KEY, n numeric, x double precision, r real, iv interval, c text)",
            "INSERT INTO t VALUES (1, 1.005, 0.5, 0.5, '1 day', 'a')",
        ],
    )
    .await;
    exec_all(
        &b,
        &[
            "CREATE TABLE t (id int PRIMARY KEY, n numeric(20,2), x numeric, r double precision, iv interval, c date)",
            "INSERT INTO t VALUES (1, 1.01, 0.5, 0.5, '1 day', '2024-01-01')",
        ],
    )
    .await;
    let mut o = opts("t", Strategy::Buckets);
    o.compare_as = vec![("c".into(), cutover::db::Class::Text)];
    let (f, s) = both(&a, &b, o).await;
    let notes = s.notes.join("\n");
    for want in [
        "\"n\" compared at scale 2",
        "\"x\" compared as a decimal",
        "\"r\" compared as double precision",
        "\"iv\" compared by its text",
        "\"c\" compared as text (--compare-as",
    ] {
        assert!(notes.contains(want), "missing {want:?} in:\n{notes}");
    }
    assert_eq!(f.changed, changed(&[("1", "c")]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_json_compares_by_value_against_mariadb_json() {
    let Some(pair) = my_pair().await else { return };
    let (a, b) = same_table(
        &pair,
        "CREATE TABLE j (id int PRIMARY KEY, doc JSON)",
        &[r#"INSERT INTO j VALUES (1, '{"a": 1, "b": [1, 2]}'), (2, '{"a": 1}')"#],
        &[r#"INSERT INTO j VALUES (1, '{"b":[1,2],"a":1}'), (2, '{"a": 2}')"#],
    )
    .await;
    let (f, _) = both(&a, &b, opts("j", Strategy::Buckets)).await;
    assert_eq!(f.changed, changed(&[("2", "doc")]));
}

// ---- 4. every type: MySQL/MariaDB types and PostgreSQL extension, domain, enum and range types ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_time_year_bit_set_enum_and_spatial_are_compared_exactly() {
    let Some(pair) = my_pair().await else { return };
    let ddl = "CREATE TABLE t (id int PRIMARY KEY, tm TIME(1), y YEAR, b BIT(10), s SET('a','b','c'), e ENUM('x','y'), pt POINT, g GEOMETRY)";
    let same = "(1, '-838:59:59.9', 1901, b'1111111111', 'a,c', 'y', ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('LINESTRING(0 0,1 1)')), (3, '-00:00:00.5', 2155, b'0', '', 'x', NULL, ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'))";
    let (a, b) = same_table(
        &pair,
        ddl,
        &[&format!("INSERT INTO t VALUES {same}, (2, '100:00:00.1', 2024, b'0000000001', 'a', 'x', ST_GeomFromText('POINT(0.1 0.2)'), ST_GeomFromText('POINT(1 1)'))")],
        &[&format!("INSERT INTO t VALUES {same}, (2, '-100:00:00.1', 2025, b'0000000010', 'a,b', 'y', ST_GeomFromText('POINT(0.1 0.20000000000000004)'), ST_GeomFromText('LINESTRING(1 1,1 1)'))")],
    )
    .await;
    let (f, s) = both(&a, &b, opts("t", Strategy::Buckets)).await;
    let want: Vec<(&str, &str)> = ["tm", "y", "b", "s", "e", "pt", "g"]
        .iter()
        .map(|c| ("2", *c))
        .collect();
    assert_eq!(f.changed, changed(&want), "{:?}", s.notes);
    assert!(
        f.only_source.is_empty() && f.only_target.is_empty(),
        "{f:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_hstore_domains_enums_and_ranges_are_compared_exactly() {
    let Some(pair) = pg_pair().await else { return };
    let setup = [
        "CREATE EXTENSION IF NOT EXISTS hstore",
        "CREATE DOMAIN money2 AS numeric(12,2) CHECK (VALUE >= 0)",
        "CREATE DOMAIN code AS text CHECK (VALUE <> '')",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE TABLE t (id int PRIMARY KEY, h hstore, amt money2, c code, m mood, tr tstzrange, nr numrange)",
    ];
    let (a, b) = (pair.0.connect().await, pair.1.connect().await);
    exec_all(&a, &setup).await;
    exec_all(&b, &setup).await;
    let same = "(1, 'a=>1, b=>NULL', 1.50, 'x', 'ok', '[2024-01-01 00:00+00, 2024-02-01 00:00+00)', '[1.5, 2.25]'), (3, '', 0, 'é', 'sad', 'empty', '(,)')";
    exec_all(&a, &[&format!("INSERT INTO t VALUES {same}, (2, 'a=>1', 1.50, 'x', 'ok', '[2024-01-01 00:00+00,)', '[1.5, 2.25)')")]).await;
    exec_all(&b, &[&format!("INSERT INTO t VALUES {same}, (2, 'a=>2', 1.51, 'X', 'happy', '[2024-01-01 00:00:00.000001+00,)', '[1.5, 2.250001)')")]).await;
    let (f, s) = both(&a, &b, opts("t", Strategy::Buckets)).await;
    let want: Vec<(&str, &str)> = ["h", "amt", "c", "m", "tr", "nr"]
        .iter()
        .map(|c| ("2", *c))
        .collect();
    assert_eq!(f.changed, changed(&want), "{:?}", s.notes);
    assert!(
        f.only_source.is_empty() && f.only_target.is_empty(),
        "{f:?}"
    );
}

// ---- 5. notes: a lower precision is reached as MariaDB reaches it ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_at_a_lower_precision_are_truncated_as_mariadb_stores_them() {
    let (Some(pg), Some(my)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    let (a, b) = (pg.connect().await, my.connect().await);
    exec_all(
        &a,
        &[
            "CREATE TABLE t (id int PRIMARY KEY, ts timestamp(6), tm time(6))",
            "INSERT INTO t VALUES (1, '2024-01-01 10:00:00.123999', '10:00:00.123999'), (2, '2024-01-01 10:00:00.124', '10:00:00.124'), (3, '1969-12-31 23:59:59.999999', '00:00:00.000999')",
        ],
    )
    .await;
    // what MariaDB stores when it is sent the source's values
    exec_all(
        &b,
        &[
            "CREATE TABLE t (id int PRIMARY KEY, ts DATETIME(3), tm TIME(3))",
            "INSERT INTO t VALUES (1, '2024-01-01 10:00:00.123999', '10:00:00.123999'), (2, '2024-01-01 10:00:00.123', '10:00:00.123'), (3, '1969-12-31 23:59:59.999999', '00:00:00.000999')",
        ],
    )
    .await;
    for (src, tgt) in [(&a, &b), (&b, &a)] {
        let (f, s) = both(src, tgt, opts("t", Strategy::Buckets)).await;
        assert_eq!(
            f.changed,
            changed(&[("2", "ts"), ("2", "tm")]),
            "{:?}",
            s.notes
        );
        for col in ["ts", "tm"] {
            assert!(
                s.notes.iter().any(|n| n.contains(&format!("\"{col}\" compared at 3 fractional-second digits, the more precise side truncated"))),
                "{col}: {:?}",
                s.notes
            );
        }
    }
}

// ---- 4. a type cutover cannot compare as stated is refused before any row is read ----

async fn interval_vs_time() -> Option<(TestDb, TestDb)> {
    let (pg, my) = (testkit::postgres().await?, testkit::mysql().await?);
    let (a, b) = (pg.connect().await, my.connect().await);
    exec_all(
        &a,
        &[
            "CREATE TABLE t (id int PRIMARY KEY, iv interval)",
            "INSERT INTO t VALUES (1, '01:00:00'), (2, '02:00:00')",
        ],
    )
    .await;
    exec_all(
        &b,
        &[
            "CREATE TABLE t (id int PRIMARY KEY, iv TIME)",
            "INSERT INTO t VALUES (1, '01:00:00'), (2, '02:00:00')",
        ],
    )
    .await;
    Some((pg, my))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_type_read_only_as_text_is_refused_up_front_with_exit_2_and_the_compare_as_that_works() {
    let Some((pg, my)) = interval_vs_time().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let diff = |extra: &[&str]| {
        let mut args = vec![
            "diff", "data", "--source", &pg.url, "--target", &my.url, "--table", "t",
        ];
        args.extend_from_slice(extra);
        crate::support::cutover(dir.path(), &args)
    };
    // no mapping: the two types are named, and the mapping that works
    let out = diff(&[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all().contains("\"iv\": source interval vs target time")
            && out.all().contains("--compare-as iv=text"),
        "{}",
        out.all()
    );
    // a mapping cutover cannot honour exactly (it reads an interval only as text)
    for strategy in ["buckets", "merge"] {
        let out = diff(&["--compare-as", "iv=time", "--strategy", strategy]);
        assert_eq!(out.code, 2, "{strategy}: {}", out.all());
        assert!(
            out.all()
                .contains("\"iv\": source type interval is read only as text")
                && out.all().contains("--compare-as iv=text"),
            "{}",
            out.all()
        );
    }
    // the one named works
    let out = diff(&["--compare-as", "iv=text"]);
    assert_eq!(out.code, 0, "{}", out.all());

    // in a runbook: the step's file and line
    std::fs::write(
        dir.path().join("rb.toml"),
        format!(
            "name = \"types\"\n[targets]\npg = \"{}\"\nmy = \"{}\"\n\n[[phases]]\nid = \"p\"\n  [[phases.steps]]\n  id = \"drift\"\n  kind = \"diff-data\"\n  source = \"pg\"\n  target = \"my\"\n  table = \"t\"\n  compare_as = {{ iv = \"time\" }}\n",
            pg.url, my.url
        ),
    )
    .unwrap();
    let out = crate::support::cutover(dir.path(), &["run", "rb.toml", "--headless"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.all().contains("rb.toml:8")
            && out.all().contains("step \"drift\"")
            && out.all().contains("--compare-as iv=text"),
        "{}",
        out.all()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_spatial_values_are_hashed_by_their_exact_bytes() {
    let Some(pair) = my_pair().await else { return };
    // only the last bits of one coordinate differ: as text the bytes would pass
    // through a character set conversion
    let (a, b) = same_table(
        &pair,
        "CREATE TABLE t (id int PRIMARY KEY, pt POINT, g GEOMETRY)",
        &["INSERT INTO t VALUES (1, ST_GeomFromText('POINT(0.1 0.2)'), ST_GeomFromText('POINT(1 1)')), (2, ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('POINT(0.3 0.5)'))"],
        &["INSERT INTO t VALUES (1, ST_GeomFromText('POINT(0.1 0.20000000000000004)'), ST_GeomFromText('POINT(1 1)')), (2, ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('POINT(0.30000000000000004 0.5)'))"],
    )
    .await;
    let (f, _) = both(&a, &b, opts("t", Strategy::Buckets)).await;
    assert_eq!(f.changed, changed(&[("1", "pt"), ("2", "g")]));
}

// ---- --compare-as text on binary data is exact ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_columns_compared_as_text_see_bytes_that_are_not_utf8() {
    let Some(pair) = my_pair().await else { return };
    // rows 1 and 2 differ only in bytes that are not valid UTF-8 (a character set
    // conversion turns both into '?'); row 3 is valid UTF-8 on both sides and equal;
    // row 4 differs in valid text
    let (a, b) = same_table(
        &pair,
        "CREATE TABLE t (id int PRIMARY KEY, bl BLOB, vb VARBINARY(10), bn BINARY(3))",
        &["INSERT INTO t VALUES (1, X'61FF', X'00', X'FF0000'), (2, X'00', X'62C0', X'000000'), (3, 'héllo', 'x', 'abc'), (4, 'a', 'b', 'c')"],
        &["INSERT INTO t VALUES (1, X'61FE', X'00', X'FE0000'), (2, X'00', X'62C1', X'000000'), (3, 'héllo', 'x', 'abc'), (4, 'a', 'B', 'c')"],
    )
    .await;
    let mut o = opts("t", Strategy::Buckets);
    o.compare_as = ["bl", "vb", "bn"]
        .iter()
        .map(|c| (c.to_string(), cutover::db::Class::Text))
        .collect();
    let (f, s) = both(&a, &b, o.clone()).await;
    assert_eq!(
        f.changed,
        changed(&[("1", "bl"), ("1", "bn"), ("2", "vb"), ("4", "vb")])
    );
    assert!(
        f.only_source.is_empty() && f.only_target.is_empty(),
        "{f:?}"
    );
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("binary data compared as text")),
        "{:?}",
        s.notes
    );

    // PostgreSQL bytea against MariaDB BLOB, compared as text: equal invalid bytes are
    // equal, differing ones differ
    let (Some(pg), Some(my)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    let (p, m) = (pg.connect().await, my.connect().await);
    exec_all(
        &p,
        &[
            "CREATE TABLE t (id int PRIMARY KEY, bl bytea)",
            "INSERT INTO t VALUES (1, '\\x61ff'), (2, '\\xff'), (3, 'abc')",
        ],
    )
    .await;
    exec_all(
        &m,
        &[
            "CREATE TABLE t (id int PRIMARY KEY, bl BLOB)",
            "INSERT INTO t VALUES (1, X'61FE'), (2, X'FF'), (3, 'abc')",
        ],
    )
    .await;
    let mut o = opts("t", Strategy::Buckets);
    o.compare_as = vec![("bl".into(), cutover::db::Class::Text)];
    let (f, _) = both(&p, &m, o).await;
    assert_eq!(f.changed, changed(&[("1", "bl")]));
}

// ---- PostgreSQL geometric types against MariaDB spatial: refused, no false remedy ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_geometric_vs_mariadb_spatial_is_refused_without_suggesting_compare_as_text() {
    let (Some(pg), Some(my)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    let (a, b) = (pg.connect().await, my.connect().await);
    exec_all(
        &a,
        &[
            "CREATE TABLE t (id int PRIMARY KEY, pt point, name text)",
            "INSERT INTO t VALUES (1, '(1,2)', 'a'), (2, '(3,4)', 'b')",
        ],
    )
    .await;
    exec_all(
        &b,
        &[
            "CREATE TABLE t (id int PRIMARY KEY, pt POINT, name TEXT)",
            "INSERT INTO t VALUES (1, ST_GeomFromText('POINT(1 2)'), 'a'), (2, ST_GeomFromText('POINT(3 4)'), 'b')",
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let diff = |extra: &[&str]| {
        let mut args = vec![
            "diff", "data", "--source", &pg.url, "--target", &my.url, "--table", "t",
        ];
        args.extend_from_slice(extra);
        crate::support::cutover(dir.path(), &args)
    };
    for extra in [
        &[][..],
        &["--compare-as", "pt=text"],
        &["--compare-as", "pt=bytes"],
    ] {
        let out = diff(extra);
        assert_eq!(out.code, 2, "{extra:?}: {}", out.all());
        assert!(
            out.all().contains("\"pt\": source point")
                && out.all().contains("cannot be compared exactly")
                && !out.all().contains("pt=text"),
            "{extra:?}: {}",
            out.all()
        );
    }
    // what the message suggests works: the other columns compared
    let out = diff(&["--columns", "name"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

// ---- JSON integers beyond 2^64 compare exactly ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_integers_beyond_two_to_the_64_are_compared_exactly_across_engines() {
    let (Some(pg), Some(my)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    let lite = testkit::sqlite().await;
    let ddl = |ty: &str| format!("CREATE TABLE t (id int PRIMARY KEY, j {ty})");
    // 1: equal, as the same big integer written alike; 2: the big integers differ by
    // one (equal as doubles); 3: equal by value (key order, 1.0 vs 1)
    let src = "INSERT INTO t VALUES (1, '{\"n\": 18446744073709551617}'), (2, '[18446744073709551617]'), (3, '{\"a\": 1.0, \"b\": 123456789012345678901234567890}')";
    let tgt = "INSERT INTO t VALUES (1, '{\"n\": 18446744073709551617}'), (2, '[18446744073709551616]'), (3, '{\"b\": 123456789012345678901234567890, \"a\": 1}')";
    let dbs = [
        (lite.connect().await, "json"),
        (pg.connect().await, "jsonb"),
        (my.connect().await, "JSON"),
    ];
    for (db, ty) in &dbs {
        exec_all(
            db,
            &[
                &ddl(ty),
                src,
                &ddl(ty).replace("TABLE t", "TABLE u"),
                &tgt.replace("INTO t", "INTO u"),
            ],
        )
        .await;
    }
    for (s, sty) in &dbs {
        for (t, tty) in &dbs {
            let mut o = opts("t", Strategy::Buckets);
            o.target_table = Some("u".into());
            let (f, sum) = both(s, t, o).await;
            assert_eq!(f.changed, changed(&[("2", "j")]), "{sty} → {tty}: {sum:?}");
            assert_eq!(sum.changed, 1, "{sty} → {tty}");
        }
    }
}
