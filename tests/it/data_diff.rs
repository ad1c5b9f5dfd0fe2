//! The data diff against real engines: randomized tables, random inserts, deletes and
//! updates on the target; the diff must find exactly the changed keys (no false
//! positives across engines), and applying its statements must make a re-diff equal.

use cutover::data::apply::{SqlSink, apply};
use cutover::data::diff::{DiffSink, Difference};
use cutover::data::{DiffOptions, Plan, Strategy, build_plan, diff};
use cutover::db::{Db, Dialect, Value};
use cutover::testkit::{self, TestDb};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq)]
struct Row {
    id: i64,
    k: String,
    amount: Option<i64>, // cents
    ts: Option<i64>,     // micros since epoch
    note: Option<String>,
    flag: Option<bool>,
}

const WORDS: &[&str] = &[
    "Zoë",
    "zoë",
    "straße",
    "STRASSE",
    "東京",
    "a'b",
    "back\\slash",
    "Abc",
    "abc",
    "ABC",
    "x y",
    "emoji 🎉",
    "tab\tin",
    "",
];

fn random_row(rng: &mut StdRng, id: i64) -> Row {
    Row {
        id,
        k: WORDS[rng.random_range(0..WORDS.len() - 1)].to_string(),
        amount: rng
            .random_bool(0.9)
            .then(|| rng.random_range(-1_000_000..1_000_000)),
        ts: rng.random_bool(0.9).then(|| {
            rng.random_range(0..2_000_000_000i64) * 1_000_000 + rng.random_range(0..1_000_000)
        }),
        note: match rng.random_range(0..4) {
            0 => None,
            1 => Some(String::new()),
            _ => Some(WORDS[rng.random_range(0..WORDS.len())].to_string()),
        },
        flag: rng.random_bool(0.8).then(|| rng.random_bool(0.5)),
    }
}

/// Create the table with engine-equivalent types; `scale` and `tz` vary per side.
async fn create(db: &Db, scale: u32, tz: bool) {
    let d = db.dialect();
    let ts = match (d, tz) {
        (Dialect::Postgres, true) => "TIMESTAMPTZ",
        (Dialect::Postgres, false) => "TIMESTAMP",
        (Dialect::Mysql, _) => "DATETIME(6)",
        (Dialect::Sqlite, _) => "TIMESTAMP",
    };
    let sql = format!(
        "CREATE TABLE {} (id BIGINT NOT NULL, k VARCHAR(40) NOT NULL, amount DECIMAL(14,{scale}), ts {ts}, note TEXT, flag BOOLEAN, PRIMARY KEY (id, k))",
        d.quote_ident("Items")
    );
    db.execute(&sql).await.unwrap();
}

fn lit(d: Dialect, r: &Row, tz: bool) -> String {
    let amount = r
        .amount
        .map(|c| {
            let neg = if c < 0 { "-" } else { "" };
            format!("{neg}{}.{:02}", c.abs() / 100, c.abs() % 100)
        })
        .unwrap_or("NULL".into());
    let ts =
        r.ts.map(|u| {
            let t = chrono::DateTime::from_timestamp(
                u.div_euclid(1_000_000),
                (u.rem_euclid(1_000_000) * 1000) as u32,
            )
            .unwrap();
            let s = match d {
                // SQLite copies written by other tools: ISO 8601 with an offset
                Dialect::Sqlite => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                Dialect::Postgres if tz => t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string(),
                _ => t.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
            };
            d.quote_literal(&s)
        })
        .unwrap_or("NULL".into());
    let note = r
        .note
        .as_deref()
        .map(|n| d.quote_literal(n))
        .unwrap_or("NULL".into());
    let flag = match (r.flag, d) {
        (None, _) => "NULL".into(),
        (Some(b), Dialect::Postgres) => b.to_string(),
        (Some(b), _) => (b as i32).to_string(),
    };
    format!(
        "({}, {}, {amount}, {ts}, {note}, {flag})",
        r.id,
        d.quote_literal(&r.k)
    )
}

async fn insert(db: &Db, rows: &[Row], tz: bool) {
    let d = db.dialect();
    for chunk in rows.chunks(500) {
        let vals: Vec<String> = chunk.iter().map(|r| lit(d, r, tz)).collect();
        db.execute(&format!(
            "INSERT INTO {} (id, k, amount, ts, note, flag) VALUES {}",
            d.quote_ident("Items"),
            vals.join(", ")
        ))
        .await
        .unwrap();
    }
}

type Key = (i64, String);

/// Expected differences after mutating a copy: (only in source, only in target, changed).
struct Expected {
    only_source: BTreeSet<Key>,
    only_target: BTreeSet<Key>,
    changed: BTreeSet<Key>,
}

