//! `consolidate`: merge the rows of one or more legacy tables into a target table by a
//! natural key. Column mappings may be expressions over the legacy row; each column
//! has a precedence rule (`fill`: the legacy value fills the target's NULLs, the
//! default; `target`: existing target rows are never changed; a legacy table's name:
//! that table's non-NULL value wins). Where both sides hold different non-NULL values
//! the difference is a conflict, written to a table (and optionally a CSV) with how it
//! was resolved. Fixed corrections (`set` where `where`) run last.
//!
//! Legacy rows are read in key order in batches; each batch's inserts, updates,
//! conflicts and high-water mark commit in one transaction (`steps::batch`), so a run
//! killed at any point resumes after the last committed batch and merges no row twice.

use super::batch::{self, Mark};
use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::{Db, Statement, Targets, Value};
use crate::error::{Error, Result};
use crate::runbook::Params;
use async_trait::async_trait;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

pub const DEFAULT_BATCH: u64 = 1_000;
pub const DEFAULT_CONFLICTS_TABLE: &str = "consolidate_conflicts";
/// Conflicts kept in the evidence (all of them are in the conflicts table).
const CONFLICTS_IN_EVIDENCE: usize = 200;

#[derive(Debug, Clone)]
struct Correction {
    set: String,
    filter: String,
}

pub struct Consolidate {
    target: String,
    into: String,
    from: Vec<String>,
    key: Vec<String>,
    /// (into column, expression over the legacy row); `None`: same-named columns.
    columns: Option<Vec<(String, String)>>,
    precedence: HashMap<String, String>,
    corrections: Vec<Correction>,
    batch: u64,
    conflicts_table: String,
    conflicts_csv: Option<(String, PathBuf)>,
}

fn string_map(p: &Params, key: &'static str) -> Result<Option<Vec<(String, String)>>> {
    let Some(t) = p.table(key)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (k, v) in t.entries() {
        match v.get_ref() {
            toml::de::DeValue::String(s) => out.push((k.get_ref().to_string(), s.to_string())),
            _ => {
                return Err(t.value_error(v, format!("`{key}.{}` must be a string", k.get_ref())));
            }
        }
    }
    Ok(Some(out))
}

