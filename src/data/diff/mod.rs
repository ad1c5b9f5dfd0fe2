//! The row diff.
//!
//! 1. Each database computes, per bucket of the key (the integer key modulo a prime, or
//!    the first 32 bits of the key's MD5), the row count and the sum mod 2^64 of the
//!    64-bit row hashes, both sides at once. SQLite (and columns two engines cannot
//!    render identically) are hashed by cutover from streamed rows instead.
//! 2. Equal buckets are done. Differing buckets split once more (61 sub-buckets each)
//!    when they still hold many rows; then only the rows of the differing buckets are
//!    fetched, grouped by bucket (bounded memory), and compared value by value.
//! 3. When differences are scattered over most buckets, bisecting would fetch nearly
//!    everything piecemeal: instead both sides are streamed sorted by key (bytewise,
//!    never by collation) and merged in one pass.

mod buckets;
mod merge;
mod ranges;
mod side;
mod slices;
mod sqlite_local;
mod stream;

use super::normalize::{ColumnPlan, Norm, equal_values, md5_of, normalize, row_hash};
use super::plan::{Plan, Strategy};
use super::sql;
use crate::db::{Db, Dialect, Value};
use crate::error::{Error, ErrorKind, Result};
use crate::vocab::{Progress, ProgressMeter};
use buckets::{Agg, aggregate, differing, estimate_rows, level1_buckets, rows_in_fn};
use futures::StreamExt;
use merge::{Counter, check_unique, merge};
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use side::Side;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use stream::{Puller, fetch, sorted};
use tokio::sync::mpsc;

/// Rows fetched from differing buckets before the diff prefers a second bucket level
/// or the streaming merge.
pub const FETCH_ROWS: u64 = 100_000;
/// Above this share of differing buckets, changes are "scattered": merge instead.
pub const SCATTERED: f64 = 0.5;
/// Rows cutover may hold while it buckets a side itself (SQLite) before preferring a merge.
pub const HELD_ROWS: u64 = 1_000_000;
const BATCH: usize = 2048;