fn mutate(rng: &mut StdRng, rows: &[Row], changes: usize) -> (Vec<Row>, Expected) {
    let mut target: BTreeMap<Key, Row> = rows
        .iter()
        .map(|r| ((r.id, r.k.clone()), r.clone()))
        .collect();
    let mut e = Expected {
        only_source: BTreeSet::new(),
        only_target: BTreeSet::new(),
        changed: BTreeSet::new(),
    };
    let max_id = rows.iter().map(|r| r.id).max().unwrap_or(0);
    for _ in 0..changes {
        match rng.random_range(0..3) {
            0 => {
                let keys: Vec<Key> = target.keys().cloned().collect();
                let k = keys[rng.random_range(0..keys.len())].clone();
                if e.only_target.contains(&k) {
                    continue;
                }
                target.remove(&k);
                e.changed.remove(&k);
                e.only_source.insert(k);
            }
            1 => {
                let id = max_id + rng.random_range(1..1000);
                let mut r = random_row(rng, id);
                // a mixed-case twin of an existing key is a different key
                if rng.random_bool(0.3) {
                    r.id = rows[rng.random_range(0..rows.len())].id;
                    r.k = "aBc".into();
                }
                let k = (r.id, r.k.clone());
                if target.contains_key(&k) || e.only_source.contains(&k) {
                    continue;
                }
                target.insert(k.clone(), r);
                e.only_target.insert(k);
            }
            _ => {
                let keys: Vec<Key> = target.keys().cloned().collect();
                let k = keys[rng.random_range(0..keys.len())].clone();
                if e.only_target.contains(&k) {
                    continue;
                }
                let r = target.get_mut(&k).unwrap();
                match rng.random_range(0..4) {
                    0 => r.amount = Some(r.amount.unwrap_or(0) + 1),
                    1 => {
                        r.note = match &r.note {
                            None => Some(String::new()),
                            Some(s) if s.is_empty() => None,
                            Some(s) => Some(format!("{s}!")),
                        }
                    }
                    2 => r.ts = Some(r.ts.unwrap_or(0) + 1),
                    _ => r.flag = Some(!r.flag.unwrap_or(false)),
                }
                e.changed.insert(k);
            }
        }
    }
    (target.into_values().collect(), e)
}

#[derive(Default)]
struct Found {
    only_source: BTreeSet<Key>,
    only_target: BTreeSet<Key>,
    changed: BTreeSet<Key>,
    sql: Option<SqlSink>,
}

fn key_of(row: &[Value]) -> Key {
    let id = row[0].as_i64().expect("id");
    let k = match &row[1] {
        Value::Text(s) => s.clone(),
        Value::Bytes(b) => String::from_utf8(b.clone()).unwrap(),
        other => other.to_string(),
    };
    (id, k)
}

impl DiffSink for Found {
    fn difference(&mut self, plan: &Plan, d: Difference) -> cutover::Result<()> {
        match &d {
            Difference::OnlyInSource { row, .. } => {
                self.only_source.insert(key_of(row));
            }
            Difference::OnlyInTarget { row, .. } => {
                self.only_target.insert(key_of(row));
            }
            Difference::Changed { source, .. } => {
                self.changed.insert(key_of(source));
            }
        }
        if let Some(s) = &mut self.sql {
            s.difference(plan, d)?;
        }
        Ok(())
    }
}

fn opts(strategy: Option<Strategy>) -> DiffOptions {
    DiffOptions {
        table: "Items".into(),
        strategy,
        ..Default::default()
    }
}

