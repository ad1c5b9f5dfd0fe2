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

use super::normalize::{ColumnPlan, Norm, equal_with_tolerance, md5_of, normalize, row_hash};
use super::plan::{Plan, Strategy};
use super::sql;
use crate::db::{Db, Dialect, Value};
use crate::error::{Error, ErrorKind, Result};
use crate::vocab::{Progress, ProgressMeter};
use futures::StreamExt;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
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

#[derive(Debug, Clone, Default, Serialize)]
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
}

#[derive(Debug, Clone, Default, Serialize)]
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

struct Side {
    db: Db,
    dialect: Dialect,
    table: String,
    /// The table name as given (catalog lookups).
    table_name: String,
    /// Quoted column names in plan order.
    cols: Vec<String>,
    natives: Vec<sql::Native>,
    /// Does this database compute hashes itself?
    server: bool,
    is_source: bool,
}

impl Side {
    fn new(db: &Db, plan: &Plan, is_source: bool) -> Side {
        let d = db.dialect();
        let cols = plan
            .columns
            .iter()
            .map(|c| d.quote_ident(if is_source { &c.name } else { &c.target_name }))
            .collect();
        let natives = plan
            .columns
            .iter()
            .map(|c| sql::Native::of(c, is_source))
            .collect();
        Side {
            db: db.clone(),
            dialect: d,
            table: d.quote_qualified(if is_source {
                &plan.source_table
            } else {
                &plan.target_table
            }),
            table_name: if is_source {
                plan.source_table.clone()
            } else {
                plan.target_table.clone()
            },
            cols,
            natives,
            server: plan.pushdown && d.sql().hashes_in_sql(),
            is_source,
        }
    }
    fn name(&self) -> &'static str {
        if self.is_source { "source" } else { "target" }
    }
    fn triples<'p>(&self, plan: &'p Plan, range: std::ops::Range<usize>) -> Vec<sql::Col<'p>> {
        range
            .map(|i| (self.cols[i].clone(), &plan.columns[i], self.natives[i]))
            .collect()
    }
    fn bucket_sql(&self, plan: &Plan, modulus: i64) -> String {
        sql::bucket(
            self.dialect,
            &self.triples(plan, bucket_range(plan)),
            modulus,
        )
    }
    fn where_clause(&self, plan: &Plan, extra: Option<String>) -> String {
        let mut parts = Vec::new();
        if let Some(w) = &plan.where_sql {
            parts.push(format!("({w})"));
        }
        if let Some(e) = extra {
            parts.push(e);
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", parts.join(" AND "))
        }
    }
    fn select_cols(&self) -> String {
        self.cols.join(", ")
    }
}

fn bucket_range(plan: &Plan) -> std::ops::Range<usize> {
    if plan.multiset {
        0..plan.columns.len()
    } else {
        0..plan.key_len
    }
}

use super::sql::{NULL_BUCKET, in_list};

fn norms(plan: &Plan, row: &[Value]) -> Vec<Norm> {
    plan.columns
        .iter()
        .zip(row)
        .map(|(p, v)| normalize(v, p))
        .collect()
}

/// The bucket cutover computes for a normalized row (same as `sql::bucket`).
fn bucket_of(plan: &Plan, n: &[Norm], modulus: i64) -> i64 {
    let r = bucket_range(plan);
    let keys: Vec<&ColumnPlan> = plan.columns[r.clone()].iter().collect();
    if sql::int_bucketing(&keys) {
        return match &n[0] {
            Norm::Int(i) => (*i % modulus as i128) as i64,
            Norm::Null => NULL_BUCKET,
            _ => NULL_BUCKET + 1,
        };
    }
    let d = md5_of(&n[r]);
    (u32::from_be_bytes(d[..4].try_into().expect("4 bytes")) as i64) % modulus
}

fn as_bucket(v: &Value) -> i64 {
    match v {
        Value::Null => NULL_BUCKET,
        other => other.as_i64().unwrap_or(NULL_BUCKET + 1),
    }
}

