//! A MariaDB backup's rows written by cutover itself into the dump's stream, in the
//! dump's own format, instead of by `mariadb-dump`.
//!
//! `mariadb-dump` spends more processor time formatting rows than the server spends
//! sending them; on a two-core machine that, with the backup's compression and the
//! hashing of the dump's text beside it, made the backup a third slower than the bare
//! dump. So for the tables whose rows the dump writes as plain text of the server's
//! values (the types `dump_hash::field_of` admits), the dump is run with
//! `--ignore-table-data` (or, for a backup of tables by name, which that option does
//! not cover, `--no-data` when all of them are such tables), and the rows are read
//! here, on [`READERS`] connections whose snapshots were opened under the same read
//! lock as the dump's, taking turns over slices of about [`SLICE_ROWS`] rows of a
//! one-column integer key (a table without one in one piece). They are written as the
//! dump would have written them (the same `LOCK TABLES` section, INSERT statements of
//! about 1 MiB, one row a line) right after the table's `CREATE TABLE`, before its
//! triggers, and hashed as they go by. The restore reads the file as any dump;
//! `zstd -d | mariadb` loads it too.
//!
//! The stream is checked as it passes: a table whose `CREATE TABLE` never comes (or
//! comes twice), or whose rows the dump wrote after all, fails the backup (never a backup with a
//! table's rows missing or written twice).

use super::dump_hash::{Field, push_decimal};
use super::script::{TopLevel, trimmed};
use crate::db::backup::TableHash;
use crate::error::{Error, Result};
use futures::TryStreamExt;
use sqlx::Row;
use sqlx::mysql::MySqlConnection;
use std::collections::BTreeMap;

/// How the dump writes a column's value in its INSERT statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Out {
    /// A number, as the server's text.
    Bare,
    /// A string, date or time, quoted and escaped.
    Quoted,
    /// A binary value, in hex (`--hex-blob`).
    Hex,
}

/// A column of a table whose rows are written here: its name, its field in the
/// hash's row string, how the dump writes it, and its part in the primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Column {
    pub(super) name: String,
    pub(super) field: Field,
    pub(super) out: Out,
    pub(super) key: Key,
}

/// A column's part in its table's primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
    None,
    /// A column of the key, of an integer type.
    Integer,
    /// A column of the key, of another type.
    Other,
}

/// How the dump writes a value of `data_type` (one `dump_hash::field_of` admits).
pub(super) fn out_of(data_type: &str) -> Out {
    match data_type {
        "tinyint" | "smallint" | "mediumint" | "int" | "bigint" | "decimal" | "year" => Out::Bare,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => Out::Hex,
        _ => Out::Quoted,
    }
}

/// Whether a table can be named in `CREATE TABLE` on one line of the dump (a line
/// break in its name would split the line this reader looks for).
pub(super) fn nameable(table: &str) -> bool {
    !table.contains(['\n', '\r'])
}

/// About the size of one INSERT statement, as `mariadb-dump`'s own (its
/// `net_buffer_length` is 1 MB).
const STATEMENT: usize = 1 << 20;
/// The size of the buffers handed to the writer.
const CHUNK: usize = 1 << 20;
/// About the rows of one slice of a table read by one connection. Each slice is a
/// query whose range scan costs the server more than a part of one full scan: 250
/// slices of 5M rows took it 0.25-1.0 CPU-s more than one `SELECT *` in four runs
/// with the `mariadb` client (2 slices: 0.57 s more in one run, none in the other).
/// 100,000 rows make 50 queries of 5M rows.
const SLICE_ROWS: i128 = 100_000;
/// The connections reading slices at once (each with a server thread behind it).
pub(super) const READERS: usize = 2;
/// The buffers (of [`CHUNK`] bytes) a slice's reader may hold ready for the writer:
/// enough for a whole slice of narrow rows (~9 MB for the bench's 90-byte rows), so
/// that the next slice is read while the writer takes this one, and no more than
/// 16 MiB a reader, whatever the rows' width.
const SLICE_BUFFERS: usize = 16;

