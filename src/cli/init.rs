//! `cutover init DIR`: a new runbook to start from instead of copying the demo — a
//! commented runbook with a step of each common kind, `migrations/`, `checks/` and a
//! `.gitignore` for the ledger and backups. It validates clean as written.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The directory to create (it must not exist, or be empty).
    pub dir: PathBuf,
    /// The engine of the databases, for the targets' URLs.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: Engine,
    /// The runbook's name (default: the directory's name).
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
    Mysql,
}

const RUNBOOK: &str = include_str!("init_files/runbook.toml");
const MIGRATION: &str = include_str!("init_files/V1__example.sql");
const CHECK: &str = include_str!("init_files/example_has_rows.sql");
const GITIGNORE: &str = include_str!("init_files/gitignore");
const SUITE: &str = include_str!("init_files/smoke.toml");

fn targets(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => {
            "# SQLite files, relative to this runbook. Use --target NAME=URL to point a run elsewhere.\n\
             staging = \"sqlite://staging.db\"\n\
             production = \"sqlite://production.db\""
        }
        Engine::Postgres => {
            "# From the environment, so no password is written here (or give --target NAME=URL):\n\
             #   export STAGING_DATABASE_URL=postgres://app@staging-db/app\n\
             #   export PRODUCTION_DATABASE_URL=postgres://app@prod-db/app\n\
             staging = \"${env:STAGING_DATABASE_URL}\"\n\
             production = \"${env:PRODUCTION_DATABASE_URL}\""
        }
        Engine::Mysql => {
            "# From the environment, so no password is written here (or give --target NAME=URL):\n\
             #   export STAGING_DATABASE_URL=mysql://app@staging-db/app\n\
             #   export PRODUCTION_DATABASE_URL=mysql://app@prod-db/app\n\
             staging = \"${env:STAGING_DATABASE_URL}\"\n\
             production = \"${env:PRODUCTION_DATABASE_URL}\""
        }
    }
}

/// Refuse a directory that holds anything: init never writes over a file.
fn check_empty(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::bad_input(format!("{}: {e}", dir.display()))),
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(Error::bad_input(format!(
                "{} is not empty: cutover init writes only into a new or empty directory, never over files",
                dir.display()
            ))),
        },
    }
}

pub fn run(args: Args) -> Result<i32> {
    check_empty(&args.dir)?;
    let name = match &args.name {
        Some(n) => n.clone(),
        None => std::path::absolute(&args.dir)
            .ok()
            .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "cutover".into()),
    };
    if name.is_empty() || name.contains(['"', '\\', '\n']) {
        return Err(Error::bad_input(format!(
            "{name:?} cannot be a runbook name: give --name NAME"
        )));
    }
    let file = args.dir.join("cutover.toml");
    let run_hint = if args.engine == Engine::Sqlite {
        "needs staging.db and production.db here"
    } else {
        "set the two URLs first"
    };
    let runbook = RUNBOOK
        .replace("{{NAME}}", &name)
        .replace("{{FILE}}", &file.display().to_string())
        .replace("{{RUN_HINT}}", run_hint)
        .replace("{{TARGETS}}", targets(args.engine));
    let files: [(PathBuf, &str); 5] = [
        (file.clone(), runbook.as_str()),
        (args.dir.join("migrations/V1__example.sql"), MIGRATION),
        (args.dir.join("checks/example_has_rows.sql"), CHECK),
        (args.dir.join("checks/smoke.toml"), SUITE),
        (args.dir.join(".gitignore"), GITIGNORE),
    ];
    for (path, text) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::runtime(format!("{}: {e}", parent.display())))?;
        }
        std::fs::write(path, text)
            .map_err(|e| Error::runtime(format!("{}: {e}", path.display())))?;
    }
    say!("wrote a new runbook \"{name}\" in {}:", args.dir.display());
    for (path, _) in &files {
        say!("  {}", path.display());
    }
    say!("next:");
    say!("  cutover validate {}", file.display());
    if args.engine != Engine::Sqlite {
        say!(
            "  (set STAGING_DATABASE_URL and PRODUCTION_DATABASE_URL, or give --target staging=URL --target production=URL)"
        );
    }
    say!("  cutover run {} --headless", file.display());
    Ok(0)
}
