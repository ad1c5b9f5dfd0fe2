//! Issue 16, property test beyond the ten shared types (`data_exact_prop.rs`): UUID
//! keys and columns on every engine pair, and each engine's own types against itself
//! (PostgreSQL interval, inet, arrays, timetz, varbit, unconstrained numeric, real,
//! point, ranges, macaddr, tsvector; MariaDB TIME beyond a day and negative, YEAR, BIT,
//! SET, ENUM, FLOAT, POINT), plus real against FLOAT across engines. Rows generated,
//! differences planted (rows deleted, added, one column changed); both strategies must
//! report exactly the planted keys and columns. Fixed seed, bounded cases, real servers.
//!
//! A value is a seed drawn below its column's `range`, rendered to a literal that is a
//! different value for every seed, so a planted change is real exactly when the seed
//! (or NULL-ness) changes.

use crate::data_exact::{Found, both, exec_all, opts};
use cutover::data::Strategy as DiffStrategy;
use cutover::db::{Db, Dialect};
use cutover::testkit::TestDb;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::collections::BTreeSet;

const CASES: u32 = 8;

/// One column: its type on each engine and its literal for a seed.
struct Col {
    name: &'static str,
    ty: fn(Dialect) -> &'static str,
    range: u32,
    lit: fn(Dialect, u32) -> String,
}

/// A UUID for a number, spread over all 128 bits (splitmix64 twice), version-4 shaped.
fn uuid_of(n: u64) -> String {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let (a, b) = (mix(n), mix(n ^ 0x5555_5555_5555_5555));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
}

fn uuid_type(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "uuid",
        Dialect::Mysql => "UUID",
        Dialect::Sqlite => "UUID",
    }
}

const UUID_COL: Col = Col {
    name: "u",
    ty: uuid_type,
    range: u32::MAX,
    lit: |_, s| format!("'{}'", uuid_of(s as u64)),
};

/// real (PostgreSQL) and FLOAT (MariaDB): single precision on both.
const SINGLE_COL: Col = Col {
    name: "r",
    ty: |d| match d {
        Dialect::Mysql => "FLOAT",
        _ => "real",
    },
    range: 1 << 20,
    // multiples of 1/64: exact in single precision and in decimal, so every engine
    // reads the literal as the same float
    lit: |_, s| format!("{:?}", (s as f64 - 500_000.0) / 64.0),
};

const PG_COLS: &[Col] = &[
    Col {
        name: "iv",
        ty: |_| "interval",
        range: 100_000,
        lit: |_, s| format!("'{} days {} microseconds'", s % 400, s as u64 * 7),
    },
    Col {
        name: "ip",
        ty: |_| "inet",
        range: 1 << 24,
        lit: |_, s| format!("'10.{}.{}.{}'", s >> 16, (s >> 8) & 255, s & 255),
    },
    Col {
        name: "arr",
        ty: |_| "int[]",
        range: 100_000,
        lit: |_, s| {
            if s % 3 == 0 {
                format!("ARRAY[{s}, NULL]::int[]")
            } else {
                format!("ARRAY[{}, {}]::int[]", s, s % 7)
            }
        },
    },
    Col {
        name: "tz",
        ty: |_| "timetz(6)",
        range: 86_400 * 3,
        lit: |_, s| {
            let (secs, zone) = (s % 86_400, s / 86_400);
            format!(
                "'{:02}:{:02}:{:02}.{:06}+0{zone}'",
                secs / 3600,
                secs / 60 % 60,
                secs % 60,
                secs * 11 % 1_000_000
            )
        },
    },
    Col {
        name: "vb",
        ty: |_| "varbit(40)",
        range: u32::MAX,
        lit: |_, s| format!("B'1{s:b}'"),
    },
    Col {
        name: "big",
        ty: |_| "numeric",
        range: u32::MAX,
        lit: |_, s| format!("{s}123456789012345678901234567890.{s}"),
    },
    SINGLE_COL,
    Col {
        name: "pt",
        ty: |_| "point",
        range: 100_000,
        lit: |_, s| format!("point({}, {}.5)", s, s % 9),
    },
    Col {
        name: "rg",
        ty: |_| "int4range",
        range: 100_000,
        lit: |_, s| format!("int4range({}, {})", s, s + 1 + s % 5),
    },
    Col {
        name: "mac",
        ty: |_| "macaddr",
        range: 1 << 24,
        lit: |_, s| {
            format!(
                "'08:00:2b:{:02x}:{:02x}:{:02x}'",
                s >> 16,
                (s >> 8) & 255,
                s & 255
            )
        },
    },
    Col {
        name: "tv",
        ty: |_| "tsvector",
        range: 100_000,
        lit: |_, s| format!("to_tsvector('simple', 'w{} x{}')", s, s % 3),
    },
];

