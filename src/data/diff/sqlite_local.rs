//! SQLite at SQLite's speed.
//!
//! * Both sides SQLite files: one blocking thread steps both tables in key order and
//!   merges them where the values lie. A pair of rows whose compared columns hold the
//!   very same stored values (storage class and bytes) is equal under any
//!   normalization, so it is passed over without being copied; every other row goes
//!   through the same normalization and the same [`Counter`] as the general merge.
//! * One side a SQLite file, keyed merge: the blocking thread stepping the file merges
//!   it with the server's rows, which stream sorted from their own task
//!   ([`merge_with_server`]); a SQLite column is compared where it lies and decoded
//!   only when it does not hold the server's very value.
//! * Otherwise (key ranges, a multiset) a SQLite side is read by a blocking thread in
//!   batches ([`sorted`]) into the general merge, instead of row by row through sqlx.
//!
//! Both read with the general merge's own query ([`sorted_sql`]), check key order and
//! uniqueness the same way, pass the same panic points and name the last key reached
//! when a read fails, so the answer and the failures are those of the general path.

use super::merge::{Counter, KeyOrder, duplicate_key};
use super::stream::{Item, Spent, sorted_sql};
use super::*;
use crate::db::sqlite_stream::{self, Cursor};
use std::cmp::Ordering;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

/// Rows between two key marks (as the general streamers mark them).
const MARK_EVERY: u64 = BATCH as u64;
/// Rows between two progress reports from the reading thread.
const PROGRESS_EVERY: u64 = 1 << 16;
/// Differences handed over at once.
const FOUND_BATCH: usize = 256;

/// The SQLite file behind `side`, if it is one.
pub(super) async fn locate(side: &mut Side) {
    side.local = sqlite_stream::local_file(&side.db).await;
}

/// What the reading thread found.
enum Found {
    OnlySource(Item),
    OnlyTarget(Item),
    /// Same key, some compared column not stored identically: compared by the counter.
    Pair(Item, Item),
    /// Rows read so far on both sides.
    Read(u64),
    /// The end: rows of the source and of the target.
    Done(u64, u64),
}

/// Diff two SQLite files keyed by the plan's key in one thread, or a SQLite file
/// against a server table ([`merge_with_server`]). False when this path does not apply
/// (no side is a file, or no key), so the caller takes the general one.
pub(super) async fn merge_files(
    s: &Side,
    t: &Side,
    plan: &Arc<Plan>,
    summary: &mut Summary,
    sink: &mut dyn DiffSink,
    progress: ProgressFn<'_>,
    total: Option<u64>,
) -> Result<bool> {
    if plan.multiset {
        return Ok(false);
    }
    let (Some(fs), Some(ft)) = (s.local.clone(), t.local.clone()) else {
        return merge_with_server(s, t, plan, summary, sink, progress, total).await;
    };
    let job = Job {
        plan: plan.clone(),
        source: (fs, sorted_sql(s, plan, None), s.table.clone()),
        target: (ft, sorted_sql(t, plan, None), t.table.clone()),
    };
    let (tx, rx) = mpsc::channel::<Result<Vec<Found>>>(8);
    let reader = tokio::task::spawn_blocking(move || job.run(tx));
    let what = format!("the SQLite tables {} and {}", s.table, t.table);
    receive(rx, reader, &what, plan, summary, sink, progress, total).await?;
    Ok(true)
}

/// Diff a SQLite file against a server table keyed by the plan's key: the blocking
/// thread stepping the file also merges, taking the server's rows from their own
/// streaming task ([`super::stream::sorted`], key order checked batch by batch as the
/// general merge does). Both engines stream at once, in parallel with the merge; a
/// SQLite row is compared where it lies and decoded only when it differs. False when
/// not exactly one side is a file.
async fn merge_with_server(
    s: &Side,
    t: &Side,
    plan: &Arc<Plan>,
    summary: &mut Summary,
    sink: &mut dyn DiffSink,
    progress: ProgressFn<'_>,
    total: Option<u64>,
) -> Result<bool> {
    let (file, local, server) = match (&s.local, &t.local) {
        (Some(f), None) => (f.clone(), s, t),
        (None, Some(f)) => (f.clone(), t, s),
        _ => return Ok(false),
    };
    let (rx, spent) = super::stream::sorted_spent(server, plan);
    let job = OneFile {
        plan: plan.clone(),
        local_is_source: local.is_source,
        file,
        sql: sorted_sql(local, plan, None),
        table: local.table.clone(),
        server: Incoming {
            rx,
            buf: Default::default(),
            order: KeyOrder::new(plan, server.name()),
            done: false,
            spent,
            used: Vec::new(),
        },
    };
    let (tx, rx) = mpsc::channel::<Result<Vec<Found>>>(8);
    let reader = tokio::task::spawn_blocking(move || job.run(tx));
    let what = format!("the tables {} and {}", s.table, t.table);
    receive(rx, reader, &what, plan, summary, sink, progress, total).await?;
    Ok(true)
}

