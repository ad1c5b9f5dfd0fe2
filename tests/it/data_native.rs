//! Issue 13: when both sides are the same engine, the databases hash rows with their own
//! fast hash (PostgreSQL `hash_record_extended`, MariaDB CRC32 + CRC32C) instead of MD5.
//! The answer must not change: each test plants differences and checks that the native
//! hash, the portable MD5 and the streamed merge report exactly the same rows and
//! columns, and that the summary names the hash used. Tables with one integer key are
//! hashed range by range of the key, with progress as it goes.

use crate::data_exact::{Found, exec_all};
use cutover::data::diff::Summary;
use cutover::data::{DiffOptions, Strategy, build_plan, diff};
use cutover::db::Db;
use cutover::testkit::{self, TestDb};
use cutover::vocab::Progress;
use std::sync::Mutex;

/// How one diff was run.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Way {
    Native,
    Portable,
    Merge,
}

async fn run(src: &Db, tgt: &Db, table: &str, way: Way) -> (Found, Summary) {
    let o = DiffOptions {
        table: table.into(),
        strategy: Some(if way == Way::Merge {
            Strategy::Merge
        } else {
            Strategy::Buckets
        }),
        ..Default::default()
    };
    let mut plan = build_plan(src, tgt, &o)
        .await
        .unwrap_or_else(|e| panic!("plan {table} {way:?}: {e}"));
    plan.portable_hash = way == Way::Portable;
    let mut f = Found::default();
    let s = diff(src, tgt, plan, &mut f, &|_| {})
        .await
        .unwrap_or_else(|e| panic!("diff {table} {way:?}: {e}"));
    (f, s)
}

/// The three ways agree; the native one names `hash`, the portable one MD5. Returns
/// what the native way found, and its summary.
async fn all_ways(src: &Db, tgt: &Db, table: &str, hash: &str) -> (Found, Summary) {
    let (native, ns) = run(src, tgt, table, Way::Native).await;
    let (portable, ps) = run(src, tgt, table, Way::Portable).await;
    let (merged, _) = run(src, tgt, table, Way::Merge).await;
    assert_eq!(ns.stats.hash, hash, "{table}: {:?}", ns.stats);
    assert_eq!(ps.stats.hash, "md5", "{table}: {:?}", ps.stats);
    assert_eq!(native, portable, "{table}: native vs portable hash");
    assert_eq!(native, merged, "{table}: native hash vs merge");
    for s in [&ns, &ps] {
        assert_eq!(
            (s.only_in_source, s.only_in_target, s.changed),
            (
                native.only_source.len() as u64,
                native.only_target.len() as u64,
                native
                    .changed
                    .iter()
                    .map(|c| &c.0)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len() as u64
            ),
            "{table}: counts"
        );
    }
    (native, ns)
}

fn strings(xs: &[&str]) -> std::collections::BTreeSet<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

fn pairs(xs: &[(&str, &str)]) -> std::collections::BTreeSet<(String, String)> {
    xs.iter()
        .map(|(k, c)| (k.to_string(), c.to_string()))
        .collect()
}

/// One scenario as two tests, on PostgreSQL (`true`) and on MariaDB (`false`).
macro_rules! on_both {
    ($scenario:ident => $pg:ident, $mariadb:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $pg() {
            $scenario(true).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $mariadb() {
            $scenario(false).await;
        }
    };
}

/// The name of each engine's native hash in the summary.
fn native_hash(pg: bool) -> &'static str {
    if pg {
        "hash_record_extended"
    } else {
        "crc32+crc32c"
    }
}

async fn pair(pg: bool) -> Option<(TestDb, TestDb)> {
    if pg {
        Some((testkit::postgres().await?, testkit::postgres().await?))
    } else {
        Some((testkit::mysql().await?, testkit::mysql().await?))
    }
}

