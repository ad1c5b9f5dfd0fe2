//! `cutover demo`: write the LERG cutover example (runbook, migrations, SQL, checks,
//! real NANP area-code data, staging.db and production.db) into a directory and run it.
//! Running it again in the same directory continues the same run.

use super::common;
use crate::db::{self, ConnectOptions, Statement, split_statements};
use crate::engine::RunOptions;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to write the workspace (default ./cutover-demo). Re-running continues the run there.
    #[arg(long, default_value = "cutover-demo")]
    pub dir: PathBuf,
    /// Plain progress lines instead of the terminal UI; never prompts.
    #[arg(long)]
    pub headless: bool,
    /// Approve each checkpoint as NAME:ROLE (marked in the ledger as given on the command
    /// line). Repeat it, or separate with commas, to give several identities: at each
    /// checkpoint those holding a role it accepts approve, up to the number it requires.
    /// The demo's five checkpoints belong to ops, dba, deploy, qa and lead
    /// (e.g. --approve-as olu:ops,dana:dba,dev:deploy,quinn:qa,lee:lead). The demo has no
    /// application to test: the identity in role qa also ticks its integration-test
    /// checklist, and the ledger and output say the demo did it.
    #[arg(long, value_name = "NAME:ROLE", value_delimiter = ',')]
    pub approve_as: Vec<String>,
    /// Delete an existing workspace in --dir and start over.
    #[arg(long)]
    pub fresh: bool,
    /// Write the workspace but do not run it.
    #[arg(long)]
    pub no_run: bool,
    /// Who is running this (default $CUTOVER_OPERATOR or $USER).
    #[arg(long)]
    pub operator: Option<String>,
}

/// The files of the example, embedded so the binary is self-contained.
pub const FILES: &[(&str, &str)] = &[
    (
        "runbooks/lerg-cutover.toml",
        include_str!("../../runbooks/lerg-cutover.toml"),
    ),
    (
        "runbooks/lerg/migrations/V1__create_enhanced_lerg.sql",
        include_str!("../../runbooks/lerg/migrations/V1__create_enhanced_lerg.sql"),
    ),
    (
        "runbooks/lerg/migrations/V2__profiles_billing.sql",
        include_str!("../../runbooks/lerg/migrations/V2__profiles_billing.sql"),
    ),
    (
        "runbooks/lerg/migrations/V3__trial_fixed_date.sql",
        include_str!("../../runbooks/lerg/migrations/V3__trial_fixed_date.sql"),
    ),
    (
        "runbooks/lerg/sql/drop_lerg_codes.sql",
        include_str!("../../runbooks/lerg/sql/drop_lerg_codes.sql"),
    ),
    (
        "runbooks/lerg/sql/optimize.sql",
        include_str!("../../runbooks/lerg/sql/optimize.sql"),
    ),
    (
        "runbooks/lerg/sql/rollback_schema.sql",
        include_str!("../../runbooks/lerg/sql/rollback_schema.sql"),
    ),
    // Stands in for the plan's function deployment (phase 3); written executable.
    (
        "runbooks/lerg/deploy/deploy-functions.sh",
        include_str!("../../runbooks/lerg/deploy/deploy-functions.sh"),
    ),
    (
        "runbooks/lerg/deploy/functions.txt",
        include_str!("../../runbooks/lerg/deploy/functions.txt"),
    ),
    ("runbooks/lerg/data/npa.csv", NPA_CSV),
    (
        "checks/lerg/geographic_npas.sql",
        include_str!("../../checks/lerg/geographic_npas.sql"),
    ),
    (
        "checks/lerg/pacific_npas.sql",
        include_str!("../../checks/lerg/pacific_npas.sql"),
    ),
    (
        "checks/lerg/area_codes_match_staging.sql",
        include_str!("../../checks/lerg/area_codes_match_staging.sql"),
    ),
    (
        "checks/lerg/profiles_unchanged.sql",
        include_str!("../../checks/lerg/profiles_unchanged.sql"),
    ),
    // The LERG verification as a suite: `cutover verify checks/lerg --target ...`.
    (
        "checks/lerg/lerg.toml",
        include_str!("../../checks/lerg/lerg.toml"),
    ),
];

