//! A table with one integer key, hashed range by range of its key.
//!
//! The key's span (from both sides' MIN and MAX, two index lookups) is cut into buckets
//! of `width` consecutive key values, about 40 rows each by the catalog's estimate, and
//! the buckets into chunks of [`CHUNK_BUCKETS`]. Chunk by chunk, both databases return
//! each bucket's row count and hash sum over an index range of the key (a sequential
//! read of a table clustered on it); the differing buckets' rows are then streamed in
//! key order from both sides and merged. So progress is real from the first chunk
//! (rows hashed of the estimate), and memory holds one chunk's buckets whatever the
//! table size or the density of differences.
//!
//! Where both sides can be read by storage pages (PostgreSQL), the buckets are hashed
//! instead by slices of each side's pages (a TID range scan each, several at once),
//! which reads a table faster than its key index does: each side's bucket sums are then
//! held for the whole key span (at most [`PAGE_BUCKETS`] buckets, 4 MiB a side), and
//! compared and merged chunk by chunk as above. The buckets are the same either way, so
//! the differences found are too.

use super::buckets::{Agg, differing};
use super::merge::{Counter, duplicate_key};
use super::side::{as_bucket, as_u64_mod};
use super::slices::page_slices;
use super::stream::{Item, Puller, sorted_where, sorted_where_by};
use super::*;
use crate::data::normalize::Class;
use crate::data::sql::range_aggregate_sql;

/// Buckets per chunk: about 80,000 rows, a tenth of a second of hashing per side.
pub(super) const CHUNK_BUCKETS: i64 = 2048;
/// At most this many chunks, whatever the key's span.
const MAX_CHUNKS: i128 = 4096;
/// Keys beyond ±2^62 are left to the modulo buckets (no overflow in `k - origin`).
const KEY_LIMIT: i128 = 1 << 62;
/// Chunks hashed at once on each side.
const IN_FLIGHT: usize = 2;
/// A chunk with more than this share of differing buckets is merged whole.
const WHOLE_CHUNK: f64 = 0.25;
/// Page slices hashed at once on each side: three, as many processes as PostgreSQL's
/// own parallel scan of a table (a leader and two workers) would use.
const PAGE_IN_FLIGHT: usize = 3;
/// At most this many buckets when hashed by pages (each side holds all of them).
const PAGE_BUCKETS: i128 = 1 << 18;

pub(super) struct Ranges {
    origin: i64,
    /// Key values per bucket.
    width: i64,
    /// One past the largest key on either side.
    end: i128,
    /// Rows on both sides by the catalog (for progress).
    estimate: u64,
    /// Each side's page slices (conditions), when both sides are hashed by pages.
    pages: Option<[Vec<String>; 2]>,
}

fn as_i128(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i) => Some(*i as i128),
        Value::UInt(u) => Some(*u as i128),
        other => other.as_i64().map(|i| i as i128),
    }
}

/// The key's span on both sides, when the table qualifies: one non-null integer key
/// and both sides hashed by their databases. None: the modulo buckets.
pub(super) async fn plan(s: &Side, t: &Side, plan: &Plan) -> Result<Option<Ranges>> {
    let k = plan.columns.first();
    let eligible = s.server
        && t.server
        && !plan.multiset
        && plan.key_len == 1
        && k.is_some_and(|c| {
            c.class == Class::Int
                && c.source_native == Class::Int
                && c.target_native == Class::Int
                && !c.source_nullable
                && !c.target_nullable
        });
    if !eligible {
        return Ok(None);
    }
    let ((smin, smax), (tmin, tmax)) = tokio::try_join!(key_span(s, plan), key_span(t, plan))?;
    let lo = [smin, tmin].into_iter().flatten().min();
    let hi = [smax, tmax].into_iter().flatten().max();
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(None);
    };
    if lo < -KEY_LIMIT || hi > KEY_LIMIT {
        return Ok(None);
    }
    let (ea, eb) = tokio::join!(estimate_rows(s), estimate_rows(t));
    let (ps, pt) = tokio::join!(page_slices(s, ea), page_slices(t, eb));
    let pages = ps.zip(pt).map(|(a, b)| [a, b]);
    let span = hi - lo + 1;
    let rows = ea.unwrap_or(0).max(eb.unwrap_or(0)) as i128;
    // about 40 rows a bucket; a never-analyzed table counts as dense
    let rows = if rows > 0 { rows } else { span };
    let most = if pages.is_some() {
        PAGE_BUCKETS
    } else {
        MAX_CHUNKS * CHUNK_BUCKETS as i128
    };
    let width = (span * 40 / rows.max(1)).max(1).max(span / most + 1);
    Ok(Some(Ranges {
        origin: lo as i64,
        width: width as i64,
        end: hi + 1,
        estimate: ea.unwrap_or(0) + eb.unwrap_or(0),
        pages,
    }))
}

