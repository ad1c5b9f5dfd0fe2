//! Streaming the rows of one side to the comparison, in batches, from a task.

use super::merge::KeyOrder;
use super::side::{OrderNorms, as_bucket, bucket_of, order_norms};
use super::*;
use crate::data::sql::in_list;

pub(super) struct Item {
    pub(super) raw: Vec<Value>,
    /// The normalized key (every column for a multiset): [`order_norms`].
    pub(super) norms: OrderNorms,
}

impl Item {
    pub(super) fn new(plan: &Plan, raw: Vec<Value>) -> Item {
        let norms = order_norms(plan, &raw);
        Item { raw, norms }
    }
}

/// The key of a row the sorted stream read last (updated once a batch, so it costs
/// nothing per row): a failure while streaming names where in the key order it was.
type KeyMark = Arc<std::sync::Mutex<Option<String>>>;

fn after_key(mark: Option<&KeyMark>) -> String {
    match mark.and_then(|m| m.lock().ok().and_then(|k| k.clone())) {
        Some(k) => format!(" after key ({k})"),
        None => " before its first rows were compared".into(),
    }
}

/// Stream `(bucket, row)` of the rows in `set` buckets, in bucket order, from a task.
pub(super) fn fetch(
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
    let what = format!(
        "fetching the rows of {} bucket(s) {} (of {modulus}) from the {name} table {}",
        set.len(),
        bucket_span(&set),
        side.table
    );
    spawn_guarded(tx.clone(), what, None, async move {
        let mut out = Batcher::new(tx);
        let st = db.stream(sql, Vec::new());
        if in_db {
            let read = read_rows(st, name, &mut out, None, |mut row| {
                let b = as_bucket(&row[0]);
                row.remove(0);
                Some((b, Item::new(&plan, row)))
            })
            .await;
            if read {
                out.finish().await;
            }
        } else {
            // cutover computes the buckets: keep the selected rows, then hand them over sorted
            let want: HashSet<i64> = set.iter().copied().collect();
            let mut kept: BTreeMap<i64, Vec<Item>> = BTreeMap::new();
            let read = read_rows(st, name, &mut out, None, |row| {
                let it = Item::new(&plan, row);
                let b = bucket_of(&plan, &it.norms, modulus);
                if want.contains(&b) {
                    kept.entry(b).or_default().push(it);
                }
                None
            })
            .await;
            if !read {
                return;
            }
            for (b, items) in kept {
                for it in items {
                    if !out.push((b, it)).await {
                        return;
                    }
                }
            }
            out.finish().await;
        }
    });
    rx
}

/// The query reading one side sorted by key (or by every column for a multiset),
/// keeping only the rows matching `extra` (a condition on this side) when given.
pub(super) fn sorted_sql(side: &Side, plan: &Plan, extra: Option<String>) -> String {
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
    format!(
        "SELECT {} FROM {}{} ORDER BY {}",
        side.select_cols(),
        side.table,
        side.where_clause(plan, extra),
        order.join(", ")
    )
}

/// Stream rows sorted by key (or by every column for a multiset), from a task.
pub(super) fn sorted(side: &Side, plan: &Arc<Plan>) -> mpsc::Receiver<Result<Vec<Item>>> {
    sorted_where(side, plan, None)
}

/// [`sorted`], with the [`Spent`] handle through which the rows compared go back to
/// the streaming task to be freed.
pub(super) fn sorted_spent(
    side: &Side,
    plan: &Arc<Plan>,
) -> (mpsc::Receiver<Result<Vec<Item>>>, Spent) {
    sorted_where_spent(side, plan, None, true)
}

/// Batches of rows [`Spent`] holds for their streaming task at most (beyond, the
/// comparing thread frees them itself).
const SPENT_BATCHES: usize = 4;

/// Rows a comparison is done with, handed back to the task that decoded them, which
/// frees them as it streams. Freed on the comparing thread instead, every row's
/// allocations go back to the streaming thread's malloc arena under the arena's lock,
/// which the streaming thread takes for each row it decodes: the two contended for it
/// (a MariaDB side of 2M rows made 3K-332K futex calls a run, 44% of them in freeing
/// rows, 30% in decoding them, and its CPU time varied by a quarter).
#[derive(Clone, Default)]
pub(super) struct Spent(Arc<std::sync::Mutex<Vec<Vec<Item>>>>);