/// What the row reader sends the writer.
enum Feed {
    /// The next bytes of a table's section.
    Bytes(Vec<u8>),
    /// The table's section is complete: its hash.
    Done(TableHash),
    /// Reading it failed: the backup fails.
    Failed(Error),
}

/// How a table's rows are read: its columns, and the slices of its rows (`WHERE`
/// conditions on its integer key, or one slice of all rows).
pub(super) struct Plan {
    columns: Vec<Column>,
    slices: Vec<String>,
}

/// The plans of `tables`, in the snapshot of `c`: a table with a one-column integer
/// primary key is cut into slices of about [`SLICE_ROWS`] rows by equal ranges of its
/// key between its least and greatest (uneven keys make uneven slices, never missing
/// or doubled rows: the first slice has no lower bound, the last no upper one).
pub(super) async fn plan(
    c: &mut MySqlConnection,
    redacted: &str,
    tables: &BTreeMap<String, Vec<Column>>,
) -> Result<BTreeMap<String, Plan>> {
    let estimates: BTreeMap<String, i64> = sqlx::query_as::<_, (String, Option<i64>)>(
        "SELECT CAST(table_name AS CHAR), CAST(table_rows AS SIGNED) FROM information_schema.tables WHERE table_schema = DATABASE()",
    )
    .fetch_all(&mut *c)
    .await
    .map_err(|e| crate::db::sqlx_error(redacted, e))?
    .into_iter()
    .map(|(t, n)| (t, n.unwrap_or(0)))
    .collect();
    let mut plans = BTreeMap::new();
    for (table, columns) in tables {
        let keys: Vec<&Column> = columns.iter().filter(|c| c.key != Key::None).collect();
        let rows = i128::from(estimates.get(table).copied().unwrap_or(0));
        let mut slices = vec![String::new()];
        if let [key] = keys[..]
            && key.key == Key::Integer
            && rows > SLICE_ROWS
        {
            let k = super::backup::q(&key.name);
            let sql = format!(
                "SELECT CAST(MIN({k}) AS CHAR), CAST(MAX({k}) AS CHAR) FROM {}",
                super::backup::q(table)
            );
            let (lo, hi): (Option<String>, Option<String>) =
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut *c)
                    .await
                    .map_err(|e| crate::db::sqlx_error(redacted, e))?;
            if let (Some(lo), Some(hi)) = (lo, hi)
                && let (Ok(lo), Ok(hi)) = (lo.parse::<i128>(), hi.parse::<i128>())
            {
                slices = slice_bounds(lo, hi, rows)
                    .iter()
                    .map(|(from, to)| match (from, to) {
                        (None, None) => String::new(),
                        (None, Some(t)) => format!(" WHERE {k} < {t}"),
                        (Some(f), None) => format!(" WHERE {k} >= {f}"),
                        (Some(f), Some(t)) => format!(" WHERE {k} >= {f} AND {k} < {t}"),
                    })
                    .collect();
            }
        }
        plans.insert(
            table.clone(),
            Plan {
                columns: columns.clone(),
                slices,
            },
        );
    }
    Ok(plans)
}

/// The bounds of slices of about [`SLICE_ROWS`] of `rows` rows keyed from `lo` to
/// `hi`: `[from, to)`, the first from nothing, the last to nothing.
fn slice_bounds(lo: i128, hi: i128, rows: i128) -> Vec<(Option<i128>, Option<i128>)> {
    let span = hi - lo + 1;
    let n = (rows / SLICE_ROWS).clamp(1, span.max(1));
    let width = (span + n - 1) / n;
    let mut out = Vec::new();
    let mut from = None;
    let mut at = lo;
    loop {
        at += width;
        if at > hi {
            out.push((from, None));
            return out;
        }
        out.push((from, Some(at)));
        from = Some(at);
    }
}

/// One slice to read: the query, the table's columns, where its bytes go.
struct Job {
    sql: String,
    insert: std::sync::Arc<Vec<u8>>,
    columns: std::sync::Arc<Vec<Column>>,
    out: tokio::sync::mpsc::Sender<Piece>,
}