/// Decimals at different scales (one column the same type on both sides, one not),
/// timestamps at different precisions and at the same one, NULL against '' and a
/// change the rounding hides, on an integer key (hashed by key ranges).
async fn values_table(pg: bool) {
    let Some(dbs) = pair(pg).await else { return };
    let (a, b) = (dbs.0.connect().await, dbs.1.connect().await);
    let (ts3, ts6, same_ts) = if pg {
        ("timestamp(3)", "timestamp(6)", "timestamptz")
    } else {
        ("datetime(3)", "datetime(6)", "datetime(6)")
    };
    let ddl = |amount_scale: u32, ts: &str| {
        format!(
            "CREATE TABLE v (id bigint PRIMARY KEY, amount decimal(12,{amount_scale}), price decimal(10,2) NOT NULL, at {ts}, seen {same_ts} NOT NULL, note varchar(20), label varchar(20) NOT NULL)"
        )
    };
    exec_all(&a, &[&ddl(2, ts3)]).await;
    exec_all(&b, &[&ddl(4, ts6)]).await;
    let (src, tgt): (Vec<String>, Vec<String>) = (1..=300)
        .map(|i| {
            let base = |amount: &str, at: &str, note: &str, price: &str, seen: &str| {
                format!(
                    "INSERT INTO v VALUES ({i}, {amount}, {price}, {at}, {seen}, {note}, 'l{i}')"
                )
            };
            let seen = "'2024-05-01 10:00:00.123456'";
            let s = base("1.25", "'2024-01-01 10:00:00.123'", "''", "9.50", seen);
            let t = match i {
                // 1.2549 compared at scale 2 is 1.25: equal (noted)
                7 => base("1.2549", "'2024-01-01 10:00:00.123'", "''", "9.50", seen),
                // 1.2551 rounds to 1.26: changed
                8 => base("1.2551", "'2024-01-01 10:00:00.123'", "''", "9.50", seen),
                // the extra digits are cut off: .123999 is .123, equal
                40 => base("1.25", "'2024-01-01 10:00:00.123999'", "''", "9.50", seen),
                // .124 is a change
                41 => base("1.25", "'2024-01-01 10:00:00.124'", "''", "9.50", seen),
                // NULL is not ''
                99 => base("1.25", "'2024-01-01 10:00:00.123'", "NULL", "9.50", seen),
                // same-type decimal and timestamp columns
                150 => base("1.25", "'2024-01-01 10:00:00.123'", "''", "9.51", seen),
                151 => base(
                    "1.25",
                    "'2024-01-01 10:00:00.123'",
                    "''",
                    "9.50",
                    "'2024-05-01 10:00:00.123457'",
                ),
                _ => s.clone(),
            };
            (s, t)
        })
        .unzip();
    let src: Vec<&str> = src.iter().map(String::as_str).collect();
    let mut tgt: Vec<&str> = tgt.iter().map(String::as_str).collect();
    // a row only in the source, one only in the target
    tgt.retain(|s| !s.starts_with("INSERT INTO v VALUES (200,"));
    exec_all(&a, &src).await;
    exec_all(&b, &tgt).await;
    let extra = "INSERT INTO v VALUES (5000, 1, 1, NULL, '2024-05-01 10:00:00', NULL, 'x')";
    exec_all(&b, &[extra]).await;
    let (f, _) = all_ways(&a, &b, "v", native_hash(pg)).await;
    assert_eq!(f.only_source, strings(&["200"]));
    assert_eq!(f.only_target, strings(&["5000"]));
    assert_eq!(
        f.changed,
        pairs(&[
            ("8", "amount"),
            ("41", "at"),
            ("99", "note"),
            ("150", "price"),
            ("151", "seen")
        ])
    );
}

on_both!(
    values_table =>
    pg_native_hash_reports_what_md5_and_the_merge_report,
    mariadb_native_hash_reports_what_md5_and_the_merge_report
);

/// Text keys (bucketed by MD5 of the key, rows hashed natively): unicode keys, keys
/// differing only by case (distinct, even under MariaDB's case-insensitive collation,
/// so the key is given and the table keeps both), NULL against '' in a value.
async fn text_keys(pg: bool) {
    let Some(dbs) = pair(pg).await else { return };
    let (a, b) = (dbs.0.connect().await, dbs.1.connect().await);
    let ddl = if pg {
        "CREATE TABLE k (code varchar(20) PRIMARY KEY, v varchar(20))"
    } else {
        "CREATE TABLE k (code varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PRIMARY KEY, v varchar(20))"
    };
    exec_all(&a, &[ddl]).await;
    exec_all(&b, &[ddl]).await;
    exec_all(
        &a,
        &["INSERT INTO k VALUES ('é', 'a'), ('e', 'a'), ('Straße', 'a'), ('abc', 'a'), ('ABC', 'a'), ('日本', ''), ('x', NULL)"],
    )
    .await;
    exec_all(
        &b,
        &["INSERT INTO k VALUES ('é', 'b'), ('e', 'a'), ('Strasse', 'a'), ('abc', 'a'), ('ABC', 'A'), ('日本', NULL), ('x', NULL)"],
    )
    .await;
    let (f, _) = all_ways(&a, &b, "k", native_hash(pg)).await;
    assert_eq!(f.only_source, strings(&["Straße"]));
    assert_eq!(f.only_target, strings(&["Strasse"]));
    assert_eq!(f.changed, pairs(&[("é", "v"), ("ABC", "v"), ("日本", "v")]));
}

on_both!(
    text_keys =>
    pg_native_hash_on_unicode_and_case_differing_text_keys,
    mariadb_native_hash_on_unicode_and_case_differing_text_keys
);

/// `rows hashed` progress came before the end, and the last report is `rows` of `rows`.
fn hashing_progressed_to(events: Vec<Progress>, rows: u64) {
    let hashed: Vec<&Progress> = events.iter().filter(|p| p.unit == "rows hashed").collect();
    assert!(
        hashed
            .iter()
            .any(|p| p.total.is_some_and(|t| p.done > 0 && p.done < t)),
        "progress before the end: {events:?}"
    );
    let last = hashed.last().expect("progress");
    assert_eq!((last.done, last.total), (rows, Some(rows)), "{last:?}");
}