fn as_u64_mod(v: &Value) -> u64 {
    match v {
        Value::Int(i) => *i as u64,
        Value::UInt(u) => *u,
        Value::Decimal(d) => d.trunc().to_i128().map(|x| x as u64).unwrap_or(0),
        Value::Text(s) => s.parse::<i128>().map(|x| x as u64).unwrap_or(0),
        _ => 0,
    }
}

type Agg = HashMap<i64, (u64, u64)>;

/// Per-bucket (count, hash sum) of one side; `within` restricts to buckets of the
/// previous level.
async fn aggregate(
    side: &Side,
    plan: &Plan,
    modulus: i64,
    within: Option<(i64, &[i64])>,
) -> Result<Agg> {
    let mut out: Agg = HashMap::new();
    if side.server {
        let sql = sql::aggregate_sql(
            side.dialect,
            &side.triples(plan, 0..plan.columns.len()),
            bucket_range(plan),
            modulus,
            &side.table,
            &side.where_clause(plan, None),
            within,
        );
        // room for every bucket in memory: a spilling hash aggregate doubles the scan
        let setup = side.dialect.sql().aggregate_setup();
        let rows = side
            .db
            .query_with_setup(&setup, &sql)
            .await
            .map_err(|e| e.context(side.name()))?;
        for r in rows.rows {
            let b = as_bucket(&r[0]);
            let n = r[1].as_i64().unwrap_or(0) as u64;
            let e = out.entry(b).or_insert((0, 0));
            e.0 += n;
            e.1 = e.1.wrapping_add(as_u64_mod(&r[2]));
        }
        return Ok(out);
    }
    let sql = format!(
        "SELECT {} FROM {}{}",
        side.select_cols(),
        side.table,
        side.where_clause(plan, None)
    );
    let set: Option<(i64, HashSet<i64>)> = within.map(|(m, s)| (m, s.iter().copied().collect()));
    let mut st = side.db.stream(sql, Vec::new());
    while let Some(r) = st.next().await {
        let r = r.map_err(|e| e.context(side.name()))?;
        let n = norms(plan, &r);
        if let Some((m, s)) = &set
            && !s.contains(&bucket_of(plan, &n, *m))
        {
            continue;
        }
        let b = bucket_of(plan, &n, modulus);
        let h = row_hash(&n);
        let e = out.entry(b).or_insert((0, 0));
        e.0 += 1;
        e.1 = e.1.wrapping_add(h);
    }
    Ok(out)
}

struct Item {
    raw: Vec<Value>,
    norms: Vec<Norm>,
}

/// Stream `(bucket, row)` of the rows in `set` buckets, in bucket order, from a task.
fn fetch(
    side: &Side,
    plan: &Arc<Plan>,
    modulus: i64,
    set: Arc<Vec<i64>>,
) -> mpsc::Receiver<Result<Vec<(i64, Item)>>> {
    let (tx, rx) = mpsc::channel(4);
    let db = side.db.clone();
    let plan = plan.clone();
    let name = side.name();
    let server = side.dialect.sql().hashes_in_sql();
    let bucket_sql = side.bucket_sql(&plan, modulus);
    let sql = if server && side.server {
        let order = side.dialect.sql().nulls_first("1");
        format!(
            "SELECT {bucket_sql} AS b, {} FROM {}{} ORDER BY {order}",
            side.select_cols(),
            side.table,
            side.where_clause(&plan, Some(in_list(&bucket_sql, &set)))
        )
    } else {
        format!(
            "SELECT {} FROM {}{}",
            side.select_cols(),
            side.table,
            side.where_clause(&plan, None)
        )
    };
    let in_db = server && side.server;
    tokio::spawn(async move {
        let mut st = db.stream(sql, Vec::new());
        if in_db {
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(r) = st.next().await {
                match r {
                    Ok(mut row) => {
                        let b = as_bucket(&row[0]);
                        row.remove(0);
                        let n = norms(&plan, &row);
                        batch.push((b, Item { raw: row, norms: n }));
                        if batch.len() >= BATCH
                            && tx.send(Ok(std::mem::take(&mut batch))).await.is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.context(name))).await;
                        return;
                    }
                }
            }
            let _ = tx.send(Ok(batch)).await;
        } else {
            // cutover computes the buckets: keep the selected rows, then hand them over sorted
            let want: HashSet<i64> = set.iter().copied().collect();
            let mut kept: BTreeMap<i64, Vec<Item>> = BTreeMap::new();
            while let Some(r) = st.next().await {
                match r {
                    Ok(row) => {
                        let n = norms(&plan, &row);
                        let b = bucket_of(&plan, &n, modulus);
                        if want.contains(&b) {
                            kept.entry(b).or_default().push(Item { raw: row, norms: n });
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.context(name))).await;
                        return;
                    }
                }
            }
            let mut batch = Vec::with_capacity(BATCH);
            for (b, items) in kept {
                for it in items {
                    batch.push((b, it));
                }
                if batch.len() >= BATCH && tx.send(Ok(std::mem::take(&mut batch))).await.is_err() {
                    return;
                }
            }
            let _ = tx.send(Ok(batch)).await;
        }
    });
    rx
}