/// What a slice's reader sends.
enum Piece {
    Bytes(Vec<u8>),
    Done(Sums),
    Failed(Error),
}

/// Buffers the writer hands back, shared by the readers.
type Spent = std::sync::Arc<std::sync::Mutex<std::sync::mpsc::Receiver<Vec<u8>>>>;

/// Writes the section of each table asked for (by the writer, when the dump reaches
/// its `CREATE TABLE`), its slices read by [`READERS`] connections at once, each in
/// the dump's snapshot, and sent in order; then its hash. Ends when the writer stops
/// asking.
async fn serve(
    readers: Vec<MySqlConnection>,
    redacted: String,
    plans: BTreeMap<String, Plan>,
    mut asks: tokio::sync::mpsc::UnboundedReceiver<String>,
    out: tokio::sync::mpsc::Sender<Feed>,
    reuse: std::sync::mpsc::Receiver<Vec<u8>>,
) {
    let spent: Spent = std::sync::Arc::new(std::sync::Mutex::new(reuse));
    // each reader a task of its own: each row is a step of the driver's stream, and
    // the encoding of one slice runs beside the other's
    let mut jobs = Vec::new();
    for c in readers {
        let (tx, rx) = tokio::sync::mpsc::channel::<Job>(1);
        tokio::spawn(read_slices(c, redacted.clone(), rx, spent.clone()));
        jobs.push(tx);
    }
    while let Some(table) = asks.recv().await {
        let end = match table_section(&table, plans.get(&table), &jobs, &out, &spent).await {
            Ok(Some(hash)) => Feed::Done(hash),
            // the writer has stopped: its error is the one reported
            Ok(None) => return,
            Err(e) => Feed::Failed(e),
        };
        let failed = matches!(end, Feed::Failed(_));
        if out.send(end).await.is_err() || failed {
            return;
        }
    }
}

/// One table's section, its slices read in turn by the readers: None if the writer
/// stopped listening.
async fn table_section(
    table: &str,
    plan: Option<&Plan>,
    jobs: &[tokio::sync::mpsc::Sender<Job>],
    out: &tokio::sync::mpsc::Sender<Feed>,
    spent: &Spent,
) -> Result<Option<TableHash>> {
    let Some(plan) = plan else {
        return Err(Error::runtime(format!(
            "the backup was asked for the rows of \"{table}\", which it does not write"
        )));
    };
    let name = super::backup::q(table);
    let mut head = fresh(spent);
    head.extend_from_slice(
        format!(
            "\n--\n-- Dumping data for table {name} (rows read by cutover in the dump's snapshot)\n--\n\n\
             LOCK TABLES {name} WRITE;\n/*!40000 ALTER TABLE {name} DISABLE KEYS */;\n"
        )
        .as_bytes(),
    );
    if out.send(Feed::Bytes(head)).await.is_err() {
        return Ok(None);
    }
    let insert = std::sync::Arc::new(format!("INSERT INTO {name} VALUES\n").into_bytes());
    let columns = std::sync::Arc::new(plan.columns.clone());
    let mut sums = Sums::default();
    let mut pending = std::collections::VecDeque::new();
    let mut next = 0;
    loop {
        // slice i goes to reader i % READERS; each reader has one slice at a time
        while pending.len() < jobs.len() && next < plan.slices.len() {
            let (tx, rx) = tokio::sync::mpsc::channel(SLICE_BUFFERS);
            let job = Job {
                sql: format!("SELECT * FROM {name}{}", plan.slices[next]),
                insert: insert.clone(),
                columns: columns.clone(),
                out: tx,
            };
            if jobs[next % jobs.len()].send(job).await.is_err() {
                return Err(Error::runtime(
                    "a reader of the backup's rows stopped early",
                ));
            }
            pending.push_back(rx);
            next += 1;
        }
        let Some(mut rx) = pending.pop_front() else {
            break;
        };
        loop {
            match rx.recv().await {
                Some(Piece::Bytes(b)) => {
                    if out.send(Feed::Bytes(b)).await.is_err() {
                        return Ok(None);
                    }
                }
                Some(Piece::Done(s)) => {
                    sums.merge(&s);
                    break;
                }
                Some(Piece::Failed(e)) => return Err(e),
                None => {
                    return Err(Error::runtime(
                        "a reader of the backup's rows stopped early",
                    ));
                }
            }
        }
    }
    let mut tail = fresh(spent);
    tail.extend_from_slice(
        format!("/*!40000 ALTER TABLE {name} ENABLE KEYS */;\nUNLOCK TABLES;\n").as_bytes(),
    );
    if out.send(Feed::Bytes(tail)).await.is_err() {
        return Ok(None);
    }
    Ok(Some(sums.hash()))
}