/// 190,000 rows with gaps and negative keys, changes scattered: hashed over several key
/// ranges, with progress after each (rows hashed, of the catalog's estimate) before the
/// end; every planted difference found, the same as the merge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_integer_keys_are_hashed_range_by_range_with_progress_as_it_goes() {
    let Some(dbs) = pair(true).await else { return };
    let (a, b) = (dbs.0.connect().await, dbs.1.connect().await);
    for db in [&a, &b] {
        exec_all(
            db,
            &[
                "CREATE TABLE r (id bigint PRIMARY KEY, n int NOT NULL, t text NOT NULL)",
                "INSERT INTO r SELECT g * 3 - 150000, g % 97, md5(g::text) FROM generate_series(1, 190000) g",
                "ANALYZE r",
            ],
        )
        .await;
    }
    exec_all(
        &b,
        &[
            "UPDATE r SET n = n + 1 WHERE id % 7919 = 0",
            "DELETE FROM r WHERE id = 3",
            "INSERT INTO r VALUES (1, 1, 'gap')",
        ],
    )
    .await;
    let expected_changed: std::collections::BTreeSet<(String, String)> = (1..=190000i64)
        .map(|g| g * 3 - 150000)
        .filter(|id| id % 7919 == 0 && *id != 3)
        .map(|id| (id.to_string(), "n".to_string()))
        .collect();
    let events: Mutex<Vec<Progress>> = Mutex::new(Vec::new());
    let o = DiffOptions {
        table: "r".into(),
        ..Default::default()
    };
    let plan = build_plan(&a, &b, &o).await.expect("plan");
    let mut f = Found::default();
    let record = |p: Progress| events.lock().unwrap().push(p);
    let s = diff(&a, &b, plan, &mut f, &record).await.expect("diff");
    assert_eq!(f.only_source, strings(&["3"]));
    assert_eq!(f.only_target, strings(&["1"]));
    assert_eq!(f.changed, expected_changed);
    assert_eq!((s.source_rows, s.target_rows), (190000, 190000));
    assert_eq!(s.stats.hash, native_hash(true));
    // below the size read by pages: by key ranges
    assert_eq!(s.stats.scan, "", "{:?}", s.stats);
    let (merged, _) = run(&a, &b, "r", Way::Merge).await;
    assert_eq!(merged, f, "ranges vs merge");
    hashing_progressed_to(events.into_inner().unwrap(), 380000);
}

/// A big table whose rows lie in no key order (inserted shuffled): hashed slice by
/// slice of its storage pages, each slice holding keys of every bucket; scattered
/// changes, a deleted and an inserted row are found exactly as the merge finds them,
/// the summary says the rows were read by pages, and progress comes before the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_big_unordered_table_is_hashed_by_pages_with_the_merges_answer() {
    let Some(dbs) = pair(true).await else { return };
    let (a, b) = (dbs.0.connect().await, dbs.1.connect().await);
    for db in [&a, &b] {
        exec_all(
            db,
            &[
                "CREATE TABLE p (id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL, at timestamptz, d date, t text)",
                "INSERT INTO p SELECT g, g / 100.0, timestamptz '2024-01-01 00:00:00+00' + g * interval '1.5 second', \
                 date '2020-01-01' + (g % 2000), CASE WHEN g % 11 = 0 THEN NULL ELSE md5(g::text) END \
                 FROM generate_series(1, 260000) g ORDER BY md5(g::text)",
                "ANALYZE p",
            ],
        )
        .await;
    }
    exec_all(
        &b,
        &[
            "UPDATE p SET amount = amount + 0.01 WHERE id % 9973 = 0",
            "UPDATE p SET at = at + interval '1 microsecond' WHERE id = 77777",
            "UPDATE p SET t = '' WHERE id = 121",
            "UPDATE p SET d = 'infinity' WHERE id = 5",
            "DELETE FROM p WHERE id = 3",
            "INSERT INTO p VALUES (1000000, 1, NULL, NULL, NULL)",
        ],
    )
    .await;
    let mut expected: std::collections::BTreeSet<(String, String)> = (1..=260000i64)
        .filter(|id| id % 9973 == 0)
        .map(|id| (id.to_string(), "amount".to_string()))
        .collect();
    expected.extend(pairs(&[("77777", "at"), ("121", "t"), ("5", "d")]));
    let events: Mutex<Vec<Progress>> = Mutex::new(Vec::new());
    let o = DiffOptions {
        table: "p".into(),
        ..Default::default()
    };
    let plan = build_plan(&a, &b, &o).await.expect("plan");
    let mut f = Found::default();
    let record = |p: Progress| events.lock().unwrap().push(p);
    let s = diff(&a, &b, plan, &mut f, &record).await.expect("diff");
    assert_eq!(s.stats.scan, "pages", "{:?}", s.stats);
    assert_eq!(s.stats.hash, native_hash(true));
    // the differing buckets are compared by row hash first: only the differing keys'
    // rows are fetched whole (both sides), not every row of those buckets
    assert!(
        s.stats.rows_fetched <= 2 * (expected.len() as u64 + 2),
        "{:?}",
        s.stats
    );
    assert_eq!(f.only_source, strings(&["3"]));
    assert_eq!(f.only_target, strings(&["1000000"]));
    assert_eq!(f.changed, expected);
    assert_eq!((s.source_rows, s.target_rows), (260000, 260000));
    let (merged, _) = run(&a, &b, "p", Way::Merge).await;
    assert_eq!(merged, f, "pages vs merge");
    let text = cutover::data::output::summary_text(&s);
    assert!(
        text.contains("with hash_record_extended, by pages"),
        "{text}"
    );
    hashing_progressed_to(events.into_inner().unwrap(), 520000);
}

