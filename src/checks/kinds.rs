//! What each kind of check asks the databases and how it judges the answer.

use super::compare::{as_decimal, show_duration};
use super::parse::query_for;
use super::{Check, CheckKind, Latency, Query};
use crate::data::{DiffOptions, DiffSink, Difference, Plan, build_plan};
use crate::db::{Db, Rows, Targets, Value};
use crate::error::{Error, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A check's verdict before it is dressed as a result.
pub(super) struct Verdict {
    pub passed: bool,
    pub actual: String,
    pub details: Vec<String>,
    pub latency: Option<Latency>,
}

impl Verdict {
    fn new(passed: bool, actual: impl Into<String>) -> Verdict {
        Verdict {
            passed,
            actual: actual.into(),
            details: Vec::new(),
            latency: None,
        }
    }
    fn with_details(mut self, d: Vec<String>) -> Verdict {
        self.details = d;
        self
    }
}

/// A row as `col=value, col=value`.
fn show_row(columns: &[String], row: &[Value]) -> String {
    columns
        .iter()
        .zip(row)
        .map(|(c, v)| format!("{c}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn run_query(c: &Check, db: &Db, q: &Query, tag: &str) -> Result<Rows> {
    let sql = query_for(q, &c.params, db.dialect());
    db.query(&tagged(tag, &sql), &[])
        .await
        .map_err(|e| e.context(format!("{} ({})", c.id, q.label)))
}

/// One count from a query or a table.
async fn count(
    c: &Check,
    db: &Db,
    table: Option<&str>,
    q: Option<&Query>,
    tag: &str,
) -> Result<i64> {
    let rows = match (table, q) {
        (Some(t), _) => {
            let sql = format!("SELECT count(*) FROM {}", db.dialect().quote_qualified(t));
            db.query(&tagged(tag, &sql), &[])
                .await
                .map_err(|e| e.context(format!("{}: count of {t}", c.id)))?
        }
        (None, Some(q)) => run_query(c, db, q, tag).await?,
        (None, None) => unreachable!("parse requires table or query"),
    };
    match (rows.rows.len(), rows.scalar().and_then(Value::as_i64)) {
        (1, Some(n)) if rows.columns.len() == 1 => Ok(n),
        _ => Err(Error::runtime(format!(
            "{}: the count query must return one integer, it returned {} row(s) of {} column(s)",
            c.id,
            rows.rows.len(),
            rows.columns.len()
        ))),
    }
}

/// `sql` with the check's tag in a leading comment, so the server's list of running
/// queries shows which check runs it (and a timed-out one can be cancelled by it).
fn tagged(tag: &str, sql: &str) -> String {
    format!("/* {tag} */ {sql}")
}

/// Evaluate the check; every query it runs itself carries `tag` (see [`tagged`]).
pub(super) async fn evaluate(c: &Check, targets: &Targets, tag: &str) -> Result<Verdict> {
    let db = targets.get(&c.targets[0]).await?;
    let other = match c.targets.get(1) {
        Some(t) => Some(targets.get(t).await?),
        None => None,
    };
    let a = &c.targets[0];
    let b = c.targets.get(1).cloned().unwrap_or_default();
    match &c.kind {
        CheckKind::Value { query, expect } => {
            let rows = run_query(c, &db, query, tag).await?;
            if rows.rows.len() != 1 || rows.columns.len() != 1 {
                return Ok(Verdict::new(
                    false,
                    format!(
                        "{} row(s) of {} column(s), not one value",
                        rows.rows.len(),
                        rows.columns.len()
                    ),
                ));
            }
            let v = &rows.rows[0][0];
            Ok(Verdict::new(expect.holds(v), v.to_string()))
        }
        CheckKind::NoRows { query, show } => {
            let rows = run_query(c, &db, query, tag).await?;
            let n = rows.rows.len();
            let details = rows
                .rows
                .iter()
                .take(*show)
                .map(|r| show_row(&rows.columns, r))
                .collect();
            Ok(Verdict::new(n == 0, format!("{n} row(s)")).with_details(details))
        }
        CheckKind::RowCountMatch { table, query } => {
            let other = other.expect("two targets");
            let (x, y) = tokio::try_join!(
                count(c, &db, table.as_deref(), query.as_ref(), tag),
                count(c, &other, table.as_deref(), query.as_ref(), tag)
            )?;
            Ok(Verdict::new(x == y, format!("{a} {x}, {b} {y}")))
        }
        CheckKind::Reconcile {
            table,
            group_by,
            columns,
            tolerance,
        } => {
            let other = other.expect("two targets");
            let (x, y) = tokio::try_join!(
                aggregates(tag, c, &db, table, group_by, columns),
                aggregates(tag, c, &other, table, group_by, columns)
            )?;
            Ok(reconcile(a, &b, &x, &y, columns, *tolerance))
        }
        CheckKind::Freshness {
            table,
            column,
            max_age,
        } => {
            let d = db.dialect();
            let sql = format!(
                "SELECT max({}) FROM {}",
                d.quote_ident(column),
                d.quote_qualified(table)
            );
            let rows = db
                .query(&tagged(tag, &sql), &[])
                .await
                .map_err(|e| e.context(format!("{}: latest {column} of {table}", c.id)))?;
            let v = rows.scalar().cloned().unwrap_or(Value::Null);
            if v.is_null() {
                return Ok(Verdict::new(
                    false,
                    "no value (the table is empty or the column all NULL)",
                ));
            }
            let Some(latest) = as_time(&v) else {
                return Err(Error::runtime(format!(
                    "{}: {table}.{column} holds \"{v}\", which does not read as a timestamp",
                    c.id
                )));
            };
            let age = (Utc::now() - latest).to_std().unwrap_or(Duration::ZERO);
            Ok(Verdict::new(
                age <= *max_age,
                format!("latest {v} ({} old)", show_duration(age)),
            ))
        }
        CheckKind::Latency {
            query,
            runs,
            warmup,
            p95_under,
        } => {
            let sql = query_for(query, &c.params, db.dialect());
            for _ in 0..*warmup {
                db.query(&tagged(tag, &sql), &[])
                    .await
                    .map_err(|e| e.context(format!("{} ({})", c.id, query.label)))?;
            }
            let mut times = Vec::with_capacity(*runs as usize);
            for _ in 0..*runs {
                let t = Instant::now();
                db.query(&tagged(tag, &sql), &[])
                    .await
                    .map_err(|e| e.context(format!("{} ({})", c.id, query.label)))?;
                times.push(t.elapsed());
            }
            times.sort();
            let rank = |p: f64| {
                times[((p * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1]
            };
            let (p50, p95, max) = (rank(0.50), rank(0.95), *times.last().expect("runs >= 1"));
            let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
            let mut v = Verdict::new(
                p95 < *p95_under,
                format!(
                    "p95 {} (p50 {}, max {}; {runs} runs after {warmup} warm-up)",
                    show_duration(p95),
                    show_duration(p50),
                    show_duration(max)
                ),
            );
            v.latency = Some(Latency {
                runs: *runs,
                warmup: *warmup,
                p50_ms: ms(p50),
                p95_ms: ms(p95),
                max_ms: ms(max),
            });
            Ok(v)
        }
        CheckKind::Schema { snapshot } => {
            let then = crate::schema::snapshot::Snapshot::read(snapshot)?;
            let now = crate::schema::snapshot::Snapshot::capture(&db, &then.filter()).await?;
            let drift = crate::schema::snapshot::drift(&then, &now);
            let lines: Vec<String> = drift
                .schema
                .changes
                .iter()
                .map(crate::schema::report::change_line)
                .collect();
            Ok(Verdict::new(
                lines.is_empty(),
                if lines.is_empty() {
                    "the same schema".to_string()
                } else {
                    format!("{} difference(s)", lines.len())
                },
            )
            .with_details(lines))
        }
        CheckKind::DataDiff {
            table,
            target_table,
            key,
            columns,
            where_sql,
            max_differences,
        } => {
            let other = other.expect("two targets");
            let opts = DiffOptions {
                table: table.clone(),
                target_table: target_table.clone(),
                key: key.clone(),
                columns: columns.clone(),
                where_sql: where_sql.clone(),
                tolerance: Vec::new(),
                compare_as: Vec::new(),
                strategy: None,
            };
            let plan = build_plan(&db, &other, &opts)
                .await
                .map_err(|e| e.context(c.id.clone()))?;
            let mut sink = Described {
                a: a.clone(),
                b: b.clone(),
                lines: Vec::new(),
            };
            let s = crate::data::diff(&db, &other, plan, &mut sink, &|_| {})
                .await
                .map_err(|e| e.context(c.id.clone()))?;
            let n = s.differences();
            Ok(Verdict::new(
                n <= *max_differences,
                format!(
                    "{n} differing row(s): {} only on {a}, {} only on {b}, {} changed ({} and {} rows)",
                    s.only_in_source, s.only_in_target, s.changed, s.source_rows, s.target_rows
                ),
            )
            .with_details(sink.lines))
        }
    }
}

/// The first differences of a data diff, as text.
struct Described {
    a: String,
    b: String,
    lines: Vec<String>,
}

impl DiffSink for Described {
    fn difference(&mut self, plan: &Plan, d: Difference) -> Result<()> {
        if self.lines.len() >= 10 {
            return Ok(());
        }
        let names: Vec<String> = plan.columns.iter().map(|c| c.name.clone()).collect();
        self.lines.push(match d {
            Difference::OnlyInSource { row, .. } => {
                format!("only on {}: {}", self.a, show_row(&names, &row))
            }
            Difference::OnlyInTarget { row, .. } => {
                format!("only on {}: {}", self.b, show_row(&names, &row))
            }
            Difference::Changed {
                source,
                target,
                columns,
            } => {
                let key = show_row(
                    &names[..plan.key_len],
                    &source[..plan.key_len.min(source.len())],
                );
                let cols = columns
                    .iter()
                    .map(|&i| {
                        format!(
                            "{}: {} on {}, {} on {}",
                            names[i], source[i], self.a, target[i], self.b
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                format!("changed {key}: {cols}")
            }
        });
        Ok(())
    }
}

/// Per group: count, then sum, min and max of each column.
type Groups = BTreeMap<String, Vec<Value>>;

async fn aggregates(
    tag: &str,
    c: &Check,
    db: &Db,
    table: &str,
    group_by: &[String],
    columns: &[String],
) -> Result<Groups> {
    let d = db.dialect();
    let mut select: Vec<String> = group_by.iter().map(|g| d.quote_ident(g)).collect();
    select.push("count(*)".into());
    for col in columns {
        let q = d.quote_ident(col);
        select.push(format!("sum({q})"));
        select.push(format!("min({q})"));
        select.push(format!("max({q})"));
    }
    let mut sql = format!(
        "SELECT {} FROM {}",
        select.join(", "),
        d.quote_qualified(table)
    );
    if !group_by.is_empty() {
        sql.push_str(&format!(
            " GROUP BY {}",
            group_by
                .iter()
                .map(|g| d.quote_ident(g))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let rows = db
        .query(&tagged(tag, &sql), &[])
        .await
        .map_err(|e| e.context(format!("{}: aggregates of {table}", c.id)))?;
    let k = group_by.len();
    Ok(rows
        .rows
        .into_iter()
        .map(|r| {
            let key = if k == 0 {
                "(all rows)".to_string()
            } else {
                show_row(group_by, &r[..k])
            };
            (key, r[k..].to_vec())
        })
        .collect())
}

fn reconcile(
    a: &str,
    b: &str,
    x: &Groups,
    y: &Groups,
    columns: &[String],
    tolerance: Decimal,
) -> Verdict {
    let mut lines = Vec::new();
    let mut differ = 0usize;
    let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
    for k in &keys {
        let (Some(vx), Some(vy)) = (x.get(*k), y.get(*k)) else {
            differ += 1;
            lines.push(format!(
                "{k}: only on {}",
                if x.contains_key(*k) { a } else { b }
            ));
            continue;
        };
        let mut bad = Vec::new();
        let mut names = vec!["count".to_string()];
        for col in columns {
            names.push(format!("sum({col})"));
            names.push(format!("min({col})"));
            names.push(format!("max({col})"));
        }
        for (i, name) in names.iter().enumerate() {
            let (p, q) = (&vx[i], &vy[i]);
            // counts exactly; sums, minima and maxima exactly or within the tolerance
            let is_count = i == 0;
            let same = match (as_decimal(p), as_decimal(q)) {
                (Some(m), Some(n)) if !is_count => (m - n).abs() <= tolerance,
                (Some(m), Some(n)) => m.normalize() == n.normalize(),
                _ => p.loosely_equals(q),
            };
            if !same {
                bad.push(format!("{name} {p} on {a}, {q} on {b}"));
            }
        }
        if !bad.is_empty() {
            differ += 1;
            lines.push(format!("{k}: {}", bad.join("; ")));
        }
    }
    lines.truncate(20);
    Verdict::new(
        differ == 0,
        if differ == 0 {
            format!("{} group(s) equal", keys.len())
        } else {
            format!("{differ} of {} group(s) differ", keys.len())
        },
    )
    .with_details(lines)
}

/// What a check expects, in words (the same whether it then passes, fails, times out
/// or cannot run).
pub(super) fn expected(c: &Check) -> String {
    let a = &c.targets[0];
    let b = c.targets.get(1).map(String::as_str).unwrap_or("");
    match &c.kind {
        CheckKind::Value { expect, .. } => expect.to_string(),
        CheckKind::NoRows { .. } => "no rows".into(),
        CheckKind::RowCountMatch { .. } => format!("the same row count on {a} and {b}"),
        CheckKind::Reconcile {
            group_by,
            columns,
            tolerance,
            ..
        } => {
            let what = if columns.is_empty() {
                "count".to_string()
            } else {
                format!("count, sum/min/max of {}", columns.join(", "))
            };
            let per = if group_by.is_empty() {
                String::new()
            } else {
                format!(" per {}", group_by.join(", "))
            };
            let tol = if tolerance.is_zero() {
                ", exactly".to_string()
            } else {
                format!(", sum/min/max within {tolerance}")
            };
            format!("{what}{per} equal on {a} and {b}{tol}")
        }
        CheckKind::Freshness {
            table,
            column,
            max_age,
        } => format!(
            "latest {table}.{column} at most {} old",
            show_duration(*max_age)
        ),
        CheckKind::Latency { p95_under, .. } => format!("p95 < {}", show_duration(*p95_under)),
        CheckKind::Schema { snapshot } => format!(
            "the schema in {}",
            snapshot
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
        CheckKind::DataDiff {
            table,
            max_differences,
            ..
        } => {
            if *max_differences == 0 {
                format!("the same rows of {table} on {a} and {b}")
            } else {
                format!("at most {max_differences} differing row(s) of {table}")
            }
        }
    }
}

/// A timestamp-like value as UTC (a timestamp without zone is taken as UTC).
fn as_time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::TimestampTz(t) => Some(*t),
        Value::Timestamp(t) => Some(t.and_utc()),
        Value::Date(d) => d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
        Value::Int(secs) => DateTime::from_timestamp(*secs, 0),
        Value::Text(s) => {
            let s = s.trim();
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Some(t.with_timezone(&Utc));
            }
            for f in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%:z"] {
                if let Ok(t) = DateTime::parse_from_str(s, f) {
                    return Some(t.with_timezone(&Utc));
                }
            }
            for f in [
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M",
            ] {
                if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
                    return Some(t.and_utc());
                }
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        }
        _ => None,
    }
}
