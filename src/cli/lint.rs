//! `cutover lint`: the hazards of migration and SQL files, for CI, without a database.
//! The same reading of statements as the checkpoints of a run (`schema::lint`).

use crate::db::Dialect;
use crate::error::{Error, Result, exit};
use crate::schema::lint::{ERROR_CODES, Known, ScriptHazards, Severity, script_hazards_with};
use std::path::PathBuf;

pub const LINT_HELP: &str = "\
Every statement is read for the same hazard codes a generated migration raises
(drop-table, drop-column, narrow-type, not-null-without-default, drop-fk-index,
table-rewrite) plus truncate, delete-without-where, update-without-where,
rename-table, rename-column and, with --dialect mysql, implicit-commit-ddl.

The files are read in order (migrations by version), and what they declare
(CREATE TABLE, ADD COLUMN, CREATE INDEX, FOREIGN KEY) is the schema the later
statements are judged against: narrow-type when a column's declared type is
narrowed (varchar(100) to varchar(50), bigint to int; widening is no hazard),
drop-fk-index when DROP INDEX removes the only declared index covering a foreign
key. A type change whose old type is not declared is the notice type-change.

Errors (exit 1 unless acknowledged): drop-table, drop-column, truncate,
delete-without-where. type-change is a notice; the others are warnings. Acknowledge a hazard in the file,
on the statement's line or just above it, with its code and a reason:

  -- cutover:allow drop-table lerg_codes was archived by backup-lerg-codes
  DROP TABLE lerg_codes;

With --target URL (or a snapshot file) the target's schema is read first, so a
type or index the files do not declare is judged too: an ALTER of a column the
target has is narrow-type or nothing, and DROP INDEX of the target's only index
on a foreign key is drop-fk-index. The schema is only read; nothing is run.

Exit codes: 0 no unacknowledged error, 1 an unacknowledged error, 2 bad input
(a missing file, a directory with no .sql file, a malformed cutover:allow comment),
3 the --target database could not be read.";

#[derive(clap::Args, Debug)]
#[command(after_help = LINT_HELP)]
pub struct Args {
    /// SQL files, or directories whose .sql files (recursively) are read.
    #[arg(required = true, value_name = "FILES|DIR")]
    pub paths: Vec<PathBuf>,
    /// The engine the SQL runs on: sqlite, postgres or mysql (mariadb). Without it,
    /// hazards that depend on the engine (implicit-commit-ddl, PostgreSQL rewrites)
    /// are not reported.
    #[arg(long, value_parser = Dialect::from_name)]
    pub dialect: Option<Dialect>,
    /// A database URL (or schema snapshot file) whose schema the files change: its
    /// column types, indexes and foreign keys are what the first statement is judged
    /// against (narrow-type, drop-fk-index). Read only. Sets --dialect when not given.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Output format: text, json, or github (workflow annotations).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Text,
    Json,
    Github,
}

/// One file's report.
#[derive(Debug, serde::Serialize)]
pub struct FileReport {
    pub path: String,
    pub statements: usize,
    pub hazards: Vec<crate::schema::lint::StatementHazard>,
}

/// The whole report (`--format json`).
#[derive(Debug, serde::Serialize)]
pub struct LintReport {
    pub format: &'static str,
    pub version: u32,
    pub dialect: Option<&'static str>,
    pub error_codes: &'static [&'static str],
    pub files: Vec<FileReport>,
    pub errors: usize,
    pub warnings: usize,
    /// What could not be judged (`type-change`: the old type is not known).
    pub notices: usize,
    pub acknowledged: usize,
}

