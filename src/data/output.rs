//! Rendering differences and summaries: text, json, jsonl and csv.
//!
//! One direction everywhere: the source is the truth and the target is what changes,
//! so every format reads as what applying will do. A changed value is shown
//! `target value → source value` (text), `{"target": .., "source": ..}` in that order
//! (json, jsonl) and `target,source` columns in that order (csv); a row only in the
//! source is `+` (applying inserts it), a row only in the target is `-` (applying
//! deletes it). The TUI's data diff view follows the same rule.

use super::diff::{DiffSink, Difference, Summary};
use super::plan::Plan;
use crate::db::Value;
use crate::error::{Error, Result};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Json,
    Jsonl,
    Csv,
}

fn jv(v: &Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn obj(plan: &Plan, row: &[Value], range: std::ops::Range<usize>) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for i in range {
        m.insert(plan.columns[i].name.clone(), jv(&row[i]));
    }
    serde_json::Value::Object(m)
}

fn key_range(plan: &Plan) -> std::ops::Range<usize> {
    if plan.multiset { 0..0 } else { 0..plan.key_len }
}

/// One difference as JSON.
pub fn difference_json(plan: &Plan, d: &Difference) -> serde_json::Value {
    match d {
        Difference::OnlyInSource { row, count } | Difference::OnlyInTarget { row, count } => {
            let kind = if matches!(d, Difference::OnlyInSource { .. }) {
                "only_in_source"
            } else {
                "only_in_target"
            };
            let mut v = serde_json::json!({
                "kind": kind,
                "key": obj(plan, row, key_range(plan)),
                "row": obj(plan, row, 0..plan.columns.len()),
            });
            if plan.multiset {
                v["count"] = (*count).into();
            }
            v
        }
        Difference::Changed {
            source,
            target,
            columns,
        } => {
            let mut ch = serde_json::Map::new();
            for i in columns {
                ch.insert(
                    plan.columns[*i].name.clone(),
                    serde_json::json!({"target": jv(&target[*i]), "source": jv(&source[*i])}),
                );
            }
            serde_json::json!({
                "kind": "changed",
                "key": obj(plan, source, key_range(plan)),
                "changes": ch,
            })
        }
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Text(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

fn key_text(plan: &Plan, row: &[Value]) -> String {
    if plan.multiset {
        return (0..plan.columns.len())
            .map(|i| format!("{}={}", plan.columns[i].name, show(&row[i])))
            .collect::<Vec<_>>()
            .join(" ");
    }
    (0..plan.key_len)
        .map(|i| format!("{}={}", plan.columns[i].name, show(&row[i])))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One difference as a line of text.
pub fn difference_text(plan: &Plan, d: &Difference) -> String {
    match d {
        Difference::OnlyInSource { row, count } => {
            let dup = if *count > 1 {
                format!(" (×{count}, duplicate rows)")
            } else {
                String::new()
            };
            format!("+ only in source  {}{dup}", key_text(plan, row))
        }
        Difference::OnlyInTarget { row, count } => {
            let dup = if *count > 1 {
                format!(" (×{count}, duplicate rows)")
            } else {
                String::new()
            };
            format!("- only in target  {}{dup}", key_text(plan, row))
        }
        Difference::Changed {
            source,
            target,
            columns,
        } => {
            let ch: Vec<String> = columns
                .iter()
                .map(|i| {
                    format!(
                        "{}: {} → {}",
                        plan.columns[*i].name,
                        show(&target[*i]),
                        show(&source[*i])
                    )
                })
                .collect();
            format!(
                "~ changed         {}  {}",
                key_text(plan, source),
                ch.join(", ")
            )
        }
    }
}

/// The summary as text lines.
pub fn summary_text(s: &Summary) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} → {}: {}\n",
        s.source_table,
        s.target_table,
        if s.equal() { "equal" } else { "DIFFERENT" }
    ));
    out.push_str(&format!(
        "  rows: source {}, target {}; only in source {}, only in target {}, changed {}, unchanged {}\n",
        s.source_rows, s.target_rows, s.only_in_source, s.only_in_target, s.changed, s.unchanged
    ));
    if s.multiset {
        out.push_str(&format!(
            "  compared as a multiset (no key); differing rows present more than once: {}\n",
            s.duplicate_rows
        ));
    } else {
        out.push_str(&format!("  key: {}\n", s.key.join(", ")));
    }
    if !s.column_changes.is_empty() {
        let cc: Vec<String> = s
            .column_changes
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        out.push_str(&format!("  changes per column: {}\n", cc.join(", ")));
    }
    for n in &s.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    out.push_str(&format!(
        "  strategy: {} (hashed in {}{}; {}{} buckets, {} differing, {} rows fetched) in {} ms\n",
        s.stats.strategy,
        s.stats.hashed_in,
        match (s.stats.hash.is_empty(), s.stats.scan.is_empty()) {
            (true, _) => String::new(),
            (false, true) => format!(" with {}", s.stats.hash),
            (false, false) => format!(" with {}, by {}", s.stats.hash, s.stats.scan),
        },
        match s.stats.whole_chunks {
            0 => String::new(),
            n => format!("{n} key ranges equal whole, "),
        },
        s.stats.buckets,
        s.stats.differing_buckets,
        s.stats.rows_fetched,
        s.elapsed_ms
    ));
    out
}