/// Stream rows sorted by key (or by every column for a multiset), from a task.
fn sorted(side: &Side, plan: &Arc<Plan>) -> mpsc::Receiver<Result<Vec<Item>>> {
    let (tx, rx) = mpsc::channel(4);
    let order_cols = if plan.multiset {
        plan.columns.len()
    } else {
        plan.key_len
    };
    let order: Vec<String> = (0..order_cols)
        .map(|i| {
            sql::order_term(
                side.dialect,
                &side.cols[i],
                &plan.columns[i],
                side.natives[i],
            )
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM {}{} ORDER BY {}",
        side.select_cols(),
        side.table,
        side.where_clause(plan, None),
        order.join(", ")
    );
    let db = side.db.clone();
    let plan = plan.clone();
    let name = side.name();
    tokio::spawn(async move {
        let mut st = db.stream(sql, Vec::new());
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(r) = st.next().await {
            match r {
                Ok(row) => {
                    let n = norms(&plan, &row);
                    batch.push(Item { raw: row, norms: n });
                    if batch.len() >= BATCH
                        && tx.send(Ok(std::mem::take(&mut batch))).await.is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e.context(name))).await;
                    return;
                }
            }
        }
        let _ = tx.send(Ok(batch)).await;
    });
    rx
}

/// Pulls items one at a time out of a batched channel.
struct Puller<T> {
    rx: mpsc::Receiver<Result<Vec<T>>>,
    buf: std::collections::VecDeque<T>,
    done: bool,
}

impl<T> Puller<T> {
    fn new(rx: mpsc::Receiver<Result<Vec<T>>>) -> Self {
        Puller {
            rx,
            buf: Default::default(),
            done: false,
        }
    }
    async fn fill(&mut self) -> Result<()> {
        while self.buf.is_empty() && !self.done {
            match self.rx.recv().await {
                Some(Ok(b)) => self.buf.extend(b),
                Some(Err(e)) => return Err(e),
                None => self.done = true,
            }
        }
        Ok(())
    }
    async fn peek(&mut self) -> Result<Option<&T>> {
        self.fill().await?;
        Ok(self.buf.front())
    }
    async fn next(&mut self) -> Result<Option<T>> {
        self.fill().await?;
        Ok(self.buf.pop_front())
    }
}

fn key_text(plan: &Plan, raw: &[Value], range: std::ops::Range<usize>) -> String {
    range
        .map(|i| format!("{} = {}", plan.columns[i].name, raw[i]))
        .collect::<Vec<_>>()
        .join(", ")
}

fn duplicate_key(plan: &Plan, side: &str, raw: &[Value]) -> Error {
    Error::bad_input(format!(
        "the key ({}) is not unique in the {side} table \"{}\": e.g. {} appears more than once",
        plan.key_names().join(", "),
        if side == "source" {
            &plan.source_table
        } else {
            &plan.target_table
        },
        key_text(plan, raw, 0..plan.key_len)
    ))
    .with_hint("give a unique --key, or no key to compare the rows as a multiset")
}

struct Counter<'a> {
    summary: &'a mut Summary,
    sink: &'a mut dyn DiffSink,
    plan: &'a Plan,
}