const MY_COLS: &[Col] = &[
    Col {
        name: "tm",
        ty: |_| "TIME(6)",
        range: 10_000,
        lit: |_, s| {
            // -416h..+416h, microseconds included
            let v = (s as i64 - 5_000) * 300_001_234;
            let a = v.unsigned_abs();
            format!(
                "'{}{}:{:02}:{:02}.{:06}'",
                if v < 0 { "-" } else { "" },
                a / 3_600_000_000,
                a / 60_000_000 % 60,
                a / 1_000_000 % 60,
                a % 1_000_000
            )
        },
    },
    Col {
        name: "yr",
        ty: |_| "YEAR",
        range: 255,
        lit: |_, s| (1901 + s).to_string(),
    },
    Col {
        name: "bits",
        ty: |_| "BIT(12)",
        range: 4096,
        lit: |_, s| format!("b'{s:b}'"),
    },
    Col {
        name: "st",
        ty: |_| "SET('a','b','c','d')",
        range: 16,
        lit: |_, s| {
            let v: Vec<&str> = ["a", "b", "c", "d"]
                .iter()
                .enumerate()
                .filter(|(i, _)| s & (1 << i) != 0)
                .map(|(_, x)| *x)
                .collect();
            format!("'{}'", v.join(","))
        },
    },
    Col {
        name: "en",
        ty: |_| "ENUM('x','y','z','w')",
        range: 4,
        lit: |_, s| format!("'{}'", ["x", "y", "z", "w"][s as usize]),
    },
    SINGLE_COL,
    Col {
        name: "pt",
        ty: |_| "POINT",
        range: 100_000,
        lit: |_, s| format!("ST_GeomFromText('POINT({} {}.5)')", s, s % 9),
    },
];

/// The columns an engine pair is tested with (besides the UUID key).
fn columns(a: Dialect, b: Dialect) -> Vec<&'static Col> {
    let mut out = vec![&UUID_COL];
    match (a, b) {
        (Dialect::Postgres, Dialect::Postgres) => out.extend(PG_COLS.iter()),
        (Dialect::Mysql, Dialect::Mysql) => out.extend(MY_COLS.iter()),
        (Dialect::Postgres, Dialect::Mysql) | (Dialect::Mysql, Dialect::Postgres) => {
            out.push(&SINGLE_COL)
        }
        _ => {}
    }
    out
}

type Row = (u64, Vec<Option<u32>>);

#[derive(Debug, Clone)]
struct Case {
    rows: Vec<Row>,
    /// (row index, action, new values): 0 deletes, 1..=n changes that column, n+1 adds
    plants: Vec<(usize, usize, Vec<Option<u32>>)>,
}

fn values(cols: &[u32]) -> impl Strategy<Value = Vec<Option<u32>>> + use<> {
    cols.iter()
        .map(|&r| prop::option::weighted(0.85, 0..r))
        .collect::<Vec<_>>()
}

fn case(ranges: Vec<u32>) -> impl Strategy<Value = Case> {
    let n_cols = ranges.len();
    (4usize..30).prop_flat_map(move |n| {
        let rows: Vec<_> = (0..n as u64)
            .map(|i| values(&ranges).prop_map(move |v| (1_000_000 + i, v)))
            .collect();
        let plants = prop::collection::vec((0..n, 0..n_cols + 2, values(&ranges)), 0..6);
        (rows, plants).prop_map(|(rows, plants)| Case { rows, plants })
    })
}