/// A reader: reads each slice it is given on `c`, and sends its INSERT statements.
async fn read_slices(
    mut c: MySqlConnection,
    redacted: String,
    mut jobs: tokio::sync::mpsc::Receiver<Job>,
    spent: Spent,
) {
    while let Some(job) = jobs.recv().await {
        let out = job.out.clone();
        let end = match slice(&mut c, &redacted, &job, &spent).await {
            Ok(Some(sums)) => Piece::Done(sums),
            Ok(None) => continue,
            Err(e) => Piece::Failed(e),
        };
        let _ = out.send(end).await;
    }
}

/// One slice's rows as INSERT statements: their sums, or None if no one listens.
async fn slice(
    c: &mut MySqlConnection,
    redacted: &str,
    job: &Job,
    spent: &Spent,
) -> Result<Option<Sums>> {
    let columns = &job.columns[..];
    let mut buf = fresh(spent);
    let mut sums = Sums::default();
    let mut row_text = Vec::new();
    // bytes of the open statement (0: none open)
    let mut open = 0usize;
    // the text protocol: each value as the server's text, as the dump reads it; the
    // results without `fetch`'s filtering layer, a step less for each row
    let mut rows = sqlx::raw_sql(sqlx::AssertSqlSafe(job.sql.clone())).fetch_many(&mut *c);
    while let Some(step) = rows
        .try_next()
        .await
        .map_err(|e| crate::db::sqlx_error(redacted, e))?
    {
        let sqlx::Either::Right(row) = step else {
            continue;
        };
        if row.len() != columns.len() {
            return Err(Error::runtime(format!(
                "{} gave {} column(s) where the catalog lists {}",
                job.sql,
                row.len(),
                columns.len()
            )));
        }
        let start = buf.len();
        if open == 0 {
            buf.extend_from_slice(&job.insert);
        } else {
            buf.extend_from_slice(b",\n");
        }
        buf.push(b'(');
        row_text.clear();
        for (i, col) in columns.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
                row_text.push(b'|');
            }
            let v: Option<&[u8]> = row
                .try_get_unchecked(i)
                .map_err(|e| crate::db::sqlx_error(redacted, e))?;
            let Some(v) = v else {
                buf.extend_from_slice(b"NULL");
                row_text.push(b'N');
                continue;
            };
            match col.out {
                Out::Bare => buf.extend_from_slice(v),
                Out::Quoted => quote(&mut buf, v),
                Out::Hex if v.is_empty() => buf.extend_from_slice(b"''"),
                Out::Hex => {
                    buf.extend_from_slice(b"0x");
                    hex_upper(&mut buf, v);
                }
            }
            if col.field == Field::Sized {
                push_decimal(&mut row_text, v.len());
                row_text.push(b':');
            }
            row_text.extend_from_slice(v);
        }
        buf.push(b')');
        sums.add(&row_text);
        open += buf.len() - start;
        if open >= STATEMENT {
            buf.extend_from_slice(b";\n");
            open = 0;
        }
        if buf.len() >= CHUNK {
            let full = std::mem::replace(&mut buf, fresh(spent));
            if job.out.send(Piece::Bytes(full)).await.is_err() {
                return Ok(None);
            }
        }
    }
    drop(rows);
    if open > 0 {
        buf.extend_from_slice(b";\n");
    }
    if !buf.is_empty() && job.out.send(Piece::Bytes(buf)).await.is_err() {
        return Ok(None);
    }
    Ok(Some(sums))
}