impl Consolidate {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let target = ctx.target(p, "target")?;
        let into = p.req_str("into")?;
        let from = p.str_list("from")?.unwrap_or_default();
        if from.is_empty() {
            return Err(p.src.error(
                &p.span,
                format!(
                    "{} needs `from`: the legacy table(s) to merge into {into}",
                    p.what
                ),
            ));
        }
        if from.contains(&into) {
            return Err(p.error_at(
                "from",
                format!("`from` cannot name the target table {into}"),
            ));
        }
        let key = p.str_list("key")?.unwrap_or_default();
        if key.is_empty() {
            return Err(p.src.error(
                &p.span,
                format!(
                    "{} needs `key`: the natural key column(s) of {into} rows are matched by",
                    p.what
                ),
            ));
        }
        let columns = string_map(p, "columns")?;
        let precedence: HashMap<String, String> = string_map(p, "precedence")?
            .unwrap_or_default()
            .into_iter()
            .collect();
        for (col, rule) in &precedence {
            if rule != "fill" && rule != "target" && !from.contains(rule) {
                return Err(p.error_at(
                    "precedence",
                    format!(
                        "precedence of \"{col}\" is \"{rule}\": expected \"fill\" (legacy fills gaps), \"target\" (target wins) or one of the legacy tables ({})",
                        from.join(", ")
                    ),
                ));
            }
            if key.contains(col) {
                return Err(p.error_at(
                    "precedence",
                    format!("\"{col}\" is part of the key: it is matched, not merged"),
                ));
            }
        }
        let mut corrections = Vec::new();
        for c in p.tables("corrections")? {
            let set = c.req_str("set")?;
            let filter = c.req_str("where")?;
            c.finish()?;
            corrections.push(Correction { set, filter });
        }
        let batch = match p.count("batch")? {
            None => DEFAULT_BATCH,
            Some(0) => {
                return Err(
                    p.error_at("batch", "`batch` (rows per transaction) must be at least 1")
                );
            }
            Some(n) => n,
        };
        let conflicts_table = p
            .str("conflicts_table")?
            .unwrap_or_else(|| DEFAULT_CONFLICTS_TABLE.into());
        let conflicts_csv = p
            .str("conflicts_csv")?
            .map(|s| (s.clone(), ctx.dir.join(&s)));
        Ok(Consolidate {
            target,
            into,
            from,
            key,
            columns,
            precedence,
            corrections,
            batch,
            conflicts_table,
            conflicts_csv,
        })
    }

    fn rule(&self, column: &str) -> &str {
        self.precedence
            .get(column)
            .map(String::as_str)
            .unwrap_or("fill")
    }

    /// The (into column, legacy expression) pairs for one legacy table, key first.
    async fn mapping(&self, db: &Db, legacy: &str) -> Result<Vec<(String, String)>> {
        let d = db.dialect();
        let missing = |t: &str| {
            Error::bad_input(format!(
                "consolidate: table \"{t}\" does not exist on {}",
                db.redacted_url()
            ))
        };
        let into = d
            .sql()
            .introspect_table(db, &self.into)
            .await?
            .ok_or_else(|| missing(&self.into))?;
        let old = d
            .sql()
            .introspect_table(db, legacy)
            .await?
            .ok_or_else(|| missing(legacy))?;
        let mut pairs: Vec<(String, String)> = match &self.columns {
            Some(c) => c.clone(),
            None => into
                .columns
                .iter()
                .filter(|c| old.column(&c.name).is_some() && c.generated.is_none())
                .map(|c| (c.name.clone(), d.quote_ident(&c.name)))
                .collect(),
        };
        for (col, _) in &pairs {
            if into.column(col).is_none() {
                return Err(Error::bad_input(format!(
                    "consolidate: `columns` maps \"{col}\", which {} does not have",
                    self.into
                )));
            }
        }
        for k in self.key.iter().rev() {
            if into.column(k).is_none() {
                return Err(Error::bad_input(format!(
                    "consolidate: key column \"{k}\" is not a column of {}",
                    self.into
                )));
            }
            match pairs.iter().position(|(c, _)| c == k) {
                Some(i) => {
                    let p = pairs.remove(i);
                    pairs.insert(0, p);
                }
                None if old.column(k).is_some() => pairs.insert(0, (k.clone(), d.quote_ident(k))),
                None => {
                    return Err(Error::bad_input(format!(
                        "consolidate: {legacy} has no column \"{k}\" for the key; map it with `columns.{k} = \"expression\"`"
                    )));
                }
            }
        }
        Ok(pairs)
    }
}

/// A value's identity for matching keys and comparing: numbers by value, the rest by text.
fn norm(v: &Value) -> String {
    use std::str::FromStr;
    let num = match v {
        Value::Int(i) => Some(rust_decimal::Decimal::from(*i)),
        Value::UInt(u) => Some(rust_decimal::Decimal::from(*u)),
        Value::Decimal(d) => Some(*d),
        Value::Float(f) => rust_decimal::Decimal::from_str(&f.to_string()).ok(),
        _ => None,
    };
    match (num, v) {
        (Some(n), _) => format!("n:{}", n.normalize()),
        (None, Value::Null) => "null".into(),
        (None, other) => format!("t:{other}"),
    }
}

fn key_of(row: &[Value], n: usize) -> String {
    row[..n].iter().map(norm).collect::<Vec<_>>().join("\u{1f}")
}

/// Counters of one legacy table's merge, committed with each batch's mark.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SourceMerge {
    pub table: String,
    pub rows_read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub conflicts: u64,
    pub batches: u64,
    /// The key an interrupted attempt had reached; this attempt went on after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_after: Option<String>,
}

/// One column of one row where the legacy table and the target disagreed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Conflict {
    pub source: String,
    pub key: String,
    pub column: String,
    pub target_value: String,
    pub source_value: String,
    /// "target kept" or "<legacy table> wins".
    pub resolution: String,
}

/// A fixed correction and the rows it changed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CorrectionApplied {
    pub set: String,
    #[serde(rename = "where")]
    pub filter: String,
    pub rows: u64,
}

/// What a consolidate did: per legacy table inserted, updated, unchanged and conflicts;
/// the conflicts (the first 200; all are in the conflicts table); corrections applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConsolidateEvidence {
    pub target: String,
    pub into: String,
    pub key: Vec<String>,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub conflicts: u64,
    pub sources: Vec<SourceMerge>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflict_rows: Vec<Conflict>,
    pub conflicts_table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts_csv: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corrections: Vec<CorrectionApplied>,
    pub elapsed_ms: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