impl Counter<'_> {
    fn only_source(&mut self, row: Vec<Value>, count: u64) -> Result<()> {
        self.summary.only_in_source += count;
        self.sink
            .difference(self.plan, Difference::OnlyInSource { row, count })
    }
    fn only_target(&mut self, row: Vec<Value>, count: u64) -> Result<()> {
        self.summary.only_in_target += count;
        self.sink
            .difference(self.plan, Difference::OnlyInTarget { row, count })
    }
    /// Compare two rows with the same key.
    fn pair(&mut self, s: Item, t: Item) -> Result<()> {
        let mut cols = Vec::new();
        for i in self.plan.key_len..self.plan.columns.len() {
            if !equal_with_tolerance(&self.plan.columns[i], &s.norms[i], &t.norms[i]) {
                cols.push(i);
            }
        }
        if cols.is_empty() {
            return Ok(());
        }
        self.summary.changed += 1;
        for i in &cols {
            *self
                .summary
                .column_changes
                .entry(self.plan.columns[*i].name.clone())
                .or_insert(0) += 1;
        }
        self.sink.difference(
            self.plan,
            Difference::Changed {
                source: s.raw,
                target: t.raw,
                columns: cols,
            },
        )
    }
    /// Compare the rows of one bucket.
    fn bucket(&mut self, src: Vec<Item>, tgt: Vec<Item>) -> Result<()> {
        if self.plan.multiset {
            let mut m: HashMap<Vec<Norm>, (u64, u64, Vec<Value>)> = HashMap::new();
            for it in src {
                let e = m.entry(it.norms).or_insert((0, 0, it.raw));
                e.0 += 1;
            }
            for it in tgt {
                let e = m.entry(it.norms).or_insert((0, 0, it.raw));
                e.1 += 1;
            }
            let mut rows: Vec<_> = m.into_iter().collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            for (_, (cs, ct, raw)) in rows {
                self.multiset_pair(raw, cs, ct)?;
            }
            return Ok(());
        }
        let k = self.plan.key_len;
        let mut m: HashMap<Vec<Norm>, Item> = HashMap::with_capacity(src.len());
        for it in src {
            let key = it.norms[..k].to_vec();
            if m.contains_key(&key) {
                return Err(duplicate_key(self.plan, "source", &it.raw));
            }
            m.insert(key, it);
        }
        let mut seen: HashSet<Vec<Norm>> = HashSet::new();
        let mut tgt = tgt;
        tgt.sort_by(|a, b| a.norms[..k].cmp(&b.norms[..k]));
        for it in tgt {
            let key = it.norms[..k].to_vec();
            if !seen.insert(key.clone()) {
                return Err(duplicate_key(self.plan, "target", &it.raw));
            }
            match m.remove(&key) {
                Some(s) => self.pair(s, it)?,
                None => self.only_target(it.raw, 1)?,
            }
        }
        let mut rest: Vec<(Vec<Norm>, Item)> = m.into_iter().collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, it) in rest {
            self.only_source(it.raw, 1)?;
        }
        Ok(())
    }
    fn multiset_pair(&mut self, raw: Vec<Value>, cs: u64, ct: u64) -> Result<()> {
        if cs != ct && (cs > 1 || ct > 1) {
            self.summary.duplicate_rows += 1;
        }
        if cs > ct {
            self.only_source(raw, cs - ct)
        } else if ct > cs {
            self.only_target(raw, ct - cs)
        } else {
            Ok(())
        }
    }
}

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
    let s = Side::new(source, &plan, true);
    let t = Side::new(target, &plan, false);
    check_unique(&s, &t, &plan).await?;
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

    let merge_now = strategy == Some(Strategy::Merge)
        || (!plan.pushdown && !plan.multiset && strategy.is_none());
    if merge_now {
        stats.strategy = "merge".into();
        merge(&s, &t, &plan, &mut summary, sink, progress, None).await?;
    } else {
        // level 1: about 40 rows per bucket by the catalog's row estimate
        let (ea, eb) = tokio::join!(estimate_rows(&s), estimate_rows(&t));
        let level1 = level1_buckets(ea.into_iter().chain(eb).max().unwrap_or(0));
        let level2 = level1 * 61;
        let mut seg_meter = ProgressMeter::new("segments", Some(2));
        let (a, b) = tokio::try_join!(
            aggregate(&s, &plan, level1, None),
            aggregate(&t, &plan, level1, None)
        )?;
        if let Some(p) = seg_meter.tick(2, true) {
            progress(p);
        }
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
                aggregate(&s, &plan, level2, Some((level1, &diff_set))),
                aggregate(&t, &plan, level2, Some((level1, &diff_set)))
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
            if let Some(p) = meter.tick(fetched, true) {
                progress(p);
            }
            stats.rows_fetched = fetched;
        }
    }
    if stats.strategy == "merge" || stats.strategy == "buckets+merge" {
        stats.rows_fetched = summary.source_rows + summary.target_rows;
    }
    summary.unchanged = summary
        .source_rows
        .saturating_sub(summary.only_in_source + summary.changed);
    summary.stats = stats;
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(summary)
}