/// MIN and MAX of one side's key (None on an empty table).
async fn key_span(side: &Side, plan: &Plan) -> Result<(Option<i128>, Option<i128>)> {
    let sql = format!(
        "SELECT MIN({k}), MAX({k}) FROM {}{}",
        side.table,
        side.where_clause(plan, None),
        k = side.cols[0]
    );
    let r = side
        .db
        .query(&sql, &[])
        .await
        .map_err(|e| e.context(side.name()))?;
    let row = r.rows.into_iter().next().unwrap_or_default();
    Ok((row.first().and_then(as_i128), row.get(1).and_then(as_i128)))
}

/// Hash and compare chunk by chunk; differences go to `counter`. Returns the rows of
/// each side.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run(
    s: &Side,
    t: &Side,
    plan: &Arc<Plan>,
    r: &Ranges,
    counter: &mut Counter<'_>,
    stats: &mut Stats,
    progress: ProgressFn<'_>,
    may_merge: bool,
) -> Result<(u64, u64)> {
    stats.levels = 1;
    if let Some(pages) = &r.pages {
        stats.scan = "pages".into();
        return run_pages(s, t, plan, r, pages, counter, stats, progress, may_merge).await;
    }
    let step = r.width as i128 * CHUNK_BUCKETS as i128;
    let chunks = ((r.end - r.origin as i128) + step - 1) / step;
    let mut meter = ProgressMeter::new("rows hashed", Some(r.estimate));
    if let Some(p) = meter.tick(0, true) {
        progress(p);
    }
    let (mut rows_s, mut rows_t) = (0u64, 0u64);
    // chunks are hashed IN_FLIGHT at a time on each side (each database works on
    // several at once, as its own parallel scan of a whole table would), then compared
    // in order; none is left holding a connection while rows are fetched
    let hash = |c: i128| async move {
        let from = r.origin as i128 + c * step;
        let to = (from + step).min(r.end);
        let range = (from as i64, to as i64);
        let (a, b) = tokio::try_join!(aggregate(s, plan, r, range), aggregate(t, plan, r, range))?;
        Ok::<_, Error>((c, range, a, b))
    };
    let mut first = 0i128;
    while first < chunks {
        let group = first..(first + IN_FLIGHT as i128).min(chunks);
        first = group.end;
        for (c, range, a, b) in futures::future::try_join_all(group.map(hash)).await? {
            rows_s += a.values().map(|x| x.0).sum::<u64>();
            rows_t += b.values().map(|x| x.0).sum::<u64>();
            let mut pending = Vec::new();
            let span = (range.0 as i128, range.1 as i128);
            differing_ranges(r, stats, may_merge, span, &a, &b, &mut pending);
            if !pending.is_empty() {
                let cond = |side: &Side| ranges_cond(&side.cols[0], &pending);
                stats.rows_fetched += merge_range(s, t, plan, counter, cond(s), cond(t)).await?;
            }
            let done = rows_s + rows_t;
            let mut p = meter.tick(done, c + 1 == chunks);
            if let Some(p) = &mut p {
                p.total = Some(r.estimate.max(done));
                if c + 1 == chunks {
                    p.total = Some(done);
                }
            }
            if let Some(p) = p {
                progress(p);
            }
        }
    }
    Ok((rows_s, rows_t))
}