/// Text columns under a nondeterministic (case-insensitive) collation and under "C" in
/// one row: the native hash reads their bytes, so a change of case is a change (as the
/// MD5 and the merge say), and two collations in one row are no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_native_hash_ignores_the_columns_collations() {
    let Some(dbs) = pair(true).await else { return };
    let (a, b) = (dbs.0.connect().await, dbs.1.connect().await);
    for db in [&a, &b] {
        exec_all(
            db,
            &[
                "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
                "CREATE TABLE c (id int PRIMARY KEY, name text COLLATE ci, code text COLLATE \"C\")",
            ],
        )
        .await;
    }
    exec_all(
        &a,
        &["INSERT INTO c VALUES (1, 'Hello', 'x'), (2, 'same', 'y'), (3, 'Straße', 'z')"],
    )
    .await;
    exec_all(
        &b,
        &["INSERT INTO c VALUES (1, 'HELLO', 'x'), (2, 'same', 'y'), (3, 'Strasse', 'z')"],
    )
    .await;
    let (f, _) = all_ways(&a, &b, "c", native_hash(true)).await;
    assert_eq!(f.changed, pairs(&[("1", "name"), ("3", "name")]));
}

/// MariaDB's native hash reads UTF-8 text as its bytes, and converts any other
/// character set first: the same `varchar(10)` declared in a latin1 table and in a
/// utf8mb4 one holds the same text in other bytes, and other text in the same bytes
/// (latin1 'Ã©' is utf8mb4 'é''s C3 A9), which is a change a hash of the bare bytes
/// would miss. (Table `l` has no other text column, whose character set the row's
/// text would otherwise be converted to.)
#[tokio::test]
async fn mariadb_native_hash_reads_utf8_text_as_its_bytes_and_converts_other_character_sets() {
    let Some(dbs) = pair(false).await else { return };
    let (a, b) = (dbs.0.connect().await, dbs.1.connect().await);
    for (db, charset) in [(&a, "latin1"), (&b, "utf8mb4")] {
        exec_all(
            db,
            &[&format!(
                "CREATE TABLE c (id int PRIMARY KEY, x varchar(10), u varchar(10) CHARACTER SET utf8mb4, m varchar(10) CHARACTER SET utf8mb3) DEFAULT CHARSET {charset}"
            ), &format!("CREATE TABLE l (id int PRIMARY KEY, x varchar(10)) DEFAULT CHARSET {charset}")],
        )
        .await;
    }
    exec_all(
        &a,
        &["INSERT INTO c VALUES (1, 'é', 'é', 'é'), (2, 'a', 'Straße', 'x'), (3, 'b', 'c', 'Ü')"],
    )
    .await;
    exec_all(
        &b,
        &["INSERT INTO c VALUES (1, 'é', 'é', 'é'), (2, 'a', 'Strasse', 'x'), (3, 'B', 'c', 'ü')"],
    )
    .await;
    // otherwise ASCII, the same bytes in both: only the change differs
    exec_all(
        &a,
        &["INSERT INTO l VALUES (1, 'abc'), (2, 'Ã©'), (3, 'xyz')"],
    )
    .await;
    exec_all(
        &b,
        &["INSERT INTO l VALUES (1, 'abc'), (2, 'é'), (3, 'xyz')"],
    )
    .await;
    let (f, _) = all_ways(&a, &b, "l", native_hash(false)).await;
    assert_eq!(f.changed, pairs(&[("2", "x")]));
    let (f, s) = all_ways(&a, &b, "c", native_hash(false)).await;
    assert_eq!(f.changed, pairs(&[("2", "u"), ("3", "x"), ("3", "m")]));
    let types: Vec<(&str, &str)> = s
        .columns
        .iter()
        .map(|c| (c.source_type.as_str(), c.target_type.as_str()))
        .collect();
    assert!(
        types.contains(&(
            "varchar(10) character set latin1",
            "varchar(10) character set utf8mb4"
        )),
        "{types:?}"
    );
}

/// Table `w` on both sides: `rows` rows with the even keys 2..=2 * rows, stored in key
/// order, analyzed. PostgreSQL's at 260,000 rows is big enough to have pages (read by
/// key ranges first, its storage following the key), MariaDB's at 190,000 has
/// several key-range chunks.
async fn chunked(pg: bool) -> Option<(TestDb, TestDb, Db, Db, &'static str)> {
    let dbs = pair(pg).await?;
    let (a, b) = (dbs.0.connect().await, dbs.1.connect().await);
    let (fill, analyze) = if pg {
        (
            "INSERT INTO w SELECT g * 2, g % 97, md5(g::text) FROM generate_series(1, 260000) g",
            "ANALYZE w",
        )
    } else {
        (
            "INSERT INTO w SELECT seq * 2, seq % 97, MD5(seq) FROM seq_1_to_190000",
            "ANALYZE TABLE w",
        )
    };
    for db in [&a, &b] {
        let ddl = "CREATE TABLE w (id bigint PRIMARY KEY, n int NOT NULL, t varchar(40) NOT NULL)";
        exec_all(db, &[ddl, fill, analyze]).await;
    }
    Some((dbs.0, dbs.1, a, b, native_hash(pg)))
}

