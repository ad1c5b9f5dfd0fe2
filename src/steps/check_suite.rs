//! `check` with `suite`: run check files (checks/, see docs/checks.md) from a runbook,
//! all of them or those named by id, and report every one — a failing check does not
//! hide the ones after it. Warnings are reported and do not fail the step.
//!
//! ```toml
//! [[phases.steps]]
//! id = "verify-lerg"
//! kind = "check"
//! suite = "../checks/lerg"                          # a suite directory or a check file
//! checks = ["pacific-categorized", "npa-438-present"] # optional: only these, by id
//! params = { geographic_npas = 440 }                 # optional: override [params]
//! timeout = "60s"                                    # optional: for checks that set none
//! ```

use super::check::CheckEvidence;
use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::checks::{self, Check, CheckResult, ParamValue, Params, RunOptions, Status};
use crate::db::Targets;
use crate::error::{Error, Result};
use crate::runbook::Params as Table;
use async_trait::async_trait;
use std::path::PathBuf;
use std::time::Duration;
use toml::de::DeValue;

pub struct CheckSuite {
    /// `suite` as written, for messages.
    suite: String,
    description: Option<String>,
    checks: Vec<Check>,
    files: Vec<PathBuf>,
    timeout: Duration,
}

fn params(p: &Table) -> Result<Params> {
    let mut out = Params::new();
    if let Some(t) = p.table("params")? {
        for (k, v) in t.entries() {
            let value = match v.get_ref() {
                DeValue::Integer(i) => ParamValue::Int(
                    i64::from_str_radix(i.as_str(), i.radix())
                        .map_err(|_| t.value_error(v, "integer too large"))?,
                ),
                DeValue::Float(f) => ParamValue::Number(f.as_str().to_string()),
                DeValue::String(s) => ParamValue::Text(s.to_string()),
                DeValue::Boolean(b) => ParamValue::Bool(*b),
                other => {
                    return Err(t.value_error(
                        v,
                        format!(
                            "parameter \"{}\" must be a number, string or boolean, found {}",
                            k.get_ref(),
                            other.type_str()
                        ),
                    ));
                }
            };
            out.insert(k.get_ref().to_string(), value);
        }
    }
    Ok(out)
}

impl CheckSuite {
    pub fn build(p: &Table, ctx: &BuildContext) -> Result<Self> {
        let suite = p.req_str("suite")?;
        let path = p.existing_path("suite", ctx.dir)?.expect("required above");
        let overrides = params(p)?;
        let mut loaded = checks::load(std::slice::from_ref(&path), &overrides)?;
        if let Some(ids) = p.str_list("checks")? {
            loaded = loaded.select(
                &ids,
                &p.src.location(&p.raw("checks").expect("present").span()),
            )?;
        }
        let timeout = match p.str("timeout")? {
            None => RunOptions::default().default_timeout,
            Some(s) => checks::compare::parse_duration(&s)
                .map_err(|e| p.error_at("timeout", format!("`timeout`: {e}")))?,
        };
        for c in &loaded.checks {
            for (t, loc) in c.targets.iter().zip(&c.target_locations) {
                if !ctx.targets.iter().any(|x| x == t) {
                    return Err(Error::bad_input(format!(
                        "{loc}: check \"{}\" reads target \"{t}\", which the runbook does not declare (declared: {}); used by {} at {}",
                        c.id,
                        ctx.targets.join(", "),
                        p.what,
                        p.src.location(&p.span)
                    )));
                }
            }
        }
        Ok(CheckSuite {
            suite,
            description: p.str("description")?,
            checks: loaded.checks,
            files: loaded.files,
            timeout,
        })
    }
}

#[async_trait]
impl Step for CheckSuite {
    fn kind(&self) -> &'static str {
        "check"
    }
    fn files_read(&self) -> Vec<PathBuf> {
        self.files.clone()
    }
    fn targets(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in &self.checks {
            for t in &c.targets {
                if !out.contains(t) {
                    out.push(t.clone());
                }
            }
        }
        out
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        vec![format!(
            "{} check(s) of {}: {}",
            self.checks.len(),
            self.suite,
            self.checks
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )]
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let results = checks::run_checks(
            &self.checks,
            ctx.targets,
            RunOptions {
                jobs: 4,
                default_timeout: self.timeout,
            },
        )
        .await;
        for r in &results {
            ctx.log(format!("{}: {}", r.verdict(), r.message));
        }
        let totals = checks::Totals::of(&results);
        let bad: Vec<&CheckResult> = results
            .iter()
            .filter(|r| r.status != Status::Passed && !r.is_warning())
            .collect();
        let passed = bad.is_empty();
        let actual = format!(
            "{} passed, {} failed, {} warning(s), {} timed out, {} error(s)",
            totals.passed, totals.failed, totals.warnings, totals.timed_out, totals.errors
        );
        let label = self
            .description
            .clone()
            .unwrap_or_else(|| format!("checks of {}", self.suite));
        let summary = if passed {
            format!(
                "{label}: {} of {} passed ({actual})",
                totals.passed, totals.total
            )
        } else {
            format!(
                "{label}: {} of {} did not pass: {}",
                bad.len(),
                totals.total,
                bad.iter()
                    .map(|r| format!("{} (expected {}, got {})", r.id, r.expected, r.actual))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        let failure = (!passed).then(|| {
            bad.iter()
                .map(|r| format!("check {} {}: {}", r.id, r.verdict(), r.message))
                .collect::<Vec<_>>()
                .join("\n")
        });
        let evidence = CheckEvidence {
            target: self.targets().join(", "),
            query: format!("suite {}", self.suite),
            description: self.description.clone(),
            expected: format!("{} check(s) pass", totals.total),
            actual,
            passed,
            detail: Default::default(),
            results,
        };
        Ok(StepOutcome {
            summary,
            evidence: evidence.into(),
            failure,
            hazards: Vec::new(),
        })
    }
}