/// Prints differences while the diff runs (jsonl, csv, text) or keeps them (json),
/// up to `limit`.
pub struct Printer {
    pub format: Format,
    pub limit: Option<u64>,
    pub shown: u64,
    pub total: u64,
    pub kept: Vec<serde_json::Value>,
    out: Box<dyn Write + Send>,
    csv_header: bool,
}

impl Printer {
    pub fn new(format: Format, limit: Option<u64>, out: Box<dyn Write + Send>) -> Self {
        Printer {
            format,
            limit,
            shown: 0,
            total: 0,
            kept: Vec::new(),
            out,
            csv_header: false,
        }
    }

    fn io(e: std::io::Error) -> Error {
        Error::runtime(format!("writing output: {e}"))
    }

    /// Print the summary (and the kept differences for json); call once at the end.
    pub fn finish(&mut self, summary: &Summary, extra: serde_json::Value) -> Result<()> {
        match self.format {
            Format::Text => {
                if self.total > self.shown {
                    writeln!(
                        self.out,
                        "… {} more differences not shown (--limit)",
                        self.total - self.shown
                    )
                    .map_err(Self::io)?;
                }
                write!(self.out, "{}", summary_text(summary)).map_err(Self::io)?;
            }
            Format::Json => {
                let mut v = serde_json::json!({
                    "equal": summary.equal(),
                    "summary": summary,
                    "differences": self.kept,
                    "differences_not_shown": self.total - self.shown,
                });
                if !extra.is_null() {
                    v["applied"] = extra;
                }
                writeln!(
                    self.out,
                    "{}",
                    serde_json::to_string_pretty(&v).expect("json")
                )
                .map_err(Self::io)?;
            }
            Format::Jsonl => {
                let mut v = serde_json::json!({"kind": "summary", "equal": summary.equal(), "summary": summary});
                if !extra.is_null() {
                    v["applied"] = extra;
                }
                writeln!(self.out, "{v}").map_err(Self::io)?;
            }
            Format::Csv => {
                eprint!("{}", summary_text(summary));
            }
        }
        self.out.flush().map_err(Self::io)
    }

    fn csv_rows(&mut self, plan: &Plan, d: &Difference) -> Result<()> {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        if !self.csv_header {
            w.write_record(["kind", "key", "column", "target", "source"])
                .map_err(|e| Error::runtime(e.to_string()).with_source(e))?;
            self.csv_header = true;
        }
        let j = difference_json(plan, d);
        let key = j["key"].to_string();
        match d {
            Difference::OnlyInSource { .. } => {
                w.write_record(["only_in_source", &key, "", "", &j["row"].to_string()])
            }
            Difference::OnlyInTarget { .. } => {
                w.write_record(["only_in_target", &key, "", &j["row"].to_string(), ""])
            }
            Difference::Changed {
                source,
                target,
                columns,
            } => {
                for i in columns {
                    w.write_record([
                        "changed",
                        &key,
                        &plan.columns[*i].name,
                        &target[*i].to_string(),
                        &source[*i].to_string(),
                    ])
                    .map_err(|e| Error::runtime(e.to_string()).with_source(e))?;
                }
                Ok(())
            }
        }
        .map_err(|e| Error::runtime(e.to_string()).with_source(e))?;
        let bytes = w
            .into_inner()
            .map_err(|e| Error::runtime(e.to_string()).with_source(e))?;
        self.out.write_all(&bytes).map_err(Self::io)
    }
}

impl DiffSink for Printer {
    fn difference(&mut self, plan: &Plan, d: Difference) -> Result<()> {
        self.total += 1;
        if self.limit.is_some_and(|l| self.shown >= l) {
            return Ok(());
        }
        self.shown += 1;
        match self.format {
            Format::Text => {
                writeln!(self.out, "{}", difference_text(plan, &d)).map_err(Self::io)?
            }
            Format::Json => self.kept.push(difference_json(plan, &d)),
            Format::Jsonl => {
                writeln!(self.out, "{}", difference_json(plan, &d)).map_err(Self::io)?
            }
            Format::Csv => self.csv_rows(plan, &d)?,
        }
        Ok(())
    }
}