/// Compare one chunk's buckets (`range` of keys) and add the key ranges of those that
/// differ to `pending` (the whole chunk when more than a quarter of its buckets
/// differ and merging is allowed), counting them in `stats`.
fn differing_ranges(
    r: &Ranges,
    stats: &mut Stats,
    may_merge: bool,
    range: (i128, i128),
    a: &Agg,
    b: &Agg,
    pending: &mut Vec<(i128, i128)>,
) {
    let (set, all) = differing(a, b);
    stats.buckets += all;
    stats.differing_buckets += set.len() as u64;
    if set.is_empty() {
        return;
    }
    if may_merge && set.len() as f64 > all as f64 * WHOLE_CHUNK {
        stats.strategy = "buckets+merge".into();
        push_range(pending, range);
    } else {
        for run in bucket_runs(r, &set) {
            push_range(pending, run);
        }
    }
}

/// Both sides hashed by their page slices into every bucket of the key span, then
/// compared and merged chunk by chunk.
#[allow(clippy::too_many_arguments)]
async fn run_pages(
    s: &Side,
    t: &Side,
    plan: &Arc<Plan>,
    r: &Ranges,
    pages: &[Vec<String>; 2],
    counter: &mut Counter<'_>,
    stats: &mut Stats,
    progress: ProgressFn<'_>,
    may_merge: bool,
) -> Result<(u64, u64)> {
    let buckets = ((r.end - r.origin as i128) + r.width as i128 - 1) / r.width as i128;
    let buckets = buckets as usize;
    let meter = std::sync::Mutex::new((
        ProgressMeter::new("rows hashed", Some(r.estimate)),
        [0u64; 2],
    ));
    if let Some(mut p) = meter.lock().expect("progress lock").0.tick(0, true) {
        p.total = Some(r.estimate);
        progress(p);
    }
    let report = |side: usize, done: u64| {
        let mut m = meter.lock().expect("progress lock");
        m.1[side] = done;
        let done = m.1[0] + m.1[1];
        if let Some(mut p) = m.0.tick(done, false) {
            p.total = Some(r.estimate.max(done));
            progress(p);
        }
    };
    let (report_s, report_t) = (|d| report(0, d), |d| report(1, d));
    let (va, vb) = tokio::try_join!(
        hash_pages(s, plan, r, &pages[0], buckets, &report_s),
        hash_pages(t, plan, r, &pages[1], buckets, &report_t)
    )?;
    let rows_s: u64 = va.iter().map(|x| x.0).sum();
    let rows_t: u64 = vb.iter().map(|x| x.0).sum();
    {
        let mut m = meter.lock().expect("progress lock");
        if let Some(mut p) = m.0.tick(rows_s + rows_t, true) {
            p.total = Some(rows_s + rows_t);
            progress(p);
        }
    }
    // the chunks' buckets as the chunk path holds them: non-empty buckets only
    let chunk_of = |v: &[(u64, u64)], first: usize, last: usize| -> Agg {
        (first..last)
            .filter(|&i| v[i].0 != 0)
            .map(|i| (i as i64, v[i]))
            .collect()
    };
    // the differing buckets' key ranges, merged MERGE_RANGES ranges a query (adjacent
    // ones joined), in key order
    let mut pending: Vec<(i128, i128)> = Vec::new();
    let mut first = 0usize;
    while first < buckets {
        let last = (first + CHUNK_BUCKETS as usize).min(buckets);
        let (a, b) = (chunk_of(&va, first, last), chunk_of(&vb, first, last));
        let from = r.origin as i128 + first as i128 * r.width as i128;
        let to = (r.origin as i128 + last as i128 * r.width as i128).min(r.end);
        differing_ranges(r, stats, may_merge, (from, to), &a, &b, &mut pending);
        first = last;
        if pending.len() >= MERGE_RANGES || (first >= buckets && !pending.is_empty()) {
            // many rows a query: through the bulk stream (PostgreSQL's binary COPY)
            let read = |side: &Side| {
                let cond = ranges_cond(&side.cols[0], &pending);
                Puller::new(sorted_where_by(side, plan, Some(cond), true))
            };
            stats.rows_fetched += merge_pullers(plan, counter, read(s), read(t)).await?;
            pending.clear();
        }
    }
    Ok((rows_s, rows_t))
}

