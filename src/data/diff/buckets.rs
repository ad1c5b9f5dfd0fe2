//! Per-bucket counts and hash sums, and how many buckets to start with.

use super::side::{as_bucket, as_u64_mod, bucket_of, bucket_range, norms};
use super::*;

pub(super) type Agg = HashMap<i64, (u64, u64)>;

/// Per-bucket (count, hash sum) of one side; `within` restricts to buckets of the
/// previous level, `slice` (a server side's condition) to one slice of its rows.
pub(super) async fn aggregate(
    side: &Side,
    plan: &Plan,
    modulus: i64,
    within: Option<(i64, &[i64])>,
    slice: Option<String>,
) -> Result<Agg> {
    let mut out: Agg = HashMap::new();
    if side.server {
        let sql = sql::aggregate_sql(
            side.dialect,
            &side.triples(plan, 0..plan.columns.len()),
            bucket_range(plan),
            modulus,
            &side.table,
            &side.where_clause(plan, slice),
            within,
            side.hash,
        );
        let setup = side.aggregate_setup();
        // one row per bucket, taken as it comes (never a million rows held at once)
        side.db
            .query_each_with_setup(&setup, &sql, &mut |r| {
                let b = as_bucket(&r[0]);
                let n = r[1].as_i64().unwrap_or(0) as u64;
                let e = out.entry(b).or_insert((0, 0));
                e.0 += n;
                e.1 =
                    e.1.wrapping_add(sql::combine_sums(r[2..].iter().map(as_u64_mod)));
            })
            .await
            .map_err(|e| e.context(side.name()))?;
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

pub(super) fn differing(a: &Agg, b: &Agg) -> (Vec<i64>, u64) {
    let mut keys: HashSet<i64> = a.keys().copied().collect();
    keys.extend(b.keys().copied());
    let all = keys.len() as u64;
    let mut d: Vec<i64> = keys.into_iter().filter(|k| a.get(k) != b.get(k)).collect();
    d.sort();
    (d, all)
}

/// The catalog's row estimate of a server table (None for SQLite or when unknown).
pub(super) async fn estimate_rows(side: &Side) -> Option<u64> {
    let (sql, name) = side
        .dialect
        .sql()
        .row_estimate(&side.table, &side.table_name)?;
    let r = side.db.query(sql, &[Value::Text(name)]).await.ok()?;
    r.scalar()
        .and_then(Value::as_i64)
        .and_then(|n| u64::try_from(n).ok())
}

/// First-level bucket count: a prime giving about 40 rows per bucket, at most 262,139
/// (each side's bucket map then stays near 13 MiB; bigger tables get fuller buckets,
/// which the second level splits where they differ).
pub(super) fn level1_buckets(rows: u64) -> i64 {
    const PRIMES: [i64; 4] = [4093, 16381, 65521, 262139];
    PRIMES
        .into_iter()
        .find(|p| *p as u64 * 40 >= rows)
        .unwrap_or(PRIMES[PRIMES.len() - 1])
}

pub(super) fn rows_in_fn(set: &[i64], a: &Agg, b: &Agg) -> u64 {
    set.iter()
        .map(|k| a.get(k).map(|x| x.0).unwrap_or(0) + b.get(k).map(|x| x.0).unwrap_or(0))
        .sum()
}
