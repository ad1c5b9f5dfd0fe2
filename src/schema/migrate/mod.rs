//! Generated migrations: the DDL, in the target's dialect, that brings the target's
//! schema to the source's, ordered by dependencies, with hazards marked.

mod alter;
mod hazards;
mod plan;
mod rebuild;

use super::ddl::Ddl;
use super::diff::{Change, ChangeKind, ObjectKind, SchemaDiff};
use super::model::*;
use crate::db::Dialect;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use hazards::hz;
pub use hazards::{HAZARD_CODES, HazardCode, is_widening};
pub use plan::plan;

/// Tables with at least this many rows make a rewrite a hazard (`table-rewrite`).
pub const DEFAULT_LARGE_TABLE_ROWS: u64 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaHazard {
    pub code: String,
    /// The object it concerns (`users.legacy_id`).
    pub object: String,
    pub message: String,
}

/// One logical change: one or more statements applied together (a SQLite table rebuild
/// is four or more), with the hazards that apply to all of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MigrationStep {
    pub statements: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hazards: Vec<SchemaHazard>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Migration {
    pub dialect: Dialect,
    pub steps: Vec<MigrationStep>,
}

#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub large_table_rows: u64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            large_table_rows: DEFAULT_LARGE_TABLE_ROWS,
        }
    }
}

/// Row counts per target table (qualified name); a missing entry means unknown,
/// which counts as "has rows".
pub type RowCounts = BTreeMap<String, u64>;

impl Migration {
    pub fn hazards(&self) -> Vec<&SchemaHazard> {
        self.steps.iter().flat_map(|s| s.hazards.iter()).collect()
    }

    fn allowed(step: &MigrationStep, allow: &BTreeSet<String>) -> bool {
        step.hazards.iter().all(|h| allow.contains(&h.code))
    }

    /// The statements that would run (hazards not allowed are left out).
    pub fn statements(&self, allow: &BTreeSet<String>) -> Vec<String> {
        self.steps
            .iter()
            .filter(|s| Self::allowed(s, allow))
            .flat_map(|s| s.statements.iter().cloned())
            .collect()
    }

    /// The migration as a SQL file: hazardous statements are commented out unless
    /// their codes are allowed; each hazard is explained on the line above.
    pub fn render(&self, header: &[String], allow: &BTreeSet<String>) -> String {
        let mut out = String::new();
        for h in header {
            out.push_str(&format!("-- {h}\n"));
        }
        let blocked: BTreeSet<&str> = self
            .steps
            .iter()
            .filter(|s| !Self::allowed(s, allow))
            .flat_map(|s| s.hazards.iter().map(|h| h.code.as_str()))
            .collect();
        if !self.dialect.transactional_ddl() {
            out.push_str(&format!(
                "-- {} commits each DDL statement implicitly: this script is not atomic.\n",
                self.dialect.name()
            ));
        }
        if !blocked.is_empty() {
            out.push_str(&format!(
                "-- Hazardous statements are commented out; to include them: --allow-hazards {}\n",
                blocked.iter().cloned().collect::<Vec<_>>().join(",")
            ));
        }
        if self.steps.is_empty() {
            out.push_str("-- nothing to do: the schemas are equal\n");
        }
        for step in &self.steps {
            out.push('\n');
            let ok = Self::allowed(step, allow);
            for h in &step.hazards {
                out.push_str(&format!(
                    "-- HAZARD {}{}: {}\n",
                    h.code,
                    if allow.contains(&h.code) {
                        " (allowed)"
                    } else {
                        ""
                    },
                    h.message
                ));
            }
            for st in &step.statements {
                let text = format!("{st};");
                if ok {
                    out.push_str(&text);
                    out.push('\n');
                } else {
                    for line in text.lines() {
                        out.push_str(&format!("-- {line}\n"));
                    }
                }
            }
        }
        out
    }
}

struct Planner<'a> {
    src: &'a Schema,
    tgt: &'a Schema,
    ddl: Ddl,
    rows: &'a RowCounts,
    opts: &'a PlanOptions,
    steps: Vec<MigrationStep>,
}

impl Planner<'_> {
    fn step(&mut self, statements: Vec<String>, hazards: Vec<SchemaHazard>) {
        if !statements.is_empty() {
            self.steps.push(MigrationStep {
                statements,
                hazards,
            });
        }
    }
    fn one(&mut self, sql: String) {
        self.step(vec![sql], vec![]);
    }
    fn d(&self) -> Dialect {
        self.tgt.dialect
    }
    fn rows_of(&self, table: &str) -> Option<u64> {
        self.rows.get(table).copied()
    }
    fn has_rows(&self, table: &str) -> bool {
        self.rows_of(table).is_none_or(|n| n > 0)
    }
    fn rows_text(&self, table: &str) -> String {
        match self.rows_of(table) {
            Some(1) => "1 row".into(),
            Some(n) => format!("{n} rows"),
            None => "row count unknown".into(),
        }
    }
    fn large(&self, table: &str) -> bool {
        self.rows_of(table)
            .is_none_or(|n| n >= self.opts.large_table_rows)
    }
    fn rewrite_hazard(&self, table: &str, why: &str) -> Option<SchemaHazard> {
        self.large(table).then(|| {
            hz(
                "table-rewrite",
                table,
                format!(
                    "{why} rewrites table {table} ({}) under a lock",
                    self.rows_text(table)
                ),
            )
        })
    }
}
