//! `check`: a query with an expected result. Pass/fail with a reason, never "passes
//! because it didn't error". Forms:
//! - `expect = 440` (or a string, float, boolean): the query's single value equals it;
//! - `expect_rows = 0`: the query returns exactly that many rows (0: "no offending rows");
//! - `compare_with = "other-target"`: the same query returns the same rows on both targets
//!   (e.g. row counts equal across two targets);
//! - `suite = "DIR|FILE"` (with optional `checks = [ids]`): check files, each reported
//!   (see `check_suite.rs` and docs/checks.md).

use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::Targets;
use crate::db::{Rows, Value};
use crate::error::{Error, Result};
use crate::runbook::Params;
use async_trait::async_trait;
use toml::de::DeValue;

enum Expect {
    Scalar(Value),
    Rows(i64),
    SameAs(String),
}

/// Build a `check` step: the suite form when `suite` or `checks` is given, else one query.
pub fn build(p: &Params, ctx: &BuildContext) -> Result<Box<dyn Step>> {
    if p.has("suite") || p.has("checks") {
        Ok(Box::new(super::check_suite::CheckSuite::build(p, ctx)?))
    } else {
        Ok(Box::new(Check::build(p, ctx)?))
    }
}

pub struct Check {
    target: String,
    query: String,
    query_label: String,
    expect: Expect,
    description: Option<String>,
    /// `query_file`, resolved: the query was read from it when the runbook was loaded.
    query_file: Option<std::path::PathBuf>,
}

impl Check {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let target = ctx.target(p, "target")?;
        let query_file = p.existing_path("query_file", ctx.dir)?;
        let (query, query_label) = match (p.str("query")?, query_file.clone()) {
            (Some(q), None) => (q.clone(), "query".to_string()),
            (None, Some(f)) => {
                let text = std::fs::read_to_string(&f)
                    .map_err(|e| p.error_at("query_file", format!("cannot read: {e}")))?;
                (
                    text.trim().trim_end_matches(';').to_string(),
                    p.str("query_file")?.unwrap_or_default(),
                )
            }
            (Some(_), Some(_)) => {
                return Err(p.error_at(
                    "query_file",
                    "give either `query` or `query_file`, not both",
                ));
            }
            (None, None) => {
                return Err(p
                    .src
                    .error(&p.span, format!("{} needs `query` or `query_file`", p.what)));
            }
        };
        let mut forms = Vec::new();
        if let Some(v) = p.raw("expect") {
            let val = match v.get_ref() {
                DeValue::Integer(i) => Value::Int(
                    i64::from_str_radix(i.as_str(), i.radix())
                        .map_err(|_| p.value_error(v, "integer too large"))?,
                ),
                DeValue::Float(f) => Value::Text(f.as_str().to_string()),
                DeValue::String(s) => Value::Text(s.to_string()),
                DeValue::Boolean(b) => Value::Bool(*b),
                other => {
                    return Err(p.value_error(
                        v,
                        format!(
                            "`expect` must be a number, string or boolean, found {}",
                            other.type_str()
                        ),
                    ));
                }
            };
            forms.push(Expect::Scalar(val));
        }
        if let Some(n) = p.count("expect_rows")? {
            forms.push(Expect::Rows(n as _));
        }
        if let Some(other) = p.str("compare_with")? {
            ctx.check_target(p, "compare_with", &other)?;
            forms.push(Expect::SameAs(other));
        }
        if forms.len() != 1 {
            return Err(p.src.error(
                &p.span,
                format!("{} needs exactly one of `expect = VALUE`, `expect_rows = N` or `compare_with = \"TARGET\"`", p.what),
            ));
        }
        Ok(Check {
            target,
            query,
            query_label,
            expect: forms.remove(0),
            description: p.str("description")?,
            query_file,
        })
    }
}

fn rows_json(r: &Rows, limit: usize) -> Vec<Vec<String>> {
    r.rows
        .iter()
        .take(limit)
        .map(|row| row.iter().map(|v| v.to_string()).collect::<Vec<_>>())
        .collect::<Vec<_>>()
}

