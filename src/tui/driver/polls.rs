//! The polls of the ledger: the run's status (and evidence not loaded yet), the
//! history of records and the state of the hash chain.

use crate::engine::Engine;
use crate::engine::RunOptions;
use crate::engine::status::RunStatus;
use crate::tui::action::Action;
use crate::tui::state::{ApprovalRow, ChainStatus, LedgerRow, Level, LogLine, StatusView};
use crate::tui::views::evidence::EvidenceModel;
use crate::vocab::StepState;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// The ledger's view of the run, plus evidence of steps not loaded yet.
pub(super) async fn poll_status(
    engine: &Engine,
    opts: &RunOptions,
    tx: &UnboundedSender<Action>,
    loaded: &mut HashMap<String, String>,
) {
    let st = match RunStatus::load(&engine.runbook, &engine.ledger, &opts.runbook_arg).await {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Action::Log(LogLine {
                time: chrono::Local::now().format("%H:%M:%S").to_string(),
                level: Level::Warn,
                target: "status".into(),
                message: format!("status poll failed: {e}"),
            }));
            return;
        }
    };
    for s in &st.steps {
        // A checklist waiting for ticks shows its items as they stand (keyed by content).
        let live = s.state == StepState::AwaitingApproval && s.kind == "checklist";
        if s.evidence.is_null() || !(live || matches!(s.state, StepState::Done | StepState::Failed))
        {
            continue;
        }
        let key = if live {
            crate::runbook::sha256_hex(s.evidence.to_string().as_bytes())
        } else {
            s.evidence_hash
                .clone()
                .or_else(|| s.finished_at.clone())
                .unwrap_or_default()
        };
        if loaded.get(&s.id) == Some(&key) {
            continue;
        }
        loaded.insert(s.id.clone(), key);
        let (kind, ev, id) = (s.kind.clone(), s.evidence.clone(), s.id.clone());
        // Parsing a large diff takes a while: not on the runtime's async threads.
        if let Ok(model) =
            tokio::task::spawn_blocking(move || EvidenceModel::parse(&kind, &ev)).await
        {
            let _ = tx.send(Action::Evidence {
                step: id,
                model: Arc::new(model),
            });
        }
    }
    let _ = tx.send(Action::Status(status_view(&st, engine)));
}

pub fn status_view(st: &RunStatus, engine: &Engine) -> StatusView {
    StatusView {
        run_id: st.run_id.clone(),
        operator: st.operator.clone(),
        steps: st
            .steps
            .iter()
            .map(|s| (s.id.clone(), s.state, s.summary.clone()))
            .collect(),
        approvals: st
            .approvals
            .iter()
            .map(|a| ApprovalRow {
                checkpoint: a.checkpoint.clone(),
                approver: a.approver.clone(),
                role: a.role.clone(),
                decision: a.decision,
                comment: a.comment.clone(),
                evidence_hash: Some(a.evidence_hash.clone()),
                stale: a.stale,
            })
            .collect(),
        waiting: st.waiting_for.clone(),
        allow_self_approval: Some(engine.runbook.policy.allow_self_approval),
    }
}

pub(super) async fn poll_history(engine: &Engine, tx: &UnboundedSender<Action>) {
    let Ok(records) = engine.ledger.records(Some(&engine.runbook.name)).await else {
        return;
    };
    let rows = records
        .iter()
        .map(|r| LedgerRow {
            seq: r.seq,
            run_id: r.run_id.clone(),
            created_at: r
                .created_at
                .get(11..19)
                .unwrap_or(&r.created_at)
                .to_string(),
            kind: r.kind.clone(),
            step_id: r.step_id.clone(),
            hash: r.hash.clone(),
            detail: detail(&r.kind, &r.payload_json()),
        })
        .collect();
    let chain = match engine.ledger.verify().await {
        Ok(rep) if rep.ok => ChainStatus::Verified {
            records: rep.records as u64,
        },
        Ok(rep) => match rep.problems.first() {
            Some(p) => ChainStatus::Broken {
                seq: p.seq,
                reason: p.problem.clone(),
            },
            None => ChainStatus::Broken {
                seq: 0,
                reason: "head hash does not match".into(),
            },
        },
        Err(e) => ChainStatus::Broken {
            seq: 0,
            reason: format!("could not verify: {e}"),
        },
    };
    let _ = tx.send(Action::History(rows, chain));
}

/// One line about a record's payload.
fn detail(kind: &str, p: &serde_json::Value) -> String {
    let s = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    match kind {
        "approval" => {
            let mut out = format!("{} by {} ({})", s("decision"), s("approver"), s("role"));
            if let Some(c) = p.get("comment").and_then(|v| v.as_str()) {
                out.push_str(&format!(": {c}"));
            }
            out
        }
        _ if p.get("summary").is_some() => s("summary"),
        _ if p.get("error").is_some() => format!("error: {}", s("error")),
        _ => {
            let t = p.to_string();
            if t == "null" || t == "{}" {
                String::new()
            } else {
                t
            }
        }
    }
}