async fn load(db: &Db, cols: &[&Col], rows: &[Row]) {
    let d = db.dialect();
    let defs: Vec<String> = cols
        .iter()
        .map(|c| format!("{} {}", d.quote_ident(c.name), (c.ty)(d)))
        .collect();
    exec_all(
        db,
        &[
            "DROP TABLE IF EXISTS p",
            &format!(
                "CREATE TABLE p (id {} PRIMARY KEY, {})",
                uuid_type(d),
                defs.join(", ")
            ),
        ],
    )
    .await;
    for chunk in rows.chunks(50) {
        let v: Vec<String> = chunk
            .iter()
            .map(|(id, vals)| {
                let lits: Vec<String> = cols
                    .iter()
                    .zip(vals)
                    .map(|(c, v)| v.map_or("NULL".into(), |s| (c.lit)(d, s)))
                    .collect();
                format!("('{}', {})", uuid_of(*id), lits.join(", "))
            })
            .collect();
        exec_all(db, &[&format!("INSERT INTO p VALUES {}", v.join(", "))]).await;
    }
}

fn plant(cols: &[&Col], c: &Case) -> (Vec<Row>, Found) {
    let mut target = c.rows.clone();
    let mut found = Found::default();
    let mut next = 5_000_000u64;
    let mut touched = BTreeSet::new();
    for (idx, action, alt) in &c.plants {
        let id = c.rows[*idx].0;
        if *action == cols.len() + 1 {
            target.push((next, alt.clone()));
            found.only_target.insert(uuid_of(next));
            next += 1;
            continue;
        }
        if !touched.insert(id) {
            continue;
        }
        let pos = target.iter().position(|r| r.0 == id).unwrap();
        if *action == 0 {
            target.remove(pos);
            found.only_source.insert(uuid_of(id));
            continue;
        }
        let k = action - 1;
        let old = std::mem::replace(&mut target[pos].1[k], alt[k]);
        if old != alt[k] {
            found
                .changed
                .insert((uuid_of(id), cols[k].name.to_string()));
        }
    }
    (target, found)
}

/// The keys as the diff reports them, in lower case (a UUID's text form on the engine).
fn lowered(f: Found) -> Found {
    Found {
        only_source: f.only_source.iter().map(|k| k.to_lowercase()).collect(),
        only_target: f.only_target.iter().map(|k| k.to_lowercase()).collect(),
        changed: f
            .changed
            .iter()
            .map(|(k, c)| (k.to_lowercase(), c.clone()))
            .collect(),
    }
}

type MakePair = std::pin::Pin<Box<dyn std::future::Future<Output = Option<(TestDb, TestDb)>>>>;

fn run_pair(label: &str, make: fn() -> MakePair) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let Some((s, t)) = rt.block_on(make()) else {
        return;
    };
    let (a, b) = rt.block_on(async { (s.connect().await, t.connect().await) });
    let cols = columns(a.dialect(), b.dialect());
    let ranges: Vec<u32> = cols.iter().map(|c| c.range).collect();
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: CASES,
            failure_persistence: None,
            max_shrink_iters: 32,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let result = runner.run(&case(ranges), |c| {
        let (target, want) = plant(&cols, &c);
        let got = rt.block_on(async {
            load(&a, &cols, &c.rows).await;
            load(&b, &cols, &target).await;
            both(&a, &b, opts("p", DiffStrategy::Buckets)).await.0
        });
        prop_assert_eq!(lowered(got), want, "{}", label);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{label}: {e}");
    }
}

mod sources {
    pub use crate::data_exact_prop::some_sqlite as sqlite;
    pub use cutover::testkit::{mysql, postgres};
}

macro_rules! pair {
    ($name:ident, $a:ident, $b:ident) => {
        #[test]
        fn $name() {
            run_pair(stringify!($name), || {
                Box::pin(async { Some((sources::$a().await?, sources::$b().await?)) })
            });
        }
    };
}

pair!(uuid_and_own_types_postgres_postgres, postgres, postgres);
pair!(uuid_and_own_types_mariadb_mariadb, mysql, mysql);
pair!(uuid_and_single_floats_postgres_mariadb, postgres, mysql);
pair!(uuid_and_single_floats_mariadb_postgres, mysql, postgres);
pair!(uuid_sqlite_postgres, sqlite, postgres);
pair!(uuid_sqlite_mariadb, sqlite, mysql);
pair!(uuid_sqlite_sqlite, sqlite, sqlite);