async fn ensure_conflicts_table(db: &Db, name: &str) -> Result<()> {
    let d = db.dialect();
    let key = d.sql().key_text_type();
    db.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {} (run_id {key} NOT NULL, step_id {key} NOT NULL, into_table {key} NOT NULL, source_table {key} NOT NULL, row_key TEXT NOT NULL, column_name {key} NOT NULL, target_value TEXT, source_value TEXT, resolution TEXT NOT NULL, recorded_at {key} NOT NULL)",
        d.quote_qualified(name)
    ))
    .await
    .map_err(|e| e.context(format!("creating the conflicts table {name}")))?;
    Ok(())
}

#[async_trait]
impl Step for Consolidate {
    fn kind(&self) -> &'static str {
        "consolidate"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn writes(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        let mut v = vec![format!(
            "merge {} into {} on {} by key ({}), {} rows per transaction, resumable from the high-water mark",
            self.from.join(", "),
            self.into,
            self.target,
            self.key.join(", "),
            self.batch
        )];
        let mut rules: Vec<_> = self.precedence.iter().collect();
        rules.sort();
        let rules: Vec<String> = rules
            .iter()
            .map(|(c, r)| match r.as_str() {
                "fill" => format!("{c}: legacy fills gaps"),
                "target" => format!("{c}: target wins"),
                s => format!("{c}: {s} wins"),
            })
            .collect();
        v.push(format!(
            "precedence: {}legacy fills gaps elsewhere; conflicts to {}{}",
            if rules.is_empty() {
                String::new()
            } else {
                format!("{}; ", rules.join(", "))
            },
            self.conflicts_table,
            self.conflicts_csv
                .as_ref()
                .map(|(s, _)| format!(" and {s}"))
                .unwrap_or_default()
        ));
        for c in &self.corrections {
            v.push(format!("then correct: SET {} WHERE {}", c.set, c.filter));
        }
        v
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let started = Instant::now();
        let db = ctx.targets.get(&self.target).await?;
        batch::ensure_progress_table(&db).await?;
        ensure_conflicts_table(&db, &self.conflicts_table).await?;
        let mut sources = Vec::new();
        let mut notes = Vec::new();
        for legacy in &self.from {
            let (m, note) = self.merge_source(ctx, &db, legacy).await?;
            notes.extend(note);
            sources.push(m);
        }
        let corrections = self.correct(ctx, &db).await?;
        let conflict_rows = read_conflicts(&db, &self.conflicts_table, ctx).await?;
        if let Some((label, path)) = &self.conflicts_csv {
            write_conflicts_csv(path, &conflict_rows)
                .map_err(|e| e.context(format!("writing {label}")))?;
        }
        let sum = |f: fn(&SourceMerge) -> u64| sources.iter().map(f).sum::<u64>();
        let evidence = ConsolidateEvidence {
            target: self.target.clone(),
            into: self.into.clone(),
            key: self.key.clone(),
            inserted: sum(|s| s.inserted),
            updated: sum(|s| s.updated),
            unchanged: sum(|s| s.unchanged),
            conflicts: sum(|s| s.conflicts),
            conflict_rows: conflict_rows
                .into_iter()
                .take(CONFLICTS_IN_EVIDENCE)
                .collect(),
            conflicts_table: self.conflicts_table.clone(),
            conflicts_csv: self.conflicts_csv.as_ref().map(|(s, _)| s.clone()),
            corrections,
            elapsed_ms: started.elapsed().as_millis() as u64,
            notes,
            sources,
        };
        let mut summary = format!(
            "{} ← {}: {} inserted, {} updated, {} unchanged, {} conflict(s)",
            self.into,
            self.from.join(", "),
            evidence.inserted,
            evidence.updated,
            evidence.unchanged,
            evidence.conflicts
        );
        if evidence.conflicts > 0 {
            summary.push_str(&format!(" (in {})", self.conflicts_table));
        }
        for c in &evidence.corrections {
            summary.push_str(&format!("; corrected {} row(s): {}", c.rows, c.set));
        }
        if let Some(k) = evidence
            .sources
            .iter()
            .find_map(|s| s.resumed_after.clone())
        {
            summary.push_str(&format!("; resumed after {k}"));
        }
        Ok(StepOutcome::ok(summary, evidence))
    }
}