/// Count and report what a merging thread found; the rows of both sides go into the
/// summary.
#[allow(clippy::too_many_arguments)]
async fn receive(
    mut rx: mpsc::Receiver<Result<Vec<Found>>>,
    reader: tokio::task::JoinHandle<()>,
    what: &str,
    plan: &Arc<Plan>,
    summary: &mut Summary,
    sink: &mut dyn DiffSink,
    progress: ProgressFn<'_>,
    total: Option<u64>,
) -> Result<()> {
    let mut counter = Counter {
        summary,
        sink,
        plan,
        unpaired: None,
    };
    let mut meter = ProgressMeter::new("rows", total);
    let mut done = None;
    while let Some(batch) = rx.recv().await {
        for f in batch? {
            match f {
                Found::OnlySource(it) => counter.only_source(it.raw, 1)?,
                Found::OnlyTarget(it) => counter.only_target(it.raw, 1)?,
                Found::Pair(a, b) => counter.pair(a, b)?,
                Found::Read(n) => {
                    if let Some(mut p) = meter.tick(n, false) {
                        // an estimate may fall short of the rows
                        p.total = p.total.map(|t| t.max(p.done));
                        progress(p);
                    }
                }
                Found::Done(ns, nt) => done = Some((ns, nt)),
            }
        }
    }
    // the thread catches its own panics; a join error here is one it could not
    if let Err(e) = reader.await {
        return Err(Error::runtime(format!(
            "the data diff failed while merging {what}: {e}"
        )));
    }
    let Some((ns, nt)) = done else {
        return Err(Error::runtime(format!(
            "the data diff of {what} stopped before the end of the rows"
        )));
    };
    if let Some(mut p) = meter.tick(ns + nt, true) {
        p.total = p.total.map(|_| p.done);
        progress(p);
    }
    counter.summary.source_rows = ns;
    counter.summary.target_rows = nt;
    Ok(())
}

/// Everything the merging thread needs: the plan and, per side, file, query and table.
struct Job {
    plan: Arc<Plan>,
    source: (PathBuf, String, String),
    target: (PathBuf, String, String),
}

/// Where each side's reading had got to (for the message when it fails).
#[derive(Default)]
struct Marks {
    /// The side being stepped when the failure came.
    side: &'static str,
    source: Option<String>,
    target: Option<String>,
}

impl Marks {
    fn at(&self) -> String {
        let key = if self.side == "source" {
            &self.source
        } else {
            &self.target
        };
        match key {
            Some(k) => format!(" after key ({k})"),
            None => " before its first rows were compared".into(),
        }
    }
}