impl Spent {
    /// Hand back rows; freed here when the streaming task has not taken the last ones
    /// (or is done).
    pub(super) fn give(&self, rows: Vec<Item>) {
        let Ok(mut held) = self.0.lock() else {
            return;
        };
        if held.len() < SPENT_BATCHES {
            held.push(rows);
        }
    }

    /// Free the rows handed back (on the streaming task's thread).
    fn free(&self) {
        let taken = match self.0.lock() {
            Ok(mut held) => std::mem::take(&mut *held),
            Err(_) => return,
        };
        drop(taken);
    }
}

/// [`sorted`], keeping only the rows matching `extra` (a condition on this side).
pub(super) fn sorted_where(
    side: &Side,
    plan: &Arc<Plan>,
    extra: Option<String>,
) -> mpsc::Receiver<Result<Vec<Item>>> {
    // the whole table through the engine's bulk stream (PostgreSQL's COPY); the key
    // ranges of the range strategy keep the driver (a COPY costs a round trip more to
    // set up, which small ranges would pay many times)
    let bulk = extra.is_none();
    sorted_where_by(side, plan, extra, bulk)
}

/// [`sorted_where`], through the engine's bulk stream when `bulk` (for many rows).
pub(super) fn sorted_where_by(
    side: &Side,
    plan: &Arc<Plan>,
    extra: Option<String>,
    bulk: bool,
) -> mpsc::Receiver<Result<Vec<Item>>> {
    sorted_where_spent(side, plan, extra, bulk).0
}

/// [`sorted_where_by`], with its [`Spent`] handle.
fn sorted_where_spent(
    side: &Side,
    plan: &Arc<Plan>,
    extra: Option<String>,
    bulk: bool,
) -> (mpsc::Receiver<Result<Vec<Item>>>, Spent) {
    let sql = sorted_sql(side, plan, extra);
    let spent = Spent::default();
    if let Some(file) = &side.local {
        let rx = super::sqlite_local::sorted(file.clone(), sql, side, plan);
        return (rx, spent);
    }
    let freer = spent.clone();
    let (tx, rx) = mpsc::channel(4);
    let db = side.db.clone();
    let plan = plan.clone();
    let name = side.name();
    let what = format!("streaming the {name} table {} in key order", side.table);
    let mark: KeyMark = Arc::new(std::sync::Mutex::new(None));
    let guard_mark = mark.clone();
    spawn_guarded(tx.clone(), what, Some(guard_mark), async move {
        let mut out = Batcher::new(tx);
        let mut seen = 0usize;
        let key_len = plan.key_len.max(1).min(plan.columns.len());
        let read = read_rows(
            if bulk {
                crate::db::stream_bulk(&db, sql)
            } else {
                db.stream(sql, Vec::new())
            },
            name,
            &mut out,
            Some(&mark),
            |row| {
                if seen.is_multiple_of(BATCH) {
                    freer.free();
                    if let Ok(mut m) = mark.lock() {
                        let key: Vec<String> = row[..key_len.min(row.len())]
                            .iter()
                            .map(|v| v.to_string())
                            .collect();
                        *m = Some(key.join(", "));
                    }
                }
                seen += 1;
                Some(Item::new(&plan, row))
            },
        )
        .await;
        if read {
            out.finish().await;
        }
    });
    (rx, spent)
}

/// The first and last bucket of a set, for messages.
fn bucket_span(set: &[i64]) -> String {
    match (set.first(), set.last()) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{a}..{b}"),
        _ => "none".into(),
    }
}

/// Run a streamer on its own task; if it panics, the receiver gets an error naming
/// what it was reading instead of an early end of rows (which would read as "no
/// more rows" and could make a differing table look equal).
fn spawn_guarded<T: Send + 'static>(
    tx: mpsc::Sender<Result<Vec<T>>>,
    what: String,
    mark: Option<KeyMark>,
    task: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let inner = tokio::spawn(task);
    tokio::spawn(async move {
        if let Err(e) = inner.await {
            let why = if e.is_panic() {
                let p = e.into_panic();
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".into())
            } else {
                e.to_string()
            };
            let at = if mark.is_some() {
                after_key(mark.as_ref())
            } else {
                String::new()
            };
            let _ = tx
                .send(Err(Error::runtime(format!(
                    "the data diff failed while {what}{at}: {why}"
                ))))
                .await;
        }
    });
}