/// One row changed in one chunk: the other chunks are found equal whole (one count and
/// sum a side), only that chunk's buckets are hashed, and the row is reported as the
/// MD5 and the merge report it.
async fn one_change_in_one_chunk(pg: bool) {
    let Some((_da, _db, a, b, hash)) = chunked(pg).await else {
        return;
    };
    exec_all(&b, &["UPDATE w SET t = 'x' WHERE id = 100000"]).await;
    let (f, s) = all_ways(&a, &b, "w", hash).await;
    assert_eq!(f.changed, pairs(&[("100000", "t")]));
    assert!(
        f.only_source.is_empty() && f.only_target.is_empty(),
        "{f:?}"
    );
    assert!(s.stats.whole_chunks >= 2, "{:?}", s.stats);
    assert_eq!(s.stats.differing_buckets, 1, "{:?}", s.stats);
    // PostgreSQL: the first and last ranges are equal, so the whole table was summed by
    // pages first; that total differed, and the key ranges found the row
    let scan = if pg { "keys+pages total+keys" } else { "" };
    assert_eq!(s.stats.scan, scan, "{:?}", s.stats);
    let text = cutover::data::output::summary_text(&s);
    let equal = format!("{} key ranges equal whole", s.stats.whole_chunks);
    assert!(text.contains(&equal), "{text}");
}

on_both!(
    one_change_in_one_chunk =>
    pg_one_change_leaves_the_other_chunks_equal_whole,
    mariadb_one_change_leaves_the_other_chunks_equal_whole
);

/// The diff of `w` by the default strategy, with the progress it reported.
async fn diff_w(a: &Db, b: &Db, where_sql: Option<&str>) -> (Found, Summary, Vec<Progress>) {
    let events: Mutex<Vec<Progress>> = Mutex::new(Vec::new());
    let o = DiffOptions {
        table: "w".into(),
        where_sql: where_sql.map(str::to_string),
        ..Default::default()
    };
    let plan = build_plan(a, b, &o).await.expect("plan");
    let mut f = Found::default();
    let record = |p: Progress| events.lock().unwrap().push(p);
    let s = diff(a, b, plan, &mut f, &record).await.expect("diff");
    (f, s, events.into_inner().unwrap())
}

/// Equal tables stored in key order: after the probes and the last key range, one
/// count and sum a side read by pages proves the rest equal at once, with progress as
/// the slices end; under a WHERE that leaves a differing row out, the same (the total
/// is taken under the condition: without it, it would differ).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_an_equal_table_in_key_order_is_proven_by_one_pages_total() {
    let Some((_da, _db, a, b, _)) = chunked(true).await else {
        return;
    };
    let (f, s, events) = diff_w(&a, &b, None).await;
    assert_eq!(f, Found::default());
    assert_eq!((s.source_rows, s.target_rows), (260000, 260000));
    assert_eq!(s.stats.scan, "keys+pages total", "{:?}", s.stats);
    assert_eq!(s.stats.differing_buckets, 0, "{:?}", s.stats);
    assert!(s.stats.whole_chunks >= 4, "{:?}", s.stats);
    let text = cutover::data::output::summary_text(&s);
    assert!(text.contains("by keys+pages total"), "{text}");
    hashing_progressed_to(events, 520000);

    exec_all(&b, &["UPDATE w SET n = n + 1 WHERE id = 260000"]).await;
    let (f, s, _) = diff_w(&a, &b, Some("id <> 260000")).await;
    assert_eq!(f, Found::default());
    assert_eq!((s.source_rows, s.target_rows), (259999, 259999));
    assert_eq!(s.stats.scan, "keys+pages total", "{:?}", s.stats);
    let (f, s, _) = diff_w(&a, &b, None).await;
    assert_eq!(f.changed, pairs(&[("260000", "n")]));
    assert_eq!(s.stats.scan, "keys+pages total+keys", "{:?}", s.stats);
}

/// A change in the last key range (where rows changed since a copy usually are): the
/// pages total is not taken (it would be spent), the key ranges find the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_a_change_in_the_last_key_range_skips_the_pages_total() {
    let Some((_da, _db, a, b, _)) = chunked(true).await else {
        return;
    };
    exec_all(&b, &["UPDATE w SET t = 'late' WHERE id = 520000"]).await;
    let (f, s, _) = diff_w(&a, &b, None).await;
    assert_eq!(f.changed, pairs(&[("520000", "t")]));
    assert_eq!(s.stats.scan, "", "{:?}", s.stats);
    assert_eq!(s.stats.differing_buckets, 1, "{:?}", s.stats);
}

