//! Helpers shared by the schema tests: run DDL written with "double quotes" on any
//! engine, introspect, diff, and apply generated migrations.

use cutover::db::{Db, Dialect, Statement};
use cutover::schema::{self, Filter, Loaded, PlanOptions, Schema};
use std::collections::BTreeSet;

/// Rewrite `"ident"` quoting for MySQL (test SQL never has `"` inside literals).
pub fn dialectize(sql: &str, d: Dialect) -> String {
    match d {
        Dialect::Mysql => sql.replace('"', "`"),
        _ => sql.to_string(),
    }
}

/// Execute a `;`-separated script statement by statement.
pub async fn run_sql(db: &Db, sql: &str) {
    let d = db.dialect();
    for st in cutover::db::split_statements(&dialectize(sql, d)) {
        db.execute(&st.sql)
            .await
            .unwrap_or_else(|e| panic!("{d:?}: {}\n-- failed: {e}", st.sql));
    }
}

pub async fn introspect(db: &Db) -> Schema {
    let mut s = schema::introspect(db).await.expect("introspect");
    Filter::default().apply(&mut s);
    s
}

pub async fn loaded(db: &Db) -> Loaded {
    Loaded {
        label: db.redacted_url().to_string(),
        schema: introspect(db).await,
        rows: None,
        db: Some(db.clone()),
    }
}

pub async fn compare(source: &Db, target: &Db) -> schema::Comparison {
    compare_with(source, target, PlanOptions::default()).await
}

pub async fn compare_with(source: &Db, target: &Db, opts: PlanOptions) -> schema::Comparison {
    schema::compare(loaded(source).await, loaded(target).await, &opts)
        .await
        .expect("compare")
}

pub fn all_hazards() -> BTreeSet<String> {
    schema::migrate::HAZARD_CODES
        .iter()
        .map(|h| h.code.to_string())
        .collect()
}

/// Apply the generated migration (every hazard allowed) to the target.
pub async fn apply(target: &Db, cmp: &schema::Comparison) {
    let stmts = cmp.migration.statements(&all_hazards());
    let d = target.dialect();
    if d.transactional_ddl() {
        let st: Vec<Statement> = stmts.iter().map(Statement::new).collect();
        if let Err(e) = target.execute_in_transaction(&st).await {
            panic!(
                "{d:?}: migration failed at statement {}: {}\n{}",
                e.index,
                e.message,
                stmts.join(";\n")
            );
        }
    } else {
        for s in &stmts {
            target
                .execute(s)
                .await
                .unwrap_or_else(|e| panic!("{d:?}: {s}\n-- failed: {e}\n{}", stmts.join(";\n")));
        }
    }
}

pub fn codes(cmp: &schema::Comparison) -> BTreeSet<String> {
    cmp.migration
        .hazards()
        .iter()
        .map(|h| h.code.clone())
        .collect()
}