fn differing(a: &Agg, b: &Agg) -> (Vec<i64>, u64) {
    let mut keys: HashSet<i64> = a.keys().copied().collect();
    keys.extend(b.keys().copied());
    let all = keys.len() as u64;
    let mut d: Vec<i64> = keys.into_iter().filter(|k| a.get(k) != b.get(k)).collect();
    d.sort();
    (d, all)
}

/// The catalog's row estimate of a server table (None for SQLite or when unknown).
async fn estimate_rows(side: &Side) -> Option<u64> {
    let (sql, name) = side
        .dialect
        .sql()
        .row_estimate(&side.table, &side.table_name)?;
    let r = side.db.query(sql, &[Value::Text(name)]).await.ok()?;
    r.scalar()
        .and_then(Value::as_i64)
        .and_then(|n| u64::try_from(n).ok())
}

/// First-level bucket count: a prime giving about 40 rows per bucket.
fn level1_buckets(rows: u64) -> i64 {
    const PRIMES: [i64; 5] = [4093, 16381, 65521, 262139, 1048573];
    PRIMES
        .into_iter()
        .find(|p| *p as u64 * 40 >= rows)
        .unwrap_or(PRIMES[PRIMES.len() - 1])
}

fn rows_in_fn(set: &[i64], a: &Agg, b: &Agg) -> u64 {
    set.iter()
        .map(|k| a.get(k).map(|x| x.0).unwrap_or(0) + b.get(k).map(|x| x.0).unwrap_or(0))
        .sum()
}

/// With a key given by the user that no unique index guarantees, look for a duplicate.
async fn check_unique(s: &Side, t: &Side, plan: &Plan) -> Result<()> {
    for (side, need) in [(s, plan.check_unique.0), (t, plan.check_unique.1)] {
        if !need || plan.multiset {
            continue;
        }
        let terms: Vec<String> = (0..plan.key_len)
            .map(|i| sql::exact_term(side.dialect, &side.cols[i], &plan.columns[i]))
            .collect();
        let sql = format!(
            "SELECT {}, COUNT(*) FROM {}{} GROUP BY {} HAVING COUNT(*) > 1 LIMIT 1",
            side.cols[..plan.key_len]
                .iter()
                .map(|c| format!("MIN({c})"))
                .collect::<Vec<_>>()
                .join(", "),
            side.table,
            side.where_clause(plan, None),
            terms.join(", ")
        );
        let rows = side
            .db
            .query(&sql, &[])
            .await
            .map_err(|e| e.context(side.name()))?;
        if let Some(r) = rows.rows.first() {
            return Err(Error::bad_input(format!(
                "the key ({}) is not unique in the {} table \"{}\": e.g. {} appears {} times",
                plan.key_names().join(", "),
                side.name(),
                if side.is_source {
                    &plan.source_table
                } else {
                    &plan.target_table
                },
                key_text(plan, r, 0..plan.key_len),
                r[plan.key_len]
            ))
            .with_hint("give a unique --key, or no key to compare the rows as a multiset"));
        }
    }
    Ok(())
}

