use crate::db::Targets;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The runbook file (TOML).
    pub runbook: PathBuf,
    #[command(flatten)]
    pub targets: super::common::TargetArgs,
}

pub async fn run(args: Args) -> crate::Result<i32> {
    let rb = super::common::load_runbook_with(&args.runbook, &args.targets)?;
    let targets = Targets::new(rb.targets.clone());
    say!("{}: ok — runbook \"{}\"", args.runbook.display(), rb.name);
    for t in rb.targets.values() {
        say!(
            "  target {:<12} {} ({})",
            t.name,
            t.redacted,
            t.dialect.name()
        );
    }
    for phase in rb.phases.iter().chain(rb.rollback.iter()) {
        let tag = if phase.rollback { " (rollback)" } else { "" };
        say!("  phase {}{tag}: {}", phase.id, phase.title);
        for s in &phase.steps {
            say!(
                "    {:<24} {:<11} {}",
                s.id,
                s.step.kind(),
                s.step.plan(&targets).join("; ")
            );
            for h in s.step.foreseen_hazards() {
                say!("    {:<24} hazard {}", "", h.line());
            }
        }
    }
    Ok(crate::error::exit::OK)
}