/// Build both sides, diff them three ways, check the keys, apply, re-diff.
async fn check_pair(a: TestDb, b: TestDb, seed: u64) {
    let label = format!("{:?} -> {:?} (seed {seed})", a.dialect, b.dialect);
    let mut rng = StdRng::seed_from_u64(seed);
    let src = a.connect().await;
    let tgt = b.connect().await;
    // different decimal scales and timestamp kinds on the two sides
    create(&src, 2, true).await;
    create(&tgt, 4, false).await;
    let mut ids: Vec<i64> = (0..1500).map(|i| i * 3 + rng.random_range(0..3)).collect();
    ids.dedup();
    let rows: Vec<Row> = ids.iter().map(|i| random_row(&mut rng, *i)).collect();
    insert(&src, &rows, true).await;

    // identical copies first: no false positives, and the hashes agree in every engine
    insert(&tgt, &rows, false).await;
    let plan = build_plan(&src, &tgt, &opts(None)).await.unwrap();
    let mut f = Found::default();
    let s = diff(&src, &tgt, plan, &mut f, &|_| {}).await.unwrap();
    assert!(
        s.equal(),
        "{label}: identical tables reported different: {:?} {:?} {:?}",
        f.only_source,
        f.only_target,
        f.changed
    );
    assert_eq!(
        s.stats.differing_buckets, 0,
        "{label}: bucket hashes disagree on identical data: {:?}",
        s.stats
    );
    assert_eq!(s.source_rows, rows.len() as u64);
    let plan = build_plan(&src, &tgt, &opts(Some(Strategy::Merge)))
        .await
        .unwrap();
    let s = diff(&src, &tgt, plan, &mut Found::default(), &|_| {})
        .await
        .unwrap();
    assert!(
        s.equal(),
        "{label}: merge reported identical tables different"
    );

    // mutate the target
    tgt.execute(&format!("DELETE FROM {}", b.dialect.quote_ident("Items")))
        .await
        .unwrap();
    let (mutated, expected) = mutate(&mut rng, &rows, 60);
    insert(&tgt, &mutated, false).await;

    for strategy in [None, Some(Strategy::Buckets), Some(Strategy::Merge)] {
        let plan = build_plan(&src, &tgt, &opts(strategy)).await.unwrap();
        let mut f = Found::default();
        let s = diff(&src, &tgt, plan, &mut f, &|_| {}).await.unwrap();
        assert_eq!(
            f.only_source, expected.only_source,
            "{label} {strategy:?}: only in source"
        );
        assert_eq!(
            f.only_target, expected.only_target,
            "{label} {strategy:?}: only in target"
        );
        assert_eq!(f.changed, expected.changed, "{label} {strategy:?}: changed");
        assert_eq!(s.changed as usize, expected.changed.len());
        assert_eq!(s.source_rows, rows.len() as u64, "{label} {strategy:?}");
        assert_eq!(s.target_rows, mutated.len() as u64, "{label} {strategy:?}");
        assert_eq!(
            s.unchanged as usize,
            rows.len() - expected.only_source.len() - expected.changed.len()
        );
    }

    // apply the delta, then a fresh diff is equal
    let plan = build_plan(&src, &tgt, &opts(None)).await.unwrap();
    let mut f = Found {
        sql: Some(SqlSink::new(b.dialect)),
        ..Default::default()
    };
    diff(&src, &tgt, plan, &mut f, &|_| {}).await.unwrap();
    let sql = f.sql.unwrap();
    assert_eq!(sql.counts.inserts as usize, expected.only_source.len());
    assert_eq!(sql.counts.deletes as usize, expected.only_target.len());
    apply(&tgt, &sql.statements, 100, false).await.unwrap();
    let plan = build_plan(&src, &tgt, &opts(None)).await.unwrap();
    let mut f = Found::default();
    let s = diff(&src, &tgt, plan, &mut f, &|_| {}).await.unwrap();
    assert!(
        s.equal(),
        "{label}: not equal after apply: {:?} {:?} {:?}",
        f.only_source,
        f.only_target,
        f.changed
    );
    assert_eq!(
        s.stats.differing_buckets, 0,
        "{label}: hashes disagree after apply"
    );
}

#[tokio::test]
async fn sqlite_to_sqlite_finds_exactly_the_changed_keys() {
    check_pair(testkit::sqlite().await, testkit::sqlite().await, 1).await;
}

#[tokio::test]
async fn postgres_to_postgres_finds_exactly_the_changed_keys() {
    let (Some(a), Some(b)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    check_pair(a, b, 2).await;
}

#[tokio::test]
async fn mariadb_to_mariadb_finds_exactly_the_changed_keys() {
    let (Some(a), Some(b)) = (testkit::mysql().await, testkit::mysql().await) else {
        return;
    };
    check_pair(a, b, 3).await;
}

#[tokio::test]
async fn postgres_to_mariadb_finds_exactly_the_changed_keys() {
    let (Some(a), Some(b)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    check_pair(a, b, 4).await;
}

#[tokio::test]
async fn mariadb_to_postgres_finds_exactly_the_changed_keys() {
    let (Some(a), Some(b)) = (testkit::mysql().await, testkit::postgres().await) else {
        return;
    };
    check_pair(a, b, 5).await;
}

#[tokio::test]
async fn sqlite_to_postgres_finds_exactly_the_changed_keys() {
    let Some(b) = testkit::postgres().await else {
        return;
    };
    check_pair(testkit::sqlite().await, b, 6).await;
}

#[tokio::test]
async fn postgres_to_sqlite_finds_exactly_the_changed_keys() {
    let Some(a) = testkit::postgres().await else {
        return;
    };
    check_pair(a, testkit::sqlite().await, 7).await;
}

#[tokio::test]
async fn mariadb_to_sqlite_finds_exactly_the_changed_keys() {
    let Some(a) = testkit::mysql().await else {
        return;
    };
    check_pair(a, testkit::sqlite().await, 8).await;
}