/// An empty buffer, one handed back if there is one.
fn fresh(spent: &Spent) -> Vec<u8> {
    let back = spent.lock().ok().and_then(|r| r.try_recv().ok());
    let mut b = back.unwrap_or_else(|| Vec::with_capacity(CHUNK + STATEMENT));
    b.clear();
    b
}

/// A table's row count and CRC sums, as `backup_hash.rs` computes them on the server.
#[derive(Default)]
pub(super) struct Sums {
    rows: u64,
    crc32: u128,
    crc32c: u128,
}

impl Sums {
    pub(super) fn add(&mut self, row_text: &[u8]) {
        self.rows += 1;
        // MariaDB's CRC32 is zlib's; its CRC32C is Castagnoli's
        self.crc32 += u128::from(crc32fast::hash(row_text));
        self.crc32c += u128::from(crc32c::crc32c(row_text));
    }

    fn merge(&mut self, other: &Sums) {
        self.rows += other.rows;
        self.crc32 += other.crc32;
        self.crc32c += other.crc32c;
    }

    pub(super) fn hash(&self) -> TableHash {
        TableHash {
            rows: self.rows,
            hash: format!("crc32+crc32c:{}:{}", self.crc32, self.crc32c),
        }
    }
}

/// The letter after the backslash of each byte `mariadb-dump` escapes
/// (`mysql_real_escape_string`), 0 for the others.
const ESCAPES: [u8; 256] = {
    let mut t = [0u8; 256];
    t[0] = b'0';
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\\' as usize] = b'\\';
    t[b'\'' as usize] = b'\'';
    t[b'"' as usize] = b'"';
    t[0x1a] = b'Z';
    t
};

/// Whether `b` may be one [`ESCAPES`] escapes: every such byte is below `(` or a
/// backslash (checked for the whole table when this compiles). A test the compiler
/// runs over many bytes at once, where the table is looked up a byte at a time.
const fn may_escape(b: u8) -> bool {
    b < b'(' || b == b'\\'
}

const _: () = {
    let mut b = 0;
    while b < 256 {
        assert!(ESCAPES[b] == 0 || may_escape(b as u8));
        b += 1;
    }
};

/// `v` quoted and escaped as `mariadb-dump` writes it.
fn quote(buf: &mut Vec<u8>, v: &[u8]) {
    buf.push(b'\'');
    // most values have nothing to escape: such a value is copied whole
    if !v.iter().fold(false, |any, &b| any | may_escape(b)) {
        buf.extend_from_slice(v);
        buf.push(b'\'');
        return;
    }
    let mut from = 0;
    for (i, &b) in v.iter().enumerate() {
        let esc = ESCAPES[usize::from(b)];
        if esc == 0 {
            continue;
        }
        buf.extend_from_slice(&v[from..i]);
        buf.push(b'\\');
        buf.push(esc);
        from = i + 1;
    }
    buf.extend_from_slice(&v[from..]);
    buf.push(b'\'');
}

fn hex_upper(buf: &mut Vec<u8>, v: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    buf.reserve(v.len() * 2);
    for &b in v {
        buf.push(DIGITS[usize::from(b >> 4)]);
        buf.push(DIGITS[usize::from(b & 15)]);
    }
}

/// Watches the dump's own output as it is written to the backup, line by line, for
/// where the rows of the tables written here go: right after each one's
/// `CREATE TABLE` statement. Also catches the dump writing rows of such a table.
struct Splicer {
    /// `CREATE TABLE `t` (` → the table, for tables whose rows are written here.
    creates: BTreeMap<Vec<u8>, String>,
    /// `LOCK TABLES `t` WRITE;` of the same tables: the dump must never write these.
    locks: BTreeMap<Vec<u8>, String>,
    top: TopLevel,
    partial: Vec<u8>,
    /// A table whose `CREATE TABLE` is open: its rows go after that statement's end.
    pending: Option<String>,
    /// The tables whose rows were placed.
    placed: Vec<String>,
}

/// What to do with the bytes of the dump up to a point.
enum Cut {
    /// Write `n` bytes of the chunk, then the rows of this table; then go on.
    Rows(usize, String),
    /// Write the whole chunk.
    Whole,
}