/// A chunk with as many rows on both sides but other content (two rows' texts
/// swapped, a key deleted and its neighbour inserted): its whole sums differ, and its
/// buckets say exactly which rows.
async fn same_count_other_content(pg: bool) {
    let Some((_da, _db, a, b, hash)) = chunked(pg).await else {
        return;
    };
    exec_all(
        &b,
        &[
            // rows 100 and 102 hold md5('50') and md5('51'): swapped
            "UPDATE w SET t = CASE id WHEN 100 THEN md5('51') ELSE md5('50') END WHERE id IN (100, 102)",
            "DELETE FROM w WHERE id = 70000",
            "INSERT INTO w VALUES (70001, 1, 'between')",
        ],
    )
    .await;
    let (f, s) = all_ways(&a, &b, "w", hash).await;
    assert_eq!(f.changed, pairs(&[("100", "t"), ("102", "t")]));
    assert_eq!(f.only_source, strings(&["70000"]));
    assert_eq!(f.only_target, strings(&["70001"]));
    assert_eq!(s.source_rows, s.target_rows);
    assert!(s.stats.whole_chunks >= 1, "{:?}", s.stats);
}

on_both!(
    same_count_other_content =>
    pg_same_row_count_with_other_content_is_found,
    mariadb_same_row_count_with_other_content_is_found
);

/// The rows both read-ahead tests change: one key in 400 (scattered, one bucket in
/// five) and one dense run, as SQL for the UPDATE and as the same test in Rust.
const SCATTERED_AND_DENSE: &str = "id % 400 = 0 OR id BETWEEN 300000 AND 320000";
fn scattered_and_dense(id: i64) -> bool {
    id % 400 == 0 || (300000..=320000).contains(&id)
}

/// What a diff of `w` (keys 2, 4, … 2 × `rows`) must report when the target's `n`
/// was changed where `changed` holds and its rows deleted where `deleted` holds: the
/// changed keys (column `n`; a deleted row is no change) and the deleted keys.
fn changed_and_deleted(
    rows: i64,
    changed: impl Fn(i64) -> bool,
    deleted: impl Fn(i64) -> bool,
) -> (
    std::collections::BTreeSet<(String, String)>,
    std::collections::BTreeSet<String>,
) {
    let keys = (1..=rows).map(|g| g * 2);
    let c = keys
        .clone()
        .filter(|&id| changed(id) && !deleted(id))
        .map(|id| (id.to_string(), "n".to_string()))
        .collect();
    let d = keys
        .filter(|&id| deleted(id))
        .map(|id| id.to_string())
        .collect();
    (c, d)
}

/// Differences in every chunk: no chunk is taken as equal whole, the rest goes to
/// buckets at once (MariaDB) or to pages (PostgreSQL: `keys+pages`), and every
/// difference is reported as the MD5 and the merge report it, with progress to the end.
async fn changes_everywhere(pg: bool) {
    let Some((_da, _db, a, b, hash)) = chunked(pg).await else {
        return;
    };
    exec_all(
        &b,
        &[
            "UPDATE w SET n = n + 1 WHERE id % 2000 = 0",
            "DELETE FROM w WHERE id % 10000 = 2",
            "INSERT INTO w VALUES (1, 1, 'first'), (3, 3, 'odd')",
        ],
    )
    .await;
    let rows: i64 = if pg { 260000 } else { 190000 };
    let (changed, deleted) = changed_and_deleted(rows, |id| id % 2000 == 0, |id| id % 10000 == 2);
    let (f, s) = all_ways(&a, &b, "w", hash).await;
    assert_eq!(f.changed, changed);
    assert_eq!(f.only_source, deleted);
    assert_eq!(f.only_target, strings(&["1", "3"]));
    assert_eq!(s.stats.whole_chunks, 0, "{:?}", s.stats);
    assert_eq!(
        s.stats.scan,
        if pg { "keys+pages" } else { "" },
        "{:?}",
        s.stats
    );
    // the default strategy, with progress
    let events: Mutex<Vec<Progress>> = Mutex::new(Vec::new());
    let o = DiffOptions {
        table: "w".into(),
        ..Default::default()
    };
    let plan = build_plan(&a, &b, &o).await.expect("plan");
    let mut g = Found::default();
    let record = |p: Progress| events.lock().unwrap().push(p);
    let s = diff(&a, &b, plan, &mut g, &record).await.expect("diff");
    assert_eq!(g, f, "default strategy vs buckets");
    hashing_progressed_to(events.into_inner().unwrap(), s.source_rows + s.target_rows);
    assert_eq!(s.source_rows as i64, rows);
}

on_both!(
    changes_everywhere =>
    pg_changes_in_every_chunk_switch_to_pages_with_the_same_answer,
    mariadb_changes_in_every_chunk_go_to_buckets_with_the_same_answer
);

