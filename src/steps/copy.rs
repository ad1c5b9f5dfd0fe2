//! `copy`: copy tables (or the rows of a query) of one target into another.
//!
//! Tables are copied in chunks ordered by their primary key, each chunk committed in
//! one destination transaction together with its high-water mark (table
//! `cutover_copy_progress` in the destination), so a copy killed at any moment resumes
//! after the last committed chunk and never copies a row twice. PostgreSQL to
//! PostgreSQL with the same column types pipes the binary `COPY` stream through
//! untouched; any other pair decodes rows to values and writes multi-row INSERTs. After
//! copying, sequences / AUTO_INCREMENT are set past the copied keys. Generated columns
//! are skipped (the destination computes them). A value the destination column cannot
//! hold byte for byte (a NUL byte in PostgreSQL text, bytes that are not UTF-8 in a text
//! column) is refused naming the table, key and column.
//!
//! A query (`query = "..."`) is copied the old way: all rows in one transaction,
//! applied at most once per run.

use super::once::{Applied, apply_once};
use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::model::{Column, Schema, Table};
use crate::db::{Class, Db, Dialect, Statement, Targets, Value};
use crate::error::{Error, Result};
use crate::runbook::Params;
use crate::schema::ddl::Ddl;
use async_trait::async_trait;
use futures::StreamExt;
use std::time::Instant;

/// The destination table holding each table copy's high-water mark.
pub const PROGRESS_TABLE: &str = "cutover_copy_progress";

/// Rows per chunk (one destination transaction) when not set: binary COPY holds no
/// rows in memory, so its chunks are large; decoded rows are held a chunk at a time.
pub const DEFAULT_BATCH: u64 = 250_000;
pub const DEFAULT_DECODED_BATCH: u64 = 10_000;
/// Rows per INSERT statement on the decoded path.
const ROWS_PER_INSERT: usize = 500;

/// What is copied: tables, or the rows of a query.
enum Source {
    Tables(Vec<String>),
    Query(String),
}

pub struct CopyTables {
    from: String,
    source: Source,
    into: String,
    into_table: Option<String>,
    columns: Option<Vec<String>>,
    skip_conflicts: bool,
    create: bool,
    batch: Option<u64>,
}

impl CopyTables {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let from = ctx.target(p, "from")?;
        let into = ctx.target(p, "into")?;
        let source = match (p.str("table")?, p.str_list("tables")?, p.str("query")?) {
            (Some(t), None, None) => Source::Tables(vec![t]),
            (None, Some(ts), None) if !ts.is_empty() => Source::Tables(ts),
            (None, None, Some(q)) => Source::Query(q),
            _ => {
                return Err(p.src.error(
                    &p.span,
                    format!(
                        "{} needs exactly one of `table`, `tables` (non-empty) or `query`",
                        p.what
                    ),
                ));
            }
        };
        let into_table = p.str("into_table")?;
        match (&source, &into_table) {
            (Source::Query(_), None) => {
                return Err(p.src.error(
                    &p.span,
                    format!(
                        "{} copies a query: name the destination with `into_table`",
                        p.what
                    ),
                ));
            }
            (Source::Tables(ts), Some(_)) if ts.len() > 1 => {
                return Err(p.error_at(
                    "into_table",
                    "`into_table` names one destination: use it with `table`, not `tables`",
                ));
            }
            _ => {}
        }
        let skip_conflicts = match p.str("on_conflict")?.as_deref() {
            None | Some("error") => false,
            Some("skip") => true,
            Some(other) => {
                return Err(p.error_at(
                    "on_conflict",
                    format!("`on_conflict` must be \"error\" or \"skip\", not \"{other}\""),
                ));
            }
        };
        let batch = match p.int("batch")? {
            None => None,
            Some(n) if n >= 1 => Some(n as u64),
            Some(n) => {
                return Err(p.error_at(
                    "batch",
                    format!("`batch` (rows per transaction) must be at least 1, not {n}"),
                ));
            }
        };
        let create = p.bool("create")?.unwrap_or(false);
        let columns = p.str_list("columns")?;
        if create && matches!(source, Source::Query(_)) {
            return Err(p.error_at(
                "create",
                "`create` makes the destination from the source table's schema: use it with `table` or `tables`, not `query`",
            ));
        }
        Ok(CopyTables {
            from,
            source,
            into,
            into_table,
            columns,
            skip_conflicts,
            create,
            batch,
        })
    }
}