/// The key of the cursor's row as text (for messages).
fn key_text(c: &Cursor<'_>, key_len: usize) -> String {
    (0..key_len.min(c.columns()))
        .map(|i| c.raw(i).value().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The normalized key of the cursor's row, into `out`.
fn key_into(plan: &Plan, c: &Cursor<'_>, out: &mut Vec<Norm>) {
    out.clear();
    out.extend((0..plan.key_len).map(|i| normalize(&c.raw(i).value(), &plan.columns[i])));
}

fn item(plan: &Plan, c: &Cursor<'_>) -> Item {
    Item::new(plan, c.row())
}

fn order_error(side: &str) -> Error {
    Error::runtime(format!(
        "rows of the {side} arrive out of key order: the database sorts the key differently from cutover"
    ))
    .with_hint("use --key with columns of plain integer or text types")
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".into())
}

/// One side's cursor with its current normalized key and the key before it.
struct Walk<'c, 's> {
    c: &'c mut Cursor<'s>,
    name: &'static str,
    live: bool,
    key: Vec<Norm>,
    last: Vec<Norm>,
    rows: u64,
}

impl Walk<'_, '_> {
    /// Step to the next row, checking that keys rise strictly; marks the key every
    /// [`MARK_EVERY`] rows.
    fn step(&mut self, plan: &Plan, mark: &mut Option<String>) -> Result<()> {
        let more = self.c.advance().map_err(|e| {
            let at = match mark {
                Some(k) => format!(" after key ({k})"),
                None => " before its first rows were compared".into(),
            };
            e.context(format!("{}{at}", self.name))
        })?;
        if !more {
            self.live = false;
            return Ok(());
        }
        crate::crash::panic_point(if self.name == "source" {
            "diff-stream:source"
        } else {
            "diff-stream:target"
        });
        if self.rows.is_multiple_of(MARK_EVERY) {
            *mark = Some(key_text(self.c, plan.key_len.max(1)));
        }
        std::mem::swap(&mut self.key, &mut self.last);
        key_into(plan, self.c, &mut self.key);
        if self.rows > 0 {
            match self.last.cmp(&self.key) {
                Ordering::Equal => return Err(duplicate_key(plan, self.name, &self.c.row())),
                Ordering::Greater => return Err(order_error(self.name)),
                Ordering::Less => {}
            }
        }
        self.rows += 1;
        Ok(())
    }
}

impl Job {
    fn run(self, tx: mpsc::Sender<Result<Vec<Found>>>) {
        let mut marks = Marks::default();
        let out = catch_unwind(AssertUnwindSafe(|| self.merge(&tx, &mut marks)));
        let err = match out {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(p) => {
                let table = if marks.side == "source" {
                    &self.source.2
                } else {
                    &self.target.2
                };
                Error::runtime(format!(
                    "the data diff failed while streaming the {} table {table} in key order{}: {}",
                    marks.side,
                    marks.at(),
                    panic_text(p)
                ))
            }
        };
        let _ = tx.blocking_send(Err(err));
    }

    fn merge(&self, tx: &mpsc::Sender<Result<Vec<Found>>>, marks: &mut Marks) -> Result<()> {
        let plan = &*self.plan;
        let (fs, qs, _) = &self.source;
        let (ft, qt, _) = &self.target;
        let compared = plan.key_len..plan.columns.len();
        sqlite_stream::scan_two((fs, qs), (ft, qt), |cs, ct| {
            let mut a = Walk {
                c: cs,
                name: "source",
                live: true,
                key: Vec::new(),
                last: Vec::new(),
                rows: 0,
            };
            let mut b = Walk {
                c: ct,
                name: "target",
                live: true,
                key: Vec::new(),
                last: Vec::new(),
                rows: 0,
            };
            let mut found: Vec<Found> = Vec::with_capacity(FOUND_BATCH);
            let send = |found: &mut Vec<Found>, force: bool| -> bool {
                if found.len() >= FOUND_BATCH || (force && !found.is_empty()) {
                    tx.blocking_send(Ok(std::mem::take(found))).is_ok()
                } else {
                    true
                }
            };
            marks.side = "source";
            a.step(plan, &mut marks.source)?;
            marks.side = "target";
            b.step(plan, &mut marks.target)?;
            let mut next_report = PROGRESS_EVERY;
            loop {
                let ord = match (a.live, b.live) {
                    (false, false) => break,
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (true, true) => a.key.cmp(&b.key),
                };
                match ord {
                    Ordering::Less => {
                        found.push(Found::OnlySource(item(plan, a.c)));
                        marks.side = "source";
                        a.step(plan, &mut marks.source)?;
                    }
                    Ordering::Greater => {
                        found.push(Found::OnlyTarget(item(plan, b.c)));
                        marks.side = "target";
                        b.step(plan, &mut marks.target)?;
                    }
                    Ordering::Equal => {
                        if !compared.clone().all(|i| a.c.raw(i).identical(&b.c.raw(i))) {
                            found.push(Found::Pair(item(plan, a.c), item(plan, b.c)));
                        }
                        marks.side = "source";
                        a.step(plan, &mut marks.source)?;
                        marks.side = "target";
                        b.step(plan, &mut marks.target)?;
                    }
                }
                if !send(&mut found, false) {
                    return Ok(());
                }
                if a.rows + b.rows >= next_report {
                    next_report += PROGRESS_EVERY;
                    found.push(Found::Read(a.rows + b.rows));
                    // progress goes out as it happens, not with the next full batch
                    if !send(&mut found, true) {
                        return Ok(());
                    }
                }
            }
            found.push(Found::Done(a.rows, b.rows));
            send(&mut found, true);
            Ok(())
        })
    }
}

/// The server side's sorted rows, pulled by the merging thread.
struct Incoming {
    rx: mpsc::Receiver<Result<Vec<Item>>>,
    buf: std::collections::VecDeque<Item>,
    order: KeyOrder,
    done: bool,
    /// Rows compared equal go back to their streaming task to be freed there.
    spent: Spent,
    used: Vec<Item>,
}

impl Incoming {
    fn fill(&mut self) -> Result<()> {
        while self.buf.is_empty() && !self.done {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => {
                    self.order.check(&b)?;
                    self.buf = b.into();
                }
                Some(Err(e)) => return Err(e),
                None => self.done = true,
            }
        }
        Ok(())
    }
    fn peek(&mut self) -> Result<Option<&Item>> {
        self.fill()?;
        Ok(self.buf.front())
    }
    fn next(&mut self) -> Result<Option<Item>> {
        self.fill()?;
        Ok(self.buf.pop_front())
    }
    /// A row the comparison is done with: back to its streaming task a batch at a time.
    fn done_with(&mut self, it: Item) {
        self.used.push(it);
        if self.used.len() >= BATCH {
            let rows = std::mem::replace(&mut self.used, Vec::with_capacity(BATCH));
            self.spent.give(rows);
        }
    }
}

/// A SQLite file merged against a server's sorted rows in one blocking thread.
struct OneFile {
    plan: Arc<Plan>,
    local_is_source: bool,
    file: PathBuf,
    sql: String,
    /// The file's table (messages).
    table: String,
    server: Incoming,
}

/// Is the SQLite column `raw` equal, as column `p` compares, to the server's decoded
/// `v`? Stored so that it decodes to the very same value: without decoding; otherwise
/// decoded into `scratch` (reusing its buffer) and compared as the general merge does.
fn same(p: &ColumnPlan, raw: sqlite_stream::Raw<'_>, v: &Value, scratch: &mut Value) -> bool {
    if raw.is(v) {
        return true;
    }
    raw.value_into(scratch);
    equal_values(p, scratch, v)
}

impl OneFile {
    fn run(mut self, tx: mpsc::Sender<Result<Vec<Found>>>) {
        let mut mark: Option<String> = None;
        let name = if self.local_is_source {
            "source"
        } else {
            "target"
        };
        let out = catch_unwind(AssertUnwindSafe(|| self.merge(&tx, &mut mark)));
        let err = match out {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(p) => Error::runtime(format!(
                "the data diff failed while streaming the {name} table {} in key order{}: {}",
                self.table,
                match &mark {
                    Some(k) => format!(" after key ({k})"),
                    None => " before its first rows were compared".into(),
                },
                panic_text(p)
            )),
        };
        let _ = tx.blocking_send(Err(err));
    }

    fn merge(
        &mut self,
        tx: &mpsc::Sender<Result<Vec<Found>>>,
        mark: &mut Option<String>,
    ) -> Result<()> {
        let plan = &*self.plan;
        let k = plan.key_len;
        let compared = k..plan.columns.len();
        let local_is_source = self.local_is_source;
        let server = &mut self.server;
        sqlite_stream::scan(&self.file, &self.sql, |c| {
            let mut a = Walk {
                c,
                name: if local_is_source { "source" } else { "target" },
                live: true,
                key: Vec::new(),
                last: Vec::new(),
                rows: 0,
            };
            let mut server_rows = 0u64;
            let mut scratch = vec![Value::Null; plan.columns.len()];
            let mut found: Vec<Found> = Vec::with_capacity(FOUND_BATCH);
            let only_local = |it| {
                if local_is_source {
                    Found::OnlySource(it)
                } else {
                    Found::OnlyTarget(it)
                }
            };
            let only_server = |it| {
                if local_is_source {
                    Found::OnlyTarget(it)
                } else {
                    Found::OnlySource(it)
                }
            };
            a.step(plan, mark)?;
            let mut next_report = PROGRESS_EVERY;
            loop {
                let ord = match (a.live, server.peek()?) {
                    (false, None) => break,
                    (true, None) => Ordering::Less,
                    (false, Some(_)) => Ordering::Greater,
                    (true, Some(it)) => a.key.as_slice().cmp(&it.norms[..k]),
                };
                match ord {
                    Ordering::Less => {
                        found.push(only_local(item(plan, a.c)));
                        a.step(plan, mark)?;
                    }
                    Ordering::Greater => {
                        let it = server.next()?.expect("peeked");
                        server_rows += 1;
                        found.push(only_server(it));
                    }
                    Ordering::Equal => {
                        let it = server.next()?.expect("peeked");
                        server_rows += 1;
                        let equal = compared.clone().all(|i| {
                            same(&plan.columns[i], a.c.raw(i), &it.raw[i], &mut scratch[i])
                        });
                        if equal {
                            server.done_with(it);
                        } else {
                            let l = item(plan, a.c);
                            found.push(if local_is_source {
                                Found::Pair(l, it)
                            } else {
                                Found::Pair(it, l)
                            });
                        }
                        a.step(plan, mark)?;
                    }
                }
                if found.len() >= FOUND_BATCH
                    && tx.blocking_send(Ok(std::mem::take(&mut found))).is_err()
                {
                    return Ok(());
                }
                if a.rows + server_rows >= next_report {
                    next_report += PROGRESS_EVERY;
                    found.push(Found::Read(a.rows + server_rows));
                    // progress goes out as it happens, not with the next full batch
                    if tx.blocking_send(Ok(std::mem::take(&mut found))).is_err() {
                        return Ok(());
                    }
                }
            }
            found.push(if local_is_source {
                Found::Done(a.rows, server_rows)
            } else {
                Found::Done(server_rows, a.rows)
            });
            let _ = tx.blocking_send(Ok(found));
            Ok(())
        })
    }
}

/// Stream one SQLite side sorted by key in batches of items from a blocking thread
/// (the general merge's input for a SQLite side facing a server).
pub(super) fn sorted(
    file: PathBuf,
    sql: String,
    side: &Side,
    plan: &Arc<Plan>,
) -> mpsc::Receiver<Result<Vec<Item>>> {
    let (tx, rx) = mpsc::channel(4);
    let plan = plan.clone();
    let name = side.name();
    let table = side.table.clone();
    tokio::task::spawn_blocking(move || {
        let mut mark: Option<String> = None;
        let point = format!("diff-stream:{name}");
        let at = |mark: &Option<String>| match mark {
            Some(k) => format!(" after key ({k})"),
            None => " before its first rows were compared".into(),
        };
        let out = catch_unwind(AssertUnwindSafe(|| {
            sqlite_stream::scan(&file, &sql, |c| {
                let key_len = plan.key_len.max(1);
                let mut batch = Vec::with_capacity(BATCH);
                let mut seen = 0u64;
                while c.advance()? {
                    crate::crash::panic_point(&point);
                    if seen.is_multiple_of(MARK_EVERY) {
                        mark = Some(key_text(c, key_len));
                    }
                    seen += 1;
                    batch.push(item(&plan, c));
                    if batch.len() >= BATCH
                        && tx.blocking_send(Ok(std::mem::take(&mut batch))).is_err()
                    {
                        return Ok(());
                    }
                }
                let _ = tx.blocking_send(Ok(batch));
                Ok(())
            })
        }));
        let err = match out {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e.context(format!("{name}{}", at(&mark))),
            Err(p) => Error::runtime(format!(
                "the data diff failed while streaming the {name} table {table} in key order{}: {}",
                at(&mark),
                panic_text(p)
            )),
        };
        let _ = tx.blocking_send(Err(err));
    });
    rx
}
