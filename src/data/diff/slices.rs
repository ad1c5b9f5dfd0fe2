//! The first bucket level of a table without a single integer key, hashed slice by
//! slice so that progress is real from the first seconds.
//!
//! Each side's rows are cut into slices that partition them, each hashed by its own
//! query into the same modulo buckets; a side's bucket sums are the sums over its
//! slices, so the result is exactly the one-query result whatever the cut. The two
//! sides are cut independently (nothing requires a key to fall in the same slice on
//! both sides: slices only split the work, buckets still pair the rows).
//!
//! * Pages (PostgreSQL): ranges of the table's storage pages (`ctid` ranges, a TID
//!   range scan each), the last one open so rows in pages added meanwhile are read.
//! * Key walk (MariaDB/MySQL, where the first key column leads an index, as a primary
//!   key does; InnoDB stores rows in primary-key order): each slice ends at the value
//!   `step` rows further in the index (`ORDER BY k LIMIT 1 OFFSET step`); slices are
//!   `k <= b₁`, `b₁ < k <= b₂`, …, `k > bₙ`, and `k IS NULL`. The same literal bounds
//!   two neighbouring slices, so every row lands in exactly one whatever its collation.
//! * Otherwise one query, as before (small tables, SQLite sides, unknown layouts).
//!
//! Slices are few (about [`SLICES`] a side): each returns up to one row per bucket, so
//! more slices would mean more result rows for the same table.

use super::buckets::{Agg, aggregate};
use super::*;
use crate::data::normalize::Class;
use std::sync::Mutex;

/// Slices a side is cut into (about).
const SLICES: u64 = 8;
/// Slices hashed at once on one side.
const IN_FLIGHT: usize = 2;
/// Tables of fewer rows (by the catalog) are hashed in one query.
const MIN_ROWS: u64 = 200_000;
/// Pages in a slice at most (256 MiB of 8 KiB pages).
const MAX_SLICE_PAGES: u64 = 32_768;

/// How one side is cut.
enum Cut {
    Whole,
    /// Storage pages: `pages` in all, `per` a slice.
    Pages {
        pages: u64,
        per: u64,
    },
    /// Walk the first key column's index `step` rows at a time.
    Walk {
        step: u64,
        nullable: bool,
    },
}

/// Progress of both sides: rows hashed of the rows expected.
struct Shared<'a> {
    /// False: one query a side, progress only at the end (as segments).
    sliced: bool,
    progress: ProgressFn<'a>,
    state: Mutex<(ProgressMeter, [(u64, u64); 2])>,
}

impl Shared<'_> {
    fn report(&self, side: usize, done: u64, expected: u64) {
        if !self.sliced {
            return;
        }
        let mut st = self.state.lock().expect("progress lock");
        st.1[side] = (done, expected.max(done));
        let done: u64 = st.1.iter().map(|x| x.0).sum();
        let total: u64 = st.1.iter().map(|x| x.1).sum();
        if let Some(mut p) = st.0.tick(done, true) {
            p.total = Some(total);
            (self.progress)(p);
        }
    }
}