/// One streaming sorted merge of both sides.
async fn merge(
    s: &Side,
    t: &Side,
    plan: &Arc<Plan>,
    summary: &mut Summary,
    sink: &mut dyn DiffSink,
    progress: ProgressFn<'_>,
    total: Option<u64>,
) -> Result<()> {
    let mut ps = Puller::new(sorted(s, plan));
    let mut pt = Puller::new(sorted(t, plan));
    let k = if plan.multiset {
        plan.columns.len()
    } else {
        plan.key_len
    };
    let mut meter = ProgressMeter::new("rows", total);
    let (mut ns, mut nt) = (0u64, 0u64);
    let mut last_s: Option<Vec<Norm>> = None;
    let mut last_t: Option<Vec<Norm>> = None;
    let mut counter = Counter {
        summary,
        sink,
        plan,
    };
    let order_err = |side: &str| {
        Error::runtime(format!(
            "rows of the {side} arrive out of key order: the database sorts the key differently from cutover"
        ))
        .with_hint("use --key with columns of plain integer or text types")
    };
    loop {
        let ks = ps.peek().await?.map(|x| x.norms[..k].to_vec());
        let kt = pt.peek().await?.map(|x| x.norms[..k].to_vec());
        let ord = match (&ks, &kt) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(a), Some(b)) => a.cmp(b),
        };
        if ord != std::cmp::Ordering::Greater {
            let key = ks.clone().expect("present");
            if let Some(l) = &last_s {
                if *l == key && !plan.multiset {
                    let it = ps.next().await?.expect("peeked");
                    return Err(duplicate_key(plan, "source", &it.raw));
                }
                if *l > key {
                    return Err(order_err("source"));
                }
            }
            last_s = Some(key);
        }
        if ord != std::cmp::Ordering::Less {
            let key = kt.clone().expect("present");
            if let Some(l) = &last_t {
                if *l == key && !plan.multiset {
                    let it = pt.next().await?.expect("peeked");
                    return Err(duplicate_key(plan, "target", &it.raw));
                }
                if *l > key {
                    return Err(order_err("target"));
                }
            }
            last_t = Some(key);
        }
        if plan.multiset {
            let key = if ord != std::cmp::Ordering::Greater {
                ks.expect("present")
            } else {
                kt.expect("present")
            };
            let mut raw = None;
            let (mut cs, mut ct) = (0u64, 0u64);
            if ord != std::cmp::Ordering::Greater {
                while ps.peek().await?.map(|x| x.norms[..k] == key[..]) == Some(true) {
                    raw = Some(ps.next().await?.expect("peeked").raw);
                    cs += 1;
                }
            }
            if ord != std::cmp::Ordering::Less {
                while pt.peek().await?.map(|x| x.norms[..k] == key[..]) == Some(true) {
                    raw = Some(pt.next().await?.expect("peeked").raw);
                    ct += 1;
                }
            }
            ns += cs;
            nt += ct;
            counter.multiset_pair(raw.expect("one row"), cs, ct)?;
        } else {
            match ord {
                std::cmp::Ordering::Less => {
                    let it = ps.next().await?.expect("peeked");
                    ns += 1;
                    counter.only_source(it.raw, 1)?;
                }
                std::cmp::Ordering::Greater => {
                    let it = pt.next().await?.expect("peeked");
                    nt += 1;
                    counter.only_target(it.raw, 1)?;
                }
                std::cmp::Ordering::Equal => {
                    let a = ps.next().await?.expect("peeked");
                    let b = pt.next().await?.expect("peeked");
                    ns += 1;
                    nt += 1;
                    counter.pair(a, b)?;
                }
            }
        }
        if let Some(p) = meter.tick(ns + nt, false) {
            progress(p);
        }
    }
    if let Some(p) = meter.tick(ns + nt, true) {
        progress(p);
    }
    counter.summary.source_rows = ns;
    counter.summary.target_rows = nt;
    Ok(())
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
        assert_eq!(level1_buckets(u64::MAX), 1048573);
    }

    #[test]
    fn in_lists_keep_the_null_bucket() {
        assert_eq!(in_list("b", &[1, 2]), "b IN (1,2)");
        assert_eq!(in_list("b", &[NULL_BUCKET]), "b IS NULL");
        assert_eq!(in_list("b", &[NULL_BUCKET, 3]), "(b IN (3) OR b IS NULL)");
        assert_eq!(in_list("b", &[]), "1 = 0");
    }
}
