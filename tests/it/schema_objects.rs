//! What the model now covers beyond tables: never "equal" over what was not compared,
//! values kept by generated -> plain, plans that fail leave the target as it was, and
//! held-back hazards hold back what depends on them.

use crate::schema_support::*;
use crate::support::cutover;
use cutover::testkit;
use std::collections::BTreeSet;
use std::process::Command;

fn diff_sql(dir: &std::path::Path, src: &str, tgt: &str, allow: &str) -> String {
    let mut args = vec![
        "diff", "schema", "--source", src, "--target", tgt, "--format", "sql",
    ];
    if !allow.is_empty() {
        args.extend(["--allow-hazards", allow]);
    }
    let out = cutover(dir, &args);
    // Writing a plan exits 0 (issue 11); --exit-code would make differences exit 1.
    assert_eq!(out.code, 0, "{}", out.all());
    out.stdout
}

/// A database with a kind the model does not cover (a rule) is never reported equal to
/// one without it, nor to one with the same rule: the diff says what was not compared.
#[tokio::test]
async fn unmodelled_kind_is_never_equal() {
    let (Some(a), Some(b)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    let (sa, sb) = (a.connect().await, b.connect().await);
    let ddl = "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE log (id int)";
    run_sql(&sa, ddl).await;
    run_sql(&sb, ddl).await;
    run_sql(
        &sa,
        "CREATE RULE t_log AS ON INSERT TO t DO ALSO INSERT INTO log VALUES (NEW.id)",
    )
    .await;
    let cmp = compare(&sa, &sb).await;
    assert!(!cmp.diff.is_equal());
    assert!(cmp.diff.changes.is_empty(), "{:?}", cmp.diff.changes);
    assert_eq!(cmp.diff.not_compared.get("rule"), Some(&1));
    let dir = tempfile::tempdir().unwrap();
    let out = cutover(
        dir.path(),
        &["diff", "schema", "--source", &a.url, "--target", &b.url],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("not compared: 1 rule"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("Equal"), "{}", out.stdout);
    let json = cutover(
        dir.path(),
        &[
            "diff", "schema", "--source", &a.url, "--target", &b.url, "--format", "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["equal"], false);
    assert_eq!(v["not_compared"]["rule"], 1);
    // the same rule on both sides: still not compared, still not equal
    run_sql(
        &sb,
        "CREATE RULE t_log AS ON INSERT TO t DO ALSO INSERT INTO log VALUES (NEW.id)",
    )
    .await;
    let cmp = compare(&sa, &sb).await;
    assert!(!cmp.diff.is_equal());
    let out = cutover(
        dir.path(),
        &["diff", "schema", "--source", &a.url, "--target", &b.url],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    // without the rule both sides are equal again
    run_sql(&sa, "DROP RULE t_log ON t").await;
    run_sql(&sb, "DROP RULE t_log ON t").await;
    assert!(compare(&sa, &sb).await.diff.is_equal());
}

/// Engine-specific objects are compared: an extension, a policy, a grant and a comment
/// that only one side has are each a difference.
#[tokio::test]
async fn catalog_objects_are_differences() {
    let (Some(a), Some(b)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    let (sa, sb) = (a.connect().await, b.connect().await);
    run_sql(&sb, "CREATE TABLE t (id int PRIMARY KEY, owner text)").await;
    run_sql(
        &sa,
        "CREATE EXTENSION hstore; CREATE TABLE t (id int PRIMARY KEY, owner text);
         ALTER TABLE t ENABLE ROW LEVEL SECURITY; CREATE POLICY mine ON t USING (owner = current_user);
         GRANT SELECT ON t TO PUBLIC; COMMENT ON TABLE t IS 'owned rows'",
    )
    .await;
    let cmp = compare(&sa, &sb).await;
    let kinds: BTreeSet<&str> = cmp.diff.changes.iter().map(|c| c.object.label()).collect();
    for k in [
        "extension",
        "row level security",
        "policy",
        "grant",
        "comment",
    ] {
        assert!(
            kinds.contains(k),
            "{k} not reported: {:?}",
            cmp.diff.changes
        );
    }
    // across engines the PostgreSQL-only objects are said, never compared as equal
    let l = testkit::sqlite().await;
    let lite = l.connect().await;
    run_sql(&lite, "CREATE TABLE t (id INTEGER PRIMARY KEY, owner TEXT)").await;
    let cross = compare(&sa, &lite).await;
    assert!(cross.diff.changes.is_empty(), "{:?}", cross.diff.changes);
    assert!(!cross.diff.is_equal());
    assert_eq!(cross.diff.not_compared.get("policy"), Some(&1));
    assert_eq!(cross.diff.not_compared.get("extension"), Some(&1));
}

/// generated -> plain is ALTER COLUMN ... DROP EXPRESSION under its own hazard: the rows
/// keep their values.
#[tokio::test]
async fn generated_to_plain_keeps_values() {
    let (Some(a), Some(b)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    let (sa, sb) = (a.connect().await, b.connect().await);
    run_sql(&sa, "CREATE TABLE t (id int PRIMARY KEY, n int, g int)").await;
    run_sql(
        &sb,
        "CREATE TABLE t (id int PRIMARY KEY, n int, g int GENERATED ALWAYS AS (n * 2) STORED);
         INSERT INTO t (id, n) VALUES (1, 10), (2, 21)",
    )
    .await;
    let cmp = compare(&sa, &sb).await;
    assert!(codes(&cmp).contains("generated-to-plain"));
    // not allowed: commented out, nothing lost
    let held = cmp.migration.statements(&BTreeSet::new());
    assert!(!held.iter().any(|s| s.contains("g")), "{held:?}");
    let stmts = cmp.migration.statements(&all_hazards());
    assert!(
        stmts.iter().any(|s| s.contains("DROP EXPRESSION")),
        "{stmts:?}"
    );
    assert!(
        !stmts.iter().any(|s| s.contains("DROP COLUMN")),
        "{stmts:?}"
    );
    apply(&sb, &cmp).await;
    let rows = sb
        .query("SELECT id, g FROM t ORDER BY id", &[])
        .await
        .unwrap();
    let got: Vec<(i64, i64)> = rows
        .rows
        .iter()
        .map(|r| (r[0].as_i64().unwrap(), r[1].as_i64().unwrap()))
        .collect();
    assert_eq!(got, vec![(1, 20), (2, 42)]);
    assert!(compare(&sa, &sb).await.diff.is_equal());
}

/// The PostgreSQL plan is one transaction: when a statement fails midway (a unique
/// constraint over duplicate rows, after a new table was created), the target is left
/// exactly as it was.
#[tokio::test]
async fn failing_plan_leaves_target_unchanged() {
    let (Some(a), Some(b)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    let (sa, sb) = (a.connect().await, b.connect().await);
    run_sql(
        &sa,
        "CREATE TABLE added (id int PRIMARY KEY); CREATE TABLE t (id int PRIMARY KEY, email text UNIQUE, note text)",
    )
    .await;
    run_sql(
        &sb,
        "CREATE TABLE t (id int PRIMARY KEY, email text); INSERT INTO t VALUES (1, 'x'), (2, 'x')",
    )
    .await;
    let before = introspect(&sb).await;
    let dir = tempfile::tempdir().unwrap();
    let sql = diff_sql(dir.path(), &a.url, &b.url, "");
    assert!(
        sql.contains("\nBEGIN;\n") && sql.contains("\nCOMMIT;\n"),
        "{sql}"
    );
    let file = dir.path().join("plan.sql");
    std::fs::write(&file, &sql).unwrap();
    let out = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &b.url, "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the plan was expected to fail:\n{sql}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not create unique index"));
    let after = introspect(&sb).await;
    assert_eq!(before, after, "the failed plan changed the target");
}

/// With a hazard left commented, what depends on it is commented too, with a note:
/// no DROP SCHEMA while its DROP TABLE is held back, no view created over a table
/// that stays.
#[tokio::test]
async fn held_back_drop_holds_back_its_dependents() {
    let (Some(a), Some(b)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    let (sa, sb) = (a.connect().await, b.connect().await);
    run_sql(
        &sa,
        "CREATE SCHEMA x; CREATE TABLE t (id int); CREATE VIEW x.data AS SELECT id FROM t",
    )
    .await;
    run_sql(
        &sb,
        "CREATE SCHEMA x; CREATE SCHEMA old; CREATE TABLE t (id int); CREATE TABLE x.data (id int);
         CREATE TABLE old.stuff (id int)",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let sql = diff_sql(dir.path(), &a.url, &b.url, "");
    let live: Vec<&str> = sql
        .lines()
        .filter(|l| !l.starts_with("--") && !l.is_empty())
        .collect();
    assert!(!live.iter().any(|l| l.contains("DROP SCHEMA")), "{sql}");
    assert!(!live.iter().any(|l| l.contains("CREATE VIEW")), "{sql}");
    assert!(!live.iter().any(|l| l.contains("DROP TABLE")), "{sql}");
    assert!(
        sql.contains("-- HELD BACK: depends on a held-back statement"),
        "{sql}"
    );
    // the plan applies as it is, and again with the hazard allowed
    let cmp = compare(&sa, &sb).await;
    let live_stmts = cmp.migration.statements(&BTreeSet::new());
    let st: Vec<_> = live_stmts.iter().map(cutover::db::Statement::new).collect();
    sb.execute_in_transaction(&st)
        .await
        .expect("held-back plan applies");
    let cmp = compare(&sa, &sb).await;
    apply(&sb, &cmp).await;
    assert!(compare(&sa, &sb).await.diff.is_equal());
}

/// An enum losing a label is a hazard with a plan, not "nothing to do"; and summaries
/// spell keys.
#[tokio::test]
async fn enum_label_removal_is_planned_and_keys_are_spelled() {
    let (Some(a), Some(b)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    let (sa, sb) = (a.connect().await, b.connect().await);
    run_sql(
        &sa,
        "CREATE TYPE mood AS ENUM ('ok', 'bad'); CREATE TABLE t (id int, m mood)",
    )
    .await;
    run_sql(
        &sb,
        "CREATE TYPE mood AS ENUM ('ok', 'meh', 'bad'); CREATE TABLE t (id int PRIMARY KEY, m mood);
         INSERT INTO t VALUES (1, 'ok'), (2, 'bad')",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let sql = diff_sql(dir.path(), &a.url, &b.url, "");
    assert!(!sql.contains("nothing to do"), "{sql}");
    assert!(sql.contains("HAZARD enum-label-removed"), "{sql}");
    let out = cutover(
        dir.path(),
        &["diff", "schema", "--source", &a.url, "--target", &b.url],
    );
    assert!(
        out.stdout.contains("1 primary key extra in target"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("keies"), "{}", out.stdout);
    let cmp = compare(&sa, &sb).await;
    apply(&sb, &cmp).await;
    assert!(compare(&sa, &sb).await.diff.is_equal());
    let n = sb
        .query("SELECT count(*) FROM t WHERE m = 'bad'", &[])
        .await
        .unwrap();
    assert_eq!(n.scalar().and_then(|v| v.as_i64()), Some(1));
}