/// Level-1 (count, hash sum) per bucket of both sides, slice by slice, reporting rows
/// hashed of the rows expected (`estimates`: the catalog's, per side) as slices end.
pub(super) async fn level1(
    s: &Side,
    t: &Side,
    plan: &Plan,
    modulus: i64,
    estimates: (Option<u64>, Option<u64>),
    progress: ProgressFn<'_>,
) -> Result<(Agg, Agg)> {
    let (cs, ct) = tokio::join!(cut(s, plan, estimates.0), cut(t, plan, estimates.1));
    let sliced = !matches!((&cs, &ct), (Cut::Whole, Cut::Whole));
    let meter = if sliced {
        ProgressMeter::new("rows hashed", None)
    } else {
        // one query a side: only the end is known
        ProgressMeter::new("segments", Some(2))
    };
    let shared = Shared {
        sliced,
        progress,
        state: Mutex::new((
            meter,
            [(0, estimates.0.unwrap_or(0)), (0, estimates.1.unwrap_or(0))],
        )),
    };
    if sliced && let Some(mut p) = shared.state.lock().expect("progress lock").0.tick(0, true) {
        p.total = Some(estimates.0.unwrap_or(0) + estimates.1.unwrap_or(0));
        progress(p);
    }
    let (a, b) = tokio::try_join!(
        run(s, plan, modulus, &cs, estimates.0, 0, &shared),
        run(t, plan, modulus, &ct, estimates.1, 1, &shared)
    )?;
    let mut st = shared.state.into_inner().expect("progress lock");
    if sliced {
        let done: u64 = st.1.iter().map(|x| x.0).sum();
        if let Some(mut p) = st.0.tick(done, true) {
            p.total = Some(done);
            progress(p);
        }
    } else if let Some(p) = st.0.tick(2, true) {
        progress(p);
    }
    Ok((a, b))
}

/// How to cut `side`, from its catalog estimate and layout.
async fn cut(side: &Side, plan: &Plan, estimate: Option<u64>) -> Cut {
    let rows = estimate.unwrap_or(0);
    if !side.server || rows < MIN_ROWS {
        return Cut::Whole;
    }
    let sql = side.dialect.sql();
    if let Some(pages) = page_count(side).await {
        return Cut::Pages {
            pages,
            per: pages_per_slice(pages),
        };
    }
    let Some(k) = plan.columns.first() else {
        return Cut::Whole;
    };
    let (name, native, nullable) = if side.is_source {
        (&k.name, k.source_native, k.source_nullable)
    } else {
        (&k.target_name, k.target_native, k.target_nullable)
    };
    // values that come back as what the column holds, rendered as exact literals
    if !matches!(native, Class::Int | Class::Text | Class::Bytes) {
        return Cut::Whole;
    }
    let Some(probe) = sql.leading_index_probe() else {
        return Cut::Whole;
    };
    let bare = side
        .table_name
        .rsplit('.')
        .next()
        .unwrap_or(&side.table_name);
    match side
        .db
        .query(
            probe,
            &[Value::Text(bare.into()), Value::Text(name.clone())],
        )
        .await
    {
        Ok(r) if !r.rows.is_empty() => Cut::Walk {
            step: rows.div_ceil(SLICES).max(1),
            nullable,
        },
        _ => Cut::Whole,
    }
}

/// The storage pages of a server side's table, when its dialect reads by pages and it
/// has more than one.
async fn page_count(side: &Side) -> Option<u64> {
    let (q, param) = side.dialect.sql().page_count(&side.table)?;
    let r = side.db.query(q, &[Value::Text(param)]).await.ok()?;
    let pages = r.scalar().and_then(Value::as_i64)?;
    (pages > 1).then_some(pages as u64)
}

/// Pages a slice: about [`SLICES`] slices, none over [`MAX_SLICE_PAGES`] (so progress
/// keeps coming on a big table).
fn pages_per_slice(pages: u64) -> u64 {
    pages.div_ceil(SLICES).clamp(1, MAX_SLICE_PAGES)
}

/// The conditions cutting a server side's table into slices of its storage pages (the
/// last one open, so rows in pages added meanwhile are read), when it is big enough
/// (`estimate` rows by the catalog) and its dialect reads by pages; None otherwise.
pub(super) async fn page_slices(side: &Side, estimate: Option<u64>) -> Option<Vec<String>> {
    if !side.server || estimate.unwrap_or(0) < MIN_ROWS {
        return None;
    }
    let pages = page_count(side).await?;
    let per = pages_per_slice(pages);
    let sql = side.dialect.sql();
    (0..pages.div_ceil(per))
        .map(|i| {
            let from = i * per;
            sql.page_slice(from, (from + per < pages).then_some(from + per))
        })
        .collect()
}