/// Key ranges merged at once by the page path.
const MERGE_RANGES: usize = 256;

/// Append a key range, joining it to the last when they touch.
fn push_range(ranges: &mut Vec<(i128, i128)>, (from, to): (i128, i128)) {
    match ranges.last_mut() {
        Some(last) if last.1 == from => last.1 = to,
        _ => ranges.push((from, to)),
    }
}

/// The key ranges `[from, to)` of the buckets in `set` (sorted), adjacent buckets
/// joined.
fn bucket_runs(r: &Ranges, set: &[i64]) -> Vec<(i128, i128)> {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &b in set {
        match runs.last_mut() {
            Some(last) if last.1 + 1 == b => last.1 = b,
            _ => runs.push((b, b)),
        }
    }
    runs.iter()
        .map(|(a, b)| {
            (
                r.origin as i128 + *a as i128 * r.width as i128,
                r.origin as i128 + (*b as i128 + 1) * r.width as i128,
            )
        })
        .collect()
}

/// `(k >= a AND k < b) OR ...` over `ranges`.
fn ranges_cond(k: &str, ranges: &[(i128, i128)]) -> String {
    let terms: Vec<String> = ranges
        .iter()
        .map(|(from, to)| format!("({k} >= {from} AND {k} < {to})"))
        .collect();
    format!("({})", terms.join(" OR "))
}

/// One side's (count, hash sum) of every bucket, hashed slice by slice,
/// [`PAGE_IN_FLIGHT`] slices at once (a new one starting as soon as one ends); `report`
/// gets the rows hashed so far as slices end.
async fn hash_pages(
    side: &Side,
    plan: &Plan,
    r: &Ranges,
    slices: &[String],
    buckets: usize,
    report: &(dyn Fn(u64) + Sync),
) -> Result<Vec<(u64, u64)>> {
    use futures::stream::{FuturesUnordered, StreamExt};
    let sums = std::sync::Mutex::new(vec![(0u64, 0u64); buckets]);
    let mut done = 0u64;
    let mut left = slices.iter();
    let mut running = FuturesUnordered::new();
    for slice in left.by_ref().take(PAGE_IN_FLIGHT) {
        running.push(hash_slice(side, plan, r, slice, &sums));
    }
    while let Some(n) = running.next().await {
        done += n?;
        report(done);
        if let Some(slice) = left.next() {
            running.push(hash_slice(side, plan, r, slice, &sums));
        }
    }
    drop(running);
    Ok(sums.into_inner().expect("bucket sums lock"))
}

/// One page slice's buckets added into `sums`; the rows it hashed.
async fn hash_slice(
    side: &Side,
    plan: &Plan,
    r: &Ranges,
    slice: &str,
    sums: &std::sync::Mutex<Vec<(u64, u64)>>,
) -> Result<u64> {
    let (mut n, mut outside) = (0u64, false);
    let span = (r.origin, r.end as i64);
    aggregate_each(side, plan, r, span, Some(slice), &mut |b, c, h| {
        // every row's key is inside the span (the query's condition)
        let mut v = sums.lock().expect("bucket sums lock");
        match usize::try_from(b).ok().and_then(|b| v.get_mut(b)) {
            Some(e) => {
                e.0 += c;
                e.1 = e.1.wrapping_add(h);
                n += c;
            }
            None => outside = true,
        }
    })
    .await?;
    if outside {
        return Err(Error::runtime(format!(
            "{}: a bucket outside the key span came back while hashing by pages",
            side.name()
        )));
    }
    Ok(n)
}

