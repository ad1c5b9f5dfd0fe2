//! Comparing the rows of both sides, key by key: the sorted merge and its counter.

use super::stream::{Item, Puller};
use super::*;
use std::sync::Arc;

pub(super) fn key_text(plan: &Plan, raw: &[Value], range: std::ops::Range<usize>) -> String {
    range
        .map(|i| format!("{} = {}", plan.columns[i].name, raw[i]))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn duplicate_key(plan: &Plan, side: &str, raw: &[Value]) -> Error {
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

pub(super) struct Counter<'a> {
    pub(super) summary: &'a mut Summary,
    pub(super) sink: &'a mut dyn DiffSink,
    pub(super) plan: &'a Plan,
    /// Bucket by bucket: rows whose key was not in the other side's same bucket, held
    /// to be paired across buckets at the end (see [`Counter::settle`]).
    pub(super) unpaired: Option<Unpaired>,
}

/// Rows of each side not yet paired, by normalized key.
#[derive(Default)]
pub(super) struct Unpaired {
    source: BTreeMap<Vec<Norm>, Item>,
    target: BTreeMap<Vec<Norm>, Item>,
}

impl Counter<'_> {
    /// Pair the rows each bucket left alone by key across buckets, then report the
    /// rest as only in one side. A key whose two sides were bucketed apart (the
    /// databases rendered it differently) is so never split into "only in source" plus
    /// "only in target"; memory stays bounded by the rows fetched.
    pub(super) fn settle(&mut self) -> Result<()> {
        let Some(u) = self.unpaired.take() else {
            return Ok(());
        };
        let mut target = u.target;
        for (key, s) in u.source {
            match target.remove(&key) {
                Some(t) => self.pair(s, t)?,
                None => self.only_source(s.raw, 1)?,
            }
        }
        for (_, t) in target {
            self.only_target(t.raw, 1)?;
        }
        Ok(())
    }
    pub(super) fn only_source(&mut self, row: Vec<Value>, count: u64) -> Result<()> {
        self.summary.only_in_source += count;
        self.sink
            .difference(self.plan, Difference::OnlyInSource { row, count })
    }
    pub(super) fn only_target(&mut self, row: Vec<Value>, count: u64) -> Result<()> {
        self.summary.only_in_target += count;
        self.sink
            .difference(self.plan, Difference::OnlyInTarget { row, count })
    }
    /// Compare two rows with the same key.
    pub(super) fn pair(&mut self, s: Item, t: Item) -> Result<()> {
        let mut cols = Vec::new();
        for i in self.plan.key_len..self.plan.columns.len() {
            if !equal_values(&self.plan.columns[i], &s.raw[i], &t.raw[i]) {
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
    pub(super) fn bucket(&mut self, src: Vec<Item>, tgt: Vec<Item>) -> Result<()> {
        if self.plan.multiset {
            let mut m: HashMap<Vec<Norm>, (u64, u64, Vec<Value>)> = HashMap::new();
            for it in src {
                let e = m.entry(it.norms.into_vec()).or_insert((0, 0, it.raw));
                e.0 += 1;
            }
            for it in tgt {
                let e = m.entry(it.norms.into_vec()).or_insert((0, 0, it.raw));
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
                None => match &mut self.unpaired {
                    Some(u) => {
                        if let Some(old) = u.target.insert(key, it) {
                            return Err(duplicate_key(self.plan, "target", &old.raw));
                        }
                    }
                    None => self.only_target(it.raw, 1)?,
                },
            }
        }
        let mut rest: Vec<(Vec<Norm>, Item)> = m.into_iter().collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, it) in rest {
            match &mut self.unpaired {
                Some(u) => {
                    if let Some(old) = u.source.insert(key, it) {
                        return Err(duplicate_key(self.plan, "source", &old.raw));
                    }
                }
                None => self.only_source(it.raw, 1)?,
            }
        }
        Ok(())
    }
    pub(super) fn multiset_pair(&mut self, raw: Vec<Value>, cs: u64, ct: u64) -> Result<()> {
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

/// With a key given by the user that no unique index guarantees, look for a duplicate.
pub(super) async fn check_unique(s: &Side, t: &Side, plan: &Plan) -> Result<()> {
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
///
/// Each side's [`Puller`] checks that its keys rise (a batch at a time, as it arrives),
/// so the loop compares the two current rows' keys where they lie, copying nothing.
pub(super) async fn merge(
    s: &Side,
    t: &Side,
    plan: &Arc<Plan>,
    summary: &mut Summary,
    sink: &mut dyn DiffSink,
    progress: ProgressFn<'_>,
    total: Option<u64>,
) -> Result<()> {
    let mut ps = Puller::checked(sorted(s, plan), KeyOrder::new(plan, "source"));
    let mut pt = Puller::checked(sorted(t, plan), KeyOrder::new(plan, "target"));
    let k = if plan.multiset {
        plan.columns.len()
    } else {
        plan.key_len
    };
    let mut meter = ProgressMeter::new("rows", total);
    let (mut ns, mut nt) = (0u64, 0u64);
    let mut counter = Counter {
        summary,
        sink,
        plan,
        unpaired: None,
    };
    loop {
        let ord = match (ps.peek().await?, pt.peek().await?) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(a), Some(b)) => a.norms[..k].cmp(&b.norms[..k]),
        };
        if plan.multiset {
            // one copy of the row's values per distinct row, to gather its copies
            let key = if ord != std::cmp::Ordering::Greater {
                ps.peek().await?.expect("present").norms[..k].to_vec()
            } else {
                pt.peek().await?.expect("present").norms[..k].to_vec()
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
        if let Some(mut p) = meter.tick(ns + nt, false) {
            // an estimate may fall short of the rows
            p.total = p.total.map(|t| t.max(p.done));
            progress(p);
        }
    }
    if let Some(mut p) = meter.tick(ns + nt, true) {
        p.total = p.total.map(|_| p.done);
        progress(p);
    }
    counter.summary.source_rows = ns;
    counter.summary.target_rows = nt;
    Ok(())
}

/// The rows of one side must arrive in strictly rising key order (or, for a multiset,
/// in order of all their values): checked batch by batch as they arrive, comparing
/// neighbours where they lie and keeping only the last key of a batch.
pub(super) struct KeyOrder {
    plan: Arc<Plan>,
    side: &'static str,
    last: Option<Vec<Norm>>,
}

impl KeyOrder {
    pub(super) fn new(plan: &Arc<Plan>, side: &'static str) -> KeyOrder {
        KeyOrder {
            plan: plan.clone(),
            side,
            last: None,
        }
    }

    pub(super) fn check(&mut self, batch: &[Item]) -> Result<()> {
        let plan = &*self.plan;
        let k = if plan.multiset {
            plan.columns.len()
        } else {
            plan.key_len
        };
        let mut prev: Option<&[Norm]> = self.last.as_deref();
        for it in batch {
            let key = &it.norms[..k];
            if let Some(p) = prev {
                match p.cmp(key) {
                    std::cmp::Ordering::Equal if !plan.multiset => {
                        return Err(duplicate_key(plan, self.side, &it.raw));
                    }
                    std::cmp::Ordering::Greater => return Err(order_error(self.side)),
                    _ => {}
                }
            }
            prev = Some(key);
        }
        if let Some(l) = batch.last() {
            self.last = Some(l.norms[..k].to_vec());
        }
        Ok(())
    }
}

/// Rows of `side` arrived out of the key order cutover compares in.
pub(super) fn order_error(side: &str) -> Error {
    Error::runtime(format!(
        "rows of the {side} arrive out of key order: the database sorts the key differently from cutover"
    ))
    .with_hint("use --key with columns of plain integer or text types")
}
