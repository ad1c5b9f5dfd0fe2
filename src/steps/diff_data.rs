//! `diff-data`: compare a table on two targets; the evidence is the diff summary and
//! the first differences. `expect = "equal"` or `max_differences = N` decide pass/fail;
//! with neither the step only reports (e.g. to show the deltas at a checkpoint).

use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::data::normalize::Class;
use crate::data::plan::{DiffOptions, build_plan};
use crate::data::reconcile::SampleSink;
use crate::db::Targets;
use crate::error::Result;
use crate::runbook::Params;
use async_trait::async_trait;
use rust_decimal::Decimal;
use std::str::FromStr;
use toml::de::DeValue;

pub struct DiffData {
    pub source: String,
    pub target: String,
    pub opts: DiffOptions,
    pub max_differences: Option<u64>,
    pub limit: usize,
}

/// Read the diff options shared by `diff-data` and `sync` (`table` required unless `tables`).
pub fn read_options(p: &Params, table: Option<String>) -> Result<DiffOptions> {
    let mut tolerance = Vec::new();
    if let Some(t) = p.table("tolerance")? {
        for (k, v) in t.entries() {
            let text = match v.get_ref() {
                DeValue::Integer(i) => i.as_str().to_string(),
                DeValue::Float(f) => f.as_str().to_string(),
                DeValue::String(s) => s.to_string(),
                _ => String::new(),
            };
            let d = Decimal::from_str(&text)
                .or_else(|_| Decimal::from_scientific(&text))
                .map_err(|_| {
                    p.value_error(
                        v,
                        format!("tolerance for \"{}\" must be a number", k.get_ref()),
                    )
                })?;
            tolerance.push((k.get_ref().to_string(), d.abs()));
        }
    }
    let mut compare_as = Vec::new();
    if let Some(t) = p.table("compare_as")? {
        for (k, v) in t.entries() {
            let class = match v.get_ref() {
                DeValue::String(s) => Class::parse(s),
                _ => None,
            }
            .ok_or_else(|| {
                p.value_error(
                    v,
                    "compare_as values are one of text, int, decimal, float, bool, bytes, date, time, timestamp, uuid, json",
                )
            })?;
            compare_as.push((k.get_ref().to_string(), class));
        }
    }
    Ok(DiffOptions {
        table: match table {
            Some(t) => t,
            None => p.req_str("table")?,
        },
        target_table: p.str("target_table")?,
        key: p.str_list("key")?,
        columns: p.str_list("columns")?,
        where_sql: p.str("where")?,
        tolerance,
        compare_as,
        strategy: None,
    })
}

impl DiffData {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let source = ctx.target(p, "source")?;
        let target = ctx.target(p, "target")?;
        let opts = read_options(p, None)?;
        let max = p.count("max_differences")?;
        let expect = p.str("expect")?;
        let max_differences = match (max, expect.as_deref()) {
            (Some(_), Some(_)) => {
                return Err(p.error_at(
                    "expect",
                    "give either `expect = \"equal\"` or `max_differences`, not both",
                ));
            }
            (Some(n), None) => Some(n),
            (None, Some("equal")) => Some(0),
            (None, Some(other)) => {
                return Err(p.error_at(
                    "expect",
                    format!("`expect` must be \"equal\", found \"{other}\""),
                ));
            }
            (None, None) => None,
        };
        let limit = p.count("limit")?.unwrap_or(50) as usize;
        Ok(DiffData {
            source,
            target,
            opts,
            max_differences,
            limit,
        })
    }
}