impl Splicer {
    fn new<'a>(tables: impl Iterator<Item = &'a String>) -> Splicer {
        let mut creates = BTreeMap::new();
        let mut locks = BTreeMap::new();
        for t in tables {
            let name = super::backup::q(t);
            creates.insert(format!("CREATE TABLE {name} (").into_bytes(), t.clone());
            locks.insert(format!("LOCK TABLES {name} WRITE;").into_bytes(), t.clone());
        }
        Splicer {
            creates,
            locks,
            top: TopLevel::new(),
            partial: Vec::new(),
            pending: None,
            placed: Vec::new(),
        }
    }

    /// Reads `chunk` from its start; says where the next table's rows go, if in it.
    /// Call again with the rest of the chunk after writing those rows.
    fn cut(&mut self, chunk: &[u8]) -> Result<Cut> {
        let mut at = 0;
        while let Some(nl) = memchr::memchr(b'\n', &chunk[at..]) {
            let end = at + nl + 1;
            let done = if self.partial.is_empty() {
                self.line(&chunk[at..end])?
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&chunk[at..end]);
                let done = self.line(&line);
                line.clear();
                self.partial = line;
                done?
            };
            at = end;
            if let Some(table) = done {
                return Ok(Cut::Rows(at, table));
            }
        }
        self.partial.extend_from_slice(&chunk[at..]);
        Ok(Cut::Whole)
    }

    /// One whole line: the table whose rows go after it, if any.
    fn line(&mut self, raw: &[u8]) -> Result<Option<String>> {
        let text = trimmed(raw);
        let top_before = !self.top.open();
        self.top.line(text);
        if top_before {
            if let Some(t) = self.creates.get(text) {
                if self.placed.contains(t) {
                    // a second CREATE TABLE would drop the rows written after the first
                    return Err(Error::runtime(format!(
                        "the dump created table \"{t}\" twice; the backup is refused rather than lose the rows written after the first"
                    )));
                }
                self.pending = Some(t.clone());
            } else if let Some(t) = self.locks.get(text) {
                return Err(Error::runtime(format!(
                    "the dump wrote rows of table \"{t}\" although it was told to leave them to cutover (--ignore-table-data); the backup is refused rather than hold its rows twice"
                )));
            }
        }
        if self.pending.is_some() && !self.top.open() {
            let t = self.pending.take().expect("pending");
            self.placed.push(t.clone());
            return Ok(Some(t));
        }
        Ok(None)
    }

    /// After the whole dump: the tables whose rows had no place in it.
    fn missing(&self) -> Vec<String> {
        self.creates
            .values()
            .filter(|t| !self.placed.contains(t))
            .cloned()
            .collect()
    }
}

/// The writer's side of the rows cutover writes: the dump's output goes through
/// [`Spliced::write`], which puts each table's section after its `CREATE TABLE`,
/// asking the readers ([`serve`]) for it there.
pub(super) struct Spliced {
    splicer: Splicer,
    asks: tokio::sync::mpsc::UnboundedSender<String>,
    fed: tokio::sync::mpsc::Receiver<Feed>,
    spent: std::sync::mpsc::Sender<Vec<u8>>,
    hashes: BTreeMap<String, TableHash>,
}

/// Starts the readers of the tables `plans` names, on `readers` (connections in the
/// dump's snapshot), for a writer on a thread of its own.
pub(super) fn start(
    readers: Vec<MySqlConnection>,
    redacted: String,
    plans: BTreeMap<String, Plan>,
) -> Spliced {
    let (asks, asked) = tokio::sync::mpsc::unbounded_channel();
    let (feed, fed) = tokio::sync::mpsc::channel(2);
    let (spent, reuse) = std::sync::mpsc::channel();
    let splicer = Splicer::new(plans.keys());
    tokio::spawn(serve(readers, redacted, plans, asked, feed, reuse));
    Spliced {
        splicer,
        asks,
        fed,
        spent,
        hashes: BTreeMap::new(),
    }
}