#[async_trait]
impl Step for CopyTables {
    fn kind(&self) -> &'static str {
        "copy"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.from.clone(), self.into.clone()]
    }
    fn writes(&self) -> Vec<String> {
        vec![self.into.clone()]
    }
    fn plan(&self, targets: &Targets) -> Vec<String> {
        let skip = if self.skip_conflicts {
            ", skipping rows already present"
        } else {
            ""
        };
        match &self.source {
            Source::Query(_) => vec![format!(
                "copy rows of a query on {} into {} on {} in one transaction{skip}",
                self.from,
                self.into_table.as_deref().unwrap_or(""),
                self.into
            )],
            Source::Tables(ts) => {
                let both_pg = match (targets.spec(&self.from), targets.spec(&self.into)) {
                    (Ok(s), Ok(d)) => crate::db::has_binary_copy(s.dialect, d.dialect),
                    _ => false,
                };
                let path = if both_pg && !self.skip_conflicts {
                    "binary COPY where the column types match, else batched INSERT"
                } else {
                    "batched INSERT"
                };
                let batch = match self.batch {
                    Some(n) => format!("{n} rows per transaction"),
                    None => format!(
                        "{DEFAULT_BATCH} rows per transaction by binary COPY, {DEFAULT_DECODED_BATCH} by INSERT"
                    ),
                };
                vec![format!(
                    "copy table(s) {} on {} into {} ({path}; {batch}, resumable by key{}{skip}); then set sequences past the copied keys",
                    ts.join(", "),
                    self.from,
                    self.into,
                    if self.create {
                        "; creating missing tables from the source's schema"
                    } else {
                        ""
                    }
                )]
            }
        }
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let src = ctx.targets.get(&self.from).await?;
        let dst = ctx.targets.get(&self.into).await?;
        let tables = match &self.source {
            Source::Query(q) => return self.copy_query(ctx, &src, &dst, q).await,
            Source::Tables(ts) => ts,
        };
        let opts = CopyOptions {
            tables: tables
                .iter()
                .map(|t| (t.clone(), self.into_table.clone().unwrap_or(t.clone())))
                .collect(),
            columns: self.columns.clone(),
            create: self.create,
            batch: self.batch,
            skip_conflicts: self.skip_conflicts,
            run_id: ctx.run_id.to_string(),
            step_id: ctx.step_id.to_string(),
            forget_progress: false,
        };
        let log = |m: String| ctx.log(m);
        let copied = copy_tables(&src, &dst, &opts, &log).await?;
        let rows: u64 = copied.iter().map(|t| t.rows).sum();
        let all_before = copied.iter().all(|t| t.already_done);
        let summary = if all_before {
            "already copied in this run; not repeated".to_string()
        } else {
            copied
                .iter()
                .map(TableCopy::summary)
                .collect::<Vec<_>>()
                .join("; ")
        };
        Ok(StepOutcome::ok(
            summary,
            CopyEvidence {
                from: self.from.clone(),
                into: self.into.clone(),
                into_table: copied
                    .iter()
                    .map(|t| t.into_table.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                rows_read: Some(rows),
                rows_inserted: Some(rows),
                skipped: None,
                already_applied: all_before.then_some(true),
                tables: copied,
            },
        ))
    }
}