#[async_trait]
impl Step for DiffData {
    fn kind(&self) -> &'static str {
        "diff-data"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.source.clone(), self.target.clone()]
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        let tt = self
            .opts
            .target_table
            .as_deref()
            .unwrap_or(&self.opts.table);
        let rule = match self.max_differences {
            Some(0) => ", expect equal".to_string(),
            Some(n) => format!(", at most {n} differences"),
            None => String::new(),
        };
        vec![format!(
            "compare rows of {} on {} with {tt} on {}{rule}",
            self.opts.table, self.source, self.target
        )]
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let src = ctx.targets.get(&self.source).await?;
        let dst = ctx.targets.get(&self.target).await?;
        let plan = build_plan(&src, &dst, &self.opts).await?;
        let mut sink = SampleSink::new(self.limit);
        let s = crate::data::diff(&src, &dst, plan, &mut sink, &|p| ctx.progress(p)).await?;
        let summary = format!(
            "{}: {} (source {} rows, target {}; only in source {}, only in target {}, changed {})",
            self.opts.table,
            if s.equal() { "equal" } else { "different" },
            s.source_rows,
            s.target_rows,
            s.only_in_source,
            s.only_in_target,
            s.changed
        );
        let failure = match self.max_differences {
            Some(n) if s.differences() > n => Some(if n == 0 {
                format!(
                    "{} is not equal: {} differences",
                    self.opts.table,
                    s.differences()
                )
            } else {
                format!(
                    "{}: {} differences, more than the {n} allowed",
                    self.opts.table,
                    s.differences()
                )
            }),
            _ => None,
        };
        let evidence = DiffDataEvidence {
            source: self.source.clone(),
            target: self.target.clone(),
            equal: s.equal(),
            differences_not_shown: sink.total.saturating_sub(sink.samples.len() as u64),
            summary: s,
            differences: DifferenceRecord::from_samples(sink.samples)?,
        };
        Ok(StepOutcome {
            summary,
            evidence: evidence.into(),
            failure,
            hazards: Vec::new(),
        })
    }
}

/// A data diff: whether two tables hold the same rows, the counts, and the first
/// differences found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DiffDataEvidence {
    pub source: String,
    pub target: String,
    pub equal: bool,
    /// Counts, key, compared columns and notes of the diff.
    pub summary: crate::data::diff::Summary,
    /// The first differences, as `data::reconcile::SampleSink` records them.
    pub differences: Vec<DifferenceRecord>,
    pub differences_not_shown: u64,
}

impl DiffDataEvidence {
    /// A diff that passed with differences (a report-only step, or fewer than
    /// `max_differences`) is not a clean pass: the warning says how many, so front-ends
    /// do not show it as a green tick and the next checkpoint names it.
    pub fn warning(&self) -> Option<String> {
        let s = &self.summary;
        (!self.equal || s.differences() > 0).then(|| {
            let n = s.differences();
            format!(
                "{n} difference{} in {} (only in source {}, only in target {}, changed {}): passed without being equal",
                if n == 1 { "" } else { "s" },
                s.source_table,
                s.only_in_source,
                s.only_in_target,
                s.changed
            )
        })
    }
}

/// One differing row as the evidence records it (`data::output::difference_json`
/// writes it): cells are JSON scalars, keyed by column name in compared order.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DifferenceRecord {
    OnlyInSource {
        key: serde_json::Map<String, serde_json::Value>,
        row: serde_json::Map<String, serde_json::Value>,
        /// Multiset compare: that many more copies in the source.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<u64>,
    },
    OnlyInTarget {
        key: serde_json::Map<String, serde_json::Value>,
        row: serde_json::Map<String, serde_json::Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<u64>,
    },
    /// Only the differing columns are recorded, in compared order.
    Changed {
        key: serde_json::Map<String, serde_json::Value>,
        #[serde(with = "ordered_cells")]
        changes: Vec<(String, CellChange)>,
    },
}

/// One differing cell of a changed row: applying turns the target's value into the
/// source's. (Stored `{source, target}`, the order evidence has always been written
/// in, so recorded evidence reads back byte for byte; front-ends show it
/// `target → source`.)
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CellChange {
    pub source: serde_json::Value,
    pub target: serde_json::Value,
}

/// `{"column": {...}, ...}` read and written in its stored order.
mod ordered_cells {
    use super::CellChange;
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        cells: &[(String, CellChange)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(cells.len()))?;
        for (k, v) in cells {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<(String, CellChange)>, D::Error> {
        struct Cells;
        impl<'de> Visitor<'de> for Cells {
            type Value = Vec<(String, CellChange)>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of column to {source, target}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = a.next_entry()? {
                    out.push(entry);
                }
                Ok(out)
            }
        }
        d.deserialize_map(Cells)
    }
}

impl DifferenceRecord {
    /// The sink's JSON samples as records.
    pub fn from_samples(samples: Vec<serde_json::Value>) -> Result<Vec<DifferenceRecord>> {
        samples
            .into_iter()
            .map(|v| {
                serde_json::from_value(v).map_err(|e| {
                    crate::error::Error::runtime("a data diff sample does not read as a difference")
                        .with_source(e)
                })
            })
            .collect()
    }
}