#[async_trait]
impl Step for Check {
    fn kind(&self) -> &'static str {
        "check"
    }
    fn files_read(&self) -> Vec<std::path::PathBuf> {
        self.query_file.iter().cloned().collect()
    }
    fn targets(&self) -> Vec<String> {
        match &self.expect {
            Expect::SameAs(o) => vec![self.target.clone(), o.clone()],
            _ => vec![self.target.clone()],
        }
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        let what = self
            .description
            .clone()
            .unwrap_or_else(|| self.query.split_whitespace().collect::<Vec<_>>().join(" "));
        vec![match &self.expect {
            Expect::Scalar(v) => format!("on {}: {what} = {v}", self.target),
            Expect::Rows(n) => format!("on {}: {what} returns {n} row(s)", self.target),
            Expect::SameAs(o) => format!("{what}: same result on {} and {o}", self.target),
        }]
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let db = ctx.targets.get(&self.target).await?;
        let rows = db
            .query(&self.query, &[])
            .await
            .map_err(|e| e.context(format!("check {}", self.query_label)))?;
        let label = self
            .description
            .clone()
            .unwrap_or_else(|| self.query_label.clone());
        let (passed, expected, actual, detail) = match &self.expect {
            Expect::Scalar(want) => {
                if rows.rows.len() != 1 || rows.rows[0].len() != 1 {
                    return Err(Error::runtime(format!(
                        "check \"{label}\" expects one value but the query returned {} row(s) of {} column(s)",
                        rows.rows.len(),
                        rows.columns.len()
                    )));
                }
                let got = rows.rows[0][0].clone();
                (
                    got.loosely_equals(want),
                    want.to_string(),
                    got.to_string(),
                    CheckDetail::None,
                )
            }
            Expect::Rows(n) => {
                let got = rows.rows.len() as i64;
                (
                    got == *n,
                    format!("{n} row(s)"),
                    format!("{got} row(s)"),
                    CheckDetail::Rows(rows_json(&rows, 20)),
                )
            }
            Expect::SameAs(other) => {
                let odb = ctx.targets.get(other).await?;
                let orows = odb
                    .query(&self.query, &[])
                    .await
                    .map_err(|e| e.context(format!("check {} on {other}", self.query_label)))?;
                let first_diff = rows.rows.iter().zip(orows.rows.iter()).position(|(a, b)| {
                    a.len() != b.len() || !a.iter().zip(b).all(|(x, y)| x.loosely_equals(y))
                });
                let detail = CheckDetail::Compared(Compared {
                    rows_on_target: rows.rows.len() as u64,
                    rows_on_other: orows.rows.len() as u64,
                    first_difference_at_row: first_diff.map(|i| i as u64 + 1),
                    sample_target: rows_json(&rows, 5),
                    sample_other: rows_json(&orows, 5),
                });
                let same = first_diff.is_none() && rows.rows.len() == orows.rows.len();
                (
                    same,
                    format!("the result on {other} ({} row(s))", orows.rows.len()),
                    format!(
                        "{} row(s) on {}{}",
                        rows.rows.len(),
                        self.target,
                        first_diff
                            .map(|i| format!(", first difference at row {}", i + 1))
                            .unwrap_or_default()
                    ),
                    detail,
                )
            }
        };
        let evidence = CheckEvidence {
            target: self.target.clone(),
            query: self.query.clone(),
            description: self.description.clone(),
            expected: expected.clone(),
            actual: actual.clone(),
            passed,
            detail,
            results: Vec::new(),
        };
        if passed {
            Ok(StepOutcome::ok(
                format!("{label}: {actual} as expected"),
                evidence,
            ))
        } else {
            Ok(StepOutcome {
                summary: format!("{label}: expected {expected}, got {actual}"),
                failure: Some(format!(
                    "check \"{label}\" failed: expected {expected}, got {actual}"
                )),
                evidence: evidence.into(),
                hazards: Vec::new(),
            })
        }
    }
}

/// A check's result: what was expected, what was found, whether it held.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckEvidence {
    pub target: String,
    pub query: String,
    #[serde(default)]
    pub description: Option<String>,
    pub expected: String,
    pub actual: String,
    pub passed: bool,
    #[serde(default)]
    pub detail: CheckDetail,
    /// The suite form: every check's result (empty, and not written, for one query).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<crate::checks::CheckResult>,
}

/// What backs a check's verdict besides the two values.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum CheckDetail {
    /// A scalar check: the values say it all (JSON null).
    #[default]
    None,
    /// A row-count check: the first rows returned, as text.
    Rows(Vec<Vec<String>>),
    /// A same-as check: both sides' counts, the first differing row, samples.
    Compared(Compared),
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Compared {
    pub rows_on_target: u64,
    pub rows_on_other: u64,
    /// 1-based.
    pub first_difference_at_row: Option<u64>,
    pub sample_target: Vec<Vec<String>>,
    pub sample_other: Vec<Vec<String>>,
}