/// One difference between the two sides. Rows hold raw values in plan column order.
#[derive(Debug, Clone)]
pub enum Difference {
    OnlyInSource {
        row: Vec<Value>,
        /// >1 in a multiset compare: that many more copies in the source.
        count: u64,
    },
    OnlyInTarget {
        row: Vec<Value>,
        count: u64,
    },
    Changed {
        source: Vec<Value>,
        target: Vec<Value>,
        /// Indexes (into the plan's columns) of the differing columns.
        columns: Vec<usize>,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Stats {
    /// `buckets`, `buckets+merge`, `merge`.
    pub strategy: String,
    /// Where row hashes were computed: `databases`, `cutover` or `mixed`.
    pub hashed_in: String,
    pub levels: u32,
    pub buckets: u64,
    pub differing_buckets: u64,
    /// Rows downloaded to compare value by value (both sides).
    pub rows_fetched: u64,
    /// The row hash: `hash_record_extended` or `crc32+crc32c` (each engine's own, both
    /// sides the same engine), `md5` (portable), empty when nothing was hashed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
    /// How the databases read the rows they hashed, when not by the key: `pages`
    /// (PostgreSQL's storage pages, a slice at a time), `keys+pages` (by key ranges
    /// until differences proved dense, then by pages), `keys+pages total` (the first
    /// and last key ranges equal, then the whole table found equal by one count and
    /// sum a side, read by pages), `keys+pages total+keys` / `keys+pages total+pages`
    /// (that total differed: then by key ranges, or by pages once dense).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scan: String,
    /// Key ranges (chunks) found equal by one row count and hash sum a side, with no
    /// buckets.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub whole_chunks: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Summary {
    pub source_table: String,
    pub target_table: String,
    pub key: Vec<String>,
    pub multiset: bool,
    pub source_rows: u64,
    pub target_rows: u64,
    pub only_in_source: u64,
    pub only_in_target: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// Multiset compare: differing rows that exist more than once on a side.
    pub duplicate_rows: u64,
    /// Changed rows per column.
    pub column_changes: BTreeMap<String, u64>,
    pub columns: Vec<ColumnPlan>,
    pub notes: Vec<String>,
    pub stats: Stats,
    pub elapsed_ms: u64,
}

impl Summary {
    pub fn equal(&self) -> bool {
        self.only_in_source == 0 && self.only_in_target == 0 && self.changed == 0
    }
    pub fn differences(&self) -> u64 {
        self.only_in_source + self.only_in_target + self.changed
    }
}

/// Receives differences as they are found (bounded memory: nothing is kept here).
pub trait DiffSink: Send {
    fn difference(&mut self, plan: &Plan, d: Difference) -> Result<()>;
}

/// Collects every difference (tests, small tables).
#[derive(Default)]
pub struct Collect(pub Vec<Difference>);
impl DiffSink for Collect {
    fn difference(&mut self, _plan: &Plan, d: Difference) -> Result<()> {
        self.0.push(d);
        Ok(())
    }
}

type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// Compare the two tables; every difference goes to `sink`; returns the summary.
pub async fn diff(
    source: &Db,
    target: &Db,
    plan: Plan,
    sink: &mut dyn DiffSink,
    progress: ProgressFn<'_>,
) -> Result<Summary> {
    let strategy = plan.strategy;
    let started = std::time::Instant::now();
    let plan = Arc::new(plan);
    let mut s = Side::new(source, &plan, true);
    let mut t = Side::new(target, &plan, false);
    tokio::join!(sqlite_local::locate(&mut s), sqlite_local::locate(&mut t));
    check_unique(&s, &t, &plan).await?;
    let native = native_hash(&s, &t, &plan).await;
    if native.is_some() {
        s.hash = sql::RowHash::Native;
        t.hash = sql::RowHash::Native;
    }
    let hash_name = native.unwrap_or("md5").to_string();
    let mut summary = Summary {
        source_table: plan.source_table.clone(),
        target_table: plan.target_table.clone(),
        key: plan.key_names(),
        multiset: plan.multiset,
        columns: plan.columns.clone(),
        notes: plan.notes.clone(),
        ..Default::default()
    };
    summary.stats.hashed_in = match (s.server, t.server) {
        (true, true) => "databases",
        (false, false) => "cutover",
        _ => "mixed",
    }
    .into();
    let mut stats = Stats {
        hashed_in: summary.stats.hashed_in.clone(),
        ..Default::default()
    };

    // a SQLite side is read whole by cutover whatever the strategy: merge at once
    let sqlite_side = s.local.is_some() || t.local.is_some();
    let merge_now = strategy == Some(Strategy::Merge)
        || ((!plan.pushdown || sqlite_side) && !plan.multiset && strategy.is_none());
    let ranges = if merge_now {
        None
    } else {
        ranges::plan(&s, &t, &plan).await?
    };
    if merge_now {
        stats.strategy = "merge".into();
        // rows expected, so the merge's progress has a total (a percentage and an ETA)
        let (es, et) = tokio::join!(expected_rows(&s, &plan), expected_rows(&t, &plan));
        let total = es.zip(et).map(|(a, b)| a + b);
        if !sqlite_local::merge_files(&s, &t, &plan, &mut summary, sink, progress, total).await? {
            merge(&s, &t, &plan, &mut summary, sink, progress, total).await?;
        }
    } else if let Some(r) = &ranges {
        stats.strategy = "buckets".into();
        stats.hash = hash_name.clone();
        let mut counter = Counter {
            summary: &mut summary,
            sink,
            plan: &plan,
            unpaired: None,
        };
        let may_merge = strategy != Some(Strategy::Buckets);
        let (rs, rt) = ranges::run(
            &s,
            &t,
            &plan,
            r,
            &mut counter,
            &mut stats,
            progress,
            may_merge,
        )
        .await?;
        summary.source_rows = rs;
        summary.target_rows = rt;
    } else {
        stats.hash = hash_name.clone();
        // level 1: about 40 rows per bucket by the catalog's row estimate
        let (ea, eb) = tokio::join!(estimate_rows(&s), estimate_rows(&t));
        let level1 = level1_buckets(ea.into_iter().chain(eb).max().unwrap_or(0));
        let level2 = level1 * 61;
        let (a, b) = slices::level1(&s, &t, &plan, level1, (ea, eb), progress).await?;
        summary.source_rows = a.values().map(|x| x.0).sum();
        summary.target_rows = b.values().map(|x| x.0).sum();
        stats.levels = 1;
        let (mut diff_set, all) = differing(&a, &b);
        stats.buckets = all;
        stats.differing_buckets = diff_set.len() as u64;
        let mut modulus = level1;
        let mut rows_in = rows_in_fn(&diff_set, &a, &b);
        // rows cutover must hold when it buckets a side itself (SQLite)
        let held = |set: &[i64], a: &Agg, b: &Agg| {
            set.iter()
                .map(|k| {
                    (if s.server {
                        0
                    } else {
                        a.get(k).map(|x| x.0).unwrap_or(0)
                    }) + (if t.server {
                        0
                    } else {
                        b.get(k).map(|x| x.0).unwrap_or(0)
                    })
                })
                .sum::<u64>()
        };
        let share = |d: usize, all: u64| if all == 0 { 0.0 } else { d as f64 / all as f64 };
        let may_merge = strategy != Some(Strategy::Buckets) && !plan.multiset;
        let mut use_merge =
            may_merge && rows_in > FETCH_ROWS && all > 8 && share(diff_set.len(), all) > SCATTERED;
        let fetch_now = rows_in <= FETCH_ROWS
            || (share(diff_set.len(), all) <= 0.1 && held(&diff_set, &a, &b) <= HELD_ROWS);
        if !diff_set.is_empty() && !use_merge && !fetch_now {
            // level 2 inside the differing buckets
            let (a2, b2) = tokio::try_join!(
                aggregate(&s, &plan, level2, Some((level1, &diff_set)), None),
                aggregate(&t, &plan, level2, Some((level1, &diff_set)), None)
            )?;
            stats.levels = 2;
            let (d2, all2) = differing(&a2, &b2);
            stats.buckets += all2;
            stats.differing_buckets = d2.len() as u64;
            rows_in = rows_in_fn(&d2, &a2, &b2);
            use_merge = may_merge
                && rows_in > FETCH_ROWS
                && (share(d2.len(), all2) > SCATTERED || held(&d2, &a2, &b2) > HELD_ROWS);
            diff_set = d2;
            modulus = level2;
        }
        if diff_set.is_empty() {
            stats.strategy = "buckets".into();
        } else if use_merge {
            stats.strategy = "buckets+merge".into();
            let (rs, rt) = (summary.source_rows, summary.target_rows);
            merge(&s, &t, &plan, &mut summary, sink, progress, Some(rs + rt)).await?;
            summary.source_rows = rs;
            summary.target_rows = rt;
        } else {
            stats.strategy = "buckets".into();
            let set = Arc::new(diff_set);
            let mut ps = Puller::new(fetch(&s, &plan, modulus, set.clone()));
            let mut pt = Puller::new(fetch(&t, &plan, modulus, set));
            let mut meter = ProgressMeter::new("rows", Some(rows_in));
            let mut counter = Counter {
                summary: &mut summary,
                sink,
                plan: &plan,
                unpaired: (!plan.multiset).then(Default::default),
            };
            let mut fetched = 0u64;
            loop {
                let bs = ps.peek().await?.map(|x| x.0);
                let bt = pt.peek().await?.map(|x| x.0);
                let b = match (bs, bt) {
                    (None, None) => break,
                    (Some(x), None) | (None, Some(x)) => x,
                    (Some(x), Some(y)) => x.min(y),
                };
                let mut src = Vec::new();
                while ps.peek().await?.map(|x| x.0) == Some(b) {
                    src.push(ps.next().await?.expect("peeked").1);
                }
                let mut tgt = Vec::new();
                while pt.peek().await?.map(|x| x.0) == Some(b) {
                    tgt.push(pt.next().await?.expect("peeked").1);
                }
                fetched += (src.len() + tgt.len()) as u64;
                counter.bucket(src, tgt)?;
                if let Some(p) = meter.tick(fetched, false) {
                    progress(p);
                }
            }
            counter.settle()?;
            if let Some(p) = meter.tick(fetched, true) {
                progress(p);
            }
            stats.rows_fetched = fetched;
        }
    }
    if ranges.is_none() && (stats.strategy == "merge" || stats.strategy == "buckets+merge") {
        stats.rows_fetched = summary.source_rows + summary.target_rows;
    }
    summary.unchanged = summary
        .source_rows
        .saturating_sub(summary.only_in_source + summary.changed);
    summary.stats = stats;
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(summary)
}

/// Rows one side is expected to hold: the catalog's estimate on a server, a count of
/// a SQLite file's rows (cheap: SQLite counts through its smallest b-tree); None when
/// unknown (a table never analyzed).
async fn expected_rows(side: &Side, plan: &Plan) -> Option<u64> {
    if side.local.is_none() {
        return if plan.where_sql.is_none() {
            estimate_rows(side).await
        } else {
            None
        };
    }
    let sql = format!(
        "SELECT COUNT(*) FROM {}{}",
        side.table,
        side.where_clause(plan, None)
    );
    let r = side.db.query(&sql, &[]).await.ok()?;
    r.scalar()
        .and_then(Value::as_i64)
        .and_then(|n| u64::try_from(n).ok())
}

/// The engine's own row hash when both sides are that engine, hashed in the database
/// with nothing converted between engines, and the server has it (probed): its name.
async fn native_hash(s: &Side, t: &Side, plan: &Plan) -> Option<&'static str> {
    if !(s.server && t.server) || s.dialect != t.dialect || plan.portable_hash {
        return None;
    }
    let (name, probe) = s.dialect.sql().native_hash()?;
    let (a, b) = tokio::join!(s.db.query(probe, &[]), t.db.query(probe, &[]));
    let yes = |r: Result<crate::db::Rows>| {
        r.ok()
            .and_then(|r| r.scalar().cloned())
            .is_some_and(|v| matches!(v, Value::Bool(true)) || v.as_i64() == Some(1))
    };
    (yes(a) && yes(b)).then_some(name)
}

/// True when the error means the diff could not run (not a difference).
pub fn is_runtime(e: &Error) -> bool {
    e.kind == ErrorKind::Runtime
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_level_buckets_hold_about_forty_rows() {
        assert_eq!(level1_buckets(0), 4093);
        assert_eq!(level1_buckets(1_000_000), 65521);
        assert_eq!(level1_buckets(10_000_000), 262139);
        assert_eq!(level1_buckets(u64::MAX), 262139);
    }
}