/// One chunk's per-bucket (count, hash sum) on one side.
async fn aggregate(side: &Side, plan: &Plan, r: &Ranges, range: (i64, i64)) -> Result<Agg> {
    let mut out: Agg = HashMap::new();
    aggregate_each(side, plan, r, range, None, &mut |b, n, h| {
        let e = out.entry(b).or_insert((0, 0));
        e.0 += n;
        e.1 = e.1.wrapping_add(h);
    })
    .await?;
    Ok(out)
}

/// Each (bucket, count, hash sum) of one side's keys in `range`, restricted to one
/// slice of its pages by `slice`.
async fn aggregate_each(
    side: &Side,
    plan: &Plan,
    r: &Ranges,
    range: (i64, i64),
    slice: Option<&str>,
    each: &mut (dyn FnMut(i64, u64, u64) + Send),
) -> Result<()> {
    let extra = match (plan.where_sql.as_deref(), slice) {
        (Some(w), Some(sl)) => Some(format!("({w}) AND {sl}")),
        (Some(w), None) => Some(w.to_string()),
        (None, Some(sl)) => Some(sl.to_string()),
        (None, None) => None,
    };
    let sql = range_aggregate_sql(
        side.dialect,
        &side.triples(plan, 0..plan.columns.len()),
        r.origin,
        r.width,
        range,
        &side.table,
        extra.as_deref(),
        side.hash,
    );
    side.db
        .query_each_with_setup(&side.aggregate_setup(), &sql, &mut |row| {
            let n = row.get(1).and_then(Value::as_i64).unwrap_or(0) as u64;
            each(
                as_bucket(&row[0]),
                n,
                sql::combine_sums(row[2..].iter().map(as_u64_mod)),
            );
        })
        .await
        .map_err(|e| {
            e.context(format!(
                "{} (hashing keys {} to {})",
                side.name(),
                range.0,
                range.1 - 1
            ))
        })
}

/// Stream the rows matching `cs` / `ct` from each side in key order and compare them;
/// returns the rows read.
async fn merge_range(
    s: &Side,
    t: &Side,
    plan: &Arc<Plan>,
    counter: &mut Counter<'_>,
    cs: String,
    ct: String,
) -> Result<u64> {
    let ps = Puller::new(sorted_where(s, plan, Some(cs)));
    let pt = Puller::new(sorted_where(t, plan, Some(ct)));
    merge_pullers(plan, counter, ps, pt).await
}

/// Compare the rows of two key-ordered streams; returns the rows read.
async fn merge_pullers(
    plan: &Arc<Plan>,
    counter: &mut Counter<'_>,
    mut ps: Puller<Item>,
    mut pt: Puller<Item>,
) -> Result<u64> {
    let mut read = 0u64;
    let (mut last_s, mut last_t): (Option<Norm>, Option<Norm>) = (None, None);
    loop {
        let ks = ps.peek().await?.map(|x| x.norms[0].clone());
        let kt = pt.peek().await?.map(|x| x.norms[0].clone());
        let ord = match (&ks, &kt) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(a), Some(b)) => a.cmp(b),
        };
        let take_s = ord != std::cmp::Ordering::Greater;
        let take_t = ord != std::cmp::Ordering::Less;
        let a = if take_s { ps.next().await? } else { None };
        let b = if take_t { pt.next().await? } else { None };
        for (it, last, side) in [(&a, &mut last_s, "source"), (&b, &mut last_t, "target")] {
            if let Some(it) = it {
                if last.as_ref() == Some(&it.norms[0]) {
                    return Err(duplicate_key(plan, side, &it.raw));
                }
                *last = Some(it.norms[0].clone());
                read += 1;
            }
        }
        match (a, b) {
            (Some(a), Some(b)) => counter.pair(a, b)?,
            (Some(a), None) => counter.only_source(a.raw, 1)?,
            (None, Some(b)) => counter.only_target(b.raw, 1)?,
            (None, None) => break,
        }
    }
    Ok(read)
}
