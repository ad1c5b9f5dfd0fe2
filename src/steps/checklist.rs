//! `checklist`: items a person marks pass or fail (with a note), in any order, each
//! tick a ledger record with who and when. The engine waits at the step until every
//! item passed (the step completes) or one failed (the step fails, exit 1); people tick
//! with `cutover checklist RUNBOOK --item ID --pass|--fail --as NAME` or from the TUI.
//!
//! ```toml
//! [[phases.steps]]
//! id = "go-live"
//! kind = "checklist"
//! title = "Go-live checklist"
//! roles = ["qa"]            # optional; else the policy's checklist_roles, else its roles
//! items = [
//!   { id = "tech-login", text = "A technician can log in" },
//!   { id = "scanner", text = "The scanner works on mobile" },
//! ]
//! ```

use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::Targets;
use crate::error::{Error, Result};
use crate::ledger::ChecklistTick;
use crate::runbook::Params;
use async_trait::async_trait;
use sha2::{Digest, Sha256};

/// One item of a checklist, as the runbook states it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChecklistItem {
    pub id: String,
    pub text: String,
}

impl ChecklistItem {
    /// What a tick binds to: the item's id and wording. Rewording an item after it was
    /// ticked makes the tick stale (the person confirmed other words).
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"cutover-checklist-item-v1\n");
        h.update(self.id.as_bytes());
        h.update(b"\n");
        h.update(self.text.as_bytes());
        hex::encode(h.finalize())
    }
}

#[derive(Debug, Clone)]
pub struct ChecklistSpec {
    pub title: String,
    pub items: Vec<ChecklistItem>,
    /// The roles allowed to tick, when the step names them (else the policy decides).
    pub roles: Option<Vec<String>>,
}

impl ChecklistSpec {
    pub fn item(&self, id: &str) -> Option<&ChecklistItem> {
        self.items.iter().find(|i| i.id == id)
    }

    /// Where every item stands given the ticks recorded for this step (in ledger
    /// order): the latest tick of an item counts, unless it was given for other wording.
    pub fn evaluate(&self, ticks: &[&ChecklistTick]) -> ChecklistEvidence {
        let items: Vec<ItemResult> = self
            .items
            .iter()
            .map(|item| {
                let hash = item.hash();
                let tick = ticks
                    .iter()
                    .rev()
                    .find(|t| t.item == item.id && t.item_hash == hash);
                ItemResult {
                    id: item.id.clone(),
                    text: item.text.clone(),
                    outcome: match tick {
                        Some(t) if t.passed => ItemOutcome::Pass,
                        Some(_) => ItemOutcome::Fail,
                        None => ItemOutcome::Pending,
                    },
                    by: tick.map(|t| t.by.clone()),
                    role: tick.map(|t| t.role.clone()),
                    note: tick.and_then(|t| t.note.clone()),
                    at: tick.map(|t| t.at.clone()),
                    via: tick.map(|t| t.via.clone()),
                }
            })
            .collect();
        let count = |o: ItemOutcome| items.iter().filter(|i| i.outcome == o).count() as u64;
        ChecklistEvidence {
            title: self.title.clone(),
            passed: count(ItemOutcome::Pass),
            failed: count(ItemOutcome::Fail),
            pending: count(ItemOutcome::Pending),
            items,
        }
    }
}

pub struct Checklist {
    pub spec: ChecklistSpec,
}

impl Checklist {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        if ctx.rollback {
            let v = p.raw("kind").expect("a step has a kind");
            return Err(p.value_error(
                v,
                format!(
                    "{} is a checklist inside a rollback phase; a rollback must not stop to wait for people: move the checklist into a phase",
                    p.what
                ),
            ));
        }
        let Some(raw) = p.raw("items") else {
            return Err(p.src.error(
                &p.span,
                format!(
                    "{} is missing `items`: items = [{{ id = \"tech-login\", text = \"A technician can log in\" }}, ...]",
                    p.what
                ),
            ));
        };
        let tables = p.tables("items")?;
        if tables.is_empty() {
            return Err(p.value_error(raw, "`items` is empty: a checklist needs at least one item"));
        }
        let mut items: Vec<ChecklistItem> = Vec::new();
        for t in tables {
            let id = t.req_str("id")?;
            let text = t.req_str("text")?;
            t.finish()?;
            if id.trim().is_empty() || id.chars().any(char::is_whitespace) {
                return Err(t.error_at(
                    "id",
                    format!("item id \"{id}\" must be one word (it is typed on the command line)"),
                ));
            }
            if items.iter().any(|i| i.id == id) {
                return Err(t.error_at("id", format!("item id \"{id}\" appears twice")));
            }
            items.push(ChecklistItem { id, text });
        }
        let roles = p.str_list("roles")?;
        if roles.as_ref().is_some_and(|r| r.is_empty()) {
            return Err(p.error_at(
                "roles",
                "`roles` is empty: name the roles allowed to tick, or leave it out to use the policy's",
            ));
        }
        Ok(Checklist {
            spec: ChecklistSpec {
                title: p.str("title")?.unwrap_or_else(|| "checklist".into()),
                items,
                roles,
            },
        })
    }
}

#[async_trait]
impl Step for Checklist {
    fn kind(&self) -> &'static str {
        "checklist"
    }
    fn targets(&self) -> Vec<String> {
        Vec::new()
    }
    fn plan(&self, _targets: &Targets) -> Vec<String> {
        let ids: Vec<&str> = self.spec.items.iter().map(|i| i.id.as_str()).collect();
        vec![format!(
            "wait until people tick {} item(s) pass: {} ({})",
            ids.len(),
            self.spec.title,
            ids.join(", ")
        )]
    }
    fn checklist(&self) -> Option<&ChecklistSpec> {
        Some(&self.spec)
    }
    async fn run(&self, _ctx: &StepContext<'_>) -> Result<StepOutcome> {
        Err(Error::runtime(
            "a checklist is handled by the engine, not run",
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemOutcome {
    Pass,
    Fail,
    Pending,
}

impl ItemOutcome {
    pub fn label(self) -> &'static str {
        match self {
            ItemOutcome::Pass => "PASS",
            ItemOutcome::Fail => "FAIL",
            ItemOutcome::Pending => "----",
        }
    }
}

/// One item and the tick that counts for it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ItemResult {
    pub id: String,
    pub text: String,
    pub outcome: ItemOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// "cli" or "tui".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// A checklist's evidence: every item with its outcome, who ticked it and when.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChecklistEvidence {
    pub title: String,
    pub passed: u64,
    pub failed: u64,
    pub pending: u64,
    pub items: Vec<ItemResult>,
}

impl ChecklistEvidence {
    pub fn summary(&self) -> String {
        let total = self.items.len();
        if self.failed > 0 {
            let failed: Vec<String> = self
                .items
                .iter()
                .filter(|i| i.outcome == ItemOutcome::Fail)
                .map(|i| {
                    format!(
                        "{} (by {}{})",
                        i.id,
                        i.by.as_deref().unwrap_or("?"),
                        i.note
                            .as_ref()
                            .map(|n| format!(": {n}"))
                            .unwrap_or_default()
                    )
                })
                .collect();
            format!(
                "{} of {total} item(s) failed: {}",
                self.failed,
                failed.join(", ")
            )
        } else {
            format!("{} of {total} item(s) passed", self.passed)
        }
    }
}
