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
//! A chunk is first hashed whole: one row count and hash sum a side over its key
//! range, no GROUP BY (grouping costs the databases about as much as hashing). Equal,
//! the chunk is done; different, its buckets are hashed and compared as above, and the
//! next chunks go straight to their buckets until one of them shows no difference
//! again, so a table differing everywhere does not pay twice.
//!
//! Where both sides can be read by storage pages (PostgreSQL), the buckets are hashed
//! instead by slices of each side's pages (a TID range scan each, several at once),
//! which reads a table faster than its key index does: each side's bucket sums are then
//! held for the key span (at most [`PAGE_BUCKETS`] buckets, 4 MiB a side), and compared
//! and merged chunk by chunk as above. When both sides' storage follows the key (the
//! catalog's correlation), whole chunks are read by the key first, and the pages only
//! from the first chunk once differences prove dense ([`DENSE_CHUNKS`]). The buckets
//! are the same either way, so the differences found are too.
//!
//! A table at the end of a cutover is most often equal. So where the first key ranges
//! (the small probes) and the last one (where rows added or changed since a copy
//! usually are) are equal, the whole table is hashed first by pages, one count and sum
//! a side with no key condition and no grouping, the cheapest read there is: equal,
//! the diff is done (5M identical rows a side: 1.76 s against 2.1 s by key ranges);
//! different, the key ranges carry on from the probes, and that read was spent (one
//! row changed mid-table: 3.65 s against 2.08 s).

use super::buckets::{Agg, differing};
use super::merge::{Counter, duplicate_key};
use super::side::{as_bucket, as_u64_mod};
use super::slices::page_slices;
use super::stream::{Item, Puller, sorted_where, sorted_where_by};
use super::*;
use crate::data::normalize::Class;
use crate::data::sql::{range_aggregate_sql, range_total_sql};

/// Buckets per chunk: about 80,000 rows, a tenth of a second of hashing per side.
pub(super) const CHUNK_BUCKETS: i64 = 2048;
/// At most this many chunks, whatever the key's span.
const MAX_CHUNKS: i128 = 4096;
/// Keys beyond ±2^62 are left to the modulo buckets (no overflow in `k - origin`).
const KEY_LIMIT: i128 = 1 << 62;
/// Chunks hashed at once on each side: three keep a 2-core MariaDB busier than two
/// (2M identical rows: 1.38-1.44 s against 1.42-1.54 s).
const IN_FLIGHT: usize = 3;
/// A chunk with more than this share of differing buckets is merged whole.
const WHOLE_CHUNK: f64 = 0.25;
/// Page slices hashed at once on each side: three, as many processes as PostgreSQL's
/// own parallel scan of a table (a leader and two workers) would use.
const PAGE_IN_FLIGHT: usize = 3;
/// At most this many buckets when hashed by pages (each side holds all of them).
const PAGE_BUCKETS: i128 = 1 << 18;
/// Differences are dense (the rest is hashed by pages, where a table has them) once
/// this many chunks hashed whole differed, and at least half of those hashed so far.
const DENSE_CHUNKS: u64 = 2;
/// Buckets of each of the first [`PAGE_IN_FLIGHT`] chunks where a table with pages is read
/// by key ranges first: small probes, so little is hashed twice when differences are
/// dense from the start.
const PROBE_BUCKETS: i64 = CHUNK_BUCKETS / 8;
/// A side's storage follows its key (key ranges are read sequentially) from this
/// correlation of the two.
const CLUSTERED: f64 = 0.9;

pub(super) struct Ranges {
    origin: i64,
    /// Key values per bucket.
    width: i64,
    /// One past the largest key on either side.
    end: i128,
    /// Rows on both sides by the catalog (for progress).
    estimate: u64,
    /// Each side's page slices (conditions), when both sides can be hashed by pages.
    pages: Option<[Vec<String>; 2]>,
    /// Both sides' storage follows the key: chunks are read by the key first, even
    /// where there are pages.
    clustered: bool,
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
    let clustered = pages.is_some() && {
        let (a, b) = tokio::join!(follows_key(s, plan), follows_key(t, plan));
        a && b
    };
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
        clustered,
    }))
}

