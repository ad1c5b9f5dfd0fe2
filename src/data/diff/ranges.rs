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

use super::buckets::{Agg, differing};
use super::merge::{Counter, duplicate_key};
use super::side::{as_bucket, as_u64_mod};
use super::stream::{Puller, sorted_where};
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

pub(super) struct Ranges {
    origin: i64,
    /// Key values per bucket.
    width: i64,
    /// One past the largest key on either side.
    end: i128,
    /// Rows on both sides by the catalog (for progress).
    estimate: u64,
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
    let span = hi - lo + 1;
    let rows = ea.unwrap_or(0).max(eb.unwrap_or(0)) as i128;
    // about 40 rows a bucket; a never-analyzed table counts as dense
    let rows = if rows > 0 { rows } else { span };
    let width = (span * 40 / rows.max(1))
        .max(1)
        .max(span / (MAX_CHUNKS * CHUNK_BUCKETS as i128) + 1);
    Ok(Some(Ranges {
        origin: lo as i64,
        width: width as i64,
        end: hi + 1,
        estimate: ea.unwrap_or(0) + eb.unwrap_or(0),
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
    let step = r.width as i128 * CHUNK_BUCKETS as i128;
    let chunks = ((r.end - r.origin as i128) + step - 1) / step;
    let mut meter = ProgressMeter::new("rows hashed", Some(r.estimate));
    if let Some(p) = meter.tick(0, true) {
        progress(p);
    }
    let (mut rows_s, mut rows_t) = (0u64, 0u64);
    stats.levels = 1;
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
            let (set, all) = differing(&a, &b);
            stats.buckets += all;
            stats.differing_buckets += set.len() as u64;
            if !set.is_empty() {
                let whole = may_merge && set.len() as f64 > all as f64 * WHOLE_CHUNK;
                if whole {
                    stats.strategy = "buckets+merge".into();
                }
                let cond = |side: &Side| {
                    if whole {
                        format!("{k} >= {} AND {k} < {}", range.0, range.1, k = side.cols[0])
                    } else {
                        bucket_ranges(&side.cols[0], r, &set)
                    }
                };
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

/// One chunk's per-bucket (count, hash sum) on one side.
async fn aggregate(side: &Side, plan: &Plan, r: &Ranges, range: (i64, i64)) -> Result<Agg> {
    let sql = range_aggregate_sql(
        side.dialect,
        &side.triples(plan, 0..plan.columns.len()),
        r.origin,
        r.width,
        range,
        &side.table,
        plan.where_sql.as_deref(),
        side.hash,
    );
    let mut out: Agg = HashMap::new();
    side.db
        .query_each_with_setup(&side.aggregate_setup(), &sql, &mut |row| {
            let n = row.get(1).and_then(Value::as_i64).unwrap_or(0) as u64;
            let e = out.entry(as_bucket(&row[0])).or_insert((0, 0));
            e.0 += n;
            e.1 =
                e.1.wrapping_add(sql::combine_sums(row[2..].iter().map(as_u64_mod)));
        })
        .await
        .map_err(|e| {
            e.context(format!(
                "{} (hashing keys {} to {})",
                side.name(),
                range.0,
                range.1 - 1
            ))
        })?;
    Ok(out)
}

/// `(k >= a AND k < b) OR ...` over the key values of the buckets in `set` (sorted),
/// adjacent buckets joined into one range.
fn bucket_ranges(k: &str, r: &Ranges, set: &[i64]) -> String {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &b in set {
        match runs.last_mut() {
            Some(last) if last.1 + 1 == b => last.1 = b,
            _ => runs.push((b, b)),
        }
    }
    let terms: Vec<String> = runs
        .iter()
        .map(|(a, b)| {
            let from = r.origin as i128 + *a as i128 * r.width as i128;
            let to = r.origin as i128 + (*b as i128 + 1) * r.width as i128;
            format!("({k} >= {from} AND {k} < {to})")
        })
        .collect();
    format!("({})", terms.join(" OR "))
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
    let mut ps = Puller::new(sorted_where(s, plan, Some(cs)));
    let mut pt = Puller::new(sorted_where(t, plan, Some(ct)));
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
