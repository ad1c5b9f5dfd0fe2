//! `cutover verify`: run check files (checks/) against databases and report every
//! result with expected and actual, as text, JSON, JUnit XML, GitHub annotations or
//! Markdown. Exit 0 all passed (warnings allowed), 1 a check failed, 2 bad input,
//! 3 a check timed out or could not run.

use crate::checks::render::{self, Report};
use crate::checks::{self, ParamValue, Params, RunOptions};
use crate::db::{TargetSpec, Targets};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub const VERIFY_HELP: &str = "\
Check files are TOML under checks/ (see docs/checks.md); a directory is a suite.
A check names its targets (`target = \"production\"`); give each with --target NAME=URL.

Connections: at most --jobs checks run at once, and each target's pool opens at most
--jobs connections (default 4), whatever the number of checks.

Exit codes:
  0  every check passed (failed checks of severity \"warning\" allowed)
  1  a check of severity \"error\" failed
  2  bad input: a malformed check file (named with file:line:col), a target not given
  3  a check timed out or could not run (connection, SQL error), and none failed";

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Junit,
    Github,
    Markdown,
}

#[derive(clap::Args, Debug)]
#[command(after_help = VERIFY_HELP)]
pub struct Args {
    /// Check files, suite directories, or suite names (NAME means checks/NAME).
    /// Default: checks/.
    #[arg(value_name = "SUITE|DIR|FILE")]
    pub paths: Vec<String>,
    /// The URL of target NAME as the checks name it (repeatable).
    #[arg(long = "target", value_name = "NAME=URL")]
    pub targets: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report to FILE (stdout then gets the text report).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Checks run at once, and connections each target's pool may open.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub jobs: usize,
    /// Timeout of a check that sets none itself (with a unit: 30s, 2m).
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub timeout: String,
    /// Set a parameter the checks use as ${param:NAME} (repeatable; overrides [params]).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Run only the check with this id (repeatable).
    #[arg(long = "check", value_name = "ID")]
    pub only: Vec<String>,
}

fn resolve_paths(args: &[String]) -> Result<Vec<PathBuf>> {
    if args.is_empty() {
        let d = PathBuf::from("checks");
        if d.is_dir() {
            return Ok(vec![d]);
        }
        return Err(Error::bad_input(
            "no checks given and no checks/ directory here; name a suite, directory or file",
        ));
    }
    args.iter()
        .map(|a| {
            let p = PathBuf::from(a);
            if p.exists() {
                return Ok(p);
            }
            let named = PathBuf::from("checks").join(a);
            if !a.contains('/') && named.is_dir() {
                return Ok(named);
            }
            Err(Error::bad_input(format!(
                "{a}: no such check file, directory or suite (looked for {a} and checks/{a})"
            )))
        })
        .collect()
}

fn parse_params(args: &[String]) -> Result<Params> {
    let mut out = BTreeMap::new();
    for a in args {
        let Some((k, v)) = a.split_once('=') else {
            return Err(Error::bad_input(format!(
                "--param expects NAME=VALUE, got \"{a}\""
            )));
        };
        out.insert(k.trim().to_string(), ParamValue::from_cli(v));
    }
    Ok(out)
}

pub async fn run(args: Args) -> Result<i32> {
    if !(1..=256).contains(&args.jobs) {
        return Err(Error::bad_input(format!(
            "--jobs must be between 1 and 256, not {}",
            args.jobs
        )));
    }
    let default_timeout = checks::compare::parse_duration(&args.timeout)
        .map_err(|e| Error::bad_input(format!("--timeout: {e}")))?;
    let overrides = parse_params(&args.params)?;
    let urls = crate::runbook::TargetOverrides::parse(&args.targets)?;
    let mut loaded = checks::load(&resolve_paths(&args.paths)?, &overrides)?;
    if !args.only.is_empty() {
        loaded = loaded.select(&args.only, "--check")?;
    }
    // every target a check names must be given
    let given: Vec<String> = urls.urls.keys().cloned().collect();
    for c in &loaded.checks {
        for (t, loc) in c.targets.iter().zip(&c.target_locations) {
            if !urls.urls.contains_key(t) {
                return Err(Error::bad_input(format!(
                    "{loc}: check \"{}\" reads target \"{t}\", which was not given; pass --target {t}=URL{}",
                    c.id,
                    if given.is_empty() {
                        String::new()
                    } else {
                        format!(" (given: {})", given.join(", "))
                    }
                )));
            }
        }
    }
    let mut specs = BTreeMap::new();
    for (name, url) in &urls.urls {
        crate::redact::check_url(url)
            .map_err(|m| Error::bad_input(format!("--target {name}: {m}")))?;
        let dialect = crate::db::dialect_of(url)
            .map_err(|e| Error::bad_input(format!("--target {name}: {}", e.message)))?;
        specs.insert(
            name.clone(),
            TargetSpec {
                name: name.clone(),
                url: url.clone(),
                redacted: crate::redact::register_url(url),
                dialect,
            },
        );
    }
    let targets = Targets::new(specs).with_max_connections(args.jobs as u32);
    let started = std::time::Instant::now();
    let results = checks::run_checks(
        &loaded.checks,
        &targets,
        RunOptions {
            jobs: args.jobs,
            default_timeout,
        },
    )
    .await;
    let report = Report::new(results, started.elapsed().as_millis() as u64);
    // A query that timed out may still hold its connection: do not wait long for it.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), targets.close_all()).await;

    let body = match args.format {
        Format::Text => render::text(&report),
        Format::Json => render::json(&report),
        Format::Junit => render::junit(&report),
        Format::Github => render::github(&report),
        Format::Markdown => render::markdown(&report),
    };
    if args.format == Format::Github
        && let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY")
    {
        use std::io::Write;
        let md = crate::redact::scrub(&render::markdown(&report));
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(md.as_bytes()))
            .map_err(|e| {
                Error::runtime(format!(
                    "cannot write the job summary to {}: {e}",
                    PathBuf::from(&path).display()
                ))
            })?;
    }
    match &args.output {
        Some(path) => {
            std::fs::write(path, crate::redact::scrub(&body))
                .map_err(|e| Error::runtime(format!("cannot write {}: {e}", path.display())))?;
            say_text(&render::text(&report));
        }
        None => say_text(&body),
    }
    Ok(report.exit_code)
}

fn say_text(s: &str) {
    crate::cli::common::say_text(s)
}
