//! `sql`: a script file or inline SQL against one target, in one transaction.

use super::once::{Applied, apply_once};
use super::{BuildContext, Hazard, Step, StepContext, StepOutcome};
use crate::db::Targets;
use crate::db::split_statements;
use crate::error::Result;
use crate::runbook::Params;
use async_trait::async_trait;
use std::path::PathBuf;

pub struct Sql {
    target: String,
    file: Option<PathBuf>,
    /// The file as written in the runbook, for messages.
    file_label: Option<String>,
    inline: Option<String>,
    /// The target's engine, for reading the statements (known when the runbook names it).
    dialect: Option<crate::db::Dialect>,
}

impl Sql {
    pub fn build(p: &Params, ctx: &BuildContext) -> Result<Self> {
        let target = ctx.target(p, "target")?;
        let file_label = p.str("file")?;
        let file = p.existing_path("file", ctx.dir)?;
        let inline = p.str("sql")?;
        match (&file, &inline) {
            (None, None) => {
                return Err(p.src.error(
                    &p.span,
                    format!(
                        "{} needs `sql = \"...\"` or `file = \"script.sql\"`",
                        p.what
                    ),
                ));
            }
            (Some(_), Some(_)) => {
                return Err(p.error_at("sql", "give either `sql` or `file`, not both"));
            }
            _ => {}
        }
        let dialect = ctx.dialects.get(&target).copied();
        Ok(Sql {
            target,
            file,
            file_label,
            inline,
            dialect,
        })
    }

    fn script(&self) -> Result<(String, String)> {
        match (&self.file, &self.inline) {
            (Some(f), _) => {
                let text = std::fs::read_to_string(f).map_err(|e| {
                    crate::Error::bad_input(format!("{}: cannot read SQL file: {e}", f.display()))
                })?;
                Ok((
                    text,
                    self.file_label
                        .clone()
                        .unwrap_or_else(|| f.display().to_string()),
                ))
            }
            (None, Some(s)) => Ok((s.clone(), "inline sql".into())),
            (None, None) => Ok((String::new(), "inline sql".into())),
        }
    }
}

#[async_trait]
impl Step for Sql {
    fn kind(&self) -> &'static str {
        "sql"
    }
    fn targets(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn writes(&self) -> Vec<String> {
        vec![self.target.clone()]
    }
    fn files_read(&self) -> Vec<PathBuf> {
        self.file.iter().cloned().collect()
    }
    fn foreseen_hazards(&self) -> Vec<Hazard> {
        match (&self.file, &self.inline) {
            (Some(f), _) => {
                let label = self
                    .file_label
                    .clone()
                    .unwrap_or_else(|| f.display().to_string());
                super::foresee::file(f, &label, self.dialect)
            }
            (None, Some(s)) => super::foresee::script(s, "inline sql", self.dialect),
            (None, None) => Vec::new(),
        }
    }
    fn plan(&self, targets: &Targets) -> Vec<String> {
        let what = match (&self.file_label, &self.inline) {
            (Some(f), _) => format!("run {f}"),
            _ => "run inline SQL".into(),
        };
        let mut v = vec![format!("{what} on {} in one transaction", self.target)];
        if targets
            .spec(&self.target)
            .map(|t| !t.dialect.transactional_ddl())
            .unwrap_or(false)
        {
            v.push(
                "note: MySQL/MariaDB commits DDL implicitly; DDL in this script is not atomic"
                    .into(),
            );
        }
        v
    }
    async fn run(&self, ctx: &StepContext<'_>) -> Result<StepOutcome> {
        let (text, source) = self.script()?;
        let statements = split_statements(&text);
        let db = ctx.targets.get(&self.target).await?;
        ctx.log(format!(
            "{} statement(s) from {source} on {}",
            statements.len(),
            db.redacted_url()
        ));
        // PostgreSQL NOTICE/WARNING raised by the script, MySQL warnings.
        let capture = crate::db::notices::Capture::start();
        let applied = apply_once(&db, ctx, &statements, &source).await;
        let messages = capture.take();
        drop(capture);
        for m in &messages {
            ctx.log(format!("server: {m}"));
        }
        let applied = applied.map_err(|e| super::migrate::with_messages(e, &messages))?;
        let mut messages = Some(messages);
        match applied {
            Applied::Now { rows, statements } => Ok(StepOutcome::ok(
                format!("{statements} statement(s) applied, {rows} row(s) affected"),
                SqlEvidence {
                    target: self.target.clone(),
                    source,
                    statements: statements as i64,
                    rows_affected: Some(rows),
                    already_applied: None,
                    sha256: crate::runbook::sha256_hex(text.as_bytes()),
                    messages: messages.take().unwrap_or_default(),
                },
            )),
            Applied::Before { statements } => Ok(StepOutcome::ok(
                format!("already applied in this run ({statements} statement(s)); not repeated"),
                SqlEvidence {
                    target: self.target.clone(),
                    source,
                    statements,
                    rows_affected: None,
                    already_applied: Some(true),
                    sha256: crate::runbook::sha256_hex(text.as_bytes()),
                    messages: messages.take().unwrap_or_default(),
                },
            )),
        }
    }
}

/// What a sql step ran: where from, how many statements and rows, the script's hash;
/// or that an earlier attempt of this run already applied it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SqlEvidence {
    pub target: String,
    /// The file, or "inline SQL".
    pub source: String,
    pub statements: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_affected: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub already_applied: Option<bool>,
    pub sha256: String,
    /// What the server said while running it: PostgreSQL NOTICE/WARNING, MySQL warnings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
}