impl Spliced {
    /// Writes the next `chunk` of the dump to `w`, with the rows of each table whose
    /// `CREATE TABLE` ends in it. Blocks while the rows are read.
    pub(super) fn write(&mut self, chunk: &[u8], w: &mut impl std::io::Write) -> Result<()> {
        let mut rest = chunk;
        while let Cut::Rows(n, table) = self.splicer.cut(rest)? {
            w.write_all(&rest[..n])?;
            rest = &rest[n..];
            let _ = self.asks.send(table.clone());
            let hash = self.section(w)?;
            self.hashes.insert(table, hash);
        }
        w.write_all(rest)?;
        Ok(())
    }

    /// The section the readers send, written to `w`: its hash.
    fn section(&mut self, w: &mut impl std::io::Write) -> Result<TableHash> {
        loop {
            match self.fed.blocking_recv() {
                Some(Feed::Bytes(b)) => {
                    w.write_all(&b)?;
                    let _ = self.spent.send(b);
                }
                Some(Feed::Done(hash)) => return Ok(hash),
                Some(Feed::Failed(e)) => return Err(e),
                None => {
                    return Err(Error::runtime(
                        "the reader of the backup's rows stopped early",
                    ));
                }
            }
        }
    }

    /// After the whole dump: each table's hash, or an error naming the tables whose
    /// `CREATE TABLE` never came (their rows would be missing from the backup).
    pub(super) fn finish(self) -> Result<BTreeMap<String, TableHash>> {
        let missing = self.splicer.missing();
        if !missing.is_empty() {
            return Err(Error::runtime(format!(
                "the dump never wrote the CREATE TABLE of {} where cutover expected it, so their rows have no place in the backup; it is refused",
                missing.join(", ")
            )));
        }
        Ok(self.hashes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_the_dump_writes_them() {
        let mut b = Vec::new();
        quote(&mut b, b"a'b\\c\"d\n\r\0\x1ae");
        assert_eq!(b, b"'a\\'b\\\\c\\\"d\\n\\r\\0\\Ze'".to_vec());
        // every byte, alone and inside plain text, comes out as the escape table says
        // (the whole-value copy taken only where no byte needs escaping)
        for byte in 0..=255u8 {
            let esc = ESCAPES[usize::from(byte)];
            let mut want = b"'ab".to_vec();
            if esc == 0 {
                want.push(byte);
            } else {
                want.extend_from_slice(&[b'\\', esc]);
            }
            want.extend_from_slice(b"cd'");
            let mut got = Vec::new();
            quote(&mut got, &[b'a', b'b', byte, b'c', b'd']);
            assert_eq!(got, want, "byte {byte:#04x}");
        }
        let mut plain = Vec::new();
        quote(&mut plain, "0cc175b9c0f1b6a831c399e269772661é".as_bytes());
        assert_eq!(plain, "'0cc175b9c0f1b6a831c399e269772661é'".as_bytes());
        let mut h = Vec::new();
        hex_upper(&mut h, &[0, 0xab, 0x7f]);
        assert_eq!(h, b"00AB7F");
        assert_eq!(out_of("bigint"), Out::Bare);
        assert_eq!(out_of("decimal"), Out::Bare);
        assert_eq!(out_of("timestamp"), Out::Quoted);
        assert_eq!(out_of("enum"), Out::Quoted);
        assert_eq!(out_of("longblob"), Out::Hex);
        assert!(nameable("a`b") && !nameable("a\nb"));
    }

    const DUMP: &[u8] = b"-- header\n\
/*!40101 SET NAMES utf8mb4 */;\n\
DROP TABLE IF EXISTS `a``b`;\n\
CREATE TABLE `a``b` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n\
/*!40101 SET character_set_client = @saved_cs_client */;\n\
DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER t AFTER INSERT ON `a``b` FOR EACH ROW BEGIN\n\
CREATE TABLE `c` (\nEND */;;\nDELIMITER ;\n\
CREATE TABLE `c` (\n  `x` int\n);\n-- end\n";

    fn cuts(s: &mut Splicer, dump: &[u8], step: usize) -> Result<Vec<(usize, String)>> {
        let mut out = Vec::new();
        let mut base = 0;
        for chunk in dump.chunks(step) {
            let mut rest = chunk;
            loop {
                match s.cut(rest)? {
                    Cut::Rows(n, t) => {
                        out.push((base + n, t));
                        base += n;
                        rest = &rest[n..];
                    }
                    Cut::Whole => {
                        base += rest.len();
                        break;
                    }
                }
            }
        }
        Ok(out)
    }

    #[test]
    fn slices_cover_every_key_once_the_first_and_last_open_ended() {
        // which slice a key falls in, by the bounds' conditions
        fn owner(b: &[(Option<i128>, Option<i128>)], k: i128) -> Vec<usize> {
            (0..b.len())
                .filter(|&i| b[i].0.is_none_or(|f| k >= f) && b[i].1.is_none_or(|t| k < t))
                .collect()
        }
        for (lo, hi, rows) in [
            (1, 5_000_000, 5_000_000),
            (-7, 3, 100_000),
            (0, 0, 50_000),
            (1, 41_000, 41_000),
            (i128::from(i64::MIN), i128::from(i64::MAX), 60_000),
            (0, i128::from(u64::MAX), 1_000_000),
        ] {
            let b = slice_bounds(lo, hi, rows);
            assert!(b[0].0.is_none() && b[b.len() - 1].1.is_none(), "{b:?}");
            let want = (rows / SLICE_ROWS).clamp(1, hi - lo + 1);
            assert!(
                b.len() as i128 <= want && b.len() as i128 >= want / 2,
                "{} slices for {rows} rows",
                b.len()
            );
            for k in [lo - 1, lo, lo + 1, (lo + hi) / 2, hi - 1, hi, hi + 1] {
                assert_eq!(owner(&b, k).len(), 1, "key {k} in {b:?}");
            }
            for w in b.windows(2) {
                assert_eq!(w[0].1, w[1].0, "{b:?}");
                assert!(w[0].1.unwrap() > lo && w[0].1.unwrap() <= hi);
            }
        }
        assert_eq!(slice_bounds(1, 5_000_000, 5_000_000).len(), 50);
    }

    #[test]
    fn rows_go_right_after_each_create_table_whatever_the_chunks() {
        let tables = ["a`b".to_string(), "c".to_string()];
        let after_a = DUMP.windows(12).position(|w| w == b") ENGINE=Inn").unwrap() + 17;
        let after_c = DUMP.windows(3).position(|w| w == b"\n);").unwrap() + 4;
        for step in [1, 2, 5, 64, DUMP.len()] {
            let mut s = Splicer::new(tables.iter());
            let got = cuts(&mut s, DUMP, step).unwrap();
            // the trigger body's `CREATE TABLE `c` (` line is not the table's
            assert_eq!(
                got,
                vec![(after_a, "a`b".to_string()), (after_c, "c".to_string())],
                "step {step}"
            );
        }
    }

    #[test]
    fn a_dump_that_writes_an_own_tables_rows_creates_it_twice_or_never_is_caught() {
        let tables: BTreeMap<String, Vec<Column>> =
            [("c".to_string(), vec![]), ("gone".to_string(), vec![])].into();
        let mut s = Splicer::new(tables.keys());
        cuts(&mut s, DUMP, 7).unwrap();
        assert_eq!(s.missing(), vec!["gone".to_string()]);
        let mut s = Splicer::new(tables.keys());
        let e = cuts(
            &mut s,
            b"LOCK TABLES `c` WRITE;\nINSERT INTO `c` VALUES (1);\n",
            5,
        )
        .unwrap_err();
        assert!(e.to_string().contains("table \"c\""), "{e}");
        let mut s = Splicer::new(tables.keys());
        let twice = b"CREATE TABLE `c` (\n  `x` int\n);\nDROP TABLE `c`;\nCREATE TABLE `c` (\n  `x` int\n);\n";
        let e = cuts(&mut s, twice, 3).unwrap_err();
        assert!(e.to_string().contains("created table \"c\" twice"), "{e}");
    }
}