/// Does the side's storage follow its key by the catalog (so a key range is read
/// sequentially)? False when unknown.
async fn follows_key(side: &Side, plan: &Plan) -> bool {
    let Some((sql, table)) = side.dialect.sql().storage_correlation(&side.table) else {
        return false;
    };
    let k = &plan.columns[0];
    let name = if side.is_source {
        &k.name
    } else {
        &k.target_name
    };
    let params = [Value::Text(table), Value::Text(name.clone())];
    match side.db.query(sql, &params).await {
        Ok(r) => matches!(r.scalar(), Some(Value::Float(c)) if c.abs() >= CLUSTERED),
        Err(_) => false,
    }
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

/// What one chunk's hashing found.
enum Chunk {
    /// Equal whole: each side's row count.
    Equal(u64, u64),
    /// Different whole (its buckets not hashed yet).
    Differs,
    /// Each side's buckets.
    Buckets(Agg, Agg),
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
    let mut meter = ProgressMeter::new("rows hashed", Some(r.estimate));
    if let Some(pages) = &r.pages
        && !r.clustered
    {
        stats.scan = "pages".into();
        let (from, state) = (r.origin as i128, (progress, &mut meter, 0));
        return run_pages(s, t, plan, r, pages, from, counter, stats, state, may_merge).await;
    }
    // where a table has pages, as many at once as they are read with (PostgreSQL's
    // own parallel scan)
    let in_flight = if r.pages.is_some() {
        PAGE_IN_FLIGHT
    } else {
        IN_FLIGHT
    };
    // each chunk's first bucket, and one past the last bucket
    let buckets = ((r.end - r.origin as i128) + r.width as i128 - 1) / r.width as i128;
    let mut bounds = vec![0i128];
    while let Some(&last) = bounds.last().filter(|&&b| b < buckets) {
        let probe = r.pages.is_some() && bounds.len() <= in_flight;
        let size = if probe { PROBE_BUCKETS } else { CHUNK_BUCKETS };
        bounds.push((last + size as i128).min(buckets));
    }
    let chunks = bounds.len() as i128 - 1;
    if let Some(p) = meter.tick(0, true) {
        progress(p);
    }
    let (mut rows_s, mut rows_t) = (0u64, 0u64);
    let range_of = |c: i128| {
        let key = |b: i128| (r.origin as i128 + b * r.width as i128).min(r.end) as i64;
        (key(bounds[c as usize]), key(bounds[c as usize + 1]))
    };
    // chunks are hashed `in_flight` at a time on each side (each database works on
    // several at once, as its own parallel scan of a whole table would), then compared
    // in order; none is left holding a connection while rows are fetched
    let buckets = |c: i128| async move {
        let range = range_of(c);
        let (a, b) = tokio::try_join!(aggregate(s, plan, r, range), aggregate(t, plan, r, range))?;
        Ok::<_, Error>(Chunk::Buckets(a, b))
    };
    let whole = |c: i128| async move {
        let range = range_of(c);
        let (a, b) = tokio::try_join!(total(s, plan, range), total(t, plan, range))?;
        Ok::<_, Error>(if a == b {
            Chunk::Equal(a.0, b.0)
        } else {
            Chunk::Differs
        })
    };
    // after a chunk with differences, the next ones are hashed by buckets at once
    let mut by_buckets = false;
    let mut differed = 0u64;
    let mut first = 0i128;
    // rows hashed by a pages total that found a difference somewhere (progress counts
    // them: that work was done, and the key ranges read those rows again)
    let mut extra = 0u64;
    while first < chunks {
        if let Some(pages) = &r.pages
            && first == in_flight as i128
            && differed == 0
        {
            // the probes found the first key ranges equal: unless the last one differs
            // too (where rows added or changed since a copy usually are), the whole
            // table is hashed by its pages first, which reads it faster than key ranges
            let last = if chunks - 1 > first {
                whole(chunks - 1).await?
            } else {
                Chunk::Equal(0, 0)
            };
            if matches!(last, Chunk::Equal(..)) {
                let state = (progress, &mut meter, rows_s + rows_t);
                let ((ns, nt), equal) = totals_by_pages(s, t, plan, r, pages, state).await?;
                if equal {
                    stats.scan = "keys+pages total".into();
                    // every key range after the probes, proven equal at once
                    stats.whole_chunks += (chunks - first) as u64;
                    let done = ns + nt;
                    if let Some(mut p) = meter.tick(done, true) {
                        p.total = Some(done);
                        progress(p);
                    }
                    return Ok((ns, nt));
                }
                // the difference is somewhere: found by key ranges from here
                stats.scan = "keys+pages total+keys".into();
                extra = ns + nt;
            }
        }
        let group = first..(first + in_flight as i128).min(chunks);
        first = group.end;
        let found = if by_buckets {
            futures::future::try_join_all(group.clone().map(buckets)).await?
        } else {
            futures::future::try_join_all(group.clone().map(whole)).await?
        };
        for (c, found) in group.zip(found) {
            let range = range_of(c);
            let found = match found {
                Chunk::Differs => {
                    differed += 1;
                    if let Some(pages) = &r.pages
                        && differed >= DENSE_CHUNKS
                        && differed * 2 >= (c + 1) as u64
                    {
                        // dense: the rest by pages, which reads a table faster
                        stats.scan = if extra > 0 {
                            "keys+pages total+pages".into()
                        } else {
                            "keys+pages".into()
                        };
                        let state = (progress, &mut meter, rows_s + rows_t + extra);
                        let from = range.0 as i128;
                        let (ps, pt) =
                            run_pages(s, t, plan, r, pages, from, counter, stats, state, may_merge)
                                .await?;
                        return Ok((rows_s + ps, rows_t + pt));
                    }
                    buckets(c).await?
                }
                other => other,
            };
            match found {
                Chunk::Differs => unreachable!("a differing chunk's buckets are hashed"),
                Chunk::Equal(ns, nt) => {
                    stats.whole_chunks += 1;
                    rows_s += ns;
                    rows_t += nt;
                    by_buckets = false;
                }
                Chunk::Buckets(a, b) => {
                    rows_s += a.values().map(|x| x.0).sum::<u64>();
                    rows_t += b.values().map(|x| x.0).sum::<u64>();
                    let mut pending = Vec::new();
                    let span = (range.0 as i128, range.1 as i128);
                    differing_ranges(r, stats, may_merge, span, &a, &b, &mut pending);
                    // by pages the whole chunks carry on until differences are dense
                    by_buckets = !pending.is_empty() && r.pages.is_none();
                    if !pending.is_empty() {
                        let cond = |side: &Side| ranges_cond(&side.cols[0], &pending);
                        stats.rows_fetched +=
                            merge_range(s, t, plan, counter, cond(s), cond(t)).await?;
                    }
                }
            }
            let done = rows_s + rows_t + extra;
            let mut p = meter.tick(done, c + 1 == chunks);
            if let Some(p) = &mut p {
                p.total = Some((r.estimate + extra).max(done));
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

/// The rows both sides have hashed at once, reported as one progress: a phase's start
/// (forced), each side's rows as its queries end, and the phase's end.
struct BothSides<'a, 'm> {
    progress: ProgressFn<'a>,
    meter: std::sync::Mutex<(&'m mut ProgressMeter, [u64; 2])>,
    /// Rows hashed before the phase.
    before: u64,
    estimate: u64,
}

impl<'a, 'm> BothSides<'a, 'm> {
    fn start(
        progress: ProgressFn<'a>,
        meter: &'m mut ProgressMeter,
        before: u64,
        estimate: u64,
    ) -> Self {
        if let Some(mut p) = meter.tick(before, true) {
            p.total = Some(estimate.max(before));
            progress(p);
        }
        BothSides {
            progress,
            meter: std::sync::Mutex::new((meter, [0u64; 2])),
            before,
            estimate,
        }
    }

    /// One side (0: source, 1: target) has hashed `done` rows in this phase.
    fn report(&self, side: usize, done: u64) {
        let mut m = self.meter.lock().expect("progress lock");
        m.1[side] = done;
        let done = self.before + m.1[0] + m.1[1];
        if let Some(mut p) = m.0.tick(done, false) {
            p.total = Some(self.estimate.max(done));
            (self.progress)(p);
        }
    }

    /// The phase is over with `done` rows hashed in all (the total, now known).
    fn end(&self, done: u64) {
        let mut m = self.meter.lock().expect("progress lock");
        if let Some(mut p) = m.0.tick(done, true) {
            p.total = Some(done);
            (self.progress)(p);
        }
    }
}

/// Both sides' row count and hash sum over the whole table (under the diff's
/// condition), each side hashed slice by slice of its pages, [`PAGE_IN_FLIGHT`] at
/// once, with no key condition and no grouping: the cheapest read there is (5M rows,
/// one session: 1.58 s of the server's CPU against 1.45 s for one sequential scan and
/// 1.88 s by key ranges). Returns the rows of each side and whether they are equal.
/// `state`: the progress callback, its meter and the rows hashed before.
async fn totals_by_pages(
    s: &Side,
    t: &Side,
    plan: &Plan,
    r: &Ranges,
    pages: &[Vec<String>; 2],
    (progress, meter, before): (ProgressFn<'_>, &mut ProgressMeter, u64),
) -> Result<((u64, u64), bool)> {
    let sides = BothSides::start(progress, meter, before, r.estimate);
    let (report_s, report_t) = (|d| sides.report(0, d), |d| sides.report(1, d));
    let (a, b) = tokio::try_join!(
        total_pages(s, plan, &pages[0], &report_s),
        total_pages(t, plan, &pages[1], &report_t)
    )?;
    Ok(((a.0, b.0), a == b))
}

/// One side's row count and hash sum (its parts combined) over all its page slices.
async fn total_pages(
    side: &Side,
    plan: &Plan,
    slices: &[String],
    report: &(dyn Fn(u64) + Sync),
) -> Result<(u64, u64)> {
    use futures::stream::{FuturesUnordered, StreamExt};
    let slice_total = |slice: &String| {
        let cond = match plan.where_sql.as_deref() {
            Some(w) => format!("({w}) AND {slice}"),
            None => slice.clone(),
        };
        let sql = sql::total_sql(
            side.dialect,
            &side.triples(plan, 0..plan.columns.len()),
            &side.table,
            Some(&cond),
            side.hash,
        );
        async move {
            let mut out = (0u64, 0u64);
            side.db
                .query_each_with_setup(&side.aggregate_setup(), &sql, &mut |row| {
                    out.0 = row.first().and_then(Value::as_i64).unwrap_or(0) as u64;
                    out.1 = sql::combine_sums(row[1..].iter().map(as_u64_mod));
                })
                .await
                .map_err(|e| e.context(format!("{} (hashing by pages)", side.name())))?;
            Ok::<_, Error>(out)
        }
    };
    let (mut n, mut sum) = (0u64, 0u64);
    let mut left = slices.iter();
    let mut running = FuturesUnordered::new();
    for slice in left.by_ref().take(PAGE_IN_FLIGHT) {
        running.push(slice_total(slice));
    }
    while let Some(found) = running.next().await {
        let (c, h) = found?;
        n += c;
        sum = sum.wrapping_add(h);
        report(n);
        if let Some(slice) = left.next() {
            running.push(slice_total(slice));
        }
    }
    Ok((n, sum))
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

/// Both sides hashed by their page slices into every bucket of the key span from key
/// `from` (a chunk's first), then compared and merged chunk by chunk. `state`: the
/// progress callback, its meter and the rows hashed before `from`. Returns the rows of
/// each side from `from`.
#[allow(clippy::too_many_arguments)]
async fn run_pages(
    s: &Side,
    t: &Side,
    plan: &Arc<Plan>,
    r: &Ranges,
    pages: &[Vec<String>; 2],
    from: i128,
    counter: &mut Counter<'_>,
    stats: &mut Stats,
    (progress, meter, before): (ProgressFn<'_>, &mut ProgressMeter, u64),
    may_merge: bool,
) -> Result<(u64, u64)> {
    let buckets = ((r.end - r.origin as i128) + r.width as i128 - 1) / r.width as i128;
    let buckets = buckets as usize;
    let start = ((from - r.origin as i128) / r.width as i128) as usize;
    let sides = BothSides::start(progress, meter, before, r.estimate);
    let (report_s, report_t) = (|d| sides.report(0, d), |d| sides.report(1, d));
    let span = (from as i64, r.end as i64);
    let (va, vb) = tokio::try_join!(
        hash_pages(s, plan, r, span, &pages[0], buckets, &report_s),
        hash_pages(t, plan, r, span, &pages[1], buckets, &report_t)
    )?;
    let rows_s: u64 = va.iter().map(|x| x.0).sum();
    let rows_t: u64 = vb.iter().map(|x| x.0).sum();
    sides.end(before + rows_s + rows_t);
    // the chunks' buckets as the chunk path holds them: non-empty buckets only
    let chunk_of = |v: &[(u64, u64)], first: usize, last: usize| -> Agg {
        (first..last)
            .filter(|&i| v[i].0 != 0)
            .map(|i| (i as i64, v[i]))
            .collect()
    };
    // the differing buckets' key ranges, MERGE_RANGES ranges a query (adjacent ones
    // joined), in key order
    let mut batches: Vec<Vec<(i128, i128)>> = Vec::new();
    let mut pending: Vec<(i128, i128)> = Vec::new();
    let mut first = start;
    while first < buckets {
        let last = (first + CHUNK_BUCKETS as usize).min(buckets);
        let (a, b) = (chunk_of(&va, first, last), chunk_of(&vb, first, last));
        let from = r.origin as i128 + first as i128 * r.width as i128;
        let to = (r.origin as i128 + last as i128 * r.width as i128).min(r.end);
        differing_ranges(r, stats, may_merge, (from, to), &a, &b, &mut pending);
        first = last;
        if pending.len() >= MERGE_RANGES || (first >= buckets && !pending.is_empty()) {
            batches.push(std::mem::take(&mut pending));
        }
    }
    drop((va, vb));
    // a batch's rows compared by hash first, each side's (key, row hash) of its key
    // ranges in one query: only the keys whose row hash differs, or that one side
    // lacks, are then fetched whole and merged. Where most rows of a batch differ, the
    // next batch is merged whole at once (the hashes would only add a read).
    //
    // The row hashes of the next batches are read while one is merged: each is a short
    // query, and one after the other they left both databases idle between them. A
    // batch's read waits for one of [`HASHES_IN_FLIGHT`] + 1 permits before it asks for
    // a connection, and gives it back only once that batch is merged, so at most that
    // many batches' hashes are held. The reads never wait on the merge while holding a
    // connection (the channel is unbounded: the permits bound it), so the merge always
    // gets one, even where both sides share one pool (two tables of one database).
    use futures::stream::StreamExt;
    let permits = tokio::sync::Semaphore::new(HASHES_IN_FLIGHT + 1);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // futures made here, not by a closure inside the async block (whose borrow the
    // compiler cannot prove `Send` for every lifetime)
    let reads: Vec<_> = batches
        .iter()
        .map(|b| batch_hashes(s, t, plan, b, &permits))
        .collect();
    let read_ahead = async move {
        let mut hashed = futures::stream::iter(reads).buffered(HASHES_IN_FLIGHT);
        while let Some(found) = hashed.next().await {
            if tx.send(found).is_err() {
                break;
            }
        }
        Ok::<_, Error>(())
    };
    let compare = async {
        let mut whole = false;
        while let Some(found) = rx.recv().await {
            // the batch's permit goes back as the loop moves on, whatever its way out
            let Hashed {
                batch,
                hashes,
                permit: _permit,
            } = found?;
            let Some((hs, ht)) = hashes.filter(|_| !whole) else {
                // wide, or dense after the last batch (its hashes, read ahead, unused)
                stats.rows_fetched += merge_whole(s, t, plan, counter, batch).await?;
                whole = false;
                continue;
            };
            let (Some(hs), Some(ht)) = (hs, ht) else {
                // more rows than keys (a duplicated key): the merge names it
                stats.rows_fetched += merge_whole(s, t, plan, counter, batch).await?;
                continue;
            };
            let compared = hs.len().max(ht.len());
            let keys = differing_keys(hs, ht);
            if keys.is_empty() {
                continue;
            }
            whole = keys.len() * DENSE_KEYS > compared;
            for part in keys.chunks(MERGE_KEYS) {
                let cond = |side: &Side| keys_cond(&side.cols[0], part);
                stats.rows_fetched += merge_range(s, t, plan, counter, cond(s), cond(t)).await?;
            }
        }
        Ok::<_, Error>(())
    };
    tokio::try_join!(read_ahead, compare)?;
    Ok((rows_s, rows_t))
}

/// One side's `(key, row hash)` of a batch ([`row_hashes`]).
type RowHashes = Option<Vec<(i64, u64)>>;

/// One batch of key ranges read ahead: each side's row hashes (None when the batch is
/// merged whole), and the permit it holds until the merge is done with it.
struct Hashed<'a> {
    batch: &'a [(i128, i128)],
    hashes: Option<(RowHashes, RowHashes)>,
    permit: tokio::sync::SemaphorePermit<'a>,
}

/// Both sides' row hashes of a batch of key ranges, once a permit is free; none where
/// it spans more keys than [`HASH_KEYS`] (keys are unique integers: a batch's key span
/// bounds its rows, and so the memory its hashes take; a wide batch is merged whole,
/// as a stream).
async fn batch_hashes<'a>(
    s: &Side,
    t: &Side,
    plan: &Plan,
    batch: &'a [(i128, i128)],
    permits: &'a tokio::sync::Semaphore,
) -> Result<Hashed<'a>> {
    let permit = permits
        .acquire()
        .await
        .map_err(|_| Error::runtime("the diff's batch permits were closed"))?;
    let span: i128 = batch.iter().map(|(from, to)| to - from).sum();
    let hashes = if span > HASH_KEYS as i128 {
        None
    } else {
        Some(tokio::try_join!(
            row_hashes(s, plan, batch),
            row_hashes(t, plan, batch)
        )?)
    };
    Ok(Hashed {
        batch,
        hashes,
        permit,
    })
}

/// Every row of `ranges` merged, many rows a query: through the bulk stream
/// (PostgreSQL's binary COPY). Returns the rows read.
async fn merge_whole(
    s: &Side,
    t: &Side,
    plan: &Arc<Plan>,
    counter: &mut Counter<'_>,
    ranges: &[(i128, i128)],
) -> Result<u64> {
    let read = |side: &Side| {
        let cond = ranges_cond(&side.cols[0], ranges);
        Puller::new(sorted_where_by(side, plan, Some(cond), true))
    };
    merge_pullers(plan, counter, read(s), read(t)).await
}

/// Key values a batch may span and still be compared by row hash first (at most as
/// many rows: 16 bytes each a side).
const HASH_KEYS: usize = 1 << 18;
/// Batches whose row hashes are read at once while another is merged: with it, at most
/// three batches' hashes are held (each at most [`HASH_KEYS`] rows, 4 MiB a side).
const HASHES_IN_FLIGHT: usize = 2;
/// Keys fetched whole a query after the hash comparison.
const MERGE_KEYS: usize = 2048;
/// A batch with more than one differing key in this many rows: the next batch is
/// merged whole.
const DENSE_KEYS: usize = 4;

/// One side's `(key, row hash)` of the rows in `ranges` (and the diff's condition);
/// None when there are more than [`HASH_KEYS`] of them (only duplicated keys allow it).
async fn row_hashes(side: &Side, plan: &Plan, ranges: &[(i128, i128)]) -> Result<RowHashes> {
    let sql = sql::row_hashes_sql(
        side.dialect,
        &side.triples(plan, 0..plan.columns.len()),
        &side.table,
        &side.where_clause(plan, Some(ranges_cond(&side.cols[0], ranges))),
        side.hash,
    );
    let (mut out, mut over) = (Vec::new(), false);
    side.db
        .query_each_with_setup(&side.scattered_setup(), &sql, &mut |row| {
            if out.len() >= HASH_KEYS {
                over = true;
            } else if let Some(k) = row.first().and_then(Value::as_i64) {
                out.push((k, sql::combine_sums(row[1..].iter().map(as_u64_mod))));
            }
        })
        .await
        .map_err(|e| {
            e.context(format!(
                "{} (hashing the rows of differing buckets)",
                side.name()
            ))
        })?;
    Ok((!over).then_some(out))
}

/// The keys, sorted, whose row hashes differ between the sides or that one side lacks;
/// a key twice on one side is kept, so that the merge names the duplicate.
fn differing_keys(source: Vec<(i64, u64)>, target: Vec<(i64, u64)>) -> Vec<i64> {
    let mut keys = Vec::new();
    let mut left: HashMap<i64, u64> = HashMap::with_capacity(source.len());
    for (k, h) in source {
        if left.insert(k, h).is_some() {
            keys.push(k);
        }
    }
    for (k, h) in target {
        match left.remove(&k) {
            Some(hs) if hs == h => {}
            _ => keys.push(k),
        }
    }
    keys.extend(left.into_keys());
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// `k IN (...)` over `keys`.
fn keys_cond(k: &str, keys: &[i64]) -> String {
    let list: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    format!("{k} IN ({})", list.join(","))
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
    span: (i64, i64),
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
        running.push(hash_slice(side, plan, r, span, slice, &sums));
    }
    while let Some(n) = running.next().await {
        done += n?;
        report(done);
        if let Some(slice) = left.next() {
            running.push(hash_slice(side, plan, r, span, slice, &sums));
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
    span: (i64, i64),
    slice: &str,
    sums: &std::sync::Mutex<Vec<(u64, u64)>>,
) -> Result<u64> {
    let (mut n, mut outside) = (0u64, false);
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

/// One side's row count and hash sums (each part mod 2^64) over the keys in `range`,
/// ungrouped.
async fn total(side: &Side, plan: &Plan, range: (i64, i64)) -> Result<(u64, Vec<u64>)> {
    let sql = range_total_sql(
        side.dialect,
        &side.triples(plan, 0..plan.columns.len()),
        range,
        &side.table,
        plan.where_sql.as_deref(),
        side.hash,
    );
    let mut out = (0u64, Vec::new());
    side.db
        .query_each_with_setup(&side.aggregate_setup(), &sql, &mut |row| {
            out.0 = row.first().and_then(Value::as_i64).unwrap_or(0) as u64;
            // SUM over no rows is NULL: zero, as the empty chunk's sum is
            out.1 = row[1..].iter().map(as_u64_mod).collect();
        })
        .await
        .map_err(|e| e.context(hashing_keys(side, range)))?;
    Ok(out)
}

/// The context of an error while hashing one side's keys in `range`.
fn hashing_keys(side: &Side, range: (i64, i64)) -> String {
    format!(
        "{} (hashing keys {} to {})",
        side.name(),
        range.0,
        range.1 - 1
    )
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
        .map_err(|e| e.context(hashing_keys(side, range)))
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

#[cfg(test)]
mod tests {
    use super::{differing_keys, keys_cond};

    #[test]
    fn only_keys_whose_row_hash_differs_or_that_one_side_lacks_are_fetched() {
        let source = vec![(1, 10), (2, 20), (3, 30), (5, 50)];
        let target = vec![(3, 31), (1, 10), (4, 40), (2, 20)];
        assert_eq!(differing_keys(source, target), vec![3, 4, 5]);
        assert_eq!(
            differing_keys(vec![(7, 1)], vec![(7, 1)]),
            Vec::<i64>::new()
        );
    }

    #[test]
    fn a_key_twice_on_either_side_is_fetched_so_that_the_merge_names_it() {
        assert_eq!(differing_keys(vec![(1, 5), (1, 5)], vec![(1, 5)]), vec![1]);
        assert_eq!(differing_keys(vec![(1, 5)], vec![(1, 5), (1, 5)]), vec![1]);
        assert_eq!(keys_cond("\"id\"", &[3, 4]), "\"id\" IN (3,4)");
    }
}