/// One side's bucket sums over its slices.
async fn run(
    side: &Side,
    plan: &Plan,
    modulus: i64,
    cut: &Cut,
    estimate: Option<u64>,
    index: usize,
    shared: &Shared<'_>,
) -> Result<Agg> {
    let mut total: Agg = HashMap::new();
    let mut done = 0u64;
    let mut add = |part: Agg, total: &mut Agg| {
        for (b, (n, h)) in part {
            done += n;
            let e = total.entry(b).or_insert((0, 0));
            e.0 += n;
            e.1 = e.1.wrapping_add(h);
        }
        done
    };
    match cut {
        Cut::Whole => {
            let part = aggregate(side, plan, modulus, None, None).await?;
            let done = add(part, &mut total);
            shared.report(index, done, done);
        }
        Cut::Pages { pages, per } => {
            let cuts: Vec<(u64, Option<u64>)> = (0..pages.div_ceil(*per))
                .map(|i| {
                    let from = i * per;
                    (from, (from + per < *pages).then_some(from + per))
                })
                .collect();
            // IN_FLIGHT slices at once: the database scans them as a parallel scan would
            for group in cuts.chunks(IN_FLIGHT) {
                let parts = futures::future::try_join_all(group.iter().map(|(from, to)| {
                    let cond = side
                        .dialect
                        .sql()
                        .page_slice(*from, *to)
                        .expect("a dialect with pages slices them");
                    aggregate(side, plan, modulus, None, Some(cond))
                }))
                .await?;
                let mut done = 0;
                for part in parts {
                    done = add(part, &mut total);
                }
                let read = group.last().and_then(|g| g.1).unwrap_or(*pages);
                // rows expected: the rows per page so far over every page
                let expected = (done as u128 * *pages as u128 / read.max(1) as u128) as u64;
                shared.report(index, done, expected);
            }
        }
        Cut::Walk { step, nullable } => {
            let k = &side.cols[0];
            let mut lo: Option<String> = None;
            loop {
                let hi = boundary(side, plan, lo.as_deref(), *step).await?;
                let mut conds = Vec::new();
                if let Some(lo) = &lo {
                    conds.push(format!("{k} > {lo}"));
                }
                match &hi {
                    Some(hi) => conds.push(format!("{k} <= {hi}")),
                    None if lo.is_none() => conds.push(format!("{k} IS NOT NULL")),
                    None => {}
                }
                let part = aggregate(side, plan, modulus, None, Some(conds.join(" AND "))).await?;
                let done = add(part, &mut total);
                shared.report(index, done, estimate.unwrap_or(0));
                match hi {
                    Some(hi) => lo = Some(hi),
                    None => break,
                }
            }
            if *nullable {
                let part =
                    aggregate(side, plan, modulus, None, Some(format!("{k} IS NULL"))).await?;
                let done = add(part, &mut total);
                shared.report(index, done, done);
            }
        }
    }
    Ok(total)
}

/// The first key column's value `step` rows past `lo` (a literal; None: from the
/// start) in the side's own order, as a literal; None when fewer rows remain.
async fn boundary(side: &Side, plan: &Plan, lo: Option<&str>, step: u64) -> Result<Option<String>> {
    let k = &side.cols[0];
    let cond = match lo {
        Some(lo) => format!("{k} > {lo}"),
        None => format!("{k} IS NOT NULL"),
    };
    let sql = format!(
        "SELECT {k} FROM {}{} ORDER BY {k} LIMIT 1 OFFSET {}",
        side.table,
        side.where_clause(plan, Some(cond)),
        step.saturating_sub(1)
    );
    let r = side
        .db
        .query(&sql, &[])
        .await
        .map_err(|e| e.context(format!("{} (cutting the table into slices)", side.name())))?;
    Ok(r.rows
        .into_iter()
        .next()
        .and_then(|row| row.into_iter().next())
        .filter(|v| !matches!(v, Value::Null))
        .map(|v| v.to_sql_literal(side.dialect)))
}
