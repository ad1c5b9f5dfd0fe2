//! Apply a step's statements at most once per run, even across a crash between the
//! target's commit and the ledger's record: a mark is written in the target, in the
//! same transaction as the statements (table `cutover_marks`). The ledger's head goes
//! into the same transaction (table `cutover_anchors`), so the target holds proof of
//! the ledger it was changed under.

use super::StepContext;
use crate::db::bookkeeping;
use crate::db::{Db, Statement, Value};
use crate::error::{Error, Result};

pub const MARKS_TABLE: &str = "cutover_marks";

async fn ensure_marks_table(db: &Db) -> Result<()> {
    let d = db.dialect();
    let t = d.quote_ident(MARKS_TABLE);
    let text = d.sql().key_text_type();
    db.execute(&format!(
        "CREATE TABLE IF NOT EXISTS {t} (run_id {text} NOT NULL, step_id {text} NOT NULL, applied_at {text} NOT NULL, statements INTEGER NOT NULL, PRIMARY KEY (run_id, step_id))"
    ))
    .await?;
    Ok(())
}

/// If this run's step already applied its statements, how many it applied.
pub async fn already_applied(db: &Db, run_id: &str, step_id: &str) -> Result<Option<i64>> {
    ensure_marks_table(db).await?;
    let d = db.dialect();
    let sql = format!(
        "SELECT statements FROM {} WHERE run_id = {} AND step_id = {}",
        d.quote_ident(MARKS_TABLE),
        d.placeholder(1),
        d.placeholder(2)
    );
    let rows = db
        .query(&sql, &[Value::from(run_id), Value::from(step_id)])
        .await?;
    Ok(rows.scalar().and_then(Value::as_i64))
}

pub enum Applied {
    Now { rows: u64, statements: usize },
    Before { statements: i64 },
}

/// Execute `statements` in one transaction together with this step's mark, unless the
/// mark shows they were applied already. A failing statement rolls everything back and
/// the error names the statement, its line and `source` (file or "inline sql").
pub async fn apply_once(
    db: &Db,
    ctx: &StepContext<'_>,
    statements: &[Statement],
    source: &str,
) -> Result<Applied> {
    let (run_id, step_id) = (ctx.run_id, ctx.step_id);
    if let Some(n) = already_applied(db, run_id, step_id).await? {
        return Ok(Applied::Before { statements: n });
    }
    let d = db.dialect();
    let mut all = statements.to_vec();
    if let Some(anchor) = ctx.anchor {
        bookkeeping::ensure_anchors_table(db).await?;
        all.push(bookkeeping::anchor_statement(
            d,
            anchor,
            "step_applied",
            Some(step_id),
        ));
    }
    let ours = all.len() - statements.len() + 1;
    all.push(Statement::new(format!(
        "INSERT INTO {} (run_id, step_id, applied_at, statements) VALUES ({}, {}, {}, {})",
        d.quote_ident(MARKS_TABLE),
        d.quote_literal(run_id),
        d.quote_literal(step_id),
        d.quote_literal(&chrono::Utc::now().to_rfc3339()),
        statements.len()
    )));
    // What the server said about cutover's own bookkeeping above is not the script's.
    crate::db::notices::discard();
    match db.execute_in_transaction(&all).await {
        Ok(rows) => Ok(Applied::Now {
            rows: rows.saturating_sub(ours as u64),
            statements: statements.len(),
        }),
        Err(e) if e.index < statements.len() => {
            // The statement itself, not the comment above it.
            let (line, first) = statement_head(&statements[e.index]);
            let rolled = if d.transactional_ddl() {
                "the transaction was rolled back: nothing was changed".to_string()
            } else {
                stayed_applied(db, statements, e.index, &e.message)
            };
            Err(Error::runtime(format!(
                "{source}:{}: statement {} of {} failed on {}: {}\n  statement: {first}\n  {rolled}",
                line,
                e.index + 1,
                statements.len(),
                db.redacted_url(),
                e.message
            )))
        }
        Err(e) => Err(Error::runtime(format!(
            "{}: could not commit: {}",
            db.redacted_url(),
            e.message
        ))),
    }
}

/// A statement's first line of SQL, skipping blank lines and comments written above
/// it (`--`, `/* ... */` on lines of their own), and that line's number in the script.
fn statement_head(st: &Statement) -> (usize, String) {
    let mut in_block = false;
    for l in st.sql.lines() {
        let t = l.trim();
        if in_block {
            in_block = !t.contains("*/");
            continue;
        }
        if t.is_empty() || t.starts_with("--") {
            continue;
        }
        if t.starts_with("/*") {
            in_block = !t.contains("*/");
            if !in_block && t.ends_with("*/") {
                continue;
            }
            if in_block {
                continue;
            }
        }
        // `line` is already where the SQL starts (the splitter skips comments).
        return (st.line, t.chars().take(100).collect());
    }
    let first = st.sql.lines().next().unwrap_or("").trim();
    (st.line, first.chars().take(100).collect())
}

/// What of the statements before a failed one stayed applied on an engine whose DDL
/// commits implicitly. A statement that commits implicitly commits the open
/// transaction (the DML before it) and ends it: every statement after it runs, and is
/// committed, on its own. So once any statement before the failing one committed
/// implicitly - or the failing one did, having got past parsing - everything before
/// the failing statement stayed applied; otherwise the rollback undid it all.
fn stayed_applied(db: &Db, statements: &[Statement], failed: usize, message: &str) -> String {
    let d = db.dialect().sql();
    let syntax_error = message.contains("1064") || message.contains("error in your SQL syntax");
    let first_commit = statements[..failed]
        .iter()
        .position(|s| d.commits_implicitly(&s.sql))
        .or_else(|| {
            (d.commits_implicitly(&statements[failed].sql) && !syntax_error).then_some(failed)
        });
    let Some(first_commit) = first_commit.filter(|_| failed > 0) else {
        return if failed == 0 {
            "the transaction was rolled back: nothing was changed".into()
        } else {
            format!(
                "the transaction was rolled back: none of the {failed} statement(s) before it commits implicitly on {}, so nothing was changed",
                d.name()
            )
        };
    };
    let line = |i: usize, s: &Statement| {
        let first: String = s
            .sql
            .lines()
            .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
            .unwrap_or("")
            .trim()
            .chars()
            .take(80)
            .collect();
        format!("    {} (line {}): {first}", i + 1, s.line)
    };
    let applied = if failed == 1 {
        "statement 1 STAYED APPLIED".to_string()
    } else {
        format!("statements 1-{failed} STAYED APPLIED")
    };
    let why = if first_commit == failed {
        format!(
            "the failing statement commits implicitly on {}, and did so before it failed",
            d.name()
        )
    } else {
        format!(
            "statement {} commits implicitly on {}: it committed the statements before it and ended the transaction, so every statement after it ran and was committed on its own",
            first_commit + 1,
            d.name()
        )
    };
    let mut out = format!("{applied} ({why}):\n");
    out.push_str(
        &statements[..failed]
            .iter()
            .enumerate()
            .map(|(i, s)| line(i, s))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    out.push_str("\n  the step is not marked applied: before running it again, undo what stayed applied or take it out of the script");
    out
}