impl Consolidate {
    async fn merge_source(
        &self,
        ctx: &StepContext<'_>,
        db: &Db,
        legacy: &str,
    ) -> Result<(SourceMerge, Option<String>)> {
        let d = db.dialect();
        let scope = format!("{legacy} → {}", self.into);
        let (mut mark, note) = batch::resume_mark(db, ctx, "consolidate", &scope).await?;
        let mut merge: SourceMerge = mark
            .detail
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_else(|| SourceMerge {
                table: legacy.into(),
                ..Default::default()
            });
        if mark.done {
            return Ok((merge, note));
        }
        merge.resumed_after = mark.high_water.clone().filter(|_| mark.batches > 0);
        let pairs = self.mapping(db, legacy).await?;
        let nkey = self.key.len();
        let cols: Vec<String> = pairs.iter().map(|(c, _)| c.clone()).collect();
        let exprs: Vec<String> = pairs.iter().map(|(_, e)| e.clone()).collect();
        let key_exprs: Vec<String> = exprs[..nkey].to_vec();
        let select = exprs
            .iter()
            .enumerate()
            .map(|(i, e)| format!("{e} AS {}", d.quote_ident(&format!("c{i}"))))
            .collect::<Vec<_>>()
            .join(", ");
        let into_q = d.quote_qualified(&self.into);
        let legacy_q = d.quote_qualified(legacy);
        let cols_q: Vec<String> = cols.iter().map(|c| d.quote_ident(c)).collect();
        let order = key_exprs.join(", ");
        loop {
            let after = match &mark.high_water_sql {
                Some(hw) => {
                    let lits: Vec<String> = serde_json::from_str(hw).map_err(|e| {
                        Error::runtime(format!(
                            "{scope}: the high-water mark {hw} does not read: {e}"
                        ))
                    })?;
                    format!(
                        " WHERE {} > {}",
                        super::batch::row_tuple(&key_exprs),
                        super::batch::row_tuple(&lits)
                    )
                }
                None => String::new(),
            };
            let read = |sql: String| async move {
                db.query(&sql, &[])
                    .await
                    .map(|r| r.rows)
                    .map_err(|e| e.context(format!("reading {legacy}")))
            };
            let mut rows = read(format!(
                "SELECT {select} FROM {legacy_q}{after} ORDER BY {order} LIMIT {}",
                self.batch + 1
            ))
            .await?;
            if rows.is_empty() {
                break;
            }
            // A batch ends where the key changes, so rows sharing a key stay together.
            if rows.len() as u64 > self.batch {
                let next = key_of(&rows[self.batch as usize], nkey);
                rows.truncate(self.batch as usize);
                while rows.last().is_some_and(|r| key_of(r, nkey) == next) {
                    rows.pop();
                }
                if rows.is_empty() {
                    // More rows than a batch share one key: take them all.
                    let lits: Vec<String> = {
                        let first = read(format!(
                            "SELECT {select} FROM {legacy_q}{after} ORDER BY {order} LIMIT 1"
                        ))
                        .await?;
                        first[0][..nkey]
                            .iter()
                            .map(|v| v.to_sql_literal(d))
                            .collect()
                    };
                    rows = read(format!(
                        "SELECT {select} FROM {legacy_q} WHERE {} = {} ORDER BY {order}",
                        super::batch::row_tuple(&key_exprs),
                        super::batch::row_tuple(&lits)
                    ))
                    .await?;
                }
            }
            if rows.iter().any(|r| r[..nkey].iter().any(Value::is_null)) {
                let bad = rows
                    .iter()
                    .find(|r| r[..nkey].iter().any(Value::is_null))
                    .expect("row");
                return Err(Error::bad_input(format!(
                    "consolidate: a row of {legacy} has a NULL key ({}): it cannot be matched; fix or map the key",
                    bad[..nkey]
                        .iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            // The target's rows with these keys.
            let tuples: Vec<String> = rows
                .iter()
                .map(|r| {
                    super::batch::row_tuple(
                        &r[..nkey]
                            .iter()
                            .map(|v| v.to_sql_literal(d))
                            .collect::<Vec<_>>(),
                    )
                })
                .collect();
            let key_cols_q = super::batch::row_tuple(&cols_q[..nkey]);
            let existing = db
                .query(
                    &format!(
                        "SELECT {} FROM {into_q} WHERE {key_cols_q} IN ({})",
                        cols_q.join(", "),
                        tuples.join(", ")
                    ),
                    &[],
                )
                .await?;
            let mut target: HashMap<String, Vec<Value>> = existing
                .rows
                .into_iter()
                .map(|r| (key_of(&r, nkey), r))
                .collect();
            let mut stmts = Vec::new();
            let mut conflicts = Vec::new();
            let mut m = merge.clone();
            for row in &rows {
                m.rows_read += 1;
                let k = key_of(row, nkey);
                let key_text = row[..nkey]
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                let Some(t) = target.get_mut(&k) else {
                    stmts.push(Statement::new(format!(
                        "INSERT INTO {into_q} ({}) VALUES ({})",
                        cols_q.join(", "),
                        row.iter()
                            .map(|v| v.to_sql_literal(d))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                    target.insert(k, row.clone());
                    m.inserted += 1;
                    continue;
                };
                let mut sets = Vec::new();
                for i in nkey..cols.len() {
                    let (lv, tv) = (&row[i], &t[i]);
                    if lv.is_null() || norm(lv) == norm(tv) {
                        continue;
                    }
                    let rule = self.rule(&cols[i]);
                    let wins = rule == legacy;
                    if tv.is_null() {
                        if rule != "target" {
                            sets.push(i);
                        }
                        continue;
                    }
                    conflicts.push(Conflict {
                        source: legacy.into(),
                        key: key_text.clone(),
                        column: cols[i].clone(),
                        target_value: tv.to_string(),
                        source_value: lv.to_string(),
                        resolution: if wins {
                            format!("{legacy} wins")
                        } else {
                            "target kept".into()
                        },
                    });
                    if wins {
                        sets.push(i);
                    }
                }
                if sets.is_empty() {
                    m.unchanged += 1;
                    continue;
                }
                let assign = sets
                    .iter()
                    .map(|&i| format!("{} = {}", cols_q[i], row[i].to_sql_literal(d)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let filter = (0..nkey)
                    .map(|i| format!("{} = {}", cols_q[i], t[i].to_sql_literal(d)))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                stmts.push(Statement::new(format!(
                    "UPDATE {into_q} SET {assign} WHERE {filter}"
                )));
                for &i in &sets {
                    t[i] = row[i].clone();
                }
                m.updated += 1;
            }
            m.conflicts += conflicts.len() as u64;
            m.batches += 1;
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let lit = |s: &str| d.quote_literal(s);
            for c in &conflicts {
                stmts.push(Statement::new(format!(
                    "INSERT INTO {} (run_id, step_id, into_table, source_table, row_key, column_name, target_value, source_value, resolution, recorded_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                    d.quote_qualified(&self.conflicts_table),
                    lit(ctx.run_id),
                    lit(ctx.step_id),
                    lit(&self.into),
                    lit(legacy),
                    lit(&c.key),
                    lit(&c.column),
                    lit(&c.target_value),
                    lit(&c.source_value),
                    lit(&c.resolution),
                    lit(&now)
                )));
            }
            let last = rows.last().expect("rows");
            let hw_lits: Vec<String> = last[..nkey].iter().map(|v| v.to_sql_literal(d)).collect();
            let resumed_after = m.resumed_after.take();
            let next = Mark {
                high_water_sql: Some(serde_json::to_string(&hw_lits).expect("json")),
                high_water: Some(
                    last[..nkey]
                        .iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                rows_done: m.rows_read,
                rows_failed: m.conflicts,
                batches: mark.batches + 1,
                done: false,
                detail: Some(serde_json::to_string(&m).expect("json")),
            };
            m.resumed_after = resumed_after;
            stmts.extend(batch::mark_statements(
                db,
                ctx.run_id,
                ctx.step_id,
                &scope,
                &next,
            ));
            stmts.extend(batch::anchor_statements(db, ctx).await?);
            db.execute_in_transaction(&stmts).await.map_err(|e| {
                let first: String = stmts.get(e.index).map(|s| s.sql.chars().take(120).collect()).unwrap_or_default();
                Error::runtime(format!(
                    "consolidate {scope}: batch {} (keys after {} up to {}) failed on {}: {}\n  statement: {first}\n  that batch was rolled back; the high-water mark stays {}",
                    mark.batches + 1,
                    mark.high_water.as_deref().unwrap_or("the start"),
                    next.high_water.as_deref().unwrap_or(""),
                    db.redacted_url(),
                    e.message,
                    mark.high_water.as_deref().map(|h| format!("at {h}")).unwrap_or_else(|| "unset".into())
                ))
            })?;
            mark = next;
            merge = m;
            crate::crash::point(&format!("consolidate:{}:{}", ctx.step_id, mark.batches));
            batch::record(ctx, "consolidate", &scope, &mark).await?;
            ctx.log(format!(
                "{scope}: batch {} up to {}: {} read so far",
                mark.batches,
                mark.high_water.as_deref().unwrap_or(""),
                merge.rows_read
            ));
        }
        mark.done = true;
        let mut closing = batch::mark_statements(db, ctx.run_id, ctx.step_id, &scope, &mark);
        closing.extend(batch::anchor_statements(db, ctx).await?);
        db.execute_in_transaction(&closing).await.map_err(|e| {
            Error::runtime(format!(
                "consolidate {scope}: could not record the end: {}",
                e.message
            ))
        })?;
        Ok((merge, note))
    }

    /// The fixed corrections, once per run: with their own mark in one transaction.
    async fn correct(&self, ctx: &StepContext<'_>, db: &Db) -> Result<Vec<CorrectionApplied>> {
        if self.corrections.is_empty() {
            return Ok(Vec::new());
        }
        let d = db.dialect();
        let scope = format!("{}: corrections", self.into);
        if let Some(m) = batch::read_mark(db, ctx.run_id, ctx.step_id, &scope).await?
            && m.done
        {
            return Ok(m
                .detail
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default());
        }
        let into_q = d.quote_qualified(&self.into);
        let mut stmts: Vec<Statement> = self
            .corrections
            .iter()
            .map(|c| Statement::new(format!("UPDATE {into_q} SET {} WHERE {}", c.set, c.filter)))
            .collect();
        // Evidence counts the rows each correction's filter matches, counted just
        // before its transaction (the same figure on every engine, where MySQL's own
        // affected-rows count would leave out rows already equal).
        let mut applied = Vec::new();
        for c in &self.corrections {
            let n = db
                .query(
                    &format!("SELECT count(*) FROM {into_q} WHERE {}", c.filter),
                    &[],
                )
                .await
                .map_err(|e| e.context(format!("correction where {}", c.filter)))?
                .scalar()
                .and_then(Value::as_i64)
                .unwrap_or(0) as u64;
            applied.push(CorrectionApplied {
                set: c.set.clone(),
                filter: c.filter.clone(),
                rows: n,
            });
        }
        let mark = Mark {
            done: true,
            detail: Some(serde_json::to_string(&applied).expect("json")),
            ..Default::default()
        };
        stmts.extend(batch::mark_statements(
            db,
            ctx.run_id,
            ctx.step_id,
            &scope,
            &mark,
        ));
        stmts.extend(batch::anchor_statements(db, ctx).await?);
        db.execute_in_transaction(&stmts).await.map_err(|e| {
            let which = self.corrections.get(e.index).map(|c| format!("SET {} WHERE {}", c.set, c.filter)).unwrap_or_default();
            Error::runtime(format!(
                "consolidate {}: correction {which} failed on {}: {}; the corrections were rolled back",
                self.into,
                db.redacted_url(),
                e.message
            ))
        })?;
        Ok(applied)
    }
}

async fn read_conflicts(db: &Db, table: &str, ctx: &StepContext<'_>) -> Result<Vec<Conflict>> {
    let d = db.dialect();
    let rows = db
        .query(
            &format!(
                "SELECT source_table, row_key, column_name, target_value, source_value, resolution FROM {} WHERE run_id = {} AND step_id = {} ORDER BY source_table, length(row_key), row_key, column_name",
                d.quote_qualified(table),
                d.placeholder(1),
                d.placeholder(2)
            ),
            &[Value::from(ctx.run_id), Value::from(ctx.step_id)],
        )
        .await?;
    Ok(rows
        .rows
        .iter()
        .map(|r| Conflict {
            source: r[0].to_string(),
            key: r[1].to_string(),
            column: r[2].to_string(),
            target_value: r[3].to_string(),
            source_value: r[4].to_string(),
            resolution: r[5].to_string(),
        })
        .collect())
}

fn write_conflicts_csv(path: &std::path::Path, rows: &[Conflict]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let io = |e: csv::Error| Error::runtime(format!("{}: {e}", path.display()));
    let mut w = csv::Writer::from_path(path).map_err(io)?;
    w.write_record([
        "source",
        "key",
        "column",
        "target_value",
        "source_value",
        "resolution",
    ])
    .map_err(io)?;
    for c in rows {
        w.write_record([
            &c.source,
            &c.key,
            &c.column,
            &c.target_value,
            &c.source_value,
            &c.resolution,
        ])
        .map_err(io)?;
    }
    w.flush()?;
    Ok(())
}