impl CopyTables {
    async fn copy_query(
        &self,
        ctx: &StepContext<'_>,
        src: &Db,
        dst: &Db,
        select: &str,
    ) -> Result<StepOutcome> {
        let dd = dst.dialect();
        let into_table = self.into_table.clone().unwrap_or_default();
        // Column names from a probe of the query's shape.
        let probe = src
            .query(
                &format!("SELECT * FROM ({select}) cutover_probe LIMIT 1"),
                &[],
            )
            .await?;
        let columns: Vec<String> = match &self.columns {
            Some(c) => c.clone(),
            None => probe.columns.clone(),
        };
        let mut stream = src.stream(select.to_string(), Vec::new());
        let mut stmts = Vec::new();
        let mut batch: Vec<String> = Vec::new();
        let mut n = 0u64;
        let col_list = columns
            .iter()
            .map(|c| dd.quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        let table = dd.quote_qualified(&into_table);
        let (pre, post) = match self.skip_conflicts {
            false => ("INSERT INTO", ""),
            true => dd.sql().insert_skipping_conflicts(),
        };
        let flush = |batch: &mut Vec<String>, stmts: &mut Vec<Statement>| {
            if !batch.is_empty() {
                stmts.push(Statement::new(format!(
                    "{pre} {table} ({col_list}) VALUES {}{post}",
                    batch.join(", ")
                )));
                batch.clear();
            }
        };
        while let Some(row) = stream.next().await {
            let row = row?;
            let mut lits = Vec::with_capacity(row.len());
            for (v, c) in row.iter().zip(&columns) {
                lits.push(literal(v, dd, Class::Any).map_err(|why| {
                    Error::bad_input(format!(
                        "copy into {into_table}: row {} column \"{c}\" {why}",
                        n + 1
                    ))
                })?);
            }
            batch.push(format!("({})", lits.join(", ")));
            n += 1;
            if batch.len() >= ROWS_PER_INSERT {
                flush(&mut batch, &mut stmts);
            }
        }
        flush(&mut batch, &mut stmts);
        drop(stream);
        let source = format!("copy into {into_table}");
        let base = CopyEvidence {
            from: self.from.clone(),
            into: self.into.clone(),
            into_table: into_table.clone(),
            rows_read: None,
            rows_inserted: None,
            skipped: None,
            already_applied: None,
            tables: Vec::new(),
        };
        match apply_once(dst, ctx, &stmts, &source).await? {
            Applied::Now { rows, .. } => Ok(StepOutcome::ok(
                format!(
                    "{n} row(s) read from {}, {rows} inserted into {into_table}{}",
                    self.from,
                    if self.skip_conflicts && rows < n {
                        format!(" ({} already present, skipped)", n - rows)
                    } else {
                        String::new()
                    }
                ),
                CopyEvidence {
                    rows_read: Some(n),
                    rows_inserted: Some(rows),
                    skipped: Some(n.saturating_sub(rows)),
                    ..base
                },
            )),
            Applied::Before { .. } => Ok(StepOutcome::ok(
                "already applied in this run; not repeated".to_string(),
                CopyEvidence {
                    already_applied: Some(true),
                    ..base
                },
            )),
        }
    }
}

/// What a copy did: per table rows, bytes, time and path; or (a query copy) rows read
/// and inserted, or that an earlier attempt of this run already applied it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CopyEvidence {
    pub from: String,
    pub into: String,
    pub into_table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_read: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_inserted: Option<u64>,
    /// Rows already present (on_conflict = "skip").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub already_applied: Option<bool>,
    /// One entry per table copied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableCopy>,
}

/// How a table's rows travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CopyPath {
    /// PostgreSQL binary COPY out piped into binary COPY in, bytes untouched.
    #[serde(rename = "binary COPY")]
    BinaryCopy,
    /// Rows decoded to values and written as multi-row INSERTs.
    #[serde(rename = "batched INSERT")]
    BatchedInsert,
}

impl CopyPath {
    pub fn name(self) -> &'static str {
        match self {
            CopyPath::BinaryCopy => "binary COPY",
            CopyPath::BatchedInsert => "batched INSERT",
        }
    }
}

/// A sequence (or AUTO_INCREMENT counter) set past the copied keys.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SequenceReset {
    pub column: String,
    /// The value the next insert gets.
    pub next: i64,
}

/// One table's copy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TableCopy {
    pub table: String,
    pub into_table: String,
    /// Rows in the destination from this copy (including chunks of an earlier,
    /// interrupted attempt).
    pub rows: u64,
    /// Bytes moved: the binary COPY stream, or the INSERT statements' text.
    pub bytes: u64,
    pub elapsed_ms: u64,
    pub path: CopyPath,
    /// Destination transactions committed by this attempt.
    pub chunks: u64,
    /// Rows an earlier, interrupted attempt had already committed (resumed after them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_after_rows: Option<u64>,
    /// The key chunks are ordered by; empty: the table has none and was copied in one
    /// transaction (not resumable part-way).
    pub key: Vec<String>,
    #[serde(default)]
    pub created: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_generated: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sequences_reset: Vec<SequenceReset>,
    /// This run had copied the whole table before; nothing was done now.
    #[serde(default)]
    pub already_done: bool,
}

impl TableCopy {
    pub fn summary(&self) -> String {
        if self.already_done {
            return format!(
                "{} → {}: already copied ({} rows)",
                self.table, self.into_table, self.rows
            );
        }
        let mut s = format!(
            "{} → {}: {} row(s), {} bytes, {} ms, {}",
            self.table,
            self.into_table,
            self.rows,
            self.bytes,
            self.elapsed_ms,
            self.path.name()
        );
        if self.created {
            s.push_str(", table created");
        }
        if let Some(r) = self.resumed_after_rows {
            s.push_str(&format!(", resumed after {r} row(s)"));
        }
        if !self.skipped_generated.is_empty() {
            s.push_str(&format!(
                ", generated column(s) {} left to the destination",
                self.skipped_generated.join(", ")
            ));
        }
        for r in &self.sequences_reset {
            s.push_str(&format!(", sequence of {} set to {}", r.column, r.next));
        }
        if self.key.is_empty() {
            s.push_str(", no key: copied in one transaction");
        }
        s
    }
}