/// The files named: a file as given, a directory's `.sql` files.
fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let found = crate::steps::foresee::sql_files(p);
            if found.is_empty() {
                return Err(Error::bad_input(format!(
                    "{}: no .sql file in this directory",
                    p.display()
                )));
            }
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(Error::bad_input(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    Ok(out)
}

pub fn report(paths: &[PathBuf], dialect: Option<Dialect>) -> Result<LintReport> {
    report_with(paths, dialect, Known::default())
}

/// [`report`] starting from what `known` declares (an introspected target): the files
/// are read in order, each judged against what the ones before it declare.
pub fn report_with(
    paths: &[PathBuf],
    dialect: Option<Dialect>,
    mut known: Known,
) -> Result<LintReport> {
    let mut reports = Vec::new();
    let mut bad = Vec::new();
    for f in files(paths)? {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| Error::bad_input(format!("{}: cannot read: {e}", f.display())))?;
        let label = f.display().to_string();
        let ScriptHazards {
            statements,
            hazards,
            bad_allows,
        } = script_hazards_with(&text, dialect, &mut known);
        bad.extend(
            bad_allows
                .into_iter()
                .map(|b| format!("{label}:{}: {}", b.line, b.message)),
        );
        reports.push(FileReport {
            path: label,
            statements,
            hazards,
        });
    }
    if !bad.is_empty() {
        return Err(Error::bad_input(bad.join("\n")));
    }
    let all = || reports.iter().flat_map(|r| r.hazards.iter());
    let errors = all()
        .filter(|h| h.severity == Severity::Error && h.allowed.is_none())
        .count();
    let warnings = all()
        .filter(|h| h.severity == Severity::Warning && h.allowed.is_none())
        .count();
    let notices = all()
        .filter(|h| h.severity == Severity::Notice && h.allowed.is_none())
        .count();
    let acknowledged = all().filter(|h| h.allowed.is_some()).count();
    Ok(LintReport {
        format: "cutover-lint",
        version: 1,
        dialect: dialect.map(|d| d.name()),
        error_codes: ERROR_CODES,
        files: reports,
        errors,
        warnings,
        notices,
        acknowledged,
    })
}

pub async fn run(args: Args) -> Result<i32> {
    let (known, dialect) = match &args.target {
        Some(t) => {
            let loaded = crate::schema::load(t, &crate::schema::Filter::default()).await?;
            if let Some(db) = &loaded.db {
                db.close().await;
            }
            (
                Known::from_schema(&loaded.schema),
                args.dialect.or(Some(loaded.schema.dialect)),
            )
        }
        None => (Known::default(), args.dialect),
    };
    let r = report_with(&args.paths, dialect, known)?;
    match args.format {
        Format::Json => say!("{}", serde_json::to_string_pretty(&r).expect("json")),
        Format::Text => print_text(&r),
        Format::Github => print_github(&r),
    }
    Ok(if r.errors > 0 {
        exit::CHECK_FAILED
    } else {
        exit::OK
    })
}

fn print_text(r: &LintReport) {
    for f in &r.files {
        for h in &f.hazards {
            match &h.allowed {
                Some(why) => say!(
                    "{}:{}: allowed {}: {} (acknowledged: {why})",
                    f.path,
                    h.line,
                    h.code,
                    h.message
                ),
                None => say!(
                    "{}:{}: {} {}: {}",
                    f.path,
                    h.line,
                    h.severity.name(),
                    h.code,
                    h.message
                ),
            }
        }
    }
    let statements: usize = r.files.iter().map(|f| f.statements).sum();
    say!(
        "{} file(s), {statements} statement(s): {} error(s), {} warning(s), {}{} acknowledged{}",
        r.files.len(),
        r.errors,
        r.warnings,
        if r.notices > 0 {
            format!("{} notice(s), ", r.notices)
        } else {
            String::new()
        },
        r.acknowledged,
        if r.errors > 0 {
            " — acknowledge an intended one with `-- cutover:allow CODE reason` above its statement"
        } else {
            ""
        }
    );
}

/// GitHub workflow annotations: `::error file=F,line=N,title=CODE::message`.
fn print_github(r: &LintReport) {
    fn esc(s: &str) -> String {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    }
    fn prop(s: &str) -> String {
        esc(s).replace(':', "%3A").replace(',', "%2C")
    }
    for f in &r.files {
        for h in &f.hazards {
            let (level, msg) = match &h.allowed {
                Some(why) => ("notice", format!("{} (acknowledged: {why})", h.message)),
                None if h.severity == Severity::Error => ("error", h.message.clone()),
                None if h.severity == Severity::Notice => ("notice", h.message.clone()),
                None => ("warning", h.message.clone()),
            };
            say!(
                "::{level} file={},line={},title={}::{}",
                prop(&f.path),
                h.line,
                prop(h.code),
                esc(&msg)
            );
        }
    }
}
