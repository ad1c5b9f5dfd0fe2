//! `diff-schema`: compare two targets' schemas; the diff is the evidence, with the
//! hazards of the migration that would close the gap (which this step never runs, so
//! they do not raise what a checkpoint requires).
//!
//! ```toml
//! [[phases.steps]]
//! kind = "diff-schema"
//! source = "staging"
//! target = "prod"
//! expect = "equal"          # optional: a difference fails the step
//! include = ["users", "profiles*"]   # optional globs
//! exclude = ["audit_*"]
//! ```

use super::{BuildContext, Hazard, Step, StepContext, StepOutcome};
use crate::db::Targets;
use crate::error::{Error, Result};
use crate::runbook::Params;
use crate::schema::{self, Filter, Loaded, PlanOptions, report};
use async_trait::async_trait;
use std::collections::BTreeSet;

pub struct DiffSchema {
    source: String,
    target: String,
    expect_equal: bool,
    filter: Filter,
    large_table_rows: u64,
}

impl DiffSchema {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let source = ctx.target(p, "source")?;
        let target = ctx.target(p, "target")?;
        let expect_equal = match p.str("expect")?.as_deref() {
            None | Some("any") => false,
            Some("equal") => true,
            Some(other) => {
                return Err(p.error_at(
                    "expect",
                    format!("`expect` must be \"equal\" or \"any\", found \"{other}\""),
                ));
            }
        };
        let large_table_rows = match p.int("large_table_rows")? {
            Some(n) if n < 1 => {
                return Err(p.error_at("large_table_rows", "`large_table_rows` must be at least 1"));
            }
            Some(n) => n as u64,
            None => schema::migrate::DEFAULT_LARGE_TABLE_ROWS,
        };
        Ok(DiffSchema {
            source,
            target,
            expect_equal,
            filter: Filter::new(
                p.str_list("include")?.unwrap_or_default(),
                p.str_list("exclude")?.unwrap_or_default(),
            ),
            large_table_rows,
        })
    }
}

/// Introspect a runbook target into a [`Loaded`] schema.
pub(crate) async fn load_target(
    ctx: &StepContext<'_>,
    name: &str,
    filter: &Filter,
) -> Result<Loaded> {
    let db = ctx.targets.get(name).await?;
    let mut s = schema::introspect(&db).await?;
    filter.apply(&mut s);
    Ok(Loaded {
        label: format!("{name} ({})", db.redacted_url()),
        schema: s,
        rows: None,
        db: Some(db),
    })
}

#[async_trait]
impl Step for DiffSchema {
    fn kind(&self) -> &'static str {
        "diff-schema"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.source.clone(), self.target.clone()]
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        vec![format!(
            "compare the schema of {} (source) with {} (target){}",
            self.source,
            self.target,
            if self.expect_equal {
                "; any difference fails"
            } else {
                ""
            }
        )]
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let source = load_target(ctx, &self.source, &self.filter).await?;
        let target = load_target(ctx, &self.target, &self.filter).await?;
        let opts = PlanOptions {
            large_table_rows: self.large_table_rows,
        };
        let cmp = schema::compare(source, target, &opts).await?;
        let allow = BTreeSet::new();
        let evidence: DiffSchemaEvidence = serde_json::from_value(report::json(&cmp, &allow))
            .map_err(|e| Error::runtime(format!("schema diff report: {e}")))?;
        for c in &cmp.diff.changes {
            ctx.log(report::change_line(c));
        }
        let summary = if cmp.diff.is_equal() {
            format!("{} and {}: schemas equal", self.source, self.target)
        } else {
            format!(
                "{} lacks or differs from {}: {}",
                self.target,
                self.source,
                report::summary(&cmp.diff.changes)
            )
        };
        // The generated migration's hazards are in the evidence (what the DBA reads);
        // they do not raise a checkpoint's requirements, because this step runs none
        // of it: a checkpoint carries the hazards of the SQL steps actually execute.
        let hazards: Vec<Hazard> = Vec::new();
        let failure = (self.expect_equal && !cmp.diff.is_equal()).then(|| {
            format!(
                "expected the schemas of {} and {} to be equal: {}",
                self.source,
                self.target,
                report::summary(&cmp.diff.changes)
            )
        });
        Ok(StepOutcome {
            summary,
            evidence: evidence.into(),
            failure,
            hazards,
        })
    }
}

/// A schema diff as `schema::report` writes it (the same JSON as `cutover diff schema
/// --format json`): the two sides, every change, the equivalences applied, the
/// hazards and the migration that would close the gap.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DiffSchemaEvidence {
    pub format: String,
    pub version: u32,
    pub source: SchemaSide,
    pub target: SchemaSide,
    pub equal: bool,
    pub summary: SchemaDiffCounts,
    pub changes: Vec<schema::Change>,
    pub equivalences: Vec<Equivalence>,
    pub hazards: Vec<SchemaDiffHazard>,
    /// Both sides' normalized DDL, when they differ.
    pub ddl: Option<SchemaDdl>,
    pub migration: SchemaMigration,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SchemaSide {
    pub input: String,
    pub dialect: crate::db::Dialect,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SchemaDiffCounts {
    pub differences: u64,
    pub missing: u64,
    pub extra: u64,
    pub changed: u64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Equivalence {
    pub rule: String,
    pub applied: u64,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SchemaDiffHazard {
    pub code: String,
    pub object: String,
    pub message: String,
    pub allowed: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SchemaDdl {
    pub source: String,
    pub target: String,
    pub engine_neutral: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SchemaMigration {
    pub dialect: crate::db::Dialect,
    pub statements: Vec<String>,
    pub blocked_statements: Vec<String>,
}