/// What to copy and how.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// (source table, destination table), each possibly `schema.table`.
    pub tables: Vec<(String, String)>,
    /// Only these columns (default: every column that is not generated).
    pub columns: Option<Vec<String>>,
    /// Create a missing destination table from the source table's schema.
    pub create: bool,
    /// Rows per chunk (one destination transaction); default by path.
    pub batch: Option<u64>,
    /// Keep destination rows with the same key instead of failing on them.
    pub skip_conflicts: bool,
    /// Who the high-water marks belong to: a run and step, or the command line.
    pub run_id: String,
    pub step_id: String,
    /// Delete the high-water marks once every table is copied (the command line: a
    /// second `cutover copy` copies again rather than finding it done).
    pub forget_progress: bool,
}

/// Where an earlier attempt stopped.
struct Progress {
    high_water: Option<Vec<String>>,
    rows: u64,
    bytes: u64,
    done: bool,
}

fn find<'a>(s: &'a Schema, name: &str) -> Option<&'a Table> {
    s.tables.iter().find(|t| t.qname() == name).or_else(|| {
        s.tables
            .iter()
            .find(|t| t.name == name && name.contains('.'))
    })
}

/// Can values of class `s` be written into a column of class `d` without changing
/// what they mean?
fn compatible(s: Class, d: Class) -> bool {
    use Class::*;
    s == d
        || s == Any
        || d == Any
        || matches!(
            (s, d),
            (Int, Decimal | Float | Bool)
                | (Bool, Int)
                | (Decimal, Float)
                | (Float, Decimal)
                | (Uuid | Json, Text)
                | (Text, Uuid | Json)
        )
}

fn class_of(d: Dialect, c: &Column) -> Class {
    d.sql()
        .column_class(&c.engine_type, &c.normalized_type)
        .class
}

/// A value as a literal for a destination column of class `dclass`, or why it cannot be
/// stored there byte for byte.
fn literal(v: &Value, dd: Dialect, dclass: Class) -> std::result::Result<String, String> {
    let sql = dd.sql();
    let text = |s: &str| {
        sql.exact_text_literal(s).ok_or_else(|| {
            format!(
                "holds a NUL byte, which a {} text column cannot store",
                dd.name()
            )
        })
    };
    Ok(match v {
        Value::Null => "NULL".into(),
        Value::Text(s) if dclass == Class::Bytes => sql.value_bytes_literal(s.as_bytes()),
        Value::Text(s) => text(s)?,
        Value::Bytes(b) if matches!(dclass, Class::Bytes | Class::Any) => {
            sql.value_bytes_literal(b)
        }
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => text(s)?,
            Err(_) => {
                return Err(format!(
                    "holds bytes that are not valid UTF-8, which the destination's {} column cannot store",
                    dclass.name()
                ));
            }
        },
        Value::Bool(b) => sql.bool_literal(*b, dclass),
        Value::Int(i) if dclass == Class::Bool => sql.bool_literal(*i != 0, Class::Bool),
        Value::Json(j) => text(&j.to_string())?,
        other => other.to_sql_literal(dd),
    })
}

async fn ensure_progress_table(dst: &Db) -> Result<()> {
    let d = dst.dialect();
    let key = d.sql().key_text_type();
    dst.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {} (run_id {key} NOT NULL, step_id {key} NOT NULL, tbl {key} NOT NULL, high_water TEXT, rows_copied BIGINT NOT NULL, bytes BIGINT NOT NULL, done INTEGER NOT NULL, PRIMARY KEY (run_id, step_id, tbl))",
        d.quote_ident(PROGRESS_TABLE)
    ))
    .await?;
    Ok(())
}

async fn read_progress(dst: &Db, o: &CopyOptions, into: &str) -> Result<Option<Progress>> {
    let d = dst.dialect();
    let rows = dst
        .query(
            &format!(
                "SELECT high_water, rows_copied, bytes, done FROM {} WHERE run_id = {} AND step_id = {} AND tbl = {}",
                d.quote_ident(PROGRESS_TABLE),
                d.placeholder(1),
                d.placeholder(2),
                d.placeholder(3)
            ),
            &[
                Value::from(o.run_id.as_str()),
                Value::from(o.step_id.as_str()),
                Value::from(into),
            ],
        )
        .await?;
    let Some(r) = rows.rows.first() else {
        return Ok(None);
    };
    let high_water = match &r[0] {
        Value::Text(s) => Some(serde_json::from_str::<Vec<String>>(s).map_err(|e| {
            Error::runtime(format!(
                "{PROGRESS_TABLE} on {}: the high-water mark of {into} does not read: {e}",
                dst.redacted_url()
            ))
        })?),
        _ => None,
    };
    Ok(Some(Progress {
        high_water,
        rows: r[1].as_i64().unwrap_or(0) as u64,
        bytes: r[2].as_i64().unwrap_or(0) as u64,
        done: r[3].as_i64().unwrap_or(0) != 0,
    }))
}

