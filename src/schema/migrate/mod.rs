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
    /// Runs before the transaction the rest of the plan is wrapped in (PostgreSQL
    /// `ALTER TYPE ... ADD VALUE`: a new label cannot be used in the transaction that
    /// adds it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outside_transaction: bool,
    /// What this step does, as keys other steps can need (`drop:users`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provides: Vec<String>,
    /// Keys this step relies on: when the step providing one is held back for a
    /// hazard, this one is held back too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Migration {
    pub dialect: Dialect,
    pub steps: Vec<MigrationStep>,
    /// Differences the plan does not migrate (said in the SQL, so nobody takes the
    /// plan for the whole way).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_migrated: Vec<String>,
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

    /// For each step: `None` when it runs, else why it is held back (its own hazard
    /// codes, or the held-back step it depends on).
    pub fn held_back(&self, allow: &BTreeSet<String>) -> Vec<Option<String>> {
        let mut out: Vec<Option<String>> = self
            .steps
            .iter()
            .map(|s| {
                let codes: Vec<&str> = s
                    .hazards
                    .iter()
                    .filter(|h| !allow.contains(&h.code))
                    .map(|h| h.code.as_str())
                    .collect();
                (!codes.is_empty()).then(|| codes.join(","))
            })
            .collect();
        // whatever needs a held-back step is held back too, until nothing changes
        loop {
            let blocked: BTreeMap<&str, usize> = self
                .steps
                .iter()
                .enumerate()
                .filter(|(i, _)| out[*i].is_some())
                .flat_map(|(i, s)| s.provides.iter().map(move |p| (p.as_str(), i)))
                .collect();
            let mut changed = false;
            for (i, s) in self.steps.iter().enumerate() {
                if out[i].is_some() {
                    continue;
                }
                if let Some(n) = s.needs.iter().find(|n| blocked.contains_key(n.as_str())) {
                    let what = n.split_once(':').map(|(_, w)| w).unwrap_or(n);
                    out[i] = Some(format!(
                        "depends on a held-back statement ({} of {what})",
                        n.split(':').next().unwrap_or("change")
                    ));
                    changed = true;
                }
            }
            if !changed {
                return out;
            }
        }
    }

    /// The statements that would run (hazards not allowed are left out, with every
    /// statement that depends on them).
    pub fn statements(&self, allow: &BTreeSet<String>) -> Vec<String> {
        let held = self.held_back(allow);
        self.steps
            .iter()
            .zip(&held)
            .filter(|(_, h)| h.is_none())
            .flat_map(|(s, _)| s.statements.iter().cloned())
            .collect()
    }

    /// The statements held back.
    pub fn blocked_statements(&self, allow: &BTreeSet<String>) -> Vec<String> {
        let held = self.held_back(allow);
        self.steps
            .iter()
            .zip(&held)
            .filter(|(_, h)| h.is_some())
            .flat_map(|(s, _)| s.statements.iter().cloned())
            .collect()
    }

    /// The migration as a SQL file: hazardous statements (and what depends on them)
    /// are commented out unless their codes are allowed; each hazard is explained on
    /// the line above. Where the engine has transactional DDL the plan is one
    /// transaction, so a failure midway leaves the target as it was.
    pub fn render(&self, header: &[String], allow: &BTreeSet<String>) -> String {
        let mut out = String::new();
        for h in header {
            out.push_str(&format!("-- {h}\n"));
        }
        let held = self.held_back(allow);
        let blocked: BTreeSet<&str> = self
            .steps
            .iter()
            .zip(&held)
            .filter(|(_, h)| h.is_some())
            .flat_map(|(s, _)| s.hazards.iter().map(|h| h.code.as_str()))
            .filter(|c| !allow.contains(*c))
            .collect();
        let transaction = self.dialect.sql().plans_in_transaction() && !self.steps.is_empty();
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
        for n in &self.not_migrated {
            out.push_str(&format!("-- NOT MIGRATED: {n}\n"));
        }
        if self.steps.is_empty() && self.not_migrated.is_empty() {
            out.push_str("-- nothing to do: the schemas are equal\n");
        } else if self.steps.is_empty() {
            out.push_str("-- nothing cutover can migrate: the differences above remain\n");
        }
        let write_step = |out: &mut String, step: &MigrationStep, why: &Option<String>| {
            out.push('\n');
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
            if let Some(w) = why
                && step.hazards.iter().all(|h| allow.contains(&h.code))
            {
                out.push_str(&format!("-- HELD BACK: {w}\n"));
            }
            for st in &step.statements {
                let text = if self.dialect.sql().client_delimiter() && st.contains(';') {
                    format!("DELIMITER ;;\n{st};;\nDELIMITER ;")
                } else {
                    format!("{st};")
                };
                if why.is_none() {
                    out.push_str(&text);
                    out.push('\n');
                } else {
                    for line in text.lines() {
                        out.push_str(&format!("-- {line}\n"));
                    }
                }
            }
        };
        let outside: Vec<usize> = (0..self.steps.len())
            .filter(|i| transaction && self.steps[*i].outside_transaction)
            .collect();
        if !outside.is_empty() {
            out.push_str(
                "\n-- outside the transaction: a label added to an enum cannot be used in the transaction that adds it\n",
            );
            for &i in &outside {
                write_step(&mut out, &self.steps[i], &held[i]);
            }
        }
        if transaction {
            out.push_str("\nBEGIN;\n");
        }
        for (i, step) in self.steps.iter().enumerate() {
            if !outside.contains(&i) {
                write_step(&mut out, step, &held[i]);
            }
        }
        if transaction {
            out.push_str("\nCOMMIT;\n");
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
    not_migrated: Vec<String>,
}

impl Planner<'_> {
    fn step(&mut self, statements: Vec<String>, hazards: Vec<SchemaHazard>) {
        if !statements.is_empty() {
            self.steps.push(MigrationStep {
                statements,
                hazards,
                outside_transaction: false,
                provides: Vec::new(),
                needs: Vec::new(),
            });
        }
    }
    /// A step with what it provides and needs (see [`MigrationStep::needs`]).
    fn linked(
        &mut self,
        statements: Vec<String>,
        hazards: Vec<SchemaHazard>,
        provides: Vec<String>,
        needs: Vec<String>,
    ) {
        if !statements.is_empty() {
            self.steps.push(MigrationStep {
                statements,
                hazards,
                outside_transaction: false,
                provides,
                needs,
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