/// In-service NANP area codes (from libphonenumber via ../shared/data/nanp).
pub const NPA_CSV: &str = include_str!("../../runbooks/lerg/data/npa.csv");

/// Geographic NPAs production's legacy table lacks (newer overlays; 438 among them).
pub const MISSING_IN_PRODUCTION: &[&str] = &[
    "438", "263", "354", "367", "382", "468", "683", "742", "753", "975", "983",
];

/// Production's (and, before its migrations, staging's) table of live users.
const PROFILES_TABLE: &str = "CREATE TABLE profiles (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, email TEXT NOT NULL, full_name TEXT, npa TEXT, created_at TEXT NOT NULL)";

pub const RUNBOOK: &str = "runbooks/lerg-cutover.toml";

struct Npa {
    npa: String,
    iso_region: String,
    subdivision: String,
    region_name: String,
    category: String,
    number_kind: String,
}

fn npas() -> Result<Vec<Npa>> {
    let mut r = csv::Reader::from_reader(NPA_CSV.as_bytes());
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| Error::runtime(format!("embedded npa.csv: {e}")))?;
        let f = |i: usize| rec.get(i).unwrap_or("").to_string();
        out.push(Npa {
            npa: f(0),
            iso_region: f(1),
            subdivision: f(2),
            region_name: f(3),
            category: f(4),
            number_kind: f(5),
        });
    }
    Ok(out)
}

const USERS: &[(&str, &str, &str, &str)] = &[
    ("amara", "amara.okafor@example.com", "Amara Okafor", "212"),
    ("bjorn", "bjorn.lind@example.com", "Björn Lind", "438"),
    ("chen", "chen.wei@example.com", "Chen Wei", "415"),
    (
        "dolores",
        "dolores.m@example.com",
        "Dolores Martínez",
        "787",
    ),
    ("eli", "eli.cohen@example.com", "Eli Cohen", "671"),
    ("farah", "farah.k@example.com", "Farah Khan", "604"),
    ("gus", "gus.t@example.com", "Gus Tavares", "684"),
    ("hana", "hana.sato@example.com", "Hana Sato", "808"),
    ("ivan", "ivan.p@example.com", "Ivan Petrov", "670"),
    ("jo", "jo.o'neil@example.com", "Jo O'Neil", "876"),
    ("kofi", "kofi.a@example.com", "Kofi Asante", "312"),
];

fn lit(s: &str) -> String {
    crate::db::Dialect::Sqlite.quote_literal(s)
}

fn opt(s: &str) -> String {
    if s.is_empty() { "NULL".into() } else { lit(s) }
}