/// Statements recording a chunk's progress (run in the chunk's transaction).
fn progress_statements(d: Dialect, o: &CopyOptions, into: &str, p: &Progress) -> Vec<Statement> {
    let t = d.quote_ident(PROGRESS_TABLE);
    let lit = |s: &str| d.quote_literal(s);
    let hw = match &p.high_water {
        Some(h) => lit(&serde_json::to_string(h).expect("json")),
        None => "NULL".into(),
    };
    vec![
        Statement::new(format!(
            "DELETE FROM {t} WHERE run_id = {} AND step_id = {} AND tbl = {}",
            lit(&o.run_id),
            lit(&o.step_id),
            lit(into)
        )),
        Statement::new(format!(
            "INSERT INTO {t} (run_id, step_id, tbl, high_water, rows_copied, bytes, done) VALUES ({}, {}, {}, {hw}, {}, {}, {})",
            lit(&o.run_id),
            lit(&o.step_id),
            lit(into),
            p.rows,
            p.bytes,
            p.done as i32
        )),
    ]
}

/// Copy every table of `o` from `src` into `dst`. `log` hears one line per chunk.
pub async fn copy_tables(
    src: &Db,
    dst: &Db,
    o: &CopyOptions,
    log: &(dyn Fn(String) + Sync),
) -> Result<Vec<TableCopy>> {
    let (sd, dd) = (src.dialect(), dst.dialect());
    let src_schema = sd.sql().introspect(src).await?;
    let mut dst_schema = dd.sql().introspect(dst).await?;
    ensure_progress_table(dst).await?;
    // Check every table before copying any, so a bad one costs nothing.
    let mut plans = Vec::new();
    for (from, into) in &o.tables {
        let st = find(&src_schema, from).ok_or_else(|| {
            Error::bad_input(format!(
                "table \"{from}\" does not exist on the source {}",
                src.redacted_url()
            ))
        })?;
        let created = match find(&dst_schema, into) {
            Some(_) => false,
            None if o.create => {
                let ddl = create_sql(st, into, sd, dd)?;
                dst.execute(&ddl)
                    .await
                    .map_err(|e| e.context(format!("creating table {into}")))?;
                log(format!("created table {into} on the destination"));
                dst_schema = dd.sql().introspect(dst).await?;
                true
            }
            None => {
                return Err(Error::bad_input(format!(
                    "table \"{into}\" does not exist on the destination {}",
                    dst.redacted_url()
                ))
                .with_hint("create it first, or ask the copy to (`create = true`, or --create)"));
            }
        };
        let dt = find(&dst_schema, into).ok_or_else(|| {
            Error::runtime(format!(
                "table \"{into}\" was created but cannot be read back"
            ))
        })?;
        plans.push(plan_table(st, dt, from, into, created, sd, dd, o)?);
    }
    let mut out = Vec::new();
    for plan in plans {
        out.push(copy_one(src, dst, o, &plan, log).await?);
    }
    if o.forget_progress {
        let d = dd;
        for (_, into) in &o.tables {
            dst.execute(&format!(
                "DELETE FROM {} WHERE run_id = {} AND step_id = {} AND tbl = {}",
                d.quote_ident(PROGRESS_TABLE),
                d.quote_literal(&o.run_id),
                d.quote_literal(&o.step_id),
                d.quote_literal(into)
            ))
            .await?;
        }
    }
    Ok(out)
}

/// CREATE TABLE for `into` on `dd` from the source table, refusing a column whose type
/// has no equivalent there.
fn create_sql(st: &Table, into: &str, sd: Dialect, dd: Dialect) -> Result<String> {
    let ddl = Ddl::new(dd, sd);
    if sd != dd {
        for c in &st.columns {
            if let Some(g) = &c.generated {
                return Err(Error::bad_input(format!(
                    "cannot create {into} on {}: column \"{}\" is generated on {} (AS {}), and its expression is not carried across engines",
                    dd.name(),
                    c.name,
                    sd.name(),
                    g.expression
                ))
                .with_hint("create the destination table yourself (with its own generated column), then copy without create"));
            }
            let rendered = ddl.column_type(c);
            let back = crate::db::types::normalize_type(&rendered, dd);
            let array = c.normalized_type.contains('[') || c.engine_type.contains('[');
            let (sc, dc) = (class_of(sd, c), {
                let mut dcol = c.clone();
                dcol.engine_type = rendered.clone();
                dcol.normalized_type = back.clone();
                class_of(dd, &dcol)
            });
            if array || !compatible(sc, dc) {
                return Err(Error::bad_input(format!(
                    "cannot create {into} on {}: column \"{}\" has type {} on {}, which has no equivalent on {}",
                    dd.name(),
                    c.name,
                    c.engine_type,
                    sd.name(),
                    dd.name()
                ))
                .with_hint("create the destination table yourself with the type you want, then copy without create"));
            }
        }
    }
    let mut t = st.clone();
    t.foreign_keys.clear();
    t.schema = None;
    Ok(ddl.create_table(&t, Some(into), false))
}

