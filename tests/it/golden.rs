//! Golden snapshots (issue 11): the end state of each example runbook, captured with
//! `cutover snapshot capture` into `snapshots/` at the repository root. The example
//! tests re-run their runbook and call [`assert_golden`], which fails on drift with the
//! drift lines of `cutover snapshot compare` and a unified diff of the snapshot file,
//! so a change in behaviour shows up as a readable snapshot diff in review.
//!
//! After an intended change: `CUTOVER_UPDATE_SNAPSHOTS=1 cargo test --test it`, then
//! review and commit the changed files under `snapshots/`.
//!
//! Also here: a PostgreSQL snapshot covers row-level security (enabled and its
//! policies), grants, sequences and triggers, so dropping, disabling or revoking one is
//! drift; and `diff schema --exclude` filters whole schemas.

use super::support::*;
use cutover::testkit;
use std::path::{Path, PathBuf};

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(format!("{name}.json"))
}

/// Capture `url` and compare it with `snapshots/NAME.json`; with
/// `CUTOVER_UPDATE_SNAPSHOTS=1`, write it there instead.
pub fn assert_golden(name: &str, url: &str) {
    assert_golden_excluding(name, url, &[]);
}

/// [`assert_golden`] leaving out the tables `exclude` names (tables whose rows carry
/// run ids and times, e.g. a sync log, whose content its own test asserts).
pub fn assert_golden_excluding(name: &str, url: &str, exclude: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let now_file = tmp.path().join("now.json");
    let mut args = vec![
        "snapshot",
        "capture",
        "--target",
        url,
        "--out",
        now_file.to_str().unwrap(),
    ];
    for t in exclude {
        args.extend(["--exclude", t]);
    }
    let cap = cutover(tmp.path(), &args);
    assert_eq!(cap.code, 0, "{}", cap.all());
    let now = std::fs::read_to_string(&now_file).unwrap();
    let path = golden_path(name);
    if std::env::var_os("CUTOVER_UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "no golden snapshot {} ({e}): run with CUTOVER_UPDATE_SNAPSHOTS=1, review and commit it",
            path.display()
        )
    });
    if golden == now {
        return;
    }
    let cmp = cutover(
        tmp.path(),
        &[
            "snapshot",
            "compare",
            path.to_str().unwrap(),
            "--target",
            url,
        ],
    );
    let diff = similar::TextDiff::from_lines(&golden, &now)
        .unified_diff()
        .context_radius(3)
        .header(&format!("snapshots/{name}.json"), "end state now")
        .to_string();
    panic!(
        "the end state of example {name} drifted from snapshots/{name}.json:\n{}\n{diff}\nIf the change is intended: CUTOVER_UPDATE_SNAPSHOTS=1 cargo test --test it, then review and commit the file.",
        cmp.all().trim()
    );
}

/// The LERG demo on SQLite, run to the end with approvals: production's end state.
#[test]
fn lerg_demo_end_state_matches_its_golden_snapshot() {
    let (_tmp, ws) = completed_demo();
    let url = format!("sqlite://{}", ws.join("production.db").display());
    assert_golden("lerg-cutover-sqlite", &url);
}

/// The golden check itself fails on a changed end state, naming what changed.
#[test]
fn a_changed_end_state_fails_with_a_readable_diff() {
    let (_tmp, ws) = completed_demo();
    let prod = ws.join("production.db");
    let url = format!("sqlite://{}", prod.display());
    sqlite_exec(
        &url,
        "UPDATE profiles SET billing_plan = 'gold' WHERE id = 3",
    );
    if std::env::var_os("CUTOVER_UPDATE_SNAPSHOTS").is_some() {
        return; // updating: nothing to compare against
    }
    let err = std::panic::catch_unwind(|| assert_golden("lerg-cutover-sqlite", &url))
        .expect_err("a changed row is drift");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("table profiles: content changed"),
        "the drift names the table: {msg}"
    );
    assert!(
        msg.contains("-      \"fingerprint\": ") && msg.contains("+      \"fingerprint\": "),
        "a unified diff of the snapshot file: {msg}"
    );
}

fn sqlite_exec(url: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = cutover::db::connect(url).await.unwrap();
        db.execute(sql).await.unwrap();
        db.close().await;
    });
}

async fn psql(url: &str, sql: &str) {
    let db = cutover::db::connect(url).await.unwrap();
    for s in cutover::db::split_statements(sql) {
        db.execute(&s.sql)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", s.sql));
    }
    db.close().await;
}