/// PostgreSQL, differences spread over more key ranges than one query compares by row
/// hash (256): the batches' row hashes are read ahead while earlier ones are merged, a
/// dense run of changes makes the next batch merge whole (its hashes, read ahead, go
/// unused), and every difference is still reported exactly once, as the MD5 and the
/// merge report it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_many_batches_of_differing_buckets_read_ahead_with_the_same_answer() {
    let Some((_da, _db, a, b, hash)) = chunked(true).await else {
        return;
    };
    // keys are 2..=520000, buckets 80 keys wide: a change every 400 keys is a bucket
    // in five, 1,300 key ranges apart (six batches); 300000..320000 is one dense run
    exec_all(
        &b,
        &[
            &format!("UPDATE w SET n = n + 1 WHERE {SCATTERED_AND_DENSE}"),
            "DELETE FROM w WHERE id % 10000 = 4002",
        ],
    )
    .await;
    let (changed, deleted) =
        changed_and_deleted(260000, scattered_and_dense, |id| id % 10000 == 4002);
    assert!(changed.len() > 11000 && deleted.len() == 52);
    let (f, s) = all_ways(&a, &b, "w", hash).await;
    assert_eq!(f.changed, changed);
    assert_eq!(f.only_source, deleted);
    assert!(f.only_target.is_empty(), "{f:?}");
    assert_eq!(s.stats.scan, "keys+pages", "{:?}", s.stats);
    assert!(s.stats.differing_buckets > 1300, "{:?}", s.stats);
}

/// Two tables of one database compared through one small connection pool (a
/// runbook's `diff-data` step whose source and target are the same target, here with
/// two connections), over several batches read ahead: the diff ends within its time
/// limit, by buckets and by merge, with the same answer. (It guards the shared pool;
/// it did not reproduce the starvation the read-ahead's permits rule out.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_two_tables_of_one_database_through_one_small_pool_end_with_the_merges_answer() {
    let Some(dbs) = pair(true).await else { return };
    let options = cutover::db::ConnectOptions {
        max_connections: 2,
        ..Default::default()
    };
    let a = cutover::db::connect_with(&dbs.0.url, options)
        .await
        .expect("connect");
    exec_all(
        &a,
        &[
            "CREATE TABLE w (id bigint PRIMARY KEY, n int NOT NULL, t varchar(40) NOT NULL)",
            "INSERT INTO w SELECT g * 2, g % 97, md5(g::text) FROM generate_series(1, 260000) g",
            "CREATE TABLE w2 (LIKE w INCLUDING ALL)",
            "INSERT INTO w2 SELECT * FROM w",
            &format!("UPDATE w2 SET n = n + 1 WHERE {SCATTERED_AND_DENSE}"),
            "ANALYZE w",
            "ANALYZE w2",
        ],
    )
    .await;
    let (changed, deleted) = changed_and_deleted(260000, scattered_and_dense, |_| false);
    for strategy in [None, Some(Strategy::Merge)] {
        let o = DiffOptions {
            table: "w".into(),
            target_table: Some("w2".into()),
            strategy,
            ..Default::default()
        };
        let plan = build_plan(&a, &a, &o).await.expect("plan");
        let mut f = Found::default();
        let run = diff(&a, &a, plan, &mut f, &|_| {});
        let s = tokio::time::timeout(std::time::Duration::from_secs(120), run)
            .await
            .unwrap_or_else(|_| panic!("{strategy:?}: the diff did not end within 2 minutes"))
            .expect("diff");
        assert_eq!(f.changed, changed, "{strategy:?}");
        assert_eq!(f.only_source, deleted, "{strategy:?}");
        assert!(f.only_target.is_empty(), "{strategy:?}");
        if strategy.is_none() {
            assert_eq!(s.stats.scan, "keys+pages", "{:?}", s.stats);
        }
    }
}

