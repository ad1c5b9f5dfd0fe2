//! `sync-check`: the cheap first look before a sync — per table, row counts and the
//! latest last-updated value on both sides, all tables at once. With no expectation the
//! step reports (tables out of step are a warning, not a green tick); with
//! `expect = "in_step"` a table out of step fails it.
//!
//! ```toml
//! [[phases.steps]]
//! id = "in-step"
//! kind = "sync-check"
//! source = "main"
//! target = "local"
//! tables = ["customers", "services"]         # default: every table of the source
//! # updated_column = "updated_at"            # default: updated_at, last_updated, ...
//! # where = { customers = "status <> 'test'" }   # per table, on both sides
//! # expect = "in_step"
//! ```

use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::data::sync_check::{TableCheck, sync_check_filtered};
use crate::db::Targets;
use crate::error::Result;
use crate::runbook::Params;
use async_trait::async_trait;
use toml::de::DeValue;

pub struct SyncCheck {
    source: String,
    target: String,
    tables: Option<Vec<String>>,
    updated_column: Option<String>,
    filters: Vec<(String, String)>,
    expect_in_step: bool,
}

impl SyncCheck {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let source = ctx.target(p, "source")?;
        let target = ctx.target(p, "target")?;
        let tables = p.str_list("tables")?;
        if tables.as_ref().is_some_and(|t| t.is_empty()) {
            return Err(p.error_at(
                "tables",
                "`tables` is empty; leave it out to check every table of the source",
            ));
        }
        let mut filters = Vec::new();
        if let Some(t) = p.table("where")? {
            for (k, v) in t.entries() {
                let table = k.get_ref().to_string();
                let cond = match v.get_ref() {
                    DeValue::String(s) if !s.trim().is_empty() => s.to_string(),
                    _ => {
                        return Err(p.value_error(
                            v,
                            format!(
                                "the filter for \"{table}\" must be an SQL condition in a string"
                            ),
                        ));
                    }
                };
                if let Some(list) = &tables
                    && !list.contains(&table)
                {
                    return Err(p.value_error(
                        v,
                        format!(
                            "`where` names table \"{table}\", which is not in `tables` ({})",
                            list.join(", ")
                        ),
                    ));
                }
                filters.push((table, cond));
            }
        }
        let expect_in_step = match p.str("expect")?.as_deref() {
            None => false,
            Some("in_step") => true,
            Some(other) => {
                return Err(p.error_at(
                    "expect",
                    format!("`expect` must be \"in_step\", found \"{other}\""),
                ));
            }
        };
        Ok(SyncCheck {
            source,
            target,
            tables,
            updated_column: p.str("updated_column")?,
            filters,
            expect_in_step,
        })
    }
}

#[async_trait]
impl Step for SyncCheck {
    fn kind(&self) -> &'static str {
        "sync-check"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.source.clone(), self.target.clone()]
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        let which = match &self.tables {
            Some(t) => t.join(", "),
            None => format!("every table of {}", self.source),
        };
        let mut lines = vec![format!(
            "count rows and compare the latest last-updated value of {which} on {} and {}{}",
            self.source,
            self.target,
            if self.expect_in_step {
                ", expect in step"
            } else {
                ""
            }
        )];
        for (t, f) in &self.filters {
            lines.push(format!("  {t}: only rows where {f}"));
        }
        lines
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let src = ctx.targets.get(&self.source).await?;
        let dst = ctx.targets.get(&self.target).await?;
        let started = std::time::Instant::now();
        let checks = sync_check_filtered(
            &src,
            &dst,
            self.tables.clone(),
            self.updated_column.clone(),
            &self.filters,
        )
        .await?;
        let tables: Vec<SyncCheckTable> = checks.iter().map(SyncCheckTable::from).collect();
        let out: Vec<&str> = tables
            .iter()
            .filter(|t| t.status != "in_step")
            .map(|t| t.table.as_str())
            .collect();
        let summary = if out.is_empty() {
            format!("{} table(s) in step", tables.len())
        } else {
            format!(
                "{} of {} table(s) out of step: {}",
                out.len(),
                tables.len(),
                out.join(", ")
            )
        };
        let failure = (self.expect_in_step && !out.is_empty()).then(|| summary.clone());
        Ok(StepOutcome {
            summary,
            evidence: SyncCheckEvidence {
                source: self.source.clone(),
                target: self.target.clone(),
                in_step: out.is_empty(),
                tables,
                elapsed_ms: started.elapsed().as_millis() as u64,
            }
            .into(),
            failure,
            hazards: Vec::new(),
        })
    }
}

/// A sync check: per table, whether both sides hold as many rows and the same latest
/// last-updated value.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SyncCheckEvidence {
    pub source: String,
    pub target: String,
    /// Every table in step.
    pub in_step: bool,
    pub tables: Vec<SyncCheckTable>,
    pub elapsed_ms: u64,
}

/// One table of a sync check (`data::sync_check::TableCheck`, values as JSON scalars).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SyncCheckTable {
    pub table: String,
    /// `in_step`, `out_of_step`, `missing_in_source`, `missing_in_target`.
    pub status: String,
    pub source_rows: Option<u64>,
    pub target_rows: Option<u64>,
    pub updated_column: Option<String>,
    pub source_latest: Option<serde_json::Value>,
    pub target_latest: Option<serde_json::Value>,
    /// Why the table is out of step, one line each.
    pub reasons: Vec<String>,
    /// The SQL condition both sides were counted under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

impl From<&TableCheck> for SyncCheckTable {
    fn from(c: &TableCheck) -> Self {
        let json = |v: &Option<crate::db::Value>| {
            v.as_ref()
                .map(|v| serde_json::to_value(v).unwrap_or(serde_json::Value::Null))
        };
        SyncCheckTable {
            table: c.table.clone(),
            status: c.status.clone(),
            source_rows: c.source_rows,
            target_rows: c.target_rows,
            updated_column: c.updated_column.clone(),
            source_latest: json(&c.source_latest),
            target_latest: json(&c.target_latest),
            reasons: c.reasons.clone(),
            filter: c.filter.clone(),
        }
    }
}

impl SyncCheckEvidence {
    /// Tables out of step in a check that passed (it only reported them).
    pub fn warning(&self) -> Option<String> {
        let out: Vec<&str> = self
            .tables
            .iter()
            .filter(|t| t.status != "in_step")
            .map(|t| t.table.as_str())
            .collect();
        (!out.is_empty()).then(|| {
            format!(
                "{} of {} table(s) out of step: {}",
                out.len(),
                self.tables.len(),
                out.join(", ")
            )
        })
    }
}
