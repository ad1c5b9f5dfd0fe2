use super::common::{self, LedgerArgs};
use crate::engine::Engine;
use crate::engine::status::RunStatus;
use crate::error::Result;
use crate::ledger::Ledger;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The runbook file (TOML).
    pub runbook: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Look at this run instead of the latest (its id or first characters, as
    /// `cutover runs` lists them).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum Format {
    Text,
    Json,
}

pub async fn run(args: Args) -> Result<i32> {
    let rb = common::load_runbook_read_only(&args.runbook)?;
    let url = Engine::ledger_url(&rb, common::ledger_override(&args.ledger).as_deref());
    let arg = args.runbook.display().to_string();
    let st = if !Ledger::exists(&url)? {
        // Never ran: say so without creating a ledger.
        if let Some(id) = &args.run {
            return Err(crate::error::Error::bad_input(format!(
                "no run \"{id}\" of runbook \"{}\": it has never run (no ledger at {})",
                rb.name,
                crate::redact::redact_url(&url)
            )));
        }
        RunStatus::from_state(&rb, &crate::redact::redact_url(&url), None, &arg)
    } else {
        let ledger = Ledger::open(&url).await?;
        if let Err(e) = ledger.verify_before_acting(&rb.name).await {
            ledger.close().await;
            return Err(e);
        }
        let st = RunStatus::load_run(&rb, &ledger, args.run.as_deref(), &arg).await;
        ledger.close().await;
        st?
    };
    match args.format {
        Format::Json => say!("{}", serde_json::to_string_pretty(&st).expect("json")),
        Format::Text => print_text(&st),
    }
    Ok(0)
}

fn print_text(st: &RunStatus) {
    say!("runbook {} ({})", st.runbook, st.runbook_path);
    say!("ledger  {}", st.ledger);
    match &st.run_id {
        Some(id) => say!(
            "run     {} — {} (operator {}, started {})",
            &id[..8.min(id.len())],
            st.status,
            st.operator.clone().unwrap_or_default(),
            st.started_at.clone().unwrap_or_default()
        ),
        None => say!("run     not started"),
    }
    // One table for every phase, so columns line up whatever the step ids' lengths.
    // Phase titles go between the table's lines, not in its first column.
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut titles: Vec<(usize, String)> = Vec::new();
    let mut phase = String::new();
    for s in &st.steps {
        if s.phase != phase {
            phase = s.phase.clone();
            let title = format!("{}{}", phase, if s.rollback { " (rollback)" } else { "" });
            titles.push((rows.len(), format!("  {}", super::style::strong(&title))));
        }
        let detail = s.error.clone().or(s.summary.clone()).unwrap_or_default();
        let state = if s.warning.is_some() {
            "done ⚠ warning"
        } else {
            s.state.label()
        };
        let painted = match s.state {
            _ if s.warning.is_some() => super::style::warn(state),
            crate::vocab::StepState::Done => super::style::good(state),
            crate::vocab::StepState::Failed => super::style::bad(state),
            crate::vocab::StepState::AwaitingApproval => super::style::wait(state),
            _ => state.to_string(),
        };
        rows.push(vec![painted, s.id.clone(), s.kind.clone(), detail.clone()]);
        if let Some(w) = s.warning.as_ref().filter(|w| *w != &detail) {
            rows.push(vec![String::new(), String::new(), String::new(), w.clone()]);
        }
    }
    let table = super::style::table(4, &[], rows, &[]);
    let mut titles = titles.into_iter().peekable();
    for (i, line) in table.lines().enumerate() {
        while let Some((_, t)) = titles.next_if(|(at, _)| *at == i) {
            say!("{t}");
        }
        say!("{line}");
    }
    if !st.approvals.is_empty() {
        say!("approvals");
        for a in &st.approvals {
            say!(
                "  {} {} ({}) {} {}{}{}",
                a.at,
                a.approver,
                a.role,
                a.decision,
                a.checkpoint,
                a.comment
                    .as_ref()
                    .map(|c| format!(" \"{c}\""))
                    .unwrap_or_default(),
                match (&a.stale_because, a.stale) {
                    (Some(why), _) => format!(" [STALE: {why}]"),
                    (None, true) => " [STALE: runbook or evidence changed since]".to_string(),
                    _ => String::new(),
                }
            );
        }
    }
    for c in &st.checklists {
        let e = &c.checklist;
        say!(
            "checklist {} — {}: {} of {} passed, {} failed, {} open{}",
            c.step,
            e.title,
            e.passed,
            e.items.len(),
            e.failed,
            e.pending,
            if c.roles.is_empty() {
                String::new()
            } else {
                format!(" (ticked by {})", c.roles.join(" or "))
            }
        );
        for i in &e.items {
            say!(
                "  {} {:<16} {}{}{}",
                i.outcome.label(),
                i.id,
                i.text,
                match (&i.by, &i.role, &i.at) {
                    (Some(by), Some(role), Some(at)) => format!(" — {by} ({role}) {at}"),
                    _ => String::new(),
                },
                i.note
                    .as_ref()
                    .map(|n| format!(" \"{n}\""))
                    .unwrap_or_default()
            );
        }
    }
    if let Some(w) = &st.waiting_for {
        if let Some(r) = &w.rejection {
            say!(
                "rejected: checkpoint {} by {} ({}){}; the rejection stands, so approving does not let the run go on",
                w.checkpoint,
                r.by,
                r.role,
                r.comment
                    .as_ref()
                    .map(|c| format!(": \"{c}\""))
                    .unwrap_or_default()
            );
            say!("to go on:");
            for m in &r.remedies {
                say!("  {m}");
            }
            return;
        }
        say!(
            "waiting for: checkpoint {} — {} of {} approval(s) from {}",
            w.checkpoint,
            w.approved_by.len(),
            w.required,
            if w.roles.is_empty() {
                "any role".into()
            } else {
                w.roles.join(" or ")
            }
        );
        for why in &w.stale {
            say!("  stale: {why}");
        }
        for h in &w.hazard_details {
            say!("  hazard {}", h.line());
        }
        if !w.files.is_empty() {
            say!(
                "  an approval covers the runbook, the evidence above and {} file(s) the next steps read: {}",
                w.files.len(),
                w.files
                    .iter()
                    .map(|(p, _)| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        say!("  {}", w.approve_command);
    }
}