/// PostgreSQL's native hash takes doubles, reals, booleans, UUIDs, bytea, times and
/// dates as their own types, and intervals, timetz and JSON by their canonical text:
/// each way (native, MD5, merge) finds the same changes, -0 is 0 and NaN is NaN, an
/// interval of '1 day' is not '24 hours', JSON compares by value, and two rows trading
/// their values are two changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_native_hash_on_typed_columns_agrees_with_md5_and_the_merge() {
    let Some(dbs) = pair(true).await else { return };
    let (a, b) = (dbs.0.connect().await, dbs.1.connect().await);
    let ddl = "CREATE TABLE y (id int PRIMARY KEY, f float8, r real, ok boolean, u uuid, \
               bin bytea, t time, tz timetz, iv interval, j jsonb, d date)";
    let row = |id: i32, f: &str, ok: &str, bin: &str, t: &str, iv: &str, j: &str, d: &str| {
        format!(
            "INSERT INTO y VALUES ({id}, {f}, {f}::real, {ok}, \
             'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1{}', {bin}, {t}, '10:00:00+02', {iv}, {j}, {d})",
            id % 10
        )
    };
    let base = |id: i32| {
        row(
            id,
            &format!("{id}.5"),
            "true",
            "'\\x00'",
            "'10:00:00'",
            "'1 day'",
            "'{\"a\": 1}'",
            "'2024-01-01'",
        )
    };
    let mut src: Vec<String> = (1..=40).map(base).collect();
    src.push(row(
        50,
        "'-0'",
        "true",
        "NULL",
        "NULL",
        "NULL",
        "NULL",
        "'infinity'",
    ));
    src.push(row(
        51, "'NaN'", "NULL", "''", "NULL", "NULL", "NULL", "NULL",
    ));
    let mut tgt: Vec<String> = (1..=40)
        .map(|id| match id {
            3 => row(
                3,
                "3.5000000000000004",
                "true",
                "'\\x00'",
                "'10:00:00'",
                "'1 day'",
                "'{\"a\": 1}'",
                "'2024-01-01'",
            ),
            4 => base(4).replace("true,", "false,"),
            5 => base(5).replace("'\\x00'", "'\\x0000'"),
            6 => base(6).replace("'10:00:00'", "'10:00:00.000001'"),
            7 => base(7).replace("'1 day'", "'24 hours'"),
            // key order and spacing do not matter to JSON by value
            8 => base(8).replace("'{\"a\": 1}'", "'{ \"a\":1 }'"),
            9 => base(9).replace("'2024-01-01')", "'2024-01-02')"),
            // rows 20 and 21 trade their doubles (and reals): two changes
            20 => row(
                20,
                "21.5",
                "true",
                "'\\x00'",
                "'10:00:00'",
                "'1 day'",
                "'{\"a\": 1}'",
                "'2024-01-01'",
            ),
            21 => row(
                21,
                "20.5",
                "true",
                "'\\x00'",
                "'10:00:00'",
                "'1 day'",
                "'{\"a\": 1}'",
                "'2024-01-01'",
            ),
            _ => base(id),
        })
        .collect();
    // the same instant in another zone: a timetz keeps its zone, a change every way
    tgt[10] = base(11).replace("'10:00:00+02'", "'08:00:00+00'");
    tgt.push(row(
        50,
        "'0'",
        "true",
        "NULL",
        "NULL",
        "NULL",
        "NULL",
        "'infinity'",
    ));
    tgt.push(row(
        51, "'NaN'", "NULL", "''", "NULL", "NULL", "NULL", "NULL",
    ));
    for (db, rows) in [(&a, &src), (&b, &tgt)] {
        let mut all: Vec<&str> = vec![ddl];
        all.extend(rows.iter().map(String::as_str));
        exec_all(db, &all).await;
    }
    let (f, _) = all_ways(&a, &b, "y", native_hash(true)).await;
    assert!(
        f.only_source.is_empty() && f.only_target.is_empty(),
        "{f:?}"
    );
    let rows: std::collections::BTreeSet<&str> = f.changed.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        rows,
        ["11", "20", "21", "3", "4", "5", "6", "7", "9"]
            .into_iter()
            .collect(),
        "{f:?}"
    );
    assert!(f.changed.contains(&("20".into(), "f".into())), "{f:?}");
    assert!(f.changed.contains(&("7".into(), "iv".into())), "{f:?}");

    // a double's 0 (and -0) and a decimal's NaN hash as NULL does: still changes
    let z = [
        "CREATE TABLE z (id int PRIMARY KEY, f float8, m numeric(8,2))",
        "INSERT INTO z VALUES (1, 0, 'NaN'), (2, '-0', 1.5), (3, 'NaN', 0), (4, NULL, NULL), (5, 1, 'NaN')",
    ];
    exec_all(&a, &z).await;
    exec_all(
        &b,
        &[
            z[0],
            "INSERT INTO z VALUES (1, NULL, NULL), (2, 0, 1.50), (3, 'NaN', 0), (4, 0, NULL), (5, 1, NULL)",
        ],
    )
    .await;
    let (f, _) = all_ways(&a, &b, "z", native_hash(true)).await;
    assert_eq!(
        f.changed,
        pairs(&[("1", "f"), ("1", "m"), ("4", "f"), ("5", "m")]),
        "{f:?}"
    );
}

/// A column NOT NULL on one side and nullable on the other hashes alike on both (one
/// NULL marker or none on both sides): identical rows leave no bucket to merge, with
/// the native hash and with MD5; one NULL is still found.
async fn nullable_on_one_side(pg: bool) {
    let Some(dbs) = pair(pg).await else { return };
    let (a, b) = (dbs.0.connect().await, dbs.1.connect().await);
    let fill = if pg {
        "INSERT INTO m SELECT g, g * 1.5, g::float8 / 3, 'n' || g FROM generate_series(1, 2000) g"
    } else {
        "INSERT INTO m SELECT seq, seq * 1.5, seq / 3e0, CONCAT('n', seq) FROM seq_1_to_2000"
    };
    exec_all(
        &a,
        &[
            "CREATE TABLE m (id int PRIMARY KEY, v decimal(10,2) NOT NULL, f float NOT NULL, t varchar(10) NOT NULL)",
            fill,
        ],
    )
    .await;
    exec_all(
        &b,
        &[
            "CREATE TABLE m (id int PRIMARY KEY, v decimal(10,2), f float, t varchar(10))",
            fill,
        ],
    )
    .await;
    for way in [Way::Native, Way::Portable] {
        let (f, s) = run(&a, &b, "m", way).await;
        assert_eq!(f, Found::default(), "{way:?}");
        assert_eq!(
            (s.stats.differing_buckets, s.stats.rows_fetched),
            (0, 0),
            "{way:?}: {:?}",
            s.stats
        );
    }
    exec_all(&b, &["UPDATE m SET v = NULL WHERE id = 7"]).await;
    let (f, _) = all_ways(&a, &b, "m", native_hash(pg)).await;
    assert_eq!(f.changed, pairs(&[("7", "v")]));
}

on_both!(
    nullable_on_one_side =>
    pg_a_column_nullable_on_one_side_only_hashes_alike,
    mariadb_a_column_nullable_on_one_side_only_hashes_alike
);