/// Hands items to the comparison in batches of [`BATCH`].
struct Batcher<T> {
    tx: mpsc::Sender<Result<Vec<T>>>,
    batch: Vec<T>,
}

impl<T> Batcher<T> {
    fn new(tx: mpsc::Sender<Result<Vec<T>>>) -> Self {
        Batcher {
            tx,
            batch: Vec::with_capacity(BATCH),
        }
    }

    /// Add one item, sending a full batch; false when the receiver is gone.
    async fn push(&mut self, item: T) -> bool {
        self.batch.push(item);
        self.batch.len() < BATCH
            || self
                .tx
                .send(Ok(std::mem::take(&mut self.batch)))
                .await
                .is_ok()
    }

    /// Send the last (possibly empty) batch.
    async fn finish(self) {
        let _ = self.tx.send(Ok(self.batch)).await;
    }
}

/// The one read loop of every streamer: each row of `st` goes through `item`, and what
/// it returns is batched out (the caller finishes the batcher). False when a read
/// failed (the error, naming the side, is sent) or the receiver is gone.
async fn read_rows<T>(
    mut st: futures::stream::BoxStream<'_, Result<Vec<Value>>>,
    name: &str,
    out: &mut Batcher<T>,
    mark: Option<&KeyMark>,
    mut item: impl FnMut(Vec<Value>) -> Option<T>,
) -> bool {
    let point = format!("diff-stream:{name}");
    while let Some(r) = st.next().await {
        crate::crash::panic_point(&point);
        match r {
            Ok(row) => {
                if let Some(it) = item(row)
                    && !out.push(it).await
                {
                    return false;
                }
            }
            Err(e) => {
                let e = match mark {
                    Some(_) => e.context(format!("{name}{}", after_key(mark))),
                    None => e.context(name),
                };
                let _ = out.tx.send(Err(e)).await;
                return false;
            }
        }
    }
    true
}

/// Pulls items one at a time out of a batched channel.
pub(super) struct Puller<T> {
    pub(super) rx: mpsc::Receiver<Result<Vec<T>>>,
    pub(super) buf: std::collections::VecDeque<T>,
    pub(super) done: bool,
    /// Sorted rows: each batch is checked for key order as it arrives.
    check: Option<BatchCheck<T>>,
}

type BatchCheck<T> = Box<dyn FnMut(&[T]) -> Result<()> + Send>;

impl Puller<Item> {
    /// A puller of sorted rows whose key order is checked batch by batch.
    pub(super) fn checked(rx: mpsc::Receiver<Result<Vec<Item>>>, mut order: KeyOrder) -> Self {
        let mut p = Puller::new(rx);
        p.check = Some(Box::new(move |b: &[Item]| order.check(b)));
        p
    }
}

impl<T> Puller<T> {
    pub(super) fn new(rx: mpsc::Receiver<Result<Vec<T>>>) -> Self {
        Puller {
            rx,
            buf: Default::default(),
            done: false,
            check: None,
        }
    }
    pub(super) async fn fill(&mut self) -> Result<()> {
        while self.buf.is_empty() && !self.done {
            match self.rx.recv().await {
                Some(Ok(b)) => {
                    if let Some(check) = &mut self.check {
                        check(&b)?;
                    }
                    // the buffer is empty: take the batch's own allocation
                    self.buf = b.into();
                }
                Some(Err(e)) => return Err(e),
                None => self.done = true,
            }
        }
        Ok(())
    }
    pub(super) async fn peek(&mut self) -> Result<Option<&T>> {
        self.fill().await?;
        Ok(self.buf.front())
    }
    pub(super) async fn next(&mut self) -> Result<Option<T>> {
        self.fill().await?;
        Ok(self.buf.pop_front())
    }
}
