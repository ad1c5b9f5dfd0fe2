//! Keys built after the rows, as `pg_dump` does: a table the copy creates on
//! PostgreSQL (and fills by binary `COPY`) gets its primary key and unique constraints
//! once every row is in, one index build instead of an index insertion per row.
//!
//! The statements still to run are kept in the destination's progress table, in a row
//! of their own written in the same transaction as the `CREATE TABLE` (PostgreSQL DDL is
//! transactional), so a copy killed at any point still ends with its keys: the resumed
//! copy finds the row and runs them, and deletes the row in the same transaction.

use super::tables::create_sql;
use super::{CopyOptions, PROGRESS_TABLE};
use crate::db::model::Table;
use crate::db::{Db, Dialect, Statement, Value};
use crate::error::{Error, Result};
use crate::schema::ddl::Ddl;

/// The progress table's `tbl` of the row holding `into`'s deferred key statements (no
/// table name contains a newline, so it never names a table's own progress row).
fn marker(into: &str) -> String {
    format!("{into}\nkeys after rows")
}

/// Whether the copy into a table it creates builds the keys after the rows: PostgreSQL
/// to PostgreSQL (the binary COPY path) and not `on_conflict = "skip"`, whose inserts
/// need the key to find conflicts.
pub(super) fn defers(sd: Dialect, dd: Dialect, o: &CopyOptions, st: &Table) -> bool {
    crate::db::has_binary_copy(sd, dd)
        && !o.skip_conflicts
        && (st.primary_key.is_some() || !st.uniques.is_empty())
}

/// Create `into` without its primary key and unique constraints, and record the
/// statements adding them, in one transaction.
pub(super) async fn create_without_keys(
    dst: &Db,
    o: &CopyOptions,
    st: &Table,
    into: &str,
    sd: Dialect,
) -> Result<()> {
    let dd = dst.dialect();
    let mut bare = st.clone();
    bare.primary_key = None;
    bare.uniques.clear();
    let ddl = Ddl::new(dd, sd);
    let table = dd.quote_qualified(into);
    let mut later = Vec::new();
    if let Some(pk) = &st.primary_key {
        later.push(format!("ALTER TABLE {table} ADD {}", ddl.pk_clause(pk)));
    }
    for u in &st.uniques {
        later.push(format!("ALTER TABLE {table} ADD {}", ddl.unique_clause(u)));
    }
    let lit = |s: &str| dd.quote_literal(s);
    let record = format!(
        "INSERT INTO {} (run_id, step_id, tbl, high_water, rows_copied, bytes, done) VALUES ({}, {}, {}, {}, 0, 0, 0)",
        dd.quote_ident(PROGRESS_TABLE),
        lit(&o.run_id),
        lit(&o.step_id),
        lit(&marker(into)),
        lit(&serde_json::to_string(&later).expect("json"))
    );
    dst.execute_in_transaction(&[
        Statement::new(create_sql(&bare, into, sd, dd)?),
        Statement::new(record),
    ])
    .await
    .map_err(|e| {
        Error::runtime(format!(
            "creating table {into} on {} (statement {}): {}",
            dst.redacted_url(),
            e.index + 1,
            e.message
        ))
    })?;
    Ok(())
}

/// Run the key statements still recorded for `into` (none: nothing to do), and forget
/// them in the same transaction. Returns how many ran.
pub(super) async fn build_keys(dst: &Db, o: &CopyOptions, into: &str) -> Result<usize> {
    let d = dst.dialect();
    let t = d.quote_ident(PROGRESS_TABLE);
    let rows = dst
        .query(
            &format!(
                "SELECT high_water FROM {t} WHERE run_id = {} AND step_id = {} AND tbl = {}",
                d.placeholder(1),
                d.placeholder(2),
                d.placeholder(3)
            ),
            &[
                Value::from(o.run_id.as_str()),
                Value::from(o.step_id.as_str()),
                Value::from(marker(into).as_str()),
            ],
        )
        .await?;
    let Some(Value::Text(json)) = rows.rows.first().and_then(|r| r.first()) else {
        return Ok(0);
    };
    let later: Vec<String> = serde_json::from_str(json).map_err(|e| {
        Error::runtime(format!(
            "{PROGRESS_TABLE} on {}: the key statements kept for {into} do not read: {e}",
            dst.redacted_url()
        ))
    })?;
    let lit = |s: &str| d.quote_literal(s);
    let mut stmts: Vec<Statement> = later.iter().cloned().map(Statement::new).collect();
    stmts.push(Statement::new(format!(
        "DELETE FROM {t} WHERE run_id = {} AND step_id = {} AND tbl = {}",
        lit(&o.run_id),
        lit(&o.step_id),
        lit(&marker(into))
    )));
    dst.execute_in_transaction(&stmts).await.map_err(|e| {
        Error::runtime(format!(
            "copy into {into} on {}: the rows are in, but adding its keys failed (statement {}): {}",
            dst.redacted_url(),
            e.index + 1,
            e.message
        ))
    })?;
    Ok(later.len())
}