/// One table's copy, checked: columns, key and path.
struct TablePlan {
    from: String,
    into: String,
    columns: Vec<String>,
    /// Destination class of each copied column.
    classes: Vec<Class>,
    key: Vec<String>,
    /// Indexes of the key columns among `columns`.
    key_idx: Vec<usize>,
    path: CopyPath,
    created: bool,
    skipped_generated: Vec<String>,
    /// Destination columns fed by a sequence / AUTO_INCREMENT.
    sequenced: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
fn plan_table(
    st: &Table,
    dt: &Table,
    from: &str,
    into: &str,
    created: bool,
    sd: Dialect,
    dd: Dialect,
    o: &CopyOptions,
) -> Result<TablePlan> {
    let mut columns = Vec::new();
    let mut classes = Vec::new();
    let mut skipped_generated = Vec::new();
    let mut same_types = sd == dd;
    let wanted: Vec<&Column> = match &o.columns {
        Some(names) => names
            .iter()
            .map(|n| {
                st.column(n).ok_or_else(|| {
                    Error::bad_input(format!(
                        "table \"{from}\" on the source has no column \"{n}\""
                    ))
                })
            })
            .collect::<Result<_>>()?,
        None => st.columns.iter().collect(),
    };
    for c in wanted {
        if c.generated.is_some() {
            skipped_generated.push(c.name.clone());
            continue;
        }
        let Some(d) = dt.column(&c.name) else {
            return Err(Error::bad_input(format!(
                "cannot copy {from} into {into}: the destination has no column \"{}\" ({} on the source)",
                c.name, c.engine_type
            )));
        };
        if d.generated.is_some() {
            return Err(Error::bad_input(format!(
                "cannot copy {from} into {into}: column \"{}\" is generated on the destination but not on the source",
                c.name
            )));
        }
        let (sc, dc) = (class_of(sd, c), class_of(dd, d));
        if !compatible(sc, dc) {
            return Err(Error::bad_input(format!(
                "cannot copy {from} into {into}: column \"{}\" is {} ({}) on the source but {} ({}) on the destination",
                c.name,
                c.engine_type,
                sc.name(),
                d.engine_type,
                dc.name()
            ))
            .with_hint("change the destination column's type, or copy only other columns"));
        }
        same_types &= c.engine_type == d.engine_type;
        columns.push(c.name.clone());
        classes.push(dc);
    }
    for d in &dt.columns {
        if !d.nullable
            && d.default.is_none()
            && d.generated.is_none()
            && d.identity.is_none()
            && !columns.contains(&d.name)
        {
            return Err(Error::bad_input(format!(
                "cannot copy {from} into {into}: the destination's column \"{}\" is NOT NULL without a default and the source has no value for it",
                d.name
            )));
        }
    }
    let key: Vec<String> = st
        .primary_key
        .as_ref()
        .map(|pk| pk.columns.clone())
        .filter(|k| k.iter().all(|c| columns.contains(c)))
        .unwrap_or_default();
    let key_idx = key
        .iter()
        .map(|k| columns.iter().position(|c| c == k).expect("key copied"))
        .collect();
    let path = if crate::db::has_binary_copy(sd, dd) && same_types && !o.skip_conflicts {
        CopyPath::BinaryCopy
    } else {
        CopyPath::BatchedInsert
    };
    let sequenced = dt
        .columns
        .iter()
        .filter(|c| {
            c.identity.is_some()
                || c.default
                    .as_deref()
                    .is_some_and(|d| d.to_lowercase().contains("nextval("))
        })
        .filter(|c| class_of(dd, c) == Class::Int)
        .map(|c| c.name.clone())
        .collect();
    Ok(TablePlan {
        from: from.to_string(),
        into: into.to_string(),
        columns,
        classes,
        key,
        key_idx,
        path,
        created,
        skipped_generated,
        sequenced,
    })
}

async fn copy_one(
    src: &Db,
    dst: &Db,
    o: &CopyOptions,
    plan: &TablePlan,
    log: &(dyn Fn(String) + Sync),
) -> Result<TableCopy> {
    let started = Instant::now();
    let (sd, dd) = (src.dialect(), dst.dialect());
    let prior = read_progress(dst, o, &plan.into).await?;
    let mut result = TableCopy {
        table: plan.from.clone(),
        into_table: plan.into.clone(),
        rows: 0,
        bytes: 0,
        elapsed_ms: 0,
        path: plan.path,
        chunks: 0,
        resumed_after_rows: None,
        key: plan.key.clone(),
        created: plan.created,
        skipped_generated: plan.skipped_generated.clone(),
        sequences_reset: Vec::new(),
        already_done: false,
    };
    let mut state = match prior {
        Some(p) if p.done => {
            result.rows = p.rows;
            result.bytes = p.bytes;
            result.already_done = true;
            return Ok(result);
        }
        Some(p) => {
            result.resumed_after_rows = Some(p.rows);
            log(format!(
                "{}: resuming after {} row(s) an interrupted copy committed",
                plan.into, p.rows
            ));
            p
        }
        None => Progress {
            high_water: None,
            rows: 0,
            bytes: 0,
            done: false,
        },
    };
    let scols = plan
        .columns
        .iter()
        .map(|c| sd.quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let stable = sd.quote_qualified(&plan.from);
    let keyed = !plan.key.is_empty();
    let key_list = format!(
        "({})",
        plan.key
            .iter()
            .map(|c| sd.quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let order = plan
        .key
        .iter()
        .map(|c| sd.quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let after = |hw: &Option<Vec<String>>| match hw {
        Some(h) if keyed => Some(format!("{key_list} > ({})", h.join(", "))),
        _ => None,
    };
    let batch = o.batch.unwrap_or(match plan.path {
        CopyPath::BinaryCopy => DEFAULT_BATCH,
        CopyPath::BatchedInsert => DEFAULT_DECODED_BATCH,
    });
    let mut chunk_no = 0u64;
    while !state.done {
        chunk_no += 1;
        let lower = after(&state.high_water);
        let moved = match plan.path {
            CopyPath::BinaryCopy => {
                // The chunk's last key: the batch-th key after the high-water mark.
                let upper = if keyed {
                    let probe = format!(
                        "SELECT {order} FROM {stable}{} ORDER BY {order} LIMIT 1 OFFSET {}",
                        lower
                            .as_ref()
                            .map(|w| format!(" WHERE {w}"))
                            .unwrap_or_default(),
                        batch - 1
                    );
                    src.query(&probe, &[])
                        .await?
                        .rows
                        .into_iter()
                        .next()
                        .map(|r| r.iter().map(|v| v.to_sql_literal(sd)).collect::<Vec<_>>())
                } else {
                    None
                };
                let mut conds: Vec<String> = lower.iter().cloned().collect();
                if let Some(u) = &upper {
                    conds.push(format!("{key_list} <= ({})", u.join(", ")));
                }
                let select = format!(
                    "SELECT {scols} FROM {stable}{}",
                    if conds.is_empty() {
                        String::new()
                    } else {
                        format!(" WHERE {}", conds.join(" AND "))
                    }
                );
                // The mark is written after the rows, in the same transaction.
                let next = Progress {
                    high_water: upper.clone().or(state.high_water.clone()),
                    rows: state.rows,
                    bytes: state.bytes,
                    done: upper.is_none(),
                };
                let moved = binary_copy_chunk(src, dst, o, plan, &select, &next).await?;
                state = Progress {
                    rows: state.rows + moved.rows,
                    bytes: state.bytes + moved.bytes,
                    ..next
                };
                moved
            }
            CopyPath::BatchedInsert => {
                let sql = format!(
                    "SELECT {scols} FROM {stable}{}{}",
                    lower.map(|w| format!(" WHERE {w}")).unwrap_or_default(),
                    if keyed {
                        format!(" ORDER BY {order} LIMIT {batch}")
                    } else {
                        String::new()
                    }
                );
                let rows = src.query(&sql, &[]).await?.rows;
                let last = !keyed || (rows.len() as u64) < batch;
                let high_water = match rows.last() {
                    Some(r) if keyed => Some(
                        plan.key_idx
                            .iter()
                            .map(|&i| r[i].to_sql_literal(sd))
                            .collect(),
                    ),
                    _ => state.high_water.clone(),
                };
                let (mut stmts, bytes) = insert_statements(dd, o, plan, &rows)?;
                let next = Progress {
                    high_water,
                    rows: state.rows + rows.len() as u64,
                    bytes: state.bytes + bytes,
                    done: last,
                };
                stmts.extend(progress_statements(dd, o, &plan.into, &next));
                dst.execute_in_transaction(&stmts).await.map_err(|e| {
                    Error::runtime(format!(
                        "copy {} into {} on {}: chunk {chunk_no} failed and was rolled back (statement {}): {}",
                        plan.from,
                        plan.into,
                        dst.redacted_url(),
                        e.index + 1,
                        e.message
                    ))
                })?;
                state = next;
                crate::db::Moved {
                    rows: rows.len() as u64,
                    bytes,
                }
            }
        };
        result.chunks += 1;
        log(format!(
            "{}: chunk {chunk_no}: {} row(s), {} bytes committed ({} in all)",
            plan.into, moved.rows, moved.bytes, state.rows
        ));
        crate::crash::point(&format!("copy:{}:{chunk_no}", plan.into));
    }
    result.rows = state.rows;
    result.bytes = state.bytes;
    result.sequences_reset = reset_sequences(dst, plan).await?;
    result.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(result)
}

/// One binary COPY chunk, committed with its progress mark (whose counts add what the
/// stream moved).
async fn binary_copy_chunk(
    src: &Db,
    dst: &Db,
    o: &CopyOptions,
    plan: &TablePlan,
    select: &str,
    next: &Progress,
) -> Result<crate::db::Moved> {
    let d = dst.dialect();
    let mark = |m: crate::db::Moved| {
        let p = Progress {
            high_water: next.high_water.clone(),
            rows: next.rows + m.rows,
            bytes: next.bytes + m.bytes,
            done: next.done,
        };
        progress_statements(d, o, &plan.into, &p)
    };
    crate::db::binary_copy(src, dst, select, &plan.into, &plan.columns, &mark)
        .await?
        .ok_or_else(|| Error::runtime("binary COPY is only possible between PostgreSQL databases"))
}

/// Multi-row INSERTs for a chunk, and their size in bytes.
fn insert_statements(
    dd: Dialect,
    o: &CopyOptions,
    plan: &TablePlan,
    rows: &[Vec<Value>],
) -> Result<(Vec<Statement>, u64)> {
    let table = dd.quote_qualified(&plan.into);
    let cols = plan
        .columns
        .iter()
        .map(|c| dd.quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let (pre, post) = if o.skip_conflicts {
        dd.sql().insert_skipping_conflicts()
    } else {
        ("INSERT INTO", "")
    };
    let mut stmts = Vec::new();
    let mut bytes = 0u64;
    for group in rows.chunks(ROWS_PER_INSERT) {
        let mut values = Vec::with_capacity(group.len());
        for r in group {
            let mut lits = Vec::with_capacity(r.len());
            for ((v, class), col) in r.iter().zip(&plan.classes).zip(&plan.columns) {
                lits.push(literal(v, dd, *class).map_err(|why| {
                    let key = plan
                        .key
                        .iter()
                        .zip(&plan.key_idx)
                        .map(|(k, &i)| format!("{k} = {}", r[i]))
                        .collect::<Vec<_>>()
                        .join(", ");
                    Error::bad_input(format!(
                        "cannot copy {} into {}: the row with {} has column \"{col}\" that {why}; nothing of this chunk was written",
                        plan.from,
                        plan.into,
                        if key.is_empty() { "no key".to_string() } else { key }
                    ))
                })?);
            }
            values.push(format!("({})", lits.join(", ")));
        }
        let sql = format!("{pre} {table} ({cols}) VALUES {}{post}", values.join(", "));
        bytes += sql.len() as u64;
        stmts.push(Statement::new(sql));
    }
    Ok((stmts, bytes))
}

/// Set every sequence / AUTO_INCREMENT feeding the destination table past its largest
/// key.
async fn reset_sequences(dst: &Db, plan: &TablePlan) -> Result<Vec<SequenceReset>> {
    let d = dst.dialect();
    let table = d.quote_qualified(&plan.into);
    let mut out = Vec::new();
    for col in &plan.sequenced {
        let max = dst
            .query(
                &format!("SELECT MAX({}) FROM {table}", d.quote_ident(col)),
                &[],
            )
            .await?;
        let next = max.scalar().and_then(Value::as_i64).unwrap_or(0) + 1;
        if let Some(sql) = d.sql().sequence_reset(&table, col, next) {
            dst.execute(&sql)
                .await
                .map_err(|e| e.context(format!("setting the sequence of {}.{col}", plan.into)))?;
            out.push(SequenceReset {
                column: col.clone(),
                next,
            });
        }
    }
    Ok(out)
}