/// Row-level security, policies, grants, sequences and triggers are in a PostgreSQL
/// snapshot: each change below is drift, named, and putting it back is not.
#[tokio::test]
async fn pg_snapshot_drift_covers_rls_policies_grants_sequences_and_triggers() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    let role = format!("cutover_snap_{}", std::process::id());
    psql(&db.url, &format!("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role}; END IF; END $$")).await;
    psql(
        &db.url,
        &format!(
            "CREATE TABLE docs (id serial PRIMARY KEY, owner text NOT NULL, body text);
             ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
             CREATE POLICY own_docs ON docs FOR SELECT USING (owner = current_user);
             GRANT SELECT ON docs TO {role};
             CREATE SEQUENCE invoice_no START 1000;
             CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.body := coalesce(NEW.body, ''); RETURN NEW; END $$;
             CREATE TRIGGER docs_touch BEFORE INSERT ON docs FOR EACH ROW EXECUTE FUNCTION touch();"
        ),
    )
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("docs.json");
    let cap = cutover(
        tmp.path(),
        &[
            "snapshot",
            "capture",
            "--target",
            &db.url,
            "--out",
            snap.to_str().unwrap(),
        ],
    );
    assert_eq!(cap.code, 0, "{}", cap.all());
    let compare = || {
        cutover(
            tmp.path(),
            &[
                "snapshot",
                "compare",
                snap.to_str().unwrap(),
                "--target",
                &db.url,
            ],
        )
    };
    assert_eq!(compare().code, 0, "{}", compare().all());
    let cases: [(&str, &str, &str); 5] = [
        (
            "DROP POLICY own_docs ON docs",
            "policy docs.own_docs",
            "CREATE POLICY own_docs ON docs FOR SELECT USING (owner = current_user)",
        ),
        (
            "ALTER TABLE docs DISABLE ROW LEVEL SECURITY",
            "row level security docs",
            "ALTER TABLE docs ENABLE ROW LEVEL SECURITY",
        ),
        (
            &format!("REVOKE SELECT ON docs FROM {role}"),
            &format!("grant docs.to {role}"),
            &format!("GRANT SELECT ON docs TO {role}"),
        ),
        (
            "ALTER SEQUENCE invoice_no INCREMENT 5",
            "sequence invoice_no",
            "ALTER SEQUENCE invoice_no INCREMENT 1",
        ),
        (
            "DROP TRIGGER docs_touch ON docs",
            "trigger docs.docs_touch",
            "CREATE TRIGGER docs_touch BEFORE INSERT ON docs FOR EACH ROW EXECUTE FUNCTION touch()",
        ),
    ];
    for (change, named, undo) in cases {
        psql(&db.url, change).await;
        let c = compare();
        assert_eq!(c.code, 1, "{change} is drift: {}", c.all());
        assert!(
            c.stdout.contains("DRIFT") && c.stdout.contains(named),
            "{change}: {}",
            c.stdout
        );
        psql(&db.url, undo).await;
        let c = compare();
        assert_eq!(c.code, 0, "after undoing {change}: {}", c.all());
    }
    psql(&db.url, &format!("DROP TABLE docs; DROP ROLE {role}")).await;
}

/// `diff schema --exclude NAME` leaves out a schema of that name and everything in it
/// (its tables, sequences and the grants on it), not only tables of that name.
#[tokio::test]
async fn diff_schema_exclude_filters_schemas_and_their_objects() {
    let (Some(a), Some(b)) = (testkit::postgres().await, testkit::postgres().await) else {
        return;
    };
    psql(&a.url, "CREATE TABLE t (id int PRIMARY KEY); CREATE SCHEMA cutover_backup; CREATE TABLE cutover_backup.t (id int PRIMARY KEY); CREATE SEQUENCE cutover_backup.s; GRANT USAGE ON SCHEMA cutover_backup TO PUBLIC").await;
    psql(&b.url, "CREATE TABLE t (id int PRIMARY KEY)").await;
    let tmp = tempfile::tempdir().unwrap();
    let diff = |extra: &[&str]| {
        let mut args = vec!["diff", "schema", "--source", &a.url, "--target", &b.url];
        args.extend_from_slice(extra);
        cutover(tmp.path(), &args)
    };
    let all = diff(&[]);
    assert_eq!(all.code, 1, "{}", all.all());
    assert!(
        all.stdout
            .contains("schema cutover_backup: missing in target"),
        "{}",
        all.stdout
    );
    let ex = diff(&["--exclude", "cutover_backup"]);
    assert_eq!(ex.code, 0, "{}", ex.all());
    assert!(
        ex.stdout.contains("Equal: no differences."),
        "{}",
        ex.stdout
    );
    let ex = diff(&["--exclude", "cutover_*"]);
    assert_eq!(ex.code, 0, "a glob names schemas too: {}", ex.all());
    // Excluding another name leaves the schema's difference in.
    let other = diff(&["--exclude", "audit"]);
    assert_eq!(other.code, 1, "{}", other.all());
}
