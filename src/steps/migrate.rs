//! `migrate`: a refinery versioned-migrations directory applied to a target through
//! the refinery-over-sqlx adapter. Applied migrations are skipped; a changed applied
//! migration is an error.

use super::{BuildContext, Step, StepContext, StepOutcome};
use crate::db::Dialect;
use crate::db::Targets;
use crate::db::refinery_adapter::RefineryDb;
use crate::error::{Error, Result};
use crate::runbook::Params;
use crate::vocab::ProgressMeter;
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct Migrate {
    target: String,
    dir: PathBuf,
    dir_label: String,
    /// The target's engine, for reading the statements (known when the runbook names it).
    dialect: Option<Dialect>,
}

impl Migrate {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let target = ctx.target(p, "target")?;
        let dir_label = p.req_str("dir")?;
        let dir = p.existing_path("dir", ctx.dir)?.expect("required");
        if !dir.is_dir() {
            return Err(p.error_at(
                "dir",
                format!("\"{dir_label}\" is not a directory of V<n>__name.sql migrations"),
            ));
        }
        let dialect = ctx.dialects.get(&target).copied();
        let m = Migrate {
            target,
            dir,
            dir_label,
            dialect,
        };
        m.load().map_err(|e| p.error_at("dir", e.message))?;
        Ok(m)
    }

    fn load(&self) -> Result<Vec<refinery_core::Migration>> {
        let ms = refinery_core::load_sql_migrations(&self.dir)
            .map_err(|e| Error::bad_input(format!("migrations in {}: {e}", self.dir_label)))?;
        if ms.is_empty() {
            return Err(Error::bad_input(format!(
                "{} holds no migrations (expected files named V1__name.sql, V2__...)",
                self.dir_label
            )));
        }
        Ok(ms)
    }
}

#[async_trait]
impl Step for Migrate {
    fn kind(&self) -> &'static str {
        "migrate"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn writes(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn files_read(&self) -> Vec<PathBuf> {
        vec![self.dir.clone()]
    }
    /// Every migration in the directory, in version order: those already applied are
    /// skipped when it runs, but which they are is known only by asking the target;
    /// and they declare the schema the later ones change (a type change is judged
    /// against the type an earlier migration gave).
    fn foreseen_hazards(&self) -> Vec<super::Hazard> {
        let mut known = crate::schema::lint::Known::default();
        super::foresee::sql_files(&self.dir)
            .iter()
            .flat_map(|f| {
                let rel = f.strip_prefix(&self.dir).unwrap_or(f);
                let label = Path::new(&self.dir_label).join(rel).display().to_string();
                super::foresee::file_with(f, &label, self.dialect, &mut known)
            })
            .collect()
    }
    fn plan(&self, targets: &Targets) -> Vec<String> {
        let names: Vec<String> = self
            .load()
            .map(|ms| ms.iter().map(|m| m.to_string()).collect())
            .unwrap_or_default();
        let mut v = vec![format!(
            "apply pending migrations from {} to {} ({})",
            self.dir_label,
            self.target,
            names.join(", ")
        )];
        if targets
            .spec(&self.target)
            .map(|t| !t.dialect.transactional_ddl())
            .unwrap_or(false)
        {
            v.push(
                "note: MySQL/MariaDB commits DDL implicitly: each migration is applied in a transaction, but its DDL statements commit as they run, so a failure mid-migration can leave earlier statements applied"
                    .into(),
            );
        } else {
            v.push("each migration is applied in its own transaction".into());
        }
        v
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let migrations = self.load()?;
        let db = ctx.targets.get(&self.target).await?;
        let total = migrations.len() as u64;
        let meter = Mutex::new((ProgressMeter::new("migrations", Some(total)), 0u64));
        let on_apply = |sql: &str| {
            let mut m = meter.lock().unwrap_or_else(|e| e.into_inner());
            m.1 += 1;
            let done = m.1;
            if let Some(p) = m.0.tick(done, true) {
                ctx.progress(p);
            }
            let first: String = sql
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .chars()
                .take(80)
                .collect();
            ctx.log(format!("applying migration {done} ({first})"));
            crate::crash::point(&format!("migration:{}:{done}", ctx.step_id));
        };
        let runner = refinery_core::Runner::new(&migrations)
            .set_abort_divergent(true)
            .set_grouped(false);
        let mut conn = RefineryDb {
            db: db.as_ref(),
            on_apply: Some(Box::new(on_apply)),
        };
        // PostgreSQL NOTICE/WARNING (RAISE NOTICE in a migration), MySQL warnings.
        let capture = crate::db::notices::Capture::start();
        let report = runner.run_async(&mut conn).await;
        let messages = capture.take();
        drop(capture);
        for m in &messages {
            ctx.log(format!("server: {m}"));
        }
        let report = report.map_err(|e| {
            with_messages(
                migrate_error(&e, db.redacted_url(), &self.dir_label, db.dialect()),
                &messages,
            )
        })?;
        let applied: Vec<String> = report
            .applied_migrations()
            .iter()
            .map(|m| m.to_string())
            .collect();
        let all: Vec<String> = migrations.iter().map(|m| m.to_string()).collect();
        let summary = if applied.is_empty() {
            format!("all {} migration(s) already applied", all.len())
        } else {
            format!(
                "applied {} of {} migration(s): {}",
                applied.len(),
                all.len(),
                applied.join(", ")
            )
        };
        Ok(StepOutcome::ok(
            summary,
            MigrateEvidence {
                target: self.target.clone(),
                dir: self.dir_label.clone(),
                applied,
                migrations: all,
                messages,
            },
        ))
    }
}

/// An error with the server messages that came before it (a `RAISE NOTICE` saying
/// how far a migration got).
pub(crate) fn with_messages(mut e: Error, messages: &[String]) -> Error {
    if !messages.is_empty() {
        e.message = format!(
            "{}\n  server messages before the failure:\n    {}",
            e.message,
            messages.join("\n    ")
        );
    }
    e
}

fn migrate_error(e: &refinery_core::Error, url: &str, dir: &str, dialect: Dialect) -> Error {
    use refinery_core::error::Kind;
    match e.kind() {
        Kind::DivergentVersion(applied, _) => Error::bad_input(format!(
            "migration {applied} in {dir} was changed after it was applied to {url} (its checksum differs from the one recorded in refinery_schema_history)"
        ))
        .with_hint("never edit an applied migration: restore the original file and add a new migration for the change"),
        Kind::MissingVersion(m) => Error::bad_input(format!(
            "migration {m} was applied to {url} but is missing from {dir}, or a migration older than the applied ones was added"
        )),
        Kind::RepeatedVersion(m) => Error::bad_input(format!("migration version of {m} is used twice in {dir}")),
        _ => Error::runtime(format!("migrating {url} from {dir}: {e}")).with_hint(if dialect.transactional_ddl() {
            "the failing migration was rolled back; migrations before it stay applied and are skipped on the next run"
        } else {
            "MySQL/MariaDB commits DDL implicitly: check what of the failing migration was applied before re-running"
        }),
    }
}

/// Which migrations a migrate step applied now, of all those in its directory.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MigrateEvidence {
    pub target: String,
    pub dir: String,
    pub applied: Vec<String>,
    pub migrations: Vec<String>,
    /// What the server said while migrating: PostgreSQL NOTICE/WARNING, MySQL warnings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
}