/// Build production.db (outdated) and staging.db (ahead) in `dir`.
pub async fn build_databases(dir: &Path) -> Result<()> {
    let all = npas()?;
    let geo: Vec<&Npa> = all
        .iter()
        .filter(|n| n.category != "non_geographic")
        .collect();

    let mut prod = vec![
        Statement::new(
            "CREATE TABLE lerg_codes (npa TEXT PRIMARY KEY, country TEXT NOT NULL, state TEXT, region_name TEXT, category TEXT NOT NULL, updated_at TEXT NOT NULL)",
        ),
        Statement::new(PROFILES_TABLE),
    ];
    for n in geo
        .iter()
        .filter(|n| !MISSING_IN_PRODUCTION.contains(&n.npa.as_str()))
    {
        // The legacy system files the Pacific territories under 'us'.
        let category = if n.category == "pacific" {
            "us"
        } else {
            n.category.as_str()
        };
        prod.push(Statement::new(format!(
            "INSERT INTO lerg_codes VALUES ({}, {}, {}, {}, {}, '2019-03-01T00:00:00Z')",
            lit(&n.npa),
            lit(&n.iso_region),
            opt(&n.subdivision),
            opt(&n.region_name),
            lit(category)
        )));
    }
    for (i, (u, e, name, npa)) in USERS.iter().enumerate() {
        prod.push(Statement::new(format!(
            "INSERT INTO profiles VALUES ({}, {}, {}, {}, {}, '2024-0{}-1{}T09:30:00Z')",
            i + 1,
            lit(u),
            lit(e),
            lit(name),
            lit(npa),
            1 + i % 9,
            i % 10
        )));
    }

    // Staging is production's base schema with the migrations already applied.
    let mut staging = vec![Statement::new(PROFILES_TABLE)];
    staging.extend(split_statements(include_str!(
        "../../runbooks/lerg/migrations/V1__create_enhanced_lerg.sql"
    )));
    staging.extend(split_statements(include_str!(
        "../../runbooks/lerg/migrations/V2__profiles_billing.sql"
    )));
    staging.extend(split_statements(include_str!(
        "../../runbooks/lerg/migrations/V3__trial_fixed_date.sql"
    )));
    for n in &geo {
        staging.push(Statement::new(format!(
            "INSERT INTO enhanced_lerg VALUES ({}, {}, {}, {}, {}, {}, 'nanp')",
            lit(&n.npa),
            lit(&n.iso_region),
            opt(&n.subdivision),
            opt(&n.region_name),
            lit(&n.category),
            opt(&n.number_kind)
        )));
    }
    staging.push(Statement::new(
        "INSERT INTO profiles (id, username, email, full_name, npa, created_at, billing_plan, billing_email) VALUES (1, 'qa-tester', 'qa@example.com', 'QA Tester', '555', '2025-01-01T00:00:00Z', 'pro', 'billing@example.com')",
    ));

    for (file, stmts) in [("production.db", prod), ("staging.db", staging)] {
        let path = dir.join(file);
        let url = format!("sqlite://{}", path.display());
        let db = db::connect_with(
            &url,
            ConnectOptions {
                create_if_missing: true,
                max_connections: 1,
            },
        )
        .await?;
        db.execute_in_transaction(&stmts).await.map_err(|e| {
            Error::runtime(format!(
                "building {file}: statement {}: {}",
                e.index + 1,
                e.message
            ))
        })?;
        db.execute("PRAGMA journal_mode=DELETE").await?;
        db.close().await;
    }
    // Production's users as they were before the cutover, for the check that they
    // survive it (the run's own backups live in a directory per run).
    std::fs::copy(dir.join("production.db"), dir.join("production-initial.db"))?;
    Ok(())
}

/// Write the workspace files and databases into `dir` (which must not hold one yet).
pub async fn write_workspace(dir: &Path) -> Result<()> {
    for (rel, text) in FILES {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, text)?;
        #[cfg(unix)]
        if rel.ends_with(".sh") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    std::fs::create_dir_all(dir.join("backups"))?;
    build_databases(dir).await
}

pub async fn run(args: Args) -> Result<i32> {
    let dir = &args.dir;
    let runbook = dir.join(RUNBOOK);
    if args.fresh && dir.exists() {
        if !runbook.exists() {
            return Err(Error::bad_input(format!(
                "{} exists but is not a cutover demo workspace; refusing to delete it",
                dir.display()
            )));
        }
        std::fs::remove_dir_all(dir)?;
    }
    if runbook.exists() {
        say!(
            "cutover demo: continuing the workspace in {} (use --fresh to start over)",
            dir.display()
        );
    } else {
        if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
            return Err(Error::bad_input(format!(
                "{} is not empty and holds no demo workspace; choose another --dir",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir)?;
        write_workspace(dir).await?;
        say!(
            "cutover demo: wrote the LERG cutover workspace to {}",
            dir.display()
        );
        say!(
            "  production.db: legacy lerg_codes (429 geographic NPAs, 438 missing, 670/671/684 filed as 'us'), 11 users"
        );
        say!(
            "  staging.db:    enhanced_lerg with all 440 geographic NPAs, profiles with billing columns"
        );
    }
    if args.no_run {
        say!("run it with: cutover run {} --headless", runbook.display());
        return Ok(0);
    }
    let rb = common::load_runbook(&runbook)?;
    let opts = RunOptions {
        operator: common::operator(args.operator),
        approve_as: super::run::parse_approve_as_all(&args.approve_as)?,
        runbook_arg: runbook.display().to_string(),
        // The demo has no application to test: its checklist is ticked in the name of
        // the --approve-as identity whose role may tick it, and says so.
        demo_ticks: true,
        ..Default::default()
    };
    if !args.headless && common::is_terminal_stdout() {
        let end = crate::tui::driver::run(rb, None, opts.clone()).await?;
        return Ok(super::run::report_session(end, &opts));
    }
    super::run::drive(rb, None, opts).await
}
